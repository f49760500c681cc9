package salesforce_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/oauthtest"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/crm/synctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// The Syncer against the emulator, through a real session on PostgreSQL,
// with the in-memory links and budget the engine's tables stand for.

const org = sftest.DefaultOrgID

type syncEnv struct {
	t      *testing.T
	emu    *sftest.Server
	sy     crm.Syncer
	sess   crm.Session
	conn   *qwoty.Connection
	links  *synctest.Links
	budget *synctest.Budget
	// beforeSend, when set, sees every request the adapter sends.
	beforeSend func(r *http.Request, body []byte)
}

func newSyncEnv(t *testing.T, o sftest.Org) *syncEnv {
	t.Helper()
	o.ID = org
	o.Users = []sftest.User{{ID: sftest.DefaultAdminID, Username: "admin@acme.example", Email: "admin@acme.example", Name: "Ada Admin", Admin: true}}
	e := &syncEnv{t: t, links: &synctest.Links{}}
	e.emu = sftest.New(t, sftest.Options{Orgs: []sftest.Org{o}})
	a := salesforce.NewAdapter(salesforce.Options{ClientID: sftest.DefaultClientID, ClientSecret: sftest.DefaultClientSecret,
		RedirectURL: sftest.DefaultCallbackURL, LoginURL: e.emu.URL, HTTP: &http.Client{Transport: hook{e}}})
	db := storetest.New(t)
	e.conn = connectOrg(t, db, a)
	e.sess = session.New(db, a, e.conn)
	e.sy = a.Sync()
	e.budget = synctest.NewBudget(e.sy.Buckets(e.conn, 0.5)...)
	return e
}

// hook lets a test see (and act on) each request before it leaves.
type hook struct{ e *syncEnv }

func (h hook) RoundTrip(r *http.Request) (*http.Response, error) {
	if h.e.beforeSend != nil {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		h.e.beforeSend(r, body)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// connectOrg runs the OAuth flow against the emulator, as the console does,
// and saves the connection.
func connectOrg(t *testing.T, db *store.DB, a crm.Adapter) *qwoty.Connection {
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
	b, err := o.Begin(url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	to, err := o.AuthURL(b, "state-1")
	if err != nil {
		t.Fatal(err)
	}
	q := oauthtest.Authorize(t, to, sftest.DefaultCallbackURL)
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

func (e *syncEnv) opportunity(name string) string {
	e.t.Helper()
	id, err := e.emu.Insert(org, "Opportunity", map[string]any{"Name": name, "StageName": "Prospecting", "CloseDate": "2026-12-31"})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *syncEnv) push(deals ...crm.Deal) crm.Report {
	e.t.Helper()
	return e.sy.Push(context.Background(), e.sess, e.budget, e.links, deals)
}

// pushOK pushes and fails the test on any deal's error.
func (e *syncEnv) pushOK(deals ...crm.Deal) crm.Report {
	e.t.Helper()
	r := e.push(deals...)
	if len(r.Outcomes) != len(deals) {
		e.t.Fatalf("%d outcomes for %d deals", len(r.Outcomes), len(deals))
	}
	for _, o := range r.Outcomes {
		if o.Err != nil {
			e.t.Fatalf("deal %s: %v", o.RecordID, o.Err)
		}
	}
	return r
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// line is a quote line: qty × price, less discount percent.
func line(id, sku string, qty, price, discount string) crm.LineState {
	q, p, d := dec(qty), dec(price), dec(discount)
	net := q.Mul(p).Mul(decimal.NewFromInt(1).Sub(d.Div(decimal.NewFromInt(100)))).Round(2)
	return crm.LineState{ID: id, Ref: crm.Ref(crm.RefLine, id), SKU: sku, Description: sku + " line", Quantity: q, UnitPrice: p,
		DiscountPercent: d, Net: net}
}

// quote makes a quote whose total is its lines' (no tax, no quote discount).
func quote(id string, status qwoty.Status, lines ...crm.LineState) crm.QuoteState {
	total := decimal.Zero
	for _, l := range lines {
		total = total.Add(l.Net)
	}
	return crm.QuoteState{ID: id, Ref: crm.Ref(crm.RefQuote, id), Number: "Q-" + id, Title: "Quote " + id, Status: status,
		Currency: "USD", Totals: qwoty.Totals{Subtotal: total, Total: total}, Lines: lines}
}

// deal is an opportunity's state with its primary quote first among quotes.
func deal(oppID string, stage string, primary int, quotes ...crm.QuoteState) crm.Deal {
	d := crm.Deal{RecordID: oppID, Stage: stage, Quotes: quotes}
	if primary >= 0 {
		d.Quotes[primary].Primary = true
		d.Primary = &d.Quotes[primary]
	}
	return d
}

func refs(rs []sftest.Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.String("Qwoty__Ref__c"))
	}
	return out
}

func actions(ws []crm.Written) string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Object+":"+w.Action)
	}
	return strings.Join(out, " ")
}

