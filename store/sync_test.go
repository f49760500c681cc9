package store_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// The budget is shared by every caller and never lends what it has not
// got: 40 concurrent takes of a 10-unit bucket get 10.
func TestBudgetIsSharedAndExact(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	b := store.BudgetBucket{Name: "burst", Capacity: 10, RefillPerSec: 0.001}
	var mu sync.Mutex
	taken, waits := 0, 0
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			wait, err := takeNow(db, c.ID, b, 1)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Error(err)
			case wait == 0:
				taken++
			default:
				waits++
				if wait < 100*time.Second {
					t.Errorf("wait %s, want about (1 - tokens left) / 0.001 per second", wait)
				}
			}
		})
	}
	wg.Wait()
	if taken != 10 || waits != 30 {
		t.Fatalf("taken %d, waited %d; want 10 and 30", taken, waits)
	}

	// The CRM's count lowers the bucket (other integrations spend the same
	// allocation); a new capacity is taken.
	if err := db.ObserveBudget(ctx, c.ID, store.BudgetBucket{Name: "daily", Capacity: 100, RefillPerSec: 1}, 3); err != nil {
		t.Fatal(err)
	}
	if err := db.ObserveBudget(ctx, c.ID, store.BudgetBucket{Name: "daily", Capacity: 100, RefillPerSec: 1}, 500); err != nil {
		t.Fatal(err)
	}
	st, err := db.Budget(ctx, c.ID)
	if err != nil || len(st) != 2 || st[1].Bucket != "daily" || st[1].Tokens > 4 || st[1].Capacity != 100 {
		t.Fatalf("budget after observing: %+v, %v (an observed 500 must not raise 3)", st, err)
	}

	// A block stops every bucket until it ends.
	if err := db.BlockBudget(ctx, c.ID, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	wait, err := takeNow(db, c.ID, store.BudgetBucket{Name: "other", Capacity: 5, RefillPerSec: 5}, 1)
	if err != nil || wait < 59*time.Minute {
		t.Fatalf("take while blocked: wait %s, %v", wait, err)
	}
}

// A quote's changes are captured in its own transaction: one outbox row
// per CRM record whose version moves with every change; the first quote of
// a record is its primary; switching and deleting move the role.
func TestOutboxCapturePrimaryAndDelete(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	s := store.Scope{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, RecordID: "006000000000001AAA"}
	q1, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	q2, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	if !q1.Primary || q2.Primary || q1.Sync.State != qwoty.SyncPending {
		t.Fatalf("first %v/%s, second %v: want the first primary and pending", q1.Primary, q1.Sync.State, q2.Primary)
	}
	var rows int
	var seq int64
	if err := db.Pool().QueryRow(ctx, `SELECT count(*), max(desired_seq) FROM sync_records WHERE connection_id = $1`, c.ID).Scan(&rows, &seq); err != nil || rows != 1 {
		t.Fatalf("%d outbox rows, %v; want one per record", rows, err)
	}
	l, _ := qwoty.ParseLine(qwoty.LineInput{SKU: "A", Quantity: "1", UnitPrice: "5"})
	if _, err := db.UpdateQuote(ctx, s, q2.ID, 0, "u", func(q *qwoty.Quote) error { return q.AddLine(l) }); err != nil {
		t.Fatal(err)
	}
	var seq2 int64
	var due time.Time
	if err := db.Pool().QueryRow(ctx, `SELECT desired_seq, due_at FROM sync_records WHERE connection_id = $1`, c.ID).Scan(&seq2, &due); err != nil || seq2 <= seq {
		t.Fatalf("version %d after an edit, was %d (%v)", seq2, seq, err)
	}
	// A rolled back change leaves no trace: no version, no job.
	var jobs int
	_ = db.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'sync_push'`).Scan(&jobs)
	if _, err := db.UpdateQuote(ctx, s, q2.ID, 0, "u", func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusAccepted) }); err == nil {
		t.Fatal("draft → accepted was allowed")
	}
	var seq3 int64
	var jobs2 int
	_ = db.Pool().QueryRow(ctx, `SELECT desired_seq FROM sync_records WHERE connection_id = $1`, c.ID).Scan(&seq3)
	_ = db.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'sync_push'`).Scan(&jobs2)
	if seq3 != seq2 || jobs2 != jobs {
		t.Fatalf("a refused change moved the outbox (%d → %d) or inserted a job (%d → %d)", seq2, seq3, jobs, jobs2)
	}

	if _, err := db.SetPrimary(ctx, s, q2.ID, "u"); err != nil {
		t.Fatal(err)
	}
	a, _ := db.GetQuote(ctx, s, q1.ID)
	b, _ := db.GetQuote(ctx, s, q2.ID)
	if a.Primary || !b.Primary {
		t.Fatalf("after the switch: first %v, second %v", a.Primary, b.Primary)
	}
	if err := db.DeleteQuote(ctx, s, q2.ID, 0, "u"); err != nil {
		t.Fatal(err)
	}
	if a, _ = db.GetQuote(ctx, s, q1.ID); !a.Primary {
		t.Fatal("deleting the primary quote did not hand the role to the other")
	}
	if _, err := db.GetQuote(ctx, s, q2.ID); qwoty.ErrorCode(err) != qwoty.CodeNotFound {
		t.Fatalf("a deleted quote: %v, want not found", err)
	}
	snaps, err := db.SyncSnapshots(ctx, c.ID, []string{s.RecordID})
	if err != nil || len(snaps) != 1 || len(snaps[0].Quotes) != 2 || !snaps[0].Quotes[1].Deleted || len(snaps[0].Quotes[1].Lines) != 1 {
		t.Fatalf("snapshot: %+v, %v; want both quotes, the deleted one marked, with its line", snaps, err)
	}
	if !snaps[0].Quotes[1].Lines[0].UnitPrice.Equal(decimal.NewFromInt(5)) {
		t.Fatalf("snapshot line: %+v", snaps[0].Quotes[1].Lines[0])
	}
}

