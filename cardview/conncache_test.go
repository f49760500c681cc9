package cardview

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
)

// countingLookup is a connection table that counts its reads and can hold
// them until released. A read sees the row as it is when the read starts,
// as a database statement does.
type countingLookup struct {
	reads atomic.Int64
	mu    sync.Mutex
	gate  chan struct{} // when set, reads started now wait for it to close
	conn  qwoty.Connection
}

func (l *countingLookup) ConnectionByExternalID(ctx context.Context, p qwoty.Provider, id string) (*qwoty.Connection, error) {
	l.mu.Lock()
	c, gate := l.conn, l.gate
	l.mu.Unlock()
	l.reads.Add(1)
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return &c, nil
}

func (l *countingLookup) set(f func(c *qwoty.Connection, gate *chan struct{})) {
	l.mu.Lock()
	f(&l.conn, &l.gate)
	l.mu.Unlock()
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestConnectionCacheMissesShareOneLookup(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	gate := make(chan struct{})
	l := &countingLookup{gate: gate, conn: qwoty.Connection{ID: "c1", Status: qwoty.ConnectionActive}}
	c := newConnectionCache(l, 30*time.Second, clock.now)
	const n = 50
	var wg sync.WaitGroup
	got := make([]*qwoty.Connection, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := c.ConnectionByExternalID(context.Background(), qwoty.ProviderSalesforce, "00D1")
			if err != nil {
				t.Error(err)
			}
			got[i] = conn
		}()
	}
	for l.reads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the other 49 queue behind the first read
	close(gate)
	wg.Wait()
	if r := l.reads.Load(); r != 1 {
		t.Fatalf("%d concurrent misses made %d reads, want 1", n, r)
	}
	for i, conn := range got {
		if conn == nil || conn.ID != "c1" {
			t.Fatalf("caller %d got %+v", i, conn)
		}
	}
	// A caller that gives up returns at once, without breaking the others.
	gate = make(chan struct{})
	l.set(func(_ *qwoty.Connection, g *chan struct{}) { *g = gate })
	c.Forget(qwoty.ProviderSalesforce, "00D1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.ConnectionByExternalID(ctx, qwoty.ProviderSalesforce, "00D1"); err == nil {
		t.Fatal("a cancelled caller waited for the lookup")
	}
	close(gate)
}

func TestConnectionCacheRefreshesAheadOfExpiry(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	l := &countingLookup{conn: qwoty.Connection{ID: "c1", MyDomain: "before", Status: qwoty.ConnectionActive}}
	c := newConnectionCache(l, 30*time.Second, clock.now)
	get := getter(t, c)
	get()
	clock.advance(20 * time.Second) // young: served from the entry
	get()
	if r := l.reads.Load(); r != 1 {
		t.Fatalf("reads = %d within the first four fifths, want 1", r)
	}

	// In the last fifth, callers get the entry at once while one background
	// read replaces it.
	gate := make(chan struct{})
	l.set(func(conn *qwoty.Connection, g *chan struct{}) { conn.MyDomain, *g = "after", gate })
	clock.advance(5 * time.Second)
	for range 20 {
		if conn := get(); conn.MyDomain != "before" {
			t.Fatalf("a caller waited for the background read (got %q)", conn.MyDomain)
		}
	}
	l.set(func(_ *qwoty.Connection, g *chan struct{}) { *g = nil })
	close(gate)
	deadline := time.Now().Add(5 * time.Second)
	for get().MyDomain != "after" {
		if time.Now().After(deadline) {
			t.Fatal("the background read never replaced the entry")
		}
		time.Sleep(time.Millisecond)
	}
	if r := l.reads.Load(); r != 2 {
		t.Fatalf("reads = %d, want 2: one background read for all the callers in the last fifth", r)
	}

	// Refresh (after a signature did not verify) always reads anew.
	if _, err := c.Refresh(context.Background(), qwoty.ProviderSalesforce, "00D1"); err != nil || l.reads.Load() != 3 {
		t.Fatalf("Refresh: %v, reads %d; want a read of its own", err, l.reads.Load())
	}
	// Past its life an entry is never served: the caller waits for a read.
	clock.advance(31 * time.Second)
	l.set(func(conn *qwoty.Connection, _ *chan struct{}) { conn.Status = qwoty.ConnectionDisconnected })
	if conn := get(); conn.Status != qwoty.ConnectionDisconnected || l.reads.Load() != 4 {
		t.Fatalf("an expired entry was served: %+v, reads %d", conn, l.reads.Load())
	}
}

// A background read that started before a Forget or a Refresh never puts its
// older view back when it lands after them: not a disconnected connection's
// active row, not a secret replaced by `qwoty connection add`.
func TestConnectionCacheSlowReadNeverOverwritesNewerState(t *testing.T) {
	for _, after := range []string{"forget", "refresh"} {
		t.Run(after, func(t *testing.T) {
			clock := &fakeClock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
			l := &countingLookup{conn: qwoty.Connection{ID: "c1", Secret: []byte("old"), Status: qwoty.ConnectionActive}}
			c := newConnectionCache(l, 30*time.Second, clock.now)
			get := getter(t, c)
			get()
			// A background read starts in the entry's last fifth and is held
			// with the old row.
			gate := make(chan struct{})
			l.set(func(_ *qwoty.Connection, g *chan struct{}) { *g = gate })
			clock.advance(25 * time.Second)
			get()
			for l.reads.Load() < 2 {
				time.Sleep(time.Millisecond)
			}
			// Meanwhile the row changes and the cache is told.
			l.set(func(conn *qwoty.Connection, g *chan struct{}) { conn.Secret, *g = []byte("new"), nil })
			if after == "forget" {
				c.Forget(qwoty.ProviderSalesforce, "00D1")
			} else if _, err := c.Refresh(context.Background(), qwoty.ProviderSalesforce, "00D1"); err != nil {
				t.Fatal(err)
			}
			close(gate) // the old read lands last
			deadline := time.Now().Add(2 * time.Second)
			for {
				c.mu.RLock()
				running := c.ahead[cacheKey{qwoty.ProviderSalesforce, "00D1"}]
				c.mu.RUnlock()
				if !running {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the background read never finished")
				}
				time.Sleep(time.Millisecond)
			}
			if conn := get(); string(conn.Secret) != "new" {
				t.Fatalf("after %s, the cache serves secret %q from the read that started before it", after, conn.Secret)
			}
		})
	}
}

// getter reads org 00D1 through the cache, failing the test on an error.
func getter(t *testing.T, c *connectionCache) func() *qwoty.Connection {
	return func() *qwoty.Connection {
		t.Helper()
		conn, err := c.ConnectionByExternalID(context.Background(), qwoty.ProviderSalesforce, "00D1")
		if err != nil {
			t.Fatal(err)
		}
		return conn
	}
}
