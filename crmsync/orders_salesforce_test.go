package crmsync_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Orders to Salesforce, through its emulator: an Order with its products
// on the opportunity's account and price book, once; its status
// following; a lost answer adopted; an org whose orders need a contract
// refusing it in its own words.

const sfWait = 20 * time.Second

func salesforceOrders(t *testing.T, triggers ...string) (*crmsynctest.CRM, *crmsynctest.World) {
	t.Helper()
	c := crmsynctest.CRMs["salesforce"](t, crmsynctest.Options{AppURL: "http://127.0.0.1:8080", Records: 2, Unlimited: true})
	w := crmsynctest.New(t, c.Adapter, c.Redirect, crmsynctest.FastOptions())
	w.Currency = c.Currency
	if len(triggers) > 0 {
		set, err := w.DB.SyncSettingsOf(ctx, w.Conn.ID)
		if err != nil {
			t.Fatal(err)
		}
		set.Triggers = triggers
		if err := w.DB.SaveSyncSettings(ctx, w.Admin.WorkspaceID, w.Conn.ID, set, "test"); err != nil {
			t.Fatal(err)
		}
	}
	w.SendOrders()
	return c, w
}

func TestSalesforceOrderOnce(t *testing.T) {
	c, w := salesforceOrders(t)
	rec := c.Records[0]
	c.PrepareOrders(rec)
	// 3 × 10.00 at 33.33% off is 20.00: two order products, 2 × 6.67 and
	// 1 × 6.66, so that the order's total is the quote's.
	q := w.Quote(rec, crmsynctest.Line{SKU: "LIC", Quantity: 3, Price: "49.90"},
		crmsynctest.Line{SKU: "SUP", Quantity: 3, Price: "10", DiscountPct: "33.33"})
	q, o := w.Accept(q)
	p := w.WaitOrderPush(o, store.OrderPushDone, qwoty.OrderOpen, sfWait)
	orders := c.Orders(rec)
	if len(orders) != 1 {
		t.Fatalf("%d orders on the opportunity, want 1", len(orders))
	}
	got := orders[0]
	want := q.Totals.Subtotal.Sub(q.Totals.Discount)
	if got.ID != p.CRMOrderID || got.Number != o.Number || got.Status != "Draft" || !got.Total.Equal(want) || got.Lines != 3 {
		t.Fatalf("the order %+v; push %+v; want a Draft of %s with 3 products", got, p, want)
	}
	if !want.Equal(q.Totals.Total) {
		t.Fatalf("the quote has tax or a quote discount (%s vs %s): this test's order total is meant to be the quote's", want, q.Totals.Total)
	}
	r := c.Salesforce.Record(sftest.DefaultOrgID, "Order", got.ID)
	opp := c.Salesforce.Record(sftest.DefaultOrgID, "Opportunity", rec)
	if r.String("AccountId") != opp.String("AccountId") || r.String("Pricebook2Id") != opp.String("Pricebook2Id") || r.String("AccountId") == "" ||
		r.String("EffectiveDate") != o.CreatedAt.UTC().Format(time.DateOnly) || !strings.Contains(r.String("Description"), q.Number) {
		t.Fatalf("the order %v, the opportunity %v", r, opp)
	}
	if log := w.OrderLog(); len(log) != 1 || log[0].Outcome != store.SyncedOutcome || !strings.Contains(string(log[0].Written), `"created"`) {
		t.Fatalf("sync log: %+v", log)
	}

	// Fulfilled: the order is activated, still one.
	if _, err := w.DB.SetOrderStatus(ctx, w.Admin.WorkspaceID, w.Conn.ID, o.ID, 0, qwoty.OrderFulfilled, "u1"); err != nil {
		t.Fatal(err)
	}
	w.WaitOrderPush(o, store.OrderPushDone, qwoty.OrderFulfilled, sfWait)
	if orders = c.Orders(rec); len(orders) != 1 || orders[0].Status != "Activated" || orders[0].Lines != 3 {
		t.Fatalf("after fulfilment: %+v", orders)
	}
	if r = c.Salesforce.Record(sftest.DefaultOrgID, "Order", got.ID); r["ActivatedDate"] == nil {
		t.Fatalf("the activated order has no ActivatedDate: %v", r)
	}
}

