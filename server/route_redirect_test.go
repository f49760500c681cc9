package server

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/qwoty/companion/web"
)

// TestTrailingSlashRedirectsPassTheMiddleware: a path that differs from a
// route by its trailing slash is redirected (301 for GET, 307 otherwise,
// query kept) with the request id and the security headers every answer
// carries, and logged; a Location on another host is never made.
func TestTrailingSlashRedirectsPassTheMiddleware(t *testing.T) {
	logs := &lockedBuffer{}
	a := newAppWith(t, "", func(_ string, d *Deps) { d.Logger = slog.New(slog.NewJSONHandler(logs, nil)) })
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		method, path string
		status       int
		location     string
	}{
		{http.MethodGet, "/login/", http.StatusMovedPermanently, "/login"},
		{http.MethodGet, "/embed/salesforce/card/?token=abc", http.StatusMovedPermanently, "/embed/salesforce/card?token=abc"},
		{http.MethodPost, "/api/crm/cardView/", http.StatusTemporaryRedirect, "/api/crm/cardView"},
		{http.MethodGet, "/static", http.StatusMovedPermanently, "/static/"},
		{http.MethodGet, "//evil.example/", http.StatusNotFound, ""},
		// Escapes stay escapes: an encoded "?" or "/" never becomes a query or a separator.
		{http.MethodGet, "/embed/api/quotes/a%3Fb/", http.StatusMovedPermanently, "/embed/api/quotes/a%3Fb"},
		{http.MethodGet, "/embed/api/quotes/a%2Fb/", http.StatusNotFound, ""}, // decoded, two segments: no route
		{http.MethodGet, "/api/crm/cardView/", http.StatusNotFound, ""},       // the route is POST only
		{http.MethodGet, "/nowhere/", http.StatusNotFound, ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, a.url()+tc.path, nil)
			resp, err := noFollow.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status || resp.Header.Get("Location") != tc.location {
				t.Fatalf("%d to %q, want %d to %q", resp.StatusCode, resp.Header.Get("Location"), tc.status, tc.location)
			}
			rid := resp.Header.Get(web.HeaderRequestID)
			if rid == "" {
				t.Fatal("no X-Request-Id")
			}
			for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy"} {
				if resp.Header.Get(h) == "" {
					t.Errorf("no %s header", h)
				}
			}
			// The access line is written once the answer is sent.
			logged := false
			for deadline := time.Now().Add(2 * time.Second); !logged && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				for _, l := range logs.lines(t) {
					logged = logged || l["msg"] == "request" && l["request_id"] == rid && l["status"] == float64(tc.status)
				}
			}
			if !logged {
				t.Errorf("no access log line with request id %s and status %d", rid, tc.status)
			}
		})
	}
}
