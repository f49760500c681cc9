package crmsync_test

import (
	"testing"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Every shipped CRM whose emulator makes deals (crmsynctest.CRM.MadeDeals):
// a quote made for a customer the CRM does not know makes one account and
// one deal when sent, also when the trigger fires again and when both
// answers are lost; the quote is then synced to its deal as any; an
// account a person made is matched by name and nothing new is made.
func TestEveryCRMDeals(t *testing.T) {
	forEachCRM(t, func(t *testing.T, c *crmsynctest.CRM, w *crmsynctest.World) {
		if c.MadeDeals == nil {
			t.Skipf("%s's emulator makes no deals yet", c.Name)
		}
		w.MakeDeals(qwoty.DealOnSent, qwoty.MatchByName)
		send := func(q *qwoty.Quote) *qwoty.Quote {
			return w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
		}

		// Sent, then viewed: the trigger fires twice; one account, one deal.
		cust := w.Customer("Globex Unknown", "globex.example", "erp:1")
		q := send(w.QuoteFor(cust, crmsynctest.Line{SKU: "LIC", Quantity: 2, Price: "49.90"}))
		w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusViewed) })
		d := w.WaitDeal(q, store.DealDone, sfWait)
		accounts, deals := c.MadeAccounts(), c.MadeDeals()
		if len(accounts) != 1 || len(deals) != 1 {
			t.Fatalf("%d accounts, %d deals made; want 1 and 1: %+v %+v", len(accounts), len(deals), accounts, deals)
		}
		if deals[0].ID != d.CRMRecordID || deals[0].AccountID != accounts[0].ID || d.CRMAccountID != accounts[0].ID ||
			accounts[0].Name != cust.Name || d.AccountAction != crm.ActionCreated {
			t.Fatalf("account %+v, deal %+v, row %+v", accounts[0], deals[0], d)
		}
		moved := w.WaitState(w.Moved(q, d.CRMRecordID), qwoty.SyncSynced, sfWait)
		if !moved.Primary {
			t.Fatal("the quote is not its new deal's primary quote")
		}

		// Both creates' answers lost: adopted, still one each more.
		for _, route := range []string{c.AccountRoute, c.DealRoute} {
			if err := c.Base.Inject(emulator.Fault{Route: route, Times: 1, Drop: true}); err != nil {
				t.Fatal(err)
			}
		}
		q2 := send(w.QuoteFor(w.Customer("Initech Unknown", "", "erp:2"), crmsynctest.Line{SKU: "LIC", Quantity: 1, Price: "10"}))
		d2 := w.WaitDeal(q2, store.DealDone, sfWait)
		if a, ds := c.MadeAccounts(), c.MadeDeals(); len(a) != 2 || len(ds) != 2 || d2.AccountAction != crm.ActionAdopted {
			t.Fatalf("after lost answers: %d accounts, %d deals, row %+v", len(a), len(ds), d2)
		}
		c.Base.ClearFaults()

		// An account a person made: matched by name, nothing made.
		hand := c.AddAccount("Umbrella Existing", "")
		q3 := send(w.QuoteFor(w.Customer("umbrella existing", "", "erp:3"), crmsynctest.Line{SKU: "LIC", Quantity: 1, Price: "10"}))
		d3 := w.WaitDeal(q3, store.DealDone, sfWait)
		if d3.CRMAccountID != hand || d3.AccountAction != store.AccountMatched || len(c.MadeAccounts()) != 2 || len(c.MadeDeals()) != 3 {
			t.Fatalf("matched: row %+v (want account %s), %d accounts made", d3, hand, len(c.MadeAccounts()))
		}
	})
}
