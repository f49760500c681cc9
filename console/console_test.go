package console

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
	"github.com/qwoty/companion/web/webtest"
)

func TestConsoleFirstRunLoginAndRoles(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	anon := webtest.NewBrowser(t)
	anon.Get(e.url()+"/settings/integrations").Want(200, "/login", "no admin yet")
	if ck := anon.Last.Header.Get("Set-Cookie"); ck != "" {
		t.Fatalf("an anonymous visit got a cookie: %s", ck)
	}
	admin := e.setupAdmin(t)

	// The session cookie: HttpOnly, SameSite=Lax.
	u, _ := url.Parse(e.url())
	var session *http.Cookie
	for _, c := range admin.Client.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			session = c
		}
	}
	if session == nil {
		t.Fatal("no session cookie after setup")
	}

	// The setup link works once.
	token, _ := e.db.NewSetupToken(context.Background(), time.Hour)
	webtest.NewBrowser(t).Get(e.url()+"/setup?token="+token).Want(403, "", "setup link is used, expired, or not valid")

	// Add a viewer and a member; they see Integrations but cannot change them.
	for _, r := range []string{"viewer", "member"} {
		webtest.Join(t, e.db, e.url(), r+"@acme.example", qwoty.Role(r))
	}
	for _, r := range []string{"viewer", "member"} {
		b := webtest.NewBrowser(t)
		b.Post(e.url()+"/login", url.Values{"email": {r + "@acme.example"}, "password": {"a long enough password"}}).Want(200, "/settings/integrations", "Ask an admin")
		b.Post(e.url()+"/settings/integrations/salesforce/connect", url.Values{"csrf": {b.CSRF()}, "env": {"production"}}).Want(403, "", "Only admins")
		b.Get(e.url()+"/settings/integrations/salesforce/install").Want(403, "", "Only admins")
		b.Get(e.url()+"/settings/audit").Want(403, "", "Only admins")
	}

	// Wrong password: a clear refusal, no session.
	webtest.NewBrowser(t).Post(e.url()+"/login", url.Values{"email": {adminEmail}, "password": {"wrong password!"}}).Want(401, "/login", "do not match")
	webtest.NewBrowser(t).Post(e.url()+"/login", url.Values{"email": {"nobody@acme.example"}, "password": {"wrong password!"}}).Want(401, "/login", "do not match")
	// Guessing one email from one address is throttled: after 5 failures
	// even the right password waits (console_login_test.go has the rest).
	for range 5 {
		webtest.NewBrowser(t).Post(e.url()+"/login", url.Values{"email": {adminEmail}, "password": {"wrong password!"}})
	}
	slow := webtest.NewBrowser(t).Post(e.url()+"/login", url.Values{"email": {adminEmail}, "password": {adminPassword}})
	slow.Want(429, "/login", "Too many failed attempts for this email from your network")
	if ra := slow.Last.Header.Get("Retry-After"); ra != "1" {
		t.Fatalf("Retry-After = %q, want 1 (second) after the first failure past the free ones", ra)
	}

	// CSRF: a form without the token, or posted from another site, is refused.
	admin.Post(e.url()+"/settings/invitations", url.Values{"email": {"x@acme.example"}, "role": {"viewer"}}).Want(403, "", "csrf_failed")
	req, _ := http.NewRequest(http.MethodPost, e.url()+"/settings/invitations", strings.NewReader(url.Values{"csrf": {admin.CSRF()}, "email": {"y@acme.example"}, "role": {"viewer"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	admin.Do(req).Want(403, "", "csrf_failed")

	// Logout ends the session.
	admin.Get(e.url() + "/settings/integrations")
	admin.Post(e.url()+"/logout", url.Values{"csrf": {admin.CSRF()}}).Want(200, "/login")
	admin.Get(e.url()+"/settings/integrations").Want(200, "/login")
	if _, err := e.db.SessionByToken(context.Background(), session.Value); err == nil {
		t.Fatal("the session still exists after logout")
	}
}

func TestConsoleStateIsBoundToTheSession(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	b := e.setupAdmin(t)
	b.Get(e.url() + "/settings/integrations/salesforce/install")
	// Stop at the emulator's redirect to our callback, and hand that URL to
	// another logged-in admin session.
	b.Client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.Path, salesforceCallback) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	b.Post(e.url()+"/settings/integrations/salesforce/connect", url.Values{"csrf": {b.CSRF()}, "env": {"production"}})
	callback := b.Last.Header.Get("Location")
	if !strings.Contains(callback, "code=") || !strings.Contains(callback, "state=") {
		t.Fatalf("emulator answered %d, Location %q", b.Last.StatusCode, callback)
	}
	other := webtest.NewBrowser(t)
	other.Post(e.url()+"/login", url.Values{"email": {adminEmail}, "password": {adminPassword}}).Want(200, "/settings/integrations")
	other.Get(callback).Want(400, "", "oauth_failed")
	// The right session may still finish it once.
	b.Client.CheckRedirect = nil
	b.Get(callback).Want(200, "/settings/integrations", "Salesforce is connected")
}

func TestConsolePackageNotInstalledShowsStepOne(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	e.emu.SetPackageInstalled(e.org, false)
	b := e.setupAdmin(t)
	e.connect(t, b)
	if b.Last.StatusCode >= 500 || !bytes.Contains(b.Body, []byte(`id="package-missing"`)) {
		t.Fatalf("package missing: %d\n%s", b.Last.StatusCode, b.Body)
	}
}

func TestConsoleSecondCRMNeedsDisconnectFirst(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	b := e.setupAdmin(t)
	// Another CRM is already this workspace's active connection.
	if _, err := e.db.AddConnection(context.Background(), store.AddConnectionParams{Workspace: "Acme", Provider: qwoty.ProviderHubSpot, ExternalID: "12345"}); err != nil {
		t.Fatal(err)
	}
	b.Get(e.url()+"/settings/integrations").Want(200, "", "HubSpot is this workspace's active CRM")
	b.Get(e.url()+"/settings/integrations/salesforce/install").Want(200, "", "disconnect it in Integrations before connecting Salesforce")
	// Disconnecting HubSpot frees the workspace for Salesforce.
	b.Get(e.url() + "/settings/integrations")
	b.Post(e.url()+"/settings/integrations/hubspot/disconnect", url.Values{"csrf": {b.CSRF()}, "confirm": {"disconnect"}}).Want(200, "/settings/integrations", "HubSpot was disconnected")
	e.connect(t, b)
	b.Want(200, "/settings/integrations", "Salesforce is connected")
}

func TestTokenRefreshRacesMakeOneRefresh(t *testing.T) {
	dbURL := ""
	e := newConsoleEnv(t, dbURL, &sftest.Options{TokenDelay: 300 * time.Millisecond})
	b := e.setupAdmin(t)
	e.connect(t, b)
	b.Want(200, "/settings/integrations", "Salesforce is connected")
	conn, _ := e.db.ConnectionByExternalID(context.Background(), qwoty.ProviderSalesforce, e.org)

	// A second instance on the same database.
	var shared string
	storetest.Pool(t, e.db).QueryRow(context.Background(), "SELECT current_database()").Scan(&shared)
	u, _ := url.Parse(storetest.Pool(t, e.db).Config().ConnString())
	u.Path = "/" + shared
	second := newAppWith(t, u.String(), func(appURL string, d *Deps) {
		d.Config.SalesforceLoginURL = e.emu.URL
		d.Config.Salesforce = config.OAuthApp{ClientID: testClientID, ClientSecret: testClientSecret}
	})

	e.emu.ExpireAccessTokens()
	before := e.emu.TokenCalls("refresh_token")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i, con := range []*Console{e.con, e.con, second.con, second.con} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, _ := con.crms.Get(qwoty.ProviderSalesforce)
			errs[i] = con.sessionOfConn(a, conn).Call(context.Background(), func(ctx context.Context, token string) error {
				_, err := (&salesforce.Client{InstanceURL: conn.InstanceURL, AccessToken: token}).GetConfig(ctx)
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
	b.Get(e.url() + "/settings/integrations")
	b.Post(e.url()+"/settings/integrations/salesforce/test", url.Values{"csrf": {b.CSRF()}}).Want(200, "", `data-ok="false"`, "Reconnect the org")
	got, _ := e.db.ConnectionByID(context.Background(), conn.ID)
	if got.Status != qwoty.ConnectionError || got.Health() != qwoty.HealthError {
		t.Fatalf("after invalid_grant: status %s health %s", got.Status, got.Health())
	}
	b.Get(e.url()+"/settings/audit").Want(200, "", `data-action="connection.token_refresh_failed"`)
}

func TestConsoleConnectsPipedriveWithOAuth(t *testing.T) {
	var pd *pdtest.Server
	app := newAppWith(t, "", func(appURL string, d *Deps) {
		pd = pdtest.New(t, pdtest.Options{App: pdtest.App{ClientID: "pd-client", ClientSecret: "pd-secret", CallbackURL: appURL + "/oauth/pipedrive/callback"}})
		d.CRMs = CRMsFor(d.Config, pipedrive.NewAdapter(pipedrive.Options{ClientID: "pd-client", ClientSecret: "pd-secret",
			RedirectURL: appURL + "/oauth/pipedrive/callback", OAuthURL: pd.URL}))
	})
	e := &consoleEnv{testApp: app}
	b := e.setupAdmin(t)
	b.Want(200, "/settings/integrations", `id="connect-pipedrive"`)
	if csp := b.Last.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+pd.URL) {
		t.Fatalf("integrations CSP %q does not let the connect form reach Pipedrive", csp)
	}
	b.Post(e.url()+"/settings/integrations/pipedrive/connect", url.Values{"csrf": {b.CSRF()}}).
		Want(200, "/settings/integrations", "Pipedrive is connected", `id="health-pipedrive">Connected`)
	conn, err := e.db.ConnectionByExternalID(context.Background(), qwoty.ProviderPipedrive, strconv.FormatInt(pdtest.DefaultCompanyID, 10))
	if err != nil || conn.InstanceURL != pd.URL || conn.Status != qwoty.ConnectionActive {
		t.Fatalf("pipedrive connection: %+v, %v", conn, err)
	}
	if tok, err := e.db.AccessToken(context.Background(), conn.ID); err != nil || tok == "" {
		t.Fatalf("no access token stored: %v", err)
	}
	// Test connection runs for every CRM, through its adapter; the outcome
	// is recorded on the connection and in the audit log.
	b.Post(e.url()+"/settings/integrations/pipedrive/test", url.Values{"csrf": {b.CSRF()}}).
		Want(200, "/settings/integrations/pipedrive/test", `data-ok="true"`, "Test passed: cards in this company can open")
	if got, _ := e.db.ConnectionByID(context.Background(), conn.ID); got.LastCheckedAt.IsZero() || got.LastErrorCode != "" {
		t.Fatalf("after a passed test: checked %v, last error %q", got.LastCheckedAt, got.LastErrorCode)
	}
	b.Get(e.url()+"/settings/audit").Want(200, "", "Connection tested: passed")

	// Pipedrive's API tells neither the plan nor the seats, which set the
	// daily token budget: the admin says them in the sync settings, checked,
	// and the sync's daily bucket follows.
	settings := e.url() + "/settings/integrations/pipedrive/sync-settings"
	b.Get(settings).Want(200, "", `id="account-plan"`, "Growth (60,000 tokens a day per seat)")
	form := func(plan, seats string) url.Values {
		return url.Values{"csrf": {b.CSRF()}, "trigger": {"status"}, "coalesce": {"5"}, "share": {"50"}, "plan": {plan}, "seats": {seats}}
	}
	b.Post(settings, form("platinum", "5")).Want(http.StatusUnprocessableEntity, "", "pick a plan from the list")
	b.Post(settings, form("growth", "0")).Want(http.StatusUnprocessableEntity, "", "the seats must be a whole number")
	b.Post(settings, form("growth", "5")).Want(200, "/settings/integrations")
	got, _ := e.db.ConnectionByID(context.Background(), conn.ID)
	a, _ := e.con.crms.Get(qwoty.ProviderPipedrive)
	daily := 0.0
	for _, k := range a.Sync().Buckets(got, 0.5) {
		if k.Name == "daily" {
			daily = k.Capacity
		}
	}
	if got.Plan != "growth" || got.Seats != 5 || daily != 0.5*30000*2*5 {
		t.Fatalf("after saying Growth × 5: plan %q seats %d, daily bucket %v", got.Plan, got.Seats, daily)
	}
	b.Get(settings).Want(200, "", `<option value="growth" selected>`, `value="5"`)

	// Pipedrive holds no secret to rotate, nor anything to install first.
	b.Get(e.url()+"/settings/integrations").Want(200, "", `id="test-connection"`, `id="disconnect"`)
	if bytes.Contains(b.Body, []byte(`id="rotate-secret"`)) || bytes.Contains(b.Body, []byte(`id="reconnect"`)) {
		t.Fatal("Pipedrive's card offers Rotate secret or Reconnect")
	}
	b.Post(e.url()+"/settings/integrations/pipedrive/rotate", url.Values{"csrf": {b.CSRF()}}).Want(404, "", "not_found")
	b.Get(e.url()+"/settings/integrations/pipedrive/install").Want(404, "", "not_found")
	b.Get(e.url() + "/settings/integrations")
	b.Post(e.url()+"/settings/integrations/pipedrive/disconnect", url.Values{"csrf": {b.CSRF()}, "confirm": {"disconnect"}}).Want(200, "/settings/integrations", "Pipedrive was disconnected")
}

// A CRM this server does not know has no routes: each answers 404, the
// URL nothing answers.
func TestUnknownCRMIsNotFound(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	b := e.setupAdmin(t)
	csrf := b.CSRF()
	b.Post(e.url()+"/settings/integrations/nocrm/connect", url.Values{"csrf": {csrf}}).Want(404, "", "not_found")
	b.Get(e.url()+"/settings/integrations/nocrm/disconnect").Want(404, "", "not_found")
	b.Get(e.url()+"/oauth/nocrm/callback?code=x&state=y").Want(404, "", "not_found")
	webtest.NewBrowser(t).Get(e.url()+"/settings/integrations/nocrm/install").Want(404, "", "not_found")
}
