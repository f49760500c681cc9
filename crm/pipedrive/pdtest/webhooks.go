package pdtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Webhooks (developers.pipedrive.com/docs/api/v1/Webhooks; "Guide for
// Webhooks v2"; "Webhooks for apps"):
//
//   - POST /v1/webhooks makes one from subscription_url, event_action,
//     event_object, and optionally user_id, http_auth_user,
//     http_auth_password and version ("1.0" or "2.0"); GET /v1/webhooks
//     lists them, DELETE /v1/webhooks/{id} deletes one;
//   - a Marketplace app makes "app-specific" webhooks through the API, for
//     which it needs the admin scope; they are not shown in the web app and
//     go when the app is uninstalled;
//   - at most 40 webhooks per user;
//   - v2's event actions are create, change, delete or *; its objects deal,
//     organization, person, product ... or *;
//   - a delivery is a JSON POST with the webhook's HTTP basic credentials
//     (its only authentication: no signature), whose body is {meta, data,
//     previous}: meta has action, entity, entity_id, id, company_id,
//     user_id (who made the change), webhook_id, webhook_owner_id, version
//     "2.0", attempt, timestamp, host and change_source ("app" in the web
//     app, "api" through the API).
//
// Assumed: the token costs (v1's rate-limiting table has no line for a
// creation: a single write's 10; a list 20, a delete 6); the messages of
// the 400s; meta.id equal to entity_id, as the one example payload that
// documents shows.

const (
	costWebhookAdd = 10
	costListV1     = 20
	costDeleteV1   = 6
	// MaxWebhooksPerUser is the documented limit.
	MaxWebhooksPerUser = 40
)

// Webhook is a webhook an app made.
type Webhook struct {
	ID           int64
	CompanyID    int64
	UserID       int64
	Action       string
	Object       string
	URL          string
	AuthUser     string
	AuthPassword string
	Version      string
}

func (h *Webhook) json() map[string]any {
	return map[string]any{"id": h.ID, "company_id": h.CompanyID, "owner_id": h.UserID, "user_id": h.UserID,
		"event_action": h.Action, "event_object": h.Object, "subscription_url": h.URL, "http_auth_user": h.AuthUser,
		"version": h.Version, "is_active": 1, "type": "application", "add_time": created.Format(time.DateTime)}
}

// addWebhook is POST /v1/webhooks.
func (s *Server) addWebhook(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "admin") {
		return
	}
	obj, ok := object(w, r)
	if !ok {
		return
	}
	c := &checker{path: "body"}
	url, _ := c.text(obj, "subscription_url", true)
	version, _ := c.oneOf(obj, "version", "1.0", "2.0")
	action, _ := c.text(obj, "event_action", true)
	object, _ := c.text(obj, "event_object", true)
	authUser, _ := c.text(obj, "http_auth_user", false)
	authPass, _ := c.text(obj, "http_auth_password", false)
	if version == "" {
		version = "2.0" // v2 is the default for webhooks made since March 2025
	}
	if c.err == "" && version == "2.0" && !slices.Contains([]string{"create", "change", "delete", "*"}, action) {
		c.fail("body/event_action must be equal to one of the allowed values")
	}
	if c.err == "" && !slices.Contains([]string{"deal", "organization", "person", "product", "activity", "note", "*"}, object) {
		c.fail("body/event_object must be equal to one of the allowed values")
	}
	if c.refused(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, h := range s.webhooks {
		if h.UserID == u.ID {
			n++
		}
	}
	if n >= MaxWebhooksPerUser {
		apiError(w, http.StatusBadRequest, "Max 40 webhooks per user allowed")
		return
	}
	s.nextID++
	h := &Webhook{ID: s.nextID, CompanyID: u.company.ID, UserID: u.ID, Action: action, Object: object, URL: url,
		AuthUser: authUser, AuthPassword: authPass, Version: version}
	s.webhooks[h.ID] = h
	successCreated(w, h.json())
}

// listWebhooks is GET /v1/webhooks: the company's.
func (s *Server) listWebhooks(w http.ResponseWriter, _ *http.Request, u *user) {
	if !s.granted(w, "admin") {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, h := range s.sortedWebhooks(u.company.ID) {
		out = append(out, h.json())
	}
	success(w, out)
}

// deleteWebhook is DELETE /v1/webhooks/{id}.
func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "admin") {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.webhooks[id]
	if err != nil || !ok || h.CompanyID != u.company.ID {
		apiError(w, http.StatusNotFound, "Webhook not found")
		return
	}
	delete(s.webhooks, id)
	success(w, map[string]any{"id": id})
}

func (s *Server) sortedWebhooks(companyID int64) []*Webhook {
	var out []*Webhook
	for _, h := range s.webhooks {
		if h.CompanyID == companyID {
			out = append(out, h)
		}
	}
	slices.SortFunc(out, func(a, b *Webhook) int { return int(a.ID - b.ID) })
	return out
}

// Webhooks returns a company's webhooks, by id.
func (s *Server) Webhooks(companyID int64) []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Webhook
	for _, h := range s.sortedWebhooks(companyID) {
		out = append(out, *h)
	}
	return out
}

