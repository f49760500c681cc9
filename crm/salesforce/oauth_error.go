package salesforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// Errors of the OAuth endpoints, matched with errors.Is against an *OAuthError.
var (
	// ErrInvalidGrant: the code or refresh token is invalid, expired, spent
	// or revoked, or the PKCE verifier does not match. Reconnecting is the
	// only way out.
	ErrInvalidGrant = errors.New("salesforce: invalid grant")
	// ErrAppNotInstalled: the Qwoty External Client App, which comes with
	// the package, is not installed in the org the user signed in to.
	ErrAppNotInstalled = errors.New("salesforce: the Qwoty app is not installed in the org")
	// ErrAccessDenied: the user refused access.
	ErrAccessDenied = errors.New("salesforce: access denied by the user")
	// ErrInvalidToken: the revoked token was already invalid.
	ErrInvalidToken = errors.New("salesforce: invalid token")
	// ErrBadSignature: a token response's signature does not match: it did
	// not come from Salesforce for our app, or was altered.
	ErrBadSignature = errors.New("salesforce: token response signature does not match")
)

// OAuthError is an error answered by Salesforce's OAuth endpoints, on the
// callback (query parameters) or in a token or revoke response (JSON).
type OAuthError struct {
	// Code is Salesforce's "error": invalid_grant, OAUTH_EC_APP_NOT_FOUND, ...
	Code        string
	Description string
	// Status is the HTTP status of a token or revoke answer; 0 on a callback.
	Status int
}

func (e *OAuthError) Error() string {
	msg := "salesforce oauth error " + e.Code
	if e.Code == "" {
		msg = "salesforce oauth error"
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.Status != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	return msg
}

// Is maps Salesforce's codes to the package's sentinels.
func (e *OAuthError) Is(target error) bool {
	switch target {
	case ErrInvalidGrant:
		return e.Code == "invalid_grant"
	case ErrAppNotInstalled:
		// OAUTH_EC_APP_NOT_FOUND on the callback; app_not_found is what a
		// refresh is observed to answer once the app is removed.
		return e.Code == "OAUTH_EC_APP_NOT_FOUND" || e.Code == "app_not_found"
	case ErrAccessDenied:
		// Salesforce's help shows both spellings for the web server flow.
		return e.Code == "access_denied" || e.Code == "access-denied"
	case ErrInvalidToken:
		return e.Code == "invalid_token"
	}
	return false
}

// CallbackError returns the error Salesforce sent to the OAuth callback, or
// nil when the query carries none (it then carries a code).
func CallbackError(q url.Values) error {
	code := q.Get("error")
	if code == "" {
		return nil
	}
	return &OAuthError{Code: code, Description: q.Get("error_description")}
}

// fromRetrieveError turns x/oauth2's error into an *OAuthError, keeping other
// errors (network, timeout) as they are.
func fromRetrieveError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return err
	}
	e := &OAuthError{Code: re.ErrorCode, Description: re.ErrorDescription}
	if re.Response != nil {
		e.Status = re.Response.StatusCode
	}
	if e.Code == "" {
		e.Description = snippet(re.Body)
	}
	return e
}

// oauthErrorBody reads an OAuth error answer outside x/oauth2 (revoke).
func oauthErrorBody(status int, body []byte) *OAuthError {
	var v struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal(body, &v) != nil || v.Error == "" {
		// The form-encoded variant Salesforce can also answer.
		q, err := url.ParseQuery(strings.TrimSpace(string(body)))
		if err == nil && q.Get("error") != "" {
			return &OAuthError{Code: q.Get("error"), Description: q.Get("error_description"), Status: status}
		}
		return &OAuthError{Description: snippet(body), Status: status}
	}
	return &OAuthError{Code: v.Error, Description: v.ErrorDescription, Status: status}
}

// snippet is the start of an unexpected body, for an error message.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "..."
	}
	return s
}
