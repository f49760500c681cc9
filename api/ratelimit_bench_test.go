package api

import (
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/qwoty/companion/config"
)

// BenchmarkKeyedRequest is the cost of a key on a request: the key read
// (authenticate) and the rate limit's one statement (bucket, day's count,
// last use), on a route that does nothing else; one key, requests in
// parallel as one busy integration sends them (they queue on the key's
// rows), under a limit they never reach. Reports the p50 and p99 server
// time of a request. make bench-apikeys.
func BenchmarkKeyedRequest(b *testing.B) {
	in, _ := twoInstances(b, config.APIRateLimit{Requests: 100_000, Window: time.Second, Burst: 100_000})
	tok, _ := in.key(b, nil)
	times := make(chan time.Duration, b.N+64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			start := time.Now()
			if w := in.call(tok); w.Code != http.StatusOK {
				b.Errorf("%d %s", w.Code, w.Body)
				return
			}
			times <- time.Since(start)
		}
	})
	b.StopTimer()
	close(times)
	var all []time.Duration
	for d := range times {
		all = append(all, d)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	}
}
