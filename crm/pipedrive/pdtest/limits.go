package pdtest

import (
	"net/http"
	"strconv"
	"time"
)

// Pipedrive's API limits, from "Rate limiting" (pipedrive.readme.io/docs/
// core-api-concepts-rate-limiting):
//
//   - each company has a daily token budget, "30,000 base tokens ×
//     subscription plan multiplier × number of seats (+ purchased API Token
//     top-ups)", shared by every user and app of the company, which "resets
//     at midnight at server's timezone"; each request is charged its
//     endpoint's token cost, and once the budget "is fully depleted, all
//     further API requests will be rejected with a 429";
//   - burst limits "per token" on "a rolling 2-second window": for OAuth
//     apps 80 (Lite), 160 (Growth), 400 (Premium) or 480 (Ultimate)
//     requests, and for the Search API 10 per 2 seconds on every plan;
//   - every answer carries x-ratelimit-limit, x-ratelimit-remaining and
//     x-ratelimit-reset for the burst window.
//
// Assumed where the documentation is silent: a refused request is not
// charged; the 429s' messages; x-ratelimit-reset in whole seconds until the
// oldest request of the window leaves it; a search request counts in both
// burst windows.

// Plan is a company's subscription plan.
type Plan string

// The plans of the rate-limiting documentation.
const (
	Lite     Plan = "lite"
	Growth   Plan = "growth"
	Premium  Plan = "premium"
	Ultimate Plan = "ultimate"
)

var plans = map[Plan]struct{ multiplier, burst int }{
	Lite: {1, 80}, Growth: {2, 160}, Premium: {5, 400}, Ultimate: {7, 480},
}

// Burst and budget constants of the documentation.
const (
	BaseTokens  = 30_000
	BurstWindow = 2 * time.Second
	SearchBurst = 10
)

// Token costs of the endpoints emulated. The API reference gives each
// endpoint a "Cost": the DealProducts page (developers.pipedrive.com/docs/
// api/v1/DealProducts) lists 10 for listing a deal's products and 5 for
// adding one; the others are the x-token-cost of the v2 OpenAPI document as
// third-party copies show it (PATCH a deal or a deal product 5, add many
// deal products 25, delete one 3, delete many 25, add a product 5, search
// products 20, get one v2 entity 1, get one product 10); users/me is v1,
// whose "get single entity" costs 2 in the rate-limiting page's table.
const (
	costGetV1      = 2
	costGet        = 1
	costList       = 10
	costAdd        = 5
	costUpdate     = 5
	costDelete     = 3
	costBulkAdd    = 25
	costBulkDelete = 25
	costSearch     = 20
	// costStages is "Get all stages" (v2), assumed from the same copies.
	costStages = 5
)

// DailyBudget is a company's daily token budget by the documented formula.
func DailyBudget(p Plan, seats, topUp int) int {
	return BaseTokens*plans[p].multiplier*seats + topUp
}

// BurstLimit is the OAuth apps' burst limit of a plan, per 2 seconds.
func BurstLimit(p Plan) int { return plans[p].burst }

// maxWindows caps the tokens whose burst windows are kept: a long-running
// emulator forgets the idle ones first.
const maxWindows = 4096

// limiter holds the burst windows of the access tokens and counts the 429s.
type limiter struct {
	burst   map[string][]time.Time
	search  map[string][]time.Time
	tooMany int
}

// window returns tok's requests still inside the window at now.
func window(m map[string][]time.Time, tok string, now time.Time) []time.Time {
	w := m[tok]
	i := 0
	for i < len(w) && !w[i].After(now.Add(-BurstWindow)) {
		i++
	}
	w = w[i:]
	if len(w) == 0 {
		delete(m, tok)
	}
	return w
}

func remember(m map[string][]time.Time, tok string, w []time.Time, now time.Time) {
	if _, ok := m[tok]; !ok && len(m) >= maxWindows {
		for k := range m { // forget any one token: the map is bounded, not exact
			delete(m, k)
			break
		}
	}
	m[tok] = append(w, now)
}

// admit charges a request of u's company made with tok, or answers its 429.
// It sets the burst headers either way.
func (s *Server) admit(w http.ResponseWriter, u *user, tok string, cost int, search bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limits.burst == nil {
		s.limits.burst, s.limits.search = map[string][]time.Time{}, map[string][]time.Time{}
	}
	now := s.Now()
	c := u.company
	limit := BurstLimit(c.Plan)
	win := window(s.limits.burst, tok, now)
	reset := 2
	if len(win) > 0 {
		reset = int((win[0].Add(BurstWindow).Sub(now) + time.Second - 1) / time.Second)
	}
	headers := func(remaining int) {
		h := w.Header()
		h.Set("x-ratelimit-limit", strconv.Itoa(limit))
		h.Set("x-ratelimit-remaining", strconv.Itoa(max(remaining, 0)))
		h.Set("x-ratelimit-reset", strconv.Itoa(reset))
	}
	refuse := func(remaining int, message string) bool {
		headers(remaining)
		s.limits.tooMany++
		apiError(w, http.StatusTooManyRequests, message)
		return false
	}
	if !s.opts.NoBurst && len(win) >= limit {
		return refuse(0, "Request over limit: too many requests in the burst window")
	}
	var swin []time.Time
	if search {
		swin = window(s.limits.search, tok, now)
		if !s.opts.NoBurst && len(swin) >= SearchBurst {
			return refuse(limit-len(win), "Request over limit: too many search requests in the burst window")
		}
	}
	s.today(c, now)
	if !s.opts.NoDailyBudget && c.spent >= DailyBudget(c.Plan, c.Seats, c.TopUpTokens) {
		return refuse(limit-len(win), "Request over limit: the company's daily API token budget is spent")
	}
	c.spent += cost
	s.tokensSpent[c.ID] += cost
	remember(s.limits.burst, tok, win, now)
	if search {
		remember(s.limits.search, tok, swin, now)
	}
	headers(limit - len(win) - 1)
	return true
}

// TokensSpent is the tokens charged to a company since the emulator
// started, all days together.
func (s *Server) TokensSpent(companyID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustCompany(companyID)
	return s.tokensSpent[companyID]
}

// TokensLeft is what is left of a company's daily budget today.
func (s *Server) TokensLeft(companyID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustCompany(companyID)
	s.today(c, s.Now())
	return DailyBudget(c.Plan, c.Seats, c.TopUpTokens) - c.spent
}

// today starts a company's new day of budget when the day changed at its
// midnight. s.mu is held.
func (s *Server) today(c *company, now time.Time) {
	zone := s.opts.BudgetZone
	if zone == nil {
		zone = time.UTC
	}
	if day := now.In(zone).Format(time.DateOnly); c.day != day {
		c.day, c.spent = day, 0
	}
}

// TooManyRequests is how many requests the limits refused with 429.
func (s *Server) TooManyRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits.tooMany
}

// SpendTokens charges n tokens to a company's budget today, as the other
// apps and integrations that share it do.
func (s *Server) SpendTokens(companyID int64, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustCompany(companyID)
	s.today(c, s.Now())
	c.spent += n
}

// TokensByRoute is the tokens charged per endpoint, by its route pattern
// ("GET /api/v2/deals"), all companies and days together.
func (s *Server) TokensByRoute() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.tokensByRoute))
	for k, v := range s.tokensByRoute {
		out[k] = v
	}
	return out
}