// A new deal: the primary quote's lines become the opportunity's products
// (with products and standard prices made for its SKUs), its status the
// stage, and the quote is mirrored with its lines. Pushed again unchanged,
// nothing is written.
func TestPushCreatesProductsStageAndQuote(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	opp := e.opportunity("Acme - 20 seats")
	d := deal(opp, "Proposal/Price Quote", 0, quote("q1", qwoty.StatusSent, line("l1", "SEAT", "20", "49.995", "10"), line("l2", "", "1", "100", "0")))
	r := e.pushOK(d)
	if r.Calls != 3 {
		t.Errorf("%d calls for a first push; want 3 (the org's facts, the read, the write)", r.Calls)
	}
	lines := e.emu.LineItems(org, opp)
	if got := strings.Join(refs(lines), " "); got != "qwoty:line:l1 qwoty:line:l2" {
		t.Fatalf("opportunity products %s; want the quote's two lines", got)
	}
	if l := lines[0]; !l.Decimal("Quantity").Equal(dec("20")) || !l.Decimal("UnitPrice").Equal(dec("50")) || !l.Decimal("Discount").Equal(dec("10")) {
		t.Errorf("line 1 = %v; want 20 × 50.00 (49.995 rounded to Salesforce's 2 places) less 10%%", l)
	}
	o := e.emu.Record(org, "Opportunity", opp)
	if o.String("StageName") != "Proposal/Price Quote" || o.String("Pricebook2Id") != e.emu.StandardPricebook(org) {
		t.Errorf("opportunity %v; want the stage and the standard price book", o)
	}
	if n := e.emu.CountByRef(org, "Product2", "qwoty:product:SEAT"); n != 1 {
		t.Errorf("%d products SEAT, want 1", n)
	}
	quotes := e.emu.Quotes(org, opp)
	if len(quotes) != 1 || quotes[0].String("Name") != "Q-q1 Quote q1" || quotes[0].String("Status") != "Presented" || quotes[0].Bool("Qwoty__Deleted__c") {
		t.Fatalf("quotes %v; want Q-q1, Presented", quotes)
	}
	if got := strings.Join(refs(e.emu.QuoteLineItems(org, quotes[0].String("Id"))), " "); got != "qwoty:line:l1 qwoty:line:l2" {
		t.Errorf("quote lines %s", got)
	}
	// 20 × 50.00 − 10% + 100 = 1000.00, not the quote's 999.91 (its lines
	// at 49.995): Salesforce's Amount is the products' total, and the
	// difference is said.
	if w := r.Outcomes[0].Warning; !strings.Contains(w, "1000.00 USD") || !strings.Contains(w, "999.91") {
		t.Errorf("warning %q; want Salesforce's Amount 1000.00 against the quote's 999.91", w)
	}
	if got := actions(r.Outcomes[0].Written); !strings.Contains(got, "OpportunityLineItem:created") || !strings.Contains(got, "Quote:created") ||
		!strings.Contains(got, "Opportunity:updated") || !strings.Contains(got, "Product2:created") {
		t.Errorf("written %s", got)
	}

	again := e.pushOK(d)
	if again.Calls != 1 || len(again.Outcomes[0].Written) != 0 {
		t.Fatalf("unchanged push: %d calls, written %s; want the read only", again.Calls, actions(again.Outcomes[0].Written))
	}
}

