package api

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store/storetest"
)

// A quote is made with its lines in one call, read back with its totals
// and lines, its lines replaced while it is a draft, moved along its
// lifecycle, and refused what the lifecycle forbids, each with its code.
func TestQuoteLifecycle(t *testing.T) {
	e := newEnv(t)
	k := e.all(e.a1)
	r := e.do(k, "POST", "/quotes", map[string]any{"crmRecordId": "deal-1", "currency": "EUR", "taxRate": "20",
		"externalRef": "erp:order:SO-1",
		"lines": []map[string]any{{"sku": "A", "description": "Widget", "quantity": "3", "unitPrice": "10.50"},
			{"description": "Setup", "unitPrice": "100", "discountPercent": "10"}}})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var q Quote
	r.decode(t, &q)
	if q.Totals.Subtotal != "131.50" || q.Totals.Discount != "10.00" || q.Totals.Tax != "24.30" || q.Totals.Total != "145.80" ||
		len(q.Lines) != 2 || q.Status != "draft" || q.Version != 1 || q.ExternalRef != "erp:order:SO-1" ||
		q.Lines[0].UnitPrice != "10.50" || q.Lines[1].Quantity != "1" || q.CreatedBy != "api-key:ERP sync" {
		t.Fatalf("created quote: %+v", q)
	}
	if r.Header.Get("Location") != Base+"/quotes/"+q.ID {
		t.Errorf("Location = %q, want %s", r.Header.Get("Location"), Base+"/quotes/"+q.ID)
	}
	var got Quote
	e.do(k, "GET", "/quotes/"+q.ID, nil).decode(t, &got)
	if got.ID != q.ID || got.Totals != q.Totals || len(got.Lines) != 2 || got.Sync.State == "" || got.Links.Self != Base+"/quotes/"+q.ID {
		t.Fatalf("get: %+v, want the quote created %+v", got, q)
	}

	// Replace the lines: a stale version is refused, the current one
	// replaces them all and recomputes the totals.
	lines := map[string]any{"version": 7, "lines": []map[string]any{{"sku": "B", "quantity": "2", "unitPrice": "5"}}}
	if r := e.do(k, "PUT", "/quotes/"+q.ID+"/lines", lines); r.Status != 409 || r.code() != qwoty.CodeVersionConflict {
		t.Fatalf("stale version: %d %s, want 409 version_conflict", r.Status, r.Body)
	}
	lines["version"] = 1
	e.do(k, "PUT", "/quotes/"+q.ID+"/lines", lines).decode(t, &got)
	if len(got.Lines) != 1 || got.Totals.Total != "12.00" || got.Version != 2 {
		t.Fatalf("lines replaced: %+v, want one line, total 12.00, version 2", got)
	}

	// Status moves go through the domain's lifecycle.
	if r := e.do(k, "POST", "/quotes/"+q.ID+"/status", map[string]any{"status": "accepted"}); r.Status != 409 || r.code() != qwoty.CodeInvalidTransition {
		t.Fatalf("draft → accepted: %d %s, want 409 invalid_status_transition", r.Status, r.Body)
	}
	e.do(k, "POST", "/quotes/"+q.ID+"/status", map[string]any{"status": "sent", "version": 2}).decode(t, &got)
	if got.Status != "sent" || got.Version != 3 {
		t.Fatalf("sent: %+v", got)
	}
	// A sent quote's lines are locked (revise: true revises it first:
	// TestQuoteRevisions).
	if r := e.do(k, "PUT", "/quotes/"+q.ID+"/lines", map[string]any{"lines": []map[string]any{{"sku": "C"}}}); r.Status != 409 || r.code() != qwoty.CodeQuoteLocked ||
		!strings.Contains(string(r.Body), "Revise") {
		t.Fatalf("lines of a sent quote: %d %s, want 409 quote_locked saying to revise", r.Status, r.Body)
	}
	// Terms are locked too; the external reference is not.
	if r := e.do(k, "PATCH", "/quotes/"+q.ID, map[string]any{"title": "New"}); r.Status != 409 || r.code() != qwoty.CodeQuoteLocked {
		t.Fatalf("terms of a sent quote: %d %s", r.Status, r.Body)
	}
	e.do(k, "PATCH", "/quotes/"+q.ID, map[string]any{"externalRef": "erp:order:SO-1b"}).decode(t, &got)
	if got.ExternalRef != "erp:order:SO-1b" || got.Version != 3 {
		t.Fatalf("external ref of a sent quote: %+v, want it set without a new version", got)
	}
	if r := e.do(k, "PATCH", "/quotes/"+q.ID, map[string]any{"externalRef": "no colons"}); r.Status != 422 || r.code() != qwoty.CodeValidation {
		t.Fatalf("bad external ref: %d %s, want 422 validation_failed", r.Status, r.Body)
	}
	for _, st := range []string{"viewed", "accepted"} {
		e.do(k, "POST", "/quotes/"+q.ID+"/status", map[string]any{"status": st}).decode(t, &got)
		if got.Status != st {
			t.Fatalf("move to %s: %+v", st, got)
		}
	}
	if r := e.do(k, "POST", "/quotes/"+q.ID+"/status", map[string]any{"status": "draft"}); r.Status != 409 || r.code() != qwoty.CodeInvalidTransition {
		t.Fatalf("accepted → draft: %d %s, want 409 (final)", r.Status, r.Body)
	}
	// Sending an empty quote is refused by the domain.
	var empty Quote
	e.do(k, "POST", "/quotes", map[string]any{"crmRecordId": "deal-2"}).decode(t, &empty)
	if r := e.do(k, "POST", "/quotes/"+empty.ID+"/status", map[string]any{"status": "sent"}); r.Status != 422 {
		t.Fatalf("sending an empty quote: %d %s, want 422", r.Status, r.Body)
	}
	if r := e.do(k, "GET", "/quotes/00000000-0000-4000-8000-000000000000", nil); r.Status != 404 || r.code() != qwoty.CodeNotFound {
		t.Fatalf("unknown quote: %d %s", r.Status, r.Body)
	}
}

