package salesforce_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/qwoty"
)

// crm.DealMaker against the emulator: what each call sends, what it finds
// and makes, and that a repeat makes nothing more.

// dealEnv is a syncEnv whose requests are recorded.
type dealEnv struct {
	*syncEnv
	maker crm.DealMaker
	mu    sync.Mutex
	sent  []sentRequest
}

type sentRequest struct {
	Method, Path, Query string
	Body                map[string]any
}

func newDealEnv(t *testing.T, o sftest.Org) *dealEnv {
	t.Helper()
	e := &dealEnv{syncEnv: newSyncEnv(t, o)}
	e.maker = e.describer().(crm.DealMaker)
	e.beforeSend = func(r *http.Request, body []byte) {
		s := sentRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query().Get("q")}
		_ = json.Unmarshal(body, &s.Body)
		e.mu.Lock()
		e.sent = append(e.sent, s)
		e.mu.Unlock()
	}
	return e
}

// requests returns what was sent since the last call, and forgets it.
func (e *dealEnv) requests() []sentRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.sent
	e.sent = nil
	return out
}

func (e *dealEnv) account(fields map[string]any) string {
	e.t.Helper()
	id, err := e.emu.Insert(org, "Account", fields)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *dealEnv) find(m crm.AccountMatch) string {
	e.t.Helper()
	id, err := e.maker.FindAccount(context.Background(), e.sess, e.budget, m)
	if err != nil {
		e.t.Fatalf("FindAccount(%+v): %v", m, err)
	}
	return id
}

func TestFindAccountByNameIgnoresCaseAndTakesTheOldest(t *testing.T) {
	e := newDealEnv(t, sftest.Org{})
	older := e.account(map[string]any{"Name": "O'Brien & Sons"})
	e.account(map[string]any{"Name": "o'brien & sons"})
	e.account(map[string]any{"Name": "O'Brien & Sons Ltd"})
	e.requests()
	taken := e.budget.Taken["daily"]
	if got := e.find(crm.AccountMatch{By: qwoty.MatchByName, Name: "O'BRIEN & SONS"}); got != older {
		t.Errorf("by name: %q; want the oldest of the two of that name, %s", got, older)
	}
	sent := e.requests()
	if len(sent) != 1 || sent[0].Method != http.MethodGet || !strings.HasSuffix(sent[0].Path, "/query/") ||
		sent[0].Query != `SELECT Id FROM Account WHERE Name = 'O\'BRIEN & SONS' ORDER BY CreatedDate, Id LIMIT 1` {
		t.Errorf("sent %+v; want one query on Name, the quote escaped", sent)
	}
	if got := e.budget.Taken["daily"] - taken; got != 1 {
		t.Errorf("took %v from the daily budget; want 1", got)
	}
	if got := e.find(crm.AccountMatch{By: qwoty.MatchByName, Name: "Nobody"}); got != "" {
		t.Errorf("no account of that name: %q; want none", got)
	}
	// Asked by domain without one, the name is looked for.
	if got := e.find(crm.AccountMatch{By: qwoty.MatchByDomain, Name: "o'brien & sons"}); got != older {
		t.Errorf("by domain without a domain: %q; want %s found by name", got, older)
	}
}

func TestFindAccountByDomainComparesTheNormalisedWebsite(t *testing.T) {
	e := newDealEnv(t, sftest.Org{})
	e.account(map[string]any{"Name": "Acme Australia", "Website": "https://acme.com.au"})
	e.account(map[string]any{"Name": "Not Acme", "Website": "notacme.com"})
	acme := e.account(map[string]any{"Name": "Acme", "Website": "https://www.Acme.com/about"})
	e.account(map[string]any{"Name": "Acme again", "Website": "acme.com"})
	e.requests()
	if got := e.find(crm.AccountMatch{By: qwoty.MatchByDomain, Name: "Whatever", Domain: "acme.com"}); got != acme {
		t.Errorf("by domain: %q; want %s, the oldest whose website's domain is acme.com", got, acme)
	}
	if sent := e.requests(); len(sent) != 1 || !strings.Contains(sent[0].Query, `WHERE Website LIKE '%acme.com%'`) {
		t.Errorf("sent %+v; want one query with Website LIKE '%%acme.com%%'", sent)
	}
	if got := e.find(crm.AccountMatch{By: qwoty.MatchByDomain, Name: "Acme", Domain: "acme.org"}); got != "" {
		t.Errorf("by an unknown domain: %q; want none (the name is not looked for)", got)
	}
	// LIKE's wildcards in a domain are escaped.
	e.requests()
	e.find(crm.AccountMatch{By: qwoty.MatchByDomain, Domain: "my_shop.example"})
	if sent := e.requests(); len(sent) != 1 || !strings.Contains(sent[0].Query, `LIKE '%my\_shop.example%'`) {
		t.Errorf("sent %+v; want the underscore escaped", sent)
	}
}