// An edit writes what changed: the changed line is updated, a new line
// made, the unchanged one left alone.
func TestPushWritesOnlyWhatChanged(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	opp := e.opportunity("Acme")
	e.pushOK(deal(opp, "", 0, quote("q1", qwoty.StatusDraft, line("l1", "A", "1", "10", "0"), line("l2", "B", "2", "20", "0"))))
	r := e.pushOK(deal(opp, "", 0, quote("q1", qwoty.StatusDraft, line("l1", "A", "1", "10", "0"), line("l2", "B", "3", "20", "0"),
		line("l3", "C", "1", "5", "0"))))
	var got []string
	for _, w := range r.Outcomes[0].Written {
		if w.Object == "OpportunityLineItem" || w.Object == "QuoteLineItem" {
			got = append(got, w.Object+" "+w.Ref+" "+w.Action)
		}
	}
	want := "OpportunityLineItem qwoty:line:l2 updated, OpportunityLineItem qwoty:line:l3 created, QuoteLineItem qwoty:line:l2 updated, QuoteLineItem qwoty:line:l3 created"
	if strings.Join(got, ", ") != want {
		t.Fatalf("written %q; want %q", strings.Join(got, ", "), want)
	}
	if r.Calls != 2 {
		t.Errorf("%d calls for an edit; want 2 (read, write)", r.Calls)
	}
	o := e.emu.Record(org, "Opportunity", opp)
	if !o.Decimal("Amount").Equal(dec("75")) {
		t.Errorf("Amount %s; want 75 (10 + 60 + 5)", o.Decimal("Amount"))
	}
}

// A status change writes the stage (and the mirrored quote's status) in
// two calls.
func TestStatusChangeWritesTheStage(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	opp := e.opportunity("Acme")
	q := quote("q1", qwoty.StatusSent, line("l1", "A", "1", "10", "0"))
	e.pushOK(deal(opp, "Proposal/Price Quote", 0, q))
	q.Status = qwoty.StatusAccepted
	r := e.pushOK(deal(opp, "Closed Won", 0, q))
	if r.Calls > 2 {
		t.Errorf("%d calls for a status change; want at most 2", r.Calls)
	}
	if got := actions(r.Outcomes[0].Written); got != "Opportunity:updated Quote:updated" {
		t.Errorf("written %s; want the opportunity's stage and the quote's status only", got)
	}
	if s := e.emu.Record(org, "Opportunity", opp).String("StageName"); s != "Closed Won" {
		t.Errorf("stage %s", s)
	}
	if s := e.emu.Quotes(org, opp)[0].String("Status"); s != "Accepted" {
		t.Errorf("quote status %s", s)
	}
	// A stage changed in Salesforce stays until Qwoty's changes.
	if err := e.emu.Update(org, "Opportunity", opp, map[string]any{"StageName": "Negotiation/Review"}); err != nil {
		t.Fatal(err)
	}
	e.pushOK(deal(opp, "Closed Won", 0, q))
	if s := e.emu.Record(org, "Opportunity", opp).String("StageName"); s != "Negotiation/Review" {
		t.Errorf("stage %s after an unchanged push; want the one set in Salesforce", s)
	}
}

// Switching the primary quote replaces Qwoty's products with the new
// primary's; a product added by hand stays, and the old primary stays
// mirrored as a quote.
func TestPrimarySwitchKeepsHandMadeProducts(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	opp := e.opportunity("Acme")
	a := quote("qa", qwoty.StatusSent, line("a1", "A", "1", "10", "0"), line("a2", "B", "1", "20", "0"))
	b := quote("qb", qwoty.StatusDraft, line("b1", "C", "2", "30", "0"))
	e.pushOK(deal(opp, "", 0, a, b))
	hand := e.handMadeLine(opp, "Services", "500")

	r := e.pushOK(deal(opp, "", 1, a, b))
	var got []string
	for _, l := range e.emu.LineItems(org, opp) {
		if l.String("Id") == hand {
			got = append(got, "by hand")
		} else {
			got = append(got, l.String("Qwoty__Ref__c"))
		}
	}
	if strings.Join(got, ", ") != "by hand, qwoty:line:b1" {
		t.Fatalf("products after the switch: %v; want the hand-made one and b1", got)
	}
	if got := actions(r.Outcomes[0].Written); strings.Count(got, "OpportunityLineItem:deleted") != 2 || strings.Count(got, "OpportunityLineItem:created") != 1 {
		t.Errorf("written %s", got)
	}
	if n := len(e.emu.Quotes(org, opp)); n != 2 {
		t.Errorf("%d quotes, want both mirrored", n)
	}
	// The Amount is Salesforce's: b1's 60 and the 500 added by hand.
	if w := r.Outcomes[0].Warning; !strings.Contains(w, "560.00") {
		t.Errorf("warning %q; want Salesforce's 560.00 against the quote's 60.00", w)
	}
}

