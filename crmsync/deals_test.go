package crmsync_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Deals made from Qwoty in the test CRM (docs/deals.md): a quote made for
// a customer, outside any record, makes one deal and one account when it
// reaches the deal status, however often the trigger fires and whatever
// answers are lost; then it is a quote of that deal.

func dealLog(t *testing.T, w *crmsynctest.World) []store.SyncLogEntry {
	t.Helper()
	log, err := w.DB.SyncLog(ctx, w.Admin.WorkspaceID, w.Conn.ID, store.SyncLogFilter{CRMObject: crm.NewDealObject})
	if err != nil {
		t.Fatal(err)
	}
	return log
}

func TestDealMadeOnceWithItsAccount(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	w.MakeDeals(qwoty.DealOnSent, qwoty.MatchByName)

	c := w.Customer("Globex", "https://www.globex.example/about", "erp:customer:7")
	if c.CRMAccountID != "" || c.Domain != "globex.example" {
		t.Fatalf("the new customer %+v", c)
	}
	q := w.QuoteFor(c, crmsynctest.Line{SKU: "LIC", Quantity: 2, Price: "50"})
	if q.CRMRecordID != "" || q.Primary || q.CustomerID != c.ID {
		t.Fatalf("the quote for a customer: record %q, primary %v, customer %q", q.CRMRecordID, q.Primary, q.CustomerID)
	}
	// A draft makes nothing (the deal status is sent).
	time.Sleep(300 * time.Millisecond)
	if _, err := w.DB.DealCreationOf(ctx, w.Conn.ID, q.ID); err != qwoty.ErrNotFound {
		t.Fatalf("a draft queued its deal: %v", err)
	}
	// Sent, viewed, accepted: the trigger fires three times.
	q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
	q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusViewed) })
	d := w.WaitDeal(q, store.DealDone, 10*time.Second)
	companies, deals := emu.MadeCompanies(), emu.MadeDeals()
	if len(companies) != 1 || len(deals) != 1 {
		t.Fatalf("%d companies, %d deals made; want 1 and 1: %+v %+v", len(companies), len(deals), companies, deals)
	}
	co, de := companies[0], deals[0]
	if co.Name != "Globex" || co.Domain != "globex.example" || co.Ref != qwoty.AccountRef(c.ID) {
		t.Fatalf("the company %+v", co)
	}
	if de.ID != d.CRMRecordID || de.CompanyID != co.ID || de.Ref != qwoty.DealRef(q.ID) || de.Name != q.Title ||
		de.Currency != "EUR" || de.Amount != "100.00" {
		t.Fatalf("the deal %+v, row %+v", de, d)
	}
	if d.CRMAccountID != co.ID || d.AccountAction != crm.ActionCreated {
		t.Fatalf("row %+v", d)
	}
	// The quote is the deal's (its primary quote) and goes to it as any.
	moved := w.Moved(q, de.ID)
	if !moved.Primary {
		t.Fatal("the quote is not its deal's primary quote")
	}
	moved = w.WaitState(moved, qwoty.SyncSynced, 10*time.Second)
	if got, _ := emu.Synced(de.ID); got.Amount != "100.00" || len(got.Lines) != 1 {
		t.Fatalf("the deal as synced: %+v", got)
	}
	linked, err := w.DB.APICustomer(ctx, w.Scope(""), c.ID)
	if err != nil || linked.CRMAccountID != co.ID {
		t.Fatalf("the customer after: %+v, %v", linked, err)
	}
	moved = w.Edit(moved, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusAccepted) })
	time.Sleep(300 * time.Millisecond)
	if len(emu.MadeCompanies()) != 1 || len(emu.MadeDeals()) != 1 {
		t.Fatalf("after acceptance: %d companies, %d deals", len(emu.MadeCompanies()), len(emu.MadeDeals()))
	}
	log := dealLog(t, w)
	if len(log) != 1 || log[0].Outcome != store.SyncedOutcome || log[0].CRMID != de.ID ||
		!strings.Contains(string(log[0].Written), `"account"`) {
		t.Fatalf("sync log: %+v", log)
	}

	// A second quote of the customer goes on its link: a second deal, no
	// second company.
	q2 := w.QuoteFor(linked, crmsynctest.Line{SKU: "SUP", Quantity: 1, Price: "10"})
	w.Edit(q2, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
	d2 := w.WaitDeal(q2, store.DealDone, 10*time.Second)
	if d2.AccountAction != store.AccountLinked || d2.CRMAccountID != co.ID || len(emu.MadeCompanies()) != 1 || len(emu.MadeDeals()) != 2 {
		t.Fatalf("second deal %+v; %d companies, %d deals", d2, len(emu.MadeCompanies()), len(emu.MadeDeals()))
	}
}

