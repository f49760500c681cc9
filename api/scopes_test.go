package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// route is one operation with a request that passes its checks.
type route struct {
	method, path string
	scope        qwoty.Scope
	body         any
}

// ids are a tenant's fixtures: a quote, a customer, a catalogue item, a
// webhook subscription and one of its deliveries (failed, so that it may
// be redelivered), and the order of another quote, accepted.
type ids struct{ quote, customer, item, sub, delivery, order string }

// all lists them.
func (f ids) all() []string { return []string{f.quote, f.customer, f.item, f.sub, f.delivery, f.order} }

// routes are every operation, each with a valid request on fixtures made
// by the caller. The subscription's delete comes last: it takes the
// delivery with it.
func routes(f ids) []route {
	sub := map[string]any{"url": "https://hooks.example/q", "eventTypes": []string{"quote.created"}}
	return []route{
		{"GET", "/organization", qwoty.ScopeQuotesRead, nil},
		{"GET", "/quotes", qwoty.ScopeQuotesRead, nil},
		{"GET", "/quotes/" + f.quote, qwoty.ScopeQuotesRead, nil},
		{"POST", "/quotes", qwoty.ScopeQuotesWrite, map[string]any{"crmRecordId": "deal-s"}},
		{"PATCH", "/quotes/" + f.quote, qwoty.ScopeQuotesWrite, map[string]any{"title": "T"}},
		{"PUT", "/quotes/" + f.quote + "/lines", qwoty.ScopeQuotesWrite, map[string]any{"lines": []map[string]any{{"sku": "S"}}}},
		{"POST", "/quotes/" + f.quote + "/status", qwoty.ScopeQuotesWrite, map[string]any{"status": "sent"}},
		{"GET", "/quotes/" + f.quote + "/versions", qwoty.ScopeQuotesRead, nil},
		{"GET", "/quotes/" + f.quote + "/versions/1", qwoty.ScopeQuotesRead, nil},
		{"POST", "/quotes/" + f.quote + "/revise", qwoty.ScopeQuotesWrite, nil},
		{"GET", "/orders", qwoty.ScopeOrdersRead, nil},
		{"GET", "/orders/" + f.order, qwoty.ScopeOrdersRead, nil},
		{"POST", "/orders/" + f.order + "/status", qwoty.ScopeOrdersWrite, map[string]any{"status": "fulfilled"}},
		{"GET", "/customers", qwoty.ScopeCustomersRead, nil},
		{"GET", "/customers/" + f.customer, qwoty.ScopeCustomersRead, nil},
		{"PUT", "/customers", qwoty.ScopeCustomersWrite, map[string]any{"crmAccountId": "acct-s"}},
		{"GET", "/contacts?email=a@b.example", qwoty.ScopeCustomersRead, nil},
		{"PUT", "/contacts", qwoty.ScopeCustomersWrite, map[string]any{"email": "s@b.example"}},
		{"GET", "/catalog/items", qwoty.ScopeCatalogRead, nil},
		{"GET", "/catalog/items/" + f.item, qwoty.ScopeCatalogRead, nil},
		{"POST", "/catalog/items", qwoty.ScopeCatalogWrite, map[string]any{"name": "N"}},
		{"PATCH", "/catalog/items/" + f.item, qwoty.ScopeCatalogWrite, map[string]any{"name": "M"}},
		{"GET", "/webhooks/subscriptions", qwoty.ScopeWebhooksManage, nil},
		{"POST", "/webhooks/subscriptions", qwoty.ScopeWebhooksManage, sub},
		{"GET", "/webhooks/subscriptions/" + f.sub, qwoty.ScopeWebhooksManage, nil},
		{"PUT", "/webhooks/subscriptions/" + f.sub, qwoty.ScopeWebhooksManage, sub},
		{"POST", "/webhooks/subscriptions/" + f.sub + "/rotate-secret", qwoty.ScopeWebhooksManage, nil},
		{"POST", "/webhooks/subscriptions/" + f.sub + "/test", qwoty.ScopeWebhooksManage, nil},
		{"GET", "/webhooks/deliveries", qwoty.ScopeWebhooksManage, nil},
		{"GET", "/webhooks/deliveries/" + f.delivery, qwoty.ScopeWebhooksManage, nil},
		{"POST", "/webhooks/deliveries/" + f.delivery + "/redeliver", qwoty.ScopeWebhooksManage, nil},
		{"POST", "/webhooks/deliveries/redeliver-failed", qwoty.ScopeWebhooksManage, nil},
		{"DELETE", "/webhooks/subscriptions/" + f.sub, qwoty.ScopeWebhooksManage, nil},
	}
}

