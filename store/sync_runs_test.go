package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// preSync makes n quotes spread over records (rec0..rec{records-1}) as
// quotes made before sync are: never captured, no outbox row.
func preSync(t *testing.T, db *store.DB, c *qwoty.Connection, n, records int) []*qwoty.Quote {
	t.Helper()
	var qs []*qwoty.Quote
	for i := range n {
		s := store.Scope{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, RecordID: fmt.Sprintf("006%015d", i%records)}
		q, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "USD"})
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE quotes SET sync_seq = 0 WHERE connection_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `DELETE FROM sync_records WHERE connection_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	return qs
}

func walkAll(t *testing.T, db *store.DB, runID string, chunk int) int {
	t.Helper()
	total := 0
	for range 1000 {
		n, err := db.CaptureBackfill(ctx, runID, chunk)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if n < chunk {
			return total
		}
	}
	t.Fatal("the walk never ended")
	return 0
}

// The keyset walk captures every quote that needs it exactly once (a
// record's quotes over several chunks count on its one row), leaves a
// deleted quote and a record already waiting for a real-time push alone,
// and a second walk finds nothing.
func TestBackfillWalksEveryQuoteOnce(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	qs := preSync(t, db, c, 23, 7)
	// A deleted quote is not pushed by a back-fill.
	if _, err := db.Pool().Exec(ctx, `UPDATE quotes SET deleted_at = now() WHERE id = $1`, qs[22].ID); err != nil {
		t.Fatal(err)
	}
	// A record with a real-time change pending keeps its row; its other
	// quotes go out with that push, outside the run.
	rt := store.Scope{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, RecordID: "006RT"}
	if _, err := db.CreateQuote(ctx, rt, store.NewQuote{Currency: "USD"}); err != nil {
		t.Fatal(err)
	}
	n, err := db.BackfillCount(ctx, c.WorkspaceID, c.ID)
	if err != nil || n != 22 {
		t.Fatalf("count %d, %v; want 22", n, err)
	}
	run, err := db.StartBackfill(ctx, c.WorkspaceID, c.ID, "admin@a")
	if err != nil || run.Total != 22 || run.Status != store.RunRunning {
		t.Fatalf("start: %+v, %v", run, err)
	}
	if got := walkAll(t, db, run.ID, 5); got != 22 {
		t.Fatalf("walked %d quotes, want 22", got)
	}
	var rows, quotes, uncaptured int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*), sum(run_quotes) FROM sync_records WHERE run_id = $1`, run.ID).Scan(&rows, &quotes); err != nil {
		t.Fatal(err)
	}
	if rows != 7 || quotes != 22 {
		t.Fatalf("run rows %d carrying %d quotes; want 7 records, 22 quotes", rows, quotes)
	}
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM quotes WHERE connection_id = $1 AND sync_seq = 0 AND deleted_at IS NULL`, c.ID).Scan(&uncaptured); err != nil || uncaptured != 0 {
		t.Fatalf("%d live quotes left uncaptured, %v", uncaptured, err)
	}
	var rtRun *string
	if err := db.Pool().QueryRow(ctx, `SELECT run_id::text FROM sync_records WHERE crm_record_id = '006RT'`).Scan(&rtRun); err != nil || rtRun != nil {
		t.Fatalf("the real-time row was taken by the run: %v, %v", rtRun, err)
	}
	got, err := db.SyncRunOf(ctx, c.WorkspaceID, c.ID, run.ID)
	if err != nil || !got.Walked || got.Total != 22 {
		t.Fatalf("after the walk: %+v, %v", got, err)
	}
	if n, _ := db.BackfillCount(ctx, c.WorkspaceID, c.ID); n != 0 {
		t.Fatalf("%d quotes still to back-fill after the walk", n)
	}
}

// A job that stops between chunks resumes at the run's cursor: quotes the
// earlier chunks walked are not walked again, even if they look untouched.
func TestBackfillResumesAtItsCursor(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	preSync(t, db, c, 12, 12)
	run, err := db.StartBackfill(ctx, c.WorkspaceID, c.ID, "admin@a")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if n, err := db.CaptureBackfill(ctx, run.ID, 4); err != nil || n != 4 {
			t.Fatalf("chunk: %d, %v", n, err)
		}
	}
	// The restart: nothing of the job's is kept but the run's row. Make
	// the walked quotes look untouched again: only the cursor can skip them.
	if _, err := db.Pool().Exec(ctx, `UPDATE quotes SET sync_seq = 0 WHERE connection_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if got := walkAll(t, db, run.ID, 4); got != 4 {
		t.Fatalf("after the restart the walk took %d quotes, want the 4 past the cursor", got)
	}
}

