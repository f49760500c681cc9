package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/testcrm"
	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/metrics"
	"github.com/qwoty/companion/operator"
	"github.com/qwoty/companion/qwoty"
)

// counted reads a counter's or a histogram's count from a scrape: the sum
// over the series of name whose labels hold every one of labels.
func counted(scrape, name string, labels ...string) float64 {
	line := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\{([^}]*)\} (\S+)$`)
	sum := 0.0
	for _, m := range line.FindAllStringSubmatch(scrape, -1) {
		ok := true
		for _, l := range labels {
			ok = ok && regexp.MustCompile(`(^|,)`+regexp.QuoteMeta(l)+`(,|$)`).MatchString(m[1])
		}
		if ok {
			v, _ := strconv.ParseFloat(m[2], 64)
			sum += v
		}
	}
	return sum
}

// One process as `qwoty serve` runs it: a card call (callout and page), an
// API call and a sync push to the test CRM's emulator, then a scrape of the
// operator address finds each counted, its stages and job timed, and sync's
// state by CRM; no workspace or connection id is a label.
func TestScrapeCountsCardAPIAndSync(t *testing.T) {
	a := newApp(t, "", nil)
	emu := tctest.New(t, tctest.Options{AnyDeal: true})
	adapter := testcrm.NewAdapter(testcrm.Options{ClientID: tctest.DefaultClientID, ClientSecret: tctest.DefaultClientSecret,
		RedirectURL: tctest.DefaultRedirectURL, BaseURL: emu.URL})
	w := crmsynctest.NewOn(t, a.db, adapter, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	if err := metrics.RegisterDB(a.db); err != nil {
		t.Fatal(err)
	}
	ops, err := operator.New(context.Background(), operator.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	scrape := func() string {
		rec := httptest.NewRecorder()
		ops.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	before := scrape()

	// The card: the CRM's signed callout, then its page.
	conn := a.connect("Globex", orgID(t, "00D00000000000A"), "globex")
	r := do(t, a.request(callout{org: conn.ExternalID, secret: conn.Secret, body: body(recordA, accountA, "Acme", "USD")}))
	if page, tok := a.page(r.answer(t).EmbedURL); tok == "" {
		t.Fatalf("card page: %d %s", page.status, page.body)
	}
	// The API.
	key, _, err := a.db.CreateAPIKey(context.Background(), conn.WorkspaceID, conn.ID, "ERP", []string{string(qwoty.ScopeQuotesRead)}, nil, "admin@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	req := mustGet(t, a.url()+"/api/v1/quotes")
	req.Header.Set("Authorization", "Bearer "+key)
	if r := do(t, req); r.status != http.StatusOK {
		t.Fatalf("API: %d %s", r.status, r.body)
	}
	// A sync push.
	q := w.Quote(tctest.DefaultDealID, crmsynctest.Line{SKU: "A-1", Quantity: 2, Price: "50"})
	w.WaitState(q, qwoty.SyncSynced, 10*time.Second)
	var after string
	w.WaitFor("the push's job counted", 5*time.Second, func() bool {
		after = scrape()
		return counted(after, "qwoty_jobs_worked_total", `kind="sync_push"`, `outcome="completed"`) >
			counted(before, "qwoty_jobs_worked_total", `kind="sync_push"`, `outcome="completed"`)
	})

	for _, c := range []struct {
		name   string
		labels []string
	}{
		{"qwoty_http_requests_total", []string{`route="/api/crm/cardView"`, `status="200"`}},
		{"qwoty_http_requests_total", []string{`route="/embed/:provider/card"`, `status="200"`}},
		{"qwoty_http_requests_total", []string{`route="/api/v1/quotes"`, `method="GET"`, `status="200"`}},
		{"qwoty_card_stage_seconds_count", []string{`surface="callout"`, `stage="signature"`}},
		{"qwoty_card_stage_seconds_count", []string{`surface="callout"`, `stage="db"`}},
		{"qwoty_card_stage_seconds_count", []string{`surface="callout"`, `stage="session"`}},
		{"qwoty_card_stage_seconds_count", []string{`surface="callout"`, `stage="render"`}},
		{"qwoty_card_stage_seconds_count", []string{`surface="page"`, `stage="session"`}},
		{"qwoty_card_stage_seconds_count", []string{`surface="page"`, `stage="db"`}},
		{"qwoty_card_stage_seconds_count", []string{`surface="page"`, `stage="render"`}},
		{"qwoty_crm_calls_total", []string{`crm="testcrm"`}},
		{"qwoty_job_run_seconds_count", []string{`kind="sync_push"`}},
		{"qwoty_job_queue_wait_seconds_count", []string{`kind="sync_push"`}},
	} {
		if got, was := counted(after, c.name, c.labels...), counted(before, c.name, c.labels...); got <= was {
			t.Errorf("%s%v: %v, was %v before", c.name, c.labels, got, was)
		}
	}
	// Sync's state by CRM, read from the database at the scrape.
	for _, want := range []string{
		`qwoty_crm_connections{crm="salesforce"} 1`, `qwoty_crm_connections{crm="testcrm"} 1`,
		`qwoty_sync_connections_behind{crm="testcrm"} 0`, `qwoty_sync_lag_seconds{crm="testcrm",quantile="0.99"} 0`,
	} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(want) + `$`).MatchString(after) {
			t.Errorf("the scrape lacks %s", want)
		}
	}
	if m := regexp.MustCompile(`(?m)^qwoty_crm_budget_lowest_share\{crm="testcrm"\} (\S+)$`).FindStringSubmatch(after); m == nil {
		t.Error("the scrape lacks the test CRM's lowest budget share")
	} else if v, _ := strconv.ParseFloat(m[1], 64); v <= 0 || v > 1 {
		t.Errorf("lowest budget share %v, want in (0, 1]", v)
	}
	for _, id := range []string{conn.ID, conn.WorkspaceID, w.Conn.ID, q.ID} {
		if regexp.MustCompile(regexp.QuoteMeta(id)).MatchString(after) {
			t.Fatalf("the id %s is in the scrape", id)
		}
	}
}