// fixtures makes, with a key of every scope of conn, a webhook
// subscription, a quote (whose quote.created is the subscription's
// delivery, marked failed), a customer and a catalogue item.
func (e *env) fixtures(token string) ids {
	e.t.Helper()
	var f ids
	// The order first: its quote's events are not the subscription's.
	f.order = e.acceptedOrder(token, "deal-o").ID
	var sub struct {
		ID string `json:"id"`
	}
	e.do(token, "POST", "/webhooks/subscriptions", map[string]any{"url": "https://hooks.example/f", "eventTypes": []string{"quote.created"}}).decode(e.t, &sub)
	f.sub = sub.ID
	var q Quote
	e.do(token, "POST", "/quotes", map[string]any{"crmRecordId": "deal-f", "lines": []map[string]any{{"sku": "F"}}}).decode(e.t, &q)
	f.quote = q.ID
	var c Customer
	e.do(token, "PUT", "/customers", map[string]any{"crmAccountId": "acct-f", "name": "F"}).decode(e.t, &c)
	f.customer = c.ID
	var it CatalogItem
	e.do(token, "POST", "/catalog/items", map[string]any{"id": "prod-f", "name": "F",
		"prices": []map[string]any{{"currency": "USD", "unitPrice": "1"}}}).decode(e.t, &it)
	f.item = it.ID
	if err := storetest.Pool(e.t, e.db).QueryRow(context.Background(), `UPDATE event_deliveries SET state = 'failed'
		WHERE subscription_id = $1 RETURNING id::text`, f.sub).Scan(&f.delivery); err != nil {
		e.t.Fatalf("the fixture's delivery: %v", err)
	}
	return f
}

// Every route × every scope: a key with only that scope passes exactly
// the routes that need it, and is refused the others with 403
// scope_missing; no key at all is 401. The table covers every operation
// the document lists (a new route without a row fails the test).
func TestEveryRouteNeedsItsScope(t *testing.T) {
	e := newEnv(t)
	f := e.fixtures(e.all(e.a1))
	rs := routes(f)
	covered := map[string]bool{}
	for _, r := range rs {
		p, _, _ := strings.Cut(r.path, "?")
		p = strings.NewReplacer(f.quote, "{id}", f.customer, "{id}", f.item, "{id}", f.sub, "{id}", f.delivery, "{id}", f.order, "{id}", "/versions/1", "/versions/{revision}").Replace(p)
		covered[r.method+" "+p] = true
	}
	for path, item := range e.docPaths() {
		for _, m := range item {
			if !covered[m+" "+path] {
				t.Errorf("%s %s is in the document but not in this table", m, path)
			}
		}
	}
	keys := map[qwoty.Scope]string{}
	for _, s := range qwoty.Scopes {
		keys[s] = e.key(e.a1, s)
	}
	for _, r := range rs {
		if res := e.do("", r.method, r.path, r.body); res.Status != http.StatusUnauthorized || res.code() != qwoty.CodeAPIKeyInvalid {
			t.Errorf("%s %s without a key: %d %s, want 401", r.method, r.path, res.Status, res.Body)
		}
		for _, s := range qwoty.Scopes {
			res := e.do(keys[s], r.method, r.path, r.body)
			switch {
			case s == r.scope && res.Status >= 300:
				t.Errorf("%s %s with %s: %d %s, want success", r.method, r.path, s, res.Status, res.Body)
			case s != r.scope && (res.Status != http.StatusForbidden || res.code() != qwoty.CodeScopeMissing):
				t.Errorf("%s %s with %s: %d %s, want 403 scope_missing", r.method, r.path, s, res.Status, res.Body)
			}
		}
	}
}

// docPaths lists the document's operations: path → methods.
func (e *env) docPaths() map[string][]string {
	out := map[string][]string{}
	for path, item := range e.doc.Paths.Map() {
		for m := range item.Operations() {
			out[path] = append(out[path], m)
		}
	}
	return out
}

