package salesforce

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// ErrPackageNotInstalled: Salesforce has no Apex REST resource at the
// package's path: the Qwoty package is not installed in the org. An
// answer matches it instead of crm.ErrNotFound.
var ErrPackageNotInstalled = errors.New("salesforce: the Qwoty package is not installed in the org")

// PackageSource is crm.APIError.Source when the package's Apex answered
// rather than Salesforce.
const PackageSource = "Qwoty package"

// apiErrors reads the org's refusals: Salesforce's own, and the package's.
var apiErrors = crm.APIErrors{Provider: qwoty.ProviderSalesforce, Read: readAPIError}

// bareCode is a body made of one code, as the identity service answers.
var bareCode = regexp.MustCompile(`^[A-Za-z_]{1,64}$`)

// readAPIError reads an error answer: Salesforce's array
// [{"message","errorCode"}], the package's object {"ok":false,"code",...}
// (Source "Qwoty package"), or a bare code. Anything else (a proxy's page)
// is left to crm.APIErrors, and means no more than its status, except that
// a 403 is not taken for Salesforce's.
func readAPIError(e *crm.APIError, body []byte) {
	trimmed := bytes.TrimSpace(body)
	fromSalesforce := false
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		var list []struct {
			Message   string `json:"message"`
			ErrorCode string `json:"errorCode"`
		}
		if json.Unmarshal(trimmed, &list) == nil && len(list) > 0 {
			fromSalesforce, e.Code, e.Message = true, list[0].ErrorCode, list[0].Message
		}
	case len(trimmed) > 0 && trimmed[0] == '{':
		var obj struct {
			Code    string  `json:"code"`
			Message string  `json:"message"`
			Hint    string  `json:"hint"`
			Field   *string `json:"field"`
		}
		if json.Unmarshal(trimmed, &obj) == nil && obj.Code != "" {
			e.Source, e.Code, e.Message, e.Hint = PackageSource, obj.Code, obj.Message, obj.Hint
			if obj.Field != nil {
				e.Field = *obj.Field
			}
		}
	case bareCode.Match(trimmed):
		fromSalesforce, e.Code = true, string(trimmed)
	}
	e.Kinds = apiKinds(e, fromSalesforce)
}

// apiKinds says what an answer means. The identity service refuses an
// expired token with a 403 Bad_OAuth_Token, not a 401; Salesforce's own
// 404 NOT_FOUND on the package's path is a missing package, not a missing
// record; its 403 REQUEST_LIMIT_EXCEEDED is the org's API limit; any other
// 403 of its own is insufficient access, but one of the package's only
// when it says INSUFFICIENT_ACCESS, and an unreadable one never.
func apiKinds(e *crm.APIError, fromSalesforce bool) []error {
	switch {
	case e.Status == http.StatusUnauthorized || e.Code == "Bad_OAuth_Token" || e.Code == "Missing_OAuth_Token":
		return []error{crm.ErrUnauthorized}
	case e.Status == http.StatusNotFound && fromSalesforce && e.Code == "NOT_FOUND":
		return []error{ErrPackageNotInstalled}
	case e.Status == http.StatusForbidden && fromSalesforce && e.Code == "REQUEST_LIMIT_EXCEEDED":
		return []error{crm.ErrRateLimited}
	case e.Status == http.StatusForbidden && !fromSalesforce && e.Code != "INSUFFICIENT_ACCESS":
		return []error{}
	}
	return crm.StatusKinds(e.Status)
}
