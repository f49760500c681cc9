package emulator

import (
	"sync"
	"time"
)

// What a test holds an emulator with: a start that fails the test, a clock
// it moves, and counters it reads.

// maxCounterKeys bounds a Counter: keys come from requests (grant types,
// paths), which a long-running emulator must not collect without end.
const maxCounterKeys = 4096

// Counter counts an emulator's calls by key ("token:refresh_token",
// "/api/v2/deals/3"), for tests that assert how often a client called. The
// zero value is ready; it is safe for concurrent use. Past 4096 keys, new
// keys are not counted.
type Counter struct {
	mu sync.Mutex
	n  map[string]int
}

// Add counts one call for key.
func (c *Counter) Add(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	if _, ok := c.n[key]; ok || len(c.n) < maxCounterKeys {
		c.n[key]++
	}
}

// Get returns the calls counted for key.
func (c *Counter) Get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

// T is what New-style helpers need of a test: testing.TB has it, and so
// the emulators need not import testing.
type T interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// ForTest starts an emulator for a test, fails the test when it does not
// start, and closes it when the test ends.
func ForTest[S interface{ Close() }](t T, start func() (S, error)) S {
	t.Helper()
	s, err := start()
	if err != nil {
		t.Fatalf("%v", err)
		return s
	}
	t.Cleanup(s.Close)
	return s
}

// Clock is a settable clock for an emulator's Now, so that a test can let
// codes and tokens expire without waiting. It is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that reads t until it is moved.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock d forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
