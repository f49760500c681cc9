package console_test

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
	"github.com/qwoty/companion/playground"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/server"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
	"github.com/qwoty/companion/web/webtest"
)

// mainText is a page without its <details> disclosures and attributes: what
// an admin reads without opening anything.
func mainText(b []byte) string {
	s := regexp.MustCompile(`(?s)<details.*?</details>`).ReplaceAllString(string(b), "")
	return regexp.MustCompile(`<[^>]*>`).ReplaceAllString(s, " ")
}

func TestConsoleWayInFromHomeAndConsolePath(t *testing.T) {
	e := newAppEnv(t, nil, nil)
	b := webtest.NewBrowser(t)
	b.Get(e.url()+"/").Want(200, "/", `href="/console"`)
	if bytes.Contains(b.Body, []byte(`id="setup-link"`)) {
		t.Fatal("production home page shows a setup link; it must stay in the server's log")
	}
	// /console is the console's door, not a JSON 404.
	b.Get(e.url()+"/console").Want(200, "/login", "Log in to Qwoty")
	// In production /setup without the logged token is refused.
	webtest.NewBrowser(t).Get(e.url()+"/setup").Want(403, "", "setup link is used, expired, or not valid")
	admin := e.setupAdmin(t)
	admin.Get(e.url()+"/console").Want(200, "/settings/integrations", "<h1>Integrations</h1>")
}

func TestDevelopmentHomeLeadsToSetupWhileNoAdmin(t *testing.T) {
	app := newAppEnv(t, nil, func(_ string, d *server.Deps) { d.Config.Env = config.Development })
	b := webtest.NewBrowser(t)
	b.Get(app.url()+"/").Want(200, "/", `id="setup-link"`, `href="/setup"`)
	b.Get(app.url()+"/login").Want(200, "/login", `id="setup-link"`)
	b.Get(app.url()+"/setup").Want(200, "/setup", "Create the first admin")
	token := b.Last.Request.URL.Query().Get("token")
	b.Post(app.url()+"/setup", url.Values{"token": {token}, "workspace": {"Acme"}, "email": {adminEmail}, "password": {adminPassword}}).
		Want(200, "/settings/integrations")
	// Once an admin exists the link is gone and /setup makes no new one.
	anon := webtest.NewBrowser(t)
	anon.Get(app.url()+"/").Want(200, "/", `id="open-console"`)
	if bytes.Contains(anon.Body, []byte(`id="setup-link"`)) {
		t.Fatal("the home page still offers setup after an admin exists")
	}
	anon.Get(app.url()+"/setup").Want(403, "")
}

func TestTestConnectionExplainsAnUnreachableOrgInPlainWords(t *testing.T) {
	e := newAppEnv(t, nil, nil)
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
	b.Get(e.url() + "/settings/integrations")
	b.Post(e.url()+"/settings/integrations/salesforce/test", url.Values{"csrf": {b.CSRF()}}).
		Want(200, "", `data-ok="false"`, "Qwoty could not reach your org at "+strings.TrimPrefix(dead, "http://"), "What to do:", "<summary>Technical detail</summary>")
	text := mainText(b.Body)
	for _, bad := range []string{"Salesforce answered", "dial tcp", "connection refused"} {
		if strings.Contains(text, bad) {
			t.Errorf("the report's main text says %q; the raw error belongs in the disclosure", bad)
		}
	}
	if !bytes.Contains(b.Body, []byte("connection refused")) {
		t.Error("the technical detail (the raw error) is missing from the disclosure")
	}
	// The fix is not the error said again.
	fix := regexp.MustCompile(`What to do:</strong> ([^<]*)<`).FindSubmatch(b.Body)
	if fix == nil || bytes.Contains(fix[1], []byte("could not reach")) {
		t.Fatalf("fix = %q, want advice rather than the error again", fix)
	}
	// The card's last error is plain too.
	b.Get(e.url() + "/settings/integrations")
	if txt := mainText(b.Body); strings.Contains(txt, "dial tcp") || !strings.Contains(txt, "could not reach your org") {
		t.Fatalf("the card's last error is not in plain words:\n%s", txt)
	}
}

