package hubspot

import (
	"errors"
	"net/url"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Errors of the OAuth endpoints that only HubSpot has; invalid_grant,
// invalid_client and access_denied match crm's.
var (
	// ErrTokenInactive: introspection says the token is expired or revoked.
	ErrTokenInactive = errors.New("hubspot: token is not active")
	// ErrWrongApp: the token was issued to another app than ours.
	ErrWrongApp = errors.New("hubspot: token belongs to another app")
)

// oauthErrors reads the OAuth endpoints' refusals.
var oauthErrors = crm.OAuthErrors{Provider: qwoty.ProviderHubSpot, Read: readOAuthError}

// readOAuthError reads what HubSpot's versioned OAuth endpoints answer
// beside the standard error and error_description: its older status
// (BAD_REFRESH_TOKEN, ...) and message, and the correlation id. An answer
// with only the older status still matches the shared sentinels.
func readOAuthError(e *crm.OAuthError, body []byte) {
	v, ok := readErrorBody(body)
	if !ok {
		return
	}
	e.CRMCode, e.RequestID = v.Status, v.CorrelationID
	if e.Description == "" {
		e.Description = v.Message
	}
	if e.Code != "" {
		return
	}
	switch v.Status {
	case "BAD_REFRESH_TOKEN", "BAD_AUTH_CODE":
		e.Kinds = []error{crm.ErrInvalidGrant}
	case "BAD_CLIENT_ID":
		e.Kinds = []error{crm.ErrInvalidClient}
	}
}

// CallbackError returns the error HubSpot sent to the OAuth callback, or nil
// when the query carries none (it then carries a code).
func CallbackError(q url.Values) error { return oauthErrors.Callback(q) }
