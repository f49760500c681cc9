package crmsync_test

import (
	"slices"
	"testing"
	"time"

	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
)

// BenchmarkSync is `make bench-sync`: for each CRM, against its emulator
// with its rate limits on, a backlog of 1,000 quotes of 5 lines pushed from
// scratch (API calls per 100 quotes, and throughput as a share of the
// CRM's short-window limit where it has one), then on an idle emulator the
// time from a status change's commit to its record being synced (the CRM
// answered and the outcome recorded), p50 and p95 of 40. Run it once
// (-benchtime 1x): each run is a whole measurement.
func BenchmarkSync(b *testing.B) {
	const quotes, lines, changes = 1000, 5, 40
	// The short-window limits the budget works within, calls per second.
	bounds := map[string]float64{"hubspot": 11, "pipedrive": 40}
	for _, name := range []string{"salesforce", "hubspot", "pipedrive"} {
		b.Run(name, func(b *testing.B) {
			for range b.N {
				c := crmsynctest.CRMs[name](b, crmsynctest.Options{AppURL: "http://127.0.0.1:8080", Records: quotes, BigPlan: true})
				opt := crmsynctest.FastOptions()
				// Production's lease: a 100-deal Composite against the
				// emulator on a busy machine takes seconds.
				opt.Workers, opt.Lease = -1, 2*time.Minute
				w := crmsynctest.New(b, c.Adapter, c.Redirect, opt)
				w.Currency = c.Currency
				if c.Prepare != nil {
					c.Prepare(w.DB, w.Conn.ID)
				}
				qs := seed(b, w, c, lines)

				calls := c.Calls()
				began := time.Now()
				opt.Workers = 4
				w.Start(opt)
				for _, q := range qs {
					w.WaitState(q, qwoty.SyncSynced, 10*time.Minute)
				}
				took, made := time.Since(began), c.Calls()-calls
				b.ReportMetric(float64(made)/quotes*100, "calls/100quotes")
				b.ReportMetric(took.Seconds(), "backlog-s")
				rate := float64(made) / took.Seconds()
				b.ReportMetric(rate, "calls/s")
				if bound := bounds[name]; bound > 0 {
					b.ReportMetric(rate/bound*100, "%-of-limit")
				}

				// Status changes on an idle emulator, one at a time.
				time.Sleep(time.Second)
				var lat []time.Duration
				for i := range changes {
					q := w.Get(qs[i])
					q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
					committed := time.Now()
					w.WaitFor("the status change synced", 30*time.Second, func() bool {
						return w.Get(q).Sync.State == qwoty.SyncSynced
					})
					lat = append(lat, time.Since(committed))
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "status-p50-ms")
				b.ReportMetric(float64(lat[len(lat)*95/100].Milliseconds()), "status-p95-ms")
			}
		})
	}
}
