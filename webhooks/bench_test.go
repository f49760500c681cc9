package webhooks_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/webhooks"
)

// BenchmarkWebhooks (make bench-webhooks): quote edits through the card's
// path (store.UpdateQuote, a title change) at 1,000 a second for 10
// seconds over 1,000 quotes, each making a quote.updated event enqueued in
// its transaction, delivered by the job engine to a local receiver that
// verifies every signature. The connection's sync pushes are off (its
// sync settings push no trigger), so that what is measured is the
// webhooks' path, not the CRM emulator's. It reports the rate reached,
// and the delivery latency (from the event's timestamp, taken in the
// change's transaction, to the receiver's clock) p50, p95 and max; it fails
// when p95 is 2 s or more or a delivery is missing or unverified.
func BenchmarkWebhooks(b *testing.B) {
	const seconds, quotes, producers = 10, 1000, 32
	rate := *benchRate
	for range b.N {
		e := newEnv(b, webhooks.Options{Policy: webhooks.Policy{Development: true}})
		var mu sync.Mutex
		var lat []time.Duration
		var bad int
		var secret string
		seen := map[string]bool{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				Timestamp time.Time `json:"timestamp"`
			}
			buf := make([]byte, 0, 1024)
			buf, _ = readAll(r, buf)
			now := time.Now()
			ok := json.Unmarshal(buf, &body) == nil &&
				specVerify(secret, r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), buf)
			mu.Lock()
			if !ok {
				bad++
			} else if !seen[r.Header.Get("webhook-id")] {
				seen[r.Header.Get("webhook-id")] = true
				lat = append(lat, now.Sub(body.Timestamp))
			}
			mu.Unlock()
		}))
		b.Cleanup(srv.Close)
		set, err := e.DB.SyncSettingsOf(ctx, e.Conn.ID)
		if err != nil {
			b.Fatal(err)
		}
		set.Triggers = nil
		if err := e.DB.SaveSyncSettings(ctx, e.Conn.WorkspaceID, e.Conn.ID, set, "bench"); err != nil {
			b.Fatal(err)
		}
		qs := make([]*qwoty.Quote, quotes)
		var seed sync.WaitGroup
		for p := range producers {
			seed.Go(func() {
				for i := p; i < quotes; i += producers {
					q, err := e.DB.CreateQuote(ctx, e.Scope(fmt.Sprintf("bench-%04d", i)), store.NewQuote{Title: "bench", Currency: "EUR", CreatedBy: "u"})
					if err != nil {
						b.Error(err)
						return
					}
					qs[i] = q
				}
			})
		}
		seed.Wait()
		if b.Failed() {
			b.FailNow()
		}

		// edits makes n edits paced at rate, by producers, and returns
		// how long they took.
		edits := func(from, n int) time.Duration {
			jobs := make(chan int, n)
			var wg sync.WaitGroup
			var errs sync.Map
			for range producers {
				wg.Go(func() {
					for i := range jobs {
						q := qs[i%quotes]
						title := fmt.Sprintf("bench %d", i)
						if _, err := e.DB.UpdateQuote(ctx, e.Scope(q.CRMRecordID), q.ID, 0, "u", func(q *qwoty.Quote) error {
							return q.SetTerms(qwoty.Terms{Title: title, TaxRate: q.TaxRate})
						}); err != nil {
							errs.Store(i, err)
						}
					}
				})
			}
			began := time.Now()
			tick := time.NewTicker(time.Second / time.Duration(rate))
			for i := range n {
				<-tick.C
				jobs <- from + i
			}
			tick.Stop()
			close(jobs)
			wg.Wait()
			errs.Range(func(k, v any) bool { b.Fatalf("edit %v: %v", k, v); return false })
			return time.Since(began)
		}
		// The card path alone, no subscription: what this machine allows.
		base := edits(0, 2*rate)
		b.ReportMetric(float64(2*rate)/base.Seconds(), "edits/s-without-webhooks")

		_, secret = e.subscribe(b, srv.URL, qwoty.WebhookFilter{EventTypes: []qwoty.EventType{qwoty.EventQuoteUpdated}})
		total := rate * seconds
		began := time.Now()
		enqueued := edits(2*rate, total)
		deadline := time.Now().Add(2 * time.Minute)
		for {
			mu.Lock()
			n := len(lat)
			mu.Unlock()
			if n >= total {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d deliveries arrived in 2 minutes", n, total)
			}
			time.Sleep(50 * time.Millisecond)
		}
		delivered := time.Since(began)
		mu.Lock()
		slices.Sort(lat)
		p50, p95, worst := lat[len(lat)/2], lat[len(lat)*95/100], lat[len(lat)-1]
		mu.Unlock()
		b.ReportMetric(float64(total)/enqueued.Seconds(), "events/s-enqueued")
		b.ReportMetric(float64(total)/delivered.Seconds(), "events/s-delivered")
		b.ReportMetric(float64(p50.Milliseconds()), "p50-ms")
		b.ReportMetric(float64(p95.Milliseconds()), "p95-ms")
		b.ReportMetric(float64(worst.Milliseconds()), "max-ms")
		b.Logf("without webhooks: %d edits in %s; with: %d events in %s (enqueued), all delivered after %s; latency p50 %s, p95 %s, max %s; %d unverified",
			2*rate, base.Round(time.Millisecond), total, enqueued.Round(time.Millisecond), delivered.Round(time.Millisecond), p50, p95, worst, bad)
		if bad > 0 || p95 >= 2*time.Second {
			b.Fatalf("p95 %s (want under 2 s), %d deliveries not verified", p95, bad)
		}
	}
}

// benchRate is the edits a second BenchmarkWebhooks makes (make
// bench-webhooks WEBHOOKS_RATE=…): the target's 1,000 unless told.
var benchRate = flag.Int("webhooks.rate", 1000, "edits (events) a second of BenchmarkWebhooks")

func readAll(r *http.Request, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			return buf, nil
		}
	}
}
