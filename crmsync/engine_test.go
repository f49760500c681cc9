package crmsync_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/testcrm"
	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// The engine's rules, through the test CRM (crm/testcrm: one idempotent
// write per deal) so that they are tested whatever each real CRM's
// Syncer does: capture in the quote's transaction, lease, coalescing,
// retries and their classes, alerts once, budget waits, disconnection.
// Each real CRM runs the same scenarios in its own test (sync_crms_test.go).

const deal = tctest.DefaultDealID

func testCRM(t *testing.T, opts tctest.Options, calls int) (*tctest.Server, crm.Adapter) {
	t.Helper()
	opts.AnyDeal = true
	emu := tctest.New(t, opts)
	a := testcrm.NewAdapter(testcrm.Options{ClientID: tctest.DefaultClientID, ClientSecret: tctest.DefaultClientSecret,
		RedirectURL: tctest.DefaultRedirectURL, BaseURL: emu.URL, SyncCalls: calls})
	return emu, a
}

func TestPushCreateEditStatus(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())

	q := w.Quote(deal, crmsynctest.Line{SKU: "A-1", Quantity: 2, Price: "50"}, crmsynctest.Line{SKU: "B-2", Quantity: 1, Price: "25.50"})
	if !q.Primary {
		t.Fatal("the record's first quote is not its primary one")
	}
	q = w.WaitState(q, qwoty.SyncSynced, 10*time.Second)
	d, _ := emu.Synced(deal)
	if d.Amount != "125.50" || len(d.Lines) != 2 || d.Lines[0].Ref != crm.Ref(crm.RefLine, q.Lines[0].ID) {
		t.Fatalf("deal after create: %+v", d)
	}
	if q.Sync.At.IsZero() {
		t.Fatal("a synced quote has no sync time")
	}

	// A status change goes out at once, with its stage.
	began := time.Now()
	q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
	w.WaitFor("the stage", 5*time.Second, func() bool { d, _ := emu.Synced(deal); return d.Stage == "proposal" })
	t.Logf("status change to CRM write: %s", time.Since(began))
	w.WaitState(q, qwoty.SyncSynced, 5*time.Second)

	// A line removed from the quote goes from the deal; a line people
	// added in the CRM stays.
	emu.AddHandLine(deal, tctest.SyncLine{SKU: "HAND", Name: "added by hand", Quantity: "1", Price: "1", Net: "1"})
	q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusDraft) })
	q = w.Edit(q, func(q *qwoty.Quote) error { return q.RemoveLine(q.Lines[1].ID) })
	w.WaitFor("the line removal", 10*time.Second, func() bool { d, _ := emu.Synced(deal); return d.Amount == "100.00" })
	w.WaitState(q, qwoty.SyncSynced, 5*time.Second)
	d, _ = emu.Synced(deal)
	if len(d.Lines) != 2 || d.Lines[0].SKU != "HAND" || d.Lines[1].SKU != "A-1" {
		t.Fatalf("lines after the removal: %+v", d.Lines)
	}
	log, err := w.DB.SyncLog(ctx, w.Admin.WorkspaceID, w.Conn.ID, store.SyncLogFilter{})
	if err != nil || len(log) < 3 || log[0].Outcome != store.SyncedOutcome || log[0].Calls < 1 || log[0].CRMObject != "deal" ||
		!strings.Contains(string(log[0].Written), `"object": "deal"`) {
		t.Fatalf("sync log: %+v, %v", log, err)
	}
}

// Ten edits close together make one push of the latest version.
func TestEditsAreCoalesced(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	set, _ := w.DB.SyncSettingsOf(ctx, w.Conn.ID)
	set.Coalesce = 1500 * time.Millisecond
	if err := w.DB.SaveSyncSettings(ctx, w.Admin.WorkspaceID, w.Conn.ID, set, "test"); err != nil {
		t.Fatal(err)
	}
	q := w.Quote("d-coalesce")
	for i := range 10 {
		q = w.Edit(q, func(q *qwoty.Quote) error {
			return q.AddLine(crmsynctest.Line{SKU: "L", Quantity: int64(i + 1), Price: "10"}.Item())
		})
	}
	q = w.WaitState(q, qwoty.SyncSynced, 10*time.Second)
	d, _ := emu.Synced("d-coalesce")
	if d.Writes != 1 || len(d.Lines) != 10 || d.Amount != "550.00" {
		t.Fatalf("after ten edits: %d writes, %d lines, amount %s; want one write of the latest version", d.Writes, len(d.Lines), d.Amount)
	}
}

