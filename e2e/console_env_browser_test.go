//go:build browser

package e2e

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/console"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/server"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// consoleEnv is the console served on a fresh database, its first admin
// signed in through the setup page in a 1280 px browser, and a Salesforce
// org (the emulator) connected through the console's own sign-in: what
// the console's browser tests start from.
type consoleEnv struct {
	db     *store.DB
	emu    *sftest.Server
	appURL string
	conn   *qwoty.Connection
	b      context.Context
	logs   *logs
	t      *testing.T
	name   string // the screenshots' prefix on failure
}

// startConsole starts it; mail receives the console's mail (nil: none sent).
func startConsole(t *testing.T, name string, mail console.Mailer) *consoleEnv {
	t.Helper()
	db := storetest.New(t)
	ln := listen(t)
	appURL := "http://" + ln.Addr().String()
	emu := sftest.New(t, sftest.Options{App: sftest.App{ClientID: "e2e-client", ClientSecret: "e2e-secret",
		CallbackURLs: []string{appURL + salesforce.CallbackPath}}})
	cfg := &config.Config{Env: config.Development, AppURL: appURL, SalesforceLoginURL: emu.URL, SalesforcePackageVersionID: "04t000000000001AAA",
		Salesforce: config.OAuthApp{ClientID: "e2e-client", ClientSecret: "e2e-secret"}}
	kid, key := storetest.Keys(t).TokenKey()
	reg := crms(cfg)
	cards := cardview.NewService(db, reg, cardview.NewTokens(time.Now, cardview.Key{ID: kid, Secret: key}), appURL, time.Now)
	srv := server.New(server.Deps{Config: cfg, DB: db, Cards: cards, CRMs: reg, Logger: slog.New(slog.NewTextHandler(t.Output(), nil)), Mail: mail})
	sctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); srv.Serve(sctx, ln, time.Second) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	token, err := db.NewSetupToken(context.Background(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b, lg := browser(t)
	e := &consoleEnv{db: db, emu: emu, appURL: appURL, b: b, logs: lg, t: t, name: name}
	e.step("setup and connect",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(appURL+"/setup?token="+token),
		chromedp.SendKeys(chromedp.CSS("#workspace"), "Acme"),
		chromedp.SendKeys(chromedp.CSS("#email"), "ada@acme.example"),
		chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#connect-salesforce")),
		chromedp.Click(chromedp.CSS("#connect-salesforce")),
		chromedp.WaitVisible(chromedp.CSS("#connect-org")),
		chromedp.Click(chromedp.CSS("#connect-org")),
		chromedp.WaitVisible(chromedp.CSS("#notice")),
	)
	if e.conn, err = db.ConnectionByExternalID(context.Background(), qwoty.ProviderSalesforce, sftest.DefaultOrgID); err != nil {
		t.Fatal(err)
	}
	return e
}

// step runs steps, bounded in time; on failure it keeps a screenshot and
// stops the test.
func (e *consoleEnv) step(name string, steps ...chromedp.Action[chromedp.Void]) {
	e.t.Helper()
	if err := bounded(e.b, steps...); err != nil {
		screenshot(e.b, e.t, e.name+"-failed-"+strings.ReplaceAll(name, " ", "-"))
		e.t.Fatalf("%s: %v", name, err)
	}
}