// A key of workspace A's current CRM account reads and writes nothing of
// workspace B, nor of A's other CRM account: every route, given the other
// tenant's ids, answers not found (or an empty listing), and changes
// nothing there.
func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// The other tenants' data: B's, and A2's (made while A2 was A's
	// account: its key still reads it; keys of a disconnected account
	// keep working for its data).
	for _, other := range []*qwoty.Connection{e.b, e.a2} {
		theirs := e.all(other)
		f := e.fixtures(theirs)
		qid, cid, iid := f.quote, f.customer, f.item
		if _, _, err := e.db.UpsertAPIContact(ctx, store.Scope{WorkspaceID: other.WorkspaceID, ConnectionID: other.ID}, store.ContactInput{Email: "them@other.example"}); err != nil {
			t.Fatal(err)
		}
		mine := e.all(e.a1)
		for _, r := range routes(f) {
			res := e.do(mine, r.method, r.path, r.body)
			switch {
			case r.method == "GET" && strings.Contains(r.path, "/"+qid), strings.Contains(r.path, "/"+cid), strings.Contains(r.path, "/"+iid),
				strings.Contains(r.path, "/"+f.sub), strings.Contains(r.path, "/"+f.delivery), strings.Contains(r.path, "/"+f.order):
				if res.Status != http.StatusNotFound {
					t.Errorf("%s %s of %s with A1's key: %d %s, want 404", r.method, r.path, other.ExternalID, res.Status, res.Body)
				}
			case strings.Contains(r.path, "/"+qid):
				if res.Status != http.StatusNotFound {
					t.Errorf("%s %s of %s with A1's key: %d %s, want 404", r.method, r.path, other.ExternalID, res.Status, res.Body)
				}
			case r.method == "GET" && r.path != "/organization":
				var page struct {
					Data []map[string]any `json:"data"`
				}
				res.decode(t, &page)
				for _, d := range page.Data {
					if slices.Contains(f.all(), fmt.Sprint(d["id"])) || d["email"] == "them@other.example" {
						t.Errorf("%s %s with A1's key lists %s's %v", r.method, r.path, other.ExternalID, d["id"])
					}
				}
			}
		}
		// Filters naming the other tenant's things find nothing.
		for _, p := range []string{"/quotes?customerId=" + cid, "/quotes?crmRecordId=deal-f", "/orders?crmRecordId=deal-o",
			"/orders?quoteId=" + qid, "/contacts?email=them@other.example",
			"/customers?crmAccountId=acct-f&updatedAfter=2000-01-01T00:00:00Z", "/catalog/items?sku=&externalRef=x:y:z"} {
			var page struct {
				Data []map[string]any `json:"data"`
			}
			e.do(mine, "GET", p, nil).decode(t, &page)
			for _, d := range page.Data {
				if d["id"] == qid || d["id"] == cid || d["id"] == iid || d["id"] == f.order || d["email"] == "them@other.example" {
					t.Errorf("GET %s with A1's key finds %s's %v", p, other.ExternalID, d)
				}
			}
		}
		// What A1 wrote by the same keys (acct-f, prod-f, the email) is
		// A1's own: theirs is unchanged.
		var c Customer
		e.do(theirs, "GET", "/customers/"+cid, nil).decode(t, &c)
		if c.Name != "F" {
			t.Errorf("%s's customer changed by A1's writes: %+v", other.ExternalID, c)
		}
		var q Quote
		e.do(theirs, "GET", "/quotes/"+qid, nil).decode(t, &q)
		if q.Version != 1 || q.Title != "" {
			t.Errorf("%s's quote changed by A1's writes: %+v", other.ExternalID, q)
		}
		var it CatalogItem
		e.do(theirs, "GET", "/catalog/items/"+iid, nil).decode(t, &it)
		if it.Name != "F" {
			t.Errorf("%s's item changed by A1's writes: %+v", other.ExternalID, it)
		}
		var o Order
		e.do(theirs, "GET", "/orders/"+f.order, nil).decode(t, &o)
		if o.Status != "open" || o.Version != 1 {
			t.Errorf("%s's order changed by A1's writes: %+v", other.ExternalID, o)
		}
		var org Organization
		e.do(mine, "GET", "/organization", nil).decode(t, &org)
		if org.CRM.AccountID != e.a1.ExternalID || org.Name != "Acme" {
			t.Errorf("A1's organization: %+v", org)
		}
	}
}
