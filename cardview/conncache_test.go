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
// them until released.
type countingLookup struct {
	reads atomic.Int64
	gate  chan struct{} // when set, each read waits for it to close
	mu    sync.Mutex
	conn  qwoty.Connection
}

func (l *countingLookup) ConnectionByExternalID(ctx context.Context, p qwoty.Provider, id string) (*qwoty.Connection, error) {
	l.reads.Add(1)
	if l.gate != nil {
		select {
		case <-l.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.conn
	return &c, nil
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestConnectionCacheMissesShareOneLookup(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	l := &countingLookup{gate: make(chan struct{}), conn: qwoty.Connection{ID: "c1", Status: qwoty.ConnectionActive}}
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
	close(l.gate)
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
	l.gate = make(chan struct{})
	c.Forget(qwoty.ProviderSalesforce, "00D1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.ConnectionByExternalID(ctx, qwoty.ProviderSalesforce, "00D1"); err == nil {
		t.Fatal("a cancelled caller waited for the lookup")
	}
	close(l.gate)
}

func TestConnectionCacheRefreshesAheadOfExpiry(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	l := &countingLookup{conn: qwoty.Connection{ID: "c1", MyDomain: "before", Status: qwoty.ConnectionActive}}
	c := newConnectionCache(l, 30*time.Second, clock.now)
	get := func() *qwoty.Connection {
		t.Helper()
		conn, err := c.ConnectionByExternalID(context.Background(), qwoty.ProviderSalesforce, "00D1")
		if err != nil {
			t.Fatal(err)
		}
		return conn
	}
	get()
	clock.advance(20 * time.Second) // young: served from the entry
	get()
	if r := l.reads.Load(); r != 1 {
		t.Fatalf("reads = %d within the first four fifths, want 1", r)
	}

	// In the last fifth, callers get the entry at once while one background
	// read replaces it.
	l.mu.Lock()
	l.conn.MyDomain = "after"
	l.mu.Unlock()
	l.gate = make(chan struct{})
	clock.advance(5 * time.Second)
	for range 20 {
		if conn := get(); conn.MyDomain != "before" {
			t.Fatalf("a caller waited for the background read (got %q)", conn.MyDomain)
		}
	}
	close(l.gate)
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
	l.gate = nil
	if _, err := c.Refresh(context.Background(), qwoty.ProviderSalesforce, "00D1"); err != nil || l.reads.Load() != 3 {
		t.Fatalf("Refresh: %v, reads %d; want a read of its own", err, l.reads.Load())
	}
	// Past its life an entry is never served: the caller waits for a read.
	clock.advance(31 * time.Second)
	l.mu.Lock()
	l.conn.Status = qwoty.ConnectionDisconnected
	l.mu.Unlock()
	if conn := get(); conn.Status != qwoty.ConnectionDisconnected || l.reads.Load() != 4 {
		t.Fatalf("an expired entry was served: %+v, reads %d", conn, l.reads.Load())
	}
}
