package session_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// The adapters' session-bound operations (the console's configure, test
// and the card's record look-up) against each CRM's emulator, through the
// session layer on a real database.

func firstAdmin(t *testing.T, db *store.DB) *qwoty.User {
	t.Helper()
	setup, err := db.NewSetupToken(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := db.CreateFirstAdmin(ctx, setup, "Acme", store.NewUser{Email: "admin@acme.example", Name: "Admin", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	return admin
}

// stepsOf lists a report's steps as name:state, for messages.
func stepsOf(r *crm.TestReport) string {
	s := ""
	for _, st := range r.Steps {
		state := "ok"
		switch {
		case st.Skipped:
			state = "skipped"
		case !st.OK:
			state = "failed"
		}
		s += " " + st.Name + ":" + state
	}
	return s
}

// Salesforce: configure writes the secret and our URL into the org (after
// a refresh when the token died), the test explains a callout that cannot
// reach us, a missing package is package_not_installed, and a dead grant
// fails the test's first step with refresh_rejected.
func TestSalesforceAdapterThroughTheSession(t *testing.T) {
	emu := sftest.New(t, sftest.Options{})
	a := salesforce.NewAdapter(salesforce.Options{ClientID: sftest.DefaultClientID, ClientSecret: sftest.DefaultClientSecret,
		RedirectURL: sftest.DefaultCallbackURL, LoginURL: emu.URL})
	db := storetest.New(t)
	conn := connect(t, db, a, firstAdmin(t, db), sftest.DefaultCallbackURL)
	if conn.ExternalID != sftest.DefaultOrgID || conn.InstanceURL == "" {
		t.Fatalf("connection %+v: want the emulator's org", conn)
	}
	s := session.New(db, a, conn)

	const appURL = "http://127.0.0.1:1" // nothing listens: the org's callout fails
	emu.ExpireAccessTokens()
	if err := a.Configure(ctx, s, conn.Secret, appURL); err != nil {
		t.Fatalf("configure: %v", err)
	}
	if cfg := emu.Config(conn.ExternalID); cfg.Secret != string(conn.Secret) || cfg.AppURL != appURL {
		t.Fatalf("org config %+v: want the connection's secret and %s", cfg, appURL)
	}
	if n := emu.TokenCalls("refresh_token"); n != 1 {
		t.Fatalf("%d refreshes for a dead token, want 1", n)
	}

	r := a.Test(ctx, s, appURL)
	if r.OK || r.Code != qwoty.CodeTestFailed || len(r.Steps) != 4 || !r.Steps[0].OK {
		t.Fatalf("test with an unreachable app URL: ok %v code %s steps%s", r.OK, r.Code, stepsOf(r))
	}
	for _, st := range r.Steps {
		if st.Name == "callout" && (st.OK || st.Fix == "" || st.Title != "The org calls this server") {
			t.Fatalf("callout step %+v: want it failed, with its fix", st)
		}
	}

	if err := a.Unconfigure(ctx, s); err != nil {
		t.Fatalf("unconfigure: %v", err)
	}
	if cfg := emu.Config(conn.ExternalID); cfg.Secret != "" {
		t.Fatalf("org config %+v after unconfigure: want no secret", cfg)
	}

	emu.SetPackageInstalled(conn.ExternalID, false)
	err := a.Configure(ctx, s, conn.Secret, appURL)
	if qwoty.ErrorCode(err) != qwoty.CodePackageNotInstalled || qwoty.AsError(err).Hint == "" {
		t.Fatalf("configure without the package: %v; want package_not_installed with a fix", err)
	}
	emu.SetPackageInstalled(conn.ExternalID, true)

	emu.RevokeAll()
	emu.ExpireAccessTokens()
	r = a.Test(ctx, s, appURL)
	if r.OK || r.Code != qwoty.CodeRefreshRejected || r.Steps[0].OK || !r.Steps[1].Skipped || r.Message == "" {
		t.Fatalf("test after the grant was revoked: ok %v code %s steps%s; want refresh_rejected on the first step", r.OK, r.Code, stepsOf(r))
	}
}

// Pipedrive: the test reads the token's user and checks its company; the
// card's look-up reads the deal and its organization.
func TestPipedriveAdapterThroughTheSession(t *testing.T) {
	pd := pdtest.New(t, pdtest.Options{})
	a := pipedrive.NewAdapter(pipedrive.Options{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret,
		RedirectURL: pdtest.DefaultCallbackURL, OAuthURL: pd.URL})
	db := storetest.New(t)
	conn := connect(t, db, a, firstAdmin(t, db), pdtest.DefaultCallbackURL)
	if conn.ExternalID != strconv.Itoa(pdtest.DefaultCompanyID) || conn.InstanceURL != pd.URL {
		t.Fatalf("connection %+v: want the emulator's company at its api_domain", conn)
	}
	s := session.New(db, a, conn)
	if r := a.Test(ctx, s, ""); !r.OK || r.Code != "" || len(r.Steps) != 2 {
		t.Fatalf("test: ok %v code %s steps%s", r.OK, r.Code, stepsOf(r))
	}
	rec, err := a.LookupRecord(ctx, s, crm.Record{Type: "deal", ID: strconv.Itoa(pdtest.DefaultDealID)})
	if err != nil || rec.Name == "" || rec.AccountID != strconv.Itoa(pdtest.DefaultOrgID) {
		t.Fatalf("deal: %+v, %v", rec, err)
	}

	other := *conn
	other.ExternalID = "99"
	if r := a.Test(ctx, session.New(db, a, &other), ""); r.OK || r.Code != qwoty.CodeTestFailed || !r.Steps[0].OK || r.Steps[1].OK {
		t.Fatalf("test of a token of another company: ok %v code %s steps%s", r.OK, r.Code, stepsOf(r))
	}
}

// HubSpot: the test asks for the token's metadata and checks its portal.
func TestHubSpotAdapterTest(t *testing.T) {
	e := newEnv(t)
	if r := e.adapter.Test(ctx, e.session(e.db), ""); !r.OK || len(r.Steps) != 2 {
		t.Fatalf("test: ok %v code %s steps%s", r.OK, r.Code, stepsOf(r))
	}
	e.hs.ExpireAccessTokens()
	if r := e.adapter.Test(ctx, e.session(e.db), ""); !r.OK || e.hs.TokenCalls("refresh_token") != 1 {
		t.Fatalf("test with a dead token: ok %v code %s steps%s, %d refreshes; want it refreshed once and passing",
			r.OK, r.Code, stepsOf(r), e.hs.TokenCalls("refresh_token"))
	}
	other := *e.conn
	other.ExternalID = "99"
	if r := e.adapter.Test(ctx, session.New(e.db, e.adapter, &other), ""); r.OK || r.Code != qwoty.CodeTestFailed {
		t.Fatalf("test of a token of another portal: ok %v code %s steps%s", r.OK, r.Code, stepsOf(r))
	}
	e.hs.Uninstall(hstest.DefaultPortalID)
	r := e.adapter.Test(context.Background(), e.session(e.db), "")
	if r.OK || r.Code != qwoty.CodeRefreshRejected || !r.Steps[1].Skipped {
		t.Fatalf("test after uninstall: ok %v code %s steps%s; want refresh_rejected", r.OK, r.Code, stepsOf(r))
	}
}
