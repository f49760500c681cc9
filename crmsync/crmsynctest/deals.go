package crmsynctest

import (
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// CRMMade is an account or a deal Qwoty made in a CRM, as its emulator
// tells: its id, name, Qwoty's reference, and (a deal) its account.
type CRMMade struct {
	ID, Name, Ref, AccountID string
}

// MakeDeals sets when quotes without a record make their deal, and how
// their customer's account is matched.
func (w *World) MakeDeals(status qwoty.DealStatus, match qwoty.AccountMatch) {
	w.t.Helper()
	set, err := w.DB.SyncSettingsOf(ctx, w.Conn.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	set.DealStatus, set.AccountMatch = status, match
	if err := w.DB.SaveSyncSettings(ctx, w.Admin.WorkspaceID, w.Conn.ID, set, "test"); err != nil {
		w.t.Fatal(err)
	}
}

// Customer makes a customer Qwoty knows and the CRM does not (yet): name,
// domain ("" for none), keyed by ref.
func (w *World) Customer(name, domain, ref string) *qwoty.Customer {
	w.t.Helper()
	c, _, err := w.DB.UpsertAPICustomer(ctx, w.Scope(""), store.CustomerInput{Name: &name, Domain: &domain, ExternalRef: &ref})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// QuoteFor makes a quote for customer c (nil: none) outside any CRM
// record, with lines.
func (w *World) QuoteFor(c *qwoty.Customer, lines ...Line) *qwoty.Quote {
	w.t.Helper()
	n := store.NewQuote{Title: "Q for a customer", Currency: "EUR", CreatedBy: "api"}
	if w.Currency != "" {
		n.Currency = w.Currency
	}
	if c != nil {
		n.CustomerID, n.Title = c.ID, "Q for "+c.Name
	}
	q, err := w.DB.CreateQuote(ctx, w.Scope(""), n)
	if err != nil {
		w.t.Fatal(err)
	}
	if len(lines) == 0 {
		return q
	}
	return w.Edit(q, func(q *qwoty.Quote) error {
		for _, l := range lines {
			if err := q.AddLine(l.Item()); err != nil {
				return err
			}
		}
		return nil
	})
}

// WaitDeal waits until q's deal making is in state and returns it.
func (w *World) WaitDeal(q *qwoty.Quote, state string, timeout time.Duration) *store.DealCreation {
	w.t.Helper()
	var d *store.DealCreation
	defer func() {
		if w.t.Failed() && d != nil {
			w.t.Logf("deal creation: %+v", *d)
		}
	}()
	w.WaitFor("the deal of "+q.Number+" to be "+state, timeout, func() bool {
		var err error
		d, err = w.DB.DealCreationOf(ctx, w.Conn.ID, q.ID)
		return err == nil && d.State == state
	})
	return d
}

// Moved reads q after its deal was made: on its record now.
func (w *World) Moved(q *qwoty.Quote, record string) *qwoty.Quote {
	w.t.Helper()
	out, err := w.DB.GetQuote(ctx, w.Scope(record), q.ID)
	if err != nil {
		w.t.Fatalf("quote %s on record %s: %v", q.Number, record, err)
	}
	return out
}
