package pdtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/pipedrive/pdtest"
)

// What sync uses of Pipedrive, on the wire: deals updated, the catalog,
// deal products one by one and in bulk, and the limits.

func syncServer(t *testing.T, opts pdtest.Options) (*pdtest.Server, string) {
	t.Helper()
	opts.App = pdtest.App{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret, Scopes: pdtest.SyncScopes}
	srv := pdtest.New(t, opts)
	return srv, "Bearer " + connect(t, srv)["access_token"].(string)
}

// send makes one API request with a JSON body (nil: none) and returns the
// status, the answer and its headers.
func send(t *testing.T, srv *pdtest.Server, bearer, method, path string, body any) (int, map[string]any, http.Header) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, srv.URL+path, r)
	req.Header.Set("Authorization", bearer)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s %s answered %d %q, not JSON", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, v, resp.Header
}

func TestUpdateDeal(t *testing.T) {
	srv, bearer := syncServer(t, pdtest.Options{})
	status, v, _ := send(t, srv, bearer, "PATCH", "/api/v2/deals/3", map[string]any{"value": 123.45, "currency": "USD", "stage_id": 3, "status": "won"})
	data, _ := v["data"].(map[string]any)
	if status != 200 || data["value"] != json.Number("123.45") || data["stage_id"] != json.Number("3") || data["status"] != "won" || data["pipeline_id"] != json.Number("1") {
		t.Fatalf("update = %d %v", status, v)
	}
	if d, _ := srv.Deal(pdtest.DefaultCompanyID, 3); d.Value != "123.45" || d.Currency != "USD" || d.StageID != 3 || d.Status != "won" {
		t.Errorf("deal %+v", d)
	}
	for _, tc := range []struct {
		body    map[string]any
		message string
	}{
		{map[string]any{"stage_id": 999}, "Stage not found"},
		{map[string]any{"status": "closed"}, "body/status must be equal to one of the allowed values"},
		{map[string]any{"value": "12"}, "body/value must be number"},
	} {
		status, v, _ := send(t, srv, bearer, "PATCH", "/api/v2/deals/3", tc.body)
		if status != 400 || v["error"] != tc.message || v["success"] != false {
			t.Errorf("update %v = %d %v, want 400 %q", tc.body, status, v, tc.message)
		}
	}
	if status, v, _ := send(t, srv, bearer, "PATCH", "/api/v2/deals/404", map[string]any{"value": 1}); status != 404 || v["error"] != "Deal not found" {
		t.Errorf("update of no deal = %d %v", status, v)
	}

	srv2 := pdtest.New(t, pdtest.Options{})
	bearer2 := "Bearer " + connect(t, srv2)["access_token"].(string)
	if status, v, _ := send(t, srv2, bearer2, "PATCH", "/api/v2/deals/3", map[string]any{"value": 1}); status != 403 || v["error"] != "Scope and URL mismatch" {
		t.Errorf("update with deals:read = %d %v, want the documented 403", status, v)
	}
}

func TestCatalog(t *testing.T) {
	srv, bearer := syncServer(t, pdtest.Options{})
	status, v, _ := send(t, srv, bearer, "POST", "/api/v2/products", map[string]any{"name": "Licence", "code": "LIC-1",
		"prices": []any{map[string]any{"currency": "EUR", "price": 50}}})
	if status != 201 {
		t.Fatalf("add product = %d %v", status, v)
	}
	id := v["data"].(map[string]any)["id"]
	if status, v, _ := send(t, srv, bearer, "POST", "/api/v2/products", map[string]any{"code": "X"}); status != 400 || v["error"] != "body must have required property 'name'" {
		t.Errorf("product without name = %d %v", status, v)
	}
	status, v, _ = send(t, srv, bearer, "GET", "/api/v2/products/search?term=lic-1&fields=code&exact_match=true", nil)
	items := v["data"].(map[string]any)["items"].([]any)
	if status != 200 || len(items) != 1 || items[0].(map[string]any)["item"].(map[string]any)["id"] != id {
		t.Errorf("exact search (case ignored) = %d %v, want the product", status, v)
	}
	status, v, _ = send(t, srv, bearer, "GET", "/api/v2/products/search?term=LIC&fields=code&exact_match=true", nil)
	if items := v["data"].(map[string]any)["items"].([]any); status != 200 || len(items) != 0 {
		t.Errorf("exact search of a prefix = %d %v, want nothing", status, v)
	}
	if status, v, _ := send(t, srv, bearer, "GET", "/api/v2/products/search?term=L", nil); status != 400 {
		t.Errorf("a one-letter search without exact_match = %d %v, want 400", status, v)
	}
}

