package cardview

import (
	"context"
	"sync"
	"time"

	"github.com/qwoty/companion/qwoty"
)

// connectionCache remembers connections found by CRM account id for a short
// while, so that a signed callout costs one database round trip instead of
// two. It is safe to be stale, which is why it is allowed in a server that
// keeps no state needed for correctness:
//   - a secret that does not verify is looked up again before the request is
//     refused, so a rotation or a reconnect takes effect at once;
//   - the connection's status is read again, authoritatively, in the same
//     statement that claims the nonce, so a disconnect applies to the next
//     callout on every instance;
//   - a disconnected connection is never cached.
type connectionCache struct {
	lookup ConnectionLookup
	ttl    time.Duration
	max    int
	now    func() time.Time

	mu      sync.RWMutex
	entries map[cacheKey]cacheEntry
}

type cacheKey struct {
	provider qwoty.Provider
	id       string
}

type cacheEntry struct {
	conn    *qwoty.Connection
	expires time.Time
}

func newConnectionCache(lookup ConnectionLookup, ttl time.Duration, now func() time.Time) *connectionCache {
	return &connectionCache{lookup: lookup, ttl: ttl, max: 10_000, now: now, entries: map[cacheKey]cacheEntry{}}
}

// ConnectionByExternalID returns the cached connection or looks it up.
func (c *connectionCache) ConnectionByExternalID(ctx context.Context, p qwoty.Provider, id string) (*qwoty.Connection, error) {
	k := cacheKey{p, id}
	c.mu.RLock()
	e, ok := c.entries[k]
	c.mu.RUnlock()
	if ok && c.now().Before(e.expires) {
		return e.conn, nil
	}
	return c.refresh(ctx, k)
}

// Refresh looks the connection up again, replacing what the cache held.
func (c *connectionCache) Refresh(ctx context.Context, p qwoty.Provider, id string) (*qwoty.Connection, error) {
	return c.refresh(ctx, cacheKey{p, id})
}

// Forget drops a connection from the cache.
func (c *connectionCache) Forget(p qwoty.Provider, id string) {
	c.mu.Lock()
	delete(c.entries, cacheKey{p, id})
	c.mu.Unlock()
}

func (c *connectionCache) refresh(ctx context.Context, k cacheKey) (*qwoty.Connection, error) {
	conn, err := c.lookup.ConnectionByExternalID(ctx, k.provider, k.id)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil || conn.Status == qwoty.ConnectionDisconnected {
		delete(c.entries, k)
		return conn, err
	}
	if len(c.entries) >= c.max {
		clear(c.entries) // crude, but bounded: the next requests refill it
	}
	c.entries[k] = cacheEntry{conn: conn, expires: c.now().Add(c.ttl)}
	return conn, nil
}

// refresher is a lookup that can be asked to look again.
type refresher interface {
	Refresh(ctx context.Context, p qwoty.Provider, id string) (*qwoty.Connection, error)
}
