package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

var listedQuotePattern = regexp.MustCompile(`/embed/api/quotes/([0-9a-f-]{36})`)

// quoteIDsIn returns the quote ids a card page or fragment links to, in
// order, each once.
func quoteIDsIn(html []byte) []string {
	var ids []string
	for _, m := range listedQuotePattern.FindAllSubmatch(html, -1) {
		if id := string(m[1]); !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// crmAccount is one CRM account a workspace connects, with what the test
// made in it.
type crmAccount struct {
	name    string
	connect func(t *testing.T) *qwoty.Connection // into workspace Acme, re-enabling it when known
	// card sends the CRM's own card request for the record and returns the
	// embed URL and the quote ids the CRM's answer lists.
	card func(t *testing.T) (embedURL string, quoteIDs []string)
	// customer is the name the quotes' customer carries ("" for CRMs
	// whose card request names no account).
	customer string
	record   string // the record id the card is on
	conn     *qwoty.Connection
	quotes   []string          // newest first
	lines    map[string]string // quote id → one of its line ids
	made     map[string]string // quote id → the quote as stored once made (stored)
}

// stored is what the database holds of a quote, in its own scope.
func (acct *crmAccount) stored(t *testing.T, a *testApp, id string) string {
	t.Helper()
	q, err := a.db.GetQuote(context.Background(), scopeFor(acct.conn, acct.record), id)
	if err != nil {
		t.Fatalf("%s's quote %s: %v", acct.name, id, err)
	}
	var lines []string
	for _, l := range q.Lines {
		lines = append(lines, l.ID+" "+l.SKU+" "+l.Quantity.String()+" "+l.UnitPrice.String())
	}
	return fmt.Sprintf("%s %q %s v%d %s %s customer %q lines %v", q.Number, q.Title, q.Status, q.Version, q.Currency,
		q.Totals.Total.StringFixed(2), q.CustomerName, lines)
}

// A workspace goes from a HubSpot portal (deal 42) to a Pipedrive company
// (deal 42), to a Salesforce org, to that org's sandbox (a copy: the same
// record ids) and back to the HubSpot portal. On every surface (the CRM's
// card answer, the card page, its list and each action through the page
// token) an account sees and edits its own quotes only: another account's
// quote ids answer 404 not_found, and the portal's quotes come back when it
// reconnects. The console lists no quotes, so it has nothing to leak.
func TestQuotesStayWithTheirCRMAccountOnEverySurface(t *testing.T) {
	a := newAppWith(t, "", func(appURL string, d *Deps) {
		d.Config.Pipedrive.ClientID, d.Config.Pipedrive.ClientSecret = "pd-client", "pd-client-secret"
		d.Config.PipedriveJWTSecret = pdJWTSecret
		d.Config.HubSpot.ClientID, d.Config.HubSpot.ClientSecret = "hs-client", hsClientSecret
	})
	hs := hstest.New(t, hstest.Options{App: hstest.App{ClientID: "hs-client", ClientSecret: hsClientSecret}})
	pd := pdtest.New(t, pdtest.Options{App: pdtest.App{ClientID: "pd-client", ClientSecret: "pd-client-secret",
		PanelJWTSecret: pdJWTSecret, CustomPanelJWTSecret: pdJWTSecret}})
	const deal = 42
	add := func(t *testing.T, p store.AddConnectionParams) *qwoty.Connection {
		t.Helper()
		p.Workspace = "Acme"
		c, err := a.db.AddConnection(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	salesforce := func(name, org, myDomain string) *crmAccount {
		acct := &crmAccount{name: name, customer: "Customer of " + name, record: recordA}
		org = orgID(t, org)
		acct.connect = func(t *testing.T) *qwoty.Connection {
			return add(t, store.AddConnectionParams{Provider: qwoty.ProviderSalesforce, ExternalID: org, MyDomain: myDomain})
		}
		acct.card = func(t *testing.T) (string, []string) {
			// The same account id in both orgs, named differently: the
			// quotes' customer shows whose it is.
			ans := do(t, a.request(callout{org: org, secret: acct.conn.Secret, body: body(recordA, accountA, "Customer of "+name, "USD")})).answer(t)
			var ids []string
			for _, q := range ans.Quotes {
				ids = append(ids, q.ID)
			}
			return ans.EmbedURL, ids
		}
		return acct
	}
	hubspot := &crmAccount{name: "hubspot portal", record: strconv.Itoa(deal),
		connect: func(t *testing.T) *qwoty.Connection {
			return add(t, store.AddConnectionParams{Provider: qwoty.ProviderHubSpot, ExternalID: strconv.FormatInt(hstest.DefaultPortalID, 10)})
		},
		card: func(t *testing.T) (string, []string) {
			ans := do(t, hs.SignedCardRequest(a.url(), hstest.DefaultPortalID, hstest.DefaultRepID, strconv.Itoa(deal))).answer(t)
			var ids []string
			for _, q := range ans.Quotes {
				ids = append(ids, q.ID)
			}
			return ans.EmbedURL, ids
		},
	}
	pipedriveCompany := &crmAccount{name: "pipedrive company", record: strconv.Itoa(deal),
		connect: func(t *testing.T) *qwoty.Connection {
			return add(t, store.AddConnectionParams{Provider: qwoty.ProviderPipedrive,
				ExternalID: strconv.FormatInt(pdtest.DefaultCompanyID, 10), InstanceURL: "https://acme.pipedrive.com"})
		},
		card: func(t *testing.T) (string, []string) {
			req, err := pd.PanelRequest(a.url()+pipedrive.PanelPath, pdtest.PanelParams{DealID: deal})
			if err != nil {
				t.Fatal(err)
			}
			r := do(t, req)
			var panel pipedrive.PanelResponse
			if r.status != http.StatusOK || json.Unmarshal(r.body, &panel) != nil {
				t.Fatalf("pipedrive panel: %d %s", r.status, r.body)
			}
			var ids []string
			for _, o := range panel.Data {
				u, err := url.Parse(o.Open.Value)
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, u.Query().Get("quote"))
			}
			return panel.ExternalLink.URL, ids
		},
	}
	accounts := []*crmAccount{hubspot, pipedriveCompany,
		salesforce("salesforce org", "00D00000000000C", "acme"), salesforce("salesforce sandbox", "00D00000000000D", "acme--uat.sandbox")}

	// open asks the CRM for the card, checks the answer and the card page
	// list exactly acct's quotes, and returns the page token.
	open := func(t *testing.T, acct *crmAccount) (embedURL, token string) {
		t.Helper()
		embedURL, listed := acct.card(t)
		if !slices.Equal(listed, acct.quotes) {
			t.Fatalf("%s: the CRM's card answer lists %v, want its own quotes %v", acct.name, listed, acct.quotes)
		}
		page, token := a.page(embedURL)
		if page.status != http.StatusOK || token == "" {
			t.Fatalf("%s: card page %d", acct.name, page.status)
		}
		if got := quoteIDsIn(page.body); !slices.Equal(got, acct.quotes) {
			t.Fatalf("%s: the card page lists %v, want its own quotes %v", acct.name, got, acct.quotes)
		}
		if r := a.action(http.MethodGet, "/embed/api/quotes", token, nil); r.status != http.StatusOK || !slices.Equal(quoteIDsIn(r.body), acct.quotes) {
			t.Fatalf("%s: the list action: %d, lists %v, want its own quotes %v", acct.name, r.status, quoteIDsIn(r.body), acct.quotes)
		}
		for _, id := range acct.quotes {
			r := a.action(http.MethodGet, "/embed/api/quotes/"+id, token, nil)
			if r.status != http.StatusOK || !strings.Contains(string(r.body), `id="line-`+acct.lines[id]) {
				t.Fatalf("%s: its own quote %s: %d\n%s", acct.name, id, r.status, r.body)
			}
			if acct.customer != "" && !strings.Contains(string(r.body), ">"+acct.customer+"<") {
				t.Fatalf("%s: its own quote %s does not show its customer %q\n%s", acct.name, id, acct.customer, r.body)
			}
		}
		return embedURL, token
	}
	// intrude tries every read and write of other's quotes and lines with
	// acct's session: each must be not_found, and the card page opened on
	// other's quote shows acct's list instead.
	intrude := func(t *testing.T, acct, other *crmAccount, embedURL, token string) {
		t.Helper()
		for _, id := range other.quotes {
			line := other.lines[id]
			attempts := []struct {
				method, path string
				form         map[string]string
			}{
				{http.MethodGet, "/embed/api/quotes/" + id, nil},
				{http.MethodPut, "/embed/api/quotes/" + id + "/terms", map[string]string{"title": "hijacked", "currency": "EUR", "tax_rate": "5"}},
				{http.MethodPost, "/embed/api/quotes/" + id + "/status", map[string]string{"status": "sent"}},
				{http.MethodPost, "/embed/api/quotes/" + id + "/lines", map[string]string{"sku": "X", "quantity": "1", "unit_price": "1"}},
				{http.MethodPut, "/embed/api/quotes/" + id + "/lines/" + line, map[string]string{"sku": "X", "quantity": "9", "unit_price": "9"}},
				{http.MethodDelete, "/embed/api/quotes/" + id + "/lines/" + line, nil},
				{http.MethodPost, "/embed/api/quotes/" + id + "/revise", nil},
				{http.MethodGet, "/embed/api/quotes/" + id + "/versions", nil},
				{http.MethodGet, "/embed/api/quotes/" + id + "/versions/diff?from=1&to=1", nil},
			}
			for _, at := range attempts {
				r := a.action(at.method, at.path, token, at.form)
				if r.status != http.StatusNotFound {
					t.Fatalf("%s: %s %s on %s's quote: %d, want 404 not_found", acct.name, at.method, at.path, other.name, r.status)
				}
				r.wantError(t, http.StatusNotFound, qwoty.CodeNotFound)
			}
			// Nor did acct's card requests rename the quote's customer.
			if got := other.stored(t, a, id); got != other.made[id] {
				t.Fatalf("%s's quote after %s's session tried it:\n%s\nwant it as made:\n%s", other.name, acct.name, got, other.made[id])
			}
			page, _ := a.page(embedURL + "&quote=" + id)
			if page.status != http.StatusOK || strings.Contains(string(page.body), id) {
				t.Fatalf("%s: the card page opened on %s's quote %s: %d, shows it: %v", acct.name, other.name, id, page.status, strings.Contains(string(page.body), id))
			}
		}
	}
	// create makes two quotes on acct's record through its card, each with a
	// line, and opens each from the CRM's quote URL.
	create := func(t *testing.T, acct *crmAccount, embedURL, token string) {
		t.Helper()
		acct.lines, acct.made = map[string]string{}, map[string]string{}
		for range 2 {
			r := a.action(http.MethodPost, "/embed/api/quotes", token, nil)
			m := quoteIDPattern.FindSubmatch(r.body)
			if r.status != http.StatusCreated || m == nil {
				t.Fatalf("%s: create: %d %s", acct.name, r.status, r.body)
			}
			id := string(m[1])
			r = a.action(http.MethodPost, "/embed/api/quotes/"+id+"/lines", token, map[string]string{"sku": "LIC", "quantity": "2", "unit_price": "50"})
			lm := lineIDPattern.FindSubmatch(r.body)
			if r.status != http.StatusOK || lm == nil {
				t.Fatalf("%s: add line: %d %s", acct.name, r.status, r.body)
			}
			acct.lines[id] = string(lm[1])
			acct.made[id] = acct.stored(t, a, id)
			acct.quotes = append([]string{id}, acct.quotes...)
			if page, _ := a.page(embedURL + "&quote=" + id); page.status != http.StatusOK || !strings.Contains(string(page.body), `id="line-`+acct.lines[id]) {
				t.Fatalf("%s: the card page opened on its own quote %s: %d", acct.name, id, page.status)
			}
		}
	}

	for i, acct := range accounts {
		if i > 0 {
			if err := a.db.Disconnect(context.Background(), accounts[i-1].conn.ID, "test"); err != nil {
				t.Fatal(err)
			}
		}
		acct.conn = acct.connect(t)
		embedURL, token := open(t, acct) // nothing yet: the earlier accounts' quotes are not this one's
		create(t, acct, embedURL, token)
		embedURL, token = open(t, acct)
		for _, other := range accounts[:i] {
			intrude(t, acct, other, embedURL, token)
		}
	}

	// The portal reconnects: the same connection, its quotes as it left
	// them (still editable), nothing of the others'.
	if err := a.db.Disconnect(context.Background(), accounts[len(accounts)-1].conn.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if again := hubspot.connect(t); again.ID != hubspot.conn.ID {
		t.Fatalf("reconnecting the portal made connection %s, want the same %s", again.ID, hubspot.conn.ID)
	}
	embedURL, token := open(t, hubspot)
	for _, other := range accounts[1:] {
		intrude(t, hubspot, other, embedURL, token)
	}
	for _, id := range hubspot.quotes {
		r := a.action(http.MethodGet, "/embed/api/quotes/"+id, token, nil)
		if !strings.Contains(string(r.body), "id=\"total\">USD\u00a0100.00") || !strings.Contains(string(r.body), `id="line-`+hubspot.lines[id]) {
			t.Fatalf("the portal's quote %s after reconnecting: %d\n%s", id, r.status, r.body)
		}
		if r := a.action(http.MethodPut, "/embed/api/quotes/"+id+"/lines/"+hubspot.lines[id], token,
			map[string]string{"sku": "LIC", "quantity": "3", "unit_price": "50"}); !strings.Contains(string(r.body), "id=\"total\">USD\u00a0150.00") {
			t.Fatalf("editing the portal's quote %s after reconnecting: %d\n%s", id, r.status, r.body)
		}
	}
}