// handMadeLine adds a product to an opportunity as a rep would in
// Salesforce: a product of the org's with a standard price.
func (e *syncEnv) handMadeLine(opp, name, price string) string {
	e.t.Helper()
	p, err := e.emu.Insert(org, "Product2", map[string]any{"Name": name, "IsActive": true})
	if err != nil {
		e.t.Fatal(err)
	}
	entry, err := e.emu.Insert(org, "PricebookEntry", map[string]any{"Pricebook2Id": e.emu.StandardPricebook(org), "Product2Id": p,
		"UnitPrice": dec(price), "IsActive": true})
	if err != nil {
		e.t.Fatal(err)
	}
	id, err := e.emu.Insert(org, "OpportunityLineItem", map[string]any{"OpportunityId": opp, "PricebookEntryId": entry, "Quantity": 1, "UnitPrice": dec(price)})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// A line removed from the quote is removed from the opportunity and from
// the mirrored quote.
func TestLineRemoval(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	opp := e.opportunity("Acme")
	e.pushOK(deal(opp, "", 0, quote("q1", qwoty.StatusDraft, line("l1", "A", "1", "10", "0"), line("l2", "B", "1", "20", "0"))))
	e.pushOK(deal(opp, "", 0, quote("q1", qwoty.StatusDraft, line("l2", "B", "1", "20", "0"))))
	if got := strings.Join(refs(e.emu.LineItems(org, opp)), " "); got != "qwoty:line:l2" {
		t.Errorf("products %s; want l2 only", got)
	}
	q := e.emu.Quotes(org, opp)[0]
	if got := strings.Join(refs(e.emu.QuoteLineItems(org, q.String("Id"))), " "); got != "qwoty:line:l2" {
		t.Errorf("quote lines %s; want l2 only", got)
	}
	if l, _ := e.links.Find(context.Background(), "OpportunityLineItem", []string{"qwoty:line:l1"}); len(l) != 0 {
		t.Errorf("the removed line's link stays: %v", l)
	}
}

// A quote deleted in Qwoty is marked in Salesforce, never deleted.
func TestQuoteDeletionMarksTheMirror(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	opp := e.opportunity("Acme")
	a := quote("qa", qwoty.StatusSent, line("a1", "A", "1", "10", "0"))
	b := quote("qb", qwoty.StatusDraft, line("b1", "B", "1", "20", "0"))
	e.pushOK(deal(opp, "", 0, a, b))
	b.Deleted = true
	r := e.pushOK(deal(opp, "", 0, a, b))
	if got := actions(r.Outcomes[0].Written); got != "Quote:marked deleted" {
		t.Errorf("written %s; want the mark only", got)
	}
	var marked sftest.Record
	for _, q := range e.emu.Quotes(org, opp) {
		if q.String("Qwoty__Ref__c") == b.Ref {
			marked = q
		}
	}
	if marked == nil || !marked.Bool("Qwoty__Deleted__c") || len(e.emu.QuoteLineItems(org, marked.String("Id"))) != 1 {
		t.Fatalf("deleted quote's mirror %v; want it kept, marked, with its line", marked)
	}
}

// Without Quotes, only the opportunity's products are written, and nothing
// asks for quotes.
func TestQuotesDisabledWritesProductsOnly(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{NoQuotes: true})
	var sent []string
	e.beforeSend = func(_ *http.Request, body []byte) { sent = append(sent, string(body)) }
	opp := e.opportunity("Acme")
	e.pushOK(deal(opp, "Closed Won", 0, quote("q1", qwoty.StatusAccepted, line("l1", "A", "2", "10", "0"))))
	if n := len(e.emu.LineItems(org, opp)); n != 1 {
		t.Fatalf("%d products, want 1", n)
	}
	for _, b := range sent[1:] {
		if strings.Contains(b, "QuoteLineItem") || strings.Contains(b, "FROM+Quote") {
			t.Fatalf("a request about quotes in an org without them: %s", b)
		}
	}
}

