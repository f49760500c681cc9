package server

import (
	"strings"
	"sync"
	"time"
)

// loginThrottle slows password guessing: after maxFailures failed logins
// for one email within window, that email is refused until the window ends.
// It is per instance, which is safe: with N instances an attacker gets at
// most N times the budget, still bounded.
type loginThrottle struct {
	mu       sync.Mutex
	failures map[string]*failureWindow
	max      int
	window   time.Duration
	now      func() time.Time
}

type failureWindow struct {
	count int
	start time.Time
}

func newLoginThrottle(now func() time.Time) *loginThrottle {
	return &loginThrottle{failures: map[string]*failureWindow{}, max: 10, window: 15 * time.Minute, now: now}
}

// blocked reports whether email has used up its failures.
func (t *loginThrottle) blocked(email string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.failures[strings.ToLower(email)]
	if f == nil || t.now().Sub(f.start) > t.window {
		return false
	}
	return f.count >= t.max
}

// fail counts a failed login for email.
func (t *loginThrottle) fail(email string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.failures) > 100_000 {
		clear(t.failures) // bounded memory under a spray of addresses
	}
	k := strings.ToLower(email)
	f := t.failures[k]
	if f == nil || t.now().Sub(f.start) > t.window {
		f = &failureWindow{start: t.now()}
		t.failures[k] = f
	}
	f.count++
}

// succeed clears email's failures.
func (t *loginThrottle) succeed(email string) {
	t.mu.Lock()
	delete(t.failures, strings.ToLower(email))
	t.mu.Unlock()
}
