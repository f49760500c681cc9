package hubspot_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/qwoty"
)

// orderOf is an open order of two lines on deal recordID.
func orderOf(recordID, number string) crm.OrderPush {
	d := decimal.RequireFromString
	return crm.OrderPush{RecordID: recordID, Number: number, QuoteNumber: "Q-00007", Status: qwoty.OrderOpen, Currency: "USD",
		Total: d("290"), Link: "https://qwoty.example/orders/1", EffectiveDate: "2026-11-29",
		Lines: []crm.OrderPushLine{
			{SKU: "A", Description: "Alpha\nthe first", Quantity: d("2"), UnitPrice: d("95"), Net: d("190")},
			{SKU: "B", Description: "Beta", Quantity: d("1"), UnitPrice: d("100"), Net: d("100")},
		}}
}

func (e *syncEnv) pushOrder(o crm.OrderPush) (string, error) {
	return e.a.PushOrder(context.Background(), hubspotSession(e), e.budget, o)
}

func (e *syncEnv) findOrder(o crm.OrderPush) (string, error) {
	return e.a.FindOrder(context.Background(), hubspotSession(e), e.budget, o)
}

// orderWrites counts the ledger's writes to orders and line items.
func (e *syncEnv) orderWrites() int {
	n := 0
	for _, w := range e.hs.Writes() {
		if strings.Contains(w.Path, "/orders") || strings.Contains(w.Path, "/line_items/") {
			n++
		}
	}
	return n
}

// A create makes one order on the deal, in the default order pipeline's
// Open stage, with its lines as line items whose parent is the order (the
// deal's own line items untouched), its number where FindOrder looks.
func TestOrderCreateWithLinesOnTheDeal(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	if err := e.a.OrdersReady(e.conn); err != nil {
		t.Fatalf("OrdersReady on a connection with the app's scopes: %v", err)
	}
	deal := e.deal(1)
	o := orderOf(deal, "O-00042")
	id, err := e.pushOrder(o)
	if err != nil {
		t.Fatal(err)
	}
	orders := e.hs.Orders(hstest.DefaultPortalID, deal)
	if len(orders) != 1 || orders[0].ID != id {
		t.Fatalf("deal's orders %+v, want one, %s", orders, id)
	}
	got := orders[0].Properties
	want := map[string]string{"hs_order_name": "O-00042 (quote Q-00007)", "hs_external_order_id": "O-00042", "hs_currency_code": "USD",
		"hs_total_price": "290", "hs_pipeline": hstest.OrderPipeline, "hs_pipeline_stage": hstest.OrderStages[0].ID}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("order's %s = %q, want %q", k, got[k], v)
		}
	}
	lines := e.hs.OrderLineItems(hstest.DefaultPortalID, id)
	if len(lines) != 2 || !slices.Equal(orders[0].LineItemIDs, []string{lines[0].ID, lines[1].ID}) {
		t.Fatalf("order's line items %+v (associated %v), want its 2 lines", lines, orders[0].LineItemIDs)
	}
	if l := lines[0].Properties; l["name"] != "Alpha" || l["quantity"] != "2" || l["price"] != "95" || l["amount"] != "190" || l["hs_sku"] != "A" {
		t.Errorf("first line item %v, want Alpha, 2 × 95 = 190", l)
	}
	if n := len(e.hs.LineItems(hstest.DefaultPortalID, deal)); n != 0 {
		t.Errorf("the deal holds %d line items of its own, want none (the order's are the order's)", n)
	}
	if found, err := e.findOrder(o); err != nil || found != id {
		t.Errorf("FindOrder = %q, %v; want %s", found, err, id)
	}
	if found, err := e.findOrder(orderOf(deal, "O-00043")); err != nil || found != "" {
		t.Errorf("FindOrder of another number = %q, %v; want none", found, err)
	}
}

