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

// BenchmarkWebhooks (make bench-webhooks) measures the webhooks' path at
// WEBHOOKS_RATE (1,000) events a second, delivered by the job engine to a
// local receiver that verifies every signature, in three phases over one
// database:
//
//   - the card's path alone, no subscription: quote edits
//     (store.UpdateQuote, a title change) as fast as this machine takes
//     them, for scale;
//   - events alone: test events (store.SendTestEvent, one transaction and
//     one delivery each, as an edit's event is) at the rate for 10
//     seconds: what the webhooks' path sustains. It fails when p95 is 2 s
//     or more, or a delivery is missing or unverified;
//   - the card's path with a subscription: edits at the rate for 10
//     seconds, each making a quote.updated event in its transaction; its
//     figures are reported (on a small machine the edits themselves cannot
//     keep the rate, see the first phase).
//
// The connection's sync pushes are off (its sync settings push no
// trigger), so that the CRM emulator is not what is measured. Latency is
// from the event's timestamp, taken in its transaction, to the receiver's
// clock.
func BenchmarkWebhooks(b *testing.B) {
	const seconds, quotes, producers = 10, 1000, 32
	rate := *benchRate
	for range b.N {
		e := newEnv(b, webhooks.Options{Policy: webhooks.Policy{Development: true}})
		var mu sync.Mutex
		lat := map[qwoty.EventType][]time.Duration{}
		var bad int
		var secret string
		seen := map[string]bool{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				Type      qwoty.EventType `json:"type"`
				Timestamp time.Time       `json:"timestamp"`
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
				lat[body.Type] = append(lat[body.Type], now.Sub(body.Timestamp))
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

		// paced does n calls of do paced at rate, by producers, and
		// returns how long they took.
		paced := func(n int, do func(i int) error) time.Duration {
			work := make(chan int, n)
			var wg sync.WaitGroup
			var errs sync.Map
			for range producers {
				wg.Go(func() {
					for i := range work {
						if err := do(i); err != nil {
							errs.Store(i, err)
						}
					}
				})
			}
			began := time.Now()
			tick := time.NewTicker(time.Second / time.Duration(rate))
			for i := range n {
				<-tick.C
				work <- i
			}
			tick.Stop()
			close(work)
			wg.Wait()
			errs.Range(func(k, v any) bool { b.Fatalf("call %v: %v", k, v); return false })
			return time.Since(began)
		}
		edit := func(from int) func(i int) error {
			return func(i int) error {
				q := qs[(from+i)%quotes]
				title := fmt.Sprintf("bench %d", from+i)
				_, err := e.DB.UpdateQuote(ctx, e.Scope(q.CRMRecordID), q.ID, 0, "u", func(q *qwoty.Quote) error {
					return q.SetTerms(qwoty.Terms{Title: title, TaxRate: q.TaxRate})
				})
				return err
			}
		}
		// wait waits for n deliveries of type t, and returns their
		// latencies' p50, p95 and max, and when the last arrived.
		wait := func(t qwoty.EventType, n int) (p50, p95, worst time.Duration, at time.Time) {
			deadline := time.Now().Add(2 * time.Minute)
			for {
				mu.Lock()
				got := len(lat[t])
				mu.Unlock()
				if got >= n {
					break
				}
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d %s deliveries arrived in 2 minutes", got, n, t)
				}
				time.Sleep(20 * time.Millisecond)
			}
			at = time.Now()
			mu.Lock()
			defer mu.Unlock()
			l := lat[t]
			slices.Sort(l)
			return l[len(l)/2], l[len(l)*95/100], l[len(l)-1], at
		}
		ms := func(d time.Duration) float64 { return float64(d.Milliseconds()) }

		// The card path alone, no subscription: what this machine allows.
		base := paced(2*rate, edit(0))
		b.ReportMetric(float64(2*rate)/base.Seconds(), "edits/s-without-webhooks")

		sub, sec := e.subscribe(b, srv.URL, qwoty.WebhookFilter{EventTypes: []qwoty.EventType{qwoty.EventQuoteUpdated}})
		mu.Lock()
		secret = sec
		mu.Unlock()
		total := rate * seconds

		// Events alone.
		began := time.Now()
		sent := paced(total, func(int) error {
			_, err := e.DB.SendTestEvent(ctx, e.Conn.WorkspaceID, e.Conn.ID, sub.ID)
			return err
		})
		p50, p95, worst, last := wait(qwoty.EventWebhookTest, total)
		b.ReportMetric(float64(total)/sent.Seconds(), "events/s-enqueued")
		b.ReportMetric(float64(total)/last.Sub(began).Seconds(), "events/s-delivered")
		b.ReportMetric(ms(p50), "p50-ms")
		b.ReportMetric(ms(p95), "p95-ms")
		b.ReportMetric(ms(worst), "max-ms")
		b.Logf("without webhooks: %d edits in %s (%.0f/s); events alone: %d in %s (enqueued), all delivered after %s; latency p50 %s, p95 %s, max %s",
			2*rate, base.Round(time.Millisecond), float64(2*rate)/base.Seconds(), total, sent.Round(time.Millisecond),
			last.Sub(began).Round(time.Millisecond), p50, p95, worst)
		eventsP95 := p95

		// The card path with a subscription.
		began = time.Now()
		enqueued := paced(total, edit(2*rate))
		p50, p95, worst, last = wait(qwoty.EventQuoteUpdated, total)
		b.ReportMetric(float64(total)/enqueued.Seconds(), "edits/s-with-webhooks")
		b.ReportMetric(float64(total)/last.Sub(began).Seconds(), "edit-events/s-delivered")
		b.ReportMetric(ms(p95), "edit-p95-ms")
		b.Logf("card edits with a subscription: %d in %s (%.0f/s), all delivered after %s; latency p50 %s, p95 %s, max %s; %d unverified",
			total, enqueued.Round(time.Millisecond), float64(total)/enqueued.Seconds(), last.Sub(began).Round(time.Millisecond), p50, p95, worst, bad)
		if bad > 0 || eventsP95 >= 2*time.Second {
			b.Fatalf("events alone: p95 %s (want under 2 s); %d deliveries not verified", eventsP95, bad)
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
