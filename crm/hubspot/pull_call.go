package hubspot

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// The CRM Search API has a limit of its own, apart from the 110 calls per
// 10 seconds that every other call counts against: 5 requests a second per
// account (developer changelog, "CRM Search API rate limit increase", and
// the search guide's limits). Pulling declares 4 a second, the margin being
// the time a request takes to reach HubSpot; a search takes from this
// bucket only.
const (
	searchBucket   = "search"
	searchCapacity = 4
	searchPer      = time.Second
)

// caller makes a Pull's or a Fetch's calls: each takes a unit of its
// bucket first (waiting in place for a short wait, up to maxInlineWait
// for the whole page), shows HubSpot's rate-limit headers to the burst
// bucket, and turns a 429 into a block of the connection and a
// *crm.WaitError.
type caller struct {
	a      *Adapter
	sess   crm.Session
	budget crm.Budget
	calls  int
	waited time.Duration
}

func (p *puller) caller(s crm.Session, b crm.Budget) *caller {
	return &caller{a: p.a, sess: s, budget: b}
}

// call sends one request; bucket is the budget it takes from.
func (c *caller) call(ctx context.Context, bucket, method, path string, q url.Values, body, out any) error {
	var interval time.Duration
	err := c.sess.Call(ctx, func(ctx context.Context, token string) error {
		if err := c.take(ctx, bucket); err != nil {
			return err
		}
		c.calls++
		return crm.Call(ctx, crm.Request{Provider: qwoty.ProviderHubSpot, Method: method, Base: cmp.Or(c.a.o.APIURL, APIBaseURL),
			Path: path, Query: q, Token: token, JSON: body, Timeout: DefaultTimeout, HTTP: c.a.o.HTTP, Refused: apiErrors.Answer,
			Seen: func(_ int, h http.Header) { interval = c.observe(ctx, bucket, h, interval) }}, out)
	})
	if err != nil && errors.Is(err, crm.ErrRateLimited) {
		return c.block(ctx, err, interval)
	}
	return err
}

func (c *caller) take(ctx context.Context, bucket string) error {
	for {
		err := c.budget.Take(ctx, bucket, 1)
		var wait *crm.WaitError
		if !errors.As(err, &wait) {
			return err
		}
		d := max(wait.Until.Sub(c.a.now()), time.Millisecond)
		if c.waited+d > maxInlineWait {
			return err
		}
		if serr := c.a.sleep(ctx, d); serr != nil {
			return err
		}
		c.waited += d
	}
}

// observe corrects the burst bucket from X-HubSpot-RateLimit-Remaining, as
// a push does (push.observe); a search's answer, which counts against its
// own limit, corrects nothing.
func (c *caller) observe(ctx context.Context, bucket string, h http.Header, interval time.Duration) time.Duration {
	if ms, err := strconv.ParseInt(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds"), 10, 64); err == nil && ms > 0 {
		interval = time.Duration(ms) * time.Millisecond
	}
	if bucket != burstBucket {
		return interval
	}
	left, err1 := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Remaining"))
	most, err2 := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Max"))
	if err1 == nil && err2 == nil {
		_ = c.budget.Observe(ctx, burstBucket, float64(left-max(most-burstCapacity, 0)), 0)
	}
	return interval
}

// block stops the connection's calls until HubSpot's Retry-After (or the
// limit's window) has passed.
func (c *caller) block(ctx context.Context, err error, interval time.Duration) error {
	wait := cmp.Or(interval, hubspotWindow)
	var ae *crm.APIError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		wait = ae.RetryAfter
	}
	until := c.a.now().Add(wait)
	if berr := c.budget.Block(ctx, until); berr != nil {
		return errors.Join(err, berr)
	}
	return &crm.WaitError{Until: until, Reason: "HubSpot answered 429: " + cmp.Or(messageOf(err), "rate limit reached")}
}
