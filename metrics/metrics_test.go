package metrics_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/metrics"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/web"
)

func scrape(t *testing.T) string {
	t.Helper()
	w := httptest.NewRecorder()
	metrics.Operator().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != 200 {
		t.Fatalf("scrape: %d", w.Code)
	}
	return w.Body.String()
}

// A request is counted by its route template (never its path: ids would
// make a series each), a CRM call by its CRM and masked endpoint; the
// operator handler serves /metrics and nothing else.
func TestRequestsAndCRMCallsAreCounted(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := web.NewEngine(log, web.NewErrors(log, nil), web.API, nil)
	r.GET("/things/:id", func(c *gin.Context) { c.String(200, "ok") })
	for _, p := range []string{"/things/1", "/things/2", "/nowhere"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, p, nil))
	}
	crmSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	defer crmSrv.Close()
	if err := crm.Call(context.Background(), crm.Request{Provider: qwoty.ProviderHubSpot, Method: http.MethodPatch, Base: crmSrv.URL,
		Path: "/crm/v3/objects/deals/12345?archived=false"}, nil); err != nil {
		t.Fatal(err)
	}
	body := scrape(t)
	for _, want := range []string{
		`qwoty_http_requests_total{method="GET",route="/things/:id",status="200"} 2`,
		`qwoty_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`qwoty_http_request_duration_seconds_count{method="GET",route="/things/:id"} 2`,
		`qwoty_crm_calls_total{crm="hubspot",endpoint="/crm/v3/objects/deals/:id",method="PATCH",status="204"} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the scrape lacks %s", want)
		}
	}
	if strings.Contains(body, "/things/1") || strings.Contains(body, "12345") {
		t.Fatal("a path or an id became a label")
	}
	w := httptest.NewRecorder()
	metrics.Operator().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusNotFound {
		t.Fatalf("the operator address answers %d for /", w.Code)
	}
}

func TestEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"/services/data/v60.0/composite/sobjects":                      "/services/data/v60.0/composite/sobjects",
		"/api/v2/deals/42/products":                                    "/api/v2/deals/:id/products",
		"/services/data/v60.0/sobjects/Opportunity/006000000000001AAA": "/services/data/v60.0/sobjects/Opportunity/:id",
		"/api/deals/deal-7/sync?x=1":                                   "/api/deals/:id/sync",
	} {
		if got := metrics.Endpoint(in); got != want {
			t.Errorf("Endpoint(%q) = %q, want %q", in, got, want)
		}
	}
}
