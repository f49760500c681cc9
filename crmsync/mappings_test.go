package crmsync_test

import (
	"testing"
	"time"

	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/testcrm"
	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store/storetest"
)

// The admin's mappings go with the push: a custom field gets the quote's
// value, a broken mapping writes nothing, and the status mapping's value
// map is the stage map.
func TestMappedFieldsArePushed(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	save := func(m qwoty.Mapping) {
		t.Helper()
		if _, err := w.DB.SaveMapping(ctx, w.Conn.WorkspaceID, w.Conn.ID, m); err != nil {
			t.Fatal(err)
		}
	}
	save(qwoty.Mapping{QwotyField: "quote.number", Object: "deal", CRMField: "quote_number", Direction: qwoty.ToCRM, Policy: qwoty.QwotyWins})
	save(qwoty.Mapping{QwotyField: "quote.status", Object: "deal", CRMField: "stage", Direction: qwoty.BothWays, Policy: qwoty.LastWriteWins,
		Standard: true, ValueMap: map[string]string{"sent": "negotiation"}})
	broken := qwoty.Mapping{QwotyField: "quote.created", Object: "deal", CRMField: "quote_date", Direction: qwoty.ToCRM, Policy: qwoty.QwotyWins}
	save(broken)
	ms, err := w.DB.Mappings(ctx, w.Conn.WorkspaceID, w.Conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.CRMField == "quote_date" {
			if err := w.DB.MarkMapping(ctx, w.Conn.ID, m.ID, "the CRM's deal has no field quote_date"); err != nil {
				t.Fatal(err)
			}
		}
	}
	q := w.Quote(deal, crmsynctest.Line{SKU: "A-1", Quantity: 1, Price: "10"})
	q = w.WaitState(q, qwoty.SyncSynced, 10*time.Second)
	d, _ := emu.Synced(deal)
	if d.Fields["quote_number"] != q.Number {
		t.Fatalf("the mapped field: %+v, want quote_number = %s", d.Fields, q.Number)
	}
	if _, ok := d.Fields["quote_date"]; ok {
		t.Fatalf("a broken mapping was pushed: %+v", d.Fields)
	}
	w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
	w.WaitFor("the mapped stage", 10*time.Second, func() bool { d, _ := emu.Synced(deal); return d.Stage == "negotiation" })
}

// Two ways through the engine: Qwoty's status goes out as the deal's
// stage and comes back as an echo that moves nothing; a stage a person
// sets in the CRM later moves the quote; a stage the quote's lifecycle
// refuses (an accepted quote lost) opens a conflict instead.
func TestStageComesBackFromTheCRM(t *testing.T) {
	clock := emulator.NewClock(time.Now().Add(-time.Minute))
	emu := tctest.New(t, tctest.Options{AnyDeal: true, RecordClock: clock.Now})
	a := testcrm.NewAdapter(testcrm.Options{ClientID: tctest.DefaultClientID, ClientSecret: tctest.DefaultClientSecret,
		RedirectURL: tctest.DefaultRedirectURL, BaseURL: emu.URL})
	emu.PutDeal(tctest.DealRecord{ID: "d1", Name: "Acme", Stage: "new"})
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	if err := crmsync.PresetMappings(ctx, w.DB, a, w.Conn); err != nil {
		t.Fatal(err)
	}
	stageOf := func() string {
		var s string
		_ = storetest.Pool(t, w.DB).QueryRow(ctx, `SELECT stage FROM crm_deals WHERE connection_id = $1 AND crm_id = 'd1'`, w.Conn.ID).Scan(&s)
		return s
	}
	pullNow := func(want string) {
		t.Helper()
		// A poll asked for while one runs is folded into it (polls are
		// unique while queued or running): let the running one end.
		waitPulls(t, w)
		if err := w.DB.QueuePull(ctx, w.Conn.ID, "", nil); err != nil {
			t.Fatal(err)
		}
		w.WaitFor("the deal's stage "+want, 10*time.Second, func() bool { return stageOf() == want })
	}
	pullNow("new")
	clock.Advance(time.Second) // the push's write is later than the deal's creation

	q := w.Quote("d1", crmsynctest.Line{SKU: "A-1", Quantity: 1, Price: "10"})
	q = w.WaitState(q, qwoty.SyncSynced, 10*time.Second)
	q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
	w.WaitFor("the pushed stage", 10*time.Second, func() bool { d, _ := emu.Synced("d1"); return d.Stage == "proposal" })
	pullNow("proposal") // Qwoty's own write coming back
	if got := w.Get(q); got.Status != qwoty.StatusSent {
		t.Fatalf("the echo moved the quote to %s", got.Status)
	}

	clock.Advance(5 * time.Minute) // a person's change, later than Qwoty's
	emu.PutDeal(tctest.DealRecord{ID: "d1", Name: "Acme", Stage: "won"})
	pullNow("won")
	w.WaitFor("the quote accepted", 5*time.Second, func() bool { return w.Get(q).Status == qwoty.StatusAccepted })

	clock.Advance(time.Minute)
	emu.PutDeal(tctest.DealRecord{ID: "d1", Name: "Acme", Stage: "lost"})
	pullNow("lost")
	open, err := w.DB.Conflicts(ctx, w.Conn.WorkspaceID, w.Conn.ID, true, 10)
	if err != nil || len(open) != 1 || open[0].CRMValue != "lost" || w.Get(q).Status != qwoty.StatusAccepted {
		t.Fatalf("an accepted quote lost in the CRM: conflicts %+v, %v; status %s", open, err, w.Get(q).Status)
	}
}
