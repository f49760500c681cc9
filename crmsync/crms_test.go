package crmsync_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Every shipped CRM through the engine, its links and budget in
// PostgreSQL, against its emulator: the quote's life as reps live it, what
// people added in the CRM left alone, a refusal, transient failures and
// their alert, Retry, and a disconnection.

func forEachCRM(t *testing.T, run func(t *testing.T, c *crmsynctest.CRM, w *crmsynctest.World)) {
	for name, newCRM := range crmsynctest.CRMs {
		t.Run(name, func(t *testing.T) {
			c := newCRM(t, crmsynctest.Options{AppURL: "http://127.0.0.1:8080", Records: 3, Unlimited: true})
			w := crmsynctest.New(t, c.Adapter, c.Redirect, crmsynctest.FastOptions())
			w.Currency = c.Currency
			if c.Prepare != nil {
				c.Prepare(w.DB, w.Conn.ID)
			}
			run(t, c, w)
		})
	}
}

// check compares the CRM with the records' state in Qwoty.
func check(t *testing.T, c *crmsynctest.CRM, w *crmsynctest.World, step string) {
	t.Helper()
	snaps, err := w.DB.SyncSnapshots(ctx, w.Conn.ID, c.Records)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range c.Verify(snaps) {
		t.Errorf("after %s: %s", step, d)
	}
}

