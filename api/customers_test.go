package api

import (
	"context"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/qwoty/companion/qwoty"
)

// Customers upsert by CRM account id and contacts by email: idempotent
// (the same call again changes nothing, not even updatedAt), fields left
// out kept; found again by id, email, external reference.
func TestCustomersAndContacts(t *testing.T) {
	e := newEnv(t)
	k := e.all(e.a1)
	var c, c2 Customer
	r := e.do(k, "PUT", "/customers", map[string]any{"crmAccountId": "acct-1", "name": "Acme", "email": "Billing@Acme.example",
		"city": "Lyon", "externalRef": "erp:customer:C-1"})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	r.decode(t, &c)
	r = e.do(k, "PUT", "/customers", map[string]any{"crmAccountId": "acct-1", "name": "Acme", "city": "Lyon"})
	r.decode(t, &c2)
	if r.Status != 200 || c2.UpdatedAt != c.UpdatedAt || c2.ExternalRef != "erp:customer:C-1" || c2.Email != "Billing@Acme.example" {
		t.Fatalf("the same upsert again: %d %+v, want 200 and nothing changed (%+v)", r.Status, c2, c)
	}
	e.do(k, "PUT", "/customers", map[string]any{"crmAccountId": "acct-1", "name": "Acme SA"}).decode(t, &c2)
	if c2.Name != "Acme SA" || c2.Address.City != "Lyon" || !c2.UpdatedAt.After(c.UpdatedAt) || c2.ID != c.ID {
		t.Fatalf("rename: %+v", c2)
	}
	var page struct {
		Data []Customer `json:"data"`
		Page
	}
	e.do(k, "GET", "/customers?externalRef=erp:customer:C-1", nil).decode(t, &page)
	if len(page.Data) != 1 || page.Data[0].ID != c.ID {
		t.Fatalf("by external ref: %+v", page)
	}
	page.Data = nil
	e.do(k, "GET", "/customers?email=billing@acme.example", nil).decode(t, &page)
	if len(page.Data) != 1 {
		t.Fatalf("by email: %+v", page)
	}
	if r := e.do(k, "PUT", "/customers", map[string]any{"crmAccountId": "acct-2", "email": "nope"}); r.Status != 422 || r.code() != qwoty.CodeValidation {
		t.Fatalf("bad email: %d %s", r.Status, r.Body)
	}
	if r := e.do(k, "PUT", "/customers", map[string]any{"crmAccountId": "acct-2", "name": "nul\u0000"}); r.Status != 422 {
		t.Fatalf("a NUL in a name: %d %s", r.Status, r.Body)
	}

	// Contacts, by email (any case), linked to the customer.
	var ct, ct2 Contact
	r = e.do(k, "PUT", "/contacts", map[string]any{"email": "Jane@Acme.example", "name": "Jane", "customerId": c.ID})
	if r.Status != 201 {
		t.Fatalf("contact: %d %s", r.Status, r.Body)
	}
	r.decode(t, &ct)
	if ct.Email != "jane@acme.example" || ct.CustomerID != c.ID {
		t.Fatalf("contact: %+v", ct)
	}
	r = e.do(k, "PUT", "/contacts", map[string]any{"email": "jane@acme.example", "name": "Jane"})
	r.decode(t, &ct2)
	if r.Status != 200 || ct2.UpdatedAt != ct.UpdatedAt || ct2.CustomerID != c.ID {
		t.Fatalf("the same contact again: %d %+v, want nothing changed", r.Status, ct2)
	}
	e.do(k, "PUT", "/contacts", map[string]any{"email": "jane@acme.example", "phone": "+33 1", "externalRef": "crm2:person:9"}).decode(t, &ct2)
	if ct2.Phone != "+33 1" || ct2.Name != "Jane" || ct2.ExternalRef != "crm2:person:9" {
		t.Fatalf("phone added: %+v", ct2)
	}
	var cpage struct {
		Data []Contact `json:"data"`
		Page
	}
	e.do(k, "GET", "/contacts?email=JANE@acme.example", nil).decode(t, &cpage)
	if len(cpage.Data) != 1 || cpage.Data[0].Phone != "+33 1" {
		t.Fatalf("GET /contacts?email=: %+v", cpage)
	}
	cpage.Data = nil
	e.do(k, "GET", "/contacts?email=nobody@acme.example", nil).decode(t, &cpage)
	if len(cpage.Data) != 0 {
		t.Fatalf("unknown email: %+v", cpage)
	}
	if r := e.do(k, "PUT", "/contacts", map[string]any{"email": "x@acme.example", "customerId": "00000000-0000-4000-8000-000000000000"}); r.Status != 422 {
		t.Fatalf("unknown customer: %d %s", r.Status, r.Body)
	}
	// Pages of contacts.
	for _, m := range []string{"a@x.example", "b@x.example", "c@x.example"} {
		e.do(k, "PUT", "/contacts", map[string]any{"email": m})
	}
	var all []string
	cursor := ""
	for range 10 {
		cpage = struct {
			Data []Contact `json:"data"`
			Page
		}{}
		e.do(k, "GET", "/contacts?limit=2&cursor="+cursor, nil).decode(t, &cpage)
		for _, x := range cpage.Data {
			all = append(all, x.Email)
		}
		if !cpage.HasMore {
			break
		}
		cursor = cpage.NextCursor
	}
	if len(all) != 4 {
		t.Fatalf("contacts paged: %v, want 4", all)
	}
}

