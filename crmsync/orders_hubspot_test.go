package crmsync_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Orders made in HubSpot on a deal Qwoty knows are pulled in, origin crm,
// read-only, with their line items; Qwoty's own are not pulled back (by
// their id once the push recorded it, or by their number in
// hs_external_order_id); a move to Delivered in HubSpot fulfils the copy;
// an order on no deal stays out. As TestSalesforceOrdersPulled.
func TestHubSpotOrdersPulled(t *testing.T) {
	c := crmsynctest.CRMs["hubspot"](t, crmsynctest.Options{AppURL: "http://127.0.0.1:8080", Records: 2, Unlimited: true})
	w := crmsynctest.New(t, c.Adapter, c.Redirect, crmsynctest.FastOptions())
	w.Currency = c.Currency
	w.SendOrders()
	portal := hstest.DefaultPortalID
	rec := c.Records[0]
	q, mine := w.Accept(w.Quote(rec, crmsynctest.Line{SKU: "LIC", Quantity: 2, Price: "100"}))
	push := w.WaitOrderPush(mine, store.OrderPushDone, qwoty.OrderOpen, sfWait)

	open := hstest.OrderStages[0].ID
	hand := func(props map[string]string, deals []string) string {
		p := map[string]string{"hs_order_name": "Made in HubSpot", "hs_currency_code": "EUR", "hs_total_price": "37.50", "hs_pipeline_stage": open}
		for k, v := range props {
			p[k] = v
		}
		return c.HubSpot.PutOrder(portal, p, deals, map[string]string{"name": "Licence", "hs_sku": "LIC", "quantity": "3", "price": "12.5"})
	}
	theirs := hand(nil, []string{rec})
	hand(map[string]string{"hs_external_order_id": mine.Number}, []string{rec}) // carries Qwoty's number: Qwoty's
	hand(nil, nil)                                                              // on no deal

	pull := func() {
		t.Helper()
		rep, err := crmsync.PullOnce(ctx, w.DB, c.Adapter, w.Conn, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		ran := false
		for _, s := range rep.Streams {
			if s.Err != nil {
				t.Fatalf("stream %s: %v", s.Stream, s.Err)
			}
			ran = ran || s.Stream == "order"
		}
		if !ran {
			t.Fatalf("streams %+v: no order listing", rep.Streams)
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
		t.Fatalf("the record's orders after a pull: %+v (Qwoty's own %s from %s, HubSpot's %s)", orders, mine.Number, q.Number, push.CRMOrderID)
	}
	if _, err := w.DB.SetOrderStatus(ctx, w.Admin.WorkspaceID, w.Conn.ID, pulled.ID, 0, qwoty.OrderFulfilled, "u1"); qwoty.ErrorCode(err) != qwoty.CodeOrderReadOnly {
		t.Fatalf("changing a pulled order: %v", err)
	}
	full, err := w.DB.ConnectionOrder(ctx, w.Admin.WorkspaceID, w.Conn.ID, pulled.ID)
	if err != nil || len(full.Lines) != 1 || full.Lines[0].SKU != "LIC" || !full.Lines[0].Net.Equal(decimal.RequireFromString("37.5")) {
		t.Fatalf("the pulled order's lines: %+v, %v", full, err)
	}

	// Delivered in HubSpot: the copy is fulfilled, still one.
	c.HubSpot.SetOrderProperties(portal, theirs, map[string]string{"hs_pipeline_stage": hubspot.OrderStages[qwoty.OrderFulfilled]})
	pull()
	if orders, _ = w.DB.RecordOrders(ctx, w.Scope(rec)); len(orders) != 2 {
		t.Fatalf("orders after the delivery: %+v", orders)
	}
	for _, o := range orders {
		if o.Origin == qwoty.OrderFromCRM && (o.Status != qwoty.OrderFulfilled || o.Version != 2) {
			t.Fatalf("the pulled order after its delivery: %+v", o)
		}
	}
	if n := len(c.Orders(rec)); n != 3 {
		t.Fatalf("%d orders on the deal in HubSpot, want 3 (Qwoty's, and two made there)", n)
	}
}
