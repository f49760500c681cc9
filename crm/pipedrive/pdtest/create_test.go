package pdtest_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/qwoty/companion/crm/pipedrive/pdtest"
)

// Organizations and deals made through v2, and their searches, on the
// wire.
func TestCreateAndSearch(t *testing.T) {
	srv := pdtest.New(t, pdtest.Options{App: pdtest.App{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret,
		Scopes: pdtest.DealScopes}})
	bearer := "Bearer " + connect(t, srv)["access_token"].(string)

	// A field of organizations, then an organization carrying a value of it.
	status, v, _ := send(t, srv, bearer, "POST", "/api/v1/organizationFields", map[string]any{"name": "Ref", "field_type": "varchar"})
	code, _ := v["data"].(map[string]any)["key"].(string)
	if status != 200 || len(code) != 40 {
		t.Fatalf("field = %d %v", status, v)
	}
	status, v, _ = send(t, srv, bearer, "POST", "/api/v2/organizations", map[string]any{"name": "Globex Corp",
		"address": map[string]any{"value": "1 Main St"}, "custom_fields": map[string]any{code: "ref-1"}})
	org, _ := v["data"].(map[string]any)
	if status != 201 || org["name"] != "Globex Corp" || org["custom_fields"].(map[string]any)[code] != "ref-1" {
		t.Fatalf("organization = %d %v", status, v)
	}
	orgID := org["id"].(json.Number)
	for name, body := range map[string]map[string]any{
		"no name":       {"address": map[string]any{"value": "x"}},
		"unknown field": {"name": "X", "custom_fields": map[string]any{strings.Repeat("9", 40): "x"}},
	} {
		if status, v, _ := send(t, srv, bearer, "POST", "/api/v2/organizations", body); status != 400 || v["success"] != false {
			t.Errorf("%s = %d %v, want 400", name, status, v)
		}
	}

	// A deal needs an organization or a person.
	if status, v, _ := send(t, srv, bearer, "POST", "/api/v2/deals", map[string]any{"title": "Lonely"}); status != 400 ||
		!strings.Contains(v["error"].(string), "person") {
		t.Fatalf("a deal on nothing = %d %v", status, v)
	}
	if status, _, _ := send(t, srv, bearer, "POST", "/api/v2/deals", map[string]any{"org_id": orgID}); status != 400 {
		t.Fatalf("a deal without title = %d", status)
	}
	status, v, _ = send(t, srv, bearer, "POST", "/api/v2/deals", map[string]any{"title": "Big one", "org_id": orgID, "value": 10.5,
		"currency": "USD", "expected_close_date": "2026-12-31", "custom_fields": map[string]any{pdtest.FieldQuoteNumber: "Q-9"}})
	deal, _ := v["data"].(map[string]any)
	if status != 201 || deal["org_id"] != orgID || deal["value"] != json.Number("10.5") || deal["stage_id"] != json.Number("1") ||
		deal["custom_fields"].(map[string]any)[pdtest.FieldQuoteNumber] != "Q-9" {
		t.Fatalf("deal = %d %v", status, v)
	}

	// Searches: exact_match ignores case, and matches all of a value only.
	search := func(path string, q url.Values) []any {
		t.Helper()
		status, v, _ := send(t, srv, bearer, "GET", path+"?"+q.Encode(), nil)
		if status != 200 {
			t.Fatalf("%s %v = %d %v", path, q, status, v)
		}
		return v["data"].(map[string]any)["items"].([]any)
	}
	if items := search("/api/v2/organizations/search", url.Values{"term": {"globex corp"}, "fields": {"name"}, "exact_match": {"true"}}); len(items) != 1 {
		t.Fatalf("exact name, other case: %v", items)
	}
	if items := search("/api/v2/organizations/search", url.Values{"term": {"corp"}, "fields": {"name"}, "exact_match": {"true"}}); len(items) != 0 {
		t.Fatalf("part of a name, exactly: %v", items)
	}
	if items := search("/api/v2/organizations/search", url.Values{"term": {"ref-1"}, "fields": {"custom_fields"}, "exact_match": {"true"}}); len(items) != 1 ||
		items[0].(map[string]any)["item"].(map[string]any)["custom_fields"].([]any)[0] != "ref-1" {
		t.Fatalf("custom value: %v", items)
	}
	if items := search("/api/v2/deals/search", url.Values{"term": {"Q-9"}, "fields": {"custom_fields"}, "exact_match": {"true"}}); len(items) != 1 {
		t.Fatalf("deal's custom value: %v", items)
	}
	if status, _, _ := send(t, srv, bearer, "GET", "/api/v2/deals/search?term=x", nil); status != 400 {
		t.Fatalf("a one-letter term without exact_match = %d", status)
	}
	if status, _, _ := send(t, srv, bearer, "GET", "/api/v2/deals/search?term=xy&fields=name", nil); status != 400 {
		t.Fatalf("a field deals have not = %d", status)
	}
}
