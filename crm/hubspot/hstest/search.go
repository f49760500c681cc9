package hstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// The CRM Search API: POST /crm/objects/{version}/{type}/search, as its
// guide describes it. Filters in up to 5 groups (OR between groups, AND
// within one), up to 10 filters a group and 25 in all (changelog
// "Expanded filtering capabilities", 2024); one sort; a page of up to 200
// results (default 10), paged by "after", an offset into the sorted
// results; and no more than 10,000 results for one query: a page reaching
// past them is refused. It has a rate limit of its own, 5 requests a
// second per account, apart from the 110 calls per 10 seconds of the rest
// of the API.
const (
	SearchMaxLimit      = 200
	SearchMaxResults    = 10_000
	searchMaxGroups     = 5
	searchMaxPerGroup   = 10
	searchMaxFilters    = 25
	DefaultSearchMax    = 5
	DefaultSearchPeriod = time.Second
)

type searchFilter struct {
	PropertyName string `json:"propertyName"`
	Operator     string `json:"operator"`
	Value        string `json:"value"`
}

// SetSearchHook sets a function the Search API calls with the number of
// the search (1, 2, ...) before it reads the records: a test changes
// records there, between the pages of a listing.
func (s *Server) SetSearchHook(f func(n int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.searchHook = f
}

// Searches counts the searches of an object type, refused ones included.
func (s *Server) Searches(typ string) int { return s.calls.Get("search:" + typ) }

// search is POST /crm/objects/{version}/{type}/search.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	typ := orderType(r.PathValue("type"))
	s.calls.Add("search:" + typ)
	a, ok := s.bearer(w, r)
	if !ok {
		return
	}
	p := a.Grant.user.portal
	if !s.searchLimit(w, p) {
		return
	}
	scope, known := pulledTypes[typ]
	if typ == "orders" {
		// Orders are searched too (orders.go), where the account has them.
		scope, known = OrderReadScope, !p.NoOrders
	}
	if !known {
		noOrders(w, r.PathValue("type"))
		return
	}
	if !slices.Contains(a.Grant.scopes, scope) {
		missingScopes(w, scope)
		return
	}
	var body struct {
		FilterGroups []struct {
			Filters []searchFilter `json:"filters"`
		} `json:"filterGroups"`
		Sorts      []json.RawMessage `json:"sorts"`
		Properties []string          `json:"properties"`
		Limit      *int              `json:"limit"`
		After      string            `json:"after"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON on line 1: "+err.Error())
		return
	}
	limit := 10
	if body.Limit != nil {
		limit = *body.Limit
	}
	offset := 0
	if body.After != "" {
		n, err := strconv.Atoi(body.After)
		if err != nil || n < 0 {
			apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "after must be a non-negative integer")
			return
		}
		offset = n
	}
	total := 0
	for _, g := range body.FilterGroups {
		total += len(g.Filters)
		if len(g.Filters) > searchMaxPerGroup {
			total = searchMaxFilters + 1
		}
	}
	switch {
	case limit < 1 || limit > SearchMaxLimit:
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("limit must be between 1 and %d", SearchMaxLimit))
		return
	case len(body.FilterGroups) > searchMaxGroups || total > searchMaxFilters:
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR",
			fmt.Sprintf("too many filters: at most %d filter groups, %d filters a group and %d in all", searchMaxGroups, searchMaxPerGroup, searchMaxFilters))
		return
	case len(body.Sorts) > 1:
		// Assumed: the guide shows one sort rule, and says only one is used.
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "only one sort is supported")
		return
	case offset+limit > SearchMaxResults:
		// The wording is assumed; the cap is documented.
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR",
			fmt.Sprintf("the search cannot page past %d results (after %d, limit %d)", SearchMaxResults, offset, limit))
		return
	}
	sortBy, desc := "", false
	if len(body.Sorts) == 1 {
		var sorted struct {
			PropertyName string `json:"propertyName"`
			Direction    string `json:"direction"`
		}
		if err := json.Unmarshal(body.Sorts[0], &sorted); err != nil {
			// A sort may be a bare property name (ascending).
			var name string
			if json.Unmarshal(body.Sorts[0], &name) != nil {
				apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "a sort is a property name or {propertyName, direction}")
				return
			}
			sorted.PropertyName = name
		}
		sortBy, desc = sorted.PropertyName, sorted.Direction == "DESCENDING"
	}

	s.mu.Lock()
	hook := s.searchHook
	s.mu.Unlock()
	if hook != nil {
		hook(s.Searches(typ))
	}

	s.mu.Lock()
	type hit struct {
		id    string
		props map[string]string
	}
	var hits []hit
	for _, id := range p.live(typ) {
		stored, _, _ := s.record(p, typ, id)
		props := map[string]string{}
		for k, v := range stored {
			props[k] = v
		}
		props["hs_object_id"], props["hs_lastmodifieddate"] = id, strconv.FormatInt(p.modifiedOf(typ, id).UnixMilli(), 10)
		props["createdate"] = strconv.FormatInt(epoch.UnixMilli(), 10)
		match := len(body.FilterGroups) == 0
		for _, g := range body.FilterGroups {
			all := true
			for _, f := range g.Filters {
				all = all && f.matches(props)
			}
			match = match || all
		}
		if match {
			hits = append(hits, hit{id, props})
		}
	}
	if sortBy != "" {
		slices.SortStableFunc(hits, func(a, b hit) int {
			c := compareValues(a.props[sortBy], b.props[sortBy])
			if desc {
				c = -c
			}
			return c
		})
	}
	page := []map[string]any{}
	for i := offset; i < len(hits) && i < offset+limit; i++ {
		obj, _ := s.objectJSON(p, typ, hits[i].id, body.Properties)
		page = append(page, obj)
	}
	s.mu.Unlock()
	out := map[string]any{"total": len(hits), "results": page}
	if offset+limit < len(hits) {
		out["paging"] = map[string]any{"next": map[string]any{"after": strconv.Itoa(offset + limit)}}
	}
	writeJSON(w, http.StatusOK, out)
}

// matches applies a filter to a record's properties. Dates compare as
// Unix milliseconds (a filter's value may be milliseconds or an ISO
// time); numbers as numbers; other values as text.
func (f searchFilter) matches(props map[string]string) bool {
	v, has := props[f.PropertyName]
	has = has && v != ""
	want := f.Value
	if t, err := time.Parse(time.RFC3339Nano, want); err == nil {
		want = strconv.FormatInt(t.UnixMilli(), 10)
	}
	c := compareValues(v, want)
	// Text compares equal but for case (assumed: HubSpot's search
	// matches a company name whatever its case).
	eq := c == 0 || strings.EqualFold(v, want)
	switch strings.ToUpper(f.Operator) {
	case "HAS_PROPERTY":
		return has
	case "NOT_HAS_PROPERTY":
		return !has
	case "EQ":
		return has && eq
	case "NEQ":
		return !has || !eq
	case "GT":
		return has && c > 0
	case "GTE":
		return has && c >= 0
	case "LT":
		return has && c < 0
	case "LTE":
		return has && c <= 0
	}
	return false
}

// compareValues compares two property values as numbers when both are,
// else as text.
func compareValues(a, b string) int {
	x, errA := decimal.NewFromString(a)
	y, errB := decimal.NewFromString(b)
	if errA == nil && errB == nil {
		return x.Cmp(y)
	}
	return strings.Compare(a, b)
}

// searchLimit counts a search against its portal's own window (5 a
// second); a full window is answered 429 with the secondly policy.
func (s *Server) searchLimit(w http.ResponseWriter, p *portal) bool {
	rl := s.opts.SearchRateLimit
	if rl.Off || s.opts.RateLimit.Off {
		return true
	}
	now := s.Now()
	s.mu.Lock()
	win := s.searchWindows[p.ID]
	if win == nil {
		win = &rolling{}
		s.searchWindows[p.ID] = win
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
	} else {
		win.calls = append(win.calls, now)
	}
	s.mu.Unlock()
	if !full {
		return true
	}
	s.calls.Add("429:search")
	w.Header().Set("Retry-After", strconv.FormatInt(int64(max((wait+time.Second-1)/time.Second, 1)), 10))
	// Assumed wording of the secondly policy's refusal.
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"status": "error", "message": "You have reached your secondly limit.",
		"errorType": "RATE_LIMIT", "policyName": "SECONDLY",
	})
	return false
}

// SearchRateLimited counts the 429s the Search API's own limit answered.
func (s *Server) SearchRateLimited() int { return s.calls.Get("429:search") }