// The CRM makes the company and the deal but both answers are lost: the
// retries find each by Qwoty's reference and adopt it.
func TestDealLostAnswersAdopt(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	w.MakeDeals(qwoty.DealOnDraft, qwoty.MatchByName)
	for _, route := range []string{"POST /api/companies", "POST /api/deals"} {
		if err := emu.Inject(emulator.Fault{Route: route, Times: 1, Drop: true}); err != nil {
			t.Fatal(err)
		}
	}
	q := w.QuoteFor(w.Customer("Initech", "", "erp:customer:8"), crmsynctest.Line{SKU: "LIC", Quantity: 1, Price: "10"})
	d := w.WaitDeal(q, store.DealDone, 15*time.Second)
	companies, deals := emu.MadeCompanies(), emu.MadeDeals()
	if len(companies) != 1 || len(deals) != 1 || deals[0].ID != d.CRMRecordID || d.CRMAccountID != companies[0].ID {
		t.Fatalf("%+v %+v, row %+v", companies, deals, d)
	}
	if d.AccountAction != crm.ActionAdopted || d.Attempts != 2 {
		t.Fatalf("row %+v: want the account adopted after 2 lost answers", d)
	}
	log := dealLog(t, w)
	if len(log) != 3 || !strings.Contains(string(log[0].Written), `"adopted"`) || log[1].Outcome != store.RetryingOutcome {
		t.Fatalf("sync log: %+v", log)
	}
}

// An account a person made is matched by name (any case), or by domain;
// nothing new is made.
func TestDealMatchesAnAccount(t *testing.T) {
	for _, tc := range []struct {
		match          qwoty.AccountMatch
		name, domain   string
		companyName    string
		companyDomain  string
		wantMadeByHand bool
	}{
		{qwoty.MatchByName, "ACME corp", "", "Acme Corp", "", true},
		{qwoty.MatchByDomain, "Acme (EU)", "acme.example", "Acme Corp", "acme.example", true},
		// By domain, a customer without one is matched by name.
		{qwoty.MatchByDomain, "Acme Corp", "", "Acme Corp", "acme.example", true},
		// By domain, a same-named account of another domain is not it.
		{qwoty.MatchByDomain, "Acme Corp", "acme.test", "Acme Corp", "acme.example", false},
	} {
		t.Run(string(tc.match)+"/"+tc.name+"/"+tc.domain, func(t *testing.T) {
			emu, a := testCRM(t, tctest.Options{}, 0)
			w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
			w.MakeDeals(qwoty.DealOnDraft, tc.match)
			emu.PutCompany(tctest.Company{ID: "by-hand-1", Name: tc.companyName, Domain: tc.companyDomain})
			q := w.QuoteFor(w.Customer(tc.name, tc.domain, "erp:c"))
			d := w.WaitDeal(q, store.DealDone, 10*time.Second)
			matched := d.CRMAccountID == "by-hand-1" && d.AccountAction == store.AccountMatched && len(emu.MadeCompanies()) == 0
			if matched != tc.wantMadeByHand {
				t.Fatalf("row %+v, made %+v: matched %v, want %v", d, emu.MadeCompanies(), matched, tc.wantMadeByHand)
			}
		})
	}
}

