package session_test

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/crm/oauthtest"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

var ctx = context.Background()

// clock is a settable clock shared by the database, the adapter and the
// emulator, so that a token's expiry comes without waiting.
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

// env is a HubSpot portal connected through the adapter's OAuth flow, on a
// real database that two instances (db, db2) share.
type env struct {
	clk      *clock
	hs       *hstest.Server
	adapter  *hubspot.Adapter
	db, db2  *store.DB
	conn     *qwoty.Connection
	wsID, by string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{clk: &clock{t: time.Now().UTC().Truncate(time.Second)}}
	e.hs = hstest.New(t, hstest.Options{Now: e.clk.Now})
	e.adapter = hubspot.NewAdapter(hubspot.Options{ClientID: hstest.DefaultClientID, ClientSecret: hstest.DefaultClientSecret,
		RedirectURL: hstest.DefaultRedirectURL, AuthURL: e.hs.URL, APIURL: e.hs.URL, Now: e.clk.Now})
	dbURL := storetest.NewDatabase(t)
	e.db = storetest.Open(t, dbURL, store.Options{Now: e.clk.Now})
	e.db2 = storetest.Open(t, dbURL, store.Options{Now: e.clk.Now})
	setup, err := e.db.NewSetupToken(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := e.db.CreateFirstAdmin(ctx, setup, "Acme", store.NewUser{Email: "admin@acme.example", Name: "Admin", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	e.wsID, e.by = admin.WorkspaceID, admin.ID
	e.conn = connect(t, e.db, e.adapter, admin, hstest.DefaultRedirectURL)
	return e
}

// connect runs the adapter's OAuth flow against its emulator, as the
// console does, and saves the connection. redirectURL is the adapter's.
func connect(t *testing.T, db *store.DB, a crm.Adapter, admin *qwoty.User, redirectURL string) *qwoty.Connection {
	t.Helper()
	o := a.OAuth()
	b, err := o.Begin(url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	to, err := o.AuthURL(b, "state-1")
	if err != nil {
		t.Fatal(err)
	}
	q := oauthtest.Authorize(t, to, redirectURL)
	if err := o.CallbackError(q); err != nil {
		t.Fatal(err)
	}
	g, err := o.Exchange(ctx, b, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.SaveOAuthConnection(ctx, store.OAuthConnection{WorkspaceID: admin.WorkspaceID, UserID: admin.ID,
		Provider: a.Info().Provider, ExternalID: g.ExternalID, MyDomain: g.MyDomain, Sandbox: g.Sandbox, InstanceURL: g.InstanceURL,
		LoginURL: g.LoginURL, CRMUserID: g.CRMUserID, AccessToken: g.AccessToken, RefreshToken: g.RefreshToken,
		TokenExpiresAt: g.ExpiresAt}, admin.Email)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func (e *env) session(db *store.DB) *session.Session { return session.New(db, e.adapter, e.conn) }

// readDeal reads the default deal through s, as the card's look-up does.
func (e *env) readDeal(s crm.Session) (crm.Record, error) {
	return e.adapter.LookupRecord(ctx, s, crm.Record{Type: "deal", ID: hstest.DefaultDealID})
}

// A token about to expire is refreshed before the call, once; a fresh one
// is used as it is.
func TestTokenNearItsExpiryIsRefreshedFirst(t *testing.T) {
	e := newEnv(t)
	var tokens []string
	call := func() {
		t.Helper()
		if err := e.session(e.db).Call(ctx, func(_ context.Context, tok string) error { tokens = append(tokens, tok); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	call()
	if n := e.hs.TokenCalls("refresh_token"); n != 0 {
		t.Fatalf("a fresh token was refreshed (%d refreshes)", n)
	}
	e.clk.Add(hubspot.AccessTokenTTL - hubspot.RefreshMargin + time.Second) // inside the margin
	call()
	call()
	if n := e.hs.TokenCalls("refresh_token"); n != 1 {
		t.Fatalf("%d refreshes for a token inside its refresh margin, want 1", n)
	}
	if tokens[1] == tokens[0] || tokens[2] != tokens[1] {
		t.Fatalf("tokens used %v: want the refreshed one from the second call on", tokens)
	}
}

// A call refused as unauthorised (the token died at the CRM before its
// expiry) refreshes the token once and runs again; a second refusal is the
// caller's error, with no further refresh.
func TestUnauthorisedCallRefreshesOnceAndRetries(t *testing.T) {
	e := newEnv(t)
	e.hs.ExpireAccessTokens()
	rec, err := e.readDeal(e.session(e.db))
	if err != nil || rec.Name != "Acme - 200 licences" || rec.AccountID != hstest.DefaultCompanyID {
		t.Fatalf("deal after the token died: %+v, %v", rec, err)
	}
	if r, d := e.hs.TokenCalls("refresh_token"), e.hs.Reads("deals"); r != 1 || d != 2 {
		t.Fatalf("%d refreshes and %d deal reads, want 1 refresh between 2 reads", r, d)
	}

	calls := 0
	err = e.session(e.db).Call(ctx, func(context.Context, string) error { calls++; return crm.ErrUnauthorized })
	if !errors.Is(err, crm.ErrUnauthorized) || calls != 2 || e.hs.TokenCalls("refresh_token") != 2 {
		t.Fatalf("always refused: %v after %d calls and %d refreshes in all; want 2 calls and one more refresh", err, calls, e.hs.TokenCalls("refresh_token"))
	}
}

// A refused grant (the app uninstalled) puts the connection in error with
// refresh_rejected, and the call's error says so.
func TestRefusedGrantMarksTheConnection(t *testing.T) {
	e := newEnv(t)
	portal := hstest.DefaultPortalID
	e.hs.Uninstall(portal)
	_, err := e.readDeal(e.session(e.db))
	if qwoty.ErrorCode(err) != qwoty.CodeRefreshRejected || !errors.Is(err, crm.ErrInvalidGrant) || !errors.Is(err, store.ErrRefreshRejected) {
		t.Fatalf("deal after uninstall: %v; want refresh_rejected wrapping the refused grant", err)
	}
	c, err := e.db.ConnectionByID(ctx, e.conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != qwoty.ConnectionError || c.LastErrorCode != string(qwoty.CodeRefreshRejected) {
		t.Fatalf("connection %s with last error %q; want error, refresh_rejected", c.Status, c.LastErrorCode)
	}
}

// Calls that all find the token dead at once, on two instances, make one
// refresh at the CRM: the first takes the row lock and refreshes, the
// others find the token changed and use it.
func TestConcurrentRefreshesMakeOneAtTheCRM(t *testing.T) {
	e := newEnv(t)
	e.hs.ExpireAccessTokens()
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		db := e.db
		if i%2 == 1 {
			db = e.db2
		}
		wg.Go(func() { _, errs[i] = e.readDeal(e.session(db)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if r := e.hs.TokenCalls("refresh_token"); r != 1 {
		t.Fatalf("%d concurrent calls made %d refreshes at HubSpot, want 1", n, r)
	}
}

// A connection made without OAuth has no token to call with
// (no_oauth_token); a disconnected one is org_disconnected.
func TestConnectionWithoutTokens(t *testing.T) {
	e := newEnv(t)
	manual, err := e.db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Other", Provider: qwoty.ProviderHubSpot, ExternalID: "777"})
	if err != nil {
		t.Fatal(err)
	}
	called := false
	err = session.New(e.db, e.adapter, manual).Call(ctx, func(context.Context, string) error { called = true; return nil })
	if qwoty.ErrorCode(err) != qwoty.CodeNoOAuthToken || called {
		t.Fatalf("connection without OAuth: %v (called %v); want no_oauth_token without a call", err, called)
	}
	if err := e.db.Disconnect(ctx, e.conn.ID, "test"); err != nil {
		t.Fatal(err)
	}
	err = e.session(e.db).Call(ctx, func(context.Context, string) error { called = true; return nil })
	if qwoty.ErrorCode(err) != qwoty.CodeOrgDisconnected || called {
		t.Fatalf("disconnected connection: %v (called %v); want org_disconnected without a call", err, called)
	}
}

// An adapter without an OAuth app (not configured) cannot open a session.
func TestUnconfiguredCRM(t *testing.T) {
	e := newEnv(t)
	err := session.New(e.db, hubspot.NewAdapter(hubspot.Options{}), e.conn).Call(ctx, func(context.Context, string) error { return nil })
	if qwoty.ErrorCode(err) != qwoty.CodeNotConfigured {
		t.Fatalf("unconfigured CRM: %v; want not_configured", err)
	}
}