// A lease is one worker's: a second lease finds nothing until the first
// runs out; a record changed while pushed stays pending for its new
// version.
func TestLeaseAndRecord(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	s := store.Scope{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, RecordID: "006000000000001AAA"}
	q, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE sync_records SET due_at = now()`); err != nil {
		t.Fatal(err)
	}
	tok, recs, err := db.LeaseSync(ctx, c.ID, 10, time.Second)
	if err != nil || len(recs) != 1 {
		t.Fatalf("lease: %v, %v", recs, err)
	}
	if _, again, _ := db.LeaseSync(ctx, c.ID, 10, time.Second); len(again) != 0 {
		t.Fatal("a leased record was leased twice")
	}
	snaps, _ := db.SyncSnapshots(ctx, c.ID, []string{s.RecordID})
	// A change while it is pushed.
	if _, err := db.UpdateQuote(ctx, s, q.ID, 0, "u", func(q *qwoty.Quote) error { return q.SetTerms(qwoty.Terms{Title: "New", Currency: "USD"}) }); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordSync(ctx, c.WorkspaceID, c.ID, tok, []store.SyncResult{{RecordID: s.RecordID, Seq: snaps[0].Seq, Outcome: store.SyncedOutcome}}); err != nil {
		t.Fatal(err)
	}
	got, _ := db.GetQuote(ctx, s, q.ID)
	if got.Sync.State != qwoty.SyncPending {
		t.Fatalf("after pushing an older version: %s, want pending", got.Sync.State)
	}
	// The newer version, leased by a worker that then dies: its lease runs
	// out and another worker takes the record.
	if _, err := db.Pool().Exec(ctx, `UPDATE sync_records SET due_at = now()`); err != nil {
		t.Fatal(err)
	}
	if _, recs, _ := db.LeaseSync(ctx, c.ID, 10, 200*time.Millisecond); len(recs) != 1 {
		t.Fatal("the newer version was not leased")
	}
	time.Sleep(300 * time.Millisecond)
	tok3, recs, err := db.LeaseSync(ctx, c.ID, 10, time.Second)
	if err != nil || len(recs) != 1 {
		t.Fatalf("a run-out lease was not taken over: %v, %v", recs, err)
	}
	snaps, _ = db.SyncSnapshots(ctx, c.ID, []string{s.RecordID})
	if err := db.RecordSync(ctx, c.WorkspaceID, c.ID, tok3, []store.SyncResult{{RecordID: s.RecordID, Seq: snaps[0].Seq, Outcome: store.SyncedOutcome}}); err != nil {
		t.Fatal(err)
	}
	if got, _ = db.GetQuote(ctx, s, q.ID); got.Sync.State != qwoty.SyncSynced || got.Sync.At.IsZero() {
		t.Fatalf("after pushing the latest version: %+v", got.Sync)
	}
}

// A bucket keeps the shape it was made with: changing the budget share (or
// the plan and seats) forgets the connection's buckets, not its block, so
// the next take makes them with the new allowance.
func TestBudgetReshapedWhenTheAllowanceChanges(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	if _, err := takeNow(db, c.ID, store.BudgetBucket{Name: "daily", Capacity: 10, RefillPerSec: 1}, 1); err != nil {
		t.Fatal(err)
	}
	capacity := func() float64 {
		st, err := db.Budget(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range st {
			if b.Bucket == "daily" {
				return b.Capacity
			}
		}
		return 0
	}
	set, _ := db.SyncSettingsOf(ctx, c.ID)
	set.AlertEmails = []string{"ops@a.example"}
	if err := db.SaveSyncSettings(ctx, c.WorkspaceID, c.ID, set, "admin"); err != nil {
		t.Fatal(err)
	}
	if capacity() != 10 {
		t.Fatal("a settings change that left the share as it was reshaped the budget")
	}
	set.BudgetShare = 0.2
	if err := db.SaveSyncSettings(ctx, c.WorkspaceID, c.ID, set, "admin"); err != nil {
		t.Fatal(err)
	}
	if got := capacity(); got != 0 {
		t.Fatalf("after the share changed the bucket still has capacity %v", got)
	}
	if _, err := takeNow(db, c.ID, store.BudgetBucket{Name: "daily", Capacity: 4, RefillPerSec: 1}, 1); err != nil || capacity() != 4 {
		t.Fatalf("the bucket made again: capacity %v, %v", capacity(), err)
	}
	if err := db.SetAccountPlan(ctx, c.WorkspaceID, c.ID, "growth", 5, "admin"); err != nil || capacity() != 0 {
		t.Fatalf("after the plan changed: capacity %v, %v", capacity(), err)
	}
	if err := db.SetAccountPlan(ctx, "00000000-0000-0000-0000-000000000000", c.ID, "growth", 5, "eve"); !errors.Is(err, qwoty.ErrNotFound) {
		t.Fatalf("another workspace set the plan: %v", err)
	}
}

// A reservation takes the units at once and says how long the call waits:
// never more than the bucket would have held by then, whoever asks at the
// same time; a reserve is left; beyond ahead, nothing is taken.
func TestReserveBudget(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	b := store.BudgetBucket{Name: "calls", Capacity: 10, RefillPerSec: 10}
	// 40 at once with a second ahead: the 10 units held and the 10 refilled
	// within the second are reserved, each with its own wait; 20 are not.
	var mu sync.Mutex
	var waits []time.Duration
	refused := 0
	var wg sync.WaitGroup
	began := time.Now()
	for range 40 {
		wg.Go(func() {
			wait, taken, err := db.ReserveBudget(ctx, c.ID, b, 1, 0, 0, time.Second)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Error(err)
			case taken:
				waits = append(waits, wait)
			default:
				refused++
			}
		})
	}
	wg.Wait()
	// What refilled while the 40 asked counts too.
	most := 21 + int(time.Since(began).Seconds()*10)
	if len(waits) < 19 || len(waits) > most || refused != 40-len(waits) {
		t.Fatalf("%d reserved, %d refused; want 20 (at most %d with what refilled meanwhile)", len(waits), refused, most)
	}
	slices.Sort(waits)
	// The k-th reservation past the 10 held waits about (k-10)/10 s.
	if waits[9] > 50*time.Millisecond || waits[len(waits)-1] < 800*time.Millisecond || waits[len(waits)-1] > 1100*time.Millisecond {
		t.Fatalf("waits %v: the held units at once, the last about a second out", waits)
	}
	// A reserve: with 5 of 10 kept back, a take that would leave less waits
	// (and reserves no further ahead than the reserve's refill).
	c2 := addOrg(t, db, "B", "00D00000000000BBBB")
	taken := 0
	for range 10 {
		if _, ok, err := db.ReserveBudget(ctx, c2.ID, store.BudgetBucket{Name: "calls", Capacity: 10, RefillPerSec: 0.01}, 1, 0.5, 100, 0); err != nil {
			t.Fatal(err)
		} else if ok {
			taken++
		}
	}
	if taken != 5 {
		t.Fatalf("%d taken with half the bucket kept back, want 5", taken)
	}
	// A lead: a take that keeps a reserve may still reserve up to
	// ReserveLead ahead (a small burst would otherwise overflow whenever
	// its callers pause), and no further; a real-time take then waits at
	// most that long behind it.
	c3 := addOrg(t, db, "C", "00D00000000000CCCC")
	const refill = 40.0 // the reserve (5) is 125 ms of it, less than the lead
	fast := store.BudgetBucket{Name: "calls", Capacity: 10, RefillPerSec: refill}
	lead := 0
	start := time.Now()
	for range 200 {
		_, ok, err := db.ReserveBudget(ctx, c3.ID, fast, 1, 0.5, 5, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		lead++
	}
	// The 5 held beyond the reserve, ReserveLead of refill, and what
	// refilled while the loop ran.
	want := 5 + (store.ReserveLead.Seconds()+time.Since(start).Seconds())*refill
	if float64(lead) < want-3 || float64(lead) > want+1 {
		t.Fatalf("%d reserved ahead with a reserve of 5 and a lead of %s, want about %.1f", lead, store.ReserveLead, want)
	}
	if wait, err := takeNow(db, c3.ID, fast, 1); err != nil || wait > store.ReserveLead+50*time.Millisecond {
		t.Fatalf("a real-time take waits %s behind the back-fill (%v), want at most the lead", wait, err)
	}
}

// takeNow takes cost units of a bucket without reserving ahead: 0 when
// taken, else how long until the bucket holds them.
func takeNow(db *store.DB, conn string, b store.BudgetBucket, cost float64) (time.Duration, error) {
	wait, taken, err := db.ReserveBudget(ctx, conn, b, cost, 0, 0, 0)
	if taken {
		return 0, err
	}
	return wait, err
}