// With deals made on acceptance, the order the acceptance generates waits
// for the deal and then goes to it; never, no deal is made.
func TestDealOnAcceptanceTakesItsOrder(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	w.MakeDeals(qwoty.DealOnAccepted, qwoty.MatchByName)
	w.SendOrders()
	q := w.QuoteFor(w.Customer("Umbrella", "", "erp:u"), crmsynctest.Line{SKU: "LIC", Quantity: 3, Price: "10"})
	q, o := w.Accept(q)
	if o.CRMRecordID != "" {
		t.Fatalf("the order is on %q before the deal", o.CRMRecordID)
	}
	d := w.WaitDeal(q, store.DealDone, 10*time.Second)
	moved, err := w.DB.QuoteOrder(ctx, w.Scope(d.CRMRecordID), q.ID)
	if err != nil || moved == nil || moved.CRMRecordID != d.CRMRecordID {
		t.Fatalf("the order after the deal: %+v, %v", moved, err)
	}
	w.WaitOrderPush(moved, store.OrderPushDone, qwoty.OrderOpen, 10*time.Second)
	if orders := emu.Orders(d.CRMRecordID); len(orders) != 1 || orders[0].Number != o.Number {
		t.Fatalf("orders on the deal: %+v", orders)
	}

	w.MakeDeals(qwoty.DealNever, qwoty.MatchByName)
	q2 := w.QuoteFor(w.Customer("Umbrella", "", "erp:u"), crmsynctest.Line{SKU: "LIC", Quantity: 1, Price: "10"})
	w.Accept(q2)
	time.Sleep(300 * time.Millisecond)
	if _, err := w.DB.DealCreationOf(ctx, w.Conn.ID, q2.ID); err != qwoty.ErrNotFound {
		t.Fatalf("never made a deal anyway: %v", err)
	}
}

// The CRM refuses the deal: the making fails alone, with its words, the
// alert lists it; an admin's Retry makes it (the account made before the
// refusal is kept, not made again).
func TestDealRefusedThenRetried(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	w.MakeDeals(qwoty.DealOnDraft, qwoty.MatchByName)
	if err := emu.Inject(emulator.Fault{Route: "POST /api/deals", Times: 1, Status: http.StatusUnprocessableEntity}); err != nil {
		t.Fatal(err)
	}
	q := w.QuoteFor(w.Customer("Hooli", "", "erp:h"), crmsynctest.Line{SKU: "LIC", Quantity: 1, Price: "10"})
	d := w.WaitDeal(q, store.DealFailed, 10*time.Second)
	if d.Code != qwoty.CodeSyncRejected || d.CRMAccountID == "" || len(emu.MadeDeals()) != 0 {
		t.Fatalf("row %+v, deals %+v", d, emu.MadeDeals())
	}
	failed, err := w.DB.FailedDeals(ctx, w.Conn.ID, 10)
	if err != nil || len(failed) != 1 || !strings.Contains(failed[0].Message, q.Number) {
		t.Fatalf("failed deals %+v, %v", failed, err)
	}
	if _, err := w.DB.RetryDeal(ctx, "00000000-0000-0000-0000-000000000000", q.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	if again, _ := w.DB.DealCreationOf(ctx, w.Conn.ID, q.ID); again.State != store.DealFailed {
		t.Fatalf("another workspace's retry moved it: %+v", again)
	}
	if ok, err := w.DB.RetryDeal(ctx, w.Admin.WorkspaceID, q.ID, "admin"); err != nil || !ok {
		t.Fatalf("retry: %v, %v", ok, err)
	}
	d = w.WaitDeal(q, store.DealDone, 10*time.Second)
	if len(emu.MadeCompanies()) != 1 || len(emu.MadeDeals()) != 1 || d.CRMAccountID != emu.MadeCompanies()[0].ID {
		t.Fatalf("after retry: row %+v, %d companies, %d deals", d, len(emu.MadeCompanies()), len(emu.MadeDeals()))
	}
}
