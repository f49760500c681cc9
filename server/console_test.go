package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

const (
	testClientID     = "qwoty-console-test"
	testClientSecret = "console-test-secret"
	adminEmail       = "admin@acme.example"
	adminPassword    = "correct horse battery"
)

// consoleEnv is a Qwoty server whose Salesforce is the emulator.
type consoleEnv struct {
	*testApp
	emu *sftest.Server
	org string
}

func newConsoleEnv(t *testing.T, dbURL string, emuOpts *sftest.Options) *consoleEnv {
	t.Helper()
	var emu *sftest.Server
	app := newAppWith(t, dbURL, func(appURL string, d *Deps) {
		opts := sftest.Options{}
		if emuOpts != nil {
			opts = *emuOpts
		}
		opts.App = sftest.App{ClientID: testClientID, ClientSecret: testClientSecret, CallbackURLs: []string{appURL + SalesforceCallbackPath}}
		emu = sftest.New(t, opts)
		d.Config.SalesforceLoginURL = emu.URL
		d.Config.SalesforcePackageVersionID = "04t000000000001AAA"
		d.Config.Salesforce = config.OAuthApp{ClientID: testClientID, ClientSecret: testClientSecret}
	})
	return &consoleEnv{testApp: app, emu: emu, org: sftest.DefaultOrgID}
}

