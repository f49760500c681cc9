//go:build browser

package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/devmail"
	"github.com/qwoty/companion/notify"
	"github.com/qwoty/companion/playground"
	"github.com/qwoty/companion/quotemail"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// withMail starts the job engine with the customer email's worker, sending
// through a test SMTP server (the development mailbox, go-smtp) that keeps
// what it receives.
func withMail(t *testing.T, e *env) *devmail.Mailbox {
	t.Helper()
	mb, err := devmail.StartWith("127.0.0.1:0", devmail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mb.Close() })
	sender, err := notify.New(notify.Options{SMTP: mb.SMTP(), From: "quotes@acme.example"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Env: config.Development, AppURL: e.appURL}
	engine, err := crmsync.New(e.db, crms(cfg), crmsync.Options{AppURL: e.appURL,
		Plugins: []crmsync.Plugin{quotemail.New(e.db, quotemail.Options{AppURL: e.appURL, Mail: sender})}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := engine.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		_ = engine.Stop(stop)
		cancel()
	})
	return mb
}

var pageLink = regexp.MustCompile(`http://127\.0\.0\.1:\d+/q/[A-Za-z0-9_-]{43}`)

// A rep sends a quote from the card; the email reaches the test's SMTP
// server; the customer opens the link from it, which marks the quote
// viewed, and accepts; the card shows it accepted, with its order, which
// the rep marks fulfilled.
func TestSendQuoteCustomerAccepts(t *testing.T) {
	e := start(t)
	mb := withMail(t, e)
	ctx, _ := browser(t)

	if err := bounded(ctx, chromedp.Navigate(e.hostURL+"/"), chromedp.WaitVisible(chromedp.CSS("#qwoty-frame"))); err != nil {
		t.Fatalf("open the host page: %v", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	ready, err := chromedp.Run(pctx, chromedp.Poll[bool]("window.qwoty && window.qwoty.ready", chromedp.WithPollingTimeout(20*time.Second)))
	cancel()
	if err != nil || !ready {
		t.Fatalf("the card never said ready: %v", err)
	}
	f := frame(ctx, t)
	if err := bounded(ctx,
		chromedp.WaitVisible(chromedp.CSS("#new-quote"), in(f)),
		chromedp.Click(chromedp.CSS("#new-quote"), in(f)),
		chromedp.WaitVisible(chromedp.CSS("#add-line"), in(f)),
		chromedp.SendKeys(chromedp.CSS("#new-sku"), "LIC-100", in(f)),
		chromedp.SendKeys(chromedp.CSS("#new-description"), "Annual licence", in(f)),
		chromedp.SendKeys(chromedp.CSS("#new-quantity"), retype("3"), in(f)),
		chromedp.SendKeys(chromedp.CSS("#new-unit_price"), "19.99", in(f)),
		chromedp.Click(chromedp.CSS("#add-line button[type=submit]"), in(f)),
	); err != nil {
		t.Fatalf("make a quote: %v", err)
	}
	if err := waitText(ctx, f, "#total", "USD\u00a059.97"); err != nil {
		t.Fatal(err)
	}

	// Send it from the card.
	if err := bounded(ctx,
		chromedp.Click(chromedp.CSS("#send-open"), in(f)),
		chromedp.WaitVisible(chromedp.CSS("#send-form"), in(f)),
		chromedp.SendKeys(chromedp.CSS("#send-to"), "Buyer@Romashka.example", in(f)),
	); err != nil {
		t.Fatalf("open the send form: %v", err)
	}
	screenshot(ctx, t, "card-send-form")
	if err := bounded(ctx, chromedp.Click(chromedp.CSS("#send-submit"), in(f))); err != nil {
		t.Fatal(err)
	}
	if err := waitText(ctx, f, "#quote-status", "SENT"); err != nil {
		t.Fatal(err)
	}

	// The email arrives at the test's SMTP server, with the page's link.
	var link string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && link == ""; time.Sleep(100 * time.Millisecond) {
		for _, m := range mb.Messages() {
			if len(m.EnvelopeTo) == 1 && m.EnvelopeTo[0] == "buyer@romashka.example" {
				link = pageLink.FindString(m.Text)
			}
		}
	}
	if link == "" {
		t.Fatalf("no email with the quote's link reached the SMTP server: %d messages", len(mb.Messages()))
	}
	if !strings.HasPrefix(link, e.appURL+"/q/") {
		t.Fatalf("link %s is not on the app's URL %s", link, e.appURL)
	}

	conn, err := e.db.ConnectionByExternalID(context.Background(), qwoty.ProviderSalesforce, playground.DevOrgID)
	if err != nil {
		t.Fatal(err)
	}
	scope := store.Scope{WorkspaceID: conn.WorkspaceID, ConnectionID: conn.ID, RecordID: "006000000000001AAA"}
	status := func() qwoty.Status {
		qs, err := e.db.ListQuotes(context.Background(), scope)
		if err != nil || len(qs) != 1 {
			t.Fatalf("quotes %v %v", qs, err)
		}
		return qs[0].Status
	}

	// The customer opens the link: the page's script marks the quote
	// viewed.
	cust := ctx
	if err := bounded(cust, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#accept-form"))); err != nil {
		t.Fatalf("open the customer's page: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); status() != qwoty.StatusViewed; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the page's view left the quote %s", status())
		}
	}
	screenshot(cust, t, "customer-page-1280")
	if err := bounded(cust, chromedp.EmulateViewport(360, 800), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#accept-form"))); err != nil {
		t.Fatal(err)
	}
	screenshot(cust, t, "customer-page-360")
	// At 360 px nothing is wider than the screen.
	overflow, err := chromedp.Run(cust, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil || overflow {
		t.Fatalf("the page scrolls sideways at 360 px: %v", err)
	}

	// The customer accepts with their name and consent.
	if err := bounded(cust,
		chromedp.SendKeys(chromedp.CSS("#full_name"), "Иван Петров"),
		chromedp.Click(chromedp.CSS("#consent")),
		chromedp.Click(chromedp.CSS("#accept")),
		chromedp.WaitVisible(chromedp.CSS("#cp-decision")),
	); err != nil {
		t.Fatalf("accept: %v", err)
	}
	got, err := chromedp.Run(cust, chromedp.Text(chromedp.CSS("#cp-decision")))
	if err != nil || !strings.HasPrefix(got, "Accepted by Иван Петров") {
		t.Fatalf("the page says %q, %v", got, err)
	}
	screenshot(cust, t, "customer-page-accepted-360")
	if st := status(); st != qwoty.StatusAccepted {
		t.Fatalf("after acceptance the quote is %s", st)
	}

	// The card, opened again, shows it accepted, with its history.
	if err := bounded(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(e.hostURL+"/"), chromedp.WaitVisible(chromedp.CSS("#qwoty-frame"))); err != nil {
		t.Fatal(err)
	}
	pctx, cancel = context.WithTimeout(ctx, 20*time.Second)
	ready, err = chromedp.Run(pctx, chromedp.Poll[bool]("window.qwoty && window.qwoty.ready", chromedp.WithPollingTimeout(20*time.Second)))
	cancel()
	if err != nil || !ready {
		t.Fatalf("the card never said ready again: %v", err)
	}
	f = frame(ctx, t)
	if err := bounded(ctx, chromedp.WaitVisible(chromedp.CSS("#quote-list"), in(f)),
		chromedp.Click(chromedp.CSS("#quote-list button.quote"), in(f))); err != nil {
		t.Fatal(err)
	}
	if err := waitText(ctx, f, "#quote-status", "ACCEPTED"); err != nil {
		t.Fatal(err)
	}
	if err := bounded(ctx, chromedp.WaitVisible(chromedp.CSS(`#history-list li[data-kind="accepted"]`), in(f))); err != nil {
		t.Fatalf("the card's history shows no acceptance: %v", err)
	}
	screenshot(ctx, t, "card-accepted")
	// Accepting made the quote's order: the card shows it.
	cardShowsOrder(ctx, t, e, "USD\u00a059.97")
}
