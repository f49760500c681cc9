package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// A connection is due for a poll by when its last poll began, completed or
// failed, not by its pages' writes; only the CRMs that pull are polled.
func TestPullDueByPollTime(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	pulling := []qwoty.Provider{c.Provider}
	due := func() bool {
		t.Helper()
		ids, err := db.PullDueConnections(ctx, 15*time.Minute, pulling)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Contains(ids, c.ID)
	}
	if !due() {
		t.Fatal("a connection that never polled is not due")
	}
	if ids, _ := db.PullDueConnections(ctx, 15*time.Minute, nil); len(ids) != 0 {
		t.Fatal("a connection of a CRM that does not pull is due")
	}
	if _, err := db.StorePullPage(ctx, c.WorkspaceID, c.ID, "deal", time.Time{}, nil, "page2"); err != nil {
		t.Fatal(err)
	}
	if due() {
		t.Fatal("a connection whose listing began now is due")
	}
	// The listing began 20 minutes ago and wrote a page just now.
	if _, err := db.Pool().Exec(ctx, `UPDATE pull_cursors SET listing_started = now() - interval '20 minutes', updated_at = now()
		WHERE connection_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if !due() {
		t.Fatal("a poll that began 20 minutes ago holds the next one back by its page writes")
	}
	if err := db.FailPull(ctx, c.ID, "deal", "boom"); err != nil {
		t.Fatal(err)
	}
	if due() {
		t.Fatal("a poll that failed now is due again at once")
	}
	if err := db.Disconnect(ctx, c.ID, "admin@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE pull_cursors SET updated_at = now() - interval '1 hour', listing_started = NULL WHERE connection_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if due() {
		t.Fatal("a disconnected connection is due")
	}
}

// A pull's row goes to the sync log with direction 'pull', in its own
// workspace only; health names the oldest stream and the failed one.
func TestRecordPullAndHealth(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	other := addOrg(t, db, "B", "00D00000000000BBBB")
	e := store.PullLog{Object: "deal", Outcome: store.SyncedOutcome, Message: "2 applied", Calls: 3}
	if err := db.RecordPull(ctx, c.WorkspaceID, c.ID, e); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordPull(ctx, other.WorkspaceID, c.ID, e); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM sync_log WHERE connection_id = $1 AND direction = 'pull'
		AND crm_object = 'deal' AND api_calls = 3`, c.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d pull rows, %v; want 1 (another workspace's write refused)", n, err)
	}

	if _, err := db.StorePullPage(ctx, c.WorkspaceID, c.ID, "customer", time.Time{}, nil, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.StorePullPage(ctx, c.WorkspaceID, c.ID, "deal", time.Time{}, nil, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE pull_cursors SET last_complete_at = now() - interval '2 hours' WHERE connection_id = $1 AND stream = 'deal'`, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.FailPull(ctx, c.ID, "customer", "the CRM answered 500"); err != nil {
		t.Fatal(err)
	}
	h, err := db.SyncHealthOf(ctx, c.WorkspaceID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	p := h.Pull
	if p.Streams != 2 || p.OldestStream != "deal" || time.Since(p.CompleteAt) < 119*time.Minute ||
		p.ErrorStream != "customer" || p.Error != "the CRM answered 500" {
		t.Fatalf("pull health: %+v", p)
	}
	if h, _ := db.SyncHealthOf(ctx, other.WorkspaceID, c.ID); h.Pull.Streams != 0 {
		t.Fatal("another workspace reads the connection's pull health")
	}
}
