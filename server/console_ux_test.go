package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// mainText is a page without its <details> disclosures and attributes: what
// an admin reads without opening anything.
func mainText(b []byte) string {
	s := regexp.MustCompile(`(?s)<details.*?</details>`).ReplaceAllString(string(b), "")
	return regexp.MustCompile(`<[^>]*>`).ReplaceAllString(s, " ")
}

func TestConsoleWayInFromHomeAndConsolePath(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	b := newBrowser(t)
	b.get(e.url()+"/").want(200, "/", `href="/console"`)
	if bytes.Contains(b.body, []byte(`id="setup-link"`)) {
		t.Fatal("production home page shows a setup link; it must stay in the server's log")
	}
	// /console is the console's door, not a JSON 404.
	b.get(e.url()+"/console").want(200, "/login", "Log in to Qwoty")
	// In production /setup without the logged token is refused.
	newBrowser(t).get(e.url()+"/setup").want(403, "", "setup link is used, expired, or not valid")
	admin := e.setupAdmin(t)
	admin.get(e.url()+"/console").want(200, "/settings/integrations", "<h1>Integrations</h1>")
}

func TestDevelopmentHomeLeadsToSetupWhileNoAdmin(t *testing.T) {
	app := newAppWith(t, "", func(appURL string, d *Deps) { d.Config.Env = config.Development })
	b := newBrowser(t)
	b.get(app.url()+"/").want(200, "/", `id="setup-link"`, `href="/setup"`)
	b.get(app.url()+"/login").want(200, "/login", `id="setup-link"`)
	b.get(app.url()+"/setup").want(200, "/setup", "Create the first admin")
	token := b.last.Request.URL.Query().Get("token")
	b.post(app.url()+"/setup", url.Values{"token": {token}, "workspace": {"Acme"}, "email": {adminEmail}, "password": {adminPassword}}).
		want(200, "/settings/integrations")
	// Once an admin exists the link is gone and /setup makes no new one.
	anon := newBrowser(t)
	anon.get(app.url()+"/").want(200, "/", `id="open-console"`)
	if bytes.Contains(anon.body, []byte(`id="setup-link"`)) {
		t.Fatal("the home page still offers setup after an admin exists")
	}
	anon.get(app.url()+"/setup").want(403, "")
}

func TestTestConnectionExplainsAnUnreachableOrgInPlainWords(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	b := e.setupAdmin(t)
	e.connect(t, b)
	// The org's address now answers nothing: Salesforce is never reached.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	if _, err := storetest.Pool(t, e.db).Exec(context.Background(), `UPDATE connections SET instance_url = $1`, dead); err != nil {
		t.Fatal(err)
	}
	b.get(e.url() + "/settings/integrations")
	b.post(e.url()+"/settings/integrations/salesforce/test", url.Values{"csrf": {b.csrf()}}).
		want(200, "", `data-ok="false"`, "Qwoty could not reach your org at "+strings.TrimPrefix(dead, "http://"), "What to do:", "<summary>Technical detail</summary>")
	text := mainText(b.body)
	for _, bad := range []string{"Salesforce answered", "dial tcp", "connection refused"} {
		if strings.Contains(text, bad) {
			t.Errorf("the report's main text says %q; the raw error belongs in the disclosure", bad)
		}
	}
	if !bytes.Contains(b.body, []byte("connection refused")) {
		t.Error("the technical detail (the raw error) is missing from the disclosure")
	}
	// The fix is not the error said again.
	fix := regexp.MustCompile(`What to do:</strong> ([^<]*)<`).FindSubmatch(b.body)
	if fix == nil || bytes.Contains(fix[1], []byte("could not reach")) {
		t.Fatalf("fix = %q, want advice rather than the error again", fix)
	}
	// The card's last error is plain too.
	b.get(e.url() + "/settings/integrations")
	if txt := mainText(b.body); strings.Contains(txt, "dial tcp") || !strings.Contains(txt, "could not reach your org") {
		t.Fatalf("the card's last error is not in plain words:\n%s", txt)
	}
}