// A refusal of the data fails at once with the CRM's words, alerts once,
// and Retry pushes it again.
func TestRejectedFailsAtOnceAndRetry(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	emu.Reject("d-bad", "Close date is required for this stage")
	q := w.Quote("d-bad", crmsynctest.Line{SKU: "A", Quantity: 1, Price: "10"})
	q = w.WaitState(q, qwoty.SyncFailed, 10*time.Second)
	if q.Sync.Code != qwoty.CodeSyncRejected || !strings.Contains(q.Sync.Error, "Close date is required") {
		t.Fatalf("failed quote's sync: %+v", q.Sync)
	}
	if n := writes(emu.Writes(), "/api/deals/d-bad/sync", false); n != 1 {
		t.Fatalf("a rejected push was sent %d times, want once", n)
	}
	w.WaitFor("the alert", 5*time.Second, func() bool { return w.Alerts.Sent.Load() == 1 })
	if al := w.Alerts.Last.Load(); al.Kind != "push_failed" || !strings.Contains(al.Text, "Close date is required") ||
		len(al.Emails) != 1 || al.Emails[0] != "admin@acme.example" {
		t.Fatalf("alert: %+v", al)
	}

	emu.Reject("d-bad", "")
	n, err := w.DB.RetrySync(ctx, w.Admin.WorkspaceID, w.Conn.ID, "d-bad", "admin")
	if err != nil || n != 1 {
		t.Fatalf("retry: %d, %v", n, err)
	}
	w.WaitState(q, qwoty.SyncSynced, 10*time.Second)
}

// Transient failures are retried three times with backoff; the fourth
// failure fails the record and alerts once, however many records fail.
func TestTransientRetriedThreeTimesThenAlertOnce(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	if err := emu.Inject(emulator.Fault{Route: "PUT /api/deals/{id}/sync", Status: http.StatusServiceUnavailable}); err != nil {
		t.Fatal(err)
	}
	q1 := w.Quote("d-t1", crmsynctest.Line{SKU: "A", Quantity: 1, Price: "10"})
	q2 := w.Quote("d-t2", crmsynctest.Line{SKU: "A", Quantity: 1, Price: "10"})
	q1 = w.WaitState(q1, qwoty.SyncFailed, 15*time.Second)
	w.WaitState(q2, qwoty.SyncFailed, 15*time.Second)
	if got := writes(emu.Writes(), "/api/deals/d-t1/sync", true); got != 4 {
		t.Fatalf("record d-t1 was tried %d times, want 4 (the first and 3 retries)", got)
	}
	if q1.Sync.Code != qwoty.CodeSyncFailed {
		t.Fatalf("sync: %+v", q1.Sync)
	}
	time.Sleep(500 * time.Millisecond)
	if n := w.Alerts.Sent.Load(); n != 1 {
		t.Fatalf("%d alerts, want 1 (one per connection and kind per hour)", n)
	}
	emu.ClearFaults()
	if n, err := w.DB.RetrySync(ctx, w.Admin.WorkspaceID, w.Conn.ID, "", "admin"); err != nil || n != 2 {
		t.Fatalf("retry all: %d, %v", n, err)
	}
	w.WaitState(q1, qwoty.SyncSynced, 10*time.Second)
	w.WaitState(q2, qwoty.SyncSynced, 10*time.Second)
}

// A 429 makes records wait until the time the CRM names: no retry is used
// up, and everything arrives.
func TestRateLimitWaitsWithoutUsingRetries(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	emu.RateLimit(3, time.Second)
	var qs []*qwoty.Quote
	for i := range 12 {
		qs = append(qs, w.Quote("d-rl"+string(rune('a'+i)), crmsynctest.Line{SKU: "A", Quantity: 1, Price: "10"}))
	}
	for _, q := range qs {
		w.WaitState(q, qwoty.SyncSynced, 30*time.Second)
	}
	if emu.Limited() == 0 {
		t.Fatal("the CRM never answered 429: the test did not test waiting")
	}
	if n := w.Alerts.Sent.Load(); n != 0 {
		t.Fatalf("%d alerts for rate limits, want none", n)
	}
}

