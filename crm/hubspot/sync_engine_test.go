package hubspot_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
)

// The Syncer through the sync engine, its links and budget in PostgreSQL:
// a quote made in the card reaches the deal as line items, its total as
// the deal's amount, and its acceptance wins the deal; a line someone added
// in HubSpot stays.
func TestSyncThroughTheEngine(t *testing.T) {
	hs := hstest.New(t, hstest.Options{})
	a := hubspot.NewAdapter(hubspot.Options{ClientID: hstest.DefaultClientID, ClientSecret: hstest.DefaultClientSecret,
		RedirectURL: hstest.DefaultRedirectURL, AuthURL: hs.URL, APIURL: hs.URL})
	w := crmsynctest.New(t, a, hstest.DefaultRedirectURL, crmsynctest.FastOptions())
	hand := hs.PutLineItem(hstest.DefaultPortalID, hstest.DefaultDealID, map[string]string{"name": "Added by a rep", "quantity": "1", "price": "1"})

	q := w.Quote(hstest.DefaultDealID, crmsynctest.Line{SKU: "A-1", Quantity: 2, Price: "50"}, crmsynctest.Line{SKU: "B-2", Quantity: 1, Price: "25.50"})
	q = w.WaitState(q, qwoty.SyncSynced, 10*time.Second)
	items := map[string]hstest.LineItem{}
	for _, li := range hs.LineItems(hstest.DefaultPortalID, hstest.DefaultDealID) {
		items[li.Properties[hubspot.RefProperty]] = li
	}
	if len(items) != 3 || items[""].ID != hand {
		t.Fatalf("deal's line items %v, want the quote's 2 and the hand-made one", items)
	}
	for _, l := range q.Lines {
		if li, ok := items[crm.Ref(crm.RefLine, l.ID)]; !ok || li.Properties["hs_sku"] != l.SKU {
			t.Errorf("line %s (%s): line item %+v", l.ID, l.SKU, li)
		}
	}
	deal := hs.DealProperties(hstest.DefaultPortalID, hstest.DefaultDealID)
	if !decimal.RequireFromString(deal["amount"]).Equal(q.Totals.Total) {
		t.Errorf("deal amount %s, want the quote's total %s", deal["amount"], q.Totals.Total)
	}

	q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
	q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusAccepted) })
	w.WaitFor("the deal won", 10*time.Second, func() bool {
		return hs.DealProperties(hstest.DefaultPortalID, hstest.DefaultDealID)["dealstage"] == "closedwon"
	})
	w.WaitState(q, qwoty.SyncSynced, 5*time.Second)
	if n := len(hs.LineItems(hstest.DefaultPortalID, hstest.DefaultDealID)); n != 3 {
		t.Errorf("%d line items after the status changes, want 3", n)
	}
	if n := hs.RateLimited(); n != 0 {
		t.Errorf("%d 429s", n)
	}
}