// Catalogue items: created with prices, read, changed, listed by pages;
// an id that exists is refused on create.
func TestCatalogItems(t *testing.T) {
	e := newEnv(t)
	k := e.all(e.a1)
	var it CatalogItem
	r := e.do(k, "POST", "/catalog/items", map[string]any{"sku": "W-1", "name": "Widget", "externalRef": "erp:item:W1",
		"prices": []map[string]any{{"currency": "EUR", "unitPrice": "10.5"}, {"currency": "JPY", "unitPrice": "1500"}}})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	r.decode(t, &it)
	if it.ID == "" || len(it.Prices) != 2 || it.Prices[0].UnitPrice != "10.50" || it.Prices[1].UnitPrice != "1500" || !it.Active {
		t.Fatalf("created: %+v", it)
	}
	if r := e.do(k, "POST", "/catalog/items", map[string]any{"id": it.ID, "name": "Again"}); r.Status != 422 {
		t.Fatalf("an id that exists: %d %s", r.Status, r.Body)
	}
	e.do(k, "PATCH", "/catalog/items/"+it.ID, map[string]any{"active": false,
		"prices": []map[string]any{{"currency": "EUR", "unitPrice": "11"}}}).decode(t, &it)
	if it.Active || it.Prices[0].UnitPrice != "11.00" || it.Name != "Widget" || len(it.Prices) != 2 {
		t.Fatalf("changed: %+v", it)
	}
	if r := e.do(k, "PATCH", "/catalog/items/nope", map[string]any{"name": "x"}); r.Status != 404 {
		t.Fatalf("unknown item: %d %s", r.Status, r.Body)
	}
	if r := e.do(k, "POST", "/catalog/items", map[string]any{"prices": []map[string]any{{"currency": "EUR", "unitPrice": "1"}, {"currency": "EUR", "unitPrice": "2"}}}); r.Status != 422 {
		t.Fatalf("a currency twice: %d %s", r.Status, r.Body)
	}
	// An item made here goes on a quote line by its id.
	var q Quote
	e.do(k, "POST", "/quotes", map[string]any{"crmRecordId": "d", "lines": []map[string]any{{"productId": it.ID, "sku": "W-1", "unitPrice": "11"}}}).decode(t, &q)
	if q.Lines[0].ProductID != it.ID {
		t.Fatalf("line from the catalogue: %+v", q.Lines)
	}
	if r := e.do(k, "POST", "/quotes", map[string]any{"crmRecordId": "d", "lines": []map[string]any{{"productId": "not-ours", "sku": "Z"}}}); r.Status != 422 {
		t.Fatalf("a product not in the catalogue: %d %s", r.Status, r.Body)
	}
	for i := range 4 {
		e.do(k, "POST", "/catalog/items", map[string]any{"id": "p" + string(rune('a'+i)), "name": "P"})
	}
	var ids []string
	cursor := ""
	for range 10 {
		var page struct {
			Data []CatalogItem `json:"data"`
			Page
		}
		e.do(k, "GET", "/catalog/items?limit=2&cursor="+cursor, nil).decode(t, &page)
		for _, x := range page.Data {
			ids = append(ids, x.ID)
		}
		if !page.HasMore {
			break
		}
		cursor = page.NextCursor
	}
	if len(ids) != 5 {
		t.Fatalf("items paged: %v, want 5", ids)
	}
}

// The organization says how Qwoty prices.
func TestOrganization(t *testing.T) {
	e := newEnv(t)
	k := e.key(e.a1, qwoty.ScopeQuotesRead)
	var o Organization
	e.do(k, "GET", "/organization", nil).decode(t, &o)
	if o.Name != "Acme" || o.CRM.Provider != "hubspot" || o.CRM.AccountID != "1001" || o.DefaultCurrency != "USD" ||
		o.Rounding.Mode != "half_away_from_zero" || o.Rounding.CurrencyExceptions["JPY"] != 0 || o.Rounding.CurrencyExceptions["KWD"] != 3 ||
		o.Tax.Mode != "exclusive" || o.Locale != nil || o.Rounding.Policy != "line-half-up" {
		t.Fatalf("organization: %+v", o)
	}
	// The workspace's rounding policy, as its new quotes take it.
	if err := e.db.SetRounding(context.Background(), e.a1.WorkspaceID, qwoty.RoundDocumentHalfEven, "admin"); err != nil {
		t.Fatal(err)
	}
	e.do(k, "GET", "/organization", nil).decode(t, &o)
	if o.Rounding.Policy != "document-half-even" || o.Rounding.Mode != "half_even" || !strings.Contains(o.Rounding.Applies, "rounded once") {
		t.Fatalf("organization's rounding: %+v", o.Rounding)
	}
}

// The 3.0 copy of the document is served for tools that read only 3.0,
// and loads as valid OpenAPI 3.0.
func TestOpenAPI30Copy(t *testing.T) {
	e := newEnv(t)
	w := serve(e, "", "/openapi-3.0.json")
	if w.Code != 200 {
		t.Fatalf("openapi-3.0.json: %d", w.Code)
	}
	doc, err := openapi3.NewLoader().LoadFromData(w.Body.Bytes())
	if err != nil || !strings.HasPrefix(doc.OpenAPI, "3.0") {
		t.Fatalf("3.0 copy: %v (version %q)", err, doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("3.0 copy is not valid: %v", err)
	}
}
