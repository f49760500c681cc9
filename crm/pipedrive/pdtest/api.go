package pdtest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// errorInfo is the "error_info" of the documented error responses.
const errorInfo = "Please check developers.pipedrive.com for more information about Pipedrive API."

// created is the add_time and update_time every emulated entity shows.
var created = time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC)

// stamp is an entity's update_time as v2 shows it (RFC 3339, whole
// seconds): the creation time when it never changed.
func stamp(t time.Time) string {
	if t.IsZero() {
		t = created
	}
	return t.UTC().Format(time.RFC3339)
}

// api wraps an API handler: count the call, check the bearer token, then
// the token's burst window and the company's daily budget, which the call
// is charged cost tokens of (search: the Search API's own burst limit
// applies too).
func (s *Server) api(cost int, search bool, h func(http.ResponseWriter, *http.Request, *user)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add("api:" + r.URL.Path)
		u, tok, ok := s.session(w, r)
		if !ok {
			return
		}
		if !s.admit(w, u, tok, cost, search) {
			return
		}
		s.mu.Lock()
		s.tokensByRoute[r.Pattern] += cost
		s.mu.Unlock()
		h(w, r, u)
	}
}

// granted reports whether the app holds one of scopes; otherwise it writes
// the documented 403.
func (s *Server) granted(w http.ResponseWriter, scopes ...string) bool {
	for _, sc := range scopes {
		if slices.Contains(s.opts.App.Scopes, sc) {
			return true
		}
	}
	apiError(w, http.StatusForbidden, "Scope and URL mismatch")
	return false
}

// usersMe is GET /api/v1/users/me, shaped as the documentation's example.
func (s *Server) usersMe(w http.ResponseWriter, _ *http.Request, u *user) {
	locale, tz := u.Locale, u.TimeZone
	if locale == "" {
		locale = "en_US"
	}
	if tz == "" {
		tz = "Europe/Tallinn"
	}
	admin := 0
	if u.Admin {
		admin = 1 // the documented example sends a number
	}
	lang := map[string]string{"language_code": locale, "country_code": ""}
	if l, c, ok := strings.Cut(locale, "_"); ok {
		lang = map[string]string{"language_code": l, "country_code": c}
	}
	success(w, map[string]any{
		"id":                    u.ID,
		"name":                  u.Name,
		"default_currency":      "EUR",
		"locale":                locale,
		"lang":                  1,
		"email":                 u.Email,
		"phone":                 nil,
		"activated":             true,
		"last_login":            created.Format(time.DateTime),
		"created":               created.Format(time.DateTime),
		"modified":              created.Format(time.DateTime),
		"signup_flow_variation": "short_form",
		"has_created_company":   u.Admin,
		"is_admin":              admin,
		"timezone_name":         tz,
		"timezone_offset":       "+02:00",
		"active_flag":           true,
		"role_id":               1,
		"icon_url":              nil,
		"is_you":                true,
		"company_id":            u.company.ID,
		"company_name":          u.company.Name,
		"company_domain":        u.company.Domain,
		"company_country":       "EE",
		"company_industry":      "Software, App Development",
		"language":              lang,
	})
}

// organization is GET /api/v2/organizations/{id}.
func (s *Server) organization(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "contacts:read", "contacts:full") {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	o, ok := u.company.orgs[id]
	var body map[string]any
	if ok {
		body = orgJSON(u, o)
	}
	s.mu.Unlock()
	if err != nil || !ok {
		apiError(w, http.StatusNotFound, "Organization not found")
		return
	}
	success(w, body)
}

// orgJSON is an organization as v2 shows it, its address as v2's address
// object (the Google-geocoded parts; value is the address as typed).
func orgJSON(u *user, o Org) map[string]any {
	var addr any
	if o.Address != "" && o.Street+o.City+o.PostalCode+o.Region+o.Country == "" {
		addr = map[string]any{"value": o.Address, "formatted_address": o.Address}
	}
	if o.Street+o.City+o.PostalCode+o.Region+o.Country != "" {
		addr = map[string]any{"value": strings.Join([]string{o.Street, o.PostalCode, o.City, o.Country}, ", "),
			"street_number": "", "route": o.Street, "sublocality": "", "locality": o.City,
			"admin_area_level_1": o.Region, "admin_area_level_2": "", "country": o.Country, "postal_code": o.PostalCode,
			"formatted_address": strings.Join([]string{o.Street, o.PostalCode + " " + o.City, o.Country}, ", ")}
	}
	return map[string]any{
		"id":            o.ID,
		"name":          o.Name,
		"owner_id":      u.ID,
		"address":       addr,
		"add_time":      created.Format(time.RFC3339),
		"update_time":   stamp(o.Updated),
		"is_deleted":    false,
		"visible_to":    3,
		"custom_fields": orgCustom(u.company, o),
	}
}

// orgCustom is an organization's custom_fields object: every custom
// organization field of the company, null when it has no value. s.mu is
// held.
func orgCustom(c *company, o Org) map[string]any {
	out := map[string]any{}
	for _, f := range c.fieldsOf(OrgFields) {
		if f.Custom {
			out[f.Code] = o.Custom[f.Code]
		}
	}
	return out
}

// personJSON is a person as v2 shows them: emails and phones as arrays of
// {value, primary, label}.
func personJSON(u *user, p Person) map[string]any {
	list := func(vs []string) []any {
		out := []any{}
		for i, v := range vs {
			out = append(out, map[string]any{"value": v, "primary": i == 0, "label": "work"})
		}
		return out
	}
	var org any
	if p.OrgID != 0 {
		org = p.OrgID
	}
	return map[string]any{"id": p.ID, "name": p.Name, "owner_id": u.ID, "org_id": org, "emails": list(p.Emails),
		"phones": list(p.Phones), "add_time": created.Format(time.RFC3339), "update_time": created.Format(time.RFC3339),
		"is_deleted": false, "visible_to": 3, "custom_fields": map[string]any{}}
}

// success writes the documented success envelope.
func success(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": data, "additional_data": nil})
}

// apiError writes the documented error envelope. Where the documentation
// gives a message for the status (the "API request" table) it is used; the
// errorCode field is assumed.
func apiError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]any{
		"success":         false,
		"error":           message,
		"errorCode":       status,
		"error_info":      errorInfo,
		"data":            nil,
		"additional_data": nil,
	})
}