// A quote made without lines or terms takes its CRM record's: its name as
// title, its currency, its account as customer; without a pulled record,
// the organization's default currency.
func TestQuoteRecordDefaults(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pool := storetest.Pool(t, e.db)
	if _, err := pool.Exec(ctx, `INSERT INTO crm_deals (connection_id, crm_id, workspace_id, name, currency, account_crm_id, crm_modified)
		VALUES ($1, 'deal-9', $2, 'Acme renewal', 'gbp', 'acct-7', now())`, e.a1.ID, e.a1.WorkspaceID); err != nil {
		t.Fatal(err)
	}
	k := e.all(e.a1)
	var c Customer
	if r := e.do(k, "PUT", "/customers", map[string]any{"crmAccountId": "acct-7", "name": "Acme Ltd"}); r.Status != 201 {
		t.Fatalf("customer: %d %s", r.Status, r.Body)
	} else {
		r.decode(t, &c)
	}
	var q Quote
	e.do(k, "POST", "/quotes", map[string]any{"crmRecordId": "deal-9"}).decode(t, &q)
	if q.Title != "Acme renewal" || q.Currency != "GBP" || q.CustomerID != c.ID || len(q.Lines) != 0 || q.Totals.Total != "0.00" ||
		q.Links.Customer != Base+"/customers/"+c.ID {
		t.Fatalf("quote from the record's defaults: %+v (customer %s)", q, c.ID)
	}
	q = Quote{}
	e.do(k, "POST", "/quotes", map[string]any{"crmRecordId": "unknown", "title": "Mine"}).decode(t, &q)
	if q.Title != "Mine" || q.Currency != qwoty.DefaultCurrency || q.CustomerID != "" {
		t.Fatalf("quote on an unknown record: %+v", q)
	}
	// A customer of another CRM account is refused, not linked.
	kb := e.all(e.b)
	if r := e.do(kb, "POST", "/quotes", map[string]any{"crmRecordId": "deal-9", "customerId": c.ID}); r.Status != 422 || r.code() != qwoty.CodeValidation {
		t.Fatalf("another account's customer: %d %s", r.Status, r.Body)
	}
}

