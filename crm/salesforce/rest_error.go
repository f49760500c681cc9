package salesforce

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
)

// Errors of the REST calls, matched with errors.Is against an *APIError.
var (
	// ErrUnauthorized: the access token expired or was revoked (401
	// INVALID_SESSION_ID, or the identity service's 403 Bad_OAuth_Token).
	// Refresh it and retry once.
	ErrUnauthorized = errors.New("salesforce: session expired or invalid")
	// ErrPackageNotInstalled: Salesforce has no Apex REST resource at the
	// package's path: the Qwoty package is not installed in the org.
	ErrPackageNotInstalled = errors.New("salesforce: the Qwoty package is not installed in the org")
	// ErrInsufficientAccess: the user may not use the resource: not an
	// admin (the package's INSUFFICIENT_ACCESS), or no access to its Apex
	// class (Salesforce's own 403).
	ErrInsufficientAccess = errors.New("salesforce: insufficient access")
)

// APIError is an error answered by the org's REST API.
type APIError struct {
	Status int
	// Code is Salesforce's errorCode (INVALID_SESSION_ID, NOT_FOUND, ...)
	// or the package's code (INSUFFICIENT_ACCESS, BAD_REQUEST).
	Code    string
	Message string
	// Hint and Field come with the package's errors only.
	Hint  string
	Field string
	// FromSalesforce: Salesforce answered for itself (a JSON array, before
	// or around the Apex class) rather than the package's Apex (a JSON
	// object with "ok": false).
	FromSalesforce bool
}

func (e *APIError) Error() string {
	who := "Qwoty package"
	if e.FromSalesforce {
		who = "Salesforce"
	}
	msg := fmt.Sprintf("%s answered HTTP %d", who, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Field != "" {
		msg += " (field " + e.Field + ")"
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Is maps the answer to the package's sentinels.
func (e *APIError) Is(target error) bool {
	badToken := e.Code == "Bad_OAuth_Token" || e.Code == "Missing_OAuth_Token"
	switch target {
	case ErrUnauthorized:
		return e.Status == 401 || badToken
	case ErrPackageNotInstalled:
		return e.Status == 404 && e.FromSalesforce && e.Code == "NOT_FOUND"
	case ErrInsufficientAccess:
		return e.Status == 403 && !badToken && (e.FromSalesforce || e.Code == "INSUFFICIENT_ACCESS")
	}
	return false
}

// bareCode is a body made of one code, as the identity service answers.
var bareCode = regexp.MustCompile(`^[A-Za-z_]{1,64}$`)

// parseAPIError reads an error answer: Salesforce's array
// [{"message","errorCode"}], the package's object {"ok":false,"code",...},
// a bare code, or anything else (a proxy's page).
func parseAPIError(status int, body []byte) *APIError {
	e := &APIError{Status: status}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		var list []struct {
			Message   string `json:"message"`
			ErrorCode string `json:"errorCode"`
		}
		if json.Unmarshal(trimmed, &list) == nil && len(list) > 0 {
			e.FromSalesforce, e.Code, e.Message = true, list[0].ErrorCode, list[0].Message
			return e
		}
	case len(trimmed) > 0 && trimmed[0] == '{':
		var obj struct {
			Code    string  `json:"code"`
			Message string  `json:"message"`
			Hint    string  `json:"hint"`
			Field   *string `json:"field"`
		}
		if json.Unmarshal(trimmed, &obj) == nil && obj.Code != "" {
			e.Code, e.Message, e.Hint = obj.Code, obj.Message, obj.Hint
			if obj.Field != nil {
				e.Field = *obj.Field
			}
			return e
		}
	case bareCode.Match(trimmed):
		e.FromSalesforce, e.Code = true, string(trimmed)
		return e
	}
	e.Message = snippet(body)
	return e
}
