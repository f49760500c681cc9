package hstest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/qwoty/companion/crm/hubspot/hstest"
)

// Companies and deals are created one at a time: a deal without its name
// or stage, a company with neither name nor domain, an unknown property
// or an association to no company is refused with HubSpot's 400; a value
// another record holds in a unique property is a 409; a read by
// idProperty finds the record by that value, and is refused while the
// property does not exist.
func TestCreateCompaniesAndDeals(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	at := tokens(t, srv)["access_token"].(string)
	create := func(path string, props map[string]string, assocs ...any) (int, map[string]any) {
		b, _ := json.Marshal(map[string]any{"properties": props, "associations": assocs})
		return send(t, srv, http.MethodPost, path, at, "application/json", b)
	}
	toCompany := func(id string, typ int) any {
		return map[string]any{"to": map[string]string{"id": id},
			"types": []map[string]any{{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": typ}}}
	}
	for name, c := range map[string]struct {
		path   string
		props  map[string]string
		assocs []any
	}{
		"deal without name":   {"/crm/objects/2026-03/deals", map[string]string{"dealstage": "contractsent"}, nil},
		"deal without stage":  {"/crm/objects/2026-03/deals", map[string]string{"dealname": "D"}, nil},
		"deal, foreign stage": {"/crm/objects/2026-03/deals", map[string]string{"dealname": "D", "dealstage": "nope"}, nil},
		"deal, no company": {"/crm/objects/2026-03/deals", map[string]string{"dealname": "D", "dealstage": "contractsent"},
			[]any{toCompany("424242", hstest.DealToCompanyPrimary)}},
		"deal, wrong type": {"/crm/objects/2026-03/deals", map[string]string{"dealname": "D", "dealstage": "contractsent"},
			[]any{toCompany(hstest.DefaultCompanyID, 279)}},
		"company, no name nor domain": {"/crm/objects/2026-03/companies", map[string]string{"city": "Paris"}, nil},
		"company, unknown property":   {"/crm/objects/2026-03/companies", map[string]string{"name": "A", "qwoty_ref": "x"}, nil},
	} {
		if status, body := create(c.path, c.props, c.assocs...); status != http.StatusBadRequest || body["category"] != "VALIDATION_ERROR" {
			t.Errorf("%s: %d %v, want 400 VALIDATION_ERROR", name, status, body)
		}
	}
	status, body := get(t, srv, "/crm/objects/2026-03/companies/r1?idProperty=qwoty_ref", at)
	if msg, _ := body["message"].(string); status != http.StatusBadRequest || !strings.Contains(msg, "qwoty_ref") {
		t.Errorf("read by a property that does not exist: %d %v, want 400 naming it", status, body)
	}
	srv.PutProperty(hstest.DefaultPortalID, "companies", hstest.Property{Name: "qwoty_ref", Label: "Ref", Type: "string", FieldType: "text",
		GroupName: "companyinformation", HasUniqueValue: true})
	status, body = create("/crm/v3/objects/companies", map[string]string{"name": "Globex", "qwoty_ref": "r1"})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, body)
	}
	id := body["id"].(string)
	if status, body := create("/crm/objects/2026-03/companies", map[string]string{"name": "Globex 2", "qwoty_ref": "r1"}); status != http.StatusConflict ||
		!strings.Contains(body["message"].(string), id) {
		t.Errorf("a taken reference: %d %v, want 409 naming %s", status, body, id)
	}
	if status, body := get(t, srv, "/crm/objects/2026-03/companies/r1?idProperty=qwoty_ref", at); status != http.StatusOK || body["id"] != id {
		t.Errorf("read by reference: %d %v, want %s", status, body, id)
	}
	if status, _ := get(t, srv, "/crm/objects/2026-03/companies/r2?idProperty=qwoty_ref", at); status != http.StatusNotFound {
		t.Errorf("read by another reference: %d, want 404", status)
	}
	status, body = create("/crm/objects/2026-03/deals", map[string]string{"dealname": "D", "dealstage": "contractsent", "amount": "10"},
		toCompany(id, hstest.DealToCompanyPrimary))
	if status != http.StatusCreated {
		t.Fatalf("deal create: %d %v", status, body)
	}
	deal := body["id"].(string)
	status, body = get(t, srv, "/crm/v3/objects/deals/"+deal+"?associations=companies", at)
	if status != http.StatusOK || !strings.Contains(mustJSON(body["associations"]), `"id":"`+id+`","type":"deal_to_company"`) {
		t.Errorf("the new deal read back: %d %v, want company %s as its primary", status, body, id)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
