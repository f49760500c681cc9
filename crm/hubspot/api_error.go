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

// readAPIError reads HubSpot's documented error shape,
// {"status":"error","message","correlationId","category","subCategory"},
// every field optional: the category (INVALID_AUTHENTICATION,
// MISSING_SCOPES, OBJECT_NOT_FOUND, RATE_LIMITS, ...) is the code, and the
// status decides the shared sentinels, since the category may be missing.
func readAPIError(e *crm.APIError, body []byte) {
	var v struct {
		Message       string `json:"message"`
		Category      string `json:"category"`
		SubCategory   string `json:"subCategory"`
		CorrelationID string `json:"correlationId"`
	}
	if json.Unmarshal(body, &v) != nil {
		return // a proxy's page, or an empty body
	}
	e.Message, e.Code, e.SubCode, e.RequestID = v.Message, v.Category, v.SubCategory, v.CorrelationID
	if e.Status == http.StatusForbidden && e.Code == "MISSING_SCOPES" {
		e.Kinds = append(crm.StatusKinds(e.Status), ErrMissingScopes)
	}
}
