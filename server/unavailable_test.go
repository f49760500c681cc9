package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// lockedBuffer collects log lines written from the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the JSON log lines, decoded.
func (b *lockedBuffer) lines(t *testing.T) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// restore gives the database back after an outage of over a second, as a
// restart's: the pools ping a connection idle for over a second before
// handing it out, so no connection that the outage dropped is used after it.
// (While it lasts, each one that is used fails its request with EOF, and
// each new one is refused: both are unavailable.)
func restore(p *storetest.Proxy) {
	time.Sleep(1100 * time.Millisecond)
	p.Restore()
}

// TestDatabaseOutageAnswersUnavailableThenRecovers takes PostgreSQL away
// from a running server (a proxy between its pools and the database drops
// every connection and refuses new ones, as a restart does): every surface
// answers 503 unavailable with Retry-After, in its own shape, and logs a
// warning, not an error. Given the database back, the same requests succeed
// without restarting the server.
func TestDatabaseOutageAnswersUnavailableThenRecovers(t *testing.T) {
	proxy := storetest.NewProxy(t, storetest.NewDatabase(t))
	logs := &lockedBuffer{}
	a := newAppWith(t, proxy.URL(), func(appURL string, d *Deps) {
		d.Config.Pipedrive.ClientID, d.Config.Pipedrive.ClientSecret = "pd-client", "pd-client-secret"
		d.Config.PipedriveJWTSecret = pdJWTSecret
		d.Config.HubSpot.ClientID, d.Config.HubSpot.ClientSecret = "hs-client", hsClientSecret
		d.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	})
	hs := hstest.New(t, hstest.Options{App: hstest.App{ClientID: "hs-client", ClientSecret: hsClientSecret}})
	pd := pdtest.New(t, pdtest.Options{App: pdtest.App{ClientID: "pd-client", ClientSecret: "pd-client-secret",
		PanelJWTSecret: pdJWTSecret, CustomPanelJWTSecret: pdJWTSecret}})

	org := orgID(t, "00D00000000000A")
	secret := a.connect("Acme", org, "acme").Secret
	ctx := context.Background()
	if _, err := a.db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Beta", Provider: qwoty.ProviderHubSpot,
		ExternalID: strconv.FormatInt(hstest.DefaultPortalID, 10)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Gamma", Provider: qwoty.ProviderPipedrive,
		ExternalID: strconv.FormatInt(pdtest.DefaultCompanyID, 10), InstanceURL: "https://acme.pipedrive.com"}); err != nil {
		t.Fatal(err)
	}

	get := func(u string, header ...string) response {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		return do(t, req)
	}
	salesforce := func() response {
		return do(t, a.request(callout{org: org, secret: secret, body: body(recordA, accountA, "Acme", "USD")}))
	}
	hubspotCard := func() response {
		return do(t, hs.SignedCardRequest(a.url(), hstest.DefaultPortalID, hstest.DefaultRepID, hstest.DefaultDealID))
	}
	pipedrivePanel := func() response {
		req, err := pd.PanelRequest(a.url()+pipedrive.PanelPath, pdtest.PanelParams{DealID: 101})
		if err != nil {
			t.Fatal(err)
		}
		return do(t, req)
	}
	pipedriveLaunch, err := pd.CustomUIURL(a.url()+pipedrive.CardPath, pdtest.CustomUIParams{DealID: 101})
	if err != nil {
		t.Fatal(err)
	}
	embedURL := salesforce().answer(t).EmbedURL
	page, token := a.page(embedURL)
	if page.status != http.StatusOK || token == "" {
		t.Fatalf("card page before the outage: %d", page.status)
	}
	htmxCreate := func() response {
		req, _ := http.NewRequest(http.MethodPost, a.url()+"/embed/api/quotes", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("HX-Request", "true")
		return do(t, req)
	}

	proxy.Cut()

	// The signed callouts and the card's JSON answers: the error shape.
	for name, r := range map[string]response{
		"salesforce cardView": salesforce(),
		"hubspot card":        hubspotCard(),
		"pipedrive panel":     pipedrivePanel(),
		"card action":         a.action(http.MethodGet, "/embed/api/quotes", token, nil),
		"readyz":              get(a.url() + "/readyz"),
	} {
		t.Run("down/"+name, func(t *testing.T) {
			r.wantError(t, http.StatusServiceUnavailable, qwoty.CodeUnavailable)
			if got := r.header.Get("Retry-After"); got != "2" {
				t.Fatalf("Retry-After = %q, want 2", got)
			}
		})
	}
	// The card's htmx action: the flash above the card says so.
	r := htmxCreate()
	if r.status != http.StatusServiceUnavailable || r.header.Get("HX-Retarget") != "#flash" || r.header.Get("Retry-After") != "2" ||
		!bytes.Contains(r.body, []byte("temporarily unavailable")) || !bytes.Contains(r.body, []byte("Code unavailable")) {
		t.Fatalf("htmx action: %d, HX-Retarget %q, Retry-After %q: %s", r.status, r.header.Get("HX-Retarget"), r.header.Get("Retry-After"), r.body)
	}
	// Pages: the card, Pipedrive's custom panel launch, the console.
	for name, r := range map[string]response{
		"card page":        get(embedURL),
		"pipedrive launch": get(pipedriveLaunch),
		"console login":    get(a.url() + "/login"),
	} {
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "2" ||
			!bytes.Contains(r.body, []byte("temporarily unavailable")) || !bytes.Contains(r.body, []byte("Code unavailable")) {
			t.Errorf("%s: %d, Retry-After %q, want 503 saying temporarily unavailable:\n%s", name, r.status, r.header.Get("Retry-After"), r.body)
		}
	}
	if r := get(a.url() + "/healthz"); r.status != http.StatusOK {
		t.Errorf("healthz (liveness) = %d while the database is down, want 200: the process is fine", r.status)
	}

	restore(proxy)

	// The same requests succeed at once, on the same server.
	salesforce().answer(t)
	hubspotCard().answer(t)
	if r := pipedrivePanel(); r.status != http.StatusOK {
		t.Fatalf("pipedrive panel after the outage: %d %s", r.status, r.body)
	}
	for name, r := range map[string]response{
		"card action": a.action(http.MethodGet, "/embed/api/quotes", token, nil),
		"htmx action": htmxCreate(),
		"card page":   get(embedURL),
		"console":     get(a.url() + "/login"),
		"readyz":      get(a.url() + "/readyz"),
	} {
		if r.status != http.StatusOK && r.status != http.StatusCreated {
			t.Errorf("%s after the outage: %d, want 200 (201 for a new quote): %s", name, r.status, r.body)
		}
	}

	// Each failed request logged one warning with its cause, and its
	// access line at warn; nothing at error.
	warned := map[string]int{}
	for _, l := range logs.lines(t) {
		if l["level"] == "ERROR" {
			t.Errorf("error logged during a database outage: %v", l)
		}
		if l["msg"] == "unavailable" && l["level"] == "WARN" {
			if e, _ := l["error"].(string); e == "" {
				t.Errorf("unavailable warning without its cause: %v", l)
			}
			warned[l["request_id"].(string)]++
		}
	}
	for _, l := range logs.lines(t) {
		if l["msg"] != "request" || l["status"] != float64(http.StatusServiceUnavailable) {
			continue
		}
		id := l["request_id"].(string)
		if l["level"] != "WARN" || l["code"] != string(qwoty.CodeUnavailable) || warned[id] != 1 {
			t.Errorf("access line %v: want WARN with code unavailable and one warning with the cause (got %d)", l, warned[id])
		}
		delete(warned, id)
	}
	if len(warned) != 0 {
		t.Errorf("warnings without an access line: %v", warned)
	}
}
