package pdtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Organizations and deals made through API v2, and their searches
// (developers.pipedrive.com/docs/api/v1/Organizations and Deals, the v2
// endpoints "Add a new organization", "Add a new deal", "Search
// organizations", "Search deals"):
//
//   - POST /api/v2/organizations: name required; address an object whose
//     value is the address as typed; custom_fields checked against the
//     company's organization fields, as a deal's PATCH is.
//   - POST /api/v2/deals: title required; value a number, currency 3
//     letters, org_id and person_id integers, stage_id a stage of the
//     company (the first stage of the first pipeline when none),
//     status open, won or lost, expected_close_date a date, custom_fields.
//     A deal must be "linked to a Person or an Organization" (the
//     changelog's "Breaking bug fix in POST /deals endpoint", in force since
//     September 30, 2021): one of org_id and person_id is required.
//   - GET /api/v2/organizations/search and /api/v2/deals/search: term
//     required (at least 2 characters, 1 with exact_match), fields among
//     the object's searchable ones (organizations: address, custom_fields,
//     name, notes; deals: custom_fields, notes, title), exact_match (case
//     ignored), limit; the answer is data.items of {result_score, item}.
//
// Options.SearchLag keeps what was made out of the searches for a while.
//
// Assumed: the creations' token cost (5, as the other v2 adds), their 201
// answer with the entity as a GET shows it, the 400s' wording; that a
// search finds an entity the moment it is made (the documentation says
// nothing of the search index's delay); that an item's custom_fields lists
// the custom field values that matched, as text; the search scopes (the
// object's read or full scope, or search:read).

