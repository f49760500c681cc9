package hubspot_test

import (
	"context"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/crm/synctest"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// Mappings that pull read their own properties: a custom company property
// becomes the customer's name, a custom deal property the quote's title,
// in a listing and in a fetch.
func TestPullMappedProperties(t *testing.T) {
	e := newPullEnv(t, hstest.Portal{
		Companies: []hstest.Company{{ID: "101", Name: "Acme", Properties: map[string]string{"legal_name": "Acme Legal SAS"}}},
		Deals:     []hstest.Deal{{ID: "301", Name: "Acme deal", Stage: "qualifiedtobuy", CompanyIDs: []string{"101"}}},
	}, 0)
	ws, conn := e.w.Conn.WorkspaceID, e.w.Conn.ID
	for _, m := range []qwoty.Mapping{
		{QwotyField: "customer.name", Object: "customer", CRMField: "legal_name", Direction: qwoty.FromCRM, Policy: qwoty.CRMWins},
		{QwotyField: "quote.title", Object: "deal", CRMField: "qwoty_title", Direction: qwoty.BothWays, Policy: qwoty.CRMWins},
	} {
		if _, err := e.w.DB.SaveMapping(context.Background(), ws, conn, m); err != nil {
			t.Fatal(err)
		}
	}
	e.pull() // the deal is known before its title changes
	q, err := e.w.DB.CreateQuote(context.Background(), e.w.Scope("301"), store.NewQuote{Title: "Draft title", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Step(time.Second)
	e.hs.SetDealProperty(hstest.DefaultPortalID, "301", "qwoty_title", "Renewal 2027")
	e.pull()
	var name string
	e.scan(`SELECT name FROM customers WHERE connection_id = $1 AND crm_account_id = '101'`, &name)
	if name != "Acme Legal SAS" {
		t.Errorf("customer name %q, want the legal_name property's", name)
	}
	got, err := e.w.DB.GetQuote(context.Background(), e.w.Scope("301"), q.ID)
	if err != nil || got.Title != "Renewal 2027" {
		t.Fatalf("quote title %q (%v), want the qwoty_title property's", got.Title, err)
	}

	b := synctest.NewBudget(e.a.Sync().Buckets(e.w.Conn, 1)...)
	s := session.New(e.w.DB, e.a, e.w.Conn)
	recs, err := e.a.Pull().Fetch(context.Background(), s, b, crm.KindCustomer, []string{"101"}, []string{"legal_name", "vat_number"})
	if err != nil || len(recs) != 1 || recs[0].Fields["legal_name"] != "Acme Legal SAS" {
		t.Fatalf("fetch: %+v, %v", recs, err)
	}
	if v, ok := recs[0].Fields["vat_number"]; !ok || v != "" {
		t.Errorf("an asked property without a value: %q, %v; want it read as empty", v, ok)
	}
	if _, err := e.a.Pull().Fetch(context.Background(), s, b, crm.KindCustomer, []string{"101"}, []string{"name, hs_secret"}); err == nil {
		t.Error("a property name with a comma and a space was asked for")
	}
}

// Polling cannot tell Qwoty's own write from a person's: HubSpot does not
// say who changed a deal. A quote sent and then accepted quickly: a poll
// that reads the stage pushed for "sent" after the quote was accepted
// (before the acceptance's push) must neither open a conflict nor move
// the quote back; the stage is the base the push recorded.
func TestPollIgnoresPushedStage(t *testing.T) {
	hs := hstest.New(t, hstest.Options{})
	a := hubspot.NewAdapter(hubspot.Options{ClientID: hstest.DefaultClientID, ClientSecret: hstest.DefaultClientSecret,
		RedirectURL: hstest.DefaultRedirectURL, AuthURL: hs.URL, APIURL: hs.URL})
	w := crmsynctest.New(t, a, hstest.DefaultRedirectURL, crmsync.Options{Workers: -1})
	ctx := context.Background()
	if err := crmsync.PresetMappings(ctx, w.DB, a, w.Conn); err != nil {
		t.Fatal(err)
	}
	hs.PutProperty(hstest.DefaultPortalID, "deals", hstest.Property{Name: "qwoty_title", Label: "Quote title", Type: "string",
		FieldType: "text", GroupName: "dealinformation"})
	title, err := w.DB.SaveMapping(ctx, w.Conn.WorkspaceID, w.Conn.ID, qwoty.Mapping{QwotyField: "quote.title", Object: "deal",
		CRMField: "qwoty_title", Direction: qwoty.BothWays, Policy: qwoty.Manual})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := w.DB.Mappings(ctx, w.Conn.WorkspaceID, w.Conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	sentStage, status := "", ""
	for _, m := range ms {
		if m.QwotyField == "quote.status" {
			sentStage, status = m.ValueMap[string(qwoty.StatusSent)], m.ID
		}
	}
	if sentStage == "" || sentStage == "qualifiedtobuy" {
		t.Fatalf("the status mapping's stage for sent is %q", sentStage)
	}
	poll := func() crmsync.PullReport {
		t.Helper()
		rep, err := crmsync.PullOnce(ctx, w.DB, a, w.Conn, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	poll() // the deal is known, in qualifiedtobuy

	e := w.Start(crmsynctest.FastOptions())
	// The poll queued when the connection was made runs first, so that no
	// poll reads the deal between the push below and the test's own.
	pool := storetest.Pool(t, w.DB)
	w.WaitFor("the connection's first poll", 10*time.Second, func() bool {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1 AND state NOT IN ('completed', 'cancelled', 'discarded')`,
			jobs.SyncPull{}.Kind()).Scan(&n)
		return err == nil && n == 0
	})
	q := w.Quote(hstest.DefaultDealID, crmsynctest.Line{SKU: "A-1", Quantity: 1, Price: "10"})
	q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
	w.WaitFor("the stage pushed for sent", 10*time.Second, func() bool {
		return hs.DealProperties(hstest.DefaultPortalID, hstest.DefaultDealID)["dealstage"] == sentStage
	})
	w.WaitState(q, qwoty.SyncSynced, 10*time.Second)
	if err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// The push recorded what both sides now hold, per mapping that pulls.
	base, err := w.DB.BaseOf(ctx, w.Conn.ID, "deal", hstest.DefaultDealID)
	if err != nil || base[status] != sentStage || base[title.ID] != q.Title {
		t.Fatalf("bases after the push %v (%v); want the status's %q and the title's %q", base, err, sentStage, q.Title)
	}
	// Accepted before the acceptance is pushed (the engine is stopped).
	q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusAccepted) })
	var stored string
	if err := pool.QueryRow(ctx, `SELECT stage FROM crm_deals WHERE connection_id = $1 AND crm_id = $2`,
		w.Conn.ID, hstest.DefaultDealID).Scan(&stored); err != nil || stored == sentStage {
		t.Fatalf("the deal's stored stage is %q (%v): the poll below must see a changed stage", stored, err)
	}

	rep := poll()
	moved, conflicts := 0, 0
	for _, s := range rep.Streams {
		moved, conflicts = moved+s.Moved, conflicts+s.Conflicts
	}
	if got := w.Get(q); got.Status != qwoty.StatusAccepted || moved != 0 || conflicts != 0 {
		t.Fatalf("after a poll read the stage pushed for sent: quote %s, %d moved, %d conflicts; want accepted, none", got.Status, moved, conflicts)
	}
	if open, err := w.DB.Conflicts(ctx, w.Conn.WorkspaceID, w.Conn.ID, true, 10); err != nil || len(open) != 0 {
		t.Fatalf("open conflicts %+v, %v", open, err)
	}
}