// A back-fill's records are leased after real-time ones, whatever their
// due times; a record a real-time change touched is real-time again.
func TestBackfillLeasedAfterRealtime(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	qs := preSync(t, db, c, 3, 3)
	run, err := db.StartBackfill(ctx, c.WorkspaceID, c.ID, "admin@a")
	if err != nil {
		t.Fatal(err)
	}
	walkAll(t, db, run.ID, 10)
	if _, err := db.Pool().Exec(ctx, `UPDATE sync_records SET due_at = now() - interval '1 hour' WHERE run_id = $1`, run.ID); err != nil {
		t.Fatal(err)
	}
	rt := store.Scope{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, RecordID: "006RT"}
	if _, err := db.CreateQuote(ctx, rt, store.NewQuote{Currency: "USD"}); err != nil {
		t.Fatal(err)
	}
	// A status change on a back-filled record makes it real-time.
	s1 := store.Scope{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, RecordID: qs[1].CRMRecordID}
	if _, err := db.UpdateQuote(ctx, s1, qs[1].ID, 0, "u", func(q *qwoty.Quote) error { return q.SetTerms(qwoty.Terms{Title: "Edited", Currency: "USD"}) }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE sync_records SET due_at = now() WHERE run_id IS NULL OR desired_seq <> run_seq`); err != nil {
		t.Fatal(err)
	}
	_, recs, err := db.LeaseSync(ctx, c.ID, 2, time.Minute)
	if err != nil || len(recs) != 2 {
		t.Fatalf("lease: %v, %v", recs, err)
	}
	got := map[string]bool{recs[0].RecordID: recs[0].Backfill, recs[1].RecordID: recs[1].Backfill}
	if b, ok := got["006RT"]; !ok || b {
		t.Fatalf("leased %+v: want the real-time record first", recs)
	}
	if b, ok := got[qs[1].CRMRecordID]; !ok || b {
		t.Fatalf("leased %+v: want the back-filled record a status change touched among the real-time ones", recs)
	}
	_, recs, _ = db.LeaseSync(ctx, c.ID, 5, time.Minute)
	if len(recs) != 2 || !recs[0].Backfill || !recs[1].Backfill {
		t.Fatalf("then the back-fill's: %+v", recs)
	}
}

// Cancelling removes only the run's rows not pushed yet: a row already
// pushed, a row a real-time change took over and a real-time row stay;
// the removed rows' quotes are back to never captured.
func TestBackfillCancelRemovesOnlyItsPendingRows(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	qs := preSync(t, db, c, 5, 5)
	run, err := db.StartBackfill(ctx, c.WorkspaceID, c.ID, "admin@a")
	if err != nil {
		t.Fatal(err)
	}
	walkAll(t, db, run.ID, 10)
	// qs[0]'s record is pushed.
	tok, recs, err := db.LeaseSync(ctx, c.ID, 1, time.Minute)
	if err != nil || len(recs) != 1 {
		t.Fatal(recs, err)
	}
	snaps, _ := db.SyncSnapshots(ctx, c.ID, []string{recs[0].RecordID})
	if err := db.RecordSync(ctx, c.WorkspaceID, c.ID, tok, []store.SyncResult{{RecordID: recs[0].RecordID, Seq: snaps[0].Seq, Outcome: store.SyncedOutcome, Calls: 2}}); err != nil {
		t.Fatal(err)
	}
	pushed := recs[0].RecordID
	// The push's log row is the run's.
	var logRun *string
	if err := db.Pool().QueryRow(ctx, `SELECT run_id::text FROM sync_log WHERE crm_record_id = $1`, pushed).Scan(&logRun); err != nil || logRun == nil || *logRun != run.ID {
		t.Fatalf("log row's run: %v, %v", logRun, err)
	}
	p, err := db.UpdateRunProgress(ctx, run.ID, 0)
	if err != nil || p.Done != 1 || p.Total != 5 || p.Percent() != 20 {
		t.Fatalf("progress: %+v, %v", p, err)
	}
	// A real-time change takes over another record.
	var touched *qwoty.Quote
	for _, q := range qs {
		if q.CRMRecordID != pushed {
			touched = q
			break
		}
	}
	s := store.Scope{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, RecordID: touched.CRMRecordID}
	if _, err := db.UpdateQuote(ctx, s, touched.ID, 0, "u", func(q *qwoty.Quote) error { return q.SetTerms(qwoty.Terms{Title: "Edited", Currency: "USD"}) }); err != nil {
		t.Fatal(err)
	}
	// Another connection's run is not this workspace's to cancel.
	other := addOrg(t, db, "B", "00D00000000000BBBB")
	if _, err := db.CancelSyncRun(ctx, other.WorkspaceID, other.ID, run.ID, "b"); err == nil {
		t.Fatal("another workspace cancelled the run")
	}
	got, err := db.CancelSyncRun(ctx, c.WorkspaceID, c.ID, run.ID, "admin@a")
	if err != nil || got.Status != store.RunCancelling {
		t.Fatalf("cancel: %+v, %v", got, err)
	}
	// Cancelling stops the walk.
	if n, _ := db.CaptureBackfill(ctx, run.ID, 10); n != 0 {
		t.Fatalf("a cancelling run walked %d quotes", n)
	}
	removed, err := db.FinishCancelledRun(ctx, run.ID)
	if err != nil || removed != 3 {
		t.Fatalf("removed %d, %v; want the 3 records only the run had queued", removed, err)
	}
	var left []string
	rows, _ := db.Pool().Query(ctx, `SELECT crm_record_id FROM sync_records WHERE connection_id = $1 ORDER BY 1`, c.ID)
	for rows.Next() {
		var r string
		_ = rows.Scan(&r)
		left = append(left, r)
	}
	if len(left) != 2 || !contains(left, pushed) || !contains(left, touched.CRMRecordID) {
		t.Fatalf("rows left %v; want %s (pushed) and %s (real-time)", left, pushed, touched.CRMRecordID)
	}
	if n, _ := db.BackfillCount(ctx, c.WorkspaceID, c.ID); n != 3 {
		t.Fatalf("%d quotes to back-fill after the cancel, want the 3 removed", n)
	}
	if r, _ := db.SyncRunOf(ctx, c.WorkspaceID, c.ID, run.ID); r.Status != store.RunCancelled || r.FinishedAt.IsZero() {
		t.Fatalf("run after cancel: %+v", r)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// One running back-fill per connection; another connection's, or a new
// one after the first ended, may start. Sync now makes every pending
// record due and is recorded.
func TestOneBackfillPerConnectionAndSyncNow(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	preSync(t, db, c, 2, 2)
	run, err := db.StartBackfill(ctx, c.WorkspaceID, c.ID, "admin@a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.StartBackfill(ctx, c.WorkspaceID, c.ID, "admin@a"); qwoty.ErrorCode(err) != qwoty.CodeValidation {
		t.Fatalf("a second back-fill: %v, want %s", err, qwoty.CodeValidation)
	}
	other := addOrg(t, db, "B", "00D00000000000BBBB")
	if _, err := db.StartBackfill(ctx, c.WorkspaceID, other.ID, "admin@a"); err == nil {
		t.Fatal("a back-fill of another workspace's connection started")
	}
	if _, err := db.StartBackfill(ctx, other.WorkspaceID, other.ID, "admin@b"); err != nil {
		t.Fatalf("another connection's back-fill: %v", err)
	}
	if _, err := db.CancelSyncRun(ctx, c.WorkspaceID, c.ID, run.ID, "admin@a"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.StartBackfill(ctx, c.WorkspaceID, c.ID, "admin@a"); qwoty.ErrorCode(err) != qwoty.CodeValidation {
		t.Fatalf("a back-fill while one is cancelling: %v", err)
	}
	if _, err := db.FinishCancelledRun(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.StartBackfill(ctx, c.WorkspaceID, c.ID, "admin@a"); err != nil {
		t.Fatalf("a back-fill after the first ended: %v", err)
	}

	// Sync now: a record waiting (coalesced) is due now.
	s := store.Scope{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, RecordID: "006LATER"}
	if _, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "USD"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE sync_records SET due_at = now() + interval '1 hour' WHERE crm_record_id = '006LATER'`); err != nil {
		t.Fatal(err)
	}
	sn, err := db.SyncNow(ctx, c.WorkspaceID, c.ID, "admin@a")
	if err != nil || sn.Kind != store.RunSyncNow || sn.Status != store.RunDone || sn.Total != 1 {
		t.Fatalf("sync now: %+v, %v", sn, err)
	}
	var late bool
	if err := db.Pool().QueryRow(ctx, `SELECT due_at > now() FROM sync_records WHERE crm_record_id = '006LATER'`).Scan(&late); err != nil || late {
		t.Fatalf("still not due after Sync now (%v)", err)
	}
	var pulls int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'sync_pull' AND args->>'connection_id' = $1`, c.ID).Scan(&pulls); err != nil || pulls != 1 {
		t.Fatalf("%d polls queued, %v", pulls, err)
	}
	if latest, _ := db.LatestSyncRun(ctx, c.WorkspaceID, c.ID, store.RunSyncNow); latest == nil || latest.ID != sn.ID {
		t.Fatalf("latest sync now: %+v", latest)
	}
}