// The budget keeps the engine under the CRM's limit: at 5 calls a second,
// no 429 is ever answered by a CRM that allows 6.
func TestBudgetKeepsUnderTheLimit(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 5)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	w.Start(crmsynctest.FastOptions()) // a second instance shares the budget
	emu.RateLimit(6, time.Second)
	var qs []*qwoty.Quote
	for i := range 20 {
		qs = append(qs, w.Quote("d-b"+string(rune('a'+i)), crmsynctest.Line{SKU: "A", Quantity: 1, Price: "10"}))
	}
	for _, q := range qs {
		w.WaitState(q, qwoty.SyncSynced, 30*time.Second)
	}
	if n := emu.Limited(); n != 0 {
		t.Fatalf("the CRM answered 429 %d times under a shared budget", n)
	}
}

// Disconnecting stops pushes and keeps them; reconnecting the same account
// pushes them with nothing lost.
func TestDisconnectKeepsReconnectResumes(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	if err := w.DB.Disconnect(ctx, w.Conn.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	q := w.Quote("d-dc", crmsynctest.Line{SKU: "A", Quantity: 3, Price: "10"})
	time.Sleep(time.Second)
	if _, ok := emu.Synced("d-dc"); ok {
		t.Fatal("a disconnected connection was pushed to")
	}
	if got := w.Get(q); got.Sync.State != qwoty.SyncPending {
		t.Fatalf("while disconnected: %+v, want pending", got.Sync)
	}
	w.Connect(a, tctest.DefaultRedirectURL)
	w.WaitState(q, qwoty.SyncSynced, 10*time.Second)
	if d, _ := emu.Synced("d-dc"); d.Amount != "30.00" {
		t.Fatalf("after reconnecting: %+v", d)
	}
}

// A connection made before sync (without the write scope) waits with
// "reconnect to enable sync" rather than failing.
func TestConnectionWithoutWriteScopeWaits(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{Scope: "deals:read"}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	q := w.Quote("d-scope", crmsynctest.Line{SKU: "A", Quantity: 1, Price: "10"})
	w.WaitFor("the reconnect code", 10*time.Second, func() bool { return w.Get(q).Sync.Code == qwoty.CodeSyncReconnect })
	if got := w.Get(q); got.Sync.State != qwoty.SyncPending {
		t.Fatalf("sync: %+v, want pending", got.Sync)
	}
	if _, ok := emu.Synced("d-scope"); ok {
		t.Fatal("pushed without the write scope")
	}
}

// writes counts the ledger's writes to path (injected: only those a fault
// answered).
func writes(ws []emulator.Write, path string, injected bool) int {
	n := 0
	for _, w := range ws {
		if w.Path == path && (!injected || w.Injected) {
			n++
		}
	}
	return n
}

var ctx = context.Background()

// A refused grant puts the connection in error, parks its records (not
// failed) and alerts admins once with kind "connection".
func TestRefusedGrantAlertsOnce(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	// The first poll, queued at connect, runs before the grant is refused:
	// this is the push meeting it (a poll meeting it alerts the same).
	waitPulls(t, w)
	emu.ExpireAccessTokens()
	emu.RevokeAll()
	q := w.Quote("d-grant", crmsynctest.Line{SKU: "A", Quantity: 1, Price: "10"})
	w.WaitFor("the connection alert", 10*time.Second, func() bool { return w.Alerts.Sent.Load() == 1 })
	if al := w.Alerts.Last.Load(); al.Kind != "connection" {
		t.Fatalf("alert kind %q, want connection", al.Kind)
	}
	if got := w.Get(q); got.Sync.State != qwoty.SyncPending || got.Sync.Code != qwoty.CodeRefreshRejected {
		t.Fatalf("sync: %+v; want pending, refresh_rejected", got.Sync)
	}
	q2 := w.Quote("d-grant2", crmsynctest.Line{SKU: "A", Quantity: 1, Price: "10"})
	time.Sleep(time.Second)
	if n := w.Alerts.Sent.Load(); n != 1 || w.Get(q2).Sync.State != qwoty.SyncPending {
		t.Fatalf("%d alerts after a second record, want still 1", n)
	}
}
