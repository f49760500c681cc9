package server

import (
	"context"
	"net/http"
	"testing"

	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store/storetest"
)

// Only a request that is single-use writes a nonce: HubSpot's card fetch
// and Pipedrive's panel, launch and session requests, answered twice each,
// leave seen_nonces empty, while a Salesforce callout's nonce is claimed and
// its replay refused.
func TestOnlySingleUseRequestsWriteNonces(t *testing.T) {
	a := newAppWith(t, "", func(appURL string, d *Deps) {
		d.Config.Pipedrive.ClientID, d.Config.Pipedrive.ClientSecret = "pd-client", "pd-client-secret"
		d.Config.PipedriveJWTSecret = pdJWTSecret
		d.Config.HubSpot.ClientID, d.Config.HubSpot.ClientSecret = "hs-client", hsClientSecret
	})
	hs := hstest.New(t, hstest.Options{App: hstest.App{ClientID: "hs-client", ClientSecret: hsClientSecret}})
	pd := pdtest.New(t, pdtest.Options{App: pdtest.App{ClientID: "pd-client", ClientSecret: "pd-client-secret",
		PanelJWTSecret: pdJWTSecret, CustomPanelJWTSecret: pdJWTSecret}})
	hubspotHarness(&hs).connect(t, a, "HubSpot workspace")
	pipedriveHarness(t, &pd).connect(t, a, "Pipedrive workspace")
	nonces := func() int {
		t.Helper()
		var n int
		if err := storetest.Pool(t, a.db).QueryRow(context.Background(), "SELECT count(*) FROM seen_nonces").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	for range 2 {
		do(t, hs.SignedCardRequest(a.url(), hstest.DefaultPortalID, hstest.DefaultRepID, hstest.DefaultDealID)).answer(t)
		panel, err := pd.PanelRequest(a.url()+pipedrive.PanelPath, pdtest.PanelParams{DealID: 101})
		if err != nil {
			t.Fatal(err)
		}
		if r := do(t, panel); r.status != http.StatusOK {
			t.Fatalf("pipedrive panel: %d %s", r.status, r.body)
		}
		launch, err := pd.CustomUIURL(a.url()+pipedrive.CardPath, pdtest.CustomUIParams{DealID: 101})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, launch, nil)
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("pipedrive launch: %d, want 303 to the card", resp.StatusCode)
		}
		tok, err := pd.SignedToken(0)
		if err != nil {
			t.Fatal(err)
		}
		sreq, _ := http.NewRequest(http.MethodPost, a.url()+"/embed/pipedrive/session?resource=deal&view=details&selectedIds=101&token="+tok, nil)
		if r := do(t, sreq); r.status != http.StatusOK {
			t.Fatalf("pipedrive session: %d %s", r.status, r.body)
		}
	}
	if n := nonces(); n != 0 {
		t.Fatalf("HubSpot and Pipedrive requests left %d nonces, want none", n)
	}

	org := orgID(t, "00D00000000000A")
	secret := a.connect("Salesforce workspace", org, "acme").Secret
	co := callout{org: org, secret: secret, body: body(recordA, accountA, "Acme", "USD"), nonce: "nonce-of-one-salesforce-callout"}
	do(t, a.request(co)).answer(t)
	if n := nonces(); n != 1 {
		t.Fatalf("a Salesforce callout left %d nonces, want its one", n)
	}
	do(t, a.request(co)).wantError(t, http.StatusConflict, qwoty.CodeReplayedRequest)
}
