package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/crms"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
	"github.com/qwoty/companion/web"
)

// clock is a settable test clock, safe across goroutines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testApp is one server instance on a real database.
type testApp struct {
	t     testing.TB
	db    *store.DB
	srv   *Server
	http  *httptest.Server
	clock *clock
}

var testClock = &clock{t: time.Now()}

// newApp starts an instance on the database at dbURL ("" for a fresh one).
func newApp(t *testing.T, dbURL string, clk *clock) *testApp { return newAppTB(t, dbURL, clk) }

// newAppWith is newApp with the server's dependencies adjusted before it
// starts (its URL is known by then).
func newAppWith(t *testing.T, dbURL string, adjust func(appURL string, d *Deps)) *testApp {
	return newAppOpts(t, dbURL, nil, adjust)
}

// newBenchApp is newApp for benchmarks, with logs discarded.
func newBenchApp(b *testing.B) *testApp { return newAppTB(b, "", nil) }

func newAppTB(t testing.TB, dbURL string, clk *clock) *testApp { return newAppOpts(t, dbURL, clk, nil) }

func newAppOpts(t testing.TB, dbURL string, clk *clock, adjust func(appURL string, d *Deps)) *testApp {
	t.Helper()
	if dbURL == "" {
		dbURL = storetest.NewDatabase(t)
	}
	if clk == nil {
		clk = &clock{t: time.Now()}
	}
	db := storetest.Open(t, dbURL, store.Options{Now: clk.Now})
	keys := storetest.Keys(t)
	kid, key := keys.TokenKey()
	a := &testApp{t: t, db: db, clock: clk}
	a.http = httptest.NewUnstartedServer(nil)
	appURL := "http://" + a.http.Listener.Addr().String()
	cfg := &config.Config{Env: config.Production, AppURL: appURL}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if tt, ok := t.(*testing.T); ok {
		log = slog.New(slog.NewTextHandler(tt.Output(), nil)) // shown only when the test fails
	}
	deps := Deps{Config: cfg, DB: db, Now: clk.Now, Version: "test", Logger: log}
	if adjust != nil {
		adjust(appURL, &deps)
	}
	if deps.CRMs == nil {
		deps.CRMs = testCRMs(deps.Config)
	}
	if deps.Cards == nil {
		deps.Cards = cardview.NewService(db, deps.CRMs, cardview.NewTokens(clk.Now, cardview.Key{ID: kid, Secret: key}), appURL, clk.Now)
	}
	a.srv = New(deps)
	a.http.Config.Handler = a.srv.Handler()
	a.http.Start()
	t.Cleanup(a.http.Close)
	return a
}

func (a *testApp) url() string { return a.http.URL }

// testCRMs registers the CRMs as `qwoty serve` does (crms.Registry).
func testCRMs(cfg *config.Config, replace ...crm.Adapter) *crm.Registry {
	return crms.Registry(cfg, replace...)
}

// connect adds a Salesforce connection for org in workspace ws.
func (a *testApp) connect(ws, org, myDomain string) *qwoty.Connection {
	a.t.Helper()
	c, err := a.db.AddConnection(context.Background(), store.AddConnectionParams{
		Workspace: ws, Provider: qwoty.ProviderSalesforce, ExternalID: org, MyDomain: myDomain})
	if err != nil {
		a.t.Fatal(err)
	}
	return c
}

// callout is a v1 signed request, built the way the Apex builds it.
type callout struct {
	org    string
	secret []byte
	body   string
	at     time.Time
	nonce  string
	path   string
}

func body(record, account, accountName, currency string) string {
	b, _ := json.Marshal(map[string]any{
		"recordId": record, "objectType": "Opportunity",
		"user":   map[string]any{"id": "005000000000001AAA", "email": "rep@acme.com", "name": "Rep"},
		"record": map[string]any{"name": "Big deal", "accountId": account, "accountName": accountName, "amount": 1200.5, "currencyIsoCode": currency},
	})
	return string(b)
}

