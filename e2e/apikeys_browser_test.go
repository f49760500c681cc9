//go:build browser

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qwoty/companion/qwoty"
)

// An admin opens API keys from Integrations, picks the read-only preset
// (the script ticks its scopes; Full access ticks them all), sets an
// expiry and makes a key: the token is shown once, with Copy, and gone on
// the next visit; then the admin revokes it after the confirmation, and
// the key is refused. Screenshots at 1280 px: the new key, the
// confirmation, the list.
func TestConsoleAPIKeys(t *testing.T) {
	e := startConsole(t, "apikeys", nil)
	ctx := context.Background()
	checked := func() int {
		n, err := chromedp.Run(e.b, chromedp.Evaluate[int](`document.querySelectorAll('#scopes input:checked').length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	e.step("open API keys",
		chromedp.Navigate(e.appURL+"/settings/integrations"),
		chromedp.WaitVisible(chromedp.CSS("#api-keys-salesforce")),
		chromedp.Click(chromedp.CSS("#api-keys-salesforce")),
		chromedp.WaitVisible(chromedp.CSS("#create-key")),
		chromedp.WaitVisible(chromedp.CSS("#no-keys")),
	)
	if n := checked(); n != len(qwoty.ReadOnlyScopes) {
		t.Fatalf("the read-only preset (the default) ticks %d scopes, want %d", n, len(qwoty.ReadOnlyScopes))
	}
	e.step("full access", chromedp.Click(chromedp.CSS("#access-full")))
	if n := checked(); n != len(qwoty.Scopes) {
		t.Fatalf("Full access ticks %d scopes, want %d", n, len(qwoty.Scopes))
	}
	expiry := time.Now().UTC().AddDate(0, 3, 0).Format(time.DateOnly)
	e.step("make a read-only key",
		chromedp.Click(chromedp.CSS("#access-read-only")),
		chromedp.SendKeys(chromedp.CSS("#key-name"), "ERP sync"),
		chromedp.SetValue(chromedp.CSS("#key-expires"), expiry),
		chromedp.Click(chromedp.CSS("#create-key-button")),
		chromedp.WaitVisible(chromedp.CSS("#new-key")),
		chromedp.Click(chromedp.CSS("#copy-token")),
	)
	if said, err := chromedp.Run(e.b, chromedp.Poll[string](`document.getElementById('copy-done').textContent`,
		chromedp.WithPollingTimeout(5*time.Second))); err != nil || said == "" {
		t.Fatalf("Copy says %q (%v)", said, err)
	}
	screenshot(e.b, e.t, "console-api-key-created-1280")
	token, err := chromedp.Run(e.b, chromedp.Evaluate[string](`document.getElementById('new-token').value`))
	if err != nil {
		t.Fatal(err)
	}
	k, err := e.db.APIKeyByToken(ctx, token)
	if err != nil || k.Name != "ERP sync" || k.ConnectionID != e.conn.ID || len(k.Scopes) != len(qwoty.ReadOnlyScopes) || k.ExpiresAt == nil ||
		k.ExpiresAt.UTC().Format(time.DateOnly) != expiry {
		t.Fatalf("the key made: %+v, %v", k, err)
	}
	e.step("the list, without the token",
		chromedp.Navigate(e.appURL+"/settings/integrations/salesforce/api-keys"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-key="`+k.ID+`"][data-state="active"]`)),
	)
	html, err := chromedp.Run(e.b, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil || strings.Contains(html, token) || !strings.Contains(html, k.Prefix) {
		t.Fatalf("the list shows the token again, or not the prefix (%v)", err)
	}
	e.step("revoke",
		chromedp.Click(chromedp.CSS("#revoke-"+k.ID)),
		chromedp.WaitVisible(chromedp.CSS("#confirm-revoke")),
	)
	screenshot(e.b, e.t, "console-api-key-revoke-1280")
	e.step("confirm",
		chromedp.Click(chromedp.CSS("#confirm-revoke-button")),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-key="`+k.ID+`"][data-state="revoked"]`)),
		chromedp.WaitVisible(chromedp.CSS("#notice")),
	)
	screenshot(e.b, e.t, "console-api-keys-1280")
	if _, err := e.db.APIKeyByToken(ctx, token); qwoty.AsError(err).Code != qwoty.CodeAPIKeyRevoked {
		t.Fatalf("after revoking: %v", err)
	}
}