// The listing pages by keyset with an opaque cursor: every quote once, in
// creation order, whatever is created meanwhile; createdAfter and the
// other filters select; a page size out of bounds, or a cursor from
// elsewhere, is refused.
func TestQuoteListing(t *testing.T) {
	e := newEnv(t)
	k := e.all(e.a1)
	var ids []string
	var mid time.Time
	for i := range 7 {
		var q Quote
		body := map[string]any{"crmRecordId": fmt.Sprintf("deal-%d", i%2), "lines": []map[string]any{{"sku": "X", "unitPrice": "1"}}}
		if i == 3 {
			body["externalRef"] = "shop:order:3"
		}
		e.do(k, "POST", "/quotes", body).decode(t, &q)
		ids = append(ids, q.ID)
		if i == 3 {
			mid = q.CreatedAt
		}
	}
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("the listing does not end")
		}
		var page struct {
			Data []Quote `json:"data"`
			Page
		}
		path := "/quotes?limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		e.do(k, "GET", path, nil).decode(t, &page)
		for _, q := range page.Data {
			seen = append(seen, q.ID)
			if q.Lines != nil {
				t.Errorf("a listing shows no lines: %+v", q)
			}
		}
		if pages == 0 {
			// A quote made while paging comes at the end, never twice.
			var q Quote
			e.do(k, "POST", "/quotes", map[string]any{"crmRecordId": "deal-late"}).decode(t, &q)
			ids = append(ids, q.ID)
		}
		if !page.HasMore {
			if page.NextCursor != "" {
				t.Errorf("last page with a cursor %q", page.NextCursor)
			}
			break
		}
		cursor = page.NextCursor
	}
	if strings.Join(seen, ",") != strings.Join(ids, ",") {
		t.Fatalf("paged listing:\n%v\nwant every quote once, in creation order:\n%v", seen, ids)
	}
	count := func(query string) int {
		var page struct {
			Data []Quote `json:"data"`
		}
		e.do(k, "GET", "/quotes?"+query, nil).decode(t, &page)
		return len(page.Data)
	}
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"createdAfter=" + mid.Format(time.RFC3339Nano), 4},
		{"crmRecordId=deal-1", 3},
		{"externalRef=shop:order:3", 1},
		{"status=sent", 0},
		{"status=draft", 8},
		{"updatedAfter=" + mid.Format(time.RFC3339Nano), 4},
	} {
		if n := count(tc.query); n != tc.want {
			t.Errorf("?%s: %d quotes, want %d", tc.query, n, tc.want)
		}
	}
	if r := e.doInvalid(k, "GET", "/quotes?limit=201", nil); r.Status != 422 || r.code() != qwoty.CodeValidation {
		t.Errorf("limit 201: %d %s, want 422 validation_failed", r.Status, r.Body)
	}
	if r := e.do(k, "GET", "/quotes?cursor=bm9wZQ", nil); r.Status != 422 || r.code() != qwoty.CodeValidation {
		t.Errorf("a made-up cursor: %d %s, want 422", r.Status, r.Body)
	}
	other := encodeCursor(cursorCustomersCreated, time.Now(), ids[0])
	if r := e.do(k, "GET", "/quotes?cursor="+other, nil); r.Status != 422 {
		t.Errorf("another listing's cursor: %d %s, want 422", r.Status, r.Body)
	}
}

// The documented limits are the enforced ones: lines per quote, body size.
func TestQuoteLimits(t *testing.T) {
	e := newEnv(t)
	k := e.all(e.a1)
	lines := make([]map[string]any, MaxLines+1)
	for i := range lines {
		lines[i] = map[string]any{"sku": "L"}
	}
	if r := e.doInvalid(k, "POST", "/quotes", map[string]any{"crmRecordId": "d", "lines": lines}); r.Status != 422 || r.code() != qwoty.CodeValidation {
		t.Errorf("%d lines: %d %s, want 422", len(lines), r.Status, r.Body)
	}
	var q Quote
	e.do(k, "POST", "/quotes", map[string]any{"crmRecordId": "d", "lines": lines[:MaxLines]}).decode(t, &q)
	if len(q.Lines) != MaxLines {
		t.Errorf("a quote of %d lines: %d lines", MaxLines, len(q.Lines))
	}
	big := `{"crmRecordId":"d","title":"` + strings.Repeat("x", MaxBodyBytes) + `"}`
	for _, h := range [][]string{nil, {"Idempotency-Key", "big-1"}} {
		if r := e.doInvalid(k, "POST", "/quotes", big, h...); r.Status != 413 || r.code() != qwoty.CodePayloadTooLarge {
			t.Errorf("a body over %d bytes (headers %v): %d %.200s, want 413", MaxBodyBytes, h, r.Status, r.Body)
		}
	}
	if r := e.do(k, "POST", "/quotes", map[string]any{"crmRecordId": "d", "lines": []map[string]any{{"sku": "A", "unitPrice": "1.23456"}}}); r.Status != 422 {
		t.Errorf("a price of 5 decimals: %d %s, want 422", r.Status, r.Body)
	}
}
