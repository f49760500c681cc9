package hubspot

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Errors of the CRM calls, matched with errors.Is against an *APIError.
var (
	// ErrUnauthorized: the access token is missing, expired or revoked (401).
	// Refresh it and retry once.
	ErrUnauthorized = errors.New("hubspot: access token expired or invalid")
	// ErrMissingScopes: the app was not granted a scope the call needs: the
	// portal must install the app again with it.
	ErrMissingScopes = errors.New("hubspot: app lacks a required scope")
	// ErrNotFound: the portal has no such record (or it is archived).
	ErrNotFound = errors.New("hubspot: record not found")
	// ErrRateLimited: the portal's or the app's API limit is reached.
	ErrRateLimited = errors.New("hubspot: rate limited")
)

// APIError is an error answered by HubSpot's CRM API, in its documented
// shape: {"status":"error","message","correlationId","category",...}, every
// field optional.
type APIError struct {
	HTTPStatus    int
	Category      string // INVALID_AUTHENTICATION, EXPIRED_AUTHENTICATION, MISSING_SCOPES, OBJECT_NOT_FOUND, RATE_LIMITS, ...
	SubCategory   string
	Message       string
	CorrelationID string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("HubSpot answered HTTP %d", e.HTTPStatus)
	if e.Category != "" {
		msg += " " + e.Category
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.CorrelationID != "" {
		msg += " (correlation id " + e.CorrelationID + ")"
	}
	return msg
}

// Is maps the answer to the package's sentinels, by status first: HubSpot
// documents the category as optional.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.HTTPStatus == 401
	case ErrMissingScopes:
		return e.HTTPStatus == 403 && e.Category == "MISSING_SCOPES"
	case ErrNotFound:
		return e.HTTPStatus == 404
	case ErrRateLimited:
		return e.HTTPStatus == 429
	}
	return false
}

func parseAPIError(status int, body []byte) *APIError {
	e := &APIError{HTTPStatus: status}
	var v struct {
		Message       string `json:"message"`
		Category      string `json:"category"`
		SubCategory   string `json:"subCategory"`
		CorrelationID string `json:"correlationId"`
	}
	if json.Unmarshal(body, &v) != nil {
		// A proxy's page, or an empty body.
		e.Message = snippet(body)
		return e
	}
	e.Message, e.Category, e.SubCategory, e.CorrelationID = v.Message, v.Category, v.SubCategory, v.CorrelationID
	return e
}