// A deal whose product Salesforce refuses (a validation rule) fails alone
// with Salesforce's message; the others of the batch are written.
func TestValidationErrorFailsOnlyThatDeal(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	e.emu.AddValidationRule(org, sftest.ValidationRule{Object: "OpportunityLineItem", Field: "Discount",
		Message: "Discounts above 50% need a manager's approval", Fails: func(r sftest.Record) bool { return r.Decimal("Discount").GreaterThan(dec("50")) }})
	var deals []crm.Deal
	for i := range 3 {
		discount := "5"
		if i == 1 {
			discount = "60"
		}
		deals = append(deals, deal(e.opportunity(fmt.Sprint("deal ", i)), "Proposal/Price Quote", 0,
			quote(fmt.Sprint("q", i), qwoty.StatusSent, line(fmt.Sprint("l", i), "A", "1", "100", discount))))
	}
	r := e.push(deals...)
	for i, o := range r.Outcomes {
		if i == 1 {
			if !errors.Is(o.Err, crm.ErrRejected) || !strings.Contains(o.Err.Error(), "Discounts above 50% need a manager's approval") {
				t.Errorf("the refused deal: %v; want ErrRejected with Salesforce's message", o.Err)
			}
			if n := len(e.emu.LineItems(org, deals[1].RecordID)); n != 0 {
				t.Errorf("the refused deal has %d products", n)
			}
			continue
		}
		if o.Err != nil || len(e.emu.LineItems(org, deals[i].RecordID)) != 1 {
			t.Errorf("deal %d: %v, %d products; want it written", i, o.Err, len(e.emu.LineItems(org, deals[i].RecordID)))
		}
	}
	if r.Calls != 4 {
		t.Errorf("%d calls; want 4 (facts, read, the batch refused, the two others again)", r.Calls)
	}
}

// The answers to the writes are lost after Salesforce saved them, every
// time the push tries: the push fails (to be tried again), and the next
// push adopts what is there instead of making it twice.
func TestDroppedAnswerThenPushAgainMakesNoDuplicate(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	opp := e.opportunity("Acme")
	d := deal(opp, "Proposal/Price Quote", 0, quote("q1", qwoty.StatusSent, line("l1", "A", "1", "10", "0"), line("l2", "B", "1", "20", "0")))
	e.beforeSend = func(r *http.Request, body []byte) {
		// The write is the all-or-none Composite request.
		if strings.Contains(string(body), `"allOrNone":true`) {
			if err := e.emu.Inject(emulator.Fault{Route: "POST /services/data/v63.0/composite", Times: 1, Drop: true}); err != nil {
				e.t.Fatal(err)
			}
		}
	}
	r := e.push(d)
	if r.Outcomes[0].Err == nil || errors.Is(r.Outcomes[0].Err, crm.ErrRejected) {
		t.Fatalf("a write whose answer was lost: %v; want a transient error", r.Outcomes[0].Err)
	}
	e.beforeSend = nil
	if n := len(e.emu.LineItems(org, opp)); n != 2 {
		t.Fatalf("%d products after the dropped answer; want the 2 Salesforce saved", n)
	}
	r = e.pushOK(d)
	for _, c := range []struct{ object, ref string }{{"OpportunityLineItem", "qwoty:line:l1"}, {"OpportunityLineItem", "qwoty:line:l2"},
		{"Quote", "qwoty:quote:q1"}, {"QuoteLineItem", "qwoty:line:l1"}, {"Product2", "qwoty:product:A"}, {"Product2", "qwoty:product:B"}} {
		if n := e.emu.CountByRef(org, c.object, c.ref); n != 1 {
			t.Errorf("%d %s %s; want 1", n, c.object, c.ref)
		}
	}
	if n := len(e.emu.Records(org, "PricebookEntry", "", "")); n != 2 {
		t.Errorf("%d price book entries; want 2", n)
	}
	if got := actions(r.Outcomes[0].Written); !strings.Contains(got, "OpportunityLineItem:adopted") || strings.Contains(got, "created") {
		t.Errorf("written %s; want the lines adopted, nothing created", got)
	}
	again := e.pushOK(d)
	if len(again.Outcomes[0].Written) != 0 {
		t.Errorf("a third push wrote %s", actions(again.Outcomes[0].Written))
	}
}

