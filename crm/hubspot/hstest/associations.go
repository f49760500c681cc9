package hstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
)

// associateDefault is POST /crm/associations/{version}/{fromObjectType}/
// {toObjectType}/batch/associate/default (v4: /crm/v4/associations/...):
// each input's pair gets the default (unlabeled) association. The emulator
// serves line items and deals, either way round. Associating a pair again
// changes nothing; a line item already under another deal is refused, since
// "line items belong to one single parent object" (the refusal's wording is
// assumed).
func (s *Server) associateDefault(w http.ResponseWriter, r *http.Request) {
	from, to := r.PathValue("from"), r.PathValue("to")
	s.calls.Add("associate")
	a, ok := s.bearer(w, r)
	if !ok {
		return
	}
	p := a.Grant.user.portal
	if !s.limit(w, p) {
		return
	}
	pair := from + "/" + to
	if pair != "line_items/deals" && pair != "deals/line_items" {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("association %s to %s is not served by this emulator", from, to))
		return
	}
	// Writing an association needs write access to the objects' type.
	if !slices.Contains(a.Grant.scopes, "crm.objects.line_items.write") {
		missingScopes(w, "crm.objects.line_items.write")
		return
	}
	var body struct {
		Inputs []struct {
			From struct {
				ID string `json:"id"`
			} `json:"from"`
			To struct {
				ID string `json:"id"`
			} `json:"to"`
		} `json:"inputs"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON on line 1: "+err.Error())
		return
	}
	if n := len(body.Inputs); n == 0 || n > MaxBatchInputs {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("inputs: %d given, from 1 to %d allowed", n, MaxBatchInputs))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	typeID, category := LineItemToDeal, "HUBSPOT_DEFINED"
	if from == "deals" {
		typeID = DealToLineItem
	}
	var results, errs []map[string]any
	for _, in := range body.Inputs {
		lineID, dealID := in.From.ID, in.To.ID
		if from == "deals" {
			lineID, dealID = dealID, lineID
		}
		li := p.lineItems[lineID]
		_, dealOK := p.deals[dealID]
		msg := ""
		switch {
		case li == nil || li.archived:
			msg = fmt.Sprintf("No line_items with ID %s exist", lineID)
		case !dealOK:
			msg = fmt.Sprintf("No deals with ID %s exist", dealID)
		case li.order != "":
			msg = fmt.Sprintf("Line item %s is already associated with order %s; a line item can only be associated with one parent object", lineID, li.order)
		case li.deal != "" && li.deal != dealID:
			msg = fmt.Sprintf("Line item %s is already associated with deal %s; a line item can only be associated with one parent object", lineID, li.deal)
		}
		if msg != "" {
			errs = append(errs, map[string]any{"status": "error", "category": "VALIDATION_ERROR", "message": msg,
				"context": map[string][]string{"fromObjectId": {in.From.ID}, "toObjectId": {in.To.ID}}})
			continue
		}
		if li.deal == "" {
			p.lineItems[lineID] = &lineItem{id: li.id, props: li.props, deal: dealID, created: li.created, updated: li.updated}
		}
		results = append(results, map[string]any{
			"from": map[string]string{"id": in.From.ID}, "to": map[string]string{"id": in.To.ID},
			"associationSpec": map[string]any{"associationCategory": category, "associationTypeId": typeID},
		})
	}
	now := stamp(s.Now())
	out := map[string]any{"status": "COMPLETE", "results": nonNil(results), "startedAt": now, "completedAt": now}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusMultiStatus
		out["numErrors"], out["errors"] = len(errs), errs
	}
	writeJSON(w, status, out)
}

// DealToLineItem is the HUBSPOT_DEFINED association type from a deal to a
// line item.
const DealToLineItem = 19