func TestTestConnectionSaysWhichSecretToRotate(t *testing.T) {
	e := newAppEnv(t, nil, nil)
	b := e.setupAdmin(t)
	e.connect(t, b)
	// Someone re-keys the connection from the command line: the org still
	// holds the old secret, so this server refuses its signature.
	if _, err := e.db.AddConnection(context.Background(), store.AddConnectionParams{Provider: qwoty.ProviderSalesforce, ExternalID: e.org, MyDomain: "acme", InstanceURL: e.emu.URL}); err != nil {
		t.Fatal(err)
	}
	b.Get(e.url() + "/settings/integrations")
	b.Post(e.url()+"/settings/integrations/salesforce/test", url.Values{"csrf": {b.CSRF()}}).
		Want(200, "", `data-ok="false"`, "This server refused the org&#39;s signature", "Rotate the secret", "signature_invalid")
	if strings.Contains(mainText(b.Body), "signature_invalid") {
		t.Error("the error code shows in the main text; it belongs in the technical detail")
	}
	// Rotating, as the report says, makes the test pass.
	b.Post(e.url()+"/settings/integrations/salesforce/rotate", url.Values{"csrf": {b.CSRF()}}).Want(200, "/settings/integrations")
	b.Post(e.url()+"/settings/integrations/salesforce/test", url.Values{"csrf": {b.CSRF()}}).Want(200, "", `data-ok="true"`)
}

func TestDisconnectAsksForConfirmationFirst(t *testing.T) {
	e := newAppEnv(t, nil, nil)
	b := e.setupAdmin(t)
	e.connect(t, b)
	b.Get(e.url()+"/settings/integrations").Want(200, "", `href="/settings/integrations/salesforce/disconnect"`)
	// A post without the confirmation stops nothing and asks.
	b.Post(e.url()+"/settings/integrations/salesforce/disconnect", url.Values{"csrf": {b.CSRF()}}).
		Want(200, "/settings/integrations/salesforce/disconnect", "Disconnect Salesforce?", "What stops", "stop opening", "What is kept", "brings them back", e.org)
	if c, _ := e.db.ConnectionByExternalID(context.Background(), qwoty.ProviderSalesforce, e.org); c.Status != qwoty.ConnectionActive {
		t.Fatalf("status %s after an unconfirmed post, want active", c.Status)
	}
	if regexp.MustCompile(`<script(\s[^>]*)?>[^<]`).Match(b.Body) {
		t.Fatal("the confirmation page has an inline script, which the console's CSP forbids")
	}
	b.Post(e.url()+"/settings/integrations/salesforce/disconnect", url.Values{"csrf": {b.CSRF()}, "confirm": {"disconnect"}}).
		Want(200, "/settings/integrations", "Salesforce was disconnected")
	if c, _ := e.db.ConnectionByExternalID(context.Background(), qwoty.ProviderSalesforce, e.org); c.Status != qwoty.ConnectionDisconnected {
		t.Fatalf("status %s after confirming, want disconnected", c.Status)
	}
}

func TestMemberMayTestViewerMayNotAndTheirRolesReadDifferently(t *testing.T) {
	e := newAppEnv(t, nil, nil)
	admin := e.setupAdmin(t)
	e.connect(t, admin)
	admin.Get(e.url() + "/settings/users")
	opts := regexp.MustCompile(`<option value="(member|viewer)">([^<]*)</option>`).FindAllSubmatch(admin.Body, -1)
	if len(opts) != 2 || bytes.Equal(opts[0][2][len(opts[0][1]):], opts[1][2][len(opts[1][1]):]) {
		t.Fatalf("member and viewer options %q: want two different descriptions", opts)
	}
	for _, r := range []string{"viewer", "member"} {
		webtest.Join(t, e.db, e.url(), r+"@acme.example", qwoty.Role(r))
	}
	member := webtest.NewBrowser(t)
	member.Post(e.url()+"/login", url.Values{"email": {"member@acme.example"}, "password": {"a long enough password"}}).Want(200, "/settings/integrations", `id="test-connection"`)
	if bytes.Contains(member.Body, []byte(`id="rotate-secret"`)) || bytes.Contains(member.Body, []byte(`id="disconnect"`)) {
		t.Fatal("a member is offered Rotate or Disconnect")
	}
	member.Post(e.url()+"/settings/integrations/salesforce/test", url.Values{"csrf": {member.CSRF()}}).Want(200, "", `data-ok="true"`)
	member.Post(e.url()+"/settings/integrations/salesforce/rotate", url.Values{"csrf": {member.CSRF()}}).Want(403, "")
	viewer := webtest.NewBrowser(t)
	viewer.Post(e.url()+"/login", url.Values{"email": {"viewer@acme.example"}, "password": {"a long enough password"}}).Want(200, "/settings/integrations")
	if bytes.Contains(viewer.Body, []byte(`id="test-connection"`)) {
		t.Fatal("a viewer is offered Test connection")
	}
	viewer.Post(e.url()+"/settings/integrations/salesforce/test", url.Values{"csrf": {viewer.CSRF()}}).Want(403, "")
}

