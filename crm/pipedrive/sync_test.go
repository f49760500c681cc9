package pipedrive_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/oauthtest"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/crm/synctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// The Syncer against the emulator, through the real session layer on a
// real database; links and budget are synctest's (the engine's own are
// tested in crmsync).

const company = pdtest.DefaultCompanyID

// syncEnv is one connected company.
type syncEnv struct {
	pd     *pdtest.Server
	y      *pipedrive.Syncer
	s      crm.Session
	conn   *qwoty.Connection
	links  *synctest.Links
	budget *synctest.Budget
}

// newSyncEnv installs the app with the sync scopes and opens the session.
func newSyncEnv(t *testing.T, opts pdtest.Options) *syncEnv {
	t.Helper()
	if len(opts.App.Scopes) == 0 {
		opts.App = pdtest.App{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret, Scopes: pdtest.SyncScopes}
	}
	pd := pdtest.New(t, opts)
	a := pipedrive.NewAdapter(pipedrive.Options{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret,
		RedirectURL: pdtest.DefaultCallbackURL, OAuthURL: pd.URL})
	db := storetest.New(t)
	conn := connectDB(t, db, a)
	y := a.Sync().(*pipedrive.Syncer)
	if err := y.Ready(conn); err != nil {
		t.Fatalf("ready: %v", err)
	}
	return &syncEnv{pd: pd, y: y, s: session.New(db, a, conn), conn: conn, links: &synctest.Links{}, budget: synctest.NewBudget()}
}