// browser is a person's browser: a cookie jar that follows redirects.
type browser struct {
	t      *testing.T
	client *http.Client
	last   *http.Response
	body   []byte
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

func (b *browser) do(req *http.Request) *browser {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	b.body, _ = io.ReadAll(resp.Body)
	b.last = resp
	return b
}

func (b *browser) get(u string) *browser {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) *browser {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfPattern = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) csrf() string {
	b.t.Helper()
	m := csrfPattern.FindSubmatch(b.body)
	if m == nil {
		b.t.Fatalf("no CSRF token on %s", b.last.Request.URL)
	}
	return string(m[1])
}

func (b *browser) want(status int, path string, contains ...string) {
	b.t.Helper()
	if b.last.StatusCode != status || (path != "" && b.last.Request.URL.Path != path) {
		b.t.Fatalf("at %s: %d, want %d at %s\n%s", b.last.Request.URL, b.last.StatusCode, status, path, b.body)
	}
	for _, s := range contains {
		if !bytes.Contains(b.body, []byte(s)) {
			b.t.Fatalf("at %s: page lacks %q\n%s", b.last.Request.URL, s, b.body)
		}
	}
}

// setupAdmin walks the first-run link and returns the admin's browser.
func (e *consoleEnv) setupAdmin(t *testing.T) *browser {
	t.Helper()
	token, err := e.db.NewSetupToken(context.Background(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.get(e.url()+"/setup?token="+token).want(200, "/setup", "Create the first admin")
	b.post(e.url()+"/setup", url.Values{"token": {token}, "workspace": {"Acme"}, "name": {"Ada"}, "email": {adminEmail}, "password": {adminPassword}}).
		want(200, "/settings/integrations", "<h1>Integrations</h1>")
	return b
}

func (e *consoleEnv) connect(t *testing.T, b *browser) {
	t.Helper()
	b.get(e.url()+"/settings/integrations/salesforce/install").want(200, "", "Step 1", "Step 2", "installPackage.apexp?p0=04t000000000001AAA")
	b.post(e.url()+"/settings/integrations/salesforce/connect", url.Values{"csrf": {b.csrf()}, "env": {"production"}})
}

func TestConsoleFirstRunLoginAndRoles(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	anon := newBrowser(t)
	anon.get(e.url()+"/settings/integrations").want(200, "/login", "no admin yet")
	if ck := anon.last.Header.Get("Set-Cookie"); ck != "" {
		t.Fatalf("an anonymous visit got a cookie: %s", ck)
	}
	admin := e.setupAdmin(t)

	// The session cookie: HttpOnly, SameSite=Lax.
	u, _ := url.Parse(e.url())
	var session *http.Cookie
	for _, c := range admin.client.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			session = c
		}
	}
	if session == nil {
		t.Fatal("no session cookie after setup")
	}

	// The setup link works once.
	token, _ := e.db.NewSetupToken(context.Background(), time.Hour)
	newBrowser(t).get(e.url()+"/setup?token="+token).want(403, "", "setup link is used, expired, or not valid")

	// Add a viewer and a member; they see Integrations but cannot change them.
	admin.get(e.url() + "/settings/users")
	for _, r := range []string{"viewer", "member"} {
		admin.post(e.url()+"/settings/users", url.Values{"csrf": {admin.csrf()}, "email": {r + "@acme.example"}, "role": {r}, "password": {"a long enough password"}}).
			want(200, "/settings/users", r+"@acme.example")
	}
	for _, r := range []string{"viewer", "member"} {
		b := newBrowser(t)
		b.post(e.url()+"/login", url.Values{"email": {r + "@acme.example"}, "password": {"a long enough password"}}).want(200, "/settings/integrations", "Ask an admin")
		b.post(e.url()+"/settings/integrations/salesforce/connect", url.Values{"csrf": {b.csrf()}, "env": {"production"}}).want(403, "", "Only admins")
		b.get(e.url()+"/settings/integrations/salesforce/install").want(403, "", "Only admins")
		b.get(e.url()+"/settings/audit").want(403, "", "Only admins")
	}

	// Wrong password: a clear refusal, no session.
	newBrowser(t).post(e.url()+"/login", url.Values{"email": {adminEmail}, "password": {"wrong password!"}}).want(401, "/login", "do not match")
	newBrowser(t).post(e.url()+"/login", url.Values{"email": {"nobody@acme.example"}, "password": {"wrong password!"}}).want(401, "/login", "do not match")
	// Guessing one email from one address is throttled: after 5 failures
	// even the right password waits (console_login_test.go has the rest).
	for range 5 {
		newBrowser(t).post(e.url()+"/login", url.Values{"email": {adminEmail}, "password": {"wrong password!"}})
	}
	slow := newBrowser(t).post(e.url()+"/login", url.Values{"email": {adminEmail}, "password": {adminPassword}})
	slow.want(429, "/login", "Too many failed attempts for this email from your network")
	if ra := slow.last.Header.Get("Retry-After"); ra != "1" {
		t.Fatalf("Retry-After = %q, want 1 (second) after the first failure past the free ones", ra)
	}

	// CSRF: a form without the token, or posted from another site, is refused.
	admin.post(e.url()+"/settings/users", url.Values{"email": {"x@acme.example"}, "role": {"viewer"}, "password": {"a long enough password"}}).want(403, "", "csrf_failed")
	req, _ := http.NewRequest(http.MethodPost, e.url()+"/settings/users", strings.NewReader(url.Values{"csrf": {admin.csrf()}, "email": {"y@acme.example"}, "role": {"viewer"}, "password": {"a long enough password"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	admin.do(req).want(403, "", "csrf_failed")

	// Logout ends the session.
	admin.get(e.url() + "/settings/integrations")
	admin.post(e.url()+"/logout", url.Values{"csrf": {admin.csrf()}}).want(200, "/login")
	admin.get(e.url()+"/settings/integrations").want(200, "/login")
	if _, err := e.db.SessionByToken(context.Background(), session.Value); err == nil {
		t.Fatal("the session still exists after logout")
	}
}

func TestConsoleConnectTestRotateDisconnectReconnect(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	b := e.setupAdmin(t)
	e.connect(t, b)
	b.want(200, "/settings/integrations", "Salesforce is connected", `id="health-salesforce">Connected`)

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
	card := do(t, e.request(callout{org: e.org, secret: []byte(cfg.Secret), body: body(recordA, accountA, "Acme", "USD")})).answer(t)
	_, pageTok := e.page(card.EmbedURL)
	created := e.action(http.MethodPost, "/embed/api/quotes", pageTok, nil)
	quoteID := quoteIDPattern.FindSubmatch(created.body)[1]

	// Replaying the callback (same code and state) is refused.
	callback := ""
	for r := b.last.Request; r != nil; r = r.Response.Request {
		if strings.HasPrefix(r.URL.Path, SalesforceCallbackPath) {
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
	b.get(callback).want(400, "", "oauth_failed")

	// Test connection: every step passes.
	b.get(e.url() + "/settings/integrations")
	b.post(e.url()+"/settings/integrations/salesforce/test", url.Values{"csrf": {b.csrf()}}).
		want(200, "", `data-ok="true"`, `data-step="config"`, `data-step="callout"`, `data-step="signature"`)

	// Rotate: the org gets a new secret; the old one works during the grace.
	b.post(e.url()+"/settings/integrations/salesforce/rotate", url.Values{"csrf": {b.csrf()}}).want(200, "/settings/integrations", "The secret was rotated")
	rotated := e.emu.Config(e.org).Secret
	if rotated == cfg.Secret || rotated == "" {
		t.Fatal("rotation did not write a new secret into the org")
	}
	do(t, e.request(callout{org: e.org, secret: []byte(cfg.Secret), body: body(recordA, accountA, "Acme", "USD")})).answer(t)
	do(t, e.request(callout{org: e.org, secret: []byte(rotated), body: body(recordA, accountA, "Acme", "USD")})).answer(t)

	// Disconnect: stops at once, clears the org's secret, keeps the data.
	b.post(e.url()+"/settings/integrations/salesforce/disconnect", url.Values{"csrf": {b.csrf()}, "confirm": {"disconnect"}}).
		want(200, "/settings/integrations", "Salesforce was disconnected", `id="health-salesforce">Not connected`)
	if e.emu.Config(e.org).Secret != "" {
		t.Fatal("disconnect left the secret in the org")
	}
	do(t, e.request(callout{org: e.org, secret: []byte(rotated), body: body(recordA, accountA, "Acme", "USD")})).wantError(t, 403, qwoty.CodeOrgDisconnected)
	e.action(http.MethodGet, "/embed/api/quotes", pageTok, nil).wantError(t, 403, qwoty.CodeOrgDisconnected)

	// Reconnect the same org: the same connection, its quotes intact.
	e.connect(t, b)
	b.want(200, "/settings/integrations", "Salesforce is connected")
	again, _ := e.db.ConnectionByExternalID(context.Background(), qwoty.ProviderSalesforce, e.org)
	if again.ID != conn.ID {
		t.Fatalf("reconnect made connection %s, want %s", again.ID, conn.ID)
	}
	card = do(t, e.request(callout{org: e.org, secret: []byte(e.emu.Config(e.org).Secret), body: body(recordA, accountA, "Acme", "USD")})).answer(t)
	if len(card.Quotes) != 1 || card.Quotes[0].ID != string(quoteID) {
		t.Fatalf("after reconnecting: quotes %+v, want the one made before", card.Quotes)
	}

	// Every step is in the audit log.
	b.get(e.url() + "/settings/audit")
	for _, action := range []string{"connection.connected", "connection.config_written", "connection.tested", "connection.secret_rotated", "connection.disconnected"} {
		if !bytes.Contains(b.body, []byte(`data-action="`+action+`"`)) {
			t.Errorf("audit log lacks %s", action)
		}
	}
}

func TestConsoleStateIsBoundToTheSession(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	b := e.setupAdmin(t)
	b.get(e.url() + "/settings/integrations/salesforce/install")
	// Stop at the emulator's redirect to our callback, and hand that URL to
	// another logged-in admin session.
	b.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.Path, SalesforceCallbackPath) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	b.post(e.url()+"/settings/integrations/salesforce/connect", url.Values{"csrf": {b.csrf()}, "env": {"production"}})
	callback := b.last.Header.Get("Location")
	if !strings.Contains(callback, "code=") || !strings.Contains(callback, "state=") {
		t.Fatalf("emulator answered %d, Location %q", b.last.StatusCode, callback)
	}
	other := newBrowser(t)
	other.post(e.url()+"/login", url.Values{"email": {adminEmail}, "password": {adminPassword}}).want(200, "/settings/integrations")
	other.get(callback).want(400, "", "oauth_failed")
	// The right session may still finish it once.
	b.client.CheckRedirect = nil
	b.get(callback).want(200, "/settings/integrations", "Salesforce is connected")
}

func TestConsolePackageNotInstalledShowsStepOne(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	e.emu.SetPackageInstalled(e.org, false)
	b := e.setupAdmin(t)
	e.connect(t, b)
	if b.last.StatusCode >= 500 || !bytes.Contains(b.body, []byte(`id="package-missing"`)) {
		t.Fatalf("package missing: %d\n%s", b.last.StatusCode, b.body)
	}
}

func TestConsoleSecondCRMNeedsDisconnectFirst(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	b := e.setupAdmin(t)
	// Another CRM is already this workspace's active connection.
	if _, err := e.db.AddConnection(context.Background(), store.AddConnectionParams{Workspace: "Acme", Provider: qwoty.ProviderHubSpot, ExternalID: "12345"}); err != nil {
		t.Fatal(err)
	}
	b.get(e.url()+"/settings/integrations").want(200, "", "HubSpot is this workspace's active CRM")
	b.get(e.url()+"/settings/integrations/salesforce/install").want(200, "", "disconnect it in Integrations before connecting Salesforce")
	// Disconnecting HubSpot frees the workspace for Salesforce.
	b.get(e.url() + "/settings/integrations")
	b.post(e.url()+"/settings/integrations/hubspot/disconnect", url.Values{"csrf": {b.csrf()}, "confirm": {"disconnect"}}).want(200, "/settings/integrations", "HubSpot was disconnected")
	e.connect(t, b)
	b.want(200, "/settings/integrations", "Salesforce is connected")
}

func TestTokenRefreshRacesMakeOneRefresh(t *testing.T) {
	dbURL := ""
	e := newConsoleEnv(t, dbURL, &sftest.Options{TokenDelay: 300 * time.Millisecond})
	b := e.setupAdmin(t)
	e.connect(t, b)
	b.want(200, "/settings/integrations", "Salesforce is connected")
	conn, _ := e.db.ConnectionByExternalID(context.Background(), qwoty.ProviderSalesforce, e.org)

	// A second instance on the same database.
	var shared string
	storetest.Pool(t, e.db).QueryRow(context.Background(), "SELECT current_database()").Scan(&shared)
	u, _ := url.Parse(storetest.Pool(t, e.db).Config().ConnString())
	u.Path = "/" + shared
	second := newAppWith(t, u.String(), func(appURL string, d *Deps) {
		d.CRMs = testCRMs(d.Config, salesforce.NewAdapter(salesforce.Options{ClientID: testClientID, ClientSecret: testClientSecret,
			RedirectURL: e.url() + SalesforceCallbackPath}))
	})

	e.emu.ExpireAccessTokens()
	before := e.emu.TokenCalls("refresh_token")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i, srv := range []*Server{e.srv, e.srv, second.srv, second.srv} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = srv.withSalesforce(context.Background(), conn, func(cl *salesforce.Client) error {
				_, err := cl.GetConfig(context.Background())
				return err
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
	if n := e.emu.TokenCalls("refresh_token") - before; n != 1 {
		t.Fatalf("%d refresh calls for 4 racing callers on 2 instances, want exactly 1", n)
	}

	// A refresh token Salesforce refuses: the connection moves to error,
	// with "reconnect" as the fix.
	e.emu.RevokeAll()
	e.emu.ExpireAccessTokens()
	b.get(e.url() + "/settings/integrations")
	b.post(e.url()+"/settings/integrations/salesforce/test", url.Values{"csrf": {b.csrf()}}).want(200, "", `data-ok="false"`, "Reconnect the org")
	got, _ := e.db.ConnectionByID(context.Background(), conn.ID)
	if got.Status != qwoty.ConnectionError || got.Health() != qwoty.HealthError {
		t.Fatalf("after invalid_grant: status %s health %s", got.Status, got.Health())
	}
	b.get(e.url()+"/settings/audit").want(200, "", `data-action="connection.token_refresh_failed"`)
}

func TestConsoleConnectsPipedriveWithOAuth(t *testing.T) {
	var pd *pdtest.Server
	app := newAppWith(t, "", func(appURL string, d *Deps) {
		pd = pdtest.New(t, pdtest.Options{App: pdtest.App{ClientID: "pd-client", ClientSecret: "pd-secret", CallbackURL: appURL + "/oauth/pipedrive/callback"}})
		d.CRMs = testCRMs(d.Config, pipedrive.NewAdapter(pipedrive.Options{ClientID: "pd-client", ClientSecret: "pd-secret",
			RedirectURL: appURL + "/oauth/pipedrive/callback", OAuthURL: pd.URL}))
	})
	e := &consoleEnv{testApp: app}
	b := e.setupAdmin(t)
	b.want(200, "/settings/integrations", `id="connect-pipedrive"`)
	if csp := b.last.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+pd.URL) {
		t.Fatalf("integrations CSP %q does not let the connect form reach Pipedrive", csp)
	}
	b.post(e.url()+"/settings/integrations/pipedrive/connect", url.Values{"csrf": {b.csrf()}}).
		want(200, "/settings/integrations", "Pipedrive is connected", `id="health-pipedrive">Connected`)
	conn, err := e.db.ConnectionByExternalID(context.Background(), qwoty.ProviderPipedrive, strconv.FormatInt(pdtest.DefaultCompanyID, 10))
	if err != nil || conn.InstanceURL != pd.URL || conn.Status != qwoty.ConnectionActive {
		t.Fatalf("pipedrive connection: %+v, %v", conn, err)
	}
	if tok, err := e.db.AccessToken(context.Background(), conn.ID); err != nil || tok == "" {
		t.Fatalf("no access token stored: %v", err)
	}
	b.get(e.url() + "/settings/integrations")
	b.post(e.url()+"/settings/integrations/pipedrive/disconnect", url.Values{"csrf": {b.csrf()}, "confirm": {"disconnect"}}).want(200, "/settings/integrations", "Pipedrive was disconnected")
}

func TestHubSpotQuotePrefilledFromTheDeal(t *testing.T) {
	var hs *hstest.Server
	app := newAppWith(t, "", func(appURL string, d *Deps) {
		hs = hstest.New(t, hstest.Options{App: hstest.App{ClientID: "hs-client", ClientSecret: hsClientSecret, RedirectURLs: []string{appURL + "/oauth/hubspot/callback"}},
			LoginAs: hstest.DefaultAdminID})
		d.Config.HubSpot.ClientID, d.Config.HubSpot.ClientSecret = "hs-client", hsClientSecret
		d.CRMs = testCRMs(d.Config, hubspot.NewAdapter(hubspot.Options{ClientID: "hs-client", ClientSecret: hsClientSecret,
			RedirectURL: appURL + "/oauth/hubspot/callback", AuthURL: hs.URL, APIURL: hs.URL}))
	})
	e := &consoleEnv{testApp: app}
	b := e.setupAdmin(t)
	b.post(e.url()+"/settings/integrations/hubspot/connect", url.Values{"csrf": {b.csrf()}}).
		want(200, "/settings/integrations", "HubSpot is connected", `id="health-hubspot">Connected`)

	ans := do(t, hs.SignedCardRequest(e.url(), hstest.DefaultPortalID, hstest.DefaultRepID, hstest.DefaultDealID)).answer(t)
	_, tok := e.page(ans.EmbedURL)
	r := e.action(http.MethodPost, "/embed/api/quotes", tok, nil)
	if r.status != 201 || !bytes.Contains(r.body, []byte(hubspotDealName)) {
		t.Fatalf("quote not prefilled with the deal's name %q: %d\n%s", hubspotDealName, r.status, r.body)
	}
	if hs.Reads("deals") == 0 {
		t.Fatal("the deal was not read through HubSpot's API")
	}
	// An expired access token is refreshed once, then the deal read again.
	hs.ExpireAccessTokens()
	before := hs.TokenCalls("refresh_token")
	if r := e.action(http.MethodPost, "/embed/api/quotes", tok, nil); r.status != 201 || !bytes.Contains(r.body, []byte(hubspotDealName)) {
		t.Fatalf("after expiry: %d", r.status)
	}
	if n := hs.TokenCalls("refresh_token") - before; n != 1 {
		t.Fatalf("%d refreshes after the token expired, want 1", n)
	}
}

// hubspotDealName is the name hstest gives DefaultDealID.
const hubspotDealName = "Acme - 200 licences"
