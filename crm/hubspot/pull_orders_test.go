package hubspot_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/crm/synctest"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
)

// pulledOrders are the orders of origin crm in Qwoty on deal, with their
// lines.
func (e *pullEnv) pulledOrders(deal string) []*qwoty.Order {
	e.t.Helper()
	all, err := e.w.DB.RecordOrders(context.Background(), e.w.Scope(deal))
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*qwoty.Order
	for _, o := range all {
		if o.Origin != qwoty.OrderFromCRM {
			continue
		}
		full, err := e.w.DB.ConnectionOrder(context.Background(), e.w.Admin.WorkspaceID, e.w.Conn.ID, o.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, full)
	}
	return out
}

// An order made in HubSpot on a deal Qwoty knows is pulled in with its
// line items, read-only; its move to Delivered fulfils the copy. The order
// Qwoty wrote itself (its number in hs_external_order_id, its id not yet
// recorded) is not pulled back, nor is an order on no deal.
func TestPullOrdersMadeInHubSpot(t *testing.T) {
	e := newPullEnv(t, hstest.Portal{Currencies: []string{"EUR"},
		Products: []hstest.Product{{ID: "401", Properties: map[string]string{"name": "Licence", "hs_sku": "LIC", "price": "12.5"}}},
		Deals:    []hstest.Deal{{ID: "301", Name: "Acme", Currency: "EUR"}}}, 0)
	e.w.SendOrders()
	e.pull()

	// Qwoty's own order, written as the order push writes it.
	_, mine := e.w.Accept(e.w.Quote("301", crmsynctest.Line{SKU: "LIC", Quantity: 2, Price: "100"}))
	d := decimal.RequireFromString
	b := synctest.NewBudget(e.a.Sync().Buckets(e.w.Conn, 1)...)
	mineID, err := e.a.PushOrder(context.Background(), session.New(e.w.DB, e.a, e.w.Conn), b, crm.OrderPush{RecordID: "301",
		Number: mine.Number, Status: qwoty.OrderOpen, Currency: "EUR", Total: d("200"),
		Lines: []crm.OrderPushLine{{SKU: "LIC", Description: "Licence", Quantity: d("2"), UnitPrice: d("100"), Net: d("200")}}})
	if err != nil {
		t.Fatal(err)
	}

	e.clk.Step(time.Second)
	open := hstest.OrderStages[0].ID
	theirs := e.hs.PutOrder(hstest.DefaultPortalID, map[string]string{"hs_order_name": "Web order 1001", "hs_currency_code": "EUR",
		"hs_total_price": "137.50", "hs_pipeline_stage": open}, []string{"301"},
		map[string]string{"name": "Licence", "hs_sku": "LIC", "hs_product_id": "401", "quantity": "3", "price": "12.5"},
		map[string]string{"name": "Setup", "description": "On site, one day", "quantity": "1", "price": "100"})
	orphan := e.hs.PutOrder(hstest.DefaultPortalID, map[string]string{"hs_order_name": "No deal", "hs_currency_code": "EUR",
		"hs_total_price": "5", "hs_pipeline_stage": open}, nil)
	e.pull()

	got := e.pulledOrders("301")
	if len(got) != 1 {
		t.Fatalf("%d orders pulled on deal 301, want 1 (%s made in HubSpot; not Qwoty's own %s, %s)", len(got), theirs, mineID, mine.Number)
	}
	o := got[0]
	if o.CRMOrderID != theirs || o.Status != qwoty.OrderOpen || o.Currency != "EUR" || !o.Totals.Total.Equal(d("137.5")) || o.QuoteID != "" {
		t.Errorf("the pulled order %+v, want %s open, 137.50 EUR, on no quote", o, theirs)
	}
	if len(o.Lines) != 2 {
		t.Fatalf("the pulled order's lines %+v, want its 2 line items", o.Lines)
	}
	if l := o.Lines[0]; l.SKU != "LIC" || l.ProductID != "401" || l.Description != "Licence" || !l.Quantity.Equal(d("3")) ||
		!l.UnitPrice.Equal(d("12.5")) || !l.Net.Equal(d("37.5")) {
		t.Errorf("line 1 %+v, want 3 × LIC at 12.50 (product 401), 37.50", l)
	}
	if l := o.Lines[1]; l.Description != "On site, one day" || !l.Net.Equal(d("100")) {
		t.Errorf("line 2 %+v, want its description and 100", l)
	}
	if _, err := e.w.DB.SetOrderStatus(context.Background(), e.w.Admin.WorkspaceID, e.w.Conn.ID, o.ID, 0, qwoty.OrderFulfilled, "u1"); qwoty.ErrorCode(err) != qwoty.CodeOrderReadOnly {
		t.Errorf("changing the pulled order in Qwoty: %v, want %s", err, qwoty.CodeOrderReadOnly)
	}
	var n int
	e.scan(`SELECT count(*) FROM orders WHERE connection_id = $1 AND origin = 'crm'`, &n)
	if n != 1 {
		t.Errorf("%d orders pulled in all, want 1 (none for the order %s on no deal)", n, orphan)
	}
	if all, _ := e.w.DB.RecordOrders(context.Background(), e.w.Scope("301")); len(all) != 2 {
		t.Errorf("deal 301's orders %+v, want Qwoty's own and the pulled one", all)
	}

	// Delivered in HubSpot: the copy is fulfilled, still one.
	e.clk.Step(time.Second)
	e.hs.SetOrderProperties(hstest.DefaultPortalID, theirs, map[string]string{"hs_pipeline_stage": hubspot.OrderStages[qwoty.OrderFulfilled]})
	e.pull()
	if got = e.pulledOrders("301"); len(got) != 1 || got[0].Status != qwoty.OrderFulfilled || got[0].Version != 2 || len(got[0].Lines) != 2 {
		t.Fatalf("after its delivery in HubSpot: %+v, want the one order fulfilled, version 2, its 2 lines", got)
	}
	// Cancelled in HubSpot.
	e.clk.Step(time.Second)
	e.hs.SetOrderProperties(hstest.DefaultPortalID, theirs, map[string]string{"hs_pipeline_stage": hubspot.OrderStages[qwoty.OrderCancelled]})
	e.pull()
	if got = e.pulledOrders("301"); len(got) != 1 || got[0].Status != qwoty.OrderCancelled {
		t.Fatalf("after its cancellation in HubSpot: %+v, want it cancelled", got)
	}
	// Deleted in HubSpot: the copy is marked, kept; restored, unmarked.
	var deleted bool
	for _, step := range []struct {
		do   func(int64, string, string) bool
		want bool
	}{{e.hs.Archive, true}, {e.hs.Restore, false}} {
		e.clk.Step(time.Second)
		if !step.do(hstest.DefaultPortalID, "orders", theirs) {
			t.Fatalf("the emulator did not archive or restore the order %s", theirs)
		}
		e.pull()
		e.scan(`SELECT crm_deleted FROM orders WHERE connection_id = $1 AND crm_order_id = '`+theirs+`'`, &deleted)
		if deleted != step.want {
			t.Errorf("the copy's crm_deleted %v, want %v", deleted, step.want)
		}
	}
}