// addOrg is POST /api/v2/organizations.
func (s *Server) addOrg(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "contacts:full") {
		return
	}
	obj, ok := object(w, r)
	if !ok {
		return
	}
	c := &checker{path: "body"}
	name, _ := c.text(obj, "name", true)
	if c.refused(w) {
		return
	}
	if strings.TrimSpace(name) == "" {
		apiError(w, http.StatusBadRequest, "body/name must NOT be empty")
		return
	}
	o := Org{Name: name}
	if raw, ok := obj["address"]; ok && string(bytes.TrimSpace(raw)) != "null" {
		var addr map[string]json.RawMessage
		if json.Unmarshal(raw, &addr) != nil || addr == nil {
			apiError(w, http.StatusBadRequest, "body/address must be object")
			return
		}
		ac := &checker{path: "body/address"}
		o.Address, _ = ac.text(addr, "value", false)
		if ac.refused(w) {
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	comp := u.company
	if raw, ok := obj["custom_fields"]; ok {
		custom, msg := comp.checkCustomOf(OrgFields, raw)
		if msg != "" {
			apiError(w, http.StatusBadRequest, msg)
			return
		}
		o.Custom = map[string]any{}
		for code, v := range custom {
			if v != nil {
				var val any
				_ = json.Unmarshal(v, &val)
				o.Custom[code] = val
			}
		}
	}
	o.ID = 1
	for id := range comp.orgs {
		o.ID = max(o.ID, id+1)
	}
	o.Updated = s.Now().UTC().Truncate(time.Second)
	comp.orgs[o.ID] = o
	comp.madeNow("org", o.ID, s.Now())
	successCreated(w, orgJSON(u, o))
}

// addDeal is POST /api/v2/deals.
func (s *Server) addDeal(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "deals:full") {
		return
	}
	obj, ok := object(w, r)
	if !ok {
		return
	}
	c := &checker{path: "body"}
	title, _ := c.text(obj, "title", true)
	value, hasValue := c.number(obj, "value", false)
	currency, hasCurrency := c.text(obj, "currency", false)
	org, hasOrg := c.integer(obj, "org_id", false)
	person, hasPerson := c.integer(obj, "person_id", false)
	stage, hasStage := c.integer(obj, "stage_id", false)
	status, _ := c.oneOf(obj, "status", "open", "won", "lost")
	closes, hasCloses := c.text(obj, "expected_close_date", false)
	if c.refused(w) {
		return
	}
	switch {
	case strings.TrimSpace(title) == "":
		apiError(w, http.StatusBadRequest, "body/title must NOT be empty")
		return
	case hasCurrency && len(currency) != 3:
		apiError(w, http.StatusBadRequest, "body/currency must NOT have more than 3 characters")
		return
	case !hasOrg && !hasPerson:
		apiError(w, http.StatusBadRequest, "A deal must be linked to a person or an organization: body must have org_id or person_id")
		return
	}
	if hasCloses {
		if _, err := time.Parse(time.DateOnly, closes); err != nil {
			apiError(w, http.StatusBadRequest, "body/expected_close_date must match format \"date\"")
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	comp := u.company
	d := Deal{Title: title, Currency: currency, Status: status, CloseDate: closes}
	if !hasCurrency {
		d.Currency = "EUR" // the user's default currency (users/me)
	}
	if hasValue {
		d.Value = value.String()
	}
	if hasOrg {
		if _, ok := comp.orgs[org]; !ok {
			apiError(w, http.StatusBadRequest, "Organization not found")
			return
		}
		d.OrgID = org
	}
	if hasPerson {
		if _, ok := comp.persons[person]; !ok {
			apiError(w, http.StatusBadRequest, "Person not found")
			return
		}
		d.PersonID = person
	}
	if hasStage {
		if _, ok := comp.stages[stage]; !ok {
			apiError(w, http.StatusBadRequest, "Stage not found")
			return
		}
		d.StageID = stage
	}
	var custom map[string]json.RawMessage
	if raw, ok := obj["custom_fields"]; ok {
		var msg string
		if custom, msg = comp.checkCustom(raw); msg != "" {
			apiError(w, http.StatusBadRequest, msg)
			return
		}
	}
	d.ID = 1
	for id := range comp.deals {
		d.ID = max(d.ID, id+1)
	}
	d.Updated = s.Now().UTC().Truncate(time.Second)
	if err := s.putDeal(comp, d); err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	comp.madeNow("deal", d.ID, s.Now())
	for code, v := range custom {
		if v == nil {
			continue
		}
		if comp.custom[d.ID] == nil {
			comp.custom[d.ID] = map[string]json.RawMessage{}
		}
		comp.custom[d.ID][code] = v
	}
	successCreated(w, s.dealJSON(u, comp.deals[d.ID]))
}

// madeNow notes when an entity was made, for Options.SearchLag. s.mu is
// held.
func (c *company) madeNow(kind string, id int64, now time.Time) {
	if c.made == nil {
		c.made = map[string]time.Time{}
	}
	c.made[kind+":"+strconv.FormatInt(id, 10)] = now
}

// indexed reports whether the search finds an entity yet. s.mu is held.
func (s *Server) indexed(c *company, kind string, id int64) bool {
	at, ok := c.made[kind+":"+strconv.FormatInt(id, 10)]
	return !ok || s.Now().Sub(at) >= s.opts.SearchLag
}

// searchQuery reads a search's term, fields (among allowed, all by
// default), exact_match and limit, or answers the 400.
func searchQuery(w http.ResponseWriter, r *http.Request, allowed ...string) (term string, fields []string, exact bool, limit int, ok bool) {
	q := r.URL.Query()
	term = q.Get("term")
	switch q.Get("exact_match") {
	case "", "false":
	case "true":
		exact = true
	default:
		apiError(w, http.StatusBadRequest, "query/exact_match must be boolean")
		return
	}
	switch {
	case !q.Has("term"):
		apiError(w, http.StatusBadRequest, "query must have required property 'term'")
		return
	case exact && len([]rune(term)) < 1, !exact && len([]rune(term)) < 2:
		apiError(w, http.StatusBadRequest, "query/term must NOT have fewer than 2 characters")
		return
	}
	fields = allowed
	if f := q.Get("fields"); f != "" {
		fields = nil
		for _, name := range strings.Split(f, ",") {
			if !slices.Contains(allowed, name) {
				apiError(w, http.StatusBadRequest, "query/fields must be equal to one of the allowed values")
				return
			}
			fields = append(fields, name)
		}
	}
	limit = 100
	if l := q.Get("limit"); l != "" {
		var n int
		if err := json.Unmarshal([]byte(l), &n); err != nil || n < 1 || n > 500 {
			apiError(w, http.StatusBadRequest, "query/limit must be <= 500")
			return
		}
		limit = n
	}
	return term, fields, exact, limit, true
}

// matcher matches a value as the search does: the term anywhere in it, or
// all of it with exact_match; case ignored either way.
func matcher(term string, exact bool) func(v string) bool {
	return func(v string) bool {
		if v == "" {
			return false
		}
		if exact {
			return strings.EqualFold(v, term)
		}
		return strings.Contains(strings.ToLower(v), strings.ToLower(term))
	}
}

// customMatches are the text custom values among values that match.
func customMatches(values map[string]any, match func(string) bool) []any {
	out := []any{}
	codes := make([]string, 0, len(values))
	for code := range values {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for _, code := range codes {
		if v, ok := values[code].(string); ok && match(v) {
			out = append(out, v)
		}
	}
	return out
}

// searchAnswer writes a search's answer.
func searchAnswer(w http.ResponseWriter, items []any) {
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": map[string]any{"items": items},
		"additional_data": map[string]any{"next_cursor": nil}})
}

// searchOrgs is GET /api/v2/organizations/search.
func (s *Server) searchOrgs(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "contacts:read", "contacts:full", "search:read") {
		return
	}
	term, fields, exact, limit, ok := searchQuery(w, r, "address", "custom_fields", "name", "notes")
	if !ok {
		return
	}
	match := matcher(term, exact)
	s.mu.Lock()
	defer s.mu.Unlock()
	comp := u.company
	ids := make([]int64, 0, len(comp.orgs))
	for id := range comp.orgs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	items := []any{}
	for _, id := range ids {
		o := comp.orgs[id]
		if !s.indexed(comp, "org", id) {
			continue
		}
		custom := customMatches(o.Custom, match)
		hit := (slices.Contains(fields, "name") && match(o.Name)) || (slices.Contains(fields, "custom_fields") && len(custom) > 0) ||
			(slices.Contains(fields, "address") && match(o.Address))
		if !hit || len(items) == limit {
			continue
		}
		items = append(items, map[string]any{"result_score": 1, "item": map[string]any{"id": o.ID, "type": "organization",
			"name": o.Name, "address": nil, "visible_to": 3, "owner": map[string]any{"id": u.ID}, "custom_fields": custom, "notes": []any{}}})
	}
	searchAnswer(w, items)
}

