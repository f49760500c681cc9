package server

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// pdPanelObject is one quote of the JSON panel as Pipedrive receives it:
// its header, and the primary and sync labels when it has them.
type pdPanelObject struct {
	Header  string                `json:"header"`
	Primary *pipedrive.LabelValue `json:"primary"`
	Sync    *pipedrive.LabelValue `json:"sync"`
}

// The JSON panel is Pipedrive's own display of a deal's quotes: like the
// card, it marks the primary quote and says where each quote stands with
// Pipedrive ("Synced 2 min ago" by the server's clock, "Syncing…",
// "Failed: <Pipedrive's message>"), read from the same card answer.
func TestPipedrivePanelShowsPrimaryAndSync(t *testing.T) {
	clk := &clock{t: time.Now()}
	a := newAppOpts(t, "", clk, func(appURL string, d *Deps) {
		d.Config.Pipedrive.ClientID, d.Config.Pipedrive.ClientSecret = "pd-client", "pd-client-secret"
		d.Config.PipedriveJWTSecret = pdJWTSecret
	})
	pd := pdtest.New(t, pdtest.Options{Now: clk.Now, App: pdtest.App{ClientID: "pd-client", ClientSecret: "pd-client-secret",
		PanelJWTSecret: pdJWTSecret, CustomPanelJWTSecret: pdJWTSecret}})
	conn, err := a.db.AddConnection(context.Background(), store.AddConnectionParams{Workspace: "Acme", Provider: qwoty.ProviderPipedrive,
		ExternalID: strconv.FormatInt(pdtest.DefaultCompanyID, 10), InstanceURL: "https://acme.pipedrive.com"})
	if err != nil {
		t.Fatal(err)
	}
	syncNow(t, a.db, conn)
	const deal = "101"

	// panel loads the deal's panel as Pipedrive does; it returns the card's
	// URL and the quotes by header.
	panel := func() (string, map[string]pdPanelObject) {
		t.Helper()
		req, err := pd.PanelRequest(a.url()+pipedrive.PanelPath, pdtest.PanelParams{DealID: 101})
		if err != nil {
			t.Fatal(err)
		}
		r := do(t, req)
		var v struct {
			Data         []pdPanelObject        `json:"data"`
			ExternalLink pipedrive.ExternalLink `json:"external_link"`
		}
		if r.status != http.StatusOK || json.Unmarshal(r.body, &v) != nil {
			t.Fatalf("pipedrive panel: %d %s", r.status, r.body)
		}
		out := map[string]pdPanelObject{}
		for _, o := range v.Data {
			out[o.Header] = o
		}
		return v.ExternalLink.URL, out
	}
	label := func(l *pipedrive.LabelValue) string {
		if l == nil {
			return ""
		}
		return string(l.Color) + " " + l.Label
	}
	show := func(quotes map[string]pdPanelObject) string {
		var b strings.Builder
		for h, o := range quotes {
			fmt.Fprintf(&b, "\n%s: primary %q, sync %q", h, label(o.Primary), label(o.Sync))
		}
		return b.String()
	}

	embed, quotes := panel()
	if len(quotes) != 0 {
		t.Fatalf("a new deal's panel: %v", quotes)
	}
	_, tok := a.page(embed)
	// Each quote's header is its number: the one the panel lists anew.
	num := map[string]string{}
	var first, second string
	for _, id := range []*string{&first, &second} {
		*id = newQuote(t, a, tok)
		_, quotes = panel()
		for h := range quotes {
			if !slices.Contains(slices.Collect(maps.Values(num)), h) {
				num[*id] = h
			}
		}
	}

	_, quotes = panel()
	if p, s := quotes[num[first]], quotes[num[second]]; label(p.Primary) != "green Yes" || s.Primary != nil ||
		label(p.Sync) != "blue Syncing…" || label(s.Sync) != "blue Syncing…" {
		t.Fatalf("two new quotes (the first is primary), waiting to be pushed:%s", show(quotes))
	}

	push(t, a.db, conn, deal, store.SyncResult{Outcome: store.SyncedOutcome, CRMObject: "deal", CRMID: deal, Calls: 2})
	clk.Add(2*time.Minute + 10*time.Second)
	_, quotes = panel()
	for id, n := range num {
		if got := label(quotes[n].Sync); got != "green Synced 2 min ago" {
			t.Fatalf("quote %s, pushed 2 minutes ago: sync %q", id, got)
		}
	}

	// The second quote changes and is made primary; its push is refused.
	if r := a.action(http.MethodPut, "/embed/api/quotes/"+second+"/terms", tok, map[string]string{"title": "Renewal", "tax_rate": "0"}); r.status != http.StatusOK {
		t.Fatalf("edit: %d %s", r.status, r.body)
	}
	if r := a.send(http.MethodPost, "/embed/api/quotes/"+second+"/primary", tok, nil, true); r.status != http.StatusOK {
		t.Fatalf("make primary: %d %s", r.status, r.body)
	}
	const reason = "Deal not found"
	push(t, a.db, conn, deal, store.SyncResult{Outcome: store.FailedOutcome, Code: qwoty.CodeSyncRejected, Message: reason, Calls: 1})
	_, quotes = panel()
	renewal := num[second] + " · Renewal"
	if p, s := quotes[renewal], quotes[num[first]]; label(p.Primary) != "green Yes" || s.Primary != nil ||
		label(p.Sync) != "red Failed: "+reason {
		t.Fatalf("after the refused push of the new primary quote:%s", show(quotes))
	}
}