func TestCreateAccountUpsertsByQwotyRef(t *testing.T) {
	e := newDealEnv(t, sftest.Org{})
	ctx := context.Background()
	acc := crm.NewAccount{Ref: qwoty.AccountRef("c1"), Name: "Globex", Domain: "globex.example", Email: "buy@globex.example",
		Phone: "+1 555 0100", Street: "1 Main St", City: "Springfield", PostalCode: "12345", Region: "OR", Country: "US"}
	id, err := e.maker.CreateAccount(ctx, e.sess, e.budget, acc)
	if err != nil {
		t.Fatal(err)
	}
	sent := e.requests()
	want := map[string]any{"Name": "Globex", "Website": "globex.example", "Phone": "+1 555 0100", "BillingStreet": "1 Main St",
		"BillingCity": "Springfield", "BillingPostalCode": "12345", "BillingState": "OR", "BillingCountry": "US"}
	if len(sent) != 1 || sent[0].Method != http.MethodPatch || !strings.HasSuffix(sent[0].Path, "/sobjects/Account/Qwoty__Ref__c/qwoty-customer-c1") ||
		toJSON(sent[0].Body) != toJSON(want) {
		t.Fatalf("sent %+v; want one PATCH by the ref with %v (Account has no email field)", sent, want)
	}
	rec := e.emu.Record(org, "Account", id)
	if rec.String("Qwoty__Ref__c") != acc.Ref || rec.String("Website") != "globex.example" || rec.String("BillingCity") != "Springfield" {
		t.Fatalf("account %v", rec)
	}
	if got := e.find(crm.AccountMatch{Ref: acc.Ref}); got != id {
		t.Fatalf("by ref: %q; want %s", got, id)
	}
	// A repeat (its first answer lost) finds the same account.
	again, err := e.maker.CreateAccount(ctx, e.sess, e.budget, acc)
	if err != nil || again != id || e.emu.CountByRef(org, "Account", acc.Ref) != 1 {
		t.Fatalf("repeat: %q, %v, %d accounts; want %s and one account", again, err, e.emu.CountByRef(org, "Account", acc.Ref), id)
	}
	// Salesforce's own refusal of an account without a name is permanent.
	_, err = e.maker.CreateAccount(ctx, e.sess, e.budget, crm.NewAccount{Ref: qwoty.AccountRef("c2")})
	if !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "REQUIRED_FIELD_MISSING") {
		t.Fatalf("account without a name: %v; want ErrRejected with REQUIRED_FIELD_MISSING", err)
	}
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// The answer of an account's upsert is lost after Salesforce saved it:
// the account is found by its ref, and making it again makes no second.
func TestCreateAccountAnswerLost(t *testing.T) {
	e := newDealEnv(t, sftest.Org{})
	ctx := context.Background()
	if err := e.emu.Inject(emulator.Fault{Route: "PATCH /services/data/{v}/sobjects/Account/Qwoty__Ref__c/{ref}", Times: 1, Drop: true}); err != nil {
		t.Fatal(err)
	}
	acc := crm.NewAccount{Ref: qwoty.AccountRef("c1"), Name: "Initech"}
	if _, err := e.maker.CreateAccount(ctx, e.sess, e.budget, acc); err == nil {
		t.Fatal("the lost answer was not an error")
	}
	found := e.find(crm.AccountMatch{Ref: acc.Ref})
	id, err := e.maker.CreateAccount(ctx, e.sess, e.budget, acc)
	if found == "" || err != nil || id != found || e.emu.CountByRef(org, "Account", acc.Ref) != 1 {
		t.Fatalf("found %q, made again %q (%v), %d accounts; want the one account", found, id, err, e.emu.CountByRef(org, "Account", acc.Ref))
	}
}

func newDeal(ref, account string) crm.NewDeal {
	return crm.NewDeal{Ref: ref, Name: "Q-0001 Licences", AccountID: account, Currency: "USD", Amount: dec("99.8"),
		CloseDate: "2026-12-31", Status: qwoty.StatusSent}
}

