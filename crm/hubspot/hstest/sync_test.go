package hstest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/hubspot/hstest"
)

// What sync writes through, checked on the wire against HubSpot's
// documented behaviour.

// postJSON POSTs a JSON body with a bearer token and returns the status,
// the header and the decoded answer (nil for an empty body).
func postJSON(t *testing.T, srv *hstest.Server, path, token string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("POST %s answered %d %q, not JSON", path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, resp.Header, v
}

const (
	lineItems = "/crm/objects/2026-03/line_items/batch/"
	refProp   = "qwoty_ref"
)

func inputs(in ...map[string]any) map[string]any { return map[string]any{"inputs": in} }

// uniqueRef defines the unique property sync upserts by.
func uniqueRef(t *testing.T, srv *hstest.Server, at string) {
	t.Helper()
	status, _, v := postJSON(t, srv, "/crm/properties/2026-03/line_items", at, map[string]any{
		"name": refProp, "label": "Qwoty reference", "type": "string", "fieldType": "text", "groupName": "lineiteminformation", "hasUniqueValue": true})
	if status != http.StatusCreated || v["hasUniqueValue"] != true {
		t.Fatalf("create property: %d %v", status, v)
	}
}

func TestPropertiesAPI(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	at := tokens(t, srv)["access_token"].(string)
	uniqueRef(t, srv, at)
	status, _, v := postJSON(t, srv, "/crm/v3/properties/line_items", at, map[string]any{
		"name": refProp, "label": "Again", "type": "string", "fieldType": "text", "groupName": "lineiteminformation"})
	if status != http.StatusConflict || v["status"] != "error" {
		t.Errorf("the same property again: %d %v, want 409", status, v)
	}
	if status, v := get(t, srv, "/crm/properties/2026-03/line_items/"+refProp, at); status != 200 || v["hasUniqueValue"] != true {
		t.Errorf("read it back: %d %v", status, v)
	}
	if status, _ := get(t, srv, "/crm/properties/2026-03/line_items/nope", at); status != 404 {
		t.Errorf("an unknown property: %d, want 404", status)
	}
}

// Create takes inline associations and answers 207 listing each refused
// input by its objectWriteTraceId; more than 100 inputs are refused whole.
func TestBatchCreateMultiStatus(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	at := tokens(t, srv)["access_token"].(string)
	uniqueRef(t, srv, at)
	toDeal := []map[string]any{{"to": map[string]string{"id": hstest.DefaultDealID},
		"types": []map[string]any{{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": hstest.LineItemToDeal}}}}
	status, _, v := postJSON(t, srv, lineItems+"create", at, inputs(
		map[string]any{"objectWriteTraceId": "t1", "properties": map[string]any{"name": "A", "quantity": 2, "price": "10.5", refProp: "r1"}, "associations": toDeal},
		map[string]any{"objectWriteTraceId": "t2", "properties": map[string]any{"name": "B", "price": "-1", refProp: "r2"}, "associations": toDeal},
		map[string]any{"objectWriteTraceId": "t3", "properties": map[string]any{"name": "C", "missing": "1"}},
		map[string]any{"objectWriteTraceId": "t4", "properties": map[string]any{"name": "D", refProp: "r1"}},
	))
	if status != http.StatusMultiStatus || v["numErrors"] != float64(3) {
		t.Fatalf("create with bad inputs: %d %v, want 207 with 3 errors", status, v)
	}
	traces := map[string]string{}
	for _, e := range v["errors"].([]any) {
		e := e.(map[string]any)
		traces[e["context"].(map[string]any)["objectWriteTraceId"].([]any)[0].(string)] = e["category"].(string)
	}
	if traces["t2"] != "VALIDATION_ERROR" || traces["t3"] != "VALIDATION_ERROR" || traces["t4"] != "CONFLICT" {
		t.Errorf("errors by trace %v", traces)
	}
	items := srv.LineItems(hstest.DefaultPortalID, hstest.DefaultDealID)
	if len(items) != 1 || items[0].Properties["amount"] != "21" {
		t.Errorf("deal's line items %+v, want A with amount 21", items)
	}

	var many []map[string]any
	for i := range 101 {
		many = append(many, map[string]any{"properties": map[string]any{"name": strconv.Itoa(i)}})
	}
	if status, _, _ := postJSON(t, srv, lineItems+"create", at, inputs(many...)); status != http.StatusBadRequest || srv.LineItemsCreated(hstest.DefaultPortalID) != 1 {
		t.Errorf("101 inputs: %d, %d line items; want 400 and nothing made", status, srv.LineItemsCreated(hstest.DefaultPortalID))
	}
	// Without trace ids one bad input fails the whole request.
	if status, _, _ := postJSON(t, srv, lineItems+"create", at, inputs(
		map[string]any{"properties": map[string]any{"name": "E"}},
		map[string]any{"properties": map[string]any{"name": "F", "price": "x"}})); status != http.StatusBadRequest || srv.LineItemsCreated(hstest.DefaultPortalID) != 1 {
		t.Errorf("a bad input without trace ids: %d, want 400 and nothing made", status)
	}
}

// Upsert takes idProperty only on a property with unique values; it says
// whether it made the record.
func TestBatchUpsert(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	at := tokens(t, srv)["access_token"].(string)
	srv.PutProperty(hstest.DefaultPortalID, "line_items", hstest.Property{Name: "plain", Type: "string"})
	in := func(prop, id, qty string) map[string]any {
		return map[string]any{"id": id, "idProperty": prop, "objectWriteTraceId": id, "properties": map[string]any{"quantity": qty}}
	}
	if status, _, v := postJSON(t, srv, lineItems+"upsert", at, inputs(in("plain", "x", "1"))); status != http.StatusBadRequest {
		t.Errorf("idProperty not unique: %d %v, want 400", status, v)
	}
	uniqueRef(t, srv, at)
	status, _, v := postJSON(t, srv, lineItems+"upsert", at, inputs(in(refProp, "r1", "1")))
	first := v["results"].([]any)[0].(map[string]any)
	if status != 200 || first["new"] != true || first["properties"].(map[string]any)[refProp] != "r1" {
		t.Fatalf("first upsert: %d %v", status, v)
	}
	_, _, v = postJSON(t, srv, lineItems+"upsert", at, inputs(in(refProp, "r1", "5")))
	again := v["results"].([]any)[0].(map[string]any)
	if again["new"] != false || again["id"] != first["id"] || again["properties"].(map[string]any)["quantity"] != "5" {
		t.Errorf("second upsert: %v, want the same record updated", again)
	}
	if n := srv.CountLineItems(hstest.DefaultPortalID, refProp, "r1"); n != 1 {
		t.Errorf("%d line items hold r1", n)
	}
	// Archived (204 whatever the state), the value is free again.
	for range 2 {
		if status, _, _ := postJSON(t, srv, lineItems+"archive", at, inputs(map[string]any{"id": first["id"]})); status != http.StatusNoContent {
			t.Errorf("archive: %d, want 204", status)
		}
	}
	_, _, v = postJSON(t, srv, lineItems+"upsert", at, inputs(in(refProp, "r1", "2")))
	if v["results"].([]any)[0].(map[string]any)["new"] != true {
		t.Errorf("upsert after the archive: %v, want a new record", v)
	}
}

// A line item belongs to one deal.
func TestAssociationsOneParent(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	at := tokens(t, srv)["access_token"].(string)
	_, _, v := postJSON(t, srv, lineItems+"create", at, inputs(map[string]any{"properties": map[string]any{"name": "A"}}))
	id := v["results"].([]any)[0].(map[string]any)["id"].(string)
	pair := func(deal string) map[string]any {
		return map[string]any{"from": map[string]string{"id": id}, "to": map[string]string{"id": deal}}
	}
	const path = "/crm/associations/2026-03/line_items/deals/batch/associate/default"
	for range 2 {
		if status, _, v := postJSON(t, srv, path, at, inputs(pair(hstest.DefaultDealID))); status != 200 || len(v["results"].([]any)) != 1 {
			t.Errorf("associate: %d %v", status, v)
		}
	}
	status, _, v := postJSON(t, srv, path, at, inputs(pair(hstest.DefaultBareDealID)))
	if status != http.StatusMultiStatus || v["numErrors"] != float64(1) {
		t.Errorf("a second parent: %d %v, want it refused", status, v)
	}
	if items := srv.LineItems(hstest.DefaultPortalID, hstest.DefaultDealID); len(items) != 1 {
		t.Errorf("deal's line items %+v", items)
	}
}

func TestDealsBatchUpdate(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	at := tokens(t, srv)["access_token"].(string)
	status, _, v := postJSON(t, srv, "/crm/objects/2026-03/deals/batch/update", at, inputs(
		map[string]any{"id": hstest.DefaultDealID, "objectWriteTraceId": "a", "properties": map[string]any{"amount": "99.5", "dealstage": "closedwon"}},
		map[string]any{"id": hstest.DefaultBareDealID, "objectWriteTraceId": "b", "properties": map[string]any{"dealstage": "nope"}},
		map[string]any{"id": "1", "objectWriteTraceId": "c", "properties": map[string]any{"amount": "1"}},
	))
	if status != http.StatusMultiStatus || v["numErrors"] != float64(2) {
		t.Fatalf("update: %d %v, want 207 with 2 errors", status, v)
	}
	if p := srv.DealProperties(hstest.DefaultPortalID, hstest.DefaultDealID); p["amount"] != "99.5" || p["dealstage"] != "closedwon" {
		t.Errorf("deal %v", p)
	}
	if p := srv.DealProperties(hstest.DefaultPortalID, hstest.DefaultBareDealID); p["dealstage"] != "" {
		t.Errorf("refused deal %v, want untouched", p)
	}
}

// HubSpot's per-account limit: the headers count down on the injected
// clock, the 111th call of a 10-second window is a 429 with Retry-After,
// and the window rolls.
// (The first 50 calls are 4 s older than the next 60.)
func TestRateLimit(t *testing.T) {
	c := newClock()
	srv := hstest.New(t, hstest.Options{Now: c.Now})
	at := tokens(t, srv)["access_token"].(string)
	read := func() *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+"/crm/v3/objects/deals/"+hstest.DefaultDealID, nil)
		req.Header.Set("Authorization", "Bearer "+at)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := range 110 {
		resp := read()
		h := resp.Header
		if resp.StatusCode != 200 || h.Get("X-HubSpot-RateLimit-Max") != "110" || h.Get("X-HubSpot-RateLimit-Remaining") != fmt.Sprint(109-i) ||
			h.Get("X-HubSpot-RateLimit-Interval-Milliseconds") != "10000" {
			t.Fatalf("call %d: %d %v", i+1, resp.StatusCode, h)
		}
		if i == 49 {
			c.Advance(4 * time.Second)
		}
	}
	resp := read()
	// The oldest call leaves the window 6 s later.
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "6" || srv.RateLimited() != 1 {
		t.Fatalf("call 111: %d Retry-After %q, want 429 for 6 s", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	c.Advance(6 * time.Second)
	if resp := read(); resp.StatusCode != 200 || resp.Header.Get("X-HubSpot-RateLimit-Remaining") != "49" {
		t.Errorf("after the first 50 calls left the window: %d remaining %s, want 200 and 49", resp.StatusCode, resp.Header.Get("X-HubSpot-RateLimit-Remaining"))
	}
}

// A batch read by idProperty answers the line items it finds and lists the
// values it does not (never made, archived) among its errors, a 207; an
// idProperty whose values are not unique is refused whole.
func TestBatchReadByUniqueValue(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	at := tokens(t, srv)["access_token"].(string)
	uniqueRef(t, srv, at)
	status, _, v := postJSON(t, srv, lineItems+"create", at, inputs(
		map[string]any{"properties": map[string]any{"name": "A", refProp: "r1"}, "objectWriteTraceId": "r1"},
		map[string]any{"properties": map[string]any{"name": "B", refProp: "r2"}, "objectWriteTraceId": "r2"}))
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, v)
	}
	var r2 string
	for _, r := range v["results"].([]any) {
		if rec := r.(map[string]any); rec["properties"].(map[string]any)[refProp] == "r2" {
			r2 = rec["id"].(string)
		}
	}
	if status, _, _ := postJSON(t, srv, lineItems+"archive", at, inputs(map[string]any{"id": r2})); status != http.StatusNoContent {
		t.Fatalf("archive: %d", status)
	}
	status, _, v = postJSON(t, srv, lineItems+"read", at, map[string]any{"idProperty": refProp, "properties": []string{refProp},
		"inputs": []map[string]string{{"id": "r1"}, {"id": "r2"}, {"id": "r3"}}})
	results, _ := v["results"].([]any)
	if status != http.StatusMultiStatus || len(results) != 1 ||
		results[0].(map[string]any)["properties"].(map[string]any)[refProp] != "r1" {
		t.Fatalf("read by value: %d %v, want 207 with r1 only", status, v)
	}
	errs, _ := v["errors"].([]any)
	if len(errs) != 1 || mustJSON(errs[0].(map[string]any)["context"]) != `{"ids":["r2","r3"]}` ||
		errs[0].(map[string]any)["category"] != "OBJECT_NOT_FOUND" {
		t.Errorf("read by value: errors %v, want r2 and r3 not found", errs)
	}
	if status, _, v := postJSON(t, srv, lineItems+"read", at, map[string]any{"idProperty": "name",
		"inputs": []map[string]string{{"id": "A"}}}); status != http.StatusBadRequest {
		t.Errorf("read by a property without unique values: %d %v, want 400", status, v)
	}
}
