package crmsync_test

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/testcrm"
	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// BenchmarkBackfill is `make bench-backfill`: a back-fill of 10,000 quotes
// made before sync, each on its own record, to the test CRM's emulator
// limited to 200 writes a second (one write per record), the budget set to
// the same limit: the throughput as a share of that bound, the 429s the
// emulator answered (none is the aim: the budget keeps within the limit),
// and the longest gap between two updates of the run's progress. Then the
// same for each real CRM's emulator (its own limits; 10,000 quotes, or
// QWOTY_BACKFILL_CRM_QUOTES; QWOTY_BACKFILL_CRMS=0 skips them). Run it once
// (-benchtime 1x): each run is a whole measurement.
func BenchmarkBackfill(b *testing.B) {
	b.Run("testcrm", func(b *testing.B) {
		const quotes, limit = 10000, 200
		for range b.N {
			emu := tctest.New(b, tctest.Options{AnyDeal: true})
			a := testcrm.NewAdapter(testcrm.Options{ClientID: tctest.DefaultClientID, ClientSecret: tctest.DefaultClientSecret,
				RedirectURL: tctest.DefaultRedirectURL, BaseURL: emu.URL, SyncCalls: limit})
			emu.RateLimit(limit, time.Second)
			opt := crmsynctest.FastOptions()
			opt.Workers = -1
			w := crmsynctest.New(b, a, tctest.DefaultRedirectURL, opt)
			seedPreSync(b, w, quotes)
			opt.Workers = 4
			w.Start(opt)
			run := backfill(b, w, quotes)
			took := run.FinishedAt.Sub(run.StartedAt)
			rate := float64(quotes) / took.Seconds()
			b.ReportMetric(rate, "quotes/s")
			b.ReportMetric(rate/limit*100, "%-of-limit")
			b.ReportMetric(float64(emu.Limited()), "429s")
		}
	})
	if os.Getenv("QWOTY_BACKFILL_CRMS") == "0" {
		return
	}
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("QWOTY_BACKFILL_CRM_QUOTES")); err == nil && v > 0 {
		n = v
	}
	for _, name := range []string{"salesforce", "hubspot", "pipedrive"} {
		b.Run(name, func(b *testing.B) {
			for range b.N {
				c := crmsynctest.CRMs[name](b, crmsynctest.Options{AppURL: "http://127.0.0.1:8080", Records: n, BigPlan: true})
				opt := crmsynctest.FastOptions()
				opt.Workers, opt.Lease = -1, 2*time.Minute
				w := crmsynctest.New(b, c.Adapter, c.Redirect, opt)
				w.Currency = c.Currency
				if c.Prepare != nil {
					c.Prepare(w.DB, w.Conn.ID)
				}
				if _, err := storetest.Pool(b, w.DB).Exec(ctx, `
					INSERT INTO quotes (workspace_id, connection_id, crm_record_id, number, title, currency, total, subtotal, is_primary)
					SELECT $1, $2, r, 'BF-' || lpad(i::text, 6, '0'), 'Before sync ' || i, $4, 10 * i, 10 * i, true
					FROM unnest($3::text[]) WITH ORDINALITY AS x(r, i)`, w.Admin.WorkspaceID, w.Conn.ID, c.Records, c.Currency); err != nil {
					b.Fatal(err)
				}
				calls := c.Calls()
				opt.Workers = 4
				w.Start(opt)
				run := backfill(b, w, n)
				took := run.FinishedAt.Sub(run.StartedAt)
				b.ReportMetric(float64(n)/took.Seconds(), "quotes/s")
				b.ReportMetric(float64(c.Calls()-calls)/took.Seconds(), "calls/s")
				// A CRM's 429 (or REQUEST_LIMIT_EXCEEDED) leaves a waiting row
				// in the sync log; the budget's own waits leave none.
				var limited int
				if err := storetest.Pool(b, w.DB).QueryRow(ctx, `SELECT count(*) FROM sync_log WHERE connection_id = $1 AND outcome = 'waiting'`,
					w.Conn.ID).Scan(&limited); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(limited), "429s")
			}
		})
	}
}

// backfill starts a back-fill of the world's connection and waits for its
// end, reporting the longest gap between its progress updates.
func backfill(b *testing.B, w *crmsynctest.World, quotes int) *store.SyncRun {
	b.Helper()
	run, err := w.DB.StartBackfill(ctx, w.Admin.WorkspaceID, w.Conn.ID, w.Admin.Email)
	if err != nil {
		b.Fatal(err)
	}
	if run.Total != quotes {
		b.Fatalf("the run counts %d quotes, want %d", run.Total, quotes)
	}
	last, gap := run.UpdatedAt, time.Duration(0)
	deadline := time.Now().Add(20 * time.Minute)
	for run.Status != store.RunDone {
		if time.Now().After(deadline) {
			b.Fatalf("the back-fill did not end: %+v", run)
		}
		time.Sleep(100 * time.Millisecond)
		if run, err = w.DB.SyncRunOf(ctx, w.Admin.WorkspaceID, w.Conn.ID, run.ID); err != nil {
			b.Fatal(err)
		}
		if run.UpdatedAt.After(last) {
			gap, last = max(gap, run.UpdatedAt.Sub(last)), run.UpdatedAt
		}
		if run.Status != store.RunRunning && run.Status != store.RunDone {
			b.Fatalf("the run ended %s: %+v", run.Status, run)
		}
	}
	if run.Done != quotes || run.Failed != 0 {
		b.Fatalf("the run at its end: %+v", run)
	}
	var first, lastLog time.Time
	if err := storetest.Pool(b, w.DB).QueryRow(ctx, `SELECT min(created_at), max(created_at) FROM sync_log WHERE run_id = $1`, run.ID).Scan(&first, &lastLog); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(first.Sub(run.StartedAt).Seconds(), "first-push-s")
	b.ReportMetric(run.FinishedAt.Sub(lastLog).Seconds(), "done-after-last-s")
	b.ReportMetric(gap.Seconds(), "max-progress-gap-s")
	b.ReportMetric(run.FinishedAt.Sub(run.StartedAt).Seconds(), "run-s")
	return run
}