func TestTestConnectionSaysWhichSecretToRotate(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	b := e.setupAdmin(t)
	e.connect(t, b)
	// Someone re-keys the connection from the command line: the org still
	// holds the old secret, so this server refuses its signature.
	if _, err := e.db.AddConnection(context.Background(), store.AddConnectionParams{Provider: qwoty.ProviderSalesforce, ExternalID: e.org, MyDomain: "acme", InstanceURL: e.emu.URL}); err != nil {
		t.Fatal(err)
	}
	b.get(e.url() + "/settings/integrations")
	b.post(e.url()+"/settings/integrations/salesforce/test", url.Values{"csrf": {b.csrf()}}).
		want(200, "", `data-ok="false"`, "This server refused the org&#39;s signature", "Rotate the secret", "signature_invalid")
	if strings.Contains(mainText(b.body), "signature_invalid") {
		t.Error("the error code shows in the main text; it belongs in the technical detail")
	}
	// Rotating, as the report says, makes the test pass.
	b.post(e.url()+"/settings/integrations/salesforce/rotate", url.Values{"csrf": {b.csrf()}}).want(200, "/settings/integrations")
	b.post(e.url()+"/settings/integrations/salesforce/test", url.Values{"csrf": {b.csrf()}}).want(200, "", `data-ok="true"`)
}

func TestDisconnectAsksForConfirmationFirst(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	b := e.setupAdmin(t)
	e.connect(t, b)
	b.get(e.url()+"/settings/integrations").want(200, "", `href="/settings/integrations/salesforce/disconnect"`)
	// A post without the confirmation stops nothing and asks.
	b.post(e.url()+"/settings/integrations/salesforce/disconnect", url.Values{"csrf": {b.csrf()}}).
		want(200, "/settings/integrations/salesforce/disconnect", "Disconnect Salesforce?", "What stops", "stop opening", "What is kept", "brings them back", e.org)
	if c, _ := e.db.ConnectionByExternalID(context.Background(), qwoty.ProviderSalesforce, e.org); c.Status != qwoty.ConnectionActive {
		t.Fatalf("status %s after an unconfirmed post, want active", c.Status)
	}
	if regexp.MustCompile(`<script(\s[^>]*)?>[^<]`).Match(b.body) {
		t.Fatal("the confirmation page has an inline script, which the console's CSP forbids")
	}
	b.post(e.url()+"/settings/integrations/salesforce/disconnect", url.Values{"csrf": {b.csrf()}, "confirm": {"disconnect"}}).
		want(200, "/settings/integrations", "Salesforce was disconnected")
	if c, _ := e.db.ConnectionByExternalID(context.Background(), qwoty.ProviderSalesforce, e.org); c.Status != qwoty.ConnectionDisconnected {
		t.Fatalf("status %s after confirming, want disconnected", c.Status)
	}
}

func TestMemberMayTestViewerMayNotAndTheirRolesReadDifferently(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	admin := e.setupAdmin(t)
	e.connect(t, admin)
	admin.get(e.url() + "/settings/users")
	opts := regexp.MustCompile(`<option value="(member|viewer)">([^<]*)</option>`).FindAllSubmatch(admin.body, -1)
	if len(opts) != 2 || bytes.Equal(opts[0][2][len(opts[0][1]):], opts[1][2][len(opts[1][1]):]) {
		t.Fatalf("member and viewer options %q: want two different descriptions", opts)
	}
	for _, r := range []string{"viewer", "member"} {
		admin.post(e.url()+"/settings/users", url.Values{"csrf": {admin.csrf()}, "email": {r + "@acme.example"}, "role": {r}, "password": {"a long enough password"}}).want(200, "/settings/users")
	}
	member := newBrowser(t)
	member.post(e.url()+"/login", url.Values{"email": {"member@acme.example"}, "password": {"a long enough password"}}).want(200, "/settings/integrations", `id="test-connection"`)
	if bytes.Contains(member.body, []byte(`id="rotate-secret"`)) || bytes.Contains(member.body, []byte(`id="disconnect"`)) {
		t.Fatal("a member is offered Rotate or Disconnect")
	}
	member.post(e.url()+"/settings/integrations/salesforce/test", url.Values{"csrf": {member.csrf()}}).want(200, "", `data-ok="true"`)
	member.post(e.url()+"/settings/integrations/salesforce/rotate", url.Values{"csrf": {member.csrf()}}).want(403, "")
	viewer := newBrowser(t)
	viewer.post(e.url()+"/login", url.Values{"email": {"viewer@acme.example"}, "password": {"a long enough password"}}).want(200, "/settings/integrations")
	if bytes.Contains(viewer.body, []byte(`id="test-connection"`)) {
		t.Fatal("a viewer is offered Test connection")
	}
	viewer.post(e.url()+"/settings/integrations/salesforce/test", url.Values{"csrf": {viewer.csrf()}}).want(403, "")
}

