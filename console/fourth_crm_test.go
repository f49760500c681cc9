package console

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/testcrm"
	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/qwoty"
)

// A fourth CRM, registered here and nowhere else, is connected, tested and
// disconnected through the console's routes for every CRM, with nothing of
// the console written for it (docs/adding-a-crm.md): the admin connects it
// (the CRM's sign-in, the callback, the connection saved with its instance
// and tokens), Test connection passes, then fails with refresh_rejected
// recorded once the CRM revoked Qwoty's grant, and disconnecting revokes
// the token and keeps the connection's row, which connecting again
// restores.
func TestFourthCRMThroughTheConsole(t *testing.T) {
	ctx := context.Background()
	var emu *tctest.Server
	a := newAppWith(t, "", func(appURL string, d *Deps) {
		emu = tctest.New(t, tctest.Options{RedirectURLs: []string{appURL + crm.CallbackPath(testcrm.Provider)}})
		d.CRMs = withFourthCRM(d.Config, emu)
	})
	b := a.setupAdmin(t)
	b.Want(200, "/settings/integrations", `id="crm-testcrm"`, `id="connect-testcrm"`, "Connect TestCRM")

	// Connect: the console sends the browser to the CRM's sign-in, which
	// comes back to /oauth/testcrm/callback with a code.
	b.Post(a.url()+"/settings/integrations/testcrm/connect", url.Values{"csrf": {b.CSRF()}}).
		Want(200, "/settings/integrations", "TestCRM is connected.", `id="health-testcrm">Connected`, emu.URL)
	conn, err := a.db.ConnectionByExternalID(ctx, testcrm.Provider, tctest.DefaultAccountID)
	if err != nil {
		t.Fatal(err)
	}
	if conn.Status != qwoty.ConnectionActive || conn.InstanceURL != emu.URL || conn.ConnectedBy == "" {
		t.Fatalf("connection after the callback: %+v", conn)
	}
	if access, refresh, err := a.db.Tokens(ctx, conn.ID); err != nil || access == "" || refresh == "" {
		t.Fatalf("the connection's tokens: %v (access %t, refresh %t)", err, access != "", refresh != "")
	}
	if n := emu.TokenCalls("authorization_code"); n != 1 {
		t.Fatalf("%d code exchanges, want 1", n)
	}

	// Test connection: the adapter's test through the session passes.
	b.Post(a.url()+"/settings/integrations/testcrm/test", url.Values{"csrf": {b.CSRF()}}).
		Want(200, "/settings/integrations/testcrm/test", `data-ok="true"`, "Test passed: cards in this account can open",
			`data-step="token"`, `data-step="account"`, "The access is to account "+tctest.DefaultAccountID)
	if c := reread(t, a, conn.ID); c.LastErrorCode != "" || c.LastCheckedAt.IsZero() {
		t.Fatalf("after a passing test: last error %q, last checked %v", c.LastErrorCode, c.LastCheckedAt)
	}

	// The CRM revokes Qwoty's grant: the test's call gets a 401, the
	// session's refresh is refused, and the connection records it.
	emu.RevokeAll()
	b.Post(a.url()+"/settings/integrations/testcrm/test", url.Values{"csrf": {b.CSRF()}}).
		Want(200, "/settings/integrations/testcrm/test", `data-ok="false"`, "Test failed",
			`data-code="refresh_rejected"`, "TestCRM no longer accepts Qwoty&#39;s access to this account")
	c := reread(t, a, conn.ID)
	if c.LastErrorCode != string(qwoty.CodeRefreshRejected) || c.Status != qwoty.ConnectionError || !strings.Contains(c.LastError, "Reconnect the account") {
		t.Fatalf("after a refused refresh: status %s, last error %s %q", c.Status, c.LastErrorCode, c.LastError)
	}
	if n := emu.TokenCalls("refresh_token"); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}

	// Disconnect: confirmed, the token revoked at the CRM, the row kept.
	b.Get(a.url()+"/settings/integrations/testcrm/disconnect").Want(200, "", "Disconnect TestCRM?", tctest.DefaultAccountID)
	b.Post(a.url()+"/settings/integrations/testcrm/disconnect", url.Values{"csrf": {b.CSRF()}, "confirm": {"disconnect"}}).
		Want(200, "/settings/integrations", "TestCRM was disconnected.", `id="health-testcrm">Not connected`)
	if c := reread(t, a, conn.ID); c.Status != qwoty.ConnectionDisconnected {
		t.Fatalf("after disconnecting: status %s", c.Status)
	}
	if n := emu.RevokeCalls(); n != 1 {
		t.Fatalf("%d revocations at the CRM, want 1", n)
	}

	// Connecting the account again restores the same connection.
	b.Post(a.url()+"/settings/integrations/testcrm/connect", url.Values{"csrf": {b.CSRF()}}).
		Want(200, "/settings/integrations", "TestCRM is connected.")
	if c := reread(t, a, conn.ID); c.Status != qwoty.ConnectionActive || c.LastErrorCode != "" {
		t.Fatalf("after reconnecting: status %s, last error %q", c.Status, c.LastErrorCode)
	}
}

// withFourthCRM is the three CRMs' registry, as cmd/qwoty builds it, with
// the test CRM bound to emu registered after them.
func withFourthCRM(cfg *config.Config, emu *tctest.Server) *crm.Registry {
	fourth := testcrm.NewAdapter(testcrm.Options{ClientID: tctest.DefaultClientID, ClientSecret: tctest.DefaultClientSecret,
		RedirectURL: cfg.AppURL + crm.CallbackPath(testcrm.Provider), BaseURL: emu.URL})
	return crm.MustRegistry(append(CRMsFor(cfg).All(), fourth)...)
}

// reread reads a connection again from the database.
func reread(t *testing.T, a *testApp, id string) *qwoty.Connection {
	t.Helper()
	c, err := a.db.ConnectionByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