// Delivery is one POST Pipedrive makes to a webhook's URL.
type Delivery struct {
	URL      string
	User     string
	Password string
	Body     []byte
}

// Change says what happened for Deliveries: a record of entity ("deal",
// "organization", "product") created, changed or deleted by user, in the
// web app ("app") or through the API ("api").
type Change struct {
	Entity   string
	Action   string
	ID       int64
	UserID   int64
	Source   string
	Attempt  int
	At       time.Time
	Previous map[string]any
}

// Deliveries are the v2 deliveries a change makes to the company's
// webhooks that subscribed to it, with the record's current data (none for
// a delete). A test sends them (Send), twice or out of order as Pipedrive
// may.
func (s *Server) Deliveries(companyID int64, ch Change) []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustCompany(companyID)
	if ch.Source == "" {
		ch.Source = "app"
	}
	if ch.Attempt == 0 {
		ch.Attempt = 1
	}
	if ch.At.IsZero() {
		ch.At = s.Now()
	}
	u := s.users[ch.UserID]
	if u == nil {
		u = &user{User: c.Users[0], company: c}
	}
	var data any
	if ch.Action != "delete" {
		switch ch.Entity {
		case "deal":
			if d, ok := c.deals[ch.ID]; ok {
				data = s.dealJSON(u, d)
			}
		case "organization":
			if o, ok := c.orgs[ch.ID]; ok {
				data = orgJSON(u, o)
			}
		case "product":
			if p, ok := c.products[ch.ID]; ok {
				data = productJSON(u, p)
			}
		}
	}
	var out []Delivery
	for _, h := range s.sortedWebhooks(companyID) {
		if h.Version != "2.0" || (h.Object != "*" && h.Object != ch.Entity) || (h.Action != "*" && h.Action != ch.Action) {
			continue
		}
		body, err := json.Marshal(map[string]any{
			"meta": map[string]any{"action": ch.Action, "entity": ch.Entity, "entity_id": ch.ID,
				"id": ch.ID, "company_id": companyID, "user_id": u.ID, "webhook_id": h.ID,
				"webhook_owner_id": h.UserID, "version": "2.0", "attempt": ch.Attempt,
				"timestamp": ch.At.Unix(), "host": c.Domain + ".pipedrive.com",
				"change_source": ch.Source, "is_bulk_edit": false, "type": "general"},
			"data":     data,
			"previous": ch.Previous,
		})
		if err != nil {
			panic(err)
		}
		out = append(out, Delivery{URL: h.URL, User: h.AuthUser, Password: h.AuthPassword, Body: body})
	}
	return out
}

// Send posts a delivery as Pipedrive does (JSON, HTTP basic credentials)
// and returns the answer's status.
func Send(ctx context.Context, d Delivery) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Pipedrive-Webhook")
	if d.User != "" || d.Password != "" {
		req.SetBasicAuth(d.User, d.Password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("pdtest: deliver: %w", err)
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
