package webhooks_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/webhooks"
)

// An accepted quote's order.created and its order's order.updated reach
// the subscription that asked for them, signed, with the order's data; a
// subscription's status filter is about quotes: order events pass it.
func TestOrderEventsAreDeliveredSigned(t *testing.T) {
	e := newEnv(t, webhooks.Options{Policy: webhooks.Policy{Development: true}})
	r := newReceiver(t)
	_, secret := e.subscribe(t, r.srv.URL+"/orders", qwoty.WebhookFilter{EventTypes: []qwoty.EventType{
		qwoty.EventOrderCreated, qwoty.EventOrderUpdated}, Statuses: []qwoty.Status{qwoty.StatusDraft}})
	r.secrets = []string{secret}

	q := e.Quote(record, crmsynctest.Line{SKU: "A-1", Quantity: 2, Price: "10"})
	q = e.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
	q = e.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusAccepted) })
	o, err := e.DB.QuoteOrder(ctx, e.Scope(record), q.ID)
	if err != nil || o == nil {
		t.Fatalf("the accepted quote's order: %v %v", o, err)
	}
	if _, err := e.DB.SetOrderStatus(ctx, e.Conn.WorkspaceID, e.Conn.ID, o.ID, o.Version, qwoty.OrderFulfilled, "ops@acme.example"); err != nil {
		t.Fatal(err)
	}
	e.WaitFor("two deliveries", 10*time.Second, func() bool { return len(r.requests()) >= 2 })
	time.Sleep(300 * time.Millisecond) // room for a wrong third
	got := r.requests()
	if len(got) != 2 {
		t.Fatalf("the receiver got %d requests, want 2 (order.created, order.updated)", len(got))
	}
	var seen []string
	for _, g := range got {
		if len(g.Verified) != 1 || !g.Verified[0] {
			t.Fatalf("delivery %s does not verify with the subscription's secret", g.ID)
		}
		var b struct {
			Type qwoty.EventType      `json:"type"`
			Data store.OrderEventData `json:"data"`
		}
		if err := json.Unmarshal(g.Body, &b); err != nil {
			t.Fatalf("body %s: %v", g.Body, err)
		}
		if b.Data.ID != o.ID || b.Data.Number != o.Number || b.Data.QuoteID != q.ID || b.Data.CRMRecordID != record || b.Data.Currency != "EUR" {
			t.Fatalf("%s: %s; want order %s of quote %s", b.Type, g.Body, o.Number, q.Number)
		}
		seen = append(seen, string(b.Type)+":"+string(b.Data.Status))
	}
	if len(seen) != 2 || !(seen[0] == "order.created:open" && seen[1] == "order.updated:fulfilled" ||
		seen[1] == "order.created:open" && seen[0] == "order.updated:fulfilled") {
		t.Fatalf("deliveries %v; want order.created (open) and order.updated (fulfilled)", seen)
	}
}
