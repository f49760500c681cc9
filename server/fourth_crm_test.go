package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/crm/oauthtest"
	"github.com/qwoty/companion/crm/testcrm"
	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// A fourth CRM, registered here and nowhere else, runs the card's whole
// scenario in the server that serves the three real ones: the house takes a
// new CRM through its adapter alone (docs/adding-a-crm.md). Its card fetches
// with a signed GET to /api/crm/testcrm/card (the route HubSpot's card
// calls at /api/crm/hubspot/card), its page is framed by its instance's
// origin and the connection's extra origins, a quote is created through the
// card's actions and prefilled from the deal (read through the session),
// the next fetch and the card's own listing show it, and a replayed fetch
// is refused. HubSpot's card still works beside it.
func TestFourthCRMRunsTheCardScenario(t *testing.T) {
	var emu *tctest.Server
	var hs *hstest.Server
	a := newAppWith(t, "", func(appURL string, d *Deps) {
		d.Config.HubSpot.ClientID, d.Config.HubSpot.ClientSecret = "hs-client", hsClientSecret
		emu = tctest.New(t, tctest.Options{RedirectURLs: []string{appURL + crm.CallbackPath(testcrm.Provider)}})
		d.CRMs = withFourthCRM(d.Config, emu)
	})
	hs = hstest.New(t, hstest.Options{App: hstest.App{ClientID: "hs-client", ClientSecret: hsClientSecret}})
	const extraOrigin = "https://sales.acme.example"
	conn := connectFourthCRM(t, a, emu, extraOrigin)
	if conn.InstanceURL != emu.URL {
		t.Fatalf("connection's instance %q, want the emulator's %s", conn.InstanceURL, emu.URL)
	}
	fetch := func(opts ...tctest.CardOption) *http.Request {
		return emu.SignedCardRequest(a.url(), tctest.DefaultAccountID, tctest.DefaultUserID, tctest.DefaultDealID, opts...)
	}

	// The signed fetch answers the embed URL of its own card page, and no
	// quote yet.
	first := fetch()
	ans := do(t, first).answer(t)
	if len(ans.Quotes) != 0 || ans.Record.ID != tctest.DefaultDealID || !strings.HasPrefix(ans.EmbedURL, a.url()+"/embed/testcrm/card?token=") {
		t.Fatalf("first fetch: %+v", ans)
	}

	// The page is framed by the instance's origin and the extra one, only.
	page, tok := a.page(ans.EmbedURL)
	if page.status != http.StatusOK || tok == "" {
		t.Fatalf("card page: %d\n%s", page.status, page.body)
	}
	if got, want := frameAncestors(page.header.Get("Content-Security-Policy")), "frame-ancestors "+emu.URL+" "+extraOrigin; got != want {
		t.Fatalf("card CSP %q, want %q", got, want)
	}

	// A quote made through the card's actions is prefilled from the deal,
	// which the adapter reads through the connection's session.
	r := a.action(http.MethodPost, "/embed/api/quotes", tok, nil)
	if r.status != http.StatusCreated || !strings.Contains(string(r.body), tctest.DefaultDealName) {
		t.Fatalf("create quote: %d, want it titled %q\n%s", r.status, tctest.DefaultDealName, r.body)
	}
	id := string(quoteIDPattern.FindSubmatch(r.body)[1])
	r = a.action(http.MethodPost, "/embed/api/quotes/"+id+"/lines", tok, map[string]string{"sku": "LIC", "quantity": "2", "unit_price": "50"})
	if !strings.Contains(string(r.body), `id="total">`) {
		t.Fatalf("add line: %d %s", r.status, r.body)
	}

	// The card's listing and the CRM's next fetch show it, in the deal's
	// currency.
	if r := a.action(http.MethodGet, "/embed/api/quotes", tok, nil); r.status != http.StatusOK || !strings.Contains(string(r.body), tctest.DefaultDealName) {
		t.Fatalf("card listing: %d\n%s", r.status, r.body)
	}
	next := do(t, fetch()).answer(t)
	if len(next.Quotes) != 1 || next.Quotes[0].Number != "Q-00001" || next.Quotes[0].Title != tctest.DefaultDealName ||
		next.Quotes[0].Currency != "EUR" || next.Quotes[0].ID != id {
		t.Fatalf("second fetch lists %+v, want Q-00001 %q in EUR", next.Quotes, tctest.DefaultDealName)
	}

	// Each fetch is single-use: the first one, sent again, is refused.
	again, _ := http.NewRequest(first.Method, first.URL.String(), nil)
	again.Header = first.Header.Clone()
	do(t, again).wantError(t, http.StatusConflict, qwoty.CodeReplayedRequest)
	// A forged or stale fetch is refused by the adapter's verifier.
	do(t, fetch(tctest.SignedWith("not-the-client-secret"))).wantError(t, http.StatusUnauthorized, qwoty.CodeSignatureInvalid)
	do(t, fetch(tctest.SignedAt(time.Now().Add(-10*time.Minute)))).wantError(t, http.StatusUnauthorized, qwoty.CodeTimestampOutOfRange)

	// HubSpot's card, in the same server, on the same route.
	hubspotHarness(&hs).connect(t, a, "HubSpot workspace")
	hsAns := do(t, hs.SignedCardRequest(a.url(), hstest.DefaultPortalID, hstest.DefaultRepID, hstest.DefaultDealID)).answer(t)
	hsPage, hsTok := a.page(hsAns.EmbedURL)
	if hsPage.status != http.StatusOK || hsTok == "" || len(hsAns.Quotes) != 0 ||
		frameAncestors(hsPage.header.Get("Content-Security-Policy")) != "frame-ancestors "+strings.Join(hubspot.AppOrigins, " ") {
		t.Fatalf("HubSpot card: %d, CSP %q, %d quotes", hsPage.status, hsPage.header.Get("Content-Security-Policy"), len(hsAns.Quotes))
	}
	if hubspot.CardPath != crm.CardPath(qwoty.ProviderHubSpot) {
		t.Fatalf("HubSpot's card path %s is not the route's %s", hubspot.CardPath, crm.CardPath(qwoty.ProviderHubSpot))
	}
}

