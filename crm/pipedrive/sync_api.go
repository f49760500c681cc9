package pipedrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Token costs of the endpoints sync calls, from the API reference's "Cost"
// of each (the rate-limiting page: "You can view the token costs for each
// API endpoint in our API Reference"). The DealProducts page lists 10 for
// listing a deal's products and 5 for adding one; the others are the
// x-token-cost annotations of the v2 OpenAPI document as third-party copies
// of it show them (PATCH a deal or a deal product 5, add many deal products
// 25, delete one 3, delete many 25, add a product 5, search products 20):
// assumed until checked against a company's API Usage Dashboard.
const (
	costListDealProducts   = 10
	costBulkAddProducts    = 25
	costUpdate             = 5
	costDeleteDealProduct  = 3
	costDeleteDealProducts = 25
	costAddProduct         = 5
	costSearchProducts     = 20
	// costList is a v2 list's page ("Get all deals", "... organizations",
	// "... persons", "... products": Cost 10 each).
	costList = 10
	// costStages is "Get all stages" (v2), from the same third-party
	// copies: assumed.
	costStages = 5
)

// The buckets of Buckets, which every call takes from.
const (
	bucketDaily  = "daily"
	bucketBurst  = "burst"
	bucketSearch = "search"
)

// request is one call of a push.
type request struct {
	method string
	path   string
	query  url.Values
	body   any
	// raw, when set, is the body as it is, of type rawType (a multipart
	// form), instead of body.
	raw     []byte
	rawType string
	cost    int
	// search: the Search API's own burst limit applies.
	search bool
	// next, when set, receives a list's next cursor
	// (additional_data.next_cursor; "" on the last page).
	next *string
}

// pusher is one Push: the session, budget and links it writes through, and
// what it counted. A limit reached or a connection that gives no token
// stops it: every call after that fails with the same error at once, so the
// deals not yet written get it without a call. A 403 does not: Pipedrive
// may refuse one deal (its visibility) and not the others, and a missing
// scope is Ready's to catch.
type pusher struct {
	y     *Syncer
	s     crm.Session
	b     crm.Budget
	links crm.Links

	calls  atomic.Int64
	tokens atomic.Int64

	mu   sync.Mutex
	halt error
	// dealFields are the company's deal fields by code, read once a push
	// when a deal carries a mapped custom field (sync_fields.go).
	dealFields map[string]apiField
	fieldsMu   sync.Mutex // one read of them at a time
}

func (p *pusher) stopped() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.halt
}

// stop keeps the first error that ends the push for every deal.
func (p *pusher) stop(err error) {
	var wait *crm.WaitError
	var coded *qwoty.Error
	if !errors.As(err, &wait) && !errors.As(err, &coded) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.halt == nil {
		p.halt = err
	}
}

// do sends r through the session (a fresh token, one refresh after a 401)
// after taking its cost from the budget, and decodes the answer's "data"
// into out (nil: dropped).
func (p *pusher) do(ctx context.Context, r request, out any) error {
	if err := p.stopped(); err != nil {
		return err
	}
	conn := p.s.Connection()
	err := p.s.Call(ctx, func(ctx context.Context, token string) error {
		if err := p.take(ctx, r); err != nil {
			return err
		}
		p.calls.Add(1)
		p.tokens.Add(int64(r.cost))
		var limited http.Header
		var body json.RawMessage
		err := crm.Call(ctx, crm.Request{Provider: qwoty.ProviderPipedrive, Method: r.method, Base: conn.InstanceURL,
			Path: r.path, Query: r.query, Token: token, JSON: r.body, Body: r.raw, BodyType: r.rawType, Timeout: DefaultTimeout, HTTP: p.y.http,
			Refused: apiErrors.Answer,
			Seen: func(status int, h http.Header) {
				p.observe(ctx, h)
				if status == http.StatusTooManyRequests {
					limited = h.Clone()
				}
			}}, &body)
		if err != nil {
			if limited != nil {
				return p.limited(ctx, limited, err)
			}
			return err
		}
		return decodeData(body, out, r.next)
	})
	if err != nil {
		p.stop(err)
	}
	return err
}

