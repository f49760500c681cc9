package hstest

import (
	"net/http"
	"strconv"
	"time"

	"github.com/qwoty/companion/crm/emulator"
)

// HubSpot's limit for a public app (OAuth): "each HubSpot account that
// installs your app is limited to 110 requests every 10 seconds", the CRM
// Search API excepted (developer docs, usage guidelines). OAuth answers carry
// X-HubSpot-RateLimit-Max, -Remaining and -Interval-Milliseconds, but no
// daily headers (changelog "Rate limit headers will now appear for OAuth
// authenticated calls").
const (
	DefaultRateLimitMax      = 110
	DefaultRateLimitInterval = 10 * time.Second
)

// maxWindow caps the calls a window remembers, so that a development server
// given a huge Max stays bounded.
const maxWindow = 10_000

// RateLimit shapes the emulator's per-account limit. The zero value is
// HubSpot's: 110 calls per rolling 10 seconds.
type RateLimit struct {
	Max      int
	Interval time.Duration
	// Off lifts the limit (no headers, no 429).
	Off bool
}

// rolling is one account's rolling window: the times of the calls it let
// through, oldest first. s.mu guards it.
type rolling struct{ calls []time.Time }

// limit counts an authenticated CRM call against its portal's window and
// sets the rate-limit headers; when the window is full it answers 429 as
// HubSpot does (the ten-second policy's answer, with Retry-After in seconds)
// and returns false.
func (s *Server) limit(w http.ResponseWriter, p *portal) bool {
	rl := s.opts.RateLimit
	if rl.Off {
		return true
	}
	now := s.Now()
	s.mu.Lock()
	win := s.windows[p.ID]
	if win == nil {
		win = &rolling{}
		s.windows[p.ID] = win
	}
	drop := 0
	for drop < len(win.calls) && !win.calls[drop].After(now.Add(-rl.Interval)) {
		drop++
	}
	win.calls = win.calls[drop:]
	full := len(win.calls) >= rl.Max
	var wait time.Duration
	if full {
		wait = win.calls[0].Add(rl.Interval).Sub(now)
	} else if len(win.calls) < maxWindow {
		win.calls = append(win.calls, now)
	}
	left := max(rl.Max-len(win.calls), 0)
	s.mu.Unlock()

	h := w.Header()
	h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(rl.Max))
	h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(left))
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.FormatInt(rl.Interval.Milliseconds(), 10))
	if !full {
		return true
	}
	s.calls.Add("429")
	// Whole seconds, rounded up and at least 1: the window frees a slot then.
	h.Set("Retry-After", strconv.FormatInt(int64(max((wait+time.Second-1)/time.Second, 1)), 10))
	rateLimited(w)
	return false
}

// rateLimited answers HubSpot's rate-limit refusal. The policy's name and
// wording are as observed in HubSpot's answers.
func rateLimited(w http.ResponseWriter) {
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
		"errorType": "RATE_LIMIT", "correlationId": emulator.UUID(), "policyName": "TEN_SECONDLY_ROLLING",
	})
}

// RateLimited counts the 429s the emulator's own limit answered (injected
// faults are not counted).
func (s *Server) RateLimited() int { return s.calls.Get("429") }