func TestAuditLogIsWrittenForPeople(t *testing.T) {
	e := newAppEnv(t, nil, nil)
	b := e.setupAdmin(t)
	e.connect(t, b)
	b.Post(e.url()+"/settings/integrations/salesforce/test", url.Values{"csrf": {b.CSRF()}})
	b.Get(e.url()+"/settings/audit").Want(200, "", "Connection tested: passed", "Secret and app URL written into the org: passed", "Salesforce org "+e.org+" connected as admin@acme.example")
	text := mainText(b.Body)
	for _, raw := range []string{"config_written", "connection.tested", "ok: true", "externalId"} {
		if strings.Contains(text, raw) {
			t.Errorf("the audit log shows %q", raw)
		}
	}
}

func TestConnectedDateDoesNotBreak(t *testing.T) {
	e := newAppEnv(t, nil, nil)
	b := e.setupAdmin(t)
	e.connect(t, b)
	if !regexp.MustCompile(`<span class="nowrap">\d{4}-\d\d-\d\d \d\d:\d\d UTC</span>`).Match(b.Body) {
		t.Fatalf("the Connected date is not kept on one line:\n%s", b.Body)
	}
}

// In development the admin who finishes setup gets the playground's org:
// what the console does to it is what the playground's card meets.
func TestDevelopmentSetupAdoptsThePlaygroundsOrg(t *testing.T) {
	devOrg := sftest.Org{ID: playground.DevOrgID, MyDomain: playground.DevMyDomain, Users: []sftest.User{{ID: sftest.DefaultAdminID, Username: "admin@qwoty-dev.example", Admin: true}}}
	app := newAppEnv(t, &sftest.Options{Orgs: []sftest.Org{devOrg}}, func(_ string, d *server.Deps) {
		d.Config.Env = config.Development
		d.Config.PlaygroundPort = 1 // only its origin is used here
	})
	dev, err := playground.EnsureDevConnection(context.Background(), app.db, app.cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := webtest.NewBrowser(t)
	b.Get(app.url() + "/setup")
	b.Post(app.url()+"/setup", url.Values{"token": {b.Last.Request.URL.Query().Get("token")}, "workspace": {"Acme"}, "email": {adminEmail}, "password": {adminPassword}}).
		Want(200, "/settings/integrations", playground.DevOrgID, "Acme")
	// Connecting through the emulator takes over the playground's connection.
	b.Get(app.url() + "/settings/integrations/salesforce/install")
	b.Post(app.url()+"/settings/integrations/salesforce/connect", url.Values{"csrf": {b.CSRF()}, "env": {"production"}}).
		Want(200, "/settings/integrations", "Salesforce is connected")
	conn, _ := app.db.ConnectionByExternalID(context.Background(), qwoty.ProviderSalesforce, playground.DevOrgID)
	if conn.ID != dev.ID {
		t.Fatalf("the console connected %s, want the playground's connection %s", conn.ID, dev.ID)
	}
	pg := httptest.NewServer(playground.New(app.url(), app.db, slog.New(slog.NewTextHandler(io.Discard, nil))).Handler())
	t.Cleanup(pg.Close)
	hostPage := func() string {
		resp, err := http.Get(pg.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return string(raw)
	}
	if p := hostPage(); !strings.Contains(p, "/embed/salesforce/card") {
		t.Fatalf("the playground's card does not open after connecting:\n%s", p)
	}
	b.Post(app.url()+"/settings/integrations/salesforce/disconnect", url.Values{"csrf": {b.CSRF()}, "confirm": {"disconnect"}}).Want(200, "/settings/integrations")
	if p := hostPage(); !strings.Contains(p, string(qwoty.CodeOrgDisconnected)) {
		t.Fatalf("after Disconnect in the console the playground still opens its card:\n%s", p)
	}
	// A restart leaves the admin's decision alone.
	if again, err := playground.EnsureDevConnection(context.Background(), app.db, app.cfg); err != nil || again.Status != qwoty.ConnectionDisconnected {
		t.Fatalf("restart: %v, status %v; want the connection left disconnected", err, again)
	}
}
