package sftest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm/salesforce/sftest"
)

// The REST data resources against Salesforce's documented behaviour, on the
// wire.

const api = "/services/data/v63.0"

type rest struct {
	t     *testing.T
	srv   *sftest.Server
	token string
}

func newREST(t *testing.T, org sftest.Org) *rest {
	t.Helper()
	org.ID = sftest.DefaultOrgID
	org.Users = []sftest.User{{ID: sftest.DefaultAdminID, Username: "admin@acme.example", Admin: true}}
	srv := sftest.New(t, sftest.Options{Orgs: []sftest.Org{org}})
	return &rest{t: t, srv: srv, token: srv.AccessToken(sftest.DefaultAdminID)}
}

// do sends a request and decodes the JSON answer (nil for none).
func (r *rest) do(method, path string, body any) (int, any, http.Header) {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, r.srv.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var v any
	if len(data) > 0 {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			r.t.Fatalf("%s %s: answer is not JSON: %s", method, path, data)
		}
	}
	return resp.StatusCode, v, resp.Header
}

func (r *rest) query(q string) []any {
	r.t.Helper()
	status, v, _ := r.do("GET", api+"/query/?q="+url.QueryEscape(q), nil)
	if status != 200 {
		r.t.Fatalf("query %s: %d %v", q, status, v)
	}
	return v.(map[string]any)["records"].([]any)
}