// The order's create applied and its answer lost: the push fails
// (transient), FindOrder finds the order, the push that follows brings it
// to its status: one order, its line items made once.
func TestOrderLostAnswerMakesNoDuplicate(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	deal := e.deal(1)
	o := orderOf(deal, "O-00042")
	if err := e.hs.Inject(emulator.Fault{Route: "POST /crm/objects/2026-03/orders", Times: 1, Drop: true}); err != nil {
		t.Fatal(err)
	}
	_, err := e.pushOrder(o)
	var wait *crm.WaitError
	if err == nil || errors.Is(err, crm.ErrRejected) || errors.As(err, &wait) {
		t.Fatalf("push whose answer was dropped: %v, want a transient error", err)
	}
	found, err := e.findOrder(o)
	if err != nil || found == "" {
		t.Fatalf("FindOrder after the lost answer = %q, %v; want the order made", found, err)
	}
	o.CRMID = found
	if id, err := e.pushOrder(o); err != nil || id != found {
		t.Fatalf("push of the found order = %q, %v; want %s", id, err, found)
	}
	if n := e.hs.OrdersCreated(hstest.DefaultPortalID); n != 1 {
		t.Errorf("%d orders made, want 1", n)
	}
	if n := e.hs.LineItemsCreated(hstest.DefaultPortalID); n != 2 {
		t.Errorf("%d line items made, want 2", n)
	}

	// A line items' answer lost: the retry's upsert finds them by qwoty_ref.
	o2 := orderOf(deal, "O-00043")
	if err := e.hs.Inject(emulator.Fault{Route: "POST /crm/objects/2026-03/line_items/batch/upsert", Times: 1, Drop: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pushOrder(o2); err == nil {
		t.Fatal("push whose line items' answer was dropped succeeded")
	}
	if found, err := e.findOrder(o2); err != nil || found != "" {
		t.Fatalf("FindOrder = %q, %v; want none (the order was not made)", found, err)
	}
	id2, err := e.pushOrder(o2)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.hs.LineItemsCreated(hstest.DefaultPortalID); n != 4 || len(e.hs.OrderLineItems(hstest.DefaultPortalID, id2)) != 2 {
		t.Errorf("%d line items made (%d on the second order), want 4 and 2", n, len(e.hs.OrderLineItems(hstest.DefaultPortalID, id2)))
	}
	if n := len(e.hs.Orders(hstest.DefaultPortalID, deal)); n != 2 {
		t.Errorf("the deal has %d orders, want 2", n)
	}
}

// A status change moves the order's stage, in one call.
func TestOrderStatusMovesTheStage(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	deal := e.deal(1)
	o := orderOf(deal, "O-00042")
	id, err := e.pushOrder(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		status qwoty.OrderStatus
		stage  string
	}{{qwoty.OrderFulfilled, "Delivered"}, {qwoty.OrderCancelled, "Cancelled"}} {
		before := e.orderWrites()
		o.CRMID, o.Status = id, c.status
		if got, err := e.pushOrder(o); err != nil || got != id {
			t.Fatalf("push %s = %q, %v", c.status, got, err)
		}
		stage := e.hs.Orders(hstest.DefaultPortalID, deal)[0].Properties["hs_pipeline_stage"]
		i := slices.IndexFunc(hstest.OrderStages, func(s hstest.OrderStage) bool { return s.ID == stage })
		if i < 0 || hstest.OrderStages[i].Label != c.stage {
			t.Errorf("%s order is in stage %s, want %s", c.status, stage, c.stage)
		}
		if n := e.orderWrites() - before; n != 1 {
			t.Errorf("%s: %d writes, want 1", c.status, n)
		}
	}
	if n := e.hs.OrdersCreated(hstest.DefaultPortalID); n != 1 {
		t.Errorf("%d orders made, want 1", n)
	}
}

// An account without the orders object: the push and the look-up are
// rejected (permanent) with a message that says why.
func TestOrderPortalWithoutOrdersIsRejected(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	e.hs.SetNoOrders(hstest.DefaultPortalID, true)
	deal := e.deal(1)
	o := orderOf(deal, "O-00042")
	_, err := e.pushOrder(o)
	if !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "no orders object") {
		t.Errorf("push to an account without orders: %v, want rejected, saying so", err)
	}
	if _, err := e.findOrder(o); !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "no orders object") {
		t.Errorf("FindOrder in an account without orders: %v, want rejected, saying so", err)
	}
}

// A connection made before orders lacks their scopes: OrdersReady asks
// for a reconnection, and a push is forbidden (permanent), not rejected.
func TestOrderMissingScope(t *testing.T) {
	scopes := slices.DeleteFunc(slices.Clone(hubspot.DefaultScopes), func(s string) bool { return slices.Contains(hubspot.OrderScopes, s) })
	e := newSyncEnv(t, hstest.Options{App: hstest.App{ClientID: hstest.DefaultClientID, ClientSecret: hstest.DefaultClientSecret,
		RequiredScopes: scopes}}, scopes...)
	err := e.a.OrdersReady(e.conn)
	var coded *qwoty.Error
	if !errors.As(err, &coded) || coded.Code != qwoty.CodeSyncReconnect || !strings.Contains(err.Error(), "crm.objects.orders.write") {
		t.Errorf("OrdersReady without the orders' scopes: %v, want sync_reconnect naming them", err)
	}
	_, err = e.pushOrder(orderOf(e.deal(1), "O-00042"))
	if !errors.Is(err, crm.ErrForbidden) || errors.Is(err, crm.ErrRejected) {
		t.Errorf("push without the orders' scopes: %v, want forbidden", err)
	}
	if n := e.hs.OrdersCreated(hstest.DefaultPortalID); n != 0 {
		t.Errorf("%d orders made, want none", n)
	}
}

// HubSpot's 429: the push stops with a wait until its Retry-After and the
// connection is blocked; after it the push goes through.
func TestOrder429Waits(t *testing.T) {
	// After the wait the look-up and the create take 5 calls (the
	// qwoty_ref property is made on the way).
	e := newSyncEnv(t, hstest.Options{RateLimit: hstest.RateLimit{Max: 6, Interval: 10 * time.Second}})
	deal := e.deal(1)
	for range 6 {
		if _, err := e.a.LookupRecord(context.Background(), hubspotSession(e), crm.Record{Type: "deal", ID: deal}); err != nil {
			t.Fatal(err)
		}
	}
	o := orderOf(deal, "O-00042")
	_, err := e.pushOrder(o)
	var wait *crm.WaitError
	if !errors.As(err, &wait) {
		t.Fatalf("push past HubSpot's limit: %v, want a *crm.WaitError", err)
	}
	if want := e.clk.Now().Add(10 * time.Second); !wait.Until.Equal(want) {
		t.Errorf("wait until %s, want %s", wait.Until, want)
	}
	if err := e.budget.Take(context.Background(), "burst", 1); !errors.As(err, &wait) {
		t.Errorf("budget after the 429: %v, want the connection blocked", err)
	}
	e.clk.Advance(10 * time.Second)
	if _, err := e.findOrder(o); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pushOrder(o); err != nil {
		t.Fatal(err)
	}
	if n := len(e.hs.Orders(hstest.DefaultPortalID, deal)); n != 1 {
		t.Errorf("%d orders, want 1", n)
	}
}
