package server

import (
	"net/netip"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
)

// publicLimiter bounds the work an unauthenticated client makes on the
// customer's pages: a token bucket per client address (IPv6 per /64) of
// publicBurst requests refilled at publicRate a second. State is per
// instance and in memory, at most publicMaxClients addresses (the table
// is cleared when full: the bound holds, a burst of new addresses only
// resets the others' buckets).
type publicLimiter struct {
	mu      sync.Mutex
	now     func() time.Time
	buckets map[netip.Prefix]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// Limits of the customer's pages (docs/customer-page.md).
const (
	publicRate       = 1.0 // requests a second, on average
	publicBurst      = 30
	publicMaxClients = 50_000
)

func newPublicLimiter(now func() time.Time) *publicLimiter {
	return &publicLimiter{now: now, buckets: map[netip.Prefix]*bucket{}}
}

// allow takes one request of addr's bucket.
func (l *publicLimiter) allow(addr string) bool {
	key := clientKey(addr)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= publicMaxClients {
			clear(l.buckets)
		}
		b = &bucket{tokens: publicBurst, at: now}
		l.buckets[key] = b
	}
	b.tokens = min(publicBurst, b.tokens+now.Sub(b.at).Seconds()*publicRate)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func clientKey(addr string) netip.Prefix {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Prefix{}
	}
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}

// limit is the middleware: a client over its budget is answered 429.
func (l *publicLimiter) limit(fail func(*gin.Context, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !l.allow(c.ClientIP()) {
			c.Header("Retry-After", "30")
			fail(c, qwoty.Errorf(qwoty.CodeRateLimited, "Wait a minute, then open the link again.", "Too many requests from your network to this page."))
			c.Abort()
			return
		}
		c.Next()
	}
}
