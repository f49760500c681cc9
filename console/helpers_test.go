package console

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/crms"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
	"github.com/qwoty/companion/web"
	"github.com/qwoty/companion/web/webtest"
)

// The console's own tests run it alone (testApp): the engine every surface
// runs, with the console's routes only. Tests that need the card or the
// CRM endpoints too (a Test connection whose org calls this server back)
// run the whole server (app_test.go).

const (
	testClientID     = "qwoty-console-test"
	testClientSecret = "console-test-secret"
	adminEmail       = webtest.AdminEmail
	adminPassword    = webtest.AdminPassword
	// salesforceCallback is the Salesforce app's registered redirect path.
	salesforceCallback = "/oauth/salesforce/callback"
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

// testApp is one console instance on a real database.
type testApp struct {
	t     testing.TB
	db    *store.DB
	con   *Console
	http  *httptest.Server
	clock *clock
}

// newApp starts an instance on the database at dbURL ("" for a fresh one).
func newApp(t *testing.T, dbURL string) *testApp { return newAppWith(t, dbURL, nil) }

// newAppWith is newApp with the console's dependencies adjusted before it
// starts (its URL is known by then).
func newAppWith(t *testing.T, dbURL string, adjust func(appURL string, d *Deps)) *testApp {
	t.Helper()
	if dbURL == "" {
		dbURL = storetest.NewDatabase(t)
	}
	clk := &clock{t: time.Now()}
	db := storetest.Open(t, dbURL, store.Options{Now: clk.Now})
	a := &testApp{t: t, db: db, clock: clk}
	a.http = httptest.NewUnstartedServer(nil)
	appURL := "http://" + a.http.Listener.Addr().String()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if tt, ok := any(t).(*testing.T); ok {
		log = slog.New(slog.NewTextHandler(tt.Output(), nil)) // shown only when the test fails
	}
	deps := Deps{Config: &config.Config{Env: config.Production, AppURL: appURL}, DB: db, Now: clk.Now, Logger: log}
	if adjust != nil {
		adjust(appURL, &deps)
	}
	if deps.CRMs == nil {
		deps.CRMs = CRMsFor(deps.Config)
	}
	a.con = New(deps)
	errs := web.NewErrors(log, db.Unavailable)
	engine := web.NewEngine(log, errs, web.API, deps.Config.TrustedProxies)
	a.con.Register(engine)
	a.http.Config.Handler = engine
	a.http.Start()
	t.Cleanup(a.http.Close)
	return a
}

func (a *testApp) url() string { return a.http.URL }

// consoleEnv is a console whose Salesforce is the emulator.
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
		opts.App = sftest.App{ClientID: testClientID, ClientSecret: testClientSecret, CallbackURLs: []string{appURL + salesforceCallback}}
		emu = sftest.New(t, opts)
		d.Config.SalesforceLoginURL = emu.URL
		d.Config.SalesforcePackageVersionID = "04t000000000001AAA"
		d.Config.Salesforce = config.OAuthApp{ClientID: testClientID, ClientSecret: testClientSecret}
	})
	return &consoleEnv{testApp: app, emu: emu, org: sftest.DefaultOrgID}
}

// setupAdmin walks the first-run link and returns the admin's browser.
func (a *testApp) setupAdmin(t *testing.T) *webtest.Browser {
	t.Helper()
	return webtest.SetupAdmin(t, a.db, a.url())
}

// connect connects the emulator's org from the install page.
func (e *consoleEnv) connect(t *testing.T, b *webtest.Browser) {
	t.Helper()
	b.Get(e.url()+"/settings/integrations/salesforce/install").Want(200, "", "Step 1", "Step 2", "installPackage.apexp?p0=04t000000000001AAA")
	b.Post(e.url()+"/settings/integrations/salesforce/connect", url.Values{"csrf": {b.CSRF()}, "env": {"production"}})
}

// CRMsFor registers the CRMs as `qwoty serve` does (crms.Registry).
func CRMsFor(cfg *config.Config, replace ...crm.Adapter) *crm.Registry {
	return crms.Registry(cfg, replace...)
}

// response is an answer as a test reads it.
type response struct {
	status int
	header http.Header
	body   []byte
}
