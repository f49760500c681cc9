package pdtest

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The API v2 lists (developers.pipedrive.com/docs/api/v1, "Get all deals",
// "Get all organizations", "Get all persons", "Get all products"), each of
// Cost 10:
//
//   - ids: "comma separated string array of up to 100 entity ids"; the ids
//     that do not exist or are not visible are left out of the answer;
//   - cursor and limit: "the marker (an opaque string value) representing
//     the first item on the next page", answered in
//     additional_data.next_cursor (null on the last page); limit defaults
//     to 100, at most 500;
//   - sort_by and sort_direction (asc by default): deals, organizations and
//     persons sort by id, update_time or add_time, products also by name;
//   - updated_since (update_time at or after, RFC 3339) and updated_until
//     (before): deals, organizations and persons; products have neither;
//   - status (deals only): open, won, lost or deleted; without it every
//     deal not deleted. "deleted" lists the deals deleted in the last 30
//     days.
//
// Assumed: the cursor is an offset into the sorted listing (the least
// stable cursor an opaque marker may be, so that a client that leans on it
// while records change is caught: a record whose update moves it to the end
// of a listing sorted by update_time shifts the others back by one, and the
// next page skips one); ties of the sort key are ordered by id; the
// messages of the 400s.

// maxListIDs and maxListLimit are the lists' documented bounds.
const (
	maxListIDs   = 100
	maxListLimit = 500
	// deletedDealsKept is how long status=deleted still lists a deal.
	deletedDealsKept = 30 * 24 * time.Hour
)

// listed is one entity of a listing: what it sorts by and its JSON.
type listed struct {
	id      int64
	name    string
	updated time.Time
	json    map[string]any
}

// listSpec is what one list endpoint accepts.
type listSpec struct {
	sorts   []string
	updated bool // updated_since and updated_until
}

// AfterPage, when set, runs after each list page is answered (outside the
// server's lock), with the path and the page's number from 1: a test
// changes records there, between the pages of a listing.
func (s *Server) AfterPage(f func(path string, page int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterPage = f
}

// answerList filters, sorts and pages items as the request asks, or
// answers its 400.
func (s *Server) answerList(w http.ResponseWriter, r *http.Request, spec listSpec, items []listed) {
	q := r.URL.Query()
	limit := 100
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxListLimit {
			apiError(w, http.StatusBadRequest, "query/limit must be <= 500")
			return
		}
		limit = n
	}
	sortBy := cmpOr(q.Get("sort_by"), "id")
	if !slices.Contains(spec.sorts, sortBy) {
		apiError(w, http.StatusBadRequest, "query/sort_by must be equal to one of the allowed values")
		return
	}
	desc := false
	switch q.Get("sort_direction") {
	case "", "asc":
	case "desc":
		desc = true
	default:
		apiError(w, http.StatusBadRequest, "query/sort_direction must be equal to one of the allowed values")
		return
	}
	var since, until time.Time
	for name, t := range map[string]*time.Time{"updated_since": &since, "updated_until": &until} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		if !spec.updated {
			apiError(w, http.StatusBadRequest, "query must NOT have additional properties")
			return
		}
		parsed, err := time.Parse(time.RFC3339, v)
		if err != nil {
			apiError(w, http.StatusBadRequest, "query/"+name+" must match format \"date-time\"")
			return
		}
		*t = parsed
	}
	var ids []int64
	if v := q.Get("ids"); v != "" {
		for _, part := range strings.Split(v, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil {
				apiError(w, http.StatusBadRequest, "query/ids must be a comma separated list of integers")
				return
			}
			ids = append(ids, id)
		}
		if len(ids) > maxListIDs {
			apiError(w, http.StatusBadRequest, "query/ids must NOT have more than 100 items")
			return
		}
	}
	offset := 0
	if c := q.Get("cursor"); c != "" {
		raw, err := base64.RawURLEncoding.DecodeString(c)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "offset:"))
		if err != nil || err2 != nil || n < 0 || !strings.HasPrefix(string(raw), "offset:") {
			apiError(w, http.StatusBadRequest, "Invalid cursor")
			return
		}
		offset = n
	}
	kept := items[:0]
	for _, it := range items {
		if (!since.IsZero() && it.updated.Before(since)) || (!until.IsZero() && !it.updated.Before(until)) ||
			(ids != nil && !slices.Contains(ids, it.id)) {
			continue
		}
		kept = append(kept, it)
	}
	slices.SortFunc(kept, func(a, b listed) int {
		c := 0
		switch sortBy {
		case "update_time":
			c = a.updated.Compare(b.updated)
		case "name":
			c = strings.Compare(a.name, b.name)
		}
		if c == 0 {
			c = int(a.id - b.id)
			if c > 0 {
				c = 1
			} else if c < 0 {
				c = -1
			}
		}
		if desc {
			return -c
		}
		return c
	})
	page := []any{}
	for i := offset; i < len(kept) && i < offset+limit; i++ {
		page = append(page, kept[i].json)
	}
	var next any
	if offset+limit < len(kept) {
		next = base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset+limit)))
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": page,
		"additional_data": map[string]any{"next_cursor": next}})
	s.mu.Lock()
	after := s.afterPage
	s.pages[r.URL.Path]++
	n := s.pages[r.URL.Path]
	s.mu.Unlock()
	if after != nil {
		after(r.URL.Path, n)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

var sortsByTime = []string{"id", "update_time", "add_time"}

// listDeals is GET /api/v2/deals.
func (s *Server) listDeals(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "deals:read", "deals:full") {
		return
	}
	status := r.URL.Query().Get("status")
	if status != "" && !slices.Contains([]string{"open", "won", "lost", "deleted"}, status) {
		apiError(w, http.StatusBadRequest, "query/status must be equal to one of the allowed values")
		return
	}
	s.mu.Lock()
	now := s.Now()
	var items []listed
	for _, d := range u.company.deals {
		st := cmpOr(d.Status, "open")
		switch {
		case status == "" && st == "deleted", status != "" && st != status:
			continue
		case st == "deleted" && now.Sub(d.Updated) > deletedDealsKept:
			continue
		}
		items = append(items, listed{id: d.ID, updated: orCreated(d.Updated), json: s.dealJSON(u, d)})
	}
	s.mu.Unlock()
	s.answerList(w, r, listSpec{sorts: sortsByTime, updated: true}, items)
}

