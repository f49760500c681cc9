package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// seedLog writes n log rows for conn: row i (1..n) at base + i/2 minutes
// (every two rows share a time, so pages must break ties by id), failed
// when i%3 == 0, on Opportunity when even, pulled when i%4 == 0, record
// r-(i%10), in run when i <= 20.
func seedLog(t *testing.T, db *store.DB, workspaceID, connID, run string, n int, base time.Time) {
	t.Helper()
	_, err := db.Pool().Exec(ctx, `INSERT INTO sync_log (workspace_id, connection_id, created_at, crm_record_id, crm_object, outcome, direction, run_id)
		SELECT $1, $2, $5::timestamptz + (i / 2) * interval '1 minute', 'r-' || (i % 10),
			CASE WHEN i % 2 = 0 THEN 'Opportunity' ELSE 'Account' END,
			CASE WHEN i % 3 = 0 THEN 'failed' ELSE 'synced' END,
			CASE WHEN i % 4 = 0 THEN 'pull' ELSE 'push' END,
			CASE WHEN i <= 20 THEN $3::uuid END
		FROM generate_series(1, $4::int) i`, workspaceID, connID, run, n, base)
	if err != nil {
		t.Fatal(err)
	}
}

const testRun = "7b0c1c2e-6f43-4a8e-9d55-3f0a4d2b9c11"