// 403 REQUEST_LIMIT_EXCEEDED: every deal waits, and the connection is
// blocked for a while.
func TestRequestLimitExceededWaitsAndBlocks(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{APILimit: 1000, APIUsed: 1000})
	opp := e.opportunity("Acme")
	r := e.push(deal(opp, "Closed Won", 0, quote("q1", qwoty.StatusAccepted, line("l1", "A", "1", "10", "0"))))
	var wait *crm.WaitError
	if !errors.As(r.Outcomes[0].Err, &wait) || wait.Until.Before(time.Now().Add(10*time.Minute)) || !strings.Contains(wait.Reason, "REQUEST_LIMIT_EXCEEDED") {
		t.Fatalf("push past the org's limit: %v; want a WaitError of about 15 minutes", r.Outcomes[0].Err)
	}
	if err := e.budget.Take(context.Background(), "daily", 1); !errors.As(err, &wait) {
		t.Fatalf("budget after REQUEST_LIMIT_EXCEEDED: %v; want it blocked", err)
	}
}

// Every answer's Sforce-Limit-Info corrects the budget: sync's part is
// share × the org's allocation, less every call the org made; once the
// org's usage reaches the share, sync waits.
func TestLimitInfoSetsTheBudget(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{APILimit: 20_000, APIUsed: 9_000})
	opp := e.opportunity("Acme")
	d := deal(opp, "Closed Won", 0, quote("q1", qwoty.StatusAccepted, line("l1", "A", "1", "10", "0")))
	e.pushOK(d)
	used, _ := e.emu.APIUsage(org)
	if got := e.budget.Observed["daily"]; got != [2]float64{10_000 - float64(used), 10_000} {
		t.Fatalf("observed %v; want [%d 10000] (half of 20,000, less the %d used)", got, 10_000-used, used)
	}
	if b := e.sy.Buckets(e.conn, 0.5); b[0].Capacity != 10_000 {
		t.Errorf("buckets %+v; want the org's allocation seen", b)
	}
	e.emu.SetAPIUsage(org, 9_999, 0)
	d.Stage = "Negotiation/Review"
	r := e.push(d)
	var wait *crm.WaitError
	if !errors.As(r.Outcomes[0].Err, &wait) {
		t.Fatalf("push with the org at its share: %v; want a WaitError", r.Outcomes[0].Err)
	}
	if r.Calls != 1 {
		t.Errorf("%d calls once the share was reached; want the one that showed it", r.Calls)
	}
}

// An org whose package predates sync has no Qwoty__Ref__c: the push fails
// for good, saying to upgrade the package.
func TestMissingPackageFieldsSayUpgrade(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{NoSyncFields: true})
	r := e.push(deal(e.opportunity("Acme"), "", 0, quote("q1", qwoty.StatusDraft, line("l1", "A", "1", "10", "0"))))
	if err := r.Outcomes[0].Err; !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "upgrade the Qwoty package") {
		t.Fatalf("push to an org without the fields: %v; want ErrRejected saying to upgrade the package", err)
	}
}

// An opportunity without products takes the quote's total as Amount.
func TestAmountOfAnOpportunityWithoutProducts(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	opp := e.opportunity("Acme")
	q := quote("q1", qwoty.StatusSent)
	q.Totals = qwoty.Totals{Subtotal: dec("1000"), Tax: dec("200"), Total: dec("1200.004")}
	r := e.pushOK(deal(opp, "", 0, q))
	if a := e.emu.Record(org, "Opportunity", opp).Decimal("Amount"); !a.Equal(dec("1200")) || r.Outcomes[0].Warning != "" {
		t.Fatalf("Amount %s, warning %q; want 1200.00 and none", a, r.Outcomes[0].Warning)
	}
}

