package hubspot

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// ErrMissingScopes: the app was not granted a scope the call needs: the
// portal must install the app again with it. An answer that matches it
// matches crm.ErrForbidden too.
var ErrMissingScopes = errors.New("hubspot: app lacks a required scope")

// apiErrors reads the CRM API's refusals.
var apiErrors = crm.APIErrors{Provider: qwoty.ProviderHubSpot, Read: readAPIError}

// errorBody is what HubSpot's error answers hold, every field optional:
// the CRM API's {"status":"error","message","correlationId","category",
// "subCategory"}, and the OAuth endpoints' standard error beside the older
// status (BAD_REFRESH_TOKEN, ...) and message.
type errorBody struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	CorrelationID string `json:"correlationId"`
	Category      string `json:"category"`
	SubCategory   string `json:"subCategory"`
}

// readErrorBody reads body as an errorBody; false for anything else (a
// proxy's page, an empty body).
func readErrorBody(body []byte) (errorBody, bool) {
	var v errorBody
	return v, json.Unmarshal(body, &v) == nil
}

// readAPIError reads the CRM API's refusals: the category
// (INVALID_AUTHENTICATION, MISSING_SCOPES, OBJECT_NOT_FOUND, RATE_LIMITS,
// ...) is the code, and the status decides the shared sentinels, since the
// category may be missing.
func readAPIError(e *crm.APIError, body []byte) {
	v, ok := readErrorBody(body)
	if !ok {
		return
	}
	e.Message, e.Code, e.SubCode, e.RequestID = v.Message, v.Category, v.SubCategory, v.CorrelationID
	if e.Status == http.StatusForbidden && e.Code == "MISSING_SCOPES" {
		e.Kinds = append(crm.StatusKinds(e.Status), ErrMissingScopes)
	}
}