func TestCreateDealTakesTheFirstOpenStageAndIsFoundByRef(t *testing.T) {
	e := newDealEnv(t, sftest.Org{})
	ctx := context.Background()
	account := e.account(map[string]any{"Name": "Globex"})
	e.emu.SetStageActive(org, "Prospecting", false)
	e.requests()
	taken := e.budget.Taken["daily"]
	d := newDeal(qwoty.DealRef("q1"), account)
	id, err := e.maker.CreateDeal(ctx, e.sess, e.budget, d)
	if err != nil {
		t.Fatal(err)
	}
	sent := e.requests()
	want := map[string]any{"Name": "Q-0001 Licences", "StageName": "Qualification", "CloseDate": "2026-12-31", "Amount": 99.8, "AccountId": account}
	if len(sent) != 2 || !strings.HasSuffix(sent[0].Path, "/composite") || sent[1].Method != http.MethodPatch ||
		!strings.HasSuffix(sent[1].Path, "/sobjects/Opportunity/Qwoty__Ref__c/qwoty-quote-q1") || toJSON(sent[1].Body) != toJSON(want) {
		t.Fatalf("sent %+v; want the org's read, then a PATCH by the ref with %v (no currency in a single-currency org)", sent, want)
	}
	if got := e.budget.Taken["daily"] - taken; got != 2 {
		t.Errorf("took %v from the daily budget; want 2", got)
	}
	rec := e.emu.Record(org, "Opportunity", id)
	if rec.String("StageName") != "Qualification" || rec.String("AccountId") != account || !rec.Decimal("Amount").Equal(dec("99.8")) {
		t.Fatalf("opportunity %v", rec)
	}
	got, err := e.maker.FindDeal(ctx, e.sess, e.budget, d.Ref)
	if err != nil || got != id {
		t.Fatalf("FindDeal: %q, %v; want %s", got, err, id)
	}
	if got, err := e.maker.FindDeal(ctx, e.sess, e.budget, qwoty.DealRef("other")); err != nil || got != "" {
		t.Fatalf("FindDeal of another quote: %q, %v; want none", got, err)
	}
	again, err := e.maker.CreateDeal(ctx, e.sess, e.budget, d)
	if err != nil || again != id || e.emu.CountByRef(org, "Opportunity", d.Ref) != 1 {
		t.Fatalf("repeat: %q, %v; want %s and one opportunity", again, err, id)
	}
	// The quote's push treats it as any opportunity.
	e.pushOK(deal(id, "Proposal/Price Quote", 0, quote("q1", qwoty.StatusSent, line("l1", "LIC", "2", "49.9", "0"))))
	if rec := e.emu.Record(org, "Opportunity", id); rec.String("StageName") != "Proposal/Price Quote" || len(e.emu.LineItems(org, id)) != 1 {
		t.Fatalf("after the push: %v with %d products", rec, len(e.emu.LineItems(org, id)))
	}
	// And takes its order, on its account.
	orders := e.describer().(crm.OrderSyncer)
	order, err := orders.PushOrder(ctx, e.sess, e.budget, crm.OrderPush{RecordID: id, Number: "O-00001", QuoteNumber: "Q-0001",
		Status: qwoty.OrderOpen, Currency: "USD", Total: dec("99.8"), EffectiveDate: "2026-11-29",
		Lines: []crm.OrderPushLine{{SKU: "LIC", Quantity: dec("2"), UnitPrice: dec("49.9"), Net: dec("99.8")}}})
	if err != nil {
		t.Fatalf("order on the made opportunity: %v", err)
	}
	if rec := e.emu.Record(org, "Order", order); rec.String("AccountId") != account || len(e.emu.OrderItems(org, order)) != 1 {
		t.Fatalf("order %v with %d products; want it on %s with one", rec, len(e.emu.OrderItems(org, order)), account)
	}
}