func (a *testApp) request(co callout) *http.Request {
	a.t.Helper()
	if co.at.IsZero() {
		co.at = a.clock.Now()
	}
	if co.nonce == "" {
		co.nonce = salesforce.NewNonce()
	}
	if co.path == "" {
		co.path = "/api/crm/cardView"
	}
	req, err := http.NewRequest(http.MethodPost, a.url()+co.path, strings.NewReader(co.body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header = salesforce.SignedHeaders(co.org, co.secret, co.path, []byte(co.body), co.at, co.nonce)
	return req
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t testing.TB, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

// wireAnswer is a card request's success answer as contract §1 writes it.
type wireAnswer struct {
	EmbedURL  string    `json:"embedUrl"`
	ExpiresAt time.Time `json:"expiresAt"`
	Record    struct {
		ID string `json:"id"`
	} `json:"record"`
	Quotes []wireQuote `json:"quotes"`
}

type wireQuote struct {
	ID        string       `json:"id"`
	Number    string       `json:"number"`
	Title     string       `json:"title"`
	Status    qwoty.Status `json:"status"`
	Total     string       `json:"total"`
	Currency  string       `json:"currency"`
	UpdatedAt time.Time    `json:"updatedAt"`
	URL       string       `json:"url"`
	Primary   bool         `json:"primary"`
	Sync      wireSync     `json:"sync"`
}

// wireSync is a quote's sync state in the card answer.
type wireSync struct {
	State   string     `json:"state"`
	At      time.Time  `json:"at"`
	Code    qwoty.Code `json:"code"`
	Message string     `json:"message"`
}

// answer decodes a card answer, refusing fields the contract does not name.
func (r response) answer(t *testing.T) wireAnswer {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	var a wireAnswer
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("answer %s: %v", r.body, err)
	}
	if a.Quotes == nil {
		t.Fatalf("answer %s: quotes must be a list, even empty", r.body)
	}
	return a
}

// wantError checks the JSON error shape: status, code, a message, a hint, and
// the request id that the X-Request-Id header carries.
func (r response) wantError(t *testing.T, status int, code qwoty.Code) web.ErrorDetail {
	t.Helper()
	var eb web.ErrorBody
	if err := json.Unmarshal(r.body, &eb); err != nil {
		t.Fatalf("want %d %s, got %d with a non-JSON body: %s", status, code, r.status, r.body)
	}
	e := eb.Error
	if r.status != status || e.Code != code {
		t.Fatalf("got %d %s (%s), want %d %s", r.status, e.Code, e.Message, status, code)
	}
	if e.Message == "" || e.Hint == "" {
		t.Fatalf("%s: message %q, hint %q: both are required", code, e.Message, e.Hint)
	}
	if e.RequestID == "" || e.RequestID != r.header.Get(web.HeaderRequestID) {
		t.Fatalf("%s: requestId %q, X-Request-Id %q: want the same, non-empty", code, e.RequestID, r.header.Get(web.HeaderRequestID))
	}
	return e
}

// page opens a card from an embed URL and returns the page and its token.
func (a *testApp) page(embedURL string) (response, string) {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, embedURL, nil)
	r := do(a.t, req)
	const marker = `name="qwoty-page-token" content="`
	i := bytes.Index(r.body, []byte(marker))
	if i < 0 {
		return r, ""
	}
	rest := r.body[i+len(marker):]
	return r, string(rest[:bytes.IndexByte(rest, '"')])
}

// action calls a card action with a page token, as htmx would.
func (a *testApp) action(method, path, token string, form map[string]string) response {
	a.t.Helper()
	vals := make([]string, 0, len(form))
	for k, v := range form {
		vals = append(vals, k+"="+urlEscape(v))
	}
	req, _ := http.NewRequest(method, a.url()+path, strings.NewReader(strings.Join(vals, "&")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	return do(a.t, req)
}

func urlEscape(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "=", "%3D", "+", "%2B", " ", "+")
	return r.Replace(s)
}
