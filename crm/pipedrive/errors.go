package pipedrive

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// Errors of the OAuth and REST calls, matched with errors.Is against an
// *OAuthError or an *APIError.
var (
	// ErrInvalidGrant: the code is invalid, spent or older than 5 minutes,
	// or the refresh token is invalid (unused for 60 days, or the app was
	// uninstalled). Connecting again is the only way out.
	ErrInvalidGrant = errors.New("pipedrive: invalid grant")
	// ErrInvalidClient: the client id or secret is wrong or missing.
	ErrInvalidClient = errors.New("pipedrive: invalid client credentials")
	// ErrAccessDenied: the user cancelled the installation.
	ErrAccessDenied = errors.New("pipedrive: installation denied by the user")
	// ErrUnauthorized: the access token expired or was revoked (401).
	// Refresh it and retry once.
	ErrUnauthorized = errors.New("pipedrive: access token expired or invalid")
	// ErrForbidden: the app's scopes do not cover the call, or the
	// company's plan or limits forbid it (403).
	ErrForbidden = errors.New("pipedrive: forbidden")
	// ErrNotFound: no such entity, or not visible to the user (404).
	ErrNotFound = errors.New("pipedrive: not found")
	// ErrRateLimited: the company's API rate limit is reached (429).
	ErrRateLimited = errors.New("pipedrive: rate limited")
)

// OAuthError is an error answered by Pipedrive's OAuth server, on the
// callback (query parameters) or in a token response.
type OAuthError struct {
	// Code is the OAuth error code: invalid_grant, invalid_client,
	// invalid_request, unsupported_grant_type, user_denied, ...
	Code string
	// Description is Pipedrive's message ("Invalid grant: refresh token is
	// invalid").
	Description string
	// Status is the HTTP status of a token answer; 0 on a callback.
	Status int
}

func (e *OAuthError) Error() string {
	msg := "pipedrive oauth error"
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.Status != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	return msg
}

// Is maps Pipedrive's codes to the package's sentinels.
func (e *OAuthError) Is(target error) bool {
	switch target {
	case ErrInvalidGrant:
		return e.Code == "invalid_grant"
	case ErrInvalidClient:
		return e.Code == "invalid_client"
	case ErrAccessDenied:
		// user_denied is the documented code; access_denied is RFC 6749's.
		return e.Code == "user_denied" || e.Code == "access_denied"
	}
	return false
}

// CallbackError returns the error Pipedrive sent to the OAuth callback, or
// nil when the query carries none (it then carries a code).
func CallbackError(q url.Values) error {
	code := q.Get("error")
	if code == "" {
		return nil
	}
	return &OAuthError{Code: code, Description: q.Get("error_description")}
}

// messagePrefixes map the start of Pipedrive's documented OAuth messages to
// their RFC 6749 codes, for an answer that carries only a message.
var messagePrefixes = []struct{ prefix, code string }{
	{"Invalid grant", "invalid_grant"},
	{"Invalid client", "invalid_client"},
	{"Invalid request", "invalid_request"},
	{"Unsupported grant type", "unsupported_grant_type"},
	{"Missing parameter", "invalid_request"},
}

// fromRetrieveError turns x/oauth2's error into an *OAuthError, keeping other
// errors (network, timeout) as they are. The documentation lists the token
// endpoint's messages but not the body's shape, so both RFC 6749's
// error/error_description and a "message" field are read (assumed).
func fromRetrieveError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return err
	}
	e := &OAuthError{Code: re.ErrorCode, Description: re.ErrorDescription}
	if re.Response != nil {
		e.Status = re.Response.StatusCode
	}
	var body struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(re.Body, &body) == nil {
		if e.Code == "" {
			e.Code = body.Error
		}
		if e.Description == "" {
			e.Description = body.Message
		}
	}
	if e.Code == "" {
		for _, p := range messagePrefixes {
			if strings.HasPrefix(e.Description, p.prefix) {
				e.Code = p.code
				break
			}
		}
	}
	if e.Code == "" && e.Description == "" {
		e.Description = snippet(re.Body)
	}
	return e
}

// APIError is an error answered by a company's REST API.
type APIError struct {
	Status int
	// Message is Pipedrive's "error" ("Deal not found", "unauthorized
	// access", "Scope and URL mismatch").
	Message string
	// Info is its "error_info", Code its optional "code"
	// ("feature_capping_deals_limit").
	Info string
	Code string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("Pipedrive answered HTTP %d", e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Is maps the answer's status to the package's sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == 401
	case ErrForbidden:
		return e.Status == 403
	case ErrNotFound:
		return e.Status == 404
	case ErrRateLimited:
		return e.Status == 429
	}
	return false
}

// parseAPIError reads an error answer: Pipedrive's
// {"success":false,"error":...,"error_info":...}, or anything else (a
// proxy's page).
func parseAPIError(status int, body []byte) *APIError {
	e := &APIError{Status: status}
	var v struct {
		Success *bool  `json:"success"`
		Error   string `json:"error"`
		Info    string `json:"error_info"`
		Code    any    `json:"code"`
	}
	if json.Unmarshal(body, &v) == nil && v.Success != nil && !*v.Success {
		e.Message, e.Info = v.Error, v.Info
		if s, ok := v.Code.(string); ok {
			e.Code = s
		}
		return e
	}
	e.Message = snippet(body)
	return e
}
