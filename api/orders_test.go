package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// acceptedOrder makes, with token (quotes:write and orders:read at
// least), a quote of two lines on record, sends it and accepts it, and
// returns the order accepting generated.
func (e *env) acceptedOrder(token, record string) Order {
	e.t.Helper()
	var q Quote
	e.do(token, "POST", "/quotes", map[string]any{"crmRecordId": record, "currency": "EUR", "taxRate": "20",
		"lines": []map[string]any{{"sku": "W-1", "description": "Widget", "quantity": "3", "unitPrice": "10.50"},
			{"description": "Setup", "unitPrice": "100", "discountPercent": "10"}}}).decode(e.t, &q)
	e.do(token, "POST", "/quotes/"+q.ID+"/status", map[string]any{"status": "sent"}).decode(e.t, &q)
	e.do(token, "POST", "/quotes/"+q.ID+"/status", map[string]any{"status": "accepted"}).decode(e.t, &q)
	var page struct {
		Data []Order `json:"data"`
	}
	e.do(token, "GET", "/orders?quoteId="+q.ID, nil).decode(e.t, &page)
	if len(page.Data) != 1 {
		e.t.Fatalf("quote %s accepted: %d orders, want 1", q.Number, len(page.Data))
	}
	return page.Data[0]
}

// Orders through the API: the accepted quote's order is listed and read
// with its lines and totals (the accepted revision's), filtered, paged;
// its status moves once, with the version check; a second acceptance of
// the same quote makes no second order.
func TestOrders(t *testing.T) {
	e := newEnv(t)
	tok := e.all(e.a1)
	o := e.acceptedOrder(tok, "deal-1")
	if o.Status != "open" || o.Origin != "qwoty" || o.Version != 1 || !strings.HasPrefix(o.Number, "O-") || o.QuoteNumber == "" ||
		o.Revision != 1 || o.CRMRecordID != "deal-1" || o.Lines != nil || o.Links.Quote != Base+"/quotes/"+o.QuoteID {
		t.Fatalf("listed order: %+v", o)
	}
	// 3 × 10.50 + 100 − 10 = 121.50; tax 20 % = 24.30.
	if o.Totals.Subtotal != "131.50" || o.Totals.Discount != "10.00" || o.Totals.Tax != "24.30" || o.Totals.Total != "145.80" || o.Currency != "EUR" {
		t.Fatalf("order totals: %+v", o.Totals)
	}
	var got Order
	e.do(tok, "GET", "/orders/"+o.ID, nil).decode(t, &got)
	if len(got.Lines) != 2 || got.LineCount != 2 || got.Lines[0].SKU != "W-1" || got.Lines[0].Quantity != "3" || got.Lines[0].UnitPrice != "10.50" ||
		got.Lines[1].Net != "90.00" || got.Lines[1].DiscountPercent != "10" {
		t.Fatalf("order with lines: %+v", got)
	}

	// Filters and pages.
	o2 := e.acceptedOrder(tok, "deal-2")
	o3 := e.acceptedOrder(tok, "deal-2")
	list := func(q string) []string {
		t.Helper()
		var page struct {
			Data       []Order `json:"data"`
			HasMore    bool    `json:"hasMore"`
			NextCursor string  `json:"nextCursor"`
		}
		e.do(tok, "GET", "/orders"+q, nil).decode(t, &page)
		var out []string
		for _, x := range page.Data {
			out = append(out, x.Number)
		}
		if page.HasMore {
			out = append(out, "more:"+page.NextCursor)
		}
		return out
	}
	if got := list("?crmRecordId=deal-2"); strings.Join(got, ",") != o2.Number+","+o3.Number {
		t.Errorf("crmRecordId=deal-2: %v", got)
	}
	if got := list("?quoteId=" + o.QuoteID); len(got) != 1 || got[0] != o.Number {
		t.Errorf("quoteId: %v", got)
	}
	first := list("?limit=2")
	if len(first) != 3 || first[0] != o.Number || !strings.HasPrefix(first[2], "more:") {
		t.Fatalf("first page of 2: %v", first)
	}
	if rest := list("?limit=2&cursor=" + strings.TrimPrefix(first[2], "more:")); len(rest) != 1 || rest[0] != o3.Number {
		t.Errorf("second page: %v", rest)
	}
	if res := e.do(tok, "GET", "/orders?cursor="+encodeCursor(cursorQuotesCreated, time.Now(), o.ID), nil); res.Status != 422 || res.code() != qwoty.CodeValidation {
		t.Errorf("a quotes cursor: %d %s", res.Status, res.Body)
	}
	later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if got := list("?createdAfter=" + later); len(got) != 0 {
		t.Errorf("createdAfter the future: %v", got)
	}
	if got := list("?createdBefore=" + later + "&status=open"); len(got) != 3 {
		t.Errorf("createdBefore the future, open: %v", got)
	}

	// The status: a stale version is refused, then fulfilled; final.
	if res := e.do(tok, "POST", "/orders/"+o.ID+"/status", map[string]any{"status": "fulfilled", "version": 7}); res.Status != 409 || res.code() != qwoty.CodeVersionConflict {
		t.Fatalf("stale version: %d %s", res.Status, res.Body)
	}
	var moved Order
	e.do(tok, "POST", "/orders/"+o.ID+"/status", map[string]any{"status": "fulfilled", "version": 1}).decode(t, &moved)
	if moved.Status != "fulfilled" || moved.Version != 2 || len(moved.Lines) != 2 {
		t.Fatalf("fulfilled: %+v", moved)
	}
	if res := e.do(tok, "POST", "/orders/"+o.ID+"/status", map[string]any{"status": "cancelled"}); res.Status != 409 || res.code() != qwoty.CodeInvalidTransition {
		t.Fatalf("fulfilled → cancelled: %d %s", res.Status, res.Body)
	}
	if res := e.doInvalid(tok, "POST", "/orders/"+o.ID+"/status", map[string]any{"status": "open"}); res.Status != 422 {
		t.Fatalf("status open: %d %s", res.Status, res.Body)
	}
	if got := list("?status=fulfilled"); len(got) != 1 || got[0] != o.Number {
		t.Errorf("status=fulfilled: %v", got)
	}
	// Idempotent with a key: the replay answers the first move.
	var c1, c2 Order
	e.do(tok, "POST", "/orders/"+o2.ID+"/status", map[string]any{"status": "cancelled"}, "Idempotency-Key", "cancel-o2").decode(t, &c1)
	res := e.do(tok, "POST", "/orders/"+o2.ID+"/status", map[string]any{"status": "cancelled"}, "Idempotency-Key", "cancel-o2")
	res.decode(t, &c2)
	if c1.Status != "cancelled" || c2.Version != c1.Version || res.Header.Get(ReplayedHeader) != "true" {
		t.Errorf("idempotent cancel: %+v then %+v (%v)", c1, c2, res.Header)
	}

	// Not found: an unknown id, a malformed one.
	for _, id := range []string{"00000000-0000-4000-8000-000000000000", "nope"} {
		if res := e.do(tok, "GET", "/orders/"+id, nil); res.Status != 404 || res.code() != qwoty.CodeNotFound {
			t.Errorf("GET /orders/%s: %d %s", id, res.Status, res.Body)
		}
	}
}

