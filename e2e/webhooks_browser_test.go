//go:build browser

package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/qwoty/companion/store"
)

// An admin opens Webhooks from Integrations, is refused a URL on a cloud
// metadata address, adds a subscription and sees its secret once, and
// reads the delivery log with a delivery of a quote's event in it.
// Screenshots at 1280 px: the secret shown, and the log.
func TestConsoleWebhooks(t *testing.T) {
	e := startConsole(t, "webhooks", nil)
	e.step("open webhooks",
		chromedp.Navigate(e.appURL+"/settings/integrations"),
		chromedp.WaitVisible(chromedp.CSS("#webhooks-salesforce")),
		chromedp.Click(chromedp.CSS("#webhooks-salesforce")),
		chromedp.WaitVisible(chromedp.CSS("#no-subscriptions")),
	)
	e.step("a metadata address",
		chromedp.SetValue(chromedp.CSS("#url"), "https://169.254.169.254/latest/meta-data"),
		chromedp.Click(chromedp.CSS(`#event-quote\.created`)),
		chromedp.Click(chromedp.CSS("#save-subscription")),
		chromedp.WaitVisible(chromedp.CSS("#error")),
	)
	msg, err := chromedp.Run(e.b, chromedp.Text(chromedp.CSS("#error")))
	if err != nil || !strings.Contains(msg, "not a public address") {
		t.Fatalf("the refusal reads %q (%v)", msg, err)
	}
	e.step("add a subscription",
		chromedp.SetValue(chromedp.CSS("#url"), "https://erp.acme.example/hooks/qwoty"),
		chromedp.SetValue(chromedp.CSS("#description"), "ERP orders"),
		chromedp.Click(chromedp.CSS(`#event-quote\.accepted`)),
		chromedp.Click(chromedp.CSS("#save-subscription")),
		chromedp.WaitVisible(chromedp.CSS("#secret-shown")),
	)
	secret, err := chromedp.Run(e.b, chromedp.Text(chromedp.CSS("#secret")))
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("the secret reads %q (%v)", secret, err)
	}
	screenshot(e.b, e.t, "console-webhooks-secret-1280")
	ctx := context.Background()
	if _, err := e.db.CreateQuote(ctx, store.Scope{WorkspaceID: e.conn.WorkspaceID, ConnectionID: e.conn.ID, RecordID: "0065g00000AbCdEAAZ"},
		store.NewQuote{Currency: "USD", Title: "Acme – 200 licences"}); err != nil {
		t.Fatal(err)
	}
	e.step("the log",
		chromedp.Navigate(e.appURL+"/settings/integrations/salesforce/webhooks"),
		chromedp.WaitVisible(chromedp.CSS(`#delivery-log tr[data-event="quote.created"]`)),
	)
	screenshot(e.b, e.t, "console-webhooks-log-1280")
}
