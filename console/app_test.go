package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/console"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/server"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
	"github.com/qwoty/companion/web"
	"github.com/qwoty/companion/web/webtest"
)

// These tests run the whole server, the console mounted beside the card
// and the CRM endpoints, for flows that cross them: a Test connection's
// ping is the org calling this server back, a connected org's card makes
// quotes, the home page leads into the console, the playground's card
// follows what the console does to its connection.

const (
	testClientID       = "qwoty-console-test"
	testClientSecret   = "console-test-secret"
	salesforceCallback = "/oauth/salesforce/callback"
	adminEmail         = webtest.AdminEmail
	adminPassword      = webtest.AdminPassword
	recordA            = "006000000000001AAA"
	accountA           = "001000000000001AAA"
)

// appEnv is a Qwoty server whose Salesforce is the emulator.
type appEnv struct {
	db   *store.DB
	cfg  *config.Config
	http *httptest.Server
	emu  *sftest.Server
	org  string
}

// newAppEnv starts a server on a fresh database; adjust may change its
// dependencies (its URL is known by then), emu its emulator's options.
func newAppEnv(t *testing.T, emu *sftest.Options, adjust func(appURL string, d *server.Deps)) *appEnv {
	t.Helper()
	db := storetest.Open(t, storetest.NewDatabase(t), store.Options{})
	kid, key := storetest.Keys(t).TokenKey()
	e := &appEnv{db: db, http: httptest.NewUnstartedServer(nil), org: sftest.DefaultOrgID}
	appURL := "http://" + e.http.Listener.Addr().String()
	opts := sftest.Options{}
	if emu != nil {
		opts = *emu
	}
	opts.App = sftest.App{ClientID: testClientID, ClientSecret: testClientSecret, CallbackURLs: []string{appURL + salesforceCallback}}
	e.emu = sftest.New(t, opts)
	e.cfg = &config.Config{Env: config.Production, AppURL: appURL, SalesforceLoginURL: e.emu.URL, SalesforcePackageVersionID: "04t000000000001AAA",
		Salesforce: config.OAuthApp{ClientID: testClientID, ClientSecret: testClientSecret}}
	d := server.Deps{Config: e.cfg, DB: db, Version: "test", Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
	if adjust != nil {
		adjust(appURL, &d)
	}
	d.CRMs = console.CRMsFor(e.cfg)
	d.Cards = cardview.NewService(db, d.CRMs, cardview.NewTokens(time.Now, cardview.Key{ID: kid, Secret: key}), appURL, time.Now)
	e.http.Config.Handler = server.New(d).Handler()
	e.http.Start()
	t.Cleanup(e.http.Close)
	return e
}

func (e *appEnv) url() string { return e.http.URL }

func (e *appEnv) setupAdmin(t *testing.T) *webtest.Browser {
	return webtest.SetupAdmin(t, e.db, e.url())
}

// connect connects the emulator's org from the install page.
func (e *appEnv) connect(t *testing.T, b *webtest.Browser) {
	t.Helper()
	b.Get(e.url()+"/settings/integrations/salesforce/install").Want(200, "", "Step 1", "Step 2")
	b.Post(e.url()+"/settings/integrations/salesforce/connect", url.Values{"csrf": {b.CSRF()}, "env": {"production"}})
}

// callout is the package's signed card request for recordA, signed with
// secret as the org's Apex signs it.
func (e *appEnv) callout(t *testing.T, secret []byte) *http.Request {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"recordId": recordA, "objectType": "Opportunity",
		"user":   map[string]any{"id": "005000000000001AAA", "email": "rep@acme.com", "name": "Rep"},
		"record": map[string]any{"name": "Big deal", "accountId": accountA, "accountName": "Acme", "currencyIsoCode": "USD"}})
	req, err := http.NewRequest(http.MethodPost, e.url()+"/api/crm/cardView", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = salesforce.SignedHeaders(e.org, secret, "/api/crm/cardView", body, time.Now(), salesforce.NewNonce())
	return req
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

// cardAnswer is a card answer: the embed URL and the record's quotes.
type cardAnswer struct {
	EmbedURL string `json:"embedUrl"`
	Quotes   []struct {
		ID string `json:"id"`
	} `json:"quotes"`
}

func (r response) card(t *testing.T) cardAnswer {
	t.Helper()
	var c cardAnswer
	if r.status != http.StatusOK || json.Unmarshal(r.body, &c) != nil || c.EmbedURL == "" || c.Quotes == nil {
		t.Fatalf("card answer: %d %s", r.status, r.body)
	}
	return c
}

// wantError checks the JSON error shape: status, code, a message, a hint,
// and the request id that the X-Request-Id header carries.
func (r response) wantError(t *testing.T, status int, code qwoty.Code) {
	t.Helper()
	var eb web.ErrorBody
	if err := json.Unmarshal(r.body, &eb); err != nil || r.status != status || eb.Error.Code != code {
		t.Fatalf("got %d %s, want %d %s", r.status, r.body, status, code)
	}
	if e := eb.Error; e.Message == "" || e.Hint == "" || e.RequestID == "" || e.RequestID != r.header.Get(web.HeaderRequestID) {
		t.Fatalf("%s: message %q, hint %q, request id %q: all required, the id as X-Request-Id", code, e.Message, e.Hint, e.RequestID)
	}
}

// page opens a card from its embed URL and returns its page token.
func (e *appEnv) page(t *testing.T, embedURL string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, embedURL, nil)
	m := regexp.MustCompile(`name="qwoty-page-token" content="([^"]+)"`).FindSubmatch(do(t, req).body)
	if m == nil {
		t.Fatalf("no page token at %s", embedURL)
	}
	return string(m[1])
}

