package crmsync_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/testcrm"
	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/crmsync/crmsynctest"
)

// BenchmarkPullCatalogue is `make bench-pull`: a full pull of 50,000
// catalogue products (two prices each) from the test CRM's emulator, which
// answers 429 past testcrm.SyncCalls calls a second, through the same
// budget as the pushes. It reports the calls, the time, the rate against
// the limit, and fails if the CRM refused a call (the budget let one past
// its limit). Run it once (-benchtime 1x): each run is a whole measurement.
func BenchmarkPullCatalogue(b *testing.B) {
	const products = 50_000
	for range b.N {
		emu := tctest.New(b, tctest.Options{})
		emu.RateLimit(testcrm.SyncCalls, time.Second)
		for i := range products {
			id := fmt.Sprintf("p%05d", i)
			emu.PutProduct(tctest.Product{ID: id, SKU: "SKU-" + id, Name: "Product " + id, Active: true,
				Prices: map[string]string{"EUR": fmt.Sprintf("%d.%02d", i%1000, i%100), "USD": fmt.Sprintf("%d.%02d", i%1100, i%100)}})
		}
		a := testcrm.NewAdapter(testcrm.Options{ClientID: tctest.DefaultClientID, ClientSecret: tctest.DefaultClientSecret,
			RedirectURL: tctest.DefaultRedirectURL, BaseURL: emu.URL})
		opt := crmsynctest.FastOptions()
		opt.Workers = -1
		w := crmsynctest.New(b, a, tctest.DefaultRedirectURL, opt)

		began := time.Now()
		calls, waits, applied := 0, 0, 0
		for {
			rep, err := crmsync.PullOnce(bg, w.DB, a, w.Conn, time.Time{})
			if err != nil {
				b.Fatal(err)
			}
			calls += rep.Calls
			done := true
			for _, s := range rep.Streams {
				applied += s.Applied
				var wait *crm.WaitError
				switch {
				case errors.As(s.Err, &wait):
					// The job would snooze until then.
					waits++
					done = false
					time.Sleep(time.Until(wait.Until))
				case s.Err != nil:
					b.Fatalf("stream %s: %v", s.Stream, s.Err)
				}
			}
			if done {
				break
			}
		}
		took := time.Since(began)
		if applied < products {
			b.Fatalf("%d products applied of %d", applied, products)
		}
		if n := emu.Limited(); n > 0 {
			b.Fatalf("the CRM refused %d calls: the pull went past its limit", n)
		}
		rate := float64(calls) / took.Seconds()
		b.ReportMetric(float64(calls), "calls")
		b.ReportMetric(took.Seconds(), "pull-s")
		b.ReportMetric(rate, "calls/s")
		b.ReportMetric(rate/testcrm.SyncCalls*100, "%-of-limit")
		b.ReportMetric(float64(waits), "budget-snoozes")
		b.ReportMetric(float64(products)/took.Seconds(), "products/s")
	}
}
