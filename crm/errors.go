package crm

import "errors"

// The errors every CRM client's answers match with errors.Is, whatever the
// CRM's own wording; the CRM's own code stays on the error (APIError,
// OAuthError) for logs and support.
var (
	// ErrUnauthorized: the access token expired or was revoked. The session
	// layer refreshes it once and calls again.
	ErrUnauthorized = errors.New("crm: access token expired or invalid")
	// ErrInvalidGrant: the CRM refused the grant itself (a revoked or
	// expired refresh token, a used code): the admin must connect again.
	ErrInvalidGrant = errors.New("crm: grant refused")
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
