package pipedrive_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
)

// The Syncer through the sync engine, with its links and budget in
// PostgreSQL: a quote made in the card reaches the deal, and its
// acceptance wins the deal.
func TestSyncThroughTheEngine(t *testing.T) {
	pd := pdtest.New(t, pdtest.Options{NoBurst: true, App: pdtest.App{ClientID: pdtest.DefaultClientID,
		ClientSecret: pdtest.DefaultClientSecret, Scopes: pdtest.SyncScopes}})
	a := pipedrive.NewAdapter(pipedrive.Options{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret,
		RedirectURL: pdtest.DefaultCallbackURL, OAuthURL: pd.URL})
	w := crmsynctest.New(t, a, pdtest.DefaultCallbackURL, crmsynctest.FastOptions())
	deal := strconv.Itoa(pdtest.DefaultDealID)

	q := w.Quote(deal, crmsynctest.Line{SKU: "A-1", Quantity: 2, Price: "50"}, crmsynctest.Line{SKU: "B-2", Quantity: 1, Price: "25.50"})
	q = w.WaitState(q, qwoty.SyncSynced, 10*time.Second)
	ps := pd.DealProducts(company, pdtest.DefaultDealID)
	if len(ps) != 2 {
		t.Fatalf("deal products %+v, want 2", ps)
	}
	for i, p := range ps {
		if want := crm.Ref(crm.RefLine, q.Lines[i].ID); len(p.Comments) < len(want) || p.Comments[len(p.Comments)-len(want):] != want {
			t.Errorf("deal product %d comments %q, want the line's reference %s", i, p.Comments, want)
		}
	}
	if d, _ := pd.Deal(company, pdtest.DefaultDealID); !decimal.RequireFromString(d.Value).Equal(q.Totals.Total) {
		t.Errorf("deal value %s, want the quote's total %s", d.Value, q.Totals.Total)
	}

	q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
	q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusAccepted) })
	w.WaitFor("the deal won", 10*time.Second, func() bool { d, _ := pd.Deal(company, pdtest.DefaultDealID); return d.Status == "won" })
	w.WaitState(q, qwoty.SyncSynced, 5*time.Second)
	if n := len(pd.DealProducts(company, pdtest.DefaultDealID)); n != 2 {
		t.Errorf("%d deal products after the status changes, want 2", n)
	}
}
