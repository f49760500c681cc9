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
