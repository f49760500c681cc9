package console

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// An admin adds a subscription (its secret shown once), is told why a
// form is refused with the form kept, edits it, rotates its secret, reads
// the delivery log filtered, asks to redeliver the failed ones, and
// deletes it.
func TestWebhooksPage(t *testing.T) {
	e := newSyncEnv(t, "")
	ctx := context.Background()
	page := e.url() + "/settings/integrations/testcrm/webhooks"
	e.b.Get(e.url()+"/settings/integrations").Want(200, "/settings/integrations", `id="webhooks-testcrm"`)
	e.b.Get(page).Want(200, "/settings/integrations/testcrm/webhooks", "No subscription yet")

	e.b.Post(page, url.Values{"csrf": {e.b.CSRF()}, "url": {"https://hooks.example/erp"}, "description": {"ERP"}, "enabled": {"on"}})
	if e.b.Last.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(e.b.Body), "needs an event type") ||
		!strings.Contains(string(e.b.Body), `value="https://hooks.example/erp"`) {
		t.Fatalf("no event type: %d, want 422 with the reason and the form kept\n%s", e.b.Last.StatusCode, e.b.Body)
	}
	e.b.Post(page, url.Values{"csrf": {e.b.CSRF()}, "url": {"https://169.254.169.254/latest"}, "event": {"quote.created"}, "enabled": {"on"}})
	if e.b.Last.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(e.b.Body), "not a public address") {
		t.Fatalf("metadata address: %d, want 422 not a public address\n%s", e.b.Last.StatusCode, e.b.Body)
	}
	e.b.Post(page, url.Values{"csrf": {e.b.CSRF()}, "url": {"https://hooks.example/erp"}, "description": {"ERP"},
		"event": {"quote.created", "quote.sent"}, "status": {"sent"}, "enabled": {"on"}})
	e.b.Want(200, "/settings/integrations/testcrm/webhooks", "shown this once", "The subscription is added.")
	secret := regexp.MustCompile(`<code id="secret">(whsec_[A-Za-z0-9+/=]+)</code>`).FindSubmatch(e.b.Body)
	if secret == nil || e.b.Last.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("the secret is not shown, or the page may be cached\n%s", e.b.Body)
	}
	subs, err := e.db.WebhookSubscriptions(ctx, e.conn.WorkspaceID, e.conn.ID)
	if err != nil || len(subs) != 1 || subs[0].URL != "https://hooks.example/erp" || len(subs[0].EventTypes) != 2 || subs[0].Statuses[0] != qwoty.StatusSent {
		t.Fatalf("saved: %+v, %v", subs, err)
	}
	id := subs[0].ID
	e.b.Get(page).Want(200, "/settings/integrations/testcrm/webhooks", `id="sub-`+id+`"`)
	if strings.Contains(string(e.b.Body), string(secret[1])) {
		t.Fatal("the secret is shown again")
	}

	// Edit: every status now.
	e.b.Get(page+"/"+id).Want(200, "", `value="https://hooks.example/erp"`, `id="editing"`)
	e.b.Post(page+"/"+id, url.Values{"csrf": {e.b.CSRF()}, "url": {"https://hooks.example/erp2"}, "event": {"quote.created"}, "enabled": {"on"}})
	e.b.Want(200, "/settings/integrations/testcrm/webhooks", "The subscription is saved.", "https://hooks.example/erp2")

	// Rotate: a new secret, shown once; the old one still signs.
	e.b.Post(page+"/"+id+"/rotate", url.Values{"csrf": {e.b.CSRF()}})
	e.b.Want(200, "", "The secret is rotated", "Previous secret signs until")
	if next := regexp.MustCompile(`<code id="secret">(whsec_[^<]+)</code>`).FindSubmatch(e.b.Body); next == nil || string(next[1]) == string(secret[1]) {
		t.Fatal("rotation shows no new secret")
	}

	// The log: a quote's creation makes a delivery (pending: no engine
	// runs here); filtered out by state; no failed one to redeliver.
	if _, err := e.db.CreateQuote(ctx, store.Scope{WorkspaceID: e.conn.WorkspaceID, ConnectionID: e.conn.ID, RecordID: "d-1"},
		store.NewQuote{Currency: "USD"}); err != nil {
		t.Fatal(err)
	}
	e.b.Get(page).Want(200, "", `data-event="quote.created"`, `data-state="pending"`)
	e.b.Get(page+"?state=failed").Want(200, "", "No delivery yet.")
	e.b.Post(page+"/redeliver-failed", url.Values{"csrf": {e.b.CSRF()}}).Want(200, "/settings/integrations/testcrm/webhooks", "No failed delivery")
	ds, _, _ := e.db.WebhookDeliveries(ctx, e.conn.WorkspaceID, e.conn.ID, store.WebhookDeliveryFilter{})
	if len(ds) != 1 {
		t.Fatalf("%d deliveries, want 1", len(ds))
	}
	e.b.Post(page+"/deliveries/"+ds[0].ID+"/redeliver", url.Values{"csrf": {e.b.CSRF()}})
	if e.b.Last.StatusCode != http.StatusConflict || !strings.Contains(string(e.b.Body), "still being tried") {
		t.Fatalf("redeliver a pending delivery: %d, want 409\n%s", e.b.Last.StatusCode, e.b.Body)
	}

	// A test event: queued, at the top of the log, whatever the filters.
	e.b.Get(page).Want(200, "", `id="test-`+id+`"`)
	e.b.Post(page+"/"+id+"/test", url.Values{"csrf": {e.b.CSRF()}}).Want(200, "/settings/integrations/testcrm/webhooks",
		"A test event (webhook.test) is queued", `data-event="webhook.test"`)

	e.b.Get(page)
	e.b.Post(page+"/"+id+"/delete", url.Values{"csrf": {e.b.CSRF()}}).Want(200, "/settings/integrations/testcrm/webhooks", "The subscription is deleted", "No subscription yet")
}
