package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// crmHarness is one CRM as the card core sees it: how to connect an account,
// and how to send the card request exactly as that CRM sends it.
type crmHarness struct {
	name     qwoty.Provider
	connect  func(t *testing.T, a *testApp, workspace string) (account string)
	request  func(t *testing.T, a *testApp, account, record string) (embedURL string, quotes []string)
	record   string
	framedBy string
}

const pdJWTSecret = "pipedrive-panel-jwt-secret"

func pipedriveHarness(t *testing.T, pd **pdtest.Server) crmHarness {
	return crmHarness{
		name:     qwoty.ProviderPipedrive,
		record:   "101",
		framedBy: "https://acme.pipedrive.com",
		connect: func(t *testing.T, a *testApp, ws string) string {
			acct := strconv.FormatInt(pdtest.DefaultCompanyID, 10)
			if _, err := a.db.AddConnection(context.Background(), store.AddConnectionParams{Workspace: ws, Provider: qwoty.ProviderPipedrive,
				ExternalID: acct, InstanceURL: "https://acme.pipedrive.com"}); err != nil {
				t.Fatal(err)
			}
			return acct
		},
		request: func(t *testing.T, a *testApp, acct, record string) (string, []string) {
			deal, _ := strconv.ParseInt(record, 10, 64)
			req, err := (*pd).PanelRequest(a.url()+pipedrive.PanelPath, pdtest.PanelParams{DealID: deal})
			if err != nil {
				t.Fatal(err)
			}
			r := do(t, req)
			if r.status != 200 {
				t.Fatalf("pipedrive panel: %d %s", r.status, r.body)
			}
			var panel pipedrive.PanelResponse
			if err := json.Unmarshal(r.body, &panel); err != nil {
				t.Fatal(err)
			}
			var headers []string
			for _, o := range panel.Data {
				headers = append(headers, o.Header)
			}
			return panel.ExternalLink.URL, headers
		},
	}
}

const hsClientSecret = "hubspot-client-secret"

func hubspotHarness(hs **hstest.Server) crmHarness {
	return crmHarness{
		name:     qwoty.ProviderHubSpot,
		record:   hstest.DefaultDealID,
		framedBy: "https://app.hubspot.com",
		connect: func(t *testing.T, a *testApp, ws string) string {
			acct := strconv.FormatInt(hstest.DefaultPortalID, 10)
			if _, err := a.db.AddConnection(context.Background(), store.AddConnectionParams{Workspace: ws, Provider: qwoty.ProviderHubSpot, ExternalID: acct}); err != nil {
				t.Fatal(err)
			}
			return acct
		},
		request: func(t *testing.T, a *testApp, acct, record string) (string, []string) {
			r := do(t, (*hs).SignedCardRequest(a.url(), hstest.DefaultPortalID, hstest.DefaultRepID, record))
			ans := r.answer(t)
			var out []string
			for _, q := range ans.Quotes {
				out = append(out, q.Number+" "+q.Title)
			}
			return ans.EmbedURL, out
		},
	}
}

func salesforceHarness() crmHarness {
	var secret []byte
	return crmHarness{
		name:     qwoty.ProviderSalesforce,
		record:   recordA,
		framedBy: "https://acme.lightning.force.com",
		connect: func(t *testing.T, a *testApp, ws string) string {
			org := orgID(t, "00D00000000000A")
			secret = a.connect(ws, org, "acme").Secret
			return org
		},
		request: func(t *testing.T, a *testApp, org, record string) (string, []string) {
			ans := do(t, a.request(callout{org: org, secret: secret, body: body(record, accountA, "Acme", "USD")})).answer(t)
			var out []string
			for _, q := range ans.Quotes {
				out = append(out, q.Number+" "+q.Title)
			}
			return ans.EmbedURL, out
		},
	}
}