// take takes a call's share of the budget: one request of the burst
// window (and of the search window for a search) and its token cost of the
// day's budget.
func (p *pusher) take(ctx context.Context, r request) error {
	if err := p.b.Take(ctx, bucketBurst, 1); err != nil {
		return err
	}
	if r.search {
		if err := p.b.Take(ctx, bucketSearch, 1); err != nil {
			return err
		}
	}
	return p.b.Take(ctx, bucketDaily, float64(r.cost))
}

// observe corrects the burst bucket from the answer's x-ratelimit-limit and
// x-ratelimit-remaining, which every answer carries for the token's 2-second
// window ("Rate limiting", HTTP headers). Pipedrive says nothing of the
// daily budget on the wire.
func (p *pusher) observe(ctx context.Context, h http.Header) {
	left, err1 := strconv.ParseFloat(h.Get("x-ratelimit-remaining"), 64)
	limit, err2 := strconv.ParseFloat(h.Get("x-ratelimit-limit"), 64)
	if err1 != nil || err2 != nil {
		return
	}
	_ = p.b.Observe(ctx, bucketBurst, left, limit) // a correction: the budget still holds without it
}

// limited blocks the connection after a 429 and returns the wait. Pipedrive
// answers 429 both when a token's burst window is full and when the
// company's daily budget is spent, "blocked until the budget resets the
// following day ... based on the server's timezone". A burst answer shows
// x-ratelimit-remaining 0 and the seconds until the window frees in
// x-ratelimit-reset; any other 429 is taken for the daily budget, blocked
// until the next midnight UTC (the documentation does not name the server's
// time zone: assumed, and a 429 after it blocks again).
func (p *pusher) limited(ctx context.Context, h http.Header, err error) error {
	now := p.y.now()
	var until time.Time
	var ae *crm.APIError
	switch {
	case errors.As(err, &ae) && ae.RetryAfter > 0:
		until = now.Add(ae.RetryAfter)
	case h.Get("x-ratelimit-remaining") == "0":
		secs, _ := strconv.Atoi(h.Get("x-ratelimit-reset"))
		until = now.Add(time.Duration(max(secs, 1)) * time.Second)
	default:
		until = NextBudgetReset(now)
	}
	if berr := p.b.Block(ctx, until); berr != nil {
		return fmt.Errorf("block the connection after Pipedrive's 429: %w", berr)
	}
	reason := "Pipedrive answered 429"
	if ae != nil && ae.Message != "" {
		reason = ae.Message
	}
	return &crm.WaitError{Until: until, Reason: reason}
}

// NextBudgetReset is when a daily budget spent at now comes back: the next
// midnight UTC.
func NextBudgetReset(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

// decodeData reads a v2 success answer {"success": true, "data": ...,
// "additional_data": {"next_cursor": ...}}.
func decodeData(body json.RawMessage, out any, next *string) error {
	var env struct {
		Success bool            `json:"success"`
		Data    json.RawMessage `json:"data"`
		More    struct {
			NextCursor *string `json:"next_cursor"`
		} `json:"additional_data"`
	}
	if err := json.Unmarshal(body, &env); err != nil || !env.Success {
		return fmt.Errorf("the answer is not a Pipedrive success: %s", crm.Snippet(body))
	}
	if next != nil {
		*next = ""
		if env.More.NextCursor != nil {
			*next = *env.More.NextCursor
		}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return fmt.Errorf("the answer's data is not the expected JSON: %w", err)
	}
	return nil
}

// classify turns a call's error into what the engine acts on: Pipedrive's
// 400 (its validation of what we sent) is permanent, with its message;
// 403 is crm.ErrForbidden already; the rest passes as it is (5xx, the
// network: transient; waits and coded errors: the engine's).
func classify(err error) error {
	var ae *crm.APIError
	if errors.As(err, &ae) && (ae.Status == http.StatusBadRequest || ae.Status == http.StatusUnprocessableEntity) {
		return crm.Rejected(err)
	}
	return err
}

// status is the HTTP status of a call's error, 0 when it has none.
func status(err error) int {
	var ae *crm.APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}
