package console

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

var tokenOnPage = regexp.MustCompile(`qwk_[0-9A-Za-z]{46}`)

// An admin makes keys (a picked set of scopes, the read-only preset, an
// expiry), sees each token once, sees their use, and revokes one after a
// confirmation; bad forms are refused with the form kept; members and
// viewers cannot open, make or revoke; another workspace's key cannot be
// revoked from here.
func TestAPIKeysPage(t *testing.T) {
	e := newSyncEnv(t, "")
	ctx := context.Background()
	page := e.url() + "/settings/integrations/testcrm/api-keys"
	e.b.Get(e.url()+"/settings/integrations").Want(200, "", `id="api-keys-testcrm"`)
	e.b.Get(page).Want(200, "/settings/integrations/testcrm/api-keys", "No API key yet", "600 requests a minute, up to 100 at once")

	// A custom set of scopes with an expiry: the token is on this answer
	// only, not cached.
	expiry := time.Now().UTC().AddDate(0, 0, 30).Format(time.DateOnly)
	e.b.Post(page, url.Values{"csrf": {e.b.CSRF()}, "name": {"ERP sync"}, "access": {"custom"},
		"scope": {"catalog:write", "quotes:read"}, "expires": {expiry}}).Want(200, "/settings/integrations/testcrm/api-keys",
		"only time Qwoty shows the key", `id="copy-token"`, "quotes:read, catalog:write")
	if cc := e.b.Last.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q on the page with the token", cc)
	}
	tokens := tokenOnPage.FindAllString(string(e.b.Body), -1)
	if len(tokens) != 1 {
		t.Fatalf("tokens on the page: %v", tokens)
	}
	token := tokens[0]
	k, err := e.db.APIKeyByToken(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if k.Name != "ERP sync" || k.WorkspaceID != e.conn.WorkspaceID || k.ConnectionID != e.conn.ID || k.CreatedBy != adminEmail ||
		k.ExpiresAt == nil || k.ExpiresAt.UTC().Format(time.DateOnly) != expiry || len(k.Scopes) != 2 {
		t.Fatalf("the key made: %+v", k)
	}
	e.b.Get(page).Want(200, "", k.Prefix+"…", "ERP sync", `data-state="active"`, `data-usage="0/0"`)
	if strings.Contains(string(e.b.Body), token) {
		t.Fatal("the token is shown again")
	}

	// The read-only preset; the scopes ticked with it do not matter.
	e.b.Post(page, url.Values{"csrf": {e.b.CSRF()}, "name": {"BI export"}, "access": {"read-only"}, "scope": {"webhooks:manage"}}).
		Want(200, "", "only time Qwoty shows the key")
	ro, err := e.db.APIKeyByToken(ctx, tokenOnPage.FindString(string(e.b.Body)))
	if err != nil || scopeList(ro.Scopes) != "quotes:read customers:read catalog:read orders:read" || ro.ExpiresAt != nil {
		t.Fatalf("read-only key: %+v, %v", ro, err)
	}
	e.b.Get(page).Want(200, "", "Read-only")

	// Refused forms keep what was typed and make nothing.
	for name, form := range map[string]url.Values{
		"no name":     {"name": {" "}, "access": {"full"}},
		"no scope":    {"name": {"Kept name"}, "access": {"custom"}},
		"a bad scope": {"name": {"Kept name"}, "access": {"custom"}, "scope": {"quotes:delete"}},
		"no access":   {"name": {"Kept name"}},
		"a past date": {"name": {"Kept name"}, "access": {"full"}, "expires": {"2020-01-01"}},
		"today":       {"name": {"Kept name"}, "access": {"full"}, "expires": {time.Now().UTC().Format(time.DateOnly)}},
		"not a date":  {"name": {"Kept name"}, "access": {"full"}, "expires": {"next week"}},
		"a long name": {"name": {strings.Repeat("n", 101)}, "access": {"full"}},
	} {
		e.b.Get(page)
		form.Set("csrf", e.b.CSRF())
		e.b.Post(page, form)
		if e.b.Last.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(e.b.Body), `id="error"`) ||
			tokenOnPage.MatchString(string(e.b.Body)) {
			t.Errorf("%s: %d\n%s", name, e.b.Last.StatusCode, e.b.Body)
		}
		if form.Get("name") == "Kept name" && !strings.Contains(string(e.b.Body), `value="Kept name"`) {
			t.Errorf("%s: the form lost the name", name)
		}
	}
	if keys, _ := e.db.APIKeys(ctx, e.conn.WorkspaceID, e.conn.ID); len(keys) != 2 {
		t.Fatalf("%d keys after refused forms, want 2", len(keys))
	}
	// Without the form's CSRF token nothing is made.
	e.b.Post(page, url.Values{"name": {"No CSRF"}, "access": {"full"}})
	if e.b.Last.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF: %d", e.b.Last.StatusCode)
	}

	// Use is shown: requests today and over 7 days, the last use.
	for range 3 {
		if _, err := e.db.TakeAPIRequest(ctx, k.ID, store.APIRate{Burst: 2, PerSecond: 0.001}); err != nil {
			t.Fatal(err)
		}
	}
	e.b.Get(page).Want(200, "", `data-usage="2/2"`, "(1 · 1 limited)")

	// Members and viewers: no page, no key, no revocation.
	for _, role := range []string{"member", "viewer"} {
		u := e.user(t, role)
		u.Get(page).Want(http.StatusForbidden, "")
		u.Get(e.url() + "/settings/integrations")
		if strings.Contains(string(u.Body), `id="api-keys-testcrm"`) {
			t.Errorf("%s sees the API keys button", role)
		}
		csrf := u.CSRF()
		u.Post(page, url.Values{"csrf": {csrf}, "name": {"Sneaky"}, "access": {"full"}}).Want(http.StatusForbidden, "")
		u.Get(page+"/"+k.ID+"/revoke").Want(http.StatusForbidden, "")
		u.Post(page+"/"+k.ID+"/revoke", url.Values{"csrf": {csrf}, "confirm": {"revoke"}}).Want(http.StatusForbidden, "")
	}
	if _, err := e.db.APIKeyByToken(ctx, token); err != nil {
		t.Fatalf("the key after members tried: %v", err)
	}

	// Another workspace's key: not found from here, and still works.
	other, err := e.db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Globex", Provider: qwoty.ProviderHubSpot, ExternalID: "999"})
	if err != nil {
		t.Fatal(err)
	}
	otherTok, otherKey, err := e.db.CreateAPIKey(ctx, other.WorkspaceID, other.ID, "Globex ERP", []string{"quotes:read"}, nil, "admin@globex.example")
	if err != nil {
		t.Fatal(err)
	}
	e.b.Get(page+"/"+otherKey.ID+"/revoke").Want(http.StatusNotFound, "")
	e.b.Get(page)
	e.b.Post(page+"/"+otherKey.ID+"/revoke", url.Values{"csrf": {e.b.CSRF()}, "confirm": {"revoke"}}).Want(http.StatusNotFound, "")
	if _, err := e.db.APIKeyByToken(ctx, otherTok); err != nil {
		t.Fatalf("another workspace's key was touched: %v", err)
	}

	// Revoke: a post without the confirmation is sent to it; confirmed,
	// the key is refused at once and listed as revoked.
	e.b.Get(page)
	e.b.Post(page+"/"+k.ID+"/revoke", url.Values{"csrf": {e.b.CSRF()}}).
		Want(200, "/settings/integrations/testcrm/api-keys/"+k.ID+"/revoke", "Revoke the API key", k.Prefix)
	if _, err := e.db.APIKeyByToken(ctx, token); err != nil {
		t.Fatalf("revoked without confirmation: %v", err)
	}
	e.b.Post(page+"/"+k.ID+"/revoke", url.Values{"csrf": {e.b.CSRF()}, "confirm": {"revoke"}}).
		Want(200, "/settings/integrations/testcrm/api-keys", "The API key is revoked", `data-state="revoked"`, "by "+adminEmail)
	if _, err := e.db.APIKeyByToken(ctx, token); qwoty.AsError(err).Code != qwoty.CodeAPIKeyRevoked {
		t.Fatalf("after revoking: %v", err)
	}
	// A revoked key has no Revoke button, and its confirmation is gone.
	if strings.Contains(string(e.b.Body), `id="revoke-`+k.ID+`"`) {
		t.Error("a revoked key offers Revoke")
	}
	e.b.Get(page+"/"+k.ID+"/revoke").Want(http.StatusNotFound, "")

	// A key past its expiry is listed expired.
	soon := e.clock.Now().Add(time.Hour)
	_, exp, err := e.db.CreateAPIKey(ctx, e.conn.WorkspaceID, e.conn.ID, "Trial", []string{"quotes:read"}, &soon, adminEmail)
	if err != nil {
		t.Fatal(err)
	}
	e.b.Get(page).Want(200, "", `data-key="`+exp.ID+`" data-state="active"`)
	e.clock.Add(2 * time.Hour)
	e.b.Get(page).Want(200, "", `data-key="`+exp.ID+`" data-state="expired"`, "Expired")
}

func scopeList(s []qwoty.Scope) string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = string(x)
	}
	return strings.Join(out, " ")
}