func TestCreateDealStageAndCurrency(t *testing.T) {
	ctx := context.Background()
	t.Run("mapped stage, no account", func(t *testing.T) {
		e := newDealEnv(t, sftest.Org{})
		d := newDeal(qwoty.DealRef("q1"), "")
		d.Stage = "Negotiation/Review"
		id, err := e.maker.CreateDeal(ctx, e.sess, e.budget, d)
		if err != nil {
			t.Fatal(err)
		}
		sent := e.requests()
		if body := sent[len(sent)-1].Body; body["StageName"] != "Negotiation/Review" || body["AccountId"] != nil {
			t.Fatalf("sent %v; want the mapped stage and no account", body)
		}
		if strings.Contains(toJSON(sent[0].Body), "OpportunityStage") {
			t.Errorf("the stages were read though the deal has one: %v", sent[0].Body)
		}
		if rec := e.emu.Record(org, "Opportunity", id); rec.String("AccountId") != "" {
			t.Fatalf("opportunity %v", rec)
		}
	})
	t.Run("single currency", func(t *testing.T) {
		e := newDealEnv(t, sftest.Org{Currency: "USD"})
		d := newDeal(qwoty.DealRef("q1"), "")
		d.Currency = "EUR"
		_, err := e.maker.CreateDeal(ctx, e.sess, e.budget, d)
		if !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "the org keeps every amount in USD") {
			t.Fatalf("a EUR deal in a USD org: %v; want ErrRejected", err)
		}
		if n := len(e.emu.Records(org, "Opportunity", "", "")); n != 0 {
			t.Fatalf("%d opportunities made; want none", n)
		}
	})
	t.Run("multi-currency", func(t *testing.T) {
		e := newDealEnv(t, sftest.Org{Currencies: []string{"USD", "EUR"}})
		d := newDeal(qwoty.DealRef("q1"), "")
		d.Currency = "eur"
		id, err := e.maker.CreateDeal(ctx, e.sess, e.budget, d)
		if err != nil {
			t.Fatal(err)
		}
		if rec := e.emu.Record(org, "Opportunity", id); rec.String("CurrencyIsoCode") != "EUR" {
			t.Fatalf("opportunity %v; want it in EUR", rec)
		}
		d = newDeal(qwoty.DealRef("q2"), "")
		d.Currency = "GBP"
		if _, err := e.maker.CreateDeal(ctx, e.sess, e.budget, d); !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "USD, EUR") {
			t.Fatalf("a GBP deal: %v; want ErrRejected naming the org's currencies", err)
		}
	})
	t.Run("bad stage", func(t *testing.T) {
		e := newDealEnv(t, sftest.Org{})
		d := newDeal(qwoty.DealRef("q1"), "")
		d.Stage = "Closed Maybe"
		if _, err := e.maker.CreateDeal(ctx, e.sess, e.budget, d); !errors.Is(err, crm.ErrRejected) ||
			!strings.Contains(err.Error(), "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST") {
			t.Fatalf("a stage the org lacks: %v; want ErrRejected in Salesforce's words", err)
		}
	})
}

// An org whose package predates deals: every call fails for good, saying
// to upgrade the package.
func TestDealsWithoutThePackageFieldsSayUpgrade(t *testing.T) {
	e := newDealEnv(t, sftest.Org{NoDealFields: true})
	ctx := context.Background()
	_, findErr := e.maker.FindAccount(ctx, e.sess, e.budget, crm.AccountMatch{Ref: qwoty.AccountRef("c1")})
	_, accErr := e.maker.CreateAccount(ctx, e.sess, e.budget, crm.NewAccount{Ref: qwoty.AccountRef("c1"), Name: "Globex"})
	_, dealErr := e.maker.FindDeal(ctx, e.sess, e.budget, qwoty.DealRef("q1"))
	_, makeErr := e.maker.CreateDeal(ctx, e.sess, e.budget, newDeal(qwoty.DealRef("q1"), ""))
	for name, err := range map[string]error{"FindAccount": findErr, "CreateAccount": accErr, "FindDeal": dealErr, "CreateDeal": makeErr} {
		if !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "upgrade the Qwoty package") {
			t.Errorf("%s: %v; want ErrRejected saying to upgrade the package", name, err)
		}
	}
	// A match by name needs no package field.
	e.account(map[string]any{"Name": "Globex"})
	if got := e.find(crm.AccountMatch{By: qwoty.MatchByName, Name: "globex"}); got == "" {
		t.Error("no match by name in an org without the deal fields")
	}
}

// The org's allocation spent: the call waits, and the budget is blocked.
func TestDealsRequestLimitWaits(t *testing.T) {
	e := newDealEnv(t, sftest.Org{APILimit: 1000, APIUsed: 1000})
	_, err := e.maker.FindAccount(context.Background(), e.sess, e.budget, crm.AccountMatch{By: qwoty.MatchByName, Name: "Globex"})
	var wait *crm.WaitError
	if !errors.As(err, &wait) || !strings.Contains(wait.Reason, "REQUEST_LIMIT_EXCEEDED") {
		t.Fatalf("FindAccount past the org's limit: %v; want a WaitError", err)
	}
}

// A Qwoty Ref that lost its unique index may name two Accounts: the
// upsert answers 300, and the making fails for good, naming the ref.
func TestCreateAccountMatchingSeveral(t *testing.T) {
	e := newDealEnv(t, sftest.Org{})
	e.emu.SetRefUnique(org, false)
	ref := qwoty.AccountRef("c1")
	e.account(map[string]any{"Name": "Globex", "Qwoty__Ref__c": ref})
	e.account(map[string]any{"Name": "Globex (copy)", "Qwoty__Ref__c": ref})
	_, err := e.maker.CreateAccount(context.Background(), e.sess, e.budget, crm.NewAccount{Ref: ref, Name: "Globex"})
	if !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "several Account records carry Qwoty's reference "+ref) {
		t.Fatalf("upsert matching two accounts: %v; want ErrRejected naming the ref", err)
	}
}
