package crmsync_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// seedPreSync makes n quotes, one per record bf-<i>, as quotes made before
// sync are: never captured, no outbox row.
func seedPreSync(t testing.TB, w *crmsynctest.World, n int) {
	t.Helper()
	if _, err := storetest.Pool(t, w.DB).Exec(ctx, `
		INSERT INTO quotes (workspace_id, connection_id, crm_record_id, number, title, currency, total, subtotal)
		SELECT $1, $2, 'bf-' || i, 'BF-' || lpad(i::text, 6, '0'), 'Before sync ' || i, 'EUR', 10 * i, 10 * i
		FROM generate_series(1, $3) AS i`, w.Admin.WorkspaceID, w.Conn.ID, n); err != nil {
		t.Fatal(err)
	}
}

// A back-fill of a few hundred quotes completes, its progress counted at
// least every few seconds, without a 429; status changes made while it
// runs go out first: each well before the back-fill's median record, and
// within a second or so.
func TestBackfillCompletesAndYieldsToRealtime(t *testing.T) {
	// The budget a little under the CRM's limit: the CRM counts fixed
	// windows on its own clock, the budget any window on the database's.
	const quotes, rate = 400, 50
	emu, a := testCRM(t, tctest.Options{}, rate-2)
	emu.RateLimit(rate, time.Second)
	opt := crmsynctest.FastOptions()
	opt.Workers = -1
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, opt)
	opt.Workers = 4
	w.Start(opt)

	// Quotes reps work on, synced before the back-fill starts.
	var live []*qwoty.Quote
	for i := range 8 {
		live = append(live, w.Quote(fmt.Sprintf("rt-%d", i), crmsynctest.Line{SKU: "A", Quantity: 1, Price: "10"}))
	}
	for i, q := range live {
		live[i] = w.WaitState(q, qwoty.SyncSynced, 10*time.Second)
	}
	seedPreSync(t, w, quotes)
	if n, err := w.DB.BackfillCount(ctx, w.Admin.WorkspaceID, w.Conn.ID); err != nil || n != quotes {
		t.Fatalf("to back-fill: %d, %v", n, err)
	}
	run, err := w.DB.StartBackfill(ctx, w.Admin.WorkspaceID, w.Conn.ID, w.Admin.Email)
	if err != nil {
		t.Fatal(err)
	}

	// While it runs: a status change every 300 ms, each timed from its
	// commit to its record synced; the run's progress watched.
	var lat []time.Duration
	lastUpdate, maxGap := run.UpdatedAt, time.Duration(0)
	next := 0
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := w.DB.SyncRunOf(ctx, w.Admin.WorkspaceID, w.Conn.ID, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.UpdatedAt.After(lastUpdate) {
			maxGap, lastUpdate = max(maxGap, r.UpdatedAt.Sub(lastUpdate)), r.UpdatedAt
		}
		if r.Status == store.RunDone {
			run = r
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the back-fill did not end: %+v", r)
		}
		if r.Done > 0 && r.Done < quotes*3/4 && next < 2*len(live) {
			q := live[next%len(live)]
			to := qwoty.StatusSent
			if next >= len(live) {
				to = qwoty.StatusDraft
			}
			q = w.Edit(w.Get(q), func(q *qwoty.Quote) error { return q.Transition(to) })
			began := time.Now()
			q = w.WaitState(q, qwoty.SyncSynced, 10*time.Second)
			lat = append(lat, time.Since(began))
			live[next%len(live)] = q
			next++
		}
		time.Sleep(100 * time.Millisecond)
	}
	if run.Total != quotes || run.Done != quotes || run.Failed != 0 || run.Percent() != 100 {
		t.Fatalf("run at its end: %+v", run)
	}
	if emu.SyncedDeals() < quotes+len(live) {
		t.Fatalf("the CRM has %d deals, want %d", emu.SyncedDeals(), quotes+len(live))
	}
	if n := emu.Limited(); n != 0 {
		t.Fatalf("the CRM answered %d 429s", n)
	}
	if maxGap > 5*time.Second {
		t.Fatalf("the run's progress went %s without an update", maxGap)
	}
	if len(lat) < 3 {
		t.Fatalf("only %d status changes made during the back-fill", len(lat))
	}
	// The back-fill's records, from its start to each push.
	var median, took float64
	if err := storetest.Pool(t, w.DB).QueryRow(ctx, `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM l.created_at - r.started_at)),
		extract(epoch FROM r.finished_at - r.started_at)
		FROM sync_log l JOIN sync_runs r ON r.id = l.run_id WHERE l.run_id = $1 AND l.outcome = 'synced' GROUP BY r.finished_at, r.started_at`, run.ID).Scan(&median, &took); err != nil {
		t.Fatal(err)
	}
	slices.Sort(lat)
	worst := lat[len(lat)-1]
	t.Logf("back-fill of %d quotes: %.1f s (%.0f quotes/s, %.0f%% of the %d/s limit), its records' median %.2f s after the start; %d status changes during it: p50 %s, max %s; longest gap between progress updates %s",
		quotes, took, quotes/took, quotes/took/rate*100, rate, median, len(lat), lat[len(lat)/2].Round(time.Millisecond), worst.Round(time.Millisecond), maxGap.Round(time.Millisecond))
	if worst > 2*time.Second || worst.Seconds() > median {
		t.Fatalf("a status change took %s during the back-fill (its records' median: %.2f s)", worst, median)
	}
	var unlogged int
	if err := storetest.Pool(t, w.DB).QueryRow(ctx, `SELECT count(*) FROM sync_log WHERE crm_record_id LIKE 'bf-%' AND run_id IS NULL`).Scan(&unlogged); err != nil || unlogged != 0 {
		t.Fatalf("%d back-fill log rows without their run (%v)", unlogged, err)
	}
}