// listOrgs is GET /api/v2/organizations: deleted organizations are gone
// from it (v2 offers no filter that lists them).
func (s *Server) listOrgs(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "contacts:read", "contacts:full") {
		return
	}
	s.mu.Lock()
	var items []listed
	for _, o := range u.company.orgs {
		items = append(items, listed{id: o.ID, updated: orCreated(o.Updated), json: orgJSON(u, o)})
	}
	s.mu.Unlock()
	s.answerList(w, r, listSpec{sorts: sortsByTime, updated: true}, items)
}

// listPersons is GET /api/v2/persons.
func (s *Server) listPersons(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "contacts:read", "contacts:full") {
		return
	}
	s.mu.Lock()
	var items []listed
	for _, p := range u.company.persons {
		items = append(items, listed{id: p.ID, updated: created, json: personJSON(u, p)})
	}
	s.mu.Unlock()
	s.answerList(w, r, listSpec{sorts: sortsByTime, updated: true}, items)
}

// listProducts is GET /api/v2/products: no updated_since, no deleted
// products.
func (s *Server) listProducts(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "products:read", "products:full") {
		return
	}
	s.mu.Lock()
	var items []listed
	for _, p := range u.company.products {
		if p.Deleted {
			continue
		}
		items = append(items, listed{id: p.ID, name: p.Name, updated: orCreated(p.Updated), json: productJSON(u, p)})
	}
	s.mu.Unlock()
	s.answerList(w, r, listSpec{sorts: []string{"id", "name", "add_time", "update_time"}}, items)
}

func orCreated(t time.Time) time.Time {
	if t.IsZero() {
		return created
	}
	return t.UTC().Truncate(time.Second)
}

// ListPages counts the list pages answered on a path ("/api/v2/deals").
func (s *Server) ListPages(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pages[path]
}