func (r *rest) opportunity(fields map[string]any) string {
	r.t.Helper()
	f := map[string]any{"Name": "Acme deal", "StageName": "Prospecting", "CloseDate": "2026-12-31"}
	for k, v := range fields {
		f[k] = v
	}
	id, err := r.srv.Insert(sftest.DefaultOrgID, "Opportunity", f)
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

// product makes a product with a standard price, and returns the entry.
func (r *rest) product(name string, price int) string {
	r.t.Helper()
	p, err := r.srv.Insert(sftest.DefaultOrgID, "Product2", map[string]any{"Name": name, "IsActive": true})
	if err != nil {
		r.t.Fatal(err)
	}
	e, err := r.srv.Insert(sftest.DefaultOrgID, "PricebookEntry", map[string]any{"Pricebook2Id": r.srv.StandardPricebook(sftest.DefaultOrgID),
		"Product2Id": p, "UnitPrice": price, "IsActive": true})
	if err != nil {
		r.t.Fatal(err)
	}
	return e
}

func num(v any) decimal.Decimal {
	d, _ := decimal.NewFromString(string(v.(json.Number)))
	return d
}

func TestLimitInfoOnEveryAnswerAndTheAllocationSpent(t *testing.T) {
	r := newREST(t, sftest.Org{APILimit: 3, APIUsed: 1})
	_, _, h := r.do("GET", api+"/sobjects/Opportunity", nil)
	if got := h.Get(sftest.LimitHeader); got != "api-usage=2/3" {
		t.Fatalf("Sforce-Limit-Info = %q, want api-usage=2/3", got)
	}
	r.do("GET", api+"/sobjects/Opportunity", nil)
	status, body, h := r.do("GET", api+"/sobjects/Opportunity", nil)
	if status != 403 || !strings.Contains(toJSON(body), `"errorCode":"REQUEST_LIMIT_EXCEEDED"`) || h.Get(sftest.LimitHeader) != "api-usage=3/3" {
		t.Fatalf("past the allocation: %d %v %q; want 403 REQUEST_LIMIT_EXCEEDED", status, body, h.Get(sftest.LimitHeader))
	}
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestQuotesDisabledIsNotFound(t *testing.T) {
	r := newREST(t, sftest.Org{NoQuotes: true})
	if status, _, _ := r.do("GET", api+"/sobjects/Quote", nil); status != 404 {
		t.Fatalf("GET /sobjects/Quote with Quotes off = %d, want 404", status)
	}
	status, body, _ := r.do("GET", api+"/query/?q="+url.QueryEscape("SELECT Id FROM Quote"), nil)
	if status != 400 || !strings.Contains(toJSON(body), "INVALID_TYPE") {
		t.Fatalf("query of Quote with Quotes off = %d %v, want INVALID_TYPE", status, body)
	}
	r.srv.SetQuotesEnabled(sftest.DefaultOrgID, true)
	if status, _, _ := r.do("GET", api+"/sobjects/Quote", nil); status != 200 {
		t.Fatalf("GET /sobjects/Quote with Quotes on = %d, want 200", status)
	}
}

// An opportunity with products has its Amount computed from them; a write
// of Amount answers 204 and changes nothing.
func TestAmountIsDerivedOnceTheOpportunityHasProducts(t *testing.T) {
	r := newREST(t, sftest.Org{})
	opp := r.opportunity(map[string]any{"Amount": 500})
	if status, _, _ := r.do("PATCH", api+"/sobjects/Opportunity/"+opp, map[string]any{"Amount": 700}); status != 204 {
		t.Fatalf("update = %d", status)
	}
	if a := r.srv.Record(sftest.DefaultOrgID, "Opportunity", opp).Decimal("Amount"); !a.Equal(decimal.NewFromInt(700)) {
		t.Fatalf("Amount = %s, want 700 (no products yet)", a)
	}
	entry := r.product("Widget", 10)
	status, body, _ := r.do("POST", api+"/sobjects/OpportunityLineItem", map[string]any{"OpportunityId": opp, "PricebookEntryId": entry,
		"Quantity": 3, "UnitPrice": 12.5, "Discount": 10})
	if status != 201 {
		t.Fatalf("add a product = %d %v", status, body)
	}
	o := r.srv.Record(sftest.DefaultOrgID, "Opportunity", opp)
	if !o.Decimal("Amount").Equal(decimal.RequireFromString("33.75")) || !o.Bool("HasOpportunityLineItem") || o.String("Pricebook2Id") == "" {
		t.Fatalf("opportunity after a product: %v; want Amount 33.75 (3 × 12.50 − 10%%), the standard price book", o)
	}
	if status, _, _ := r.do("PATCH", api+"/sobjects/Opportunity/"+opp, map[string]any{"Amount": 999, "StageName": "Closed Won"}); status != 204 {
		t.Fatalf("update = %d", status)
	}
	o = r.srv.Record(sftest.DefaultOrgID, "Opportunity", opp)
	if !o.Decimal("Amount").Equal(decimal.RequireFromString("33.75")) || o.String("StageName") != "Closed Won" {
		t.Fatalf("after writing Amount 999: %v; want the stage written and the Amount unchanged", o)
	}
}

func TestPriceBookRules(t *testing.T) {
	r := newREST(t, sftest.Org{})
	p, _ := r.srv.Insert(sftest.DefaultOrgID, "Product2", map[string]any{"Name": "Gadget", "IsActive": true})
	custom, _ := r.srv.Insert(sftest.DefaultOrgID, "Pricebook2", map[string]any{"Name": "Partners", "IsActive": true})
	_, err := r.srv.Insert(sftest.DefaultOrgID, "PricebookEntry", map[string]any{"Pricebook2Id": custom, "Product2Id": p, "UnitPrice": 5, "IsActive": true})
	if _, ok := sftest.IsDMLError(err, "STANDARD_PRICE_NOT_DEFINED"); !ok {
		t.Fatalf("custom price before the standard one: %v", err)
	}
	std := r.srv.StandardPricebook(sftest.DefaultOrgID)
	if _, err := r.srv.Insert(sftest.DefaultOrgID, "PricebookEntry", map[string]any{"Pricebook2Id": std, "Product2Id": p, "UnitPrice": 6, "IsActive": true}); err != nil {
		t.Fatal(err)
	}
	_, err = r.srv.Insert(sftest.DefaultOrgID, "PricebookEntry", map[string]any{"Pricebook2Id": std, "Product2Id": p, "UnitPrice": 6, "IsActive": true})
	if _, ok := sftest.IsDMLError(err, "DUPLICATE_VALUE"); !ok {
		t.Fatalf("second standard price: %v", err)
	}
	customEntry, err := r.srv.Insert(sftest.DefaultOrgID, "PricebookEntry", map[string]any{"Pricebook2Id": custom, "Product2Id": p, "UnitPrice": 5, "IsActive": true})
	if err != nil {
		t.Fatal(err)
	}
	opp := r.opportunity(map[string]any{"Pricebook2Id": std})
	status, body, _ := r.do("POST", api+"/sobjects/OpportunityLineItem", map[string]any{"OpportunityId": opp, "PricebookEntryId": customEntry, "Quantity": 1, "UnitPrice": 5})
	if status != 400 || !strings.Contains(toJSON(body), "FIELD_INTEGRITY_EXCEPTION") {
		t.Fatalf("a line from another price book = %d %v, want FIELD_INTEGRITY_EXCEPTION", status, body)
	}
}

// Upsert by External ID: 201 then 200, 300 when several records match a
// field without a unique index, and one record per ref when it has one.
func TestUpsertByExternalID(t *testing.T) {
	r := newREST(t, sftest.Org{})
	path := api + "/sobjects/Product2/Qwoty__Ref__c/" + url.PathEscape("qwoty:product:A-1")
	status, body, _ := r.do("PATCH", path, map[string]any{"Name": "A"})
	if status != 201 || body.(map[string]any)["created"] != true {
		t.Fatalf("first upsert = %d %v, want 201 created", status, body)
	}
	status, body, _ = r.do("PATCH", path, map[string]any{"Name": "A, renamed"})
	if status != 200 || body.(map[string]any)["created"] != false {
		t.Fatalf("second upsert = %d %v, want 200 updated", status, body)
	}
	if n := r.srv.CountByRef(sftest.DefaultOrgID, "Product2", "qwoty:product:A-1"); n != 1 {
		t.Fatalf("%d products with the ref, want 1", n)
	}
	if _, err := r.srv.Insert(sftest.DefaultOrgID, "Product2", map[string]any{"Name": "copy", "Qwoty__Ref__c": "qwoty:product:A-1"}); err == nil {
		t.Fatal("a second record with a unique ref was saved")
	}
	r.srv.SetRefUnique(sftest.DefaultOrgID, false)
	if _, err := r.srv.Insert(sftest.DefaultOrgID, "Product2", map[string]any{"Name": "copy", "Qwoty__Ref__c": "qwoty:product:A-1"}); err != nil {
		t.Fatal(err)
	}
	if status, _, _ = r.do("PATCH", path, map[string]any{"Name": "A"}); status != 300 {
		t.Fatalf("upsert matching two records = %d, want 300", status)
	}
	if status, _, _ = r.do("PATCH", api+"/sobjects/Product2/Name/x", map[string]any{}); status != 404 {
		t.Fatalf("upsert by a field that is no External ID = %d, want 404", status)
	}
}

// A Composite request with allOrNone: a failed record rolls back all, its
// collection reports it and the others ALL_OR_NONE_OPERATION_ROLLED_BACK,
// every other subrequest PROCESSING_HALTED; references reach earlier
// results.
func TestCompositeAllOrNone(t *testing.T) {
	r := newREST(t, sftest.Org{})
	std := r.srv.StandardPricebook(sftest.DefaultOrgID)
	opp := r.opportunity(nil)
	composite := func(qty any) []any {
		status, body, _ := r.do("POST", api+"/composite", map[string]any{"allOrNone": true, "collateSubrequests": false,
			"compositeRequest": []any{
				map[string]any{"method": "PATCH", "url": api + "/composite/sobjects/Product2/Qwoty__Ref__c", "referenceId": "prod",
					"body": map[string]any{"allOrNone": true, "records": []any{
						map[string]any{"attributes": map[string]any{"type": "Product2"}, "Name": "P", "Qwoty__Ref__c": "qwoty:product:P", "IsActive": true}}}},
				map[string]any{"method": "POST", "url": api + "/composite/sobjects", "referenceId": "pbe",
					"body": map[string]any{"allOrNone": true, "records": []any{
						map[string]any{"attributes": map[string]any{"type": "PricebookEntry"}, "Pricebook2Id": std, "Product2Id": "@{prod[0].id}",
							"UnitPrice": 4, "IsActive": true}}}},
				map[string]any{"method": "PATCH", "url": api + "/composite/sobjects/OpportunityLineItem/Qwoty__Ref__c", "referenceId": "oli",
					"body": map[string]any{"allOrNone": true, "records": []any{
						map[string]any{"attributes": map[string]any{"type": "OpportunityLineItem"}, "Qwoty__Ref__c": "qwoty:line:1",
							"OpportunityId": opp, "PricebookEntryId": "@{pbe[0].id}", "Quantity": 2, "UnitPrice": 4},
						map[string]any{"attributes": map[string]any{"type": "OpportunityLineItem"}, "Qwoty__Ref__c": "qwoty:line:2",
							"OpportunityId": opp, "PricebookEntryId": "@{pbe[0].id}", "Quantity": qty, "UnitPrice": 4}}}},
				map[string]any{"method": "GET", "url": api + "/query/?q=" + url.QueryEscape("SELECT Id, Amount FROM Opportunity WHERE Id = '"+opp+"'"), "referenceId": "back"},
			}})
		if status != 200 {
			t.Fatalf("composite = %d %v", status, body)
		}
		return body.(map[string]any)["compositeResponse"].([]any)
	}
	res := composite(nil) // Quantity missing on the second line
	if toJSON(res[0]) == "" || !strings.Contains(toJSON(res[0]), "PROCESSING_HALTED") || !strings.Contains(toJSON(res[3]), "PROCESSING_HALTED") {
		t.Fatalf("the other subrequests: %v", res)
	}
	oli := toJSON(res[2])
	if !strings.Contains(oli, "REQUIRED_FIELD_MISSING") || !strings.Contains(oli, "ALL_OR_NONE_OPERATION_ROLLED_BACK") {
		t.Fatalf("the failed collection: %s", oli)
	}
	if n := len(r.srv.Records(sftest.DefaultOrgID, "Product2", "", "")); n != 0 {
		t.Fatalf("%d products after a rolled-back composite, want 0", n)
	}
	res = composite(3)
	back := res[3].(map[string]any)["body"].(map[string]any)["records"].([]any)[0].(map[string]any)
	if !num(back["Amount"]).Equal(decimal.NewFromInt(20)) {
		t.Fatalf("Amount read in the same composite = %v, want 20", back["Amount"])
	}
	if n := len(r.srv.LineItems(sftest.DefaultOrgID, opp)); n != 2 {
		t.Fatalf("%d products, want 2", n)
	}
}

// Collections without allOrNone save the good records and report the bad.
func TestCollectionsPerRecordErrors(t *testing.T) {
	r := newREST(t, sftest.Org{})
	status, body, _ := r.do("POST", api+"/composite/sobjects", map[string]any{"allOrNone": false, "records": []any{
		map[string]any{"attributes": map[string]any{"type": "Product2"}, "Name": "ok"},
		map[string]any{"attributes": map[string]any{"type": "Product2"}},
	}})
	res := body.([]any)
	if status != 200 || res[0].(map[string]any)["success"] != true || res[1].(map[string]any)["success"] != false ||
		!strings.Contains(toJSON(res[1]), "REQUIRED_FIELD_MISSING") {
		t.Fatalf("create = %d %v", status, body)
	}
	records := make([]any, 201)
	for i := range records {
		records[i] = map[string]any{"attributes": map[string]any{"type": "Product2"}, "Name": "x"}
	}
	if status, _, _ := r.do("POST", api+"/composite/sobjects", map[string]any{"records": records}); status != 400 {
		t.Fatalf("201 records = %d, want 400", status)
	}
	id := res[0].(map[string]any)["id"].(string)
	status, body, _ = r.do("DELETE", api+"/composite/sobjects?allOrNone=false&ids="+id+","+id, nil)
	if status != 200 || !strings.Contains(toJSON(body), "ENTITY_IS_DELETED") {
		t.Fatalf("delete twice = %d %v", status, body)
	}
}

func TestQueryRelationshipsAndRefusals(t *testing.T) {
	r := newREST(t, sftest.Org{})
	var records []any
	for i := range 150 {
		records = append(records, map[string]any{"attributes": map[string]any{"type": "Product2"}, "Name": "p", "Qwoty__Ref__c": "qwoty:product:" + strings.Repeat("x", i+1)})
	}
	for i := 0; i < len(records); i += 50 {
		if status, body, _ := r.do("POST", api+"/composite/sobjects", map[string]any{"records": records[i : i+50]}); status != 200 {
			t.Fatalf("%d %v", status, body)
		}
	}
	std := r.srv.StandardPricebook(sftest.DefaultOrgID)
	p := r.srv.Records(sftest.DefaultOrgID, "Product2", "", "")[0]
	if _, err := r.srv.Insert(sftest.DefaultOrgID, "PricebookEntry", map[string]any{"Pricebook2Id": std, "Product2Id": p.String("Id"), "UnitPrice": 1, "IsActive": true}); err != nil {
		t.Fatal(err)
	}
	rows := r.query("SELECT Id, Product2.Qwoty__Ref__c FROM PricebookEntry WHERE Product2.Qwoty__Ref__c IN ('qwoty:product:x', 'other') AND IsActive = true")
	if len(rows) != 1 || rows[0].(map[string]any)["Product2"].(map[string]any)["Qwoty__Ref__c"] != "qwoty:product:x" {
		t.Fatalf("rows %v", rows)
	}
	status, body, _ := r.do("GET", api+"/query/?q="+url.QueryEscape("SELECT Id FROM Product2 WHERE Name = 'it''s'"), nil)
	if status != 400 || !strings.Contains(toJSON(body), "MALFORMED_QUERY") {
		t.Fatalf("a query outside SOQL = %d %v", status, body)
	}
	status, body, _ = r.do("GET", api+"/query/?q="+url.QueryEscape("SELECT Id, Nope__c FROM Product2"), nil)
	if status != 400 || !strings.Contains(toJSON(body), "INVALID_FIELD") {
		t.Fatalf("an unknown field = %d %v", status, body)
	}
}

// A query of more rows than a page answers 2,000 and a nextRecordsUrl.
func TestQueryPages(t *testing.T) {
	r := newREST(t, sftest.Org{})
	for i := 0; i < 2001; i += 200 {
		var records []any
		for j := i; j < min(i+200, 2001); j++ {
			records = append(records, map[string]any{"attributes": map[string]any{"type": "Product2"}, "Name": "p"})
		}
		if status, body, _ := r.do("POST", api+"/composite/sobjects", map[string]any{"records": records}); status != 200 {
			t.Fatalf("%d %v", status, body)
		}
	}
	_, body, _ := r.do("GET", api+"/query/?q="+url.QueryEscape("SELECT Id FROM Product2"), nil)
	page := body.(map[string]any)
	next, _ := page["nextRecordsUrl"].(string)
	if page["done"] != false || len(page["records"].([]any)) != 2000 || next == "" || string(page["totalSize"].(json.Number)) != "2001" {
		t.Fatalf("first page: done %v, %d rows, next %q", page["done"], len(page["records"].([]any)), next)
	}
	_, body, _ = r.do("GET", next, nil)
	page = body.(map[string]any)
	if page["done"] != true || len(page["records"].([]any)) != 1 {
		t.Fatalf("second page: %v", page)
	}
	if status, _, _ := r.do("GET", next, nil); status != 400 {
		t.Fatalf("a locator read twice = %d, want 400", status)
	}
}

// An org may start with opportunities of given ids (the playground's).
func TestSeededOpportunity(t *testing.T) {
	r := newREST(t, sftest.Org{Opportunities: []sftest.Opportunity{{ID: "006000000000001AAA", Name: "Acme - 200 licences"}}})
	rows := r.query("SELECT Id, Name, StageName FROM Opportunity WHERE Id = '006000000000001'")
	if len(rows) != 1 || rows[0].(map[string]any)["Name"] != "Acme - 200 licences" {
		t.Fatalf("rows %v", rows)
	}
	if _, err := sftest.Start(sftest.Options{Orgs: []sftest.Org{{ID: sftest.DefaultOrgID, Users: []sftest.User{{ID: sftest.DefaultAdminID}},
		Opportunities: []sftest.Opportunity{{ID: "001000000000001AAA"}}}}}); err == nil {
		t.Fatal("an account id was taken for an opportunity's")
	}
}
