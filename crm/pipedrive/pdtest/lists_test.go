package pdtest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/qwoty/companion/crm/pipedrive/pdtest"
)

// The v2 lists refuse what Pipedrive documents as out of bounds, and the
// webhooks API needs the admin scope.
func TestListsAndWebhooksBounds(t *testing.T) {
	srv, bearer := syncServer(t, pdtest.Options{NoBurst: true})
	get := func(path string, q url.Values) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path+"?"+q.Encode(), nil)
		req.Header.Set("Authorization", bearer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	ids := make([]string, 101)
	for i := range ids {
		ids[i] = "1"
	}
	for name, c := range map[string]struct {
		path string
		q    url.Values
	}{
		"limit over 500":            {"/api/v2/deals", url.Values{"limit": {"501"}}},
		"over 100 ids":              {"/api/v2/organizations", url.Values{"ids": {strings.Join(ids, ",")}}},
		"products by updated_since": {"/api/v2/products", url.Values{"updated_since": {"2026-01-01T00:00:00Z"}}},
		"sort by an unknown field":  {"/api/v2/deals", url.Values{"sort_by": {"title"}}},
		"a status of none":          {"/api/v2/deals", url.Values{"status": {"archived"}}},
		"not RFC 3339":              {"/api/v2/deals", url.Values{"updated_since": {"2026-01-01"}}},
		"a cursor not Pipedrive's":  {"/api/v2/deals", url.Values{"cursor": {"xyz"}}},
	} {
		if st, _ := get(c.path, c.q); st != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, st)
		}
	}
	before := srv.TokensByRoute()["GET /api/v2/deals"]
	st, body := get("/api/v2/deals", url.Values{"limit": {"1"}, "sort_by": {"update_time"}})
	next, _ := body["additional_data"].(map[string]any)["next_cursor"].(string)
	if st != http.StatusOK || next == "" {
		t.Fatalf("a first page: %d %v", st, body)
	}
	if st, body = get("/api/v2/deals", url.Values{"limit": {"1"}, "sort_by": {"update_time"}, "cursor": {next}}); st != http.StatusOK ||
		body["additional_data"].(map[string]any)["next_cursor"] != nil {
		t.Errorf("the last page: %d %v", st, body)
	}
	if n := srv.TokensByRoute()["GET /api/v2/deals"] - before; n != 20 {
		t.Errorf("%d tokens charged to the deals list, want 2 pages of 10", n)
	}

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/webhooks", strings.NewReader(`{"subscription_url":"https://x.example/h","event_action":"*","event_object":"deal","version":"2.0"}`))
	req.Header.Set("Authorization", bearer)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a webhook made without the admin scope: status %d, want 403", resp.StatusCode)
	}
}
