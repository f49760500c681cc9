package salesforce

import (
	"errors"
	"net/url"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Errors of the OAuth endpoints that only Salesforce has, matched with
// errors.Is against a *crm.OAuthError; invalid_grant, invalid_client and
// access_denied match crm's.
var (
	// ErrAppNotInstalled: the Qwoty External Client App, which comes with
	// the package, is not installed in the org the user signed in to.
	ErrAppNotInstalled = errors.New("salesforce: the Qwoty app is not installed in the org")
	// ErrInvalidToken: the revoked token was already invalid.
	ErrInvalidToken = errors.New("salesforce: invalid token")
	// ErrBadSignature: a token response's signature does not match: it did
	// not come from Salesforce for our app, or was altered.
	ErrBadSignature = errors.New("salesforce: token response signature does not match")
)

// oauthErrors reads the OAuth endpoints' refusals.
var oauthErrors = crm.OAuthErrors{Provider: qwoty.ProviderSalesforce, Read: readOAuthError}

// readOAuthError maps Salesforce's own codes to sentinels: its answers
// carry nothing beyond RFC 6749's fields.
func readOAuthError(e *crm.OAuthError, _ []byte) {
	var also error
	switch e.Code {
	case "OAUTH_EC_APP_NOT_FOUND", "app_not_found":
		// The first on the callback; the second is what a refresh is
		// observed to answer once the app is removed.
		also = ErrAppNotInstalled
	case "access-denied":
		// Salesforce's help shows both spellings for the web server flow.
		also = crm.ErrAccessDenied
	case "invalid_token":
		also = ErrInvalidToken
	}
	if also != nil {
		e.Kinds = append(crm.OAuthKinds(e.Code), also)
	}
}

// CallbackError returns the error Salesforce sent to the OAuth callback, or
// nil when the query carries none (it then carries a code).
func CallbackError(q url.Values) error { return oauthErrors.Callback(q) }