// TestSameCardScenarioThroughEachCRM runs one scenario through every CRM:
// the CRM's signed request lists nothing, the card it opens is framed only
// by that CRM's origins, a quote made and priced there, and the CRM's next
// request lists it. The handlers differ only in their verifier and the
// answer's shape; everything else is the one core.
func TestSameCardScenarioThroughEachCRM(t *testing.T) {
	var pd *pdtest.Server
	var hs *hstest.Server
	harnesses := []crmHarness{salesforceHarness(), pipedriveHarness(t, &pd), hubspotHarness(&hs)}
	for _, h := range harnesses {
		t.Run(string(h.name), func(t *testing.T) {
			a := newAppWith(t, "", func(appURL string, d *Deps) {
				d.Config.Pipedrive.ClientID, d.Config.Pipedrive.ClientSecret = "pd-client", "pd-client-secret"
				d.Config.PipedriveJWTSecret = pdJWTSecret
				d.Config.HubSpot.ClientID, d.Config.HubSpot.ClientSecret = "hs-client", hsClientSecret
			})
			hs = hstest.New(t, hstest.Options{App: hstest.App{ClientID: "hs-client", ClientSecret: hsClientSecret}})
			pd = pdtest.New(t, pdtest.Options{App: pdtest.App{ClientID: "pd-client", ClientSecret: "pd-client-secret",
				PanelJWTSecret: pdJWTSecret, CustomPanelJWTSecret: pdJWTSecret}})
			acct := h.connect(t, a, "Acme")

			embed, quotes := h.request(t, a, acct, h.record)
			if len(quotes) != 0 || !strings.HasPrefix(embed, a.url()+"/embed/"+string(h.name)+"/card?token=") {
				t.Fatalf("first request: embed %q, quotes %v", embed, quotes)
			}
			page, tok := a.page(embed)
			if page.status != 200 || tok == "" {
				t.Fatalf("card page: %d", page.status)
			}
			if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors "+h.framedBy) || strings.Contains(csp, "*") {
				t.Fatalf("card CSP = %q, want frame-ancestors %s", csp, h.framedBy)
			}
			r := a.action(http.MethodPost, "/embed/api/quotes", tok, nil)
			id := string(quoteIDPattern.FindSubmatch(r.body)[1])
			r = a.action(http.MethodPost, "/embed/api/quotes/"+id+"/lines", tok, map[string]string{"sku": "LIC", "quantity": "2", "unit_price": "50"})
			if !strings.Contains(string(r.body), `id="total">`) {
				t.Fatalf("add line: %d %s", r.status, r.body)
			}
			_, quotes = h.request(t, a, acct, h.record)
			if len(quotes) != 1 || !strings.HasPrefix(quotes[0], "Q-00001") {
				t.Fatalf("second request lists %v, want Q-00001", quotes)
			}
		})
	}
}