func TestEveryCRMQuoteLife(t *testing.T) {
	forEachCRM(t, func(t *testing.T, c *crmsynctest.CRM, w *crmsynctest.World) {
		rec := c.Records[0]
		c.AddHandLine(rec)
		const wait = 20 * time.Second

		q1 := w.Quote(rec, crmsynctest.Line{SKU: "LIC", Quantity: 10, Price: "49.90"}, crmsynctest.Line{SKU: "SUP", Quantity: 1, Price: "500"})
		w.WaitState(q1, qwoty.SyncSynced, wait)
		check(t, c, w, "create")

		q1 = w.Edit(q1, func(q *qwoty.Quote) error {
			return q.AddLine(crmsynctest.Line{SKU: "TRN", Quantity: 2, Price: "150", DiscountPct: "10"}.Item())
		})
		w.WaitState(q1, qwoty.SyncSynced, wait)
		check(t, c, w, "an edit")

		q1 = w.Edit(q1, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
		w.WaitState(q1, qwoty.SyncSynced, wait)
		check(t, c, w, "a status change")

		// A second quote, made primary: its lines replace the first's.
		q2 := w.Quote(rec, crmsynctest.Line{SKU: "LIC", Quantity: 20, Price: "45"}, crmsynctest.Line{SKU: "ONB", Quantity: 1, Price: "900"})
		if q2.Primary {
			t.Fatal("a record's second quote became primary by itself")
		}
		if _, err := w.DB.SetPrimary(ctx, w.Scope(rec), q2.ID, "u1"); err != nil {
			t.Fatal(err)
		}
		w.WaitState(q2, qwoty.SyncSynced, wait)
		check(t, c, w, "a primary switch")

		q2 = w.Edit(w.Get(q2), func(q *qwoty.Quote) error { return q.RemoveLine(q.Lines[1].ID) })
		w.WaitState(q2, qwoty.SyncSynced, wait)
		check(t, c, w, "a line removal")

		if err := w.DB.DeleteQuote(ctx, w.Scope(rec), q2.ID, 0, "u1"); err != nil {
			t.Fatal(err)
		}
		w.WaitState(q1, qwoty.SyncSynced, wait)
		check(t, c, w, "deleting the primary quote")

		if n := c.HandLines(rec); n != 1 {
			t.Fatalf("%d hand-made lines on the record, want the 1 a person added", n)
		}
		if n := w.Alerts.Sent.Load(); n != 0 {
			t.Fatalf("%d alerts on a quiet day", n)
		}
	})
}

// A status whose stage the CRM refuses fails at once with the CRM's own
// words and alerts once; with the stage map fixed, Retry pushes it.
func TestEveryCRMRefusalThenRetry(t *testing.T) {
	forEachCRM(t, func(t *testing.T, c *crmsynctest.CRM, w *crmsynctest.World) {
		set, _ := w.DB.SyncSettingsOf(ctx, w.Conn.ID)
		set.StageMap = map[qwoty.Status]string{qwoty.StatusSent: c.BadStage}
		if err := w.DB.SaveSyncSettings(ctx, w.Admin.WorkspaceID, w.Conn.ID, set, "test"); err != nil {
			t.Fatal(err)
		}
		rec := c.Records[1]
		q := w.Quote(rec, crmsynctest.Line{SKU: "LIC", Quantity: 1, Price: "10"})
		w.WaitState(q, qwoty.SyncSynced, 20*time.Second)
		q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
		q = w.WaitState(q, qwoty.SyncFailed, 20*time.Second)
		if q.Sync.Code != qwoty.CodeSyncRejected || q.Sync.Error == "" {
			t.Fatalf("sync: %+v; want sync_rejected with the CRM's message", q.Sync)
		}
		t.Logf("%s said: %s", c.Name, q.Sync.Error)
		log, _ := w.DB.SyncLog(ctx, w.Admin.WorkspaceID, w.Conn.ID, store.SyncLogFilter{RecordID: rec})
		failed := 0
		for _, e := range log {
			if e.Outcome != store.SyncedOutcome {
				failed++
			}
		}
		if failed != 1 {
			t.Fatalf("%d failed pushes in the log, want 1: a refusal is not retried", failed)
		}
		w.WaitFor("the alert", 5*time.Second, func() bool { return w.Alerts.Sent.Load() == 1 })

		set.StageMap = map[qwoty.Status]string{}
		if err := w.DB.SaveSyncSettings(ctx, w.Admin.WorkspaceID, w.Conn.ID, set, "test"); err != nil {
			t.Fatal(err)
		}
		if n, err := w.DB.RetrySync(ctx, w.Admin.WorkspaceID, w.Conn.ID, rec, "admin"); err != nil || n != 1 {
			t.Fatalf("retry: %d, %v", n, err)
		}
		w.WaitState(q, qwoty.SyncSynced, 20*time.Second)
		check(t, c, w, "a retry")
	})
}

// Three transient failures after the first try fail the record and alert
// once; Retry pushes it when the CRM is back.
func TestEveryCRMTransientFailures(t *testing.T) {
	forEachCRM(t, func(t *testing.T, c *crmsynctest.CRM, w *crmsynctest.World) {
		if err := c.Base.Inject(emulator.Fault{Status: http.StatusServiceUnavailable}); err != nil {
			t.Fatal(err)
		}
		before := c.Calls()
		rec := c.Records[2]
		q := w.Quote(rec, crmsynctest.Line{SKU: "LIC", Quantity: 1, Price: "10"})
		q = w.WaitState(q, qwoty.SyncFailed, 30*time.Second)
		if q.Sync.Code != qwoty.CodeSyncFailed {
			t.Fatalf("sync: %+v", q.Sync)
		}
		log, _ := w.DB.SyncLog(ctx, w.Admin.WorkspaceID, w.Conn.ID, store.SyncLogFilter{RecordID: rec})
		if len(log) != 4 || log[0].Outcome != store.FailedOutcome || log[1].Outcome != store.RetryingOutcome {
			t.Fatalf("%d pushes logged (newest %s), want 4: the first and three retries", len(log), log[0].Outcome)
		}
		time.Sleep(300 * time.Millisecond)
		if n := w.Alerts.Sent.Load(); n != 1 {
			t.Fatalf("%d alerts, want 1", n)
		}
		c.Base.ClearFaults()
		if c.Calls()-before < 4 {
			t.Fatalf("the CRM saw %d calls: the failures were not its answers", c.Calls()-before)
		}
		if _, err := w.DB.RetrySync(ctx, w.Admin.WorkspaceID, w.Conn.ID, rec, "admin"); err != nil {
			t.Fatal(err)
		}
		w.WaitState(q, qwoty.SyncSynced, 20*time.Second)
		check(t, c, w, "a retry")
	})
}

// Disconnecting stops pushes and keeps them; reconnecting the same account
// pushes them, nothing lost.
func TestEveryCRMDisconnectReconnect(t *testing.T) {
	forEachCRM(t, func(t *testing.T, c *crmsynctest.CRM, w *crmsynctest.World) {
		rec := c.Records[0]
		q := w.Quote(rec, crmsynctest.Line{SKU: "LIC", Quantity: 3, Price: "10"})
		w.WaitState(q, qwoty.SyncSynced, 20*time.Second)
		if err := w.DB.Disconnect(ctx, w.Conn.ID, "admin"); err != nil {
			t.Fatal(err)
		}
		calls := c.Calls()
		q = w.Edit(q, func(q *qwoty.Quote) error { return q.AddLine(crmsynctest.Line{SKU: "SUP", Quantity: 1, Price: "99"}.Item()) })
		q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
		time.Sleep(1500 * time.Millisecond)
		if n := c.Calls() - calls; n != 0 {
			t.Fatalf("%d calls to a disconnected CRM", n)
		}
		if got := w.Get(q); got.Sync.State != qwoty.SyncPending {
			t.Fatalf("while disconnected: %+v", got.Sync)
		}
		w.Connect(c.Adapter, c.Redirect)
		w.WaitState(q, qwoty.SyncSynced, 20*time.Second)
		check(t, c, w, "reconnecting")
	})
}
