package hubspot

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// The wire shapes of the CRM endpoints sync writes through, from HubSpot's
// API reference (date-versioned 2026-03 paths).
const (
	lineItemsBatchPath = "/crm/objects/2026-03/line_items/batch/"
	dealsBatchPath     = "/crm/objects/2026-03/deals/batch/"
	// lineItemPropertiesPath is the properties API for line items.
	lineItemPropertiesPath = "/crm/properties/2026-03/line_items"
	// lineItemDealAssociationsPath gives pairs the default association.
	lineItemDealAssociationsPath = "/crm/associations/2026-03/line_items/deals/batch/associate/default"
)

// lineItemToDeal is the HUBSPOT_DEFINED association type from a line item
// to a deal, which a create's inline association names.
const lineItemToDeal = 20

// RefProperty is the line item property holding a line's Ref: a string
// property with unique values, which the upsert uses as its idProperty.
const RefProperty = "qwoty_ref"

// createInput is an input of batch/create: properties, the associations to
// make with the record ("line items belong to one single parent object"),
// and a trace id, whose presence asks for a multi-status answer that lists
// each refused input on its own.
type createInput struct {
	Properties         map[string]string `json:"properties"`
	Associations       []inlineAssoc     `json:"associations,omitempty"`
	ObjectWriteTraceID string            `json:"objectWriteTraceId"`
}

type inlineAssoc struct {
	To    objectRef   `json:"to"`
	Types []assocType `json:"types"`
}

type assocType struct {
	Category string `json:"associationCategory"`
	TypeID   int    `json:"associationTypeId"`
}

type objectRef struct {
	ID string `json:"id"`
}

// upsertInput is an input of batch/upsert (and, without IDProperty, of
// batch/update): the record named by id, itself a value of idProperty.
type upsertInput struct {
	ID                 string            `json:"id"`
	IDProperty         string            `json:"idProperty,omitempty"`
	Properties         map[string]string `json:"properties"`
	ObjectWriteTraceID string            `json:"objectWriteTraceId"`
}

type batchRequest[T any] struct {
	Inputs []T `json:"inputs"`
}

// batchAnswer is a batch endpoint's answer: 200/201, or 207 with the
// refused inputs under errors, each naming its objectWriteTraceId in its
// context.
type batchAnswer struct {
	Status  string `json:"status"`
	Results []struct {
		ID         string             `json:"id"`
		Properties map[string]*string `json:"properties"`
		// New: an upsert created the record.
		New bool `json:"new"`
	} `json:"results"`
	NumErrors int          `json:"numErrors"`
	Errors    []batchError `json:"errors"`
}

type batchError struct {
	Status      string              `json:"status"`
	Category    string              `json:"category"`
	SubCategory string              `json:"subCategory"`
	Message     string              `json:"message"`
	Context     map[string][]string `json:"context"`
}

// traces lists the inputs an error is about.
func (e batchError) traces(key string) []string { return e.Context[key] }

// err is what a refused input means for its deal: the data refused
// (validation, a conflict, a record gone) is permanent with HubSpot's
// message; a missing scope a 403; anything else is retried.
func (e batchError) err(what string) error {
	msg := readable(e.Message)
	if what != "" {
		msg = what + ": " + msg
	}
	switch e.Category {
	case "VALIDATION_ERROR", "CONFLICT", "OBJECT_NOT_FOUND", "OBJECT_ALREADY_EXISTS", "INVALID_PARAMS":
		return crm.Rejected(errors.New(msg))
	case "MISSING_SCOPES":
		return &crm.APIError{Provider: qwoty.ProviderHubSpot, Status: http.StatusForbidden, Code: e.Category, Message: msg,
			Kinds: []error{crm.ErrForbidden, ErrMissingScopes}}
	}
	return fmt.Errorf("HubSpot refused it (%s): %s", e.Category, msg)
}

// associationAnswer is the associations' batch answer.
type associationAnswer struct {
	Results []struct {
		From objectRef `json:"from"`
		To   objectRef `json:"to"`
	} `json:"results"`
	Errors []batchError `json:"errors"`
}

// readable shortens HubSpot's validation message, "Property values were not
// valid: [{...JSON...}]", to its entries' own words ("price: Price cannot
// be negative"); any other message is kept as it is.
func readable(msg string) string {
	const prefix = "Property values were not valid: "
	rest, ok := strings.CutPrefix(msg, prefix)
	if !ok {
		return msg
	}
	var entries []struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(rest), &entries); err != nil || len(entries) == 0 {
		return msg
	}
	parts := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.Name != "" {
			parts = append(parts, e.Name+": "+e.Message)
		} else {
			parts = append(parts, e.Message)
		}
	}
	return prefix + strings.Join(parts, "; ")
}