// 100 deals of 5 lines, pushed at once: products, prices, opportunity
// products, quotes and their lines in a handful of calls; a status change
// of all of them in two.
func TestBatchOfAHundredDealsCallCount(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	var deals []crm.Deal
	for i := range 100 {
		var lines []crm.LineState
		for j := range 5 {
			lines = append(lines, line(fmt.Sprintf("l%d-%d", i, j), fmt.Sprintf("SKU-%d", (i+j)%20), "2", "15.5", "0"))
		}
		deals = append(deals, deal(e.opportunity(fmt.Sprint("deal ", i)), "Proposal/Price Quote", 0,
			quote(fmt.Sprint("q", i), qwoty.StatusSent, lines...)))
	}
	r := e.pushOK(deals...)
	if r.Calls > 6 {
		t.Errorf("%d calls for 100 deals of 5 lines; want at most 6", r.Calls)
	}
	t.Logf("first push of 100 deals × 5 lines: %d calls", r.Calls)
	if n := len(e.emu.Records(org, "OpportunityLineItem", "", "")); n != 500 {
		t.Fatalf("%d opportunity products, want 500", n)
	}
	if n := len(e.emu.Records(org, "QuoteLineItem", "", "")); n != 500 {
		t.Fatalf("%d quote lines, want 500", n)
	}
	for i := range deals {
		deals[i].Stage = "Closed Won"
		deals[i].Quotes[0].Status = qwoty.StatusAccepted
	}
	r = e.pushOK(deals...)
	if r.Calls > 2 {
		t.Errorf("%d calls for a status change of 100 deals; want 2", r.Calls)
	}
}

// An opportunity with its own price book gets the products' standard
// prices first, then prices in its price book, which its lines use.
func TestCustomPriceBookGetsTheStandardPriceFirst(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	book, err := e.emu.Insert(org, "Pricebook2", map[string]any{"Name": "Partners", "IsActive": true})
	if err != nil {
		t.Fatal(err)
	}
	opp := e.opportunity("Acme")
	if err := e.emu.Update(org, "Opportunity", opp, map[string]any{"Pricebook2Id": book}); err != nil {
		t.Fatal(err)
	}
	e.pushOK(deal(opp, "", 0, quote("q1", qwoty.StatusDraft, line("l1", "A", "1", "10", "0"))))
	entries := e.emu.Records(org, "PricebookEntry", "", "")
	if len(entries) != 2 || entries[0].String("Pricebook2Id") != e.emu.StandardPricebook(org) || entries[1].String("Pricebook2Id") != book {
		t.Fatalf("entries %v; want the standard price, then the Partners price", entries)
	}
	if l := e.emu.LineItems(org, opp)[0]; l.String("PricebookEntryId") != entries[1].String("Id") {
		t.Fatalf("the product uses entry %s; want the opportunity's price book's %s", l.String("PricebookEntryId"), entries[1].String("Id"))
	}
}

// In a multi-currency org, an opportunity without products takes the
// quote's currency and the prices are made in it; one with products added
// by hand cannot change currency, and the push says so.
func TestMultiCurrency(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{Currencies: []string{"USD", "EUR"}})
	opp := e.opportunity("Acme")
	q := quote("q1", qwoty.StatusSent, line("l1", "A", "1", "10", "0"))
	q.Currency = "EUR"
	e.pushOK(deal(opp, "", 0, q))
	if c := e.emu.Record(org, "Opportunity", opp).String("CurrencyIsoCode"); c != "EUR" {
		t.Fatalf("opportunity currency %s; want EUR", c)
	}
	if l := e.emu.LineItems(org, opp); len(l) != 1 || l[0].String("CurrencyIsoCode") != "EUR" {
		t.Fatalf("products %v; want one in EUR", l)
	}
	other := e.opportunity("Globex")
	e.handMadeLine(other, "Services", "100")
	q2 := quote("q2", qwoty.StatusSent, line("l2", "A", "1", "10", "0"))
	q2.Currency = "EUR"
	r := e.push(deal(other, "", 0, q2))
	if err := r.Outcomes[0].Err; !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "EUR") {
		t.Fatalf("an EUR quote on a USD opportunity with products: %v; want it refused, saying why", err)
	}
}

