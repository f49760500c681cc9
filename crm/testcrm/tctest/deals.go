package tctest

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm/emulator"
)

// The companies and deals an integration looks for and makes, as the
// emulator plays it (the records are the listings' own, pull.go):
//
//	GET  /api/companies?ref=… | ?name=… | ?domain=…  {"companies": [{"id", "name", "domain", "ref", ...}]}
//	POST /api/companies  {"name", "domain", "ref", ...}  → 201 the company
//	GET  /api/deals?ref=…                           {"deals": [{"id", "name", "ref", ...}]}
//	POST /api/deals      {"name", "company_id", "currency", "amount", "ref"} → 201 the deal
//
// A name is matched exactly but for case, a domain exactly (lower case);
// deleted records are not found; several matches come oldest first (by
// id's sequence). A company needs a name; a deal a name and a currency,
// and its company must exist (422 otherwise). The CRM keeps no uniqueness
// of its own on ref: posting the same company or deal twice makes two
// (what an integration must never do). A deal made here is a deal like
// the others: listed, read, synced to, filed on and given orders. Writes
// need deals:write (403); every call counts against the rate limit.

// madeSeq numbers the records integrations make.
func (s *Server) madeID(prefix string) string {
	s.pull.made++
	return prefix + strconv.Itoa(s.pull.made)
}

// live returns object's live records, oldest made first; the caller holds
// the lock.
func (s *Server) live(object string) []*record {
	var out []*record
	for _, r := range s.pull.records[object] {
		if !r.Deleted {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *record) int {
		return cmp.Or(a.ModifiedAt.Compare(b.ModifiedAt), strings.Compare(a.ID, b.ID))
	})
	return out
}

// MadeCompanies returns the live companies with an integration's ref.
func (s *Server) MadeCompanies() []Company {
	s.pull.mu.Lock()
	defer s.pull.mu.Unlock()
	var out []Company
	for _, r := range s.live(Companies) {
		if r.Company.Ref != "" {
			out = append(out, *r.Company)
		}
	}
	return out
}

// MadeDeals returns the live deals with an integration's ref.
func (s *Server) MadeDeals() []DealRecord {
	s.pull.mu.Lock()
	defer s.pull.mu.Unlock()
	var out []DealRecord
	for _, r := range s.live(Deals) {
		if r.Deal.Ref != "" {
			out = append(out, *r.Deal)
		}
	}
	return out
}

// writer checks a write's token and scope, and the limit.
func (s *Server) writer(w http.ResponseWriter, r *http.Request) (grant, bool) {
	g, ok := s.bearer(w, r)
	if !ok {
		return g, false
	}
	if !slices.Contains(strings.Fields(s.opts.Scope), "deals:write") {
		apiError(w, http.StatusForbidden, "forbidden", "the token may not write deals")
		return g, false
	}
	return g, !s.overLimit(w)
}

// listCompanies is GET /api/companies.
func (s *Server) listCompanies(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.bearer(w, r); !ok || s.overLimit(w) {
		return
	}
	q := r.URL.Query()
	s.pull.mu.Lock()
	defer s.pull.mu.Unlock()
	out := []Company{}
	for _, rec := range s.live(Companies) {
		c := rec.Company
		switch {
		case q.Has("ref") && c.Ref != "" && c.Ref == q.Get("ref"),
			q.Has("name") && strings.EqualFold(c.Name, q.Get("name")),
			q.Has("domain") && c.Domain != "" && c.Domain == strings.ToLower(q.Get("domain")):
			out = append(out, *c)
		}
	}
	emulator.JSON(w, contentType, http.StatusOK, map[string]any{"companies": out})
}

// postCompany is POST /api/companies.
func (s *Server) postCompany(w http.ResponseWriter, r *http.Request) {
	g, ok := s.writer(w, r)
	if !ok {
		return
	}
	var c Company
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&c); err != nil {
		apiError(w, http.StatusBadRequest, "bad_request", "the body is not a company: "+err.Error())
		return
	}
	if strings.TrimSpace(c.Name) == "" {
		apiError(w, http.StatusUnprocessableEntity, "invalid", "a company needs a name")
		return
	}
	c.Domain = strings.ToLower(c.Domain)
	s.pull.mu.Lock()
	defer s.pull.mu.Unlock()
	c.ID = s.madeID("company-")
	s.put(Companies, c.ID, g.user.Email, func(r *record) { r.Company = &c })
	emulator.JSON(w, contentType, http.StatusCreated, c)
}

// listDeals is GET /api/deals?ref=….
func (s *Server) listDeals(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.bearer(w, r); !ok || s.overLimit(w) {
		return
	}
	ref := r.URL.Query().Get("ref")
	s.pull.mu.Lock()
	defer s.pull.mu.Unlock()
	out := []DealRecord{}
	for _, rec := range s.live(Deals) {
		if ref != "" && rec.Deal.Ref == ref {
			out = append(out, *rec.Deal)
		}
	}
	emulator.JSON(w, contentType, http.StatusOK, map[string]any{"deals": out})
}

// postDeal is POST /api/deals.
func (s *Server) postDeal(w http.ResponseWriter, r *http.Request) {
	g, ok := s.writer(w, r)
	if !ok {
		return
	}
	var d DealRecord
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&d); err != nil {
		apiError(w, http.StatusBadRequest, "bad_request", "the body is not a deal: "+err.Error())
		return
	}
	if _, err := decimal.NewFromString(d.Amount); d.Amount != "" && err != nil {
		apiError(w, http.StatusUnprocessableEntity, "invalid", "amount must be a number")
		return
	}
	s.pull.mu.Lock()
	defer s.pull.mu.Unlock()
	company := s.pull.records[Companies][d.CompanyID]
	switch {
	case strings.TrimSpace(d.Name) == "":
		apiError(w, http.StatusUnprocessableEntity, "invalid", "a deal needs a name")
		return
	case len(d.Currency) != 3:
		apiError(w, http.StatusUnprocessableEntity, "invalid", "a deal needs a currency (ISO 4217)")
		return
	case d.CompanyID != "" && (company == nil || company.Deleted):
		apiError(w, http.StatusUnprocessableEntity, "invalid", "company "+d.CompanyID+" does not exist")
		return
	}
	d.ID = s.madeID("made-deal-")
	s.put(Deals, d.ID, g.user.Email, func(r *record) { r.Deal = &d })
	emulator.JSON(w, contentType, http.StatusCreated, d)
}
