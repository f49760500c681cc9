package pdtest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/qwoty/companion/crm/pipedrive/pdtest"
)

// The Fields API v2 and the deals' custom_fields, on the wire.

func TestFieldsAndCustomValues(t *testing.T) {
	srv, bearer := syncServer(t, pdtest.Options{})
	status, v, _ := send(t, srv, bearer, "GET", "/api/v2/dealFields?limit=5", nil)
	data, _ := v["data"].([]any)
	next, _ := v["additional_data"].(map[string]any)["next_cursor"].(string)
	if status != 200 || len(data) != 5 || next == "" {
		t.Fatalf("first page = %d %v", status, v)
	}
	var all []any
	for cursor := ""; ; {
		path := "/api/v2/dealFields?limit=500"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		_, v, _ := send(t, srv, bearer, "GET", path, nil)
		all = append(all, v["data"].([]any)...)
		cursor, _ = v["additional_data"].(map[string]any)["next_cursor"].(string)
		if cursor == "" {
			break
		}
	}
	var plan map[string]any
	for _, f := range all {
		if f.(map[string]any)["field_code"] == pdtest.FieldPlan {
			plan = f.(map[string]any)
		}
	}
	if plan == nil || plan["field_type"] != "enum" || plan["is_custom_field"] != true || len(plan["options"].([]any)) != 3 {
		t.Fatalf("plan field = %v", plan)
	}
	if got := srv.TokensByRoute()["GET /api/v2/dealFields"]; got != 20 {
		t.Fatalf("dealFields charged %d tokens, want 2 × 10", got)
	}

	// Values of each type land in custom_fields; wrong ones and unknown
	// fields are refused with 400 and change nothing.
	ok := map[string]any{pdtest.FieldQuoteNumber: "Q-1", pdtest.FieldPlan: 12, pdtest.FieldSeats: 25.5,
		pdtest.FieldQuotedTotal: map[string]any{"value": 1200.5, "currency": "EUR"}, pdtest.FieldValidUntil: "2026-12-31", pdtest.FieldTags: []int{21}}
	status, v, _ = send(t, srv, bearer, "PATCH", "/api/v2/deals/3", map[string]any{"custom_fields": ok})
	cf, _ := v["data"].(map[string]any)["custom_fields"].(map[string]any)
	if status != 200 || cf[pdtest.FieldPlan] != json.Number("12") || cf[pdtest.FieldQuoteNumber] != "Q-1" {
		t.Fatalf("update = %d %v", status, v)
	}
	for name, body := range map[string]map[string]any{
		"unknown field": {strings.Repeat("9", 40): "x"},
		"enum label":    {pdtest.FieldPlan: "Pro"},
		"enum id":       {pdtest.FieldPlan: 99},
		"number text":   {pdtest.FieldSeats: "25"},
		"bad date":      {pdtest.FieldValidUntil: "31.12.2026"},
		"empty set":     {pdtest.FieldTags: []int{}},
		"money number":  {pdtest.FieldQuotedTotal: 5},
	} {
		status, v, _ := send(t, srv, bearer, "PATCH", "/api/v2/deals/3", map[string]any{"custom_fields": body, "value": 1})
		if status != http.StatusBadRequest || v["success"] != false {
			t.Errorf("%s: %d %v, want 400", name, status, v)
		}
	}
	if d, _ := srv.Deal(pdtest.DefaultCompanyID, 3); d.Value == "1" {
		t.Fatalf("a refused update changed the deal: %+v", d)
	}
	// null clears; a deleted field's value is gone and the field refused.
	send(t, srv, bearer, "PATCH", "/api/v2/deals/3", map[string]any{"custom_fields": map[string]any{pdtest.FieldQuoteNumber: nil}})
	srv.DeleteField(pdtest.DefaultCompanyID, pdtest.DealFields, pdtest.FieldSeats)
	got := srv.DealCustomFields(pdtest.DefaultCompanyID, 3)
	if _, ok := got[pdtest.FieldQuoteNumber]; ok {
		t.Fatalf("null left %v", got)
	}
	if _, ok := got[pdtest.FieldSeats]; ok || got[pdtest.FieldPlan] != json.Number("12") {
		t.Fatalf("after deleting Seats: %v", got)
	}
	if status, _, _ := send(t, srv, bearer, "PATCH", "/api/v2/deals/3", map[string]any{"custom_fields": map[string]any{pdtest.FieldSeats: 1}}); status != 400 {
		t.Fatalf("a deleted field was written: %d", status)
	}
	code := srv.AddField(pdtest.DefaultCompanyID, pdtest.DealFields, pdtest.Field{Name: "Region", Type: "varchar"})
	if status, _, _ := send(t, srv, bearer, "PATCH", "/api/v2/deals/3", map[string]any{"custom_fields": map[string]any{code: "EMEA"}}); status != 200 || len(code) != 40 {
		t.Fatalf("an added field %q was refused: %d", code, status)
	}

	status, v, _ = send(t, srv, bearer, "GET", "/api/v2/stages", nil)
	if status != 200 || len(v["data"].([]any)) != 5 {
		t.Fatalf("stages = %d %v", status, v)
	}
	status, v, _ = send(t, srv, bearer, "GET", "/api/v2/organizationFields", nil)
	if status != 200 || len(v["data"].([]any)) != 6 {
		t.Fatalf("organization fields = %d %v", status, v)
	}
}

// POST /api/v1/dealFields adds a custom field: refused without a name or a
// type it takes, else answered with its key, which v2 lists and a deal's
// PATCH writes.
func TestAddDealField(t *testing.T) {
	srv, bearer := syncServer(t, pdtest.Options{})
	for _, body := range []map[string]any{{"field_type": "varchar"}, {"name": "Qwoty order"}, {"name": "X", "field_type": "enum"}} {
		if status, v, _ := send(t, srv, bearer, "POST", "/api/v1/dealFields", body); status != http.StatusBadRequest {
			t.Errorf("add %v = %d %v, want 400", body, status, v)
		}
	}
	status, v, _ := send(t, srv, bearer, "POST", "/api/v1/dealFields", map[string]any{"name": "Qwoty order", "field_type": "varchar"})
	key, _ := v["data"].(map[string]any)["key"].(string)
	if status != http.StatusOK || len(key) != 40 {
		t.Fatalf("add = %d %v, want 200 with a 40-character key", status, v)
	}
	if codes := srv.FieldsNamed(pdtest.DefaultCompanyID, pdtest.DealFields, "Qwoty order"); len(codes) != 1 || codes[0] != key {
		t.Errorf("fields named Qwoty order: %v, want [%s]", codes, key)
	}
	if status, v, _ := send(t, srv, bearer, "PATCH", "/api/v2/deals/3", map[string]any{"status": "won", "custom_fields": map[string]any{key: "O-1"}}); status != http.StatusOK {
		t.Fatalf("PATCH with the new field = %d %v", status, v)
	}
	if got := srv.DealCustomFields(pdtest.DefaultCompanyID, 3)[key]; got != "O-1" {
		t.Errorf("deal's new field = %v, want O-1", got)
	}
	if d, _ := srv.Deal(pdtest.DefaultCompanyID, 3); d.Status != "won" {
		t.Errorf("deal status %q, want won", d.Status)
	}
}