func TestPipedrivePanelRefusals(t *testing.T) {
	a := newAppWith(t, "", func(appURL string, d *Deps) {
		d.Config.Pipedrive.ClientID, d.Config.Pipedrive.ClientSecret = "pd-client", "pd-client-secret"
		d.Config.PipedriveJWTSecret = pdJWTSecret
	})
	pd := pdtest.New(t, pdtest.Options{App: pdtest.App{ClientID: "pd-client", ClientSecret: "pd-client-secret",
		PanelJWTSecret: pdJWTSecret, CustomPanelJWTSecret: pdJWTSecret}})
	panel := func(mutate func(*http.Request)) response {
		req, err := pd.PanelRequest(a.url()+pipedrive.PanelPath, pdtest.PanelParams{DealID: 101})
		if err != nil {
			t.Fatal(err)
		}
		if mutate != nil {
			mutate(req)
		}
		return do(t, req)
	}
	// Not connected yet.
	panel(nil).wantError(t, 404, qwoty.CodeOrgNotConnected)
	if _, err := a.db.AddConnection(context.Background(), store.AddConnectionParams{Workspace: "Acme", Provider: qwoty.ProviderPipedrive,
		ExternalID: strconv.FormatInt(pdtest.DefaultCompanyID, 10), InstanceURL: "https://acme.pipedrive.com"}); err != nil {
		t.Fatal(err)
	}
	if r := panel(nil); r.status != 200 {
		t.Fatalf("connected: %d %s", r.status, r.body)
	}
	setQuery := func(k, v string) func(*http.Request) {
		return func(r *http.Request) {
			q := r.URL.Query()
			if v == "" {
				q.Del(k)
			} else {
				q.Set(k, v)
			}
			r.URL.RawQuery = q.Encode()
		}
	}
	panel(setQuery("token", "")).wantError(t, 401, qwoty.CodeSignatureMissing)
	panel(func(r *http.Request) {
		q := r.URL.Query()
		tok := q.Get("token")
		q.Set("token", tok[:len(tok)-3]+"AAA")
		r.URL.RawQuery = q.Encode()
	}).wantError(t, 401, qwoty.CodeSignatureInvalid)
	// The unsigned query cannot move the request to another company.
	r := panel(setQuery("companyId", "999999"))
	if r.status != 200 {
		t.Fatalf("a forged companyId changed the outcome: %d", r.status)
	}
	panel(setQuery("selectedIds", "abc")).wantError(t, 400, qwoty.CodeBadRequest)

	// A refused launch still shows inside Pipedrive's panel.
	bad, _ := pd.CustomUIURL(a.url()+pipedrive.CardPath, pdtest.CustomUIParams{DealID: 101})
	bad = strings.Replace(bad, "token=", "token=x", 1)
	req0, _ := http.NewRequest(http.MethodGet, bad, nil)
	refused := do(t, req0)
	if refused.status != 401 || !strings.Contains(refused.header.Get("Content-Security-Policy"), "frame-ancestors https://*.pipedrive.com") ||
		!strings.Contains(string(refused.body), "pipedrive.js") || !strings.Contains(string(refused.body), "signature_invalid") {
		t.Fatalf("refused launch: %d %q\n%s", refused.status, refused.header.Get("Content-Security-Policy"), refused.body)
	}

	// The custom panel's launch URL exchanges Pipedrive's token for the card.
	launch, err := pd.CustomUIURL(a.url()+pipedrive.CardPath, pdtest.CustomUIParams{DealID: 101})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, launch, nil)
	card := do(t, req) // follows the redirect to the card
	if card.status != 200 || !strings.Contains(string(card.body), `name="qwoty-page-token"`) ||
		!strings.Contains(card.header.Get("Content-Security-Policy"), "frame-ancestors https://acme.pipedrive.com") {
		t.Fatalf("custom panel launch: %d %q", card.status, card.header.Get("Content-Security-Policy"))
	}
}