// An order the CRM made is read-only through the API: 409
// order_read_only, and nothing changes.
func TestCRMOrderIsReadOnly(t *testing.T) {
	e := newEnv(t)
	tok := e.all(e.a1)
	o := e.acceptedOrder(tok, "deal-1")
	if _, err := storetest.Pool(t, e.db).Exec(context.Background(), `UPDATE orders SET origin = 'crm', crm_order_id = '801000000000001' WHERE id = $1`, o.ID); err != nil {
		t.Fatal(err)
	}
	res := e.do(tok, "POST", "/orders/"+o.ID+"/status", map[string]any{"status": "cancelled"})
	if res.Status != http.StatusConflict || res.code() != qwoty.CodeOrderReadOnly {
		t.Fatalf("a CRM order's status: %d %s; want 409 order_read_only", res.Status, res.Body)
	}
	var got Order
	e.do(tok, "GET", "/orders/"+o.ID, nil).decode(t, &got)
	if got.Status != "open" || got.Origin != "crm" || got.CRMOrderID != "801000000000001" || got.Version != 1 {
		t.Fatalf("after the refusal: %+v", got)
	}
}

// Another workspace's order, and the workspace's other CRM account's, are
// not found for a key, and not listed; a key without orders:write cannot
// move one.
func TestOrdersIsolation(t *testing.T) {
	e := newEnv(t)
	mine := e.all(e.a1)
	for _, other := range []*qwoty.Connection{e.b, e.a2} {
		theirs := e.acceptedOrder(e.all(other), "deal-1")
		for _, r := range []struct {
			method, path string
			body         any
		}{{"GET", "/orders/" + theirs.ID, nil}, {"POST", "/orders/" + theirs.ID + "/status", map[string]any{"status": "cancelled"}}} {
			if res := e.do(mine, r.method, r.path, r.body); res.Status != 404 || res.code() != qwoty.CodeNotFound {
				t.Errorf("%s %s of %s: %d %s; want 404", r.method, r.path, other.ExternalID, res.Status, res.Body)
			}
		}
		for _, q := range []string{"", "?crmRecordId=deal-1", "?quoteId=" + theirs.QuoteID} {
			var page struct {
				Data []Order `json:"data"`
			}
			e.do(mine, "GET", "/orders"+q, nil).decode(t, &page)
			if len(page.Data) != 0 {
				t.Errorf("GET /orders%s lists %s's %+v", q, other.ExternalID, page.Data)
			}
		}
	}
	o := e.acceptedOrder(mine, "deal-9")
	read := e.key(e.a1, qwoty.ScopeOrdersRead, qwoty.ScopeQuotesWrite)
	if res := e.do(read, "POST", "/orders/"+o.ID+"/status", map[string]any{"status": "fulfilled"}); res.Status != 403 || res.code() != qwoty.CodeScopeMissing {
		t.Errorf("orders:read moves an order: %d %s", res.Status, res.Body)
	}
	if res := e.do(e.key(e.a1, qwoty.ScopeQuotesRead), "GET", "/orders", nil); res.Status != 403 || res.code() != qwoty.CodeScopeMissing {
		t.Errorf("quotes:read lists orders: %d %s", res.Status, res.Body)
	}
}

