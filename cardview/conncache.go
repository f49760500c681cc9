package cardview

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/qwoty/companion/crm"
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
//
// A busy connection's entry never expires under its requests: in the last
// fifth of its life one request starts a lookup in the background while the
// others go on with the entry. Requests that find no entry share one lookup,
// so an expiry under load is one query, not one per request in flight (which
// used to open new pool connections and stall the card path for tens of
// milliseconds).
type connectionCache struct {
	lookup crm.ConnectionLookup
	ttl    time.Duration
	max    int
	now    func() time.Time
	flight singleflight.Group

	mu      sync.RWMutex
	entries map[cacheKey]cacheEntry
	ahead   map[cacheKey]bool // background lookups running
	// gen holds, for a key with a lookup running or recently forgotten, the
	// sequence number of its latest lookup or Forget: a lookup stores what it
	// read only if it is still the latest, so a slow read never puts back a
	// connection that a newer read replaced or a Forget dropped.
	seq uint64
	gen map[cacheKey]uint64
}

var _ crm.ConnectionRefresher = (*connectionCache)(nil)

type cacheKey struct {
	provider qwoty.Provider
	id       string
}

func (k cacheKey) String() string { return string(k.provider) + "\x00" + k.id }

type cacheEntry struct {
	conn    *qwoty.Connection
	expires time.Time
}

// cacheLookupTimeout bounds a lookup that runs for several requests, or for
// none (in the background), so it does not die with one caller's context.
const cacheLookupTimeout = 5 * time.Second

func newConnectionCache(lookup crm.ConnectionLookup, ttl time.Duration, now func() time.Time) *connectionCache {
	return &connectionCache{lookup: lookup, ttl: ttl, max: 10_000, now: now,
		entries: map[cacheKey]cacheEntry{}, ahead: map[cacheKey]bool{}, gen: map[cacheKey]uint64{}}
}

// ConnectionByExternalID returns the cached connection or looks it up.
func (c *connectionCache) ConnectionByExternalID(ctx context.Context, p qwoty.Provider, id string) (*qwoty.Connection, error) {
	k := cacheKey{p, id}
	c.mu.RLock()
	e, ok := c.entries[k]
	c.mu.RUnlock()
	now := c.now()
	if ok && now.Before(e.expires) {
		if !now.Before(e.expires.Add(-c.ttl / 5)) {
			c.refreshAhead(k)
		}
		return e.conn, nil
	}
	ch := c.flight.DoChan(k.String(), func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cacheLookupTimeout)
		defer cancel()
		return c.load(lctx, k)
	})
	select {
	case r := <-ch:
		conn, _ := r.Val.(*qwoty.Connection)
		return conn, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Refresh looks the connection up again, replacing what the cache held. It
// never joins a lookup already running: it is asked after a signature did
// not verify, and must see a secret rotated since.
func (c *connectionCache) Refresh(ctx context.Context, p qwoty.Provider, id string) (*qwoty.Connection, error) {
	return c.load(ctx, cacheKey{p, id})
}

// Forget drops a connection from the cache, and what lookups running now
// would store.
func (c *connectionCache) Forget(p qwoty.Provider, id string) {
	k := cacheKey{p, id}
	c.mu.Lock()
	delete(c.entries, k)
	c.mark(k)
	c.mu.Unlock()
}

// mark makes a new latest sequence number for k (c.mu held). Clearing gen
// when it is full only makes running lookups not store: safe.
func (c *connectionCache) mark(k cacheKey) uint64 {
	if len(c.gen) >= c.max {
		clear(c.gen)
	}
	c.seq++
	c.gen[k] = c.seq
	return c.seq
}

// refreshAhead starts one background lookup of k unless one is running.
func (c *connectionCache) refreshAhead(k cacheKey) {
	c.mu.Lock()
	if c.ahead[k] {
		c.mu.Unlock()
		return
	}
	c.ahead[k] = true
	c.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), cacheLookupTimeout)
		defer cancel()
		_, _ = c.load(ctx, k) // on failure the entry lives out its life
		c.mu.Lock()
		delete(c.ahead, k)
		c.mu.Unlock()
	}()
}

// load reads the connection and caches it, or drops it when it is gone or
// disconnected, unless a newer lookup or a Forget came since. A failed read
// (the database away) leaves the entry as it was.
func (c *connectionCache) load(ctx context.Context, k cacheKey) (*qwoty.Connection, error) {
	c.mu.Lock()
	mine := c.mark(k)
	c.mu.Unlock()
	conn, err := c.lookup.ConnectionByExternalID(ctx, k.provider, k.id)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen[k] != mine {
		return conn, err // superseded: the newer lookup or Forget decides
	}
	delete(c.gen, k) // older lookups still running see a mismatch and do not store
	switch {
	case errors.Is(err, qwoty.ErrNotFound) || err == nil && conn.Status == qwoty.ConnectionDisconnected:
		delete(c.entries, k)
	case err == nil:
		if len(c.entries) >= c.max {
			clear(c.entries) // crude, but bounded: the next requests refill it
		}
		c.entries[k] = cacheEntry{conn: conn, expires: c.now().Add(c.ttl)}
	}
	return conn, err
}
