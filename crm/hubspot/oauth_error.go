package hubspot

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"golang.org/x/oauth2"
)

// Errors of the OAuth endpoints, matched with errors.Is.
var (
	// ErrInvalidGrant: the code is unknown, spent, expired or was issued for
	// another redirect URL, or the refresh token is invalid or revoked (the
	// app was uninstalled). Reconnecting is the only way out.
	ErrInvalidGrant = errors.New("hubspot: invalid grant")
	// ErrInvalidClient: the client id or secret is wrong: our configuration.
	ErrInvalidClient = errors.New("hubspot: invalid client credentials")
	// ErrAccessDenied: the user refused to install the app.
	ErrAccessDenied = errors.New("hubspot: access denied by the user")
	// ErrTokenInactive: introspection says the token is expired or revoked.
	ErrTokenInactive = errors.New("hubspot: token is not active")
	// ErrWrongApp: the token was issued to another app than ours.
	ErrWrongApp = errors.New("hubspot: token belongs to another app")
)

// OAuthError is an error answered by HubSpot's OAuth endpoints, on the
// callback (query parameters) or by the token or introspection endpoint.
// The versioned endpoints answer the standard error and error_description
// and keep HubSpot's older status and message beside them.
type OAuthError struct {
	// Code is the standard "error": invalid_grant, invalid_client, ...
	Code        string
	Description string
	// Status is HubSpot's own code (BAD_REFRESH_TOKEN, BAD_AUTH_CODE, ...).
	Status        string
	CorrelationID string
	// HTTPStatus is the answer's status; 0 on a callback.
	HTTPStatus int
}

func (e *OAuthError) Error() string {
	msg := "hubspot oauth error"
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Status != "" {
		msg += " (" + e.Status + ")"
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.HTTPStatus != 0 {
		msg += fmt.Sprintf(" (HTTP %d", e.HTTPStatus)
		if e.CorrelationID != "" {
			msg += ", correlation id " + e.CorrelationID
		}
		msg += ")"
	}
	return msg
}

// Is maps the standard codes, and HubSpot's older statuses for answers
// that have only those, to the package's sentinels.
func (e *OAuthError) Is(target error) bool {
	switch target {
	case ErrInvalidGrant:
		return e.Code == "invalid_grant" || (e.Code == "" && (e.Status == "BAD_REFRESH_TOKEN" || e.Status == "BAD_AUTH_CODE"))
	case ErrInvalidClient:
		return e.Code == "invalid_client" || (e.Code == "" && e.Status == "BAD_CLIENT_ID")
	case ErrAccessDenied:
		return e.Code == "access_denied"
	}
	return false
}

// CallbackError returns the error HubSpot sent to the OAuth callback, or nil
// when the query carries none (it then carries a code).
func CallbackError(q url.Values) error {
	if q.Get("error") == "" {
		return nil
	}
	return &OAuthError{Code: q.Get("error"), Description: q.Get("error_description")}
}

// fromRetrieveError turns x/oauth2's error into an *OAuthError, keeping other
// errors (network, timeout) as they are.
func fromRetrieveError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return err
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	e := oauthErrorBody(status, re.Body)
	if e.Code == "" {
		e.Code, e.Description = re.ErrorCode, orDefault(e.Description, re.ErrorDescription)
	}
	return e
}

// oauthErrorBody reads an OAuth error answer.
func oauthErrorBody(status int, body []byte) *OAuthError {
	var v struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		Status           string `json:"status"`
		Message          string `json:"message"`
		CorrelationID    string `json:"correlationId"`
	}
	if json.Unmarshal(body, &v) != nil || (v.Error == "" && v.Status == "" && v.Message == "") {
		return &OAuthError{Description: snippet(body), HTTPStatus: status}
	}
	return &OAuthError{Code: v.Error, Description: orDefault(v.ErrorDescription, v.Message),
		Status: v.Status, CorrelationID: v.CorrelationID, HTTPStatus: status}
}
