package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
	"github.com/qwoty/companion/web"
)

// apiClient calls the API with one key, each request and answer checked
// against the served document (env.do).
type apiClient struct {
	t     *testing.T
	e     *env
	token string
}

func (c apiClient) do(method, path string, body any, out any) (int, web.ErrorBody) {
	c.t.Helper()
	return c.answer(c.e.do(c.token, method, path, body), method, path, out)
}

// doInvalid sends a request the document does not allow, to see it
// refused (its answer is still checked).
func (c apiClient) doInvalid(method, path string, body any) (int, web.ErrorBody) {
	c.t.Helper()
	return c.answer(c.e.doInvalid(c.token, method, path, body), method, path, nil)
}

func (c apiClient) answer(res *resp, method, path string, out any) (int, web.ErrorBody) {
	c.t.Helper()
	var e web.ErrorBody
	if res.Status >= 400 {
		_ = json.Unmarshal(res.Body, &e)
		return res.Status, e
	}
	if out != nil && len(res.Body) > 0 {
		if err := json.Unmarshal(res.Body, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, res.Body)
		}
	}
	return res.Status, e
}

// apiEnv mounts the API (production or development rules for webhook
// URLs) with the document loaded for the checks.
func apiEnv(t *testing.T, prod bool) (*store.DB, *env) {
	gin.SetMode(gin.TestMode)
	db := storetest.New(t)
	r := web.NewEngine(slog.New(slog.DiscardHandler), web.NewErrors(nil, nil), web.API, nil)
	Mount(r, Deps{DB: db, Errors: web.NewErrors(nil, nil), Production: prod})
	e := &env{t: t, db: db, r: r}
	e.loadDoc()
	return db, e
}

func keyFor(t *testing.T, db *store.DB, ws, external string, scopes ...string) (*qwoty.Connection, string) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.AddConnection(ctx, store.AddConnectionParams{Workspace: ws, Provider: qwoty.ProviderHubSpot, ExternalID: external})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := db.CreateAPIKey(ctx, conn.WorkspaceID, conn.ID, "test", scopes, nil, "admin@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	return conn, tok
}

