package crmsync_test

import (
	"testing"
	"time"

	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Through the engine's poll, with the test CRM: a
// company's custom field mapped pull-wise becomes the customer's email,
// and a deal's the quote's title; an emptied one empties the email.
func TestPullMappedFieldsTestCRM(t *testing.T) {
	emu, a, clock := pullCRM(t, tctest.Options{})
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, noEngine())
	// The standard mappings too: the custom email mapping is read rather
	// than the standard one, the standard name as ever.
	if err := crmsync.PresetMappings(bg, w.DB, a, w.Conn); err != nil {
		t.Fatal(err)
	}
	for _, m := range []qwoty.Mapping{
		{QwotyField: "customer.email", Object: "customer", CRMField: "billing_email", Direction: qwoty.FromCRM, Policy: qwoty.CRMWins},
		{QwotyField: "quote.title", Object: "deal", CRMField: "quote_title", Direction: qwoty.BothWays, Policy: qwoty.CRMWins},
	} {
		if _, err := w.DB.SaveMapping(bg, w.Conn.WorkspaceID, w.Conn.ID, m); err != nil {
			t.Fatal(err)
		}
	}
	emu.PutCompany(tctest.Company{ID: "c1", Name: "Acme Inc.", Email: "info@acme.test", Fields: map[string]string{"billing_email": "ap@acme.test"}})
	emu.PutDeal(tctest.DealRecord{ID: "d1", Name: "Acme - rollout", Stage: "proposal", CompanyID: "c1"})
	pullOnce(t, w, a)
	email := func() string {
		return one[string](t, w, `SELECT email FROM customers WHERE connection_id = $1 AND crm_account_id = 'c1'`, w.Conn.ID)
	}
	if got := email(); got != "ap@acme.test" {
		t.Fatalf("customer email %q, want the billing_email field's", got)
	}
	if got := one[string](t, w, `SELECT name FROM customers WHERE connection_id = $1 AND crm_account_id = 'c1'`, w.Conn.ID); got != "Acme Inc." {
		t.Fatalf("customer name %q, want the company's name", got)
	}
	q, err := w.DB.CreateQuote(bg, w.Scope("d1"), store.NewQuote{Title: "Draft", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	emu.PutDeal(tctest.DealRecord{ID: "d1", Name: "Acme - rollout", Stage: "proposal", CompanyID: "c1",
		Fields: map[string]string{"quote_title": "Acme rollout, phase 2"}})
	rep := pullOnce(t, w, a)
	if got := w.Get(q); got.Title != "Acme rollout, phase 2" || stream(rep, "deal").Taken != 1 {
		t.Fatalf("quote title %q, deal stream %+v; want the quote_title field's, taken", got.Title, stream(rep, "deal"))
	}
	clock.Advance(time.Minute)
	emu.PutCompany(tctest.Company{ID: "c1", Name: "Acme Inc.", Email: "info@acme.test"})
	pullOnce(t, w, a)
	if got := email(); got != "" {
		t.Fatalf("customer email %q after the field was emptied, want none", got)
	}
}

// The standard mappings read the company's own name and email: the pull
// asks for them, and a CRM answers them among the record's fields.
func TestPullStandardMappingsTestCRM(t *testing.T) {
	emu, a, _ := pullCRM(t, tctest.Options{})
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, noEngine())
	if err := crmsync.PresetMappings(bg, w.DB, a, w.Conn); err != nil {
		t.Fatal(err)
	}
	emu.PutCompany(tctest.Company{ID: "c1", Name: "Acme Inc.", Email: "info@acme.test"})
	pullOnce(t, w, a)
	if got := one[string](t, w, `SELECT name || ' <' || email || '>' FROM customers WHERE connection_id = $1 AND crm_account_id = 'c1'`,
		w.Conn.ID); got != "Acme Inc. <info@acme.test>" {
		t.Fatalf("customer %q, want the company's name and email", got)
	}
}
