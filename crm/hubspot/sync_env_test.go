package hubspot_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/crm/oauthtest"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/crm/synctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// syncEnv is sync as the engine runs it, less the engine: the adapter's
// Syncer against the emulator, through a real session on a real database
// (the connection made by the adapter's own OAuth flow), with the
// in-memory links and budget of crm/synctest.
type syncEnv struct {
	t      *testing.T
	clk    *clock
	hs     *hstest.Server
	a      *hubspot.Adapter
	db     *store.DB
	conn   *qwoty.Connection
	links  *synctest.Links
	budget *synctest.Budget
	sy     crm.Syncer
}

// newSyncEnv connects with the app's scopes, or with installScopes when
// given (an older app's).
func newSyncEnv(t *testing.T, opts hstest.Options, installScopes ...string) *syncEnv {
	t.Helper()
	e := &syncEnv{t: t, clk: newClock(), links: &synctest.Links{}}
	opts.Now = e.clk.Now
	e.hs = hstest.New(t, opts)
	// Sync's short waits for its budget move the test's clock.
	sleep := func(_ context.Context, d time.Duration) error { e.clk.Advance(d); return nil }
	e.a = hubspot.NewAdapter(hubspot.Options{ClientID: hstest.DefaultClientID, ClientSecret: hstest.DefaultClientSecret,
		RedirectURL: hstest.DefaultRedirectURL, AuthURL: e.hs.URL, APIURL: e.hs.URL, Now: e.clk.Now, Sleep: sleep})
	e.db = storetest.Open(t, storetest.NewDatabase(t), store.Options{Now: e.clk.Now})
	if installScopes != nil {
		e.conn = e.connectWith(installScopes)
	} else {
		e.conn = e.connect()
	}
	e.sy = e.a.Sync()
	e.budget = synctest.NewBudget(e.sy.Buckets(e.conn, 1)...)
	e.budget.Now = e.clk.Now
	return e
}