// Each stage of the default order pipeline says a status: Processed and
// Shipped are still open.
func TestPullOrderStages(t *testing.T) {
	e := newPullEnv(t, hstest.Portal{Currencies: []string{"EUR"}, Deals: []hstest.Deal{{ID: "301", Name: "Acme", Currency: "EUR"}}}, 0)
	e.w.SendOrders()
	want := map[string]qwoty.OrderStatus{"Open": qwoty.OrderOpen, "Processed": qwoty.OrderOpen, "Shipped": qwoty.OrderOpen,
		"Delivered": qwoty.OrderFulfilled, "Cancelled": qwoty.OrderCancelled}
	byID := map[string]string{}
	for _, st := range hstest.OrderStages {
		e.clk.Step(time.Second)
		id := e.hs.PutOrder(hstest.DefaultPortalID, map[string]string{"hs_order_name": st.Label, "hs_currency_code": "EUR",
			"hs_total_price": "1", "hs_pipeline_stage": st.ID}, []string{"301"})
		byID[id] = st.Label
	}
	e.pull()
	got := e.pulledOrders("301")
	if len(got) != len(hstest.OrderStages) {
		t.Fatalf("%d orders pulled, want %d", len(got), len(hstest.OrderStages))
	}
	for _, o := range got {
		if label := byID[o.CRMOrderID]; o.Status != want[label] {
			t.Errorf("an order in stage %s pulled as %s, want %s", label, o.Status, want[label])
		}
	}
}

// An account without the orders object lists no orders, without an
// error: its deals are pulled as before.
func TestPullOrdersAccountWithoutOrders(t *testing.T) {
	e := newPullEnv(t, hstest.Portal{Deals: []hstest.Deal{{ID: "301", Name: "Acme"}}}, 0)
	e.w.SendOrders()
	e.hs.SetNoOrders(hstest.DefaultPortalID, true)
	rep := e.pull()
	if !slices.ContainsFunc(rep.Streams, func(s crmsync.StreamReport) bool { return s.Stream == "order" }) {
		t.Errorf("streams %+v: want the order listing run (and empty)", rep.Streams)
	}
	if n := e.hs.Searches("orders"); n != 1 {
		t.Errorf("%d searches of orders, want 1", n)
	}
	var deals int
	e.scan(`SELECT count(*) FROM crm_deals WHERE connection_id = $1`, &deals)
	if deals != 1 {
		t.Errorf("%d deals pulled, want 1", deals)
	}
}

// A connection not granted the orders' read scope has no order listing,
// even with the order trigger on: it pulls the rest as before.
func TestPullOrdersWithoutTheScope(t *testing.T) {
	older := slices.DeleteFunc(slices.Clone(hubspot.DefaultScopes), func(s string) bool { return slices.Contains(hubspot.OrderScopes, s) })
	e := newSyncEnv(t, hstest.Options{App: hstest.App{RequiredScopes: older}}, older...)
	set, err := e.db.SyncSettingsOf(context.Background(), e.conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	set.Triggers = append(set.Triggers, qwoty.TriggerOrder)
	if err := e.db.SaveSyncSettings(context.Background(), e.conn.WorkspaceID, e.conn.ID, set, "test"); err != nil {
		t.Fatal(err)
	}
	e.hs.PutDeal(hstest.DefaultPortalID, hstest.Deal{ID: "301", Name: "Acme"})
	e.hs.PutOrder(hstest.DefaultPortalID, map[string]string{"hs_order_name": "Web order", "hs_pipeline_stage": hstest.OrderStages[0].ID}, []string{"301"})
	rep, err := crmsync.PullOnce(context.Background(), e.db, e.a, e.conn, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Streams {
		if strings.HasPrefix(s.Stream, "order") || s.Err != nil || !s.Complete {
			t.Errorf("stream %s: complete %v, %v (want no order streams)", s.Stream, s.Complete, s.Err)
		}
	}
	if n := e.hs.Searches("orders"); n != 0 {
		t.Errorf("%d searches of orders, want none", n)
	}
}