// A price Qwoty remembered, deactivated in Salesforce since: the push that
// meets it fails for now and forgets it; the next finds it again and turns
// it back on.
func TestDeactivatedPriceIsFoundAgain(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	first, second := e.opportunity("Acme"), e.opportunity("Globex")
	e.pushOK(deal(first, "", 0, quote("q1", qwoty.StatusDraft, line("l1", "A", "1", "10", "0"))))
	entry := e.emu.Records(org, "PricebookEntry", "", "")[0]
	if err := e.emu.Update(org, "PricebookEntry", entry.String("Id"), map[string]any{"IsActive": false}); err != nil {
		t.Fatal(err)
	}
	d := deal(second, "", 0, quote("q2", qwoty.StatusDraft, line("l2", "A", "1", "10", "0")))
	r := e.push(d)
	if err := r.Outcomes[0].Err; err == nil || errors.Is(err, crm.ErrRejected) {
		t.Fatalf("a line on a deactivated price: %v; want a transient error", err)
	}
	e.pushOK(d)
	if !e.emu.Record(org, "PricebookEntry", entry.String("Id")).Bool("IsActive") || len(e.emu.LineItems(org, second)) != 1 {
		t.Fatal("the price was not turned on again, or the line not written")
	}
	if n := len(e.emu.Records(org, "PricebookEntry", "", "")); n != 1 {
		t.Errorf("%d entries; want the one, reused", n)
	}
}

// A deal whose opportunity is gone fails alone.
func TestMissingOpportunity(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	gone := e.opportunity("Gone")
	if err := e.emu.Delete(org, "Opportunity", gone); err != nil {
		t.Fatal(err)
	}
	ok := e.opportunity("Acme")
	r := e.push(deal(gone, "", 0, quote("q1", qwoty.StatusDraft, line("l1", "A", "1", "10", "0"))),
		deal(ok, "", 0, quote("q2", qwoty.StatusDraft, line("l2", "A", "1", "10", "0"))),
		crm.Deal{RecordID: "not an id"})
	if err := r.Outcomes[0].Err; !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "not in Salesforce") {
		t.Errorf("deleted opportunity: %v", err)
	}
	if r.Outcomes[1].Err != nil || len(e.emu.LineItems(org, ok)) != 1 {
		t.Errorf("the other deal: %v", r.Outcomes[1].Err)
	}
	if !errors.Is(r.Outcomes[2].Err, crm.ErrRejected) {
		t.Errorf("a record id that is no opportunity's: %v", r.Outcomes[2].Err)
	}
}

// Another push of the connection (another instance) makes the same price
// between this push's read and its write: this push fails for now, the
// next uses the price, and there is one of it.
func TestPriceMadeMeanwhileByAnotherPush(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	opp := e.opportunity("Acme")
	done := false
	e.beforeSend = func(_ *http.Request, body []byte) {
		if done || !strings.Contains(string(body), `"allOrNone":true`) {
			return
		}
		done = true
		p, err := e.emu.Insert(org, "Product2", map[string]any{"Name": "A", "Qwoty__Ref__c": "qwoty:product:A", "IsActive": true})
		if err == nil {
			_, err = e.emu.Insert(org, "PricebookEntry", map[string]any{"Pricebook2Id": e.emu.StandardPricebook(org), "Product2Id": p,
				"UnitPrice": 10, "IsActive": true})
		}
		if err != nil {
			e.t.Fatal(err)
		}
	}
	d := deal(opp, "", 0, quote("q1", qwoty.StatusDraft, line("l1", "A", "1", "10", "0")))
	r := e.push(d)
	if err := r.Outcomes[0].Err; err == nil || errors.Is(err, crm.ErrRejected) {
		t.Fatalf("a price made meanwhile: %v; want a transient error", err)
	}
	e.pushOK(d)
	if n := len(e.emu.Records(org, "PricebookEntry", "", "")); n != 1 || len(e.emu.LineItems(org, opp)) != 1 {
		t.Fatalf("%d entries, %d products; want 1 and 1", n, len(e.emu.LineItems(org, opp)))
	}
}