func TestAuditLogIsWrittenForPeople(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	b := e.setupAdmin(t)
	e.connect(t, b)
	b.post(e.url()+"/settings/integrations/salesforce/test", url.Values{"csrf": {b.csrf()}})
	b.get(e.url()+"/settings/audit").want(200, "", "Connection tested: passed", "Secret and app URL written into the org: passed", "Salesforce org "+e.org+" connected as admin@acme.example")
	text := mainText(b.body)
	for _, raw := range []string{"config_written", "connection.tested", "ok: true", "externalId"} {
		if strings.Contains(text, raw) {
			t.Errorf("the audit log shows %q", raw)
		}
	}
}

func TestConnectedDateDoesNotBreak(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	b := e.setupAdmin(t)
	e.connect(t, b)
	if !regexp.MustCompile(`<span class="nowrap">\d{4}-\d\d-\d\d \d\d:\d\d UTC</span>`).Match(b.body) {
		t.Fatalf("the Connected date is not kept on one line:\n%s", b.body)
	}
}

// In development the admin who finishes setup gets the playground's org:
// what the console does to it is what the playground's card meets.
func TestDevelopmentSetupAdoptsThePlaygroundsOrg(t *testing.T) {
	var emu *sftest.Server
	app := newAppWith(t, "", func(appURL string, d *Deps) {
		d.Config.Env = config.Development
		d.Config.PlaygroundPort = 1 // only its origin is used here
		emu = sftest.New(t, sftest.Options{App: sftest.App{ClientID: testClientID, ClientSecret: testClientSecret, CallbackURLs: []string{appURL + SalesforceCallbackPath}},
			Orgs: []sftest.Org{{ID: DevOrgID, MyDomain: devMyDomain, Users: []sftest.User{{ID: sftest.DefaultAdminID, Username: "admin@qwoty-dev.example", Admin: true}}}}})
		d.Config.SalesforceLoginURL = emu.URL
		d.Config.Salesforce = config.OAuthApp{ClientID: testClientID, ClientSecret: testClientSecret}
	})
	dev, err := EnsureDevConnection(context.Background(), app.db, app.srv.cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.get(app.url() + "/setup")
	b.post(app.url()+"/setup", url.Values{"token": {b.last.Request.URL.Query().Get("token")}, "workspace": {"Acme"}, "email": {adminEmail}, "password": {adminPassword}}).
		want(200, "/settings/integrations", DevOrgID, "Acme")
	// Connecting through the emulator takes over the playground's connection.
	b.get(app.url() + "/settings/integrations/salesforce/install")
	b.post(app.url()+"/settings/integrations/salesforce/connect", url.Values{"csrf": {b.csrf()}, "env": {"production"}}).
		want(200, "/settings/integrations", "Salesforce is connected")
	conn, _ := app.db.ConnectionByExternalID(context.Background(), qwoty.ProviderSalesforce, DevOrgID)
	if conn.ID != dev.ID {
		t.Fatalf("the console connected %s, want the playground's connection %s", conn.ID, dev.ID)
	}
	pg := httptest.NewServer(NewPlayground(app.url(), app.db, slog.New(slog.NewTextHandler(io.Discard, nil))).Handler())
	t.Cleanup(pg.Close)
	playground := func() string {
		resp, err := http.Get(pg.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return string(raw)
	}
	if p := playground(); !strings.Contains(p, "/embed/salesforce/card") {
		t.Fatalf("the playground's card does not open after connecting:\n%s", p)
	}
	b.post(app.url()+"/settings/integrations/salesforce/disconnect", url.Values{"csrf": {b.csrf()}, "confirm": {"disconnect"}}).want(200, "/settings/integrations")
	if p := playground(); !strings.Contains(p, string(qwoty.CodeOrgDisconnected)) {
		t.Fatalf("after Disconnect in the console the playground still opens its card:\n%s", p)
	}
	// A restart leaves the admin's decision alone.
	if again, err := EnsureDevConnection(context.Background(), app.db, app.srv.cfg); err != nil || again.Status != qwoty.ConnectionDisconnected {
		t.Fatalf("restart: %v, status %v; want the connection left disconnected", err, again)
	}
}