func TestDealProducts(t *testing.T) {
	srv, bearer := syncServer(t, pdtest.Options{})
	pid := srv.PutProduct(pdtest.DefaultCompanyID, pdtest.Product{Name: "Licence", Code: "LIC-1"})
	item := func(i int) map[string]any {
		return map[string]any{"product_id": pid, "item_price": 10, "quantity": 2, "discount": 10, "comments": fmt.Sprint("line ", i)}
	}
	var many []any
	for i := range 101 {
		many = append(many, item(i))
	}
	status, v, _ := send(t, srv, bearer, "POST", "/api/v2/deals/3/products/bulk", map[string]any{"data": many})
	if status != 400 || v["error"] != "body/data must NOT have more than 100 items" {
		t.Errorf("bulk of 101 = %d %v, want the documented maximum of 100", status, v)
	}
	bad := []any{item(0), map[string]any{"product_id": pid, "item_price": 1}}
	status, v, _ = send(t, srv, bearer, "POST", "/api/v2/deals/3/products/bulk", map[string]any{"data": bad})
	if status != 400 || v["error"] != "body/data/1 must have required property 'quantity'" || len(srv.DealProducts(pdtest.DefaultCompanyID, 3)) != 0 {
		t.Errorf("bulk with a bad item = %d %v, want 400 and nothing added", status, v)
	}
	status, v, _ = send(t, srv, bearer, "POST", "/api/v2/deals/3/products/bulk", map[string]any{"data": many[:100]})
	if status != 201 || len(v["data"].([]any)) != 100 {
		t.Fatalf("bulk of 100 = %d, %d created", status, len(v["data"].([]any)))
	}
	made := v["data"].([]any)
	first := made[0].(map[string]any)
	if first["comments"] != "line 0" || first["sum"] != json.Number("18") || first["currency"] != "EUR" || first["name"] != "Licence" {
		t.Errorf("created %v", first)
	}
	// The deal's value is its products' sum: 100 × 18.
	if d, _ := srv.Deal(pdtest.DefaultCompanyID, 3); d.Value != "1800" {
		t.Errorf("deal value %s, want 1800", d.Value)
	}
	// Listing pages by cursor.
	var seen int
	cursor := ""
	for pages := 0; ; pages++ {
		path := "/api/v2/deals/3/products?limit=40"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		status, v, _ := send(t, srv, bearer, "GET", path, nil)
		if status != 200 || pages > 3 {
			t.Fatalf("list = %d %v", status, v)
		}
		seen += len(v["data"].([]any))
		next, _ := v["additional_data"].(map[string]any)["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if seen != 100 {
		t.Errorf("listed %d deal products, want 100", seen)
	}
	dpID := first["id"]
	status, v, _ = send(t, srv, bearer, "PATCH", fmt.Sprintf("/api/v2/deals/3/products/%s", dpID), map[string]any{"quantity": 3})
	if status != 200 || v["data"].(map[string]any)["sum"] != json.Number("27") {
		t.Errorf("update = %d %v", status, v)
	}
	if status, _, _ := send(t, srv, bearer, "DELETE", fmt.Sprintf("/api/v2/deals/3/products/%s", dpID), nil); status != 200 {
		t.Errorf("delete = %d", status)
	}
	if status, v, _ := send(t, srv, bearer, "DELETE", fmt.Sprintf("/api/v2/deals/3/products/%s", dpID), nil); status != 404 {
		t.Errorf("delete again = %d %v, want 404", status, v)
	}
	ids := fmt.Sprintf("%s,%s", made[1].(map[string]any)["id"], made[2].(map[string]any)["id"])
	status, v, _ = send(t, srv, bearer, "DELETE", "/api/v2/deals/3/products?ids="+ids, nil)
	if status != 200 || len(v["data"].(map[string]any)["ids"].([]any)) != 2 || len(srv.DealProducts(pdtest.DefaultCompanyID, 3)) != 97 {
		t.Errorf("delete many = %d %v, %d left", status, v, len(srv.DealProducts(pdtest.DefaultCompanyID, 3)))
	}
	// Without ids, Pipedrive deletes the deal's products, up to 100.
	status, v, _ = send(t, srv, bearer, "DELETE", "/api/v2/deals/3/products", nil)
	if status != 200 || len(srv.DealProducts(pdtest.DefaultCompanyID, 3)) != 0 {
		t.Errorf("delete many without ids = %d %v, want every product deleted", status, v)
	}
}

func TestTokenBudget(t *testing.T) {
	now := time.Date(2026, 12, 3, 23, 45, 0, 0, time.UTC)
	clock := &now
	srv, bearer := syncServer(t, pdtest.Options{Now: func() time.Time { return *clock }, NoBurst: true})
	c := int64(pdtest.DefaultCompanyID)
	if left := srv.TokensLeft(c); left != pdtest.DailyBudget(pdtest.Lite, 1, 0) {
		t.Errorf("left %d, want 30,000", left)
	}
	spent := srv.TokensSpent(c)
	for _, call := range []struct {
		method, path string
		body         any
		cost         int
	}{
		{"GET", "/api/v2/deals/3", nil, 1},
		{"PATCH", "/api/v2/deals/3", map[string]any{"value": 1}, 5},
		{"GET", "/api/v2/deals/3/products", nil, 10},
		{"GET", "/api/v2/products/search?term=x&exact_match=true", nil, 20},
	} {
		status, v, h := send(t, srv, bearer, call.method, call.path, call.body)
		if status != 200 || srv.TokensSpent(c)-spent != call.cost {
			t.Errorf("%s %s = %d %v, charged %d, want %d", call.method, call.path, status, v, srv.TokensSpent(c)-spent, call.cost)
		}
		if h.Get("x-ratelimit-limit") != "80" || h.Get("x-ratelimit-remaining") == "" || h.Get("x-ratelimit-reset") == "" {
			t.Errorf("%s headers %v, want the burst headers", call.path, h)
		}
		spent = srv.TokensSpent(c)
	}
	srv.SpendTokens(c, srv.TokensLeft(c))
	if status, v, _ := send(t, srv, bearer, "GET", "/api/v2/deals/3", nil); status != 429 || srv.TooManyRequests() != 1 || srv.TokensSpent(c) != spent {
		t.Errorf("with the budget spent = %d %v, want 429, not charged", status, v)
	}
	*clock = now.Add(30 * time.Minute) // past midnight UTC, the token still live
	if status, _, _ := send(t, srv, bearer, "GET", "/api/v2/deals/3", nil); status != 200 {
		t.Errorf("the next day = %d, want 200", status)
	}
}

func TestBurstWindow(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	clock := &now
	srv, bearer := syncServer(t, pdtest.Options{Now: func() time.Time { return *clock },
		Companies: []pdtest.Company{{ID: 1, Name: "G", Domain: "g", Plan: pdtest.Growth, Seats: 3,
			Users: []pdtest.User{{ID: 1, Name: "U"}}, Deals: []pdtest.Deal{{ID: 3, Title: "D", Currency: "EUR"}}}}})
	if got := srv.TokensLeft(1); got != 30_000*2*3 {
		t.Errorf("Growth × 3 seats: %d left, want 180,000", got)
	}
	for i := range 160 {
		if status, v, _ := send(t, srv, bearer, "GET", "/api/v2/deals/3", nil); status != 200 {
			t.Fatalf("request %d = %d %v", i, status, v)
		}
	}
	status, v, h := send(t, srv, bearer, "GET", "/api/v2/deals/3", nil)
	if status != 429 || h.Get("x-ratelimit-remaining") != "0" || h.Get("x-ratelimit-reset") != "2" || h.Get("x-ratelimit-limit") != "160" {
		t.Errorf("request 161 in the window = %d %v %v, want 429 with reset 2", status, v, h)
	}
	*clock = now.Add(2 * time.Second)
	if status, _, _ := send(t, srv, bearer, "GET", "/api/v2/deals/3", nil); status != 200 {
		t.Errorf("after the window = %d", status)
	}
	// The Search API's own window: 10 per 2 seconds.
	*clock = now.Add(time.Minute)
	for i := range 11 {
		status, _, _ := send(t, srv, bearer, "GET", "/api/v2/products/search?term=ab", nil)
		if want := map[bool]int{true: 429, false: 200}[i == 10]; status != want {
			t.Errorf("search %d = %d, want %d", i+1, status, want)
		}
	}
}