func TestHubSpotCardRefusals(t *testing.T) {
	a := newAppWith(t, "", func(appURL string, d *Deps) {
		d.Config.HubSpot.ClientID, d.Config.HubSpot.ClientSecret = "hs-client", hsClientSecret
	})
	hs := hstest.New(t, hstest.Options{App: hstest.App{ClientID: "hs-client", ClientSecret: hsClientSecret}})
	portal := strconv.FormatInt(hstest.DefaultPortalID, 10)
	card := func(opts ...hstest.CardOption) response {
		return do(t, hs.SignedCardRequest(a.url(), hstest.DefaultPortalID, hstest.DefaultRepID, hstest.DefaultDealID, opts...))
	}
	card().wantError(t, 404, qwoty.CodeOrgNotConnected)
	if _, err := a.db.AddConnection(context.Background(), store.AddConnectionParams{Workspace: "Acme", Provider: qwoty.ProviderHubSpot, ExternalID: portal}); err != nil {
		t.Fatal(err)
	}
	card().answer(t)
	card(hstest.SignedWith("not-the-client-secret")).wantError(t, 401, qwoty.CodeSignatureInvalid)
	card(hstest.SignedAt(time.Now().Add(-6*time.Minute))).wantError(t, 401, qwoty.CodeTimestampOutOfRange)
	card(hstest.OnObjectType("COMPANY")).wantError(t, 400, qwoty.CodeBadRequest)
	r := hs.SignedCardRequest(a.url(), hstest.DefaultPortalID, hstest.DefaultRepID, hstest.DefaultDealID)
	r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "associatedObjectId="+hstest.DefaultDealID, "associatedObjectId=999", 1)
	do(t, r).wantError(t, 401, qwoty.CodeSignatureInvalid) // the record is under the signature
	r = hs.SignedCardRequest(a.url(), hstest.DefaultPortalID, hstest.DefaultRepID, hstest.DefaultDealID)
	r.Header.Del("X-HubSpot-Signature-v3")
	do(t, r).wantError(t, 401, qwoty.CodeSignatureMissing)

	// A second portal never sees the first one's quotes for the same deal id.
	ans := card().answer(t)
	_, tok := a.page(ans.EmbedURL)
	a.action(http.MethodPost, "/embed/api/quotes", tok, nil)
	if got := card().answer(t); len(got.Quotes) != 1 {
		t.Fatalf("portal A lists %d quotes", len(got.Quotes))
	}
	other := int64(88888)
	hs2 := hstest.New(t, hstest.Options{App: hstest.App{ClientID: "hs-client", ClientSecret: hsClientSecret},
		Portals: []hstest.Portal{{ID: other, Domain: "other.example", Users: []hstest.User{{ID: 2002, Email: "rep@other.example"}}}}})
	if _, err := a.db.AddConnection(context.Background(), store.AddConnectionParams{Workspace: "Other", Provider: qwoty.ProviderHubSpot, ExternalID: strconv.FormatInt(other, 10)}); err != nil {
		t.Fatal(err)
	}
	if got := do(t, hs2.SignedCardRequest(a.url(), other, 2002, hstest.DefaultDealID)).answer(t); len(got.Quotes) != 0 {
		t.Fatalf("portal B sees %d of portal A's quotes", len(got.Quotes))
	}
}

func TestPipedriveSessionExchangesAnSDKToken(t *testing.T) {
	a := newAppWith(t, "", func(appURL string, d *Deps) {
		d.Config.Pipedrive.ClientID, d.Config.Pipedrive.ClientSecret = "pd-client", "pd-client-secret"
		d.Config.PipedriveJWTSecret = pdJWTSecret
	})
	pd := pdtest.New(t, pdtest.Options{App: pdtest.App{ClientID: "pd-client", ClientSecret: "pd-client-secret",
		PanelJWTSecret: pdJWTSecret, CustomPanelJWTSecret: pdJWTSecret}})
	if _, err := a.db.AddConnection(context.Background(), store.AddConnectionParams{Workspace: "Acme", Provider: qwoty.ProviderPipedrive,
		ExternalID: strconv.FormatInt(pdtest.DefaultCompanyID, 10), InstanceURL: "https://acme.pipedrive.com"}); err != nil {
		t.Fatal(err)
	}
	tok, err := pd.SignedToken(0) // what GET_SIGNED_TOKEN gives the page
	if err != nil {
		t.Fatal(err)
	}
	exchange := func(token string) response {
		req, _ := http.NewRequest(http.MethodPost, a.url()+"/embed/pipedrive/session?resource=deal&view=details&selectedIds=101&token="+token, nil)
		return do(t, req)
	}
	r := exchange(tok)
	var out struct{ EmbedURL string }
	if r.status != 200 || json.Unmarshal(r.body, &out) != nil || !strings.HasPrefix(out.EmbedURL, a.url()+"/embed/pipedrive/card?token=") {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	if page, pageTok := a.page(out.EmbedURL); page.status != 200 || pageTok == "" {
		t.Fatalf("the exchanged card does not open: %d", page.status)
	}
	exchange(tok[:len(tok)-2]+"xx").wantError(t, 401, qwoty.CodeSignatureInvalid)
}