// Pages of the log read every row once, newest first, ties broken by id,
// both ways; each filter selects exactly its rows; another workspace's or
// connection's rows never show.
func TestSyncLogFiltersAndPaging(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	b := addOrg(t, db, "B", "00D00000000000BBBB")
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	seedLog(t, db, a.WorkspaceID, a.ID, testRun, 120, base)
	seedLog(t, db, b.WorkspaceID, b.ID, testRun, 10, base.Add(24*time.Hour)) // newer than all of A's

	var all []store.SyncLogEntry
	f := store.SyncLogFilter{}
	var pages []*store.SyncLogPage
	for {
		p, err := db.SyncLogPaged(ctx, a.WorkspaceID, a.ID, f, 50)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
		all = append(all, p.Entries...)
		if !p.Older {
			break
		}
		f.Before = p.Entries[len(p.Entries)-1].ID
	}
	if len(pages) != 3 || len(pages[0].Entries) != 50 || len(pages[2].Entries) != 20 || pages[0].Newer || !pages[1].Newer {
		t.Fatalf("pages: %d, sizes %d/%d/%d", len(pages), len(pages[0].Entries), len(pages[1].Entries), len(pages[2].Entries))
	}
	if len(all) != 120 {
		t.Fatalf("read %d rows over the pages, want 120", len(all))
	}
	for i := 1; i < len(all); i++ {
		p, c := all[i-1], all[i]
		if c.At.After(p.At) || (c.At.Equal(p.At) && c.ID >= p.ID) {
			t.Fatalf("row %d (%d at %s) is not older than row %d (%d at %s)", i, c.ID, c.At, i-1, p.ID, p.At)
		}
	}
	// Newer from the last page's first row is the middle page again.
	back, err := db.SyncLogPaged(ctx, a.WorkspaceID, a.ID, store.SyncLogFilter{After: pages[2].Entries[0].ID}, 50)
	if err != nil || !back.Newer || !back.Older || len(back.Entries) != 50 || back.Entries[0].ID != pages[1].Entries[0].ID ||
		back.Entries[49].ID != pages[1].Entries[49].ID {
		t.Fatalf("the page after the last page's first row: %d rows, newer %v, %v", len(back.Entries), back.Newer, err)
	}
	first, err := db.SyncLogPaged(ctx, a.WorkspaceID, a.ID, store.SyncLogFilter{After: pages[1].Entries[0].ID}, 50)
	if err != nil || first.Newer || first.Entries[0].ID != pages[0].Entries[0].ID {
		t.Fatalf("back to the first page: newer %v, %v", first.Newer, err)
	}

	count := func(keep func(store.SyncLogEntry) bool) int {
		n := 0
		for _, e := range all {
			if keep(e) {
				n++
			}
		}
		return n
	}
	day := base.Add(30 * time.Minute)
	for name, c := range map[string]struct {
		f    store.SyncLogFilter
		keep func(store.SyncLogEntry) bool
	}{
		"outcome":   {store.SyncLogFilter{Outcome: "failed"}, func(e store.SyncLogEntry) bool { return e.Outcome == "failed" }},
		"object":    {store.SyncLogFilter{CRMObject: "Opportunity"}, func(e store.SyncLogEntry) bool { return e.CRMObject == "Opportunity" }},
		"direction": {store.SyncLogFilter{Direction: "pull"}, func(e store.SyncLogEntry) bool { return e.Direction == "pull" }},
		"record":    {store.SyncLogFilter{RecordID: "r-3"}, func(e store.SyncLogEntry) bool { return e.RecordID == "r-3" }},
		"run":       {store.SyncLogFilter{RunID: testRun}, func(e store.SyncLogEntry) bool { return e.RunID == testRun }},
		"from":      {store.SyncLogFilter{From: day}, func(e store.SyncLogEntry) bool { return !e.At.Before(day) }},
		"to":        {store.SyncLogFilter{To: day}, func(e store.SyncLogEntry) bool { return e.At.Before(day) }},
		"combined": {store.SyncLogFilter{Outcome: "failed", CRMObject: "Opportunity", To: day},
			func(e store.SyncLogEntry) bool {
				return e.Outcome == "failed" && e.CRMObject == "Opportunity" && e.At.Before(day)
			}},
	} {
		want := count(c.keep)
		if want == 0 || want == 120 {
			t.Fatalf("%s: the seed gives %d rows: not a test", name, want)
		}
		var got []store.SyncLogEntry
		if err := db.EachSyncLog(ctx, a.WorkspaceID, a.ID, c.f, 1000, func(e store.SyncLogEntry) error {
			got = append(got, e)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		n, err := db.CountSyncLog(ctx, a.WorkspaceID, a.ID, c.f, 1000)
		if err != nil || len(got) != want || n != want || !slices.IsSortedFunc(got, func(x, y store.SyncLogEntry) int { return int(y.ID - x.ID) }) {
			t.Fatalf("%s: %d rows exported, %d counted, want %d (%v)", name, len(got), n, want, err)
		}
		for _, e := range got {
			if !c.keep(e) {
				t.Fatalf("%s: row %+v does not match", name, e)
			}
		}
	}
	// The count stops at its bound plus one; the export at its bound.
	if n, err := db.CountSyncLog(ctx, a.WorkspaceID, a.ID, store.SyncLogFilter{}, 10); err != nil || n != 11 {
		t.Fatalf("bounded count: %d %v", n, err)
	}
	// Another workspace's id with this connection, or the reverse: nothing.
	for _, ws := range []string{b.WorkspaceID} {
		if rows, err := db.SyncLog(ctx, ws, a.ID, store.SyncLogFilter{}); err != nil || len(rows) != 0 {
			t.Fatalf("workspace B reads connection A's log: %d rows, %v", len(rows), err)
		}
	}
	if rows, err := db.SyncLog(ctx, a.WorkspaceID, b.ID, store.SyncLogFilter{}); err != nil || len(rows) != 0 {
		t.Fatalf("workspace A reads connection B's log: %d rows, %v", len(rows), err)
	}
	// A cursor from another connection's log pages nothing of this one.
	bRows, _ := db.SyncLog(ctx, b.WorkspaceID, b.ID, store.SyncLogFilter{})
	if rows, err := db.SyncLog(ctx, a.WorkspaceID, a.ID, store.SyncLogFilter{Before: bRows[0].ID}); err != nil || len(rows) != 0 {
		t.Fatalf("a cursor of connection B's log: %d rows of A, %v", len(rows), err)
	}
}

// Retry of the failed records matching a filter queues exactly those:
// failed now, with a row under the filter, of this connection, at most
// the bound.
func TestRetryMatching(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	b := addOrg(t, db, "B", "00D00000000000BBBB")
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	seedLog(t, db, a.WorkspaceID, a.ID, testRun, 120, base)
	seedLog(t, db, b.WorkspaceID, b.ID, testRun, 120, base)
	// r-0..r-5 failed, r-6..r-9 synced, on both connections.
	for _, c := range []struct{ ws, conn string }{{a.WorkspaceID, a.ID}, {b.WorkspaceID, b.ID}} {
		if _, err := db.Pool().Exec(ctx, `INSERT INTO sync_records (connection_id, crm_record_id, workspace_id, desired_seq, state)
			SELECT $2, 'r-' || i, $1, 1, CASE WHEN i <= 5 THEN 'failed' ELSE 'synced' END FROM generate_series(0, 9) i`, c.ws, c.conn); err != nil {
			t.Fatal(err)
		}
	}
	states := func(conn string) map[string]string {
		rows, err := db.Pool().Query(ctx, `SELECT crm_record_id, state FROM sync_records WHERE connection_id = $1`, conn)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[string]string{}
		for rows.Next() {
			var r, s string
			_ = rows.Scan(&r, &s)
			m[r] = s
		}
		return m
	}
	// Opportunity rows are the even rows: records r-0, r-2, r-4 (failed)
	// and r-6, r-8 (synced, untouched).
	n, err := db.RetryMatching(ctx, a.WorkspaceID, a.ID, store.SyncLogFilter{CRMObject: "Opportunity"}, 100, "admin@acme.example")
	if err != nil || n != 3 {
		t.Fatalf("retried %d, %v; want 3", n, err)
	}
	got := states(a.ID)
	for r, want := range map[string]string{"r-0": "pending", "r-2": "pending", "r-4": "pending", "r-1": "failed", "r-3": "failed", "r-5": "failed", "r-6": "synced", "r-8": "synced"} {
		if got[r] != want {
			t.Fatalf("connection A's %s is %s, want %s", r, got[r], want)
		}
	}
	for r, s := range states(b.ID) {
		if want := map[bool]string{true: "failed", false: "synced"}[r <= "r-5"]; s != want {
			t.Fatalf("connection B's %s is %s after A's retry, want %s", r, s, want)
		}
	}
	// Another workspace with A's connection: nothing.
	if n, err := db.RetryMatching(ctx, b.WorkspaceID, a.ID, store.SyncLogFilter{}, 100, "x"); err != nil || n != 0 {
		t.Fatalf("workspace B retried %d of A's records, %v", n, err)
	}
	// The bound holds; the rest stay failed for the next click.
	if n, err := db.RetryMatching(ctx, a.WorkspaceID, a.ID, store.SyncLogFilter{}, 2, "admin@acme.example"); err != nil || n != 2 {
		t.Fatalf("bounded retry: %d, %v", n, err)
	}
	if n, err := db.RetryMatching(ctx, a.WorkspaceID, a.ID, store.SyncLogFilter{}, 100, "admin@acme.example"); err != nil || n != 1 {
		t.Fatalf("the rest: %d, %v", n, err)
	}
}
