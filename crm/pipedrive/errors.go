package pipedrive

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Pipedrive's refusals match crm's sentinels with errors.Is: its REST API's
// by status (401, 403, 404, 429), its OAuth server's by code (invalid_grant:
// a code invalid, spent or older than 5 minutes, or a refresh token unused
// for 60 days or of an uninstalled app; invalid_client; user_denied, the
// documented code for a cancelled installation, as access denied).

// apiErrors and oauthErrors read the REST API's and the OAuth server's
// refusals.
var (
	apiErrors   = crm.APIErrors{Provider: qwoty.ProviderPipedrive, Read: readAPIError}
	oauthErrors = crm.OAuthErrors{Provider: qwoty.ProviderPipedrive, Read: readOAuthError}
)

// readAPIError reads Pipedrive's {"success":false,"error":...,
// "error_info":...,"code":...}: "error" is the message ("Deal not found",
// "Scope and URL mismatch"), error_info the hint, and the optional code the
// CRM's own ("feature_capping_deals_limit").
func readAPIError(e *crm.APIError, body []byte) {
	var v struct {
		Success *bool  `json:"success"`
		Error   string `json:"error"`
		Info    string `json:"error_info"`
		Code    any    `json:"code"`
	}
	if json.Unmarshal(body, &v) != nil || v.Success == nil || *v.Success {
		return // a proxy's page
	}
	e.Message, e.Hint = v.Error, v.Info
	if s, ok := v.Code.(string); ok {
		e.Code = s
	}
}

// CallbackError returns the error Pipedrive sent to the OAuth callback, or
// nil when the query carries none (it then carries a code).
func CallbackError(q url.Values) error { return oauthErrors.Callback(q) }

// messagePrefixes map the start of Pipedrive's documented OAuth messages to
// their RFC 6749 codes, for an answer that carries only a message.
var messagePrefixes = []struct{ prefix, code string }{
	{"Invalid grant", "invalid_grant"},
	{"Invalid client", "invalid_client"},
	{"Invalid request", "invalid_request"},
	{"Unsupported grant type", "unsupported_grant_type"},
	{"Missing parameter", "invalid_request"},
}

// readOAuthError completes an OAuth refusal. The documentation lists the
// token endpoint's messages but not the body's shape, so beside RFC 6749's
// error and error_description a "message" is read (assumed), and a message
// alone gives its code.
func readOAuthError(e *crm.OAuthError, body []byte) {
	var v struct {
		Message string `json:"message"`
	}
	if e.Description == "" && json.Unmarshal(body, &v) == nil {
		e.Description = v.Message
	}
	if e.Code == "" {
		for _, p := range messagePrefixes {
			if strings.HasPrefix(e.Description, p.prefix) {
				e.Code = p.code
				break
			}
		}
	}
	if e.Code == "user_denied" {
		e.Kinds = []error{crm.ErrAccessDenied}
	}
}