// A cancelled order stays Draft (the org's statuses have no other
// category), marked in its name and description.
func TestSalesforceOrderCancelled(t *testing.T) {
	c, w := salesforceOrders(t)
	rec := c.Records[0]
	c.PrepareOrders(rec)
	_, o := w.Accept(w.Quote(rec, crmsynctest.Line{SKU: "LIC", Quantity: 2, Price: "100"}))
	w.WaitOrderPush(o, store.OrderPushDone, qwoty.OrderOpen, sfWait)
	if _, err := w.DB.SetOrderStatus(ctx, w.Admin.WorkspaceID, w.Conn.ID, o.ID, 0, qwoty.OrderCancelled, "u1"); err != nil {
		t.Fatal(err)
	}
	p := w.WaitOrderPush(o, store.OrderPushDone, qwoty.OrderCancelled, sfWait)
	r := c.Salesforce.Record(sftest.DefaultOrgID, "Order", p.CRMOrderID)
	if r.String("Status") != "Draft" || !strings.HasPrefix(r.String("Description"), "Cancelled in Qwoty") || !strings.Contains(r.String("Name"), "cancelled") {
		t.Fatalf("the cancelled order: %v", r)
	}
	if n := len(c.Orders(rec)); n != 1 {
		t.Fatalf("%d orders", n)
	}
}

