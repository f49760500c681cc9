package crmsync_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Orders to the test CRM: an accepted quote's order written once, whatever
// the retries; its status following; nothing with the trigger off; a
// refusal failing the order alone.

const orderRoute = "POST /api/deals/{id}/orders"

func TestOrderPushedOnce(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	w.SendOrders()

	// 3 × 10.00 at 33.33% off is 20.00, which no unit price of 2
	// decimals times 3 makes: the CRM gets 2 × 6.67 and 1 × 6.66.
	q := w.Quote(deal, crmsynctest.Line{SKU: "LIC", Quantity: 3, Price: "49.90"},
		crmsynctest.Line{SKU: "SUP", Quantity: 3, Price: "10", DiscountPct: "33.33"})
	q, o := w.Accept(q)
	p := w.WaitOrderPush(o, store.OrderPushDone, qwoty.OrderOpen, 10*time.Second)
	orders := emu.Orders(deal)
	if len(orders) != 1 {
		t.Fatalf("%d orders on the deal, want 1", len(orders))
	}
	if mine, err := w.DB.RecordOrders(ctx, w.Scope(deal)); err != nil || len(mine) != 1 {
		t.Fatalf("orders in Qwoty: %+v, %v; want 1", mine, err)
	}
	got := orders[0]
	if got.ID != p.CRMOrderID || got.Number != o.Number || got.QuoteNumber != q.Number || got.Status != "open" ||
		got.Currency != q.Currency || got.Total != q.Totals.Total.StringFixed(2) {
		t.Fatalf("the CRM's order %+v; push %+v; quote total %s", got, p, q.Totals.Total)
	}
	sum := decimal.Zero
	for _, l := range got.Lines {
		sum = sum.Add(decimal.RequireFromString(l.Net))
	}
	if len(got.Lines) != 3 || !sum.Equal(q.Totals.Subtotal.Sub(q.Totals.Discount)) {
		t.Fatalf("lines %+v add up to %s, want %s", got.Lines, sum, q.Totals.Subtotal.Sub(q.Totals.Discount))
	}
	if o2, _ := w.DB.QuoteOrder(ctx, w.Scope(deal), q.ID); o2.CRMOrderID != got.ID {
		t.Fatalf("the order's CRM id %q, want %q", o2.CRMOrderID, got.ID)
	}
	log := w.OrderLog()
	if len(log) != 1 || log[0].Outcome != store.SyncedOutcome || log[0].CRMID != got.ID || !strings.Contains(string(log[0].Written), `"created"`) {
		t.Fatalf("sync log: %+v", log)
	}

	// Fulfilled in Qwoty: the CRM's order follows, still one.
	if _, err := w.DB.SetOrderStatus(ctx, w.Admin.WorkspaceID, w.Conn.ID, o.ID, 0, qwoty.OrderFulfilled, "u1"); err != nil {
		t.Fatal(err)
	}
	w.WaitOrderPush(o, store.OrderPushDone, qwoty.OrderFulfilled, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if orders = emu.Orders(deal); len(orders) != 1 || orders[0].Status != "fulfilled" || orders[0].Updates != 1 {
		t.Fatalf("orders after fulfilment: %+v", orders)
	}
	if log = w.OrderLog(); len(log) != 2 || !strings.Contains(string(log[0].Written), `"updated"`) {
		t.Fatalf("sync log: %+v", log)
	}
}

// The CRM makes the order and the answer is lost (the crash between the
// CRM's commit and our record of it): the retry finds the order by its
// number and adopts it rather than making a second.
func TestOrderLostAnswerAdopts(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	w.SendOrders()
	if err := emu.Inject(emulator.Fault{Route: orderRoute, Times: 1, Drop: true}); err != nil {
		t.Fatal(err)
	}
	_, o := w.Accept(w.Quote(deal, crmsynctest.Line{SKU: "LIC", Quantity: 3, Price: "49.90"}))
	p := w.WaitOrderPush(o, store.OrderPushDone, qwoty.OrderOpen, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	orders := emu.Orders(deal)
	if len(orders) != 1 || orders[0].ID != p.CRMOrderID {
		t.Fatalf("orders on the deal: %+v (want 1), push %+v", orders, p)
	}
	if p.Attempts != 1 {
		t.Fatalf("attempts %d, want the 1 the lost answer used", p.Attempts)
	}
	if mine, err := w.DB.RecordOrders(ctx, w.Scope(deal)); err != nil || len(mine) != 1 || mine[0].CRMOrderID != p.CRMOrderID {
		t.Fatalf("orders in Qwoty: %+v, %v; want the one", mine, err)
	}
	log := w.OrderLog()
	if len(log) != 2 || log[0].Outcome != store.SyncedOutcome || !strings.Contains(string(log[0].Written), `"adopted"`) ||
		log[1].Outcome != store.RetryingOutcome {
		t.Fatalf("sync log: %+v", log)
	}
}

// A 429 waits for its Retry-After, without using a retry.
func TestOrderRateLimitedWaits(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	w.SendOrders()
	if err := emu.Inject(emulator.Fault{Route: orderRoute, Times: 1, Status: http.StatusTooManyRequests, RetryAfter: time.Second}); err != nil {
		t.Fatal(err)
	}
	_, o := w.Accept(w.Quote(deal, crmsynctest.Line{SKU: "LIC", Quantity: 1, Price: "10"}))
	p := w.WaitOrderPush(o, store.OrderPushDone, qwoty.OrderOpen, 15*time.Second)
	if p.Attempts != 0 || len(emu.Orders(deal)) != 1 {
		t.Fatalf("push %+v, %d orders", p, len(emu.Orders(deal)))
	}
	log := w.OrderLog()
	if len(log) != 2 || log[1].Outcome != store.WaitingOutcome || log[1].Code != qwoty.CodeRateLimited {
		t.Fatalf("sync log: %+v", log)
	}
}

// Without the order trigger (the default) nothing is queued nor written.
func TestOrderTriggerOff(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	q, o := w.Accept(w.Quote(deal, crmsynctest.Line{SKU: "LIC", Quantity: 1, Price: "10"}))
	w.WaitState(q, qwoty.SyncSynced, 10*time.Second)
	if _, err := w.DB.SetOrderStatus(ctx, w.Admin.WorkspaceID, w.Conn.ID, o.ID, 0, qwoty.OrderFulfilled, "u1"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := w.DB.OrderPushOf(ctx, w.Conn.ID, o.ID); err == nil {
		t.Fatal("an order push was queued with the trigger off")
	}
	if n := len(emu.Orders(deal)); n != 0 {
		t.Fatalf("%d orders in the CRM", n)
	}
}

// A deal gone from the CRM refuses the order: the push fails at once, with
// the CRM's words in the sync log, and the admins hear of it.
func TestOrderRejectedFails(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	w.SendOrders()
	q := w.Quote(deal, crmsynctest.Line{SKU: "LIC", Quantity: 1, Price: "10"})
	q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
	w.WaitState(q, qwoty.SyncSynced, 10*time.Second)
	// The PDF filed first: its failure would make the alert.
	w.WaitArchive(q, store.ArchiveDone, 10*time.Second)
	emu.RemoveDeal(deal)
	_, o := w.Accept(w.Get(q))
	p := w.WaitOrderPush(o, store.OrderPushFailed, "", 10*time.Second)
	if p.Code != qwoty.CodeSyncRejected || !strings.Contains(p.Error, "no such deal") {
		t.Fatalf("push %+v", p)
	}
	log := w.OrderLog()
	if len(log) != 1 || log[0].Outcome != store.FailedOutcome || !strings.Contains(log[0].Message, "no such deal") {
		t.Fatalf("sync log: %+v", log)
	}
	w.WaitFor("the alert", 10*time.Second, func() bool { return w.Alerts.Sent.Load() > 0 })
	if al := w.Alerts.Last.Load(); !strings.Contains(al.Text, "order "+o.Number+" was not written") {
		t.Fatalf("the alert: %+v", al)
	}
}
