package store_test

import (
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// A stage changed in the CRM moves the record's primary quote through the
// status mapping, by its policy: a move the lifecycle refuses is a
// conflict, never forced; Qwoty's own write coming back changes nothing;
// without a status mapping stages change nothing.
func TestStageFromCRM(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	s := store.Scope{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, RecordID: "006A"}
	q, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := qwoty.ParseLine(qwoty.LineInput{SKU: "A", Quantity: "1", UnitPrice: "5"})
	if q, err = db.UpdateQuote(ctx, s, q.ID, 0, "rep", func(q *qwoty.Quote) error {
		if err := q.AddLine(l); err != nil {
			return err
		}
		return q.Transition(qwoty.StatusSent)
	}); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(time.Hour) // the CRM's edits are later than Qwoty's
	tick := 0
	pull := func(stage string, echo bool) store.PullApplied {
		t.Helper()
		tick++
		got, err := db.StorePulled(ctx, c.WorkspaceID, c.ID, []crm.Pulled{{Kind: crm.KindDeal, ID: "006A", Echo: echo,
			Modified: at.Add(time.Duration(tick) * time.Second), Deal: &crm.PulledDeal{Name: "A", Stage: stage}}})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	status := func() qwoty.Status {
		t.Helper()
		got, err := db.GetQuote(ctx, s, q.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Status
	}
	pull("Proposal", false) // first sight: nothing to compare with
	if got := pull("Closed Won", false); got.Moved != 0 || status() != qwoty.StatusSent {
		t.Fatalf("without a status mapping a stage moved the quote: %+v, %s", got, status())
	}
	vm := map[string]string{"sent": "Proposal", "accepted": "Closed Won", "rejected": "Closed Lost"}
	m, err := db.SaveMapping(ctx, c.WorkspaceID, c.ID, qwoty.Mapping{QwotyField: "quote.status", Object: "deal", CRMField: "StageName",
		Direction: qwoty.BothWays, Policy: qwoty.LastWriteWins, ValueMap: vm, Standard: true})
	if err != nil {
		t.Fatal(err)
	}
	pull("Proposal", false)
	// Qwoty's own write coming back is not an edit.
	if got := pull("Closed Won", true); got.Moved != 0 || status() != qwoty.StatusSent {
		t.Fatalf("an echo moved the quote: %+v", got)
	}
	pull("Proposal", false)
	// A rep wins the deal in the CRM: the quote is accepted.
	if got := pull("Closed Won", false); got.Moved != 1 || status() != qwoty.StatusAccepted {
		t.Fatalf("Closed Won: %+v, status %s", got, status())
	}
	// Accepted is final: losing the deal in the CRM is a conflict.
	if got := pull("Closed Lost", false); got.Conflicts != 1 || status() != qwoty.StatusAccepted {
		t.Fatalf("Closed Lost after accepted: %+v, status %s", got, status())
	}
	open, err := db.Conflicts(ctx, c.WorkspaceID, c.ID, true, 10)
	if err != nil || len(open) != 1 || open[0].CRMValue != "Closed Lost" || open[0].QwotyValue != "accepted" || open[0].MappingID != m.ID {
		t.Fatalf("conflicts: %+v, %v", open, err)
	}

	// Last write wins: a stage older than the quote's own last change loses,
	// and Qwoty's status is pushed back.
	s2 := store.Scope{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, RecordID: "006B"}
	q2, err := db.CreateQuote(ctx, s2, store.NewQuote{Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = db.UpdateQuote(ctx, s2, q2.ID, 0, "rep", func(q *qwoty.Quote) error {
		if err := q.AddLine(l); err != nil {
			return err
		}
		return q.Transition(qwoty.StatusSent)
	}); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	for i, stage := range []string{"Proposal", "Closed Won"} {
		if _, err := db.StorePulled(ctx, c.WorkspaceID, c.ID, []crm.Pulled{{Kind: crm.KindDeal, ID: "006B",
			Modified: old.Add(time.Duration(i) * time.Second), Deal: &crm.PulledDeal{Name: "B", Stage: stage}}}); err != nil {
			t.Fatal(err)
		}
	}
	var st string
	var pending bool
	if err := db.Pool().QueryRow(ctx, `SELECT q.status, r.state = 'pending' AND r.desired_seq > r.synced_seq FROM quotes q
		JOIN sync_records r ON r.connection_id = q.connection_id AND r.crm_record_id = q.crm_record_id WHERE q.id = $1`, q2.ID).Scan(&st, &pending); err != nil {
		t.Fatal(err)
	}
	if st != "sent" || !pending {
		t.Fatalf("an older CRM stage: status %s, push pending %v; want sent, and Qwoty's status pushed back", st, pending)
	}

	// The admin picks: the CRM's "Closed Lost" cannot be taken (accepted is
	// final) and the conflict stays open; Qwoty's value resolves it.
	if _, err := db.ResolveConflict(ctx, c.WorkspaceID, c.ID, open[0].ID, qwoty.SideCRM, "admin"); qwoty.ErrorCode(err) != qwoty.CodeInvalidTransition {
		t.Fatalf("taking a stage the lifecycle refuses: %v", err)
	}
	if still, _ := db.Conflicts(ctx, c.WorkspaceID, c.ID, true, 10); len(still) != 1 {
		t.Fatalf("a refused pick closed the conflict: %+v", still)
	}
	if got, err := db.ResolveConflict(ctx, c.WorkspaceID, c.ID, open[0].ID, qwoty.SideQwoty, "admin"); err != nil || got.Chosen != qwoty.SideQwoty {
		t.Fatalf("keeping Qwoty's value: %+v, %v", got, err)
	}
}
