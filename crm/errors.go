package crm

import "errors"

// The errors every CRM client's answers match with errors.Is, whatever the
// CRM's own wording; the CRM's own code stays on the error (APIError,
// OAuthError) for logs and support. A CRM package adds sentinels of its own
// only for what no other CRM has (Salesforce's package not installed,
// HubSpot's missing scopes).
var (
	// ErrUnauthorized: the access token expired or was revoked. The session
	// layer refreshes it once and calls again.
	ErrUnauthorized = errors.New("crm: access token expired or invalid")
	// ErrInvalidGrant: the CRM refused the grant itself (a revoked or
	// expired refresh token, a used code): the admin must connect again.
	ErrInvalidGrant = errors.New("crm: grant refused")

	// ErrForbidden: the token is good but may not do this: the user lacks a
	// permission (Salesforce's INSUFFICIENT_ACCESS, no access to the
	// package's Apex class), or the app's scopes or the account's plan do
	// not cover the call. Refreshing does not help.
	ErrForbidden = errors.New("crm: insufficient access")
	// ErrNotFound: the CRM has no such record, or does not show it to the
	// user.
	ErrNotFound = errors.New("crm: not found")
	// ErrRateLimited: the account's or the app's API limit is reached;
	// APIError.RetryAfter says for how long when the CRM said.
	ErrRateLimited = errors.New("crm: rate limited")

	// ErrInvalidClient: the CRM does not know our client id and secret:
	// this server's configuration is wrong, not the connection.
	ErrInvalidClient = errors.New("crm: invalid client credentials")
	// ErrAccessDenied: the user refused to authorise or install the app.
	ErrAccessDenied = errors.New("crm: access denied by the user")
)

// Tag returns err made to match sentinel with errors.Is as well when it
// matches match, its text unchanged: a CRM client's own "token expired"
// becomes ErrUnauthorized for the session layer, its "grant refused"
// ErrInvalidGrant. Any other error, nil included, is returned as it is.
func Tag(err, match, sentinel error) error {
	if err == nil || !errors.Is(err, match) || errors.Is(err, sentinel) {
		return err
	}
	return tagged{err, sentinel}
}

type tagged struct{ err, sentinel error }

func (t tagged) Error() string   { return t.err.Error() }
func (t tagged) Unwrap() []error { return []error{t.err, t.sentinel} }
