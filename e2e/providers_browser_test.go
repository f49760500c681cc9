//go:build browser

package e2e

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/server"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// hostPage frames the URL in ?src and records the messages the card sends,
// standing in for HubSpot's iframe modal or Pipedrive's custom panel.
func hostPage(t *testing.T) *httptest.Server {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><title>Host</title><iframe id="qwoty-frame" src="%s" style="width:800px;height:600px"></iframe>
<script>window.got=[];addEventListener("message",function(e){if(e.data&&e.data.source==="qwoty")window.got.push(e.data.type)});</script>`,
			html.EscapeString(r.URL.Query().Get("src")))
	}))
	t.Cleanup(hs.Close)
	return hs
}

// TestCardFramedByHubSpotAndPipedriveHosts opens the card as each CRM does,
// inside a host page on an origin the connection allows, and checks it
// renders; a page on any other origin is refused.
func TestCardFramedByHubSpotAndPipedriveHosts(t *testing.T) {
	db := storetest.New(t)
	ln := listen(t)
	appURL := "http://" + ln.Addr().String()
	cfg := &config.Config{Env: config.Development, AppURL: appURL,
		HubSpot: config.OAuthApp{ClientID: "hs", ClientSecret: "hs-secret"}, Pipedrive: config.OAuthApp{ClientID: "pd", ClientSecret: "pd-secret"},
		PipedriveJWTSecret: "pd-jwt"}
	keys := storetest.Keys(t)
	kid, key := keys.TokenKey()
	reg := crms(cfg)
	cards := cardview.NewService(db, reg, cardview.NewTokens(time.Now, cardview.Key{ID: kid, Secret: key}), appURL, time.Now)
	srv := server.New(server.Deps{Config: cfg, DB: db, Cards: cards, CRMs: reg, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); srv.Serve(ctx, ln, time.Second) }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	host, foreign := hostPage(t), hostPage(t)
	hs := hstest.New(t, hstest.Options{App: hstest.App{ClientID: "hs", ClientSecret: "hs-secret"}})
	pd := pdtest.New(t, pdtest.Options{App: pdtest.App{ClientID: "pd", ClientSecret: "pd-secret", PanelJWTSecret: "pd-jwt", CustomPanelJWTSecret: "pd-jwt"}})
	for _, c := range []store.AddConnectionParams{
		{Workspace: "HubSpot Co", Provider: qwoty.ProviderHubSpot, ExternalID: strconv.FormatInt(hstest.DefaultPortalID, 10), FrameOrigins: []string{host.URL}},
		{Workspace: "Pipedrive Co", Provider: qwoty.ProviderPipedrive, ExternalID: strconv.FormatInt(pdtest.DefaultCompanyID, 10),
			InstanceURL: "https://acme.pipedrive.com", FrameOrigins: []string{host.URL}},
	} {
		if _, err := db.AddConnection(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}

	// HubSpot: the card's hubspot.fetch answers an embed URL for the modal.
	resp, err := http.DefaultClient.Do(hs.SignedCardRequest(appURL, hstest.DefaultPortalID, hstest.DefaultRepID, hstest.DefaultDealID))
	if err != nil {
		t.Fatal(err)
	}
	var ans cardview.Answer
	decodeJSON(t, resp, &ans)
	// Pipedrive: the custom panel's iframe URL, launched as Pipedrive does.
	pdLaunch, err := pd.CustomUIURL(appURL+pipedrive.CardPath, pdtest.CustomUIParams{DealID: 101})
	if err != nil {
		t.Fatal(err)
	}

	b, logs := browser(t)
	for _, c := range []struct{ name, src string }{{"hubspot", ans.EmbedURL}, {"pipedrive", pdLaunch}} {
		if err := bounded(b, chromedp.Navigate(host.URL+"/?src="+urlQuery(c.src))); err != nil {
			t.Fatal(err)
		}
		pctx, cancel := context.WithTimeout(b, 15*time.Second)
		ready, err := chromedp.Run(pctx, chromedp.Poll[bool]("window.got.indexOf('ready') >= 0", chromedp.WithPollingTimeout(15*time.Second)))
		cancel()
		if err != nil || !ready {
			screenshot(b, t, "framed-"+c.name)
			t.Fatalf("%s: the card never said ready to its host page: %v", c.name, err)
		}
		f := frame(b, t)
		if err := waitText(b, f, "#card h1", "Quotes"); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}

	// Any other origin is refused by frame-ancestors.
	if err := bounded(b, chromedp.Navigate(foreign.URL+"/?src="+urlQuery(ans.EmbedURL))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && !logs.has("frame-ancestors") {
		time.Sleep(100 * time.Millisecond)
	}
	if !logs.has("frame-ancestors") {
		t.Fatalf("no frame-ancestors refusal for a foreign host; console: %v", logs.lines)
	}
	time.Sleep(500 * time.Millisecond)
	if got, err := chromedp.Run(b, chromedp.Evaluate[[]string](`window.got`)); err != nil || len(got) != 0 {
		t.Fatalf("the refused card talked to the foreign page: %v, %v", got, err)
	}
}