// The Composite request that makes the order is committed and its answer
// lost: the retry finds the order by its number (OrderReferenceNumber)
// and adopts it; the opportunity holds one order.
func TestSalesforceOrderLostAnswerAdopts(t *testing.T) {
	// No status trigger: accepting pushes no deal, so that the order's
	// own two Composite calls (its read, its write) are the only ones.
	c, w := salesforceOrders(t, qwoty.TriggerCreated, qwoty.TriggerEdit, qwoty.TriggerPrimary)
	rec := c.Records[0]
	c.PrepareOrders(rec)
	q := w.Quote(rec, crmsynctest.Line{SKU: "LIC", Quantity: 3, Price: "49.90"})
	w.WaitState(q, qwoty.SyncSynced, sfWait)
	route := "POST /services/data/{v}/composite"
	if err := c.Base.Inject(emulator.Fault{Route: route, Times: 1, Delay: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := c.Base.Inject(emulator.Fault{Route: route, Times: 1, Drop: true}); err != nil {
		t.Fatal(err)
	}
	_, o := w.Accept(w.Get(q))
	p := w.WaitOrderPush(o, store.OrderPushDone, qwoty.OrderOpen, sfWait)
	orders := c.Orders(rec)
	if len(orders) != 1 || orders[0].ID != p.CRMOrderID || orders[0].Lines != 1 || p.Attempts != 1 {
		t.Fatalf("orders %+v (want 1), push %+v", orders, p)
	}
	if mine, err := w.DB.RecordOrders(ctx, w.Scope(rec)); err != nil || len(mine) != 1 || mine[0].CRMOrderID != p.CRMOrderID {
		t.Fatalf("orders in Qwoty: %+v, %v; want the one", mine, err)
	}
	log := w.OrderLog()
	if len(log) != 2 || !strings.Contains(string(log[0].Written), `"adopted"`) || log[1].Outcome != store.RetryingOutcome {
		t.Fatalf("sync log: %+v", log)
	}
}

// An org whose orders need a contract ("Enable orders without contracts"
// off) refuses the order: the push fails at once with Salesforce's own
// message in the sync log, and the admins hear of it.
func TestSalesforceOrderContractRequired(t *testing.T) {
	c, w := salesforceOrders(t)
	c.Salesforce.SetOrdersNeedContract(sftest.DefaultOrgID, true)
	rec := c.Records[0]
	c.PrepareOrders(rec)
	_, o := w.Accept(w.Quote(rec, crmsynctest.Line{SKU: "LIC", Quantity: 1, Price: "10"}))
	p := w.WaitOrderPush(o, store.OrderPushFailed, "", sfWait)
	const said = "REQUIRED_FIELD_MISSING: Required fields are missing: [ContractId]"
	if p.Code != qwoty.CodeSyncRejected || !strings.Contains(p.Error, said) {
		t.Fatalf("push %+v", p)
	}
	log := w.OrderLog()
	if len(log) != 1 || log[0].Outcome != store.FailedOutcome || !strings.Contains(log[0].Message, said) {
		t.Fatalf("sync log: %+v", log)
	}
	if n := len(c.Orders(rec)); n != 0 {
		t.Fatalf("%d orders", n)
	}
	w.WaitFor("the alert", sfWait, func() bool { return w.Alerts.Sent.Load() > 0 })
}

// An opportunity without an account cannot take an order: refused with
// what to do, before anything is written.
func TestSalesforceOrderNeedsAccount(t *testing.T) {
	c, w := salesforceOrders(t)
	rec := c.Records[1]
	_, o := w.Accept(w.Quote(rec, crmsynctest.Line{SKU: "LIC", Quantity: 1, Price: "10"}))
	p := w.WaitOrderPush(o, store.OrderPushFailed, "", sfWait)
	if !strings.Contains(p.Error, "has no account") || len(c.Orders(rec)) != 0 {
		t.Fatalf("push %+v", p)
	}
}

// Every shipped CRM whose emulator holds orders (crmsynctest.CRM.Orders):
// accepted, one order in the CRM; its answer lost, still one; fulfilled,
// the CRM's order follows.
func TestEveryCRMOrders(t *testing.T) {
	forEachCRM(t, func(t *testing.T, c *crmsynctest.CRM, w *crmsynctest.World) {
		if c.Orders == nil {
			t.Skipf("%s's emulator holds no orders yet", c.Name)
		}
		w.SendOrders()
		for _, rec := range c.Records {
			if c.PrepareOrders != nil {
				c.PrepareOrders(rec)
			}
		}
		rec := c.Records[0]
		q, o := w.Accept(w.Quote(rec, crmsynctest.Line{SKU: "LIC", Quantity: 3, Price: "49.90"}, crmsynctest.Line{SKU: "SUP", Quantity: 1, Price: "500"}))
		p := w.WaitOrderPush(o, store.OrderPushDone, qwoty.OrderOpen, sfWait)
		if got := c.Orders(rec); len(got) != 1 || got[0].ID != p.CRMOrderID || got[0].Number != o.Number {
			t.Fatalf("orders on %s: %+v; push %+v", rec, got, p)
		}
		if got := c.Orders(rec)[0]; !got.Total.Equal(q.Totals.Total) {
			t.Errorf("the CRM's order totals %s, the quote %s", got.Total, q.Totals.Total)
		}
		if _, err := w.DB.SetOrderStatus(ctx, w.Admin.WorkspaceID, w.Conn.ID, o.ID, 0, qwoty.OrderFulfilled, "u1"); err != nil {
			t.Fatal(err)
		}
		w.WaitOrderPush(o, store.OrderPushDone, qwoty.OrderFulfilled, sfWait)
		if got := c.Orders(rec); len(got) != 1 {
			t.Fatalf("orders after fulfilment: %+v", got)
		}
		for _, other := range c.Records[1:] {
			if n := len(c.Orders(other)); n != 0 {
				t.Fatalf("%d orders on %s, which had no quote accepted", n, other)
			}
		}
	})
}

// Orders made in Salesforce on a deal Qwoty knows are pulled in, origin
// crm, read-only; Qwoty's own are not pulled back (by their id, or by
// their number before the push recorded the id); an activation in
// Salesforce fulfils the copy; an order on no opportunity stays out.
func TestSalesforceOrdersPulled(t *testing.T) {
	c, w := salesforceOrders(t)
	org := sftest.DefaultOrgID
	rec := c.Records[0]
	c.PrepareOrders(rec)
	q, mine := w.Accept(w.Quote(rec, crmsynctest.Line{SKU: "LIC", Quantity: 2, Price: "100"}))
	w.WaitOrderPush(mine, store.OrderPushDone, qwoty.OrderOpen, sfWait)

	opp := c.Salesforce.Record(org, "Opportunity", rec)
	entry := ""
	for _, e := range c.Salesforce.Records(org, "PricebookEntry", "Pricebook2Id", opp.String("Pricebook2Id")) {
		entry = e.String("Id")
	}
	hand := func(fields map[string]any) string {
		t.Helper()
		f := map[string]any{"AccountId": opp.String("AccountId"), "EffectiveDate": "2026-11-01", "Status": "Draft",
			"Pricebook2Id": opp.String("Pricebook2Id")}
		for k, v := range fields {
			f[k] = v
		}
		id, err := c.Salesforce.Insert(org, "Order", f)
		if err == nil {
			_, err = c.Salesforce.Insert(org, "OrderItem", map[string]any{"OrderId": id, "PricebookEntryId": entry, "Quantity": 3, "UnitPrice": 12.5})
		}
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	theirs := hand(map[string]any{"OpportunityId": rec})
	hand(map[string]any{"OpportunityId": rec, "OrderReferenceNumber": mine.Number}) // carries Qwoty's number: Qwoty's
	hand(nil)                                                                       // on no opportunity

	pull := func() {
		t.Helper()
		rep, err := crmsync.PullOnce(ctx, w.DB, c.Adapter, w.Conn, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range rep.Streams {
			if s.Err != nil {
				t.Fatalf("stream %s: %v", s.Stream, s.Err)
			}
		}
	}
	pull()
	orders, err := w.DB.RecordOrders(ctx, w.Scope(rec))
	if err != nil {
		t.Fatal(err)
	}
	var pulled *qwoty.Order
	for i := range orders {
		if orders[i].Origin == qwoty.OrderFromCRM {
			if pulled != nil {
				t.Fatalf("two orders pulled: %+v", orders)
			}
			pulled = &orders[i]
		}
	}
	if len(orders) != 2 || pulled == nil || pulled.CRMOrderID != theirs || pulled.Status != qwoty.OrderOpen ||
		!pulled.Totals.Total.Equal(decimal.RequireFromString("37.5")) || pulled.QuoteID != "" {
		t.Fatalf("the record's orders after a pull: %+v (Qwoty's own %s from %s)", orders, mine.Number, q.Number)
	}
	if _, err := w.DB.SetOrderStatus(ctx, w.Admin.WorkspaceID, w.Conn.ID, pulled.ID, 0, qwoty.OrderFulfilled, "u1"); qwoty.ErrorCode(err) != qwoty.CodeOrderReadOnly {
		t.Fatalf("changing a pulled order: %v", err)
	}
	full, err := w.DB.ConnectionOrder(ctx, w.Admin.WorkspaceID, w.Conn.ID, pulled.ID)
	if err != nil || len(full.Lines) != 1 || !full.Lines[0].Net.Equal(decimal.RequireFromString("37.5")) {
		t.Fatalf("the pulled order's lines: %+v, %v", full, err)
	}

	// Activated in Salesforce: the copy is fulfilled, still one.
	if err := c.Salesforce.Update(org, "Order", theirs, map[string]any{"Status": "Activated"}); err != nil {
		t.Fatal(err)
	}
	pull()
	if orders, _ = w.DB.RecordOrders(ctx, w.Scope(rec)); len(orders) != 2 {
		t.Fatalf("orders after the activation: %+v", orders)
	}
	for _, o := range orders {
		if o.Origin == qwoty.OrderFromCRM && (o.Status != qwoty.OrderFulfilled || o.Version != 2) {
			t.Fatalf("the pulled order after its activation: %+v", o)
		}
	}
}