// action calls a card action with a page token.
func (e *appEnv) action(t *testing.T, method, path, token string) response {
	t.Helper()
	req, _ := http.NewRequest(method, e.url()+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return do(t, req)
}

var quoteIDPattern = regexp.MustCompile(`/embed/api/quotes/([0-9a-f-]{36})/`)

func TestConsoleConnectTestRotateDisconnectReconnect(t *testing.T) {
	e := newAppEnv(t, nil, nil)
	b := e.setupAdmin(t)
	e.connect(t, b)
	b.Want(200, "/settings/integrations", "Salesforce is connected", `id="health-salesforce">Connected`)

	conn, err := e.db.ConnectionByExternalID(context.Background(), qwoty.ProviderSalesforce, e.org)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.emu.Config(e.org)
	if cfg.Secret != string(conn.Secret) || cfg.AppURL != e.url() {
		t.Fatalf("config written into the org: %+v; want our secret and %s", cfg, e.url())
	}
	var access []byte
	storetest.Pool(t, e.db).QueryRow(context.Background(), "SELECT access_token_enc FROM connections WHERE id = $1", conn.ID).Scan(&access)
	if tok, _ := e.db.AccessToken(context.Background(), conn.ID); tok == "" || bytes.Contains(access, []byte(tok)) {
		t.Fatal("the access token is missing or stored in plaintext")
	}
	// The card view now accepts a callout signed with the secret the org holds.
	card := do(t, e.callout(t, []byte(cfg.Secret))).card(t)
	pageTok := e.page(t, card.EmbedURL)
	created := e.action(t, http.MethodPost, "/embed/api/quotes", pageTok)
	quoteID := quoteIDPattern.FindSubmatch(created.body)[1]

	// Replaying the callback (same code and state) is refused.
	callback := ""
	for r := b.Last.Request; r != nil; r = r.Response.Request {
		if strings.HasPrefix(r.URL.Path, salesforceCallback) {
			callback = r.URL.String()
			break
		}
		if r.Response == nil {
			break
		}
	}
	if callback == "" {
		t.Fatal("the flow did not pass through the callback")
	}
	b.Get(callback).Want(400, "", "oauth_failed")

	// Test connection: every step passes.
	b.Get(e.url() + "/settings/integrations")
	b.Post(e.url()+"/settings/integrations/salesforce/test", url.Values{"csrf": {b.CSRF()}}).
		Want(200, "", `data-ok="true"`, `data-step="config"`, `data-step="callout"`, `data-step="signature"`)

	// Rotate: the org gets a new secret; the old one works during the grace.
	b.Post(e.url()+"/settings/integrations/salesforce/rotate", url.Values{"csrf": {b.CSRF()}}).Want(200, "/settings/integrations", "The secret was rotated")
	rotated := e.emu.Config(e.org).Secret
	if rotated == cfg.Secret || rotated == "" {
		t.Fatal("rotation did not write a new secret into the org")
	}
	do(t, e.callout(t, []byte(cfg.Secret))).card(t)
	do(t, e.callout(t, []byte(rotated))).card(t)

	// Disconnect: stops at once, clears the org's secret, keeps the data.
	b.Post(e.url()+"/settings/integrations/salesforce/disconnect", url.Values{"csrf": {b.CSRF()}, "confirm": {"disconnect"}}).
		Want(200, "/settings/integrations", "Salesforce was disconnected", `id="health-salesforce">Not connected`)
	if e.emu.Config(e.org).Secret != "" {
		t.Fatal("disconnect left the secret in the org")
	}
	do(t, e.callout(t, []byte(rotated))).wantError(t, 403, qwoty.CodeOrgDisconnected)
	e.action(t, http.MethodGet, "/embed/api/quotes", pageTok).wantError(t, 403, qwoty.CodeOrgDisconnected)

	// Reconnect the same org: the same connection, its quotes intact.
	e.connect(t, b)
	b.Want(200, "/settings/integrations", "Salesforce is connected")
	again, _ := e.db.ConnectionByExternalID(context.Background(), qwoty.ProviderSalesforce, e.org)
	if again.ID != conn.ID {
		t.Fatalf("reconnect made connection %s, want %s", again.ID, conn.ID)
	}
	card = do(t, e.callout(t, []byte(e.emu.Config(e.org).Secret))).card(t)
	if len(card.Quotes) != 1 || card.Quotes[0].ID != string(quoteID) {
		t.Fatalf("after reconnecting: quotes %+v, want the one made before", card.Quotes)
	}

	// Every step is in the audit log.
	b.Get(e.url() + "/settings/audit")
	for _, action := range []string{"connection.connected", "connection.config_written", "connection.tested", "connection.secret_rotated", "connection.disconnected"} {
		if !bytes.Contains(b.Body, []byte(`data-action="`+action+`"`)) {
			t.Errorf("audit log lacks %s", action)
		}
	}
}
