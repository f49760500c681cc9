package hstest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/qwoty/companion/crm/hubspot/hstest"
)

// propertyNames lists the names of a "read all properties" answer.
func propertyNames(v map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, r := range v["results"].([]any) {
		p := r.(map[string]any)
		out[p["name"].(string)] = p
	}
	return out
}

// Reading all properties lists HubSpot's and custom ones, archived ones only
// with archived=true, each with its read-only flag and options.
func TestReadAllProperties(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	at := tokens(t, srv)["access_token"].(string)
	srv.PutProperty(hstest.DefaultPortalID, "deals", hstest.Property{Name: "po_number", Label: "PO", Type: "string", FieldType: "text", GroupName: "dealinformation"})
	srv.PutProperty(hstest.DefaultPortalID, "deals", hstest.Property{Name: "gone", Label: "Gone", Type: "string", FieldType: "text", GroupName: "dealinformation"})
	srv.ArchiveProperty(hstest.DefaultPortalID, "deals", "gone")

	for _, path := range []string{"/crm/v3/properties/deals", "/crm/properties/2026-03/deals"} {
		status, v := get(t, srv, path, at)
		if status != http.StatusOK {
			t.Fatalf("%s: %d %v", path, status, v)
		}
		ps := propertyNames(v)
		if ps["po_number"]["hubspotDefined"] != false || ps["dealname"]["hubspotDefined"] != true {
			t.Errorf("%s: po_number %v, dealname %v", path, ps["po_number"], ps["dealname"])
		}
		if _, ok := ps["gone"]; ok {
			t.Errorf("%s lists an archived property", path)
		}
		calc := ps["hs_forecast_amount"]
		if calc["calculated"] != true || calc["modificationMetadata"].(map[string]any)["readOnlyValue"] != true {
			t.Errorf("hs_forecast_amount = %v, want calculated and read-only", calc)
		}
		if opts := ps["dealstage"]["options"].([]any); len(opts) != len(hstest.DealStages) {
			t.Errorf("dealstage options %v, want the pipeline's stages", opts)
		}
	}
	_, v := get(t, srv, "/crm/v3/properties/deals?archived=true", at)
	if ps := propertyNames(v); len(ps) != 1 || ps["gone"]["archived"] != true {
		t.Errorf("archived=true: %v, want only the archived property", ps)
	}
	_, v = get(t, srv, "/crm/v3/properties/companies", at)
	if ps := propertyNames(v); ps["name"]["type"] != "string" || ps["industry"]["type"] != "enumeration" {
		t.Errorf("companies: %v", ps)
	}
	if status, v := get(t, srv, "/crm/v3/properties/widgets", at); status != http.StatusNotFound {
		t.Errorf("an unknown object type: %d %v, want 404", status, v)
	}
}

// The schema read scope of the object type is needed.
func TestReadAllPropertiesNeedsItsScope(t *testing.T) {
	srv := hstest.New(t, hstest.Options{
		App: hstest.App{ClientID: hstest.DefaultClientID, ClientSecret: hstest.DefaultClientSecret, RequiredScopes: []string{"crm.objects.deals.read", "oauth"}}})
	q := authorizeQuery()
	q.Set("scope", "crm.objects.deals.read oauth")
	_, cb := authorize(t, srv, q)
	_, tok := post(t, srv, "/oauth/2026-03/token", codeForm(cb.Get("code")))
	if status, v := get(t, srv, "/crm/v3/properties/deals", tok["access_token"].(string)); status != http.StatusForbidden || v["category"] != "MISSING_SCOPES" {
		t.Errorf("without crm.schemas.deals.read: %d %v, want 403 MISSING_SCOPES", status, v)
	}
}

// A deal update is refused for a property HubSpot does not have (or
// archived), a read-only one, and a date that is not midnight UTC in epoch
// milliseconds; "" clears a property.
func TestDealUpdateChecksProperties(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	at := tokens(t, srv)["access_token"].(string)
	srv.PutProperty(hstest.DefaultPortalID, "deals", hstest.Property{Name: "signed_on", Label: "Signed", Type: "date", FieldType: "date", GroupName: "dealinformation"})
	srv.PutProperty(hstest.DefaultPortalID, "deals", hstest.Property{Name: "gone", Label: "Gone", Type: "string", FieldType: "text", GroupName: "dealinformation"})
	srv.ArchiveProperty(hstest.DefaultPortalID, "deals", "gone")
	update := func(props map[string]any) (int, map[string]any) {
		status, _, v := postJSON(t, srv, "/crm/objects/2026-03/deals/batch/update", at, inputs(
			map[string]any{"id": hstest.DefaultDealID, "properties": props}))
		return status, v
	}
	for name, c := range map[string]struct {
		props map[string]any
		want  string
	}{
		"unknown":       {map[string]any{"nope": "1"}, "PROPERTY_DOESNT_EXIST"},
		"archived":      {map[string]any{"gone": "1"}, "PROPERTY_DOESNT_EXIST"},
		"calculated":    {map[string]any{"hs_forecast_amount": "1"}, "READ_ONLY_VALUE"},
		"system":        {map[string]any{"createdate": "1795910400000"}, "READ_ONLY_VALUE"},
		"not midnight":  {map[string]any{"signed_on": "1795910400001"}, "INVALID_DATE"},
		"not millis":    {map[string]any{"signed_on": "29/11/2026"}, "INVALID_DATE"},
		"not an option": {map[string]any{"dealstage": "negotiation"}, "INVALID_OPTION"},
	} {
		status, v := update(c.props)
		if msg, _ := v["message"].(string); status != http.StatusBadRequest || v["category"] != "VALIDATION_ERROR" || !strings.Contains(msg, c.want) {
			t.Errorf("%s: %d %v, want 400 VALIDATION_ERROR with %s", name, status, v, c.want)
		}
	}
	if status, v := update(map[string]any{"signed_on": "1795910400000"}); status != http.StatusOK {
		t.Fatalf("midnight UTC: %d %v", status, v)
	}
	if p := srv.DealProperties(hstest.DefaultPortalID, hstest.DefaultDealID); p["signed_on"] != "1795910400000" {
		t.Errorf("deal %v", p)
	}
	if status, v := update(map[string]any{"signed_on": ""}); status != http.StatusOK {
		t.Fatalf("clear: %d %v", status, v)
	}
	if p := srv.DealProperties(hstest.DefaultPortalID, hstest.DefaultDealID); p["signed_on"] != "" {
		t.Errorf("deal %v, want signed_on cleared", p)
	}
}
