package hstest_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/hubspot/hstest"
)

func search(t *testing.T, srv *hstest.Server, at string, body map[string]any) (int, http.Header, map[string]any) {
	t.Helper()
	return postJSON(t, srv, "/crm/objects/2026-03/products/search", at, body)
}

func ids(v map[string]any) []string {
	var out []string
	results, _ := v["results"].([]any)
	for _, r := range results {
		out = append(out, r.(map[string]any)["id"].(string))
	}
	return out
}

// The Search API filters by time, sorts, pages by offset, caps a query at
// 10,000 results and has its own limit of 5 a second.
func TestSearch(t *testing.T) {
	c := newClock()
	srv := hstest.New(t, hstest.Options{Now: c.Now})
	for i := 1; i <= 5; i++ {
		c.Advance(time.Second)
		srv.PutProduct(hstest.DefaultPortalID, hstest.Product{ID: strconv.Itoa(10 + i), Properties: map[string]string{"name": fmt.Sprint("P", i)}})
	}
	at := tokens(t, srv)["access_token"].(string)
	third := c.Now().Add(-2 * time.Second).UnixMilli()
	body := map[string]any{
		"filterGroups": []any{map[string]any{"filters": []any{map[string]any{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": strconv.FormatInt(third, 10)}}}},
		"sorts":        []any{map[string]any{"propertyName": "hs_lastmodifieddate", "direction": "DESCENDING"}},
		"properties":   []string{"name"}, "limit": 2,
	}
	status, _, v := search(t, srv, at, body)
	if got := fmt.Sprint(ids(v)); status != 200 || got != "[15 14]" || v["total"] != float64(3) {
		t.Fatalf("search: %d %s total %v, want the newest two of 3", status, got, v["total"])
	}
	next := v["paging"].(map[string]any)["next"].(map[string]any)["after"]
	body["after"] = next
	if _, _, v := search(t, srv, at, body); fmt.Sprint(ids(v)) != "[13]" || v["paging"] != nil {
		t.Errorf("second page: %v, want 13 and no next page", ids(v))
	}
	body["after"] = "9999"
	if status, _, _ := search(t, srv, at, body); status != http.StatusBadRequest {
		t.Errorf("a page past 10,000 results answered %d, want 400", status)
	}
	delete(body, "after")
	body["limit"] = 201
	if status, _, _ := search(t, srv, at, body); status != http.StatusBadRequest {
		t.Errorf("limit 201 answered %d, want 400", status)
	}
	// 4 searches so far in this second: one more is let through, then 429.
	body["limit"] = 1
	if status, _, _ := search(t, srv, at, body); status != 200 {
		t.Fatalf("fifth search answered %d", status)
	}
	status, h, _ := search(t, srv, at, body)
	if status != http.StatusTooManyRequests || h.Get("Retry-After") != "1" || srv.SearchRateLimited() != 1 {
		t.Errorf("sixth search in a second: %d Retry-After %q, want 429", status, h.Get("Retry-After"))
	}
	if srv.RateLimited() != 0 {
		t.Error("searches counted against the 110 / 10 s limit")
	}
	c.Advance(time.Second)
	if status, _, _ := search(t, srv, at, body); status != 200 {
		t.Errorf("a second later: %d", status)
	}
}

// Archiving takes a record out of every live read into the recycle bin,
// listed with archived=true and read by batch read with ?archived=true;
// a restore brings it back, modified.
func TestArchiveAndRestore(t *testing.T) {
	c := newClock()
	srv := hstest.New(t, hstest.Options{Now: c.Now})
	srv.PutProduct(hstest.DefaultPortalID, hstest.Product{ID: "21", Properties: map[string]string{"name": "A"}})
	srv.PutProduct(hstest.DefaultPortalID, hstest.Product{ID: "22", Properties: map[string]string{"name": "B"}})
	at := tokens(t, srv)["access_token"].(string)
	c.Advance(time.Minute)
	srv.Archive(hstest.DefaultPortalID, "products", "22")
	read := inputs(map[string]any{"id": "21"}, map[string]any{"id": "22"})
	status, _, v := postJSON(t, srv, "/crm/objects/2026-03/products/batch/read", at, read)
	if status != http.StatusMultiStatus || fmt.Sprint(ids(v)) != "[21]" || v["numErrors"] != float64(1) {
		t.Errorf("batch read: %d %v %v, want 207 with 21 and 22 not found", status, ids(v), v["errors"])
	}
	status, _, v = postJSON(t, srv, "/crm/objects/2026-03/products/batch/read?archived=true", at, read)
	if status != http.StatusMultiStatus || fmt.Sprint(ids(v)) != "[22]" {
		t.Errorf("archived batch read: %d %v", status, ids(v))
	}
	st, list := get(t, srv, "/crm/objects/2026-03/products?archived=true&limit=100", at)
	results, _ := list["results"].([]any)
	if st != 200 || len(results) != 1 || results[0].(map[string]any)["archivedAt"] != c.Now().UTC().Format("2006-01-02T15:04:05.000Z") {
		t.Errorf("archived list: %d %v", st, list)
	}
	c.Advance(time.Minute)
	if !srv.Restore(hstest.DefaultPortalID, "products", "22") {
		t.Fatal("restore refused")
	}
	if _, _, v := postJSON(t, srv, "/crm/objects/2026-03/products/batch/read", at, read); fmt.Sprint(ids(v)) != "[21 22]" {
		t.Errorf("after the restore: %v", ids(v))
	}
	// Past 90 days a record cannot be restored.
	srv.Archive(hstest.DefaultPortalID, "products", "21")
	c.Advance(hstest.ArchiveRetention + time.Hour)
	if srv.Restore(hstest.DefaultPortalID, "products", "21") {
		t.Error("restored after 90 days")
	}
}