// connectDB installs the app as the console does and keeps the connection
// with the scopes granted.
func connectDB(t *testing.T, db *store.DB, a crm.Adapter) *qwoty.Connection {
	t.Helper()
	ctx := context.Background()
	setup, err := db.NewSetupToken(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := db.CreateFirstAdmin(ctx, setup, "Acme", store.NewUser{Email: "admin@acme.example", Name: "Admin", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	o := a.OAuth()
	b, _ := o.Begin(url.Values{})
	to, err := o.AuthURL(b, "state-1")
	if err != nil {
		t.Fatal(err)
	}
	q := oauthtest.Authorize(t, to, pdtest.DefaultCallbackURL)
	g, err := o.Exchange(ctx, b, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.SaveOAuthConnection(ctx, store.OAuthConnection{WorkspaceID: admin.WorkspaceID, UserID: admin.ID,
		Provider: qwoty.ProviderPipedrive, ExternalID: g.ExternalID, InstanceURL: g.InstanceURL, CRMUserID: g.CRMUserID,
		AccessToken: g.AccessToken, RefreshToken: g.RefreshToken, TokenExpiresAt: g.ExpiresAt, Scopes: g.Scopes}, admin.Email)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func (e *syncEnv) push(deals ...crm.Deal) crm.Report {
	return e.y.Push(context.Background(), e.s, e.budget, e.links, deals)
}

// pushOK pushes and fails the test on any deal's error.
func (e *syncEnv) pushOK(t *testing.T, deals ...crm.Deal) crm.Report {
	t.Helper()
	r := e.push(deals...)
	for _, o := range r.Outcomes {
		if o.Err != nil {
			t.Fatalf("deal %s: %v", o.RecordID, o.Err)
		}
	}
	return r
}

// line is a quote line: its id's last digits, SKU, description, quantity,
// unit price and discount percent.
func line(n int, sku, desc, qty, price, disc string) crm.LineState {
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	q, p, d := decimal.RequireFromString(qty), decimal.RequireFromString(price), decimal.RequireFromString(disc)
	gross := q.Mul(p)
	return crm.LineState{ID: id, Ref: crm.Ref(crm.RefLine, id), Position: n, SKU: sku, Description: desc, Quantity: q,
		UnitPrice: p, DiscountPercent: d, Net: gross.Sub(gross.Mul(d).Div(decimal.NewFromInt(100))).Round(2)}
}

// quote is a primary quote of lines in EUR, its total their nets.
func pquote(id string, lines ...crm.LineState) *crm.QuoteState {
	total := decimal.Zero
	for _, l := range lines {
		total = total.Add(l.Net)
	}
	return &crm.QuoteState{ID: id, Ref: crm.Ref(crm.RefQuote, id), Currency: "EUR", Status: qwoty.StatusDraft, Primary: true,
		Totals: qwoty.Totals{Subtotal: total, Total: total}, Lines: lines}
}

func dealOf(id int64, q *crm.QuoteState, stage string) crm.Deal {
	d := crm.Deal{RecordID: strconv.FormatInt(id, 10), Primary: q, Stage: stage}
	if q != nil {
		d.Quotes = []crm.QuoteState{*q}
	}
	return d
}

// products returns a deal's products by the line reference their comments
// carry ("" for those without one).
func (e *syncEnv) products(t *testing.T, dealID int64) map[string][]pdtest.DealProduct {
	t.Helper()
	out := map[string][]pdtest.DealProduct{}
	for _, p := range e.pd.DealProducts(company, dealID) {
		ref := ""
		if i := strings.Index(p.Comments, "qwoty:line:"); i >= 0 {
			ref = p.Comments[i:]
		}
		out[ref] = append(out[ref], p)
	}
	return out
}

// wantLines checks that a deal holds exactly one product per line, with
// the line's figures, and that the links know each.
func (e *syncEnv) wantLines(t *testing.T, dealID int64, lines ...crm.LineState) {
	t.Helper()
	got := e.products(t, dealID)
	n := 0
	for ref, ps := range got {
		if ref != "" {
			n += len(ps)
		}
	}
	if n != len(lines) {
		t.Fatalf("deal %d has %d of Qwoty's products (%v), want %d", dealID, n, got, len(lines))
	}
	for _, l := range lines {
		ps := got[l.Ref]
		if len(ps) != 1 {
			t.Fatalf("deal %d has %d products for %s, want 1", dealID, len(ps), l.Ref)
		}
		p := ps[0]
		if !p.Quantity.Equal(l.Quantity) || !p.ItemPrice.Equal(l.UnitPrice) || !p.Discount.Equal(l.DiscountPercent) ||
			(p.DiscountType != "percentage" && p.DiscountType != "") || !strings.HasPrefix(p.Comments, l.Description) {
			t.Errorf("deal product of %s = %+v, want quantity %s, price %s, discount %s%%", l.Ref, p, l.Quantity, l.UnitPrice, l.DiscountPercent)
		}
		links, _ := e.links.Find(context.Background(), "deal_product", []string{l.Ref})
		if k := links[l.Ref]; k.CRMID != strconv.FormatInt(p.ID, 10) || k.Parent != strconv.FormatInt(dealID, 10) {
			t.Errorf("link of %s = %+v, want deal product %d of deal %d", l.Ref, k, p.ID, dealID)
		}
	}
}

// writesSince are the emulator's writes after the first n, as
// "METHOD path" strings.
func writesSince(pd *pdtest.Server, n int) []string {
	var out []string
	for _, w := range pd.Writes()[n:] {
		out = append(out, w.Method+" "+w.Path)
	}
	return out
}

func TestPushLifecycle(t *testing.T) {
	e := newSyncEnv(t, pdtest.Options{})
	const deal = pdtest.DefaultDealID
	l1 := line(1, "LIC-100", "Licence", "200", "50", "10")
	l2 := line(2, "SUP-1", "Support", "1", "1200.50", "0")
	l3 := line(3, "", "Onboarding workshop", "2", "800", "0")
	// A product people attached by hand, which no push may touch.
	handProduct := e.pd.PutProduct(company, pdtest.Product{Name: "Hardware", Code: "HW-1"})
	hand := e.pd.PutDealProduct(company, deal, pdtest.DealProduct{ProductID: handProduct, ItemPrice: decimal.NewFromInt(99),
		Quantity: decimal.NewFromInt(1), Comments: "added in Pipedrive"})
	wantHand := func(t *testing.T) {
		t.Helper()
		ps := e.products(t, deal)[""]
		if len(ps) != 1 || ps[0].ID != hand || ps[0].Comments != "added in Pipedrive" || !ps[0].ItemPrice.Equal(decimal.NewFromInt(99)) {
			t.Fatalf("the hand-made product is now %+v, want it untouched", ps)
		}
	}
	spent := e.pd.TokensSpent(company)

	t.Run("create", func(t *testing.T) {
		q := pquote("q1", l1, l2, l3)
		r := e.pushOK(t, dealOf(deal, q, ""))
		e.wantLines(t, deal, l1, l2, l3)
		wantHand(t)
		d, _ := e.pd.Deal(company, deal)
		if d.Value != q.Totals.Total.String() || d.Currency != "EUR" || d.Status != "" {
			t.Errorf("deal = %+v, want value %s EUR, status unchanged", d, q.Totals.Total)
		}
		// 3 products searched and created, 1 bulk add, 1 deal update.
		if r.Calls != 8 || r.Tokens != 3*20+3*5+25+5 {
			t.Errorf("report: %d calls, %d tokens; want 8 and 105", r.Calls, r.Tokens)
		}
		if got := e.pd.TokensSpent(company) - spent; got != r.Tokens {
			t.Errorf("Pipedrive charged %d tokens, the report says %d", got, r.Tokens)
		}
		if e.budget.Taken["daily"] != float64(r.Tokens) || e.budget.Taken["burst"] != float64(r.Calls) || e.budget.Taken["search"] != 3 {
			t.Errorf("budget taken %v, want the report's tokens and calls, and 3 searches", e.budget.Taken)
		}
		if obs, ok := e.budget.Observed["burst"]; !ok || obs[1] != 80 {
			t.Errorf("burst observed %v, want Pipedrive's x-ratelimit headers (limit 80)", e.budget.Observed)
		}
		var created, updated int
		for _, w := range r.Outcomes[0].Written {
			switch {
			case w.Object == "deal_product" && w.Action == crm.ActionCreated && w.Ref != "":
				created++
			case w.Object == "deal" && w.Action == crm.ActionUpdated:
				updated++
			}
		}
		if created != 3 || updated != 1 {
			t.Errorf("written %+v, want 3 deal products created and the deal updated", r.Outcomes[0].Written)
		}
		var catalog []string
		for _, p := range e.pd.Products(company) {
			catalog = append(catalog, p.Code+"/"+p.Name+"/"+p.Prices["EUR"].String())
		}
		slices.Sort(catalog)
		if want := []string{"/Onboarding workshop/800", "HW-1/Hardware/0", "LIC-100/Licence/50", "SUP-1/Support/1200.5"}; !slices.Equal(catalog, want) {
			t.Errorf("catalog %v, want %v: the hand-made product and three of Qwoty's", catalog, want)
		}

		// Nothing changed: nothing is sent.
		before := len(e.pd.Writes())
		if r := e.pushOK(t, dealOf(deal, q, "")); r.Calls != 0 || len(writesSince(e.pd, before)) != 0 {
			t.Errorf("an unchanged deal cost %d calls", r.Calls)
		}
	})

	l1b := line(1, "LIC-100", "Licence", "250", "50", "15")
	l4 := line(4, "SUP-1", "Extra support", "2", "1200.50", "0")
	t.Run("edit: a line changed, one added, one removed", func(t *testing.T) {
		before := len(e.pd.Writes())
		q := pquote("q1", l1b, l2, l4)
		r := e.pushOK(t, dealOf(deal, q, ""))
		e.wantLines(t, deal, l1b, l2, l4)
		wantHand(t)
		want := []string{"PATCH /api/v2/deals/3/products/" + e.linkID(l1b.Ref), "POST /api/v2/deals/3/products/bulk",
			"DELETE /api/v2/deals/3/products/" + e.dealProductID(t, l3, r), "PATCH /api/v2/deals/3"}
		if got := writesSince(e.pd, before); !slices.Equal(got, want) {
			t.Errorf("writes %v, want %v", got, want)
		}
		if r.Calls != 4 {
			t.Errorf("%d calls, want 4 (the SKUs are known)", r.Calls)
		}
		if d, _ := e.pd.Deal(company, deal); d.Value != q.Totals.Total.String() {
			t.Errorf("deal value %s, want the quote's total %s", d.Value, q.Totals.Total)
		}
	})

	t.Run("status change: won, lost, a stage", func(t *testing.T) {
		q := pquote("q1", l1b, l2, l4)
		for _, tc := range []struct{ stage, status string }{{"won", "won"}, {"lost", "lost"}, {"open", "open"}} {
			before := len(e.pd.Writes())
			if r := e.pushOK(t, dealOf(deal, q, tc.stage)); r.Calls != 1 {
				t.Errorf("stage %s: %d calls, want the deal's update only", tc.stage, r.Calls)
			}
			if d, _ := e.pd.Deal(company, deal); d.Status != tc.status {
				t.Errorf("stage %s: deal status %q", tc.stage, d.Status)
			}
			if got := writesSince(e.pd, before); !slices.Equal(got, []string{"PATCH /api/v2/deals/3"}) {
				t.Errorf("stage %s: writes %v", tc.stage, got)
			}
		}
		e.pushOK(t, dealOf(deal, q, "stage:4"))
		if d, _ := e.pd.Deal(company, deal); d.StageID != 4 {
			t.Errorf("stage:4: deal in stage %d", d.StageID)
		}
	})

	l5 := line(5, "LIC-100", "Licence (3 years)", "200", "45", "0")
	t.Run("primary switch replaces Qwoty's products only", func(t *testing.T) {
		q2 := pquote("q2", l5)
		r := e.pushOK(t, dealOf(deal, q2, "stage:4"))
		e.wantLines(t, deal, l5)
		wantHand(t)
		deleted := 0
		for _, w := range r.Outcomes[0].Written {
			if w.Action == crm.ActionDeleted {
				deleted++
			}
		}
		if deleted != 3 {
			t.Errorf("written %+v, want the former primary's 3 products deleted", r.Outcomes[0].Written)
		}
		if owned, _ := e.links.Owned(context.Background(), "deal_product", "3"); len(owned) != 1 || owned[0].Ref != l5.Ref {
			t.Errorf("links of deal 3: %+v, want the new primary's line only", owned)
		}
	})

	t.Run("a deal without quotes loses Qwoty's products, keeps its value and stage", func(t *testing.T) {
		before := len(e.pd.Writes())
		dealBefore, _ := e.pd.Deal(company, deal)
		e.pushOK(t, dealOf(deal, nil, ""))
		e.wantLines(t, deal)
		wantHand(t)
		got := writesSince(e.pd, before)
		if len(got) != 1 || !strings.HasPrefix(got[0], "DELETE /api/v2/deals/3/products/") {
			t.Errorf("writes %v, want the one deal product deleted and no deal update", got)
		}
		if d, _ := e.pd.Deal(company, deal); d.StageID != dealBefore.StageID || d.Status != dealBefore.Status {
			t.Errorf("deal %+v, want its stage and status as they were (%+v)", d, dealBefore)
		}
		if owned, _ := e.links.Owned(context.Background(), "deal_product", "3"); len(owned) != 0 {
			t.Errorf("links left: %+v", owned)
		}
	})
}

func (e *syncEnv) linkID(ref string) string {
	l, _ := e.links.Find(context.Background(), "deal_product", []string{ref})
	return l[ref].CRMID
}

// dealProductID is the id of a line's deal product that r deleted.
func (e *syncEnv) dealProductID(t *testing.T, l crm.LineState, r crm.Report) string {
	t.Helper()
	for _, o := range r.Outcomes {
		for _, w := range o.Written {
			if w.Ref == l.Ref && w.Action == crm.ActionDeleted {
				return w.ID
			}
		}
	}
	t.Fatalf("%s's deal product was not deleted: %+v", l.Ref, r.Outcomes)
	return ""
}

// A value Pipedrive refuses fails that deal alone, with Pipedrive's own
// message, as a rejection; the other deals are written.
func TestPushRejectionFailsThatDealOnly(t *testing.T) {
	e := newSyncEnv(t, pdtest.Options{})
	e.pd.PutDeal(company, pdtest.Deal{ID: 10, Title: "Other", Currency: "EUR"})
	l := line(1, "A-1", "A", "1", "10", "0")
	r := e.push(dealOf(pdtest.DefaultDealID, pquote("q1", l), "stage:999"), dealOf(10, pquote("q2", line(2, "A-1", "A", "2", "10", "0")), "won"))
	bad, good := r.Outcomes[0], r.Outcomes[1]
	if !errors.Is(bad.Err, crm.ErrRejected) || !strings.Contains(bad.Err.Error(), "Stage not found") {
		t.Errorf("deal with an unknown stage: %v, want rejected with Pipedrive's message", bad.Err)
	}
	if good.Err != nil {
		t.Errorf("the other deal: %v", good.Err)
	}
	if d, _ := e.pd.Deal(company, 10); d.Status != "won" {
		t.Errorf("the other deal %+v, want it won", d)
	}
	// A stage-map value Pipedrive cannot have is refused before any call.
	r = e.push(dealOf(10, pquote("q2", line(2, "A-1", "A", "2", "10", "0")), "Closed Won"))
	if !errors.Is(r.Outcomes[0].Err, crm.ErrRejected) || r.Calls != 0 {
		t.Errorf("stage value Closed Won: %v after %d calls, want a rejection before any", r.Outcomes[0].Err, r.Calls)
	}
}

// A bulk add that Pipedrive committed but whose answer was lost leaves
// intents; the next push lists the deal's products, adopts Qwoty's and
// creates nothing again.
func TestPushAdoptsAfterDropAfterCommit(t *testing.T) {
	e := newSyncEnv(t, pdtest.Options{})
	const deal = pdtest.DefaultDealID
	lines := []crm.LineState{line(1, "A-1", "A", "1", "10", "0"), line(2, "B-1", "B", "2", "20", "5"), line(3, "C-1", "C", "3", "30", "0")}
	d := dealOf(deal, pquote("q1", lines...), "")
	if err := e.pd.Inject(emulator.Fault{Route: "POST /api/v2/deals/{id}/products/bulk", Times: 1, Drop: true}); err != nil {
		t.Fatal(err)
	}
	r := e.push(d)
	if err := r.Outcomes[0].Err; err == nil || errors.Is(err, crm.ErrRejected) {
		t.Fatalf("push whose answer was dropped: %v, want a transient error", err)
	}
	if n := len(e.pd.DealProducts(company, deal)); n != 3 {
		t.Fatalf("Pipedrive holds %d deal products after the dropped answer, want the 3 it committed", n)
	}
	owned, _ := e.links.Owned(context.Background(), "deal_product", "3")
	if len(owned) != 3 || !owned[0].Intended() {
		t.Fatalf("links after the drop: %+v, want 3 intents", owned)
	}

	before := len(e.pd.Writes())
	r = e.pushOK(t, d)
	e.wantLines(t, deal, lines...)
	adopted := 0
	for _, w := range r.Outcomes[0].Written {
		if w.Action == crm.ActionAdopted && w.Object == "deal_product" {
			adopted++
		}
	}
	if adopted != 3 {
		t.Errorf("written %+v, want 3 deal products adopted", r.Outcomes[0].Written)
	}
	if got := writesSince(e.pd, before); !slices.Equal(got, []string{"PATCH /api/v2/deals/3"}) {
		t.Errorf("writes of the retry %v, want the deal's update only", got)
	}
	if n := e.pd.APICalls("/api/v2/deals/3/products"); n != 1 {
		t.Errorf("%d listings of the deal's products, want 1", n)
	}
	if d, _ := e.pd.Deal(company, deal); d.Value != pquote("q1", lines...).Totals.Total.String() {
		t.Errorf("deal value %s", d.Value)
	}
}

// A catalog product created but whose answer was lost is found by the
// next push's search: one product per SKU.
func TestPushFindsAProductCreatedUnseen(t *testing.T) {
	e := newSyncEnv(t, pdtest.Options{})
	l := line(1, "A-1", "A", "1", "10", "0")
	if err := e.pd.Inject(emulator.Fault{Route: "POST /api/v2/products", Times: 1, Drop: true}); err != nil {
		t.Fatal(err)
	}
	if r := e.push(dealOf(pdtest.DefaultDealID, pquote("q1", l), "")); r.Outcomes[0].Err == nil || r.Calls != 2 {
		t.Fatalf("push whose product's answer was dropped: %v after %d calls, want an error after the search and the create", r.Outcomes[0].Err, r.Calls)
	}
	r := e.pushOK(t, dealOf(pdtest.DefaultDealID, pquote("q1", l), ""))
	e.wantLines(t, pdtest.DefaultDealID, l)
	if ps := e.pd.Products(company); len(ps) != 1 || ps[0].Code != "A-1" {
		t.Errorf("catalog %+v, want one product A-1", ps)
	}
	if w := r.Outcomes[0].Written[0]; w.Object != "product" || w.Action != crm.ActionAdopted {
		t.Errorf("first write %+v, want the product adopted", w)
	}
}

// A catalog product deleted in Pipedrive since it was remembered: the push
// fails for now (transient), forgets it, and the next one makes it again.
func TestPushAfterAProductWasDeleted(t *testing.T) {
	e := newSyncEnv(t, pdtest.Options{})
	a := line(1, "A-1", "A", "1", "10", "0")
	e.pushOK(t, dealOf(pdtest.DefaultDealID, pquote("q1", a), ""))
	p := e.pd.Products(company)[0]
	p.Deleted = true
	e.pd.PutProduct(company, p)
	b := line(2, "A-1", "A again", "2", "10", "0")
	r := e.push(dealOf(pdtest.DefaultDealID, pquote("q1", a, b), ""))
	if err := r.Outcomes[0].Err; err == nil || errors.Is(err, crm.ErrRejected) || errors.Is(err, crm.ErrNotFound) || !strings.Contains(err.Error(), "Product not found") {
		t.Fatalf("push with a deleted product: %v, want a transient error with Pipedrive's message", err)
	}
	e.pushOK(t, dealOf(pdtest.DefaultDealID, pquote("q1", a, b), ""))
	e.wantLines(t, pdtest.DefaultDealID, a, b)
	if ps := e.pd.Products(company); len(ps) != 2 || ps[1].Deleted || ps[1].Code != "A-1" {
		t.Errorf("catalog %+v, want A-1 made again", ps)
	}
}

// A retry that finds an intent whose create never reached Pipedrive
// creates it, and an intent of a line since removed is forgotten.
func TestPushIntentNeverCommitted(t *testing.T) {
	e := newSyncEnv(t, pdtest.Options{})
	const deal = pdtest.DefaultDealID
	a, b := line(1, "A-1", "A", "1", "10", "0"), line(2, "B-1", "B", "1", "20", "0")
	if err := e.pd.Inject(emulator.Fault{Route: "POST /api/v2/deals/{id}/products/bulk", Times: 1, Status: 503}); err != nil {
		t.Fatal(err)
	}
	if r := e.push(dealOf(deal, pquote("q1", a, b), "")); r.Outcomes[0].Err == nil {
		t.Fatal("push through a 503: no error")
	}
	e.pushOK(t, dealOf(deal, pquote("q1", a), ""))
	e.wantLines(t, deal, a)
	if owned, _ := e.links.Owned(context.Background(), "deal_product", "3"); len(owned) != 1 {
		t.Errorf("links %+v, want a's only", owned)
	}
}

// The company's daily budget spent (by other apps sharing it): Pipedrive's
// 429 blocks the connection until the next day and every deal waits,
// without further calls.
func TestPushDailyBudgetSpent(t *testing.T) {
	now := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	e := newSyncEnv(t, pdtest.Options{Now: func() time.Time { return now }})
	e.y.Now = func() time.Time { return now }
	e.budget.Now = func() time.Time { return now }
	e.pd.PutDeal(company, pdtest.Deal{ID: 10, Title: "Other", Currency: "EUR"})
	e.pd.SpendTokens(company, e.pd.TokensLeft(company))
	r := e.push(dealOf(pdtest.DefaultDealID, pquote("q1", line(1, "A-1", "A", "1", "10", "0")), ""),
		dealOf(10, pquote("q2", line(2, "A-1", "A", "1", "10", "0")), ""))
	next := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	for _, o := range r.Outcomes {
		var wait *crm.WaitError
		if !errors.As(o.Err, &wait) || !wait.Until.Equal(next) {
			t.Errorf("deal %s: %v, want a wait until %s", o.RecordID, o.Err, next)
		}
	}
	if r.Calls != 1 || e.pd.TooManyRequests() != 1 {
		t.Errorf("%d calls, %d answered 429; want one call, refused", r.Calls, e.pd.TooManyRequests())
	}
	var wait *crm.WaitError
	if err := e.budget.Take(context.Background(), "burst", 1); !errors.As(err, &wait) || !wait.Until.Equal(next) {
		t.Errorf("budget after the 429: %v, want blocked until %s", err, next)
	}
}

// A full burst window: the 429 names the seconds left, the connection
// waits that long.
func TestPushBurstLimit(t *testing.T) {
	now := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	e := newSyncEnv(t, pdtest.Options{Now: func() time.Time { return now }})
	e.y.Now = func() time.Time { return now }
	e.y.Workers = 1
	e.budget.Now = func() time.Time { return now }
	var deals []crm.Deal
	for i := range 45 {
		id := int64(100 + i)
		e.pd.PutDeal(company, pdtest.Deal{ID: id, Title: "D", Currency: "EUR"})
		deals = append(deals, dealOf(id, pquote(fmt.Sprint("q", i), line(i+1, "A-1", "A", "1", "10", "0")), ""))
	}
	r := e.push(deals...)
	waited := 0
	for _, o := range r.Outcomes {
		var wait *crm.WaitError
		switch {
		case o.Err == nil:
		case errors.As(o.Err, &wait) && wait.Until.Equal(now.Add(2*time.Second)):
			waited++
		default:
			t.Errorf("deal %s: %v", o.RecordID, o.Err)
		}
	}
	// The install's users/me took one request of the window: 79 left, the
	// search and the product's create take 2, then 2 per deal.
	if waited != 7 || e.pd.TooManyRequests() != 1 {
		t.Errorf("%d deals wait, %d answered 429; want 7 and 1", waited, e.pd.TooManyRequests())
	}
	if obs := e.budget.Observed["burst"]; obs != [2]float64{0, 80} {
		t.Errorf("burst observed %v, want 0 of 80", obs)
	}
}

// 100 deals of 5 lines whose products are known take 200 requests: each
// deal's bulk add and update.
func TestPushRequestsFor100Deals(t *testing.T) {
	e := newSyncEnv(t, pdtest.Options{NoBurst: true})
	skus := []string{"A", "B", "C", "D", "E"}
	linesOf := func(base int) []crm.LineState {
		var ls []crm.LineState
		for i, s := range skus {
			ls = append(ls, line(base+i, "SKU-"+s, "Item "+s, "2", "10.25", "5"))
		}
		return ls
	}
	e.pushOK(t, dealOf(pdtest.DefaultNoOrgDealID, pquote("warm", linesOf(1)...), "")) // the products become known
	var deals []crm.Deal
	for i := range 100 {
		id := int64(1000 + i)
		e.pd.PutDeal(company, pdtest.Deal{ID: id, Title: "D", Currency: "EUR"})
		deals = append(deals, dealOf(id, pquote(fmt.Sprint("q", i), linesOf(100+10*i)...), ""))
	}
	before := e.pd.TokensSpent(company)
	for chunk := range slices.Chunk(deals, e.y.MaxBatch()) {
		r := e.pushOK(t, chunk...)
		if r.Calls != 2*len(chunk) || r.Tokens != 30*len(chunk) {
			t.Errorf("a batch of %d deals: %d calls, %d tokens; want %d and %d", len(chunk), r.Calls, r.Tokens, 2*len(chunk), 30*len(chunk))
		}
	}
	if spent := e.pd.TokensSpent(company) - before; spent != 3000 {
		t.Errorf("Pipedrive charged %d tokens for 100 deals, want 3000", spent)
	}
	for _, d := range deals[:3] {
		id, _ := strconv.ParseInt(d.RecordID, 10, 64)
		e.wantLines(t, id, d.Primary.Lines...)
	}
}

// A connection made before sync (no scopes known) or without a write
// scope is refused with sync_reconnect.
func TestReady(t *testing.T) {
	y := pipedrive.NewAdapter(pipedrive.Options{}).Sync()
	for _, scopes := range [][]string{nil, {"base", "deals:read", "contacts:read"}, {"base", "deals:full"}} {
		err := y.Ready(&qwoty.Connection{Scopes: scopes})
		if qwoty.ErrorCode(err) != qwoty.CodeSyncReconnect || qwoty.AsError(err).Hint == "" {
			t.Errorf("scopes %v: %v, want sync_reconnect with its hint", scopes, err)
		}
	}
	if err := y.Ready(&qwoty.Connection{Scopes: pdtest.SyncScopes}); err != nil {
		t.Errorf("sync scopes: %v", err)
	}
}

// The install keeps the scopes Pipedrive granted.
func TestExchangeKeepsScopes(t *testing.T) {
	pd := pdtest.New(t, pdtest.Options{App: pdtest.App{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret, Scopes: pdtest.SyncScopes}})
	a := pipedrive.NewAdapter(pipedrive.Options{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret,
		RedirectURL: pdtest.DefaultCallbackURL, OAuthURL: pd.URL})
	o := a.OAuth()
	to, _ := o.AuthURL(crm.Begin{}, "s")
	g, err := o.Exchange(context.Background(), crm.Begin{}, oauthtest.Authorize(t, to, pdtest.DefaultCallbackURL).Get("code"))
	if err != nil || !slices.Equal(g.Scopes, pdtest.SyncScopes) {
		t.Fatalf("grant scopes %v, %v; want %v", g.Scopes, err, pdtest.SyncScopes)
	}
}

func TestBucketsAndStages(t *testing.T) {
	y := pipedrive.NewAdapter(pipedrive.Options{}).Sync().(*pipedrive.Syncer)
	b := y.Buckets(&qwoty.Connection{}, 0.4)
	want := []crm.Bucket{{Name: "daily", Capacity: 12_000, Per: 24 * time.Hour}, {Name: "burst", Capacity: 80, Per: 2 * time.Second},
		{Name: "search", Capacity: 10, Per: 2 * time.Second}}
	if !slices.Equal(b, want) {
		t.Errorf("buckets %+v, want %+v (Lite, one seat)", b, want)
	}
	y.Account = func(*qwoty.Connection) (pipedrive.Plan, int) { return pipedrive.Growth, 5 }
	if b := y.Buckets(&qwoty.Connection{}, 1); b[0].Capacity != 300_000 || b[1].Capacity != 160 {
		t.Errorf("Growth × 5 seats: %+v, want 300,000 tokens a day and 160 per 2 s", b)
	}
	st := y.DefaultStages()
	if st[qwoty.StatusAccepted] != "won" || st[qwoty.StatusRejected] != "lost" || st[qwoty.StatusSent] != "" {
		t.Errorf("default stages %v", st)
	}
}

// Where Pipedrive keeps a deal's value to its products' sum, the push says
// so in its outcome instead of believing its own write.
func TestPushWarnsWhenPipedriveKeepsItsValue(t *testing.T) {
	e := newSyncEnv(t, pdtest.Options{LockValueWithProducts: true})
	q := pquote("q1", line(1, "A-1", "A", "1", "10", "0"))
	q.Totals.Tax, q.Totals.Total = decimal.NewFromInt(2), decimal.NewFromInt(12)
	r := e.pushOK(t, dealOf(pdtest.DefaultDealID, q, ""))
	if w := r.Outcomes[0].Warning; !strings.Contains(w, "10") || !strings.Contains(w, "12") {
		t.Errorf("warning %q, want the value Pipedrive kept and the quote's total", w)
	}
}