// connect installs the app through the adapter's OAuth flow, as the
// console does, and saves the connection with the scopes HubSpot granted.
func (e *syncEnv) connect() *qwoty.Connection {
	t := e.t
	t.Helper()
	ctx := context.Background()
	o := e.a.OAuth()
	b, err := o.Begin(url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	to, err := o.AuthURL(b, "state-1")
	if err != nil {
		t.Fatal(err)
	}
	q := oauthtest.Authorize(t, to, hstest.DefaultRedirectURL)
	g, err := o.Exchange(ctx, b, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	return e.save(g)
}

// connectWith installs an app that asks for scopes only (an older version
// of the app), as the adapter would have.
func (e *syncEnv) connectWith(scopes []string) *qwoty.Connection {
	e.t.Helper()
	app := &hubspot.OAuthApp{ClientID: hstest.DefaultClientID, ClientSecret: hstest.DefaultClientSecret,
		RedirectURL: hstest.DefaultRedirectURL, AuthURL: e.hs.URL, APIURL: e.hs.URL, Now: e.clk.Now, Scopes: scopes,
		OptionalScopes: []string{}}
	tok := connect(e.t, app)
	info, err := app.TokenInfo(context.Background(), tok.AccessToken)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.save(&crm.Grant{Token: crm.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, ExpiresAt: tok.ExpiresAt},
		ExternalID: strconv.FormatInt(info.HubID, 10), CRMUserID: info.User, Scopes: info.Scopes})
}

func (e *syncEnv) save(g *crm.Grant) *qwoty.Connection {
	t := e.t
	t.Helper()
	ctx := context.Background()
	setup, err := e.db.NewSetupToken(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := e.db.CreateFirstAdmin(ctx, setup, "Acme", store.NewUser{Email: "admin@acme.example", Name: "Admin", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := e.db.SaveOAuthConnection(ctx, store.OAuthConnection{WorkspaceID: admin.WorkspaceID, UserID: admin.ID,
		Provider: qwoty.ProviderHubSpot, ExternalID: g.ExternalID, CRMUserID: g.CRMUserID, AccessToken: g.AccessToken,
		RefreshToken: g.RefreshToken, TokenExpiresAt: g.ExpiresAt, Scopes: g.Scopes}, admin.Email)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func hubspotSession(e *syncEnv) crm.Session { return session.New(e.db, e.a, e.conn) }

// push pushes deals through a fresh session, as a job does.
func (e *syncEnv) push(deals ...crm.Deal) crm.Report {
	e.t.Helper()
	r := e.sy.Push(context.Background(), session.New(e.db, e.a, e.conn), e.budget, e.links, deals)
	if len(r.Outcomes) != len(deals) {
		e.t.Fatalf("Push gave %d outcomes for %d deals", len(r.Outcomes), len(deals))
	}
	return r
}

// pushOK pushes and fails the test unless every deal was written.
func (e *syncEnv) pushOK(deals ...crm.Deal) crm.Report {
	e.t.Helper()
	r := e.push(deals...)
	for _, o := range r.Outcomes {
		if o.Err != nil {
			e.t.Fatalf("deal %s: %v", o.RecordID, o.Err)
		}
	}
	return r
}

// deal makes a deal record in the portal and returns its id.
func (e *syncEnv) deal(n int) string {
	id := strconv.Itoa(5_000_000 + n)
	e.hs.PutDeal(hstest.DefaultPortalID, hstest.Deal{ID: id, Name: fmt.Sprintf("Deal %d", n), Amount: "10", Stage: "appointmentscheduled"})
	return id
}

// lineItems returns a deal's line items by qwoty_ref (hand-made ones under
// "").
func (e *syncEnv) lineItems(dealID string) map[string]hstest.LineItem {
	out := map[string]hstest.LineItem{}
	for _, li := range e.hs.LineItems(hstest.DefaultPortalID, dealID) {
		out[li.Properties[hubspot.RefProperty]] = li
	}
	return out
}

func (e *syncEnv) dealProps(id string) map[string]string {
	return e.hs.DealProperties(hstest.DefaultPortalID, id)
}

// line is a quote line; its net is quantity × price less the discount.
func line(id, sku, desc, qty, price, discount string) crm.LineState {
	q, p, d := decimal.RequireFromString(qty), decimal.RequireFromString(price), decimal.RequireFromString(discount)
	gross := q.Mul(p)
	return crm.LineState{ID: id, Ref: crm.Ref(crm.RefLine, id), SKU: sku, Description: desc, Quantity: q, UnitPrice: p,
		DiscountPercent: d, Net: gross.Sub(gross.Mul(d).Div(decimal.NewFromInt(100)))}
}

// quote is a primary quote of lines, its total their nets.
func quote(id string, status qwoty.Status, lines ...crm.LineState) *crm.QuoteState {
	total := decimal.Zero
	for i := range lines {
		lines[i].Position = i + 1
		total = total.Add(lines[i].Net)
	}
	return &crm.QuoteState{ID: id, Ref: crm.Ref(crm.RefQuote, id), Number: "Q-" + id, Status: status, Currency: "USD",
		Totals: qwoty.Totals{Subtotal: total, Total: total}, Primary: true, Lines: lines}
}

// dealOf is the deal record's state with q primary, its stage mapped by the
// syncer's defaults.
func (e *syncEnv) dealOf(recordID string, q *crm.QuoteState) crm.Deal {
	d := crm.Deal{RecordID: recordID, Primary: q}
	if q != nil {
		d.Stage = e.sy.DefaultStages()[q.Status]
		d.Quotes = []crm.QuoteState{*q}
	}
	return d
}

// writes counts the ledger's writes to the CRM API (OAuth calls aside).
func (e *syncEnv) writes() int {
	n := 0
	for _, w := range e.hs.Writes() {
		if len(w.Path) > 5 && w.Path[:5] == "/crm/" {
			n++
		}
	}
	return n
}