// order.created and order.updated go to the subscriptions that asked for
// them, with the order's data: accepting a quote, then fulfilling its
// order.
func TestOrderWebhookEvents(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	tok := e.all(e.a1)
	var sub struct {
		ID string `json:"id"`
	}
	e.do(tok, "POST", "/webhooks/subscriptions", map[string]any{"url": "https://hooks.example/orders",
		"eventTypes": []string{"order.created", "order.updated"}}).decode(t, &sub)
	o := e.acceptedOrder(tok, "deal-1")
	e.do(tok, "POST", "/orders/"+o.ID+"/status", map[string]any{"status": "fulfilled"}).decode(t, &o)

	var page struct {
		Data []Delivery `json:"data"`
	}
	e.do(tok, "GET", "/webhooks/deliveries?subscriptionId="+sub.ID, nil).decode(t, &page)
	types := map[qwoty.EventType]int{}
	for _, d := range page.Data {
		types[d.EventType]++
	}
	if len(page.Data) != 2 || types[qwoty.EventOrderCreated] != 1 || types[qwoty.EventOrderUpdated] != 1 {
		t.Fatalf("deliveries: %+v; want one order.created and one order.updated, no quote event", page.Data)
	}
	// The payloads as they are sent: the order's number, status, totals.
	rows, err := storetest.Pool(t, e.db).Query(ctx, `SELECT e.type, e.payload FROM event_deliveries d JOIN webhook_events e ON e.id = d.event_id
		WHERE d.subscription_id = $1 ORDER BY e.created_at, e.type`, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var seen []string
	for rows.Next() {
		var typ string
		var raw []byte
		if err := rows.Scan(&typ, &raw); err != nil {
			t.Fatal(err)
		}
		var body struct {
			Data store.OrderEventData `json:"data"`
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatal(err)
		}
		d := body.Data
		if d.ID != o.ID || d.Number != o.Number || d.QuoteID != o.QuoteID || d.Total != "145.8" && d.Total != "145.80" {
			t.Errorf("%s data: %+v", typ, d)
		}
		seen = append(seen, typ+":"+string(d.Status))
	}
	if strings.Join(seen, ",") != "order.created:open,order.updated:fulfilled" {
		t.Errorf("events: %v", seen)
	}
}