// searchDeals is GET /api/v2/deals/search: deleted deals are not found.
func (s *Server) searchDeals(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "deals:read", "deals:full", "search:read") {
		return
	}
	term, fields, exact, limit, ok := searchQuery(w, r, "custom_fields", "notes", "title")
	if !ok {
		return
	}
	match := matcher(term, exact)
	s.mu.Lock()
	defer s.mu.Unlock()
	comp := u.company
	comp.fieldsOf(DealFields)
	ids := make([]int64, 0, len(comp.deals))
	for id := range comp.deals {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	items := []any{}
	for _, id := range ids {
		d := comp.deals[id]
		if d.Status == "deleted" || !s.indexed(comp, "deal", id) {
			continue
		}
		values := map[string]any{}
		for code, raw := range comp.custom[id] {
			var v any
			_ = json.Unmarshal(raw, &v)
			values[code] = v
		}
		custom := customMatches(values, match)
		hit := (slices.Contains(fields, "title") && match(d.Title)) || (slices.Contains(fields, "custom_fields") && len(custom) > 0)
		if !hit || len(items) == limit {
			continue
		}
		var org any
		if d.OrgID != 0 {
			org = map[string]any{"id": d.OrgID, "name": comp.orgs[d.OrgID].Name}
		}
		items = append(items, map[string]any{"result_score": 1, "item": map[string]any{"id": d.ID, "type": "deal", "title": d.Title,
			"value": number0(d.Value), "currency": d.Currency, "status": cmpOr(d.Status, "open"), "visible_to": 3,
			"owner": map[string]any{"id": u.ID}, "stage": map[string]any{"id": d.StageID}, "organization": org,
			"custom_fields": custom, "notes": []any{}}})
	}
	searchAnswer(w, items)
}

// number0 is a deal's value as a JSON number.
func number0(v string) json.Number {
	if v == "" {
		return "0"
	}
	return json.Number(v)
}

// Orgs lists a company's organizations by id.
func (s *Server) Orgs(companyID int64) []Org {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustCompany(companyID)
	out := make([]Org, 0, len(c.orgs))
	for _, o := range c.orgs {
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b Org) int { return int(a.ID - b.ID) })
	return out
}

// Deals lists a company's deals by id.
func (s *Server) Deals(companyID int64) []Deal {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustCompany(companyID)
	out := make([]Deal, 0, len(c.deals))
	for _, d := range c.deals {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Deal) int { return int(a.ID - b.ID) })
	return out
}