// The card's fetch route answers only the CRMs whose card fetches so: any
// other provider, registered or not, is the 404 of an unknown route.
func TestCardFetchRouteIsOnlyForCardFetchers(t *testing.T) {
	a := newAppWith(t, "", func(appURL string, d *Deps) {
		d.Config.Pipedrive.ClientID, d.Config.Pipedrive.ClientSecret = "pd-client", "pd-client-secret"
		d.Config.PipedriveJWTSecret = pdJWTSecret
	})
	for _, p := range []string{"salesforce", "pipedrive", "testcrm", "nosuchcrm"} {
		path := "/api/crm/" + p + "/card"
		e := do(t, mustGet(t, a.url()+path)).wantError(t, http.StatusNotFound, qwoty.CodeNotFound)
		if want := "no route for GET " + path; e.Message != want {
			t.Errorf("GET %s: %q, want the unknown route's %q", path, e.Message, want)
		}
	}
}

// withFourthCRM is the three CRMs' registry, as cmd/qwoty builds it, with
// the test CRM bound to emu registered after them.
func withFourthCRM(cfg *config.Config, emu *tctest.Server) *crm.Registry {
	fourth := testcrm.NewAdapter(testcrm.Options{ClientID: tctest.DefaultClientID, ClientSecret: tctest.DefaultClientSecret,
		RedirectURL: cfg.AppURL + crm.CallbackPath(testcrm.Provider), BaseURL: emu.URL})
	return crm.MustRegistry(append(testCRMs(cfg).All(), fourth)...)
}

// connectFourthCRM connects the emulator's account as the console does
// (the adapter's OAuth flow, the grant saved by a workspace admin), then
// gives it an extra frame origin (connections.frame_origins, which the
// store's AddConnection sets and keeps the tokens).
func connectFourthCRM(t *testing.T, a *testApp, emu *tctest.Server, extraOrigin string) *qwoty.Connection {
	t.Helper()
	ctx := context.Background()
	ad, _ := a.srv.cards.Adapter(testcrm.Provider)
	o := ad.OAuth()
	b, err := o.Begin(url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	to, err := o.AuthURL(b, "state-1")
	if err != nil {
		t.Fatal(err)
	}
	q := oauthtest.Authorize(t, to, a.url()+crm.CallbackPath(testcrm.Provider))
	g, err := o.Exchange(ctx, b, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	setup, err := a.db.NewSetupToken(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := a.db.CreateFirstAdmin(ctx, setup, "Acme", store.NewUser{Email: "admin@acme.example", Name: "Admin", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.SaveOAuthConnection(ctx, store.OAuthConnection{WorkspaceID: admin.WorkspaceID, UserID: admin.ID,
		Provider: testcrm.Provider, ExternalID: g.ExternalID, InstanceURL: g.InstanceURL, CRMUserID: g.CRMUserID,
		AccessToken: g.AccessToken, RefreshToken: g.RefreshToken, TokenExpiresAt: g.ExpiresAt}, admin.Email); err != nil {
		t.Fatal(err)
	}
	conn, err := a.db.AddConnection(ctx, store.AddConnectionParams{Provider: testcrm.Provider, ExternalID: g.ExternalID,
		FrameOrigins: []string{extraOrigin}})
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// frameAncestors is the frame-ancestors directive of a CSP, "" when none.
func frameAncestors(csp string) string {
	for d := range strings.SplitSeq(csp, ";") {
		if d = strings.TrimSpace(d); strings.HasPrefix(d, "frame-ancestors ") {
			return d
		}
	}
	return ""
}
