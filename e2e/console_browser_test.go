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
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/server"
	"github.com/qwoty/companion/store/storetest"
)

// TestConsoleConnectTestDisconnect is an admin's first hour, in Chromium:
// the setup link, Integrations, Connect against the Salesforce emulator (the
// OAuth redirects run in the browser), Test connection, Disconnect.
func TestConsoleConnectTestDisconnect(t *testing.T) {
	db := storetest.New(t)
	ln := listen(t)
	appURL := "http://" + ln.Addr().String()
	emu := sftest.New(t, sftest.Options{App: sftest.App{ClientID: "e2e-client", ClientSecret: "e2e-secret",
		CallbackURLs: []string{appURL + salesforce.CallbackPath}}})
	cfg := &config.Config{Env: config.Development, AppURL: appURL, SalesforceLoginURL: emu.URL, SalesforcePackageVersionID: "04t000000000001AAA",
		Salesforce: config.OAuthApp{ClientID: "e2e-client", ClientSecret: "e2e-secret"}}
	keys := storetest.Keys(t)
	kid, key := keys.TokenKey()
	reg := crms(cfg)
	cards := cardview.NewService(db, reg, cardview.NewTokens(time.Now, cardview.Key{ID: kid, Secret: key}), appURL, time.Now)
	srv := server.New(server.Deps{Config: cfg, DB: db, Cards: cards, CRMs: reg, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); srv.Serve(ctx, ln, time.Second) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	token, err := db.NewSetupToken(context.Background(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	b, _ := browser(t)
	step := func(name string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := bounded(b, steps...); err != nil {
			screenshot(b, t, "console-failed-"+strings.ReplaceAll(name, " ", "-"))
			t.Fatalf("%s: %v", name, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		c, cancel := context.WithTimeout(b, 10*time.Second)
		defer cancel()
		v, err := chromedp.Run(c, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.TrimSpace(v)
	}

	step("setup",
		chromedp.Navigate(appURL+"/setup?token="+token),
		chromedp.SendKeys(chromedp.CSS("#workspace"), "Acme"),
		chromedp.SendKeys(chromedp.CSS("#name"), "Ada"),
		chromedp.SendKeys(chromedp.CSS("#email"), "ada@acme.example"),
		chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#crm-salesforce")),
	)
	if got := text("#health-salesforce"); got != "NOT CONNECTED" {
		t.Fatalf("before connecting, Salesforce shows %q", got)
	}
	step("connect",
		chromedp.Click(chromedp.CSS("#connect-salesforce")),
		chromedp.WaitVisible(chromedp.CSS("#install-production")),
		chromedp.Click(chromedp.CSS("#connect-org")),
		chromedp.WaitVisible(chromedp.CSS("#notice")),
	)
	if got := text("#health-salesforce"); got != "CONNECTED" {
		t.Fatalf("after connecting, Salesforce shows %q", got)
	}
	if cfgRec := emu.Config(sftest.DefaultOrgID); cfgRec.Secret == "" || cfgRec.AppURL != appURL {
		t.Fatalf("the org's config after connecting: %+v", cfgRec)
	}
	step("test connection",
		chromedp.Click(chromedp.CSS("#test-connection")),
		chromedp.WaitVisible(chromedp.CSS("#ping-report")),
	)
	if got := text("#ping-report h2"); got != "Test passed: cards in this org can open" {
		t.Fatalf("Test connection says %q", got)
	}
	screenshot(b, t, "console-connected")
	step("disconnect",
		chromedp.Click(chromedp.CSS("#disconnect")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-disconnect-button")),
	)
	screenshot(b, t, "console-disconnect-confirm")
	step("confirm disconnect",
		chromedp.Click(chromedp.CSS("#confirm-disconnect-button")),
		chromedp.WaitVisible(chromedp.CSS("#notice")),
	)
	if got := text("#health-salesforce"); got != "NOT CONNECTED" {
		t.Fatalf("after disconnecting, Salesforce shows %q", got)
	}
}