// The webhooks' operations, as a client uses them: create (the secret
// shown once), read, replace, rotate, the delivery log and redelivery,
// each scoped to the key's CRM account and refused without the scope.
func TestWebhookOperations(t *testing.T) {
	ctx := context.Background()
	db, r := apiEnv(t, false)
	conn, tok := keyFor(t, db, "Acme", "62515", "webhooks:manage")
	c := apiClient{t: t, e: r, token: tok}

	var created SubscriptionWithSecret
	in := map[string]any{"url": "http://127.0.0.1:9/hooks", "eventTypes": []string{"quote.created", "quote.sent"},
		"filters": map[string]any{"statuses": []string{"sent"}}}
	if code, e := c.do("POST", "/webhooks/subscriptions", in, &created); code != 201 || !strings.HasPrefix(created.Secret, "whsec_") ||
		!created.Enabled || len(created.EventTypes) != 2 || created.Filters.Statuses[0] != qwoty.StatusSent {
		t.Fatalf("create: %d %+v %+v", code, created, e)
	}
	var got map[string]any
	if code, _ := c.do("GET", "/webhooks/subscriptions/"+created.ID, nil, &got); code != 200 || got["secret"] != nil || got["url"] != "http://127.0.0.1:9/hooks" {
		t.Fatalf("get: %d %v; want the subscription without its secret", code, got)
	}
	for name, bad := range map[string]map[string]any{
		"no event type":  {"url": "https://hooks.example/q", "eventTypes": []string{}},
		"unknown event":  {"url": "https://hooks.example/q", "eventTypes": []string{"quote.archived"}},
		"metadata":       {"url": "http://169.254.169.254/", "eventTypes": []string{"quote.created"}},
		"private":        {"url": "https://10.0.0.1/", "eventTypes": []string{"quote.created"}},
		"unknown status": {"url": "https://hooks.example/q", "eventTypes": []string{"quote.created"}, "filters": map[string]any{"statuses": []string{"won"}}},
	} {
		// The document refuses what its schema can say; the addresses
		// are the server's own check.
		send := c.doInvalid
		if name == "metadata" || name == "private" {
			send = func(method, path string, body any) (int, web.ErrorBody) { return c.do(method, path, body, nil) }
		}
		if code, e := send("POST", "/webhooks/subscriptions", bad); code != 422 || e.Error.Code != qwoty.CodeValidation {
			t.Errorf("%s: %d %+v; want 422 validation_failed", name, code, e)
		}
	}
	var replaced Subscription
	in["enabled"] = false
	in["description"] = "ERP"
	if code, e := c.do("PUT", "/webhooks/subscriptions/"+created.ID, in, &replaced); code != 200 || replaced.Enabled || replaced.Description != "ERP" {
		t.Fatalf("replace: %d %+v %+v", code, replaced, e)
	}
	var rotated SubscriptionWithSecret
	if code, _ := c.do("POST", "/webhooks/subscriptions/"+created.ID+"/rotate-secret", nil, &rotated); code != 200 ||
		rotated.Secret == created.Secret || rotated.RotationEndsAt == nil {
		t.Fatalf("rotate: %d %+v", code, rotated)
	}

	// A test event: refused while the subscription is disabled, then sent
	// to it whatever its filters, and in the log.
	if code, e := c.do("POST", "/webhooks/subscriptions/"+created.ID+"/test", nil, nil); code != 422 || e.Error.Code != qwoty.CodeValidation {
		t.Fatalf("test event to a disabled subscription: %d %+v; want 422 validation_failed", code, e)
	}
	in["enabled"] = true
	c.do("PUT", "/webhooks/subscriptions/"+created.ID, in, nil)
	var tested struct {
		DeliveryID string `json:"deliveryId"`
	}
	if code, e := c.do("POST", "/webhooks/subscriptions/"+created.ID+"/test", nil, &tested); code != 202 || tested.DeliveryID == "" {
		t.Fatalf("test event: %d %+v %+v; want 202 with its delivery", code, tested, e)
	}
	var test Delivery
	if code, _ := c.do("GET", "/webhooks/deliveries/"+tested.DeliveryID, nil, &test); code != 200 || test.EventType != qwoty.EventWebhookTest || test.SubscriptionID != created.ID {
		t.Fatalf("the test event's delivery: %d %+v", code, test)
	}
	if code, e := c.do("POST", "/webhooks/subscriptions/00000000-0000-4000-8000-000000000000/test", nil, nil); code != 404 || e.Error.Code != qwoty.CodeNotFound {
		t.Fatalf("test event to no subscription: %d %+v", code, e)
	}

	// The log: a delivery of a quote event, filtered, read, redelivered.
	in["filters"] = map[string]any{}
	c.do("PUT", "/webhooks/subscriptions/"+created.ID, in, nil)
	if _, err := db.CreateQuote(ctx, store.Scope{WorkspaceID: conn.WorkspaceID, ConnectionID: conn.ID, RecordID: "d1"}, store.NewQuote{Currency: "EUR"}); err != nil {
		t.Fatal(err)
	}
	var page struct {
		Data       []Delivery `json:"data"`
		NextCursor string     `json:"nextCursor"`
	}
	if code, _ := c.do("GET", "/webhooks/deliveries?eventType=quote.created&state=pending&subscriptionId="+created.ID, nil, &page); code != 200 ||
		len(page.Data) != 1 || page.Data[0].EventType != qwoty.EventQuoteCreated || page.NextCursor != "" {
		t.Fatalf("deliveries: %d %+v", code, page)
	}
	id := page.Data[0].ID
	if code, _ := c.do("GET", "/webhooks/deliveries?state=failed", nil, &page); code != 200 || len(page.Data) != 0 {
		t.Fatalf("failed deliveries: %d %+v; want none", code, page)
	}
	if code, e := c.doInvalid("GET", "/webhooks/deliveries?state=lost", nil); code != 422 {
		t.Fatalf("unknown state: %d %+v; want 422", code, e)
	}
	var one Delivery
	if code, _ := c.do("GET", "/webhooks/deliveries/"+id, nil, &one); code != 200 || one.ID != id || one.State != qwoty.DeliveryPending {
		t.Fatalf("delivery: %d %+v", code, one)
	}
	if code, e := c.do("POST", "/webhooks/deliveries/"+id+"/redeliver", nil, nil); code != 409 || e.Error.Code != qwoty.CodeDeliveryPending {
		t.Fatalf("redeliver a pending delivery: %d %+v; want 409 %s", code, e, qwoty.CodeDeliveryPending)
	}
	var n struct{ Redelivered int }
	if code, e := c.do("POST", "/webhooks/deliveries/redeliver-failed", nil, &n); code != 202 || n.Redelivered != 0 {
		t.Fatalf("redeliver failed: %d %+v %+v", code, n, e)
	}

	// Another workspace's key, and a key without the scope.
	_, otherTok := keyFor(t, db, "Other", "99999", "webhooks:manage")
	other := apiClient{t: t, e: r, token: otherTok}
	for _, p := range []string{"/webhooks/subscriptions/" + created.ID, "/webhooks/deliveries/" + id} {
		if code, e := other.do("GET", p, nil, nil); code != 404 || e.Error.Code != qwoty.CodeNotFound {
			t.Errorf("another workspace's key GET %s: %d %+v; want 404", p, code, e)
		}
	}
	if code, _ := other.do("GET", "/webhooks/deliveries", nil, &page); code != 200 || len(page.Data) != 0 {
		t.Errorf("another workspace's key lists %d deliveries", len(page.Data))
	}
	if code, _ := other.do("DELETE", "/webhooks/subscriptions/"+created.ID, nil, nil); code != 404 {
		t.Errorf("another workspace's key deletes: %d; want 404", code)
	}
	readTok, _, err := db.CreateAPIKey(ctx, conn.WorkspaceID, conn.ID, "read", []string{"quotes:read"}, nil, "admin@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if code, e := (apiClient{t: t, e: r, token: readTok}).do("GET", "/webhooks/subscriptions", nil, nil); code != 403 || e.Error.Code != qwoty.CodeScopeMissing {
		t.Errorf("a key without webhooks:manage: %d %+v; want 403", code, e)
	}
	if code, _ := c.do("DELETE", "/webhooks/subscriptions/"+created.ID, nil, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	var list struct{ Data []Subscription }
	if code, _ := c.do("GET", "/webhooks/subscriptions", nil, &list); code != 200 || len(list.Data) != 0 {
		t.Fatalf("list after delete: %d %+v", code, list)
	}
}

// A production server refuses http and loopback targets that a
// development one accepts.
func TestProductionRefusesLoopbackTargets(t *testing.T) {
	db, r := apiEnv(t, true)
	_, tok := keyFor(t, db, "Acme", "62515", "webhooks:manage")
	c := apiClient{t: t, e: r, token: tok}
	for _, u := range []string{"http://hooks.example/q", "https://127.0.0.1/q", "https://localhost:8443/q", "https://[::1]/q"} {
		code, e := c.do("POST", "/webhooks/subscriptions", map[string]any{"url": u, "eventTypes": []string{"quote.created"}}, nil)
		if code != 422 || e.Error.Code != qwoty.CodeValidation || e.Error.Hint == "" {
			t.Errorf("production, %s: %d %+v; want 422 validation_failed with a hint", u, code, e)
		}
	}
	if code, e := c.do("POST", "/webhooks/subscriptions", map[string]any{"url": "https://hooks.example/q", "eventTypes": []string{"quote.created"}}, nil); code != 201 {
		t.Errorf("production, a public https URL: %d %+v; want 201", code, e)
	}
}

// Every webhooks operation is in the served document, under the
// webhooks:manage scope.
func TestWebhookOperationsAreDocumented(t *testing.T) {
	_, e := apiEnv(t, true)
	w := httptest.NewRecorder()
	e.r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, Base+"/openapi.json", nil))
	var doc struct {
		Paths map[string]map[string]struct {
			Security []map[string][]string `json:"security"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"/webhooks/subscriptions":                    {"get", "post"},
		"/webhooks/subscriptions/{id}":               {"get", "put", "delete"},
		"/webhooks/subscriptions/{id}/rotate-secret": {"post"},
		"/webhooks/subscriptions/{id}/test":          {"post"},
		"/webhooks/deliveries":                       {"get"},
		"/webhooks/deliveries/{id}":                  {"get"},
		"/webhooks/deliveries/{id}/redeliver":        {"post"},
		"/webhooks/deliveries/redeliver-failed":      {"post"},
	}
	for path, methods := range want {
		for _, m := range methods {
			op, ok := doc.Paths[path][m]
			if !ok || len(op.Security) != 1 || op.Security[0]["apiKey"][0] != string(qwoty.ScopeWebhooksManage) {
				t.Errorf("%s %s: %+v (documented %v); want it, secured by webhooks:manage", m, path, op, ok)
			}
		}
	}
}
