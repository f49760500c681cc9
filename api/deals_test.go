package api

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Quotes made for a customer, without a CRM record (docs/deals.md): the
// customer is upserted by its reference before the CRM knows it, with its
// domain normalised; the quote is made for it without a record, listed
// with withoutRecord=true, and says where its deal stands (waiting,
// making, failed); neither a record nor a customer is 422
// record_or_customer.
func TestQuoteWithoutRecord(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	k := e.all(e.a1)

	// A customer the CRM does not have yet: keyed by its reference.
	var c, again Customer
	r := e.do(k, "PUT", "/customers", map[string]any{"name": "Globex", "externalRef": "erp:customer:7",
		"domain": "https://www.Globex.example/about"})
	if r.Status != 201 {
		t.Fatalf("a customer without crmAccountId: %d %s, want 201", r.Status, r.Body)
	}
	r.decode(t, &c)
	if c.CRMAccountID != "" || c.Domain != "globex.example" || c.ExternalRef != "erp:customer:7" {
		t.Fatalf("the new customer %+v, want no account, domain globex.example", c)
	}
	r = e.do(k, "PUT", "/customers", map[string]any{"externalRef": "erp:customer:7", "domain": "sales@globex.example", "phone": "+1 555"})
	r.decode(t, &again)
	if r.Status != 200 || again.ID != c.ID || again.Name != "Globex" || again.Phone != "+1 555" || again.Domain != "globex.example" {
		t.Fatalf("the same reference again: %d %+v, want customer %s changed (200)", r.Status, again, c.ID)
	}
	for _, body := range []map[string]any{{"name": "Nobody's"}, {"name": "Nobody's", "externalRef": ""}} {
		if r := e.do(k, "PUT", "/customers", body); r.Status != 422 || r.code() != qwoty.CodeValidation {
			t.Fatalf("neither crmAccountId nor externalRef (%v): %d %s, want 422 validation_failed", body, r.Status, r.Body)
		}
	}
	if r := e.do(k, "PUT", "/customers", map[string]any{"externalRef": "erp:customer:8", "domain": "not a domain"}); r.Status != 422 ||
		r.code() != qwoty.CodeValidation {
		t.Fatalf("a domain with spaces: %d %s, want 422 validation_failed", r.Status, r.Body)
	}

	// Neither a record nor a customer.
	if r := e.do(k, "POST", "/quotes", map[string]any{"title": "Whose?"}); r.Status != 422 || r.code() != qwoty.CodeRecordOrCustomer {
		t.Fatalf("no crmRecordId, no customerId: %d %s, want 422 %s", r.Status, r.Body, qwoty.CodeRecordOrCustomer)
	}
	// A customer of another connection is not one of this key's.
	var theirs Customer
	e.do(e.all(e.b), "PUT", "/customers", map[string]any{"externalRef": "erp:customer:7", "name": "Globex (B)"}).decode(t, &theirs)
	if r := e.do(k, "POST", "/quotes", map[string]any{"customerId": theirs.ID}); r.Status != 422 || r.code() != qwoty.CodeValidation ||
		!strings.Contains(string(r.Body), `"message":"customer`) {
		t.Fatalf("another workspace's customer: %d %s, want 422 validation_failed", r.Status, r.Body)
	}

	// A quote for the customer, without a record.
	var q Quote
	r = e.do(k, "POST", "/quotes", map[string]any{"customerId": c.ID, "currency": "EUR",
		"lines": []map[string]any{{"sku": "LIC", "quantity": "2", "unitPrice": "50"}}})
	if r.Status != 201 {
		t.Fatalf("create for a customer: %d %s", r.Status, r.Body)
	}
	r.decode(t, &q)
	if q.CRMRecordID != "" || q.CustomerID != c.ID || q.Title != "Globex" || q.Primary || q.Deal == nil || q.Deal.State != "waiting" {
		t.Fatalf("the quote for a customer: %+v (deal %+v), want no record, customer %s, title Globex, deal waiting", q, q.Deal, c.ID)
	}
	// A quote on a record says no deal state (null).
	var onRecord Quote
	e.do(k, "POST", "/quotes", map[string]any{"crmRecordId": "deal-9", "customerId": c.ID}).decode(t, &onRecord)
	if onRecord.Deal != nil || onRecord.CustomerID != c.ID {
		t.Fatalf("a quote on a record: deal %+v, customer %q; want null and %s", onRecord.Deal, onRecord.CustomerID, c.ID)
	}

	var page struct {
		Data []Quote `json:"data"`
		Page
	}
	e.do(k, "GET", "/quotes?withoutRecord=true", nil).decode(t, &page)
	if len(page.Data) != 1 || page.Data[0].ID != q.ID || page.Data[0].Deal == nil || page.Data[0].Deal.State != "waiting" {
		t.Fatalf("withoutRecord=true: %+v, want quote %s alone, waiting", page.Data, q.ID)
	}
	if r := e.do(k, "GET", "/quotes?withoutRecord=true&crmRecordId=deal-9", nil); r.Status != 422 {
		t.Fatalf("withoutRecord with crmRecordId: %d %s, want 422", r.Status, r.Body)
	}

	// Sent: its deal is being made (the CRM makes deals), then it fails.
	e.db.SetDealMaking(func(qwoty.Provider) bool { return true })
	e.do(k, "POST", "/quotes/"+q.ID+"/status", map[string]any{"status": "sent"}).decode(t, &q)
	if q.Deal == nil || q.Deal.State != "making" {
		t.Fatalf("sent: deal %+v, want making", q.Deal)
	}
	d, err := e.db.DealCreationOf(ctx, e.a1.ID, q.ID)
	if err != nil {
		t.Fatal(err)
	}
	if mine, _, err := e.db.ClaimDealCreation(ctx, d, time.Minute); err != nil || !mine {
		t.Fatalf("claim: %v %v", mine, err)
	}
	if err := e.db.RecordDeal(ctx, d, store.WriteResult{State: store.DealFailed, Code: qwoty.CodeSyncRejected,
		Message: "Company name is required"}); err != nil {
		t.Fatal(err)
	}
	e.do(k, "GET", "/quotes/"+q.ID, nil).decode(t, &q)
	if q.Deal == nil || q.Deal.State != "failed" || q.Deal.Error != "Company name is required" || q.Deal.Code != string(qwoty.CodeSyncRejected) {
		t.Fatalf("failed: deal %+v, want failed with the CRM's message", q.Deal)
	}
}
