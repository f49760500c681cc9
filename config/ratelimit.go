package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// APIRateLimit is the public API's rate limit per key: Requests per
// Window on average, and at most Burst at once (a token bucket of Burst
// tokens refilled at Requests/Window). docs/api.md, "Limits".
type APIRateLimit struct {
	Requests int
	Window   time.Duration
	Burst    int
}

// DefaultAPIRateLimit is 600 requests a minute (10 a second) with bursts
// of up to 100.
var DefaultAPIRateLimit = APIRateLimit{Requests: 600, Window: time.Minute, Burst: 100}

// OrDefault is l, or DefaultAPIRateLimit when l is not set (zero).
func (l APIRateLimit) OrDefault() APIRateLimit {
	if l.Requests <= 0 || l.Window <= 0 || l.Burst <= 0 {
		return DefaultAPIRateLimit
	}
	return l
}

// Text is the limit as a person reads it: "600 requests a minute, up to
// 100 at once".
func (l APIRateLimit) Text() string {
	per := map[time.Duration]string{time.Second: "a second", time.Minute: "a minute", time.Hour: "an hour"}[l.Window]
	if per == "" {
		per = "per " + l.Window.String()
	}
	return fmt.Sprintf("%d requests %s, up to %d at once", l.Requests, per, l.Burst)
}

// PerSecond is the bucket's refill rate.
func (l APIRateLimit) PerSecond() float64 { return float64(l.Requests) / l.Window.Seconds() }

// String is the limit as QWOTY_API_RATE_LIMIT writes it.
func (l APIRateLimit) String() string {
	unit := "min"
	switch l.Window {
	case time.Second:
		unit = "s"
	case time.Hour:
		unit = "h"
	}
	return fmt.Sprintf("%d/%s,burst=%d", l.Requests, unit, l.Burst)
}

// apiRateLimitForm is the shape QWOTY_API_RATE_LIMIT's errors show.
const apiRateLimitForm = "requests per s, min or h, with an optional burst: 600/min or 600/min,burst=100"

// ParseAPIRateLimit reads QWOTY_API_RATE_LIMIT: "<n>/<s|min|h>" with an
// optional ",burst=<b>" (1 ≤ b ≤ n; without it the burst is n), from 1
// request an hour to 100,000 a second.
func ParseAPIRateLimit(v string) (APIRateLimit, error) {
	rate, burst, hasBurst := strings.Cut(strings.ReplaceAll(v, " ", ""), ",")
	n, unit, ok := strings.Cut(rate, "/")
	var l APIRateLimit
	switch unit {
	case "s", "sec", "second":
		l.Window = time.Second
	case "m", "min", "minute":
		l.Window = time.Minute
	case "h", "hour":
		l.Window = time.Hour
	default:
		ok = false
	}
	req, err := strconv.Atoi(n)
	if !ok || err != nil || req < 1 || req > 100_000 {
		return APIRateLimit{}, fmt.Errorf("%q is not %s", v, apiRateLimitForm)
	}
	l.Requests = req
	l.Burst = req
	if hasBurst {
		b, ok := strings.CutPrefix(burst, "burst=")
		l.Burst, err = strconv.Atoi(b)
		if !ok || err != nil || l.Burst < 1 || l.Burst > req {
			return APIRateLimit{}, fmt.Errorf("%q: the burst must be burst=<n> with n between 1 and the requests per window (%d)", v, req)
		}
	}
	return l, nil
}
