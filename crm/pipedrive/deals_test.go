package pipedrive_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/qwoty"
)

var ctx = context.Background()

// newDealEnv is a company whose app may make organizations and deals.
func newDealEnv(t *testing.T, opts pdtest.Options) *orderEnv {
	t.Helper()
	return newOrderEnv(t, opts, pdtest.DealScopes...)
}

func (e *orderEnv) org(t *testing.T, id string) pdtest.Org {
	t.Helper()
	n, _ := strconv.ParseInt(id, 10, 64)
	for _, o := range e.pd.Orgs(company) {
		if o.ID == n {
			return o
		}
	}
	t.Fatalf("no organization %s", id)
	return pdtest.Org{}
}

// refCode is the code of object's "Qwoty ref" field; it fails unless there
// is exactly one.
func (e *orderEnv) refCode(t *testing.T, object string) string {
	t.Helper()
	codes := e.pd.FieldsNamed(company, object, pipedrive.RefFieldName)
	if len(codes) != 1 {
		t.Fatalf("%d %s fields named %q, want 1", len(codes), object, pipedrive.RefFieldName)
	}
	return codes[0]
}

func newDeal(ref, account string) crm.NewDeal {
	return crm.NewDeal{Ref: ref, Name: "Q for Globex", AccountID: account, Currency: "USD",
		Amount: decimal.RequireFromString("1234.50"), CloseDate: "2026-12-31", Status: qwoty.StatusSent}
}

func TestDealsReady(t *testing.T) {
	a := pipedrive.NewAdapter(pipedrive.Options{})
	err := a.DealsReady(&qwoty.Connection{Scopes: pdtest.SyncScopes})
	var coded *qwoty.Error
	if !errors.As(err, &coded) || coded.Code != qwoty.CodeSyncReconnect || !strings.Contains(err.Error(), "contacts:full") {
		t.Fatalf("sync's scopes: %v, want sync_reconnect naming contacts:full", err)
	}
	if err := a.DealsReady(&qwoty.Connection{Scopes: []string{"contacts:full"}}); !errors.As(err, &coded) || coded.Code != qwoty.CodeSyncReconnect {
		t.Fatalf("without sync's scopes: %v", err)
	}
	if err := a.DealsReady(&qwoty.Connection{Scopes: pdtest.DealScopes}); err != nil {
		t.Fatal(err)
	}
}

// An organization and a deal made carry Qwoty's references in their own
// "Qwoty ref" fields, made once; the deal is on the organization, with its
// value, currency, close date and the pipeline's first stage.
func TestCreateAccountAndDeal(t *testing.T) {
	e := newDealEnv(t, pdtest.Options{})
	id, err := e.a.CreateAccount(ctx, e.s, e.budget, crm.NewAccount{Ref: "qwoty-customer-1", Name: "Globex Unknown", Domain: "globex.example",
		Email: "buy@globex.example", Street: "1 Main St", City: "Springfield", PostalCode: "12345", Country: "US"})
	if err != nil {
		t.Fatal(err)
	}
	o := e.org(t, id)
	orgCode := e.refCode(t, pdtest.OrgFields)
	if o.Name != "Globex Unknown" || o.Custom[orgCode] != "qwoty-customer-1" || o.Address != "1 Main St, 12345 Springfield, US" {
		t.Fatalf("organization %+v", o)
	}
	if _, err := e.a.CreateAccount(ctx, e.s, e.budget, crm.NewAccount{Ref: "qwoty-customer-2", Name: "Initech"}); err != nil {
		t.Fatal(err)
	}
	e.refCode(t, pdtest.OrgFields) // still one field

	dealID, err := e.a.CreateDeal(ctx, e.s, e.budget, newDeal("qwoty-quote-1", id))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.ParseInt(dealID, 10, 64)
	d, ok := e.pd.Deal(company, n)
	if !ok || d.Title != "Q for Globex" || strconv.FormatInt(d.OrgID, 10) != id || d.Value != "1234.5" || d.Currency != "USD" ||
		d.CloseDate != "2026-12-31" || d.StageID != pdtest.DefaultStageID || (d.Status != "" && d.Status != "open") {
		t.Fatalf("deal %+v", d)
	}
	if v := e.pd.DealCustomFields(company, n)[e.refCode(t, pdtest.DealFields)]; v != "qwoty-quote-1" {
		t.Fatalf("deal's ref %v", v)
	}
	// Every call took from the daily budget and the burst window; the
	// searches none yet.
	if e.budget.Taken["daily"] == 0 || e.budget.Taken["burst"] == 0 || e.budget.Taken["search"] != 0 {
		t.Fatalf("budget taken %v", e.budget.Taken)
	}
}

// The stage map's value sets the new deal's stage or status.
func TestCreateDealStage(t *testing.T) {
	e := newDealEnv(t, pdtest.Options{})
	org, err := e.a.CreateAccount(ctx, e.s, e.budget, crm.NewAccount{Ref: "qwoty-customer-1", Name: "Globex"})
	if err != nil {
		t.Fatal(err)
	}
	for stage, check := range map[string]func(pdtest.Deal) bool{
		"stage:3": func(d pdtest.Deal) bool { return d.StageID == 3 },
		"won":     func(d pdtest.Deal) bool { return d.Status == "won" },
	} {
		nd := newDeal("qwoty-quote-"+stage, org)
		nd.Stage = stage
		id, err := e.a.CreateDeal(ctx, e.s, e.budget, nd)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.ParseInt(id, 10, 64)
		if d, _ := e.pd.Deal(company, n); !check(d) {
			t.Fatalf("stage %s: deal %+v", stage, d)
		}
	}
	nd := newDeal("qwoty-quote-bad", org)
	nd.Stage = "stage:99999"
	if _, err := e.a.CreateDeal(ctx, e.s, e.budget, nd); !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "Stage not found") {
		t.Fatalf("an unknown stage: %v, want Pipedrive's refusal", err)
	}
}

// Pipedrive's refusals are rejections in its words; a deal without
// organization is refused before any call.
func TestCreateDealRefused(t *testing.T) {
	e := newDealEnv(t, pdtest.Options{})
	before := e.pd.Requests()
	if _, err := e.a.CreateDeal(ctx, e.s, e.budget, newDeal("qwoty-quote-1", "")); !errors.Is(err, crm.ErrRejected) {
		t.Fatalf("no organization: %v", err)
	}
	if e.pd.Requests() != before {
		t.Fatal("a deal without organization called Pipedrive")
	}
	nd := newDeal("qwoty-quote-2", strconv.Itoa(pdtest.DefaultOrgID))
	nd.Name = ""
	if _, err := e.a.CreateDeal(ctx, e.s, e.budget, nd); !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "title") {
		t.Fatalf("no title: %v", err)
	}
	if _, err := e.a.CreateDeal(ctx, e.s, e.budget, newDeal("qwoty-quote-3", "999")); !errors.Is(err, crm.ErrRejected) ||
		!strings.Contains(err.Error(), "Organization not found") {
		t.Fatalf("an unknown organization: %v", err)
	}
	// Without contacts:full, Pipedrive's 403.
	e = newOrderEnv(t, pdtest.Options{})
	if _, err := e.a.CreateAccount(ctx, e.s, e.budget, crm.NewAccount{Ref: "qwoty-customer-1", Name: "Globex"}); !errors.Is(err, crm.ErrForbidden) {
		t.Fatalf("without contacts:full: %v", err)
	}
}

// A name matches exactly but for case, the oldest of several; a match by
// domain is one by name.
func TestFindAccountByName(t *testing.T) {
	e := newDealEnv(t, pdtest.Options{})
	e.pd.PutOrg(company, pdtest.Org{ID: 21, Name: "Umbrella Existing"})
	e.pd.PutOrg(company, pdtest.Org{ID: 20, Name: "UMBRELLA EXISTING"})
	e.pd.PutOrg(company, pdtest.Org{ID: 19, Name: "Umbrella Existing Holdings"})
	for _, m := range []crm.AccountMatch{
		{By: qwoty.MatchByName, Name: "umbrella existing"},
		{By: qwoty.MatchByDomain, Name: "Umbrella Existing ", Domain: "umbrella.example"},
	} {
		id, err := e.a.FindAccount(ctx, e.s, e.budget, m)
		if err != nil || id != "20" {
			t.Fatalf("%+v: %q, %v; want the oldest exact match, 20", m, id, err)
		}
	}
	if id, err := e.a.FindAccount(ctx, e.s, e.budget, crm.AccountMatch{By: qwoty.MatchByName, Name: "Umbrella"}); err != nil || id != "" {
		t.Fatalf("a part of a name: %q, %v", id, err)
	}
	if e.budget.Taken["search"] == 0 {
		t.Fatal("the searches took nothing of the search window")
	}
}

// By reference: nothing before Qwoty made its field (no search); the one
// made after; none for another reference; and while the search does not
// find it yet, the newest organizations and deals do.
func TestFindByRef(t *testing.T) {
	for _, lag := range []time.Duration{0, time.Hour} {
		e := newDealEnv(t, pdtest.Options{SearchLag: lag})
		if id, err := e.a.FindAccount(ctx, e.s, e.budget, crm.AccountMatch{Ref: "qwoty-customer-1"}); err != nil || id != "" {
			t.Fatalf("before any: %q, %v", id, err)
		}
		if id, err := e.a.FindDeal(ctx, e.s, e.budget, "qwoty-quote-1"); err != nil || id != "" {
			t.Fatalf("before any: %q, %v", id, err)
		}
		if n := e.pd.APICalls("/api/v2/organizations/search") + e.pd.APICalls("/api/v2/deals/search"); n != 0 {
			t.Fatalf("%d searches before Qwoty's fields exist", n)
		}
		org, err := e.a.CreateAccount(ctx, e.s, e.budget, crm.NewAccount{Ref: "qwoty-customer-1", Name: "Globex"})
		if err != nil {
			t.Fatal(err)
		}
		deal, err := e.a.CreateDeal(ctx, e.s, e.budget, newDeal("qwoty-quote-1", org))
		if err != nil {
			t.Fatal(err)
		}
		if id, err := e.a.FindAccount(ctx, e.s, e.budget, crm.AccountMatch{Ref: "qwoty-customer-1", Name: "Globex"}); err != nil || id != org {
			t.Fatalf("lag %s: account by ref %q, %v; want %s", lag, id, err, org)
		}
		if id, err := e.a.FindDeal(ctx, e.s, e.budget, "qwoty-quote-1"); err != nil || id != deal {
			t.Fatalf("lag %s: deal by ref %q, %v; want %s", lag, id, err, deal)
		}
		if id, err := e.a.FindDeal(ctx, e.s, e.budget, "qwoty-quote-2"); err != nil || id != "" {
			t.Fatalf("another ref: %q, %v", id, err)
		}
		if id, err := e.a.FindAccount(ctx, e.s, e.budget, crm.AccountMatch{Ref: "QWOTY-CUSTOMER-1"}); err != nil || id != "" {
			t.Fatalf("a reference is matched exactly: %q, %v", id, err)
		}
	}
}

// A create whose answer is lost is found by its reference; its field is
// not made twice.
func TestLostCreateAdopted(t *testing.T) {
	e := newDealEnv(t, pdtest.Options{})
	if err := e.pd.Inject(emulator.Fault{Route: "POST /api/v2/organizations", Times: 1, Drop: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.CreateAccount(ctx, e.s, e.budget, crm.NewAccount{Ref: "qwoty-customer-9", Name: "Lost Answer"}); err == nil {
		t.Fatal("a dropped answer succeeded")
	}
	id, err := e.a.FindAccount(ctx, e.s, e.budget, crm.AccountMatch{Ref: "qwoty-customer-9"})
	if err != nil || id == "" || e.org(t, id).Name != "Lost Answer" {
		t.Fatalf("adoption: %q, %v", id, err)
	}
	if _, err := e.a.CreateAccount(ctx, e.s, e.budget, crm.NewAccount{Ref: "qwoty-customer-10", Name: "Next"}); err != nil {
		t.Fatal(err)
	}
	e.refCode(t, pdtest.OrgFields)
}

// A search Pipedrive refuses (400: a term its exact match does not take)
// is not the end: a name is searched again, the term anywhere, and compared
// here; a reference is looked for among the newest. A reference that
// another one contains is not mistaken for it.
func TestSearchRefusedFallsBack(t *testing.T) {
	e := newDealEnv(t, pdtest.Options{})
	e.pd.PutOrg(company, pdtest.Org{ID: 30, Name: "A Rather Long Organization Name Of Forty Chars"})
	if err := e.pd.Inject(emulator.Fault{Route: "GET /api/v2/organizations/search", Times: 1, Status: 400}); err != nil {
		t.Fatal(err)
	}
	id, err := e.a.FindAccount(ctx, e.s, e.budget, crm.AccountMatch{By: qwoty.MatchByName, Name: "a rather long organization name of forty chars"})
	if err != nil || id != "30" {
		t.Fatalf("name after a refused search: %q, %v", id, err)
	}

	org, err := e.a.CreateAccount(ctx, e.s, e.budget, crm.NewAccount{Ref: "qwoty-customer-10", Name: "Ten"})
	if err != nil {
		t.Fatal(err)
	}
	one, err := e.a.CreateAccount(ctx, e.s, e.budget, crm.NewAccount{Ref: "qwoty-customer-1", Name: "One"})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := e.a.FindAccount(ctx, e.s, e.budget, crm.AccountMatch{Ref: "qwoty-customer-1"}); err != nil || id != one {
		t.Fatalf("ref contained in another: %q, %v; want %s", id, err, one)
	}
	deal, err := e.a.CreateDeal(ctx, e.s, e.budget, newDeal("qwoty-quote-1", org))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.pd.Inject(emulator.Fault{Route: "GET /api/v2/deals/search", Times: 1, Status: 400}); err != nil {
		t.Fatal(err)
	}
	if id, err := e.a.FindDeal(ctx, e.s, e.budget, "qwoty-quote-1"); err != nil || id != deal {
		t.Fatalf("deal after a refused search: %q, %v; want %s", id, err, deal)
	}
}

// Two runs that both find no "Qwoty ref" field make one each (Pipedrive
// keeps no names unique): each then takes the first of the name, so both
// write their references into the same field and each is found by it.
func TestRacingRunsAgreeOnOneRefField(t *testing.T) {
	e := newDealEnv(t, pdtest.Options{})
	// The first run's create is held while the second makes its field.
	if err := e.pd.Inject(emulator.Fault{Route: "POST /api/v1/organizationFields", Times: 1, Delay: 400 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 2)
	errs := make([]error, 2)
	done := make(chan int)
	for i := range 2 {
		go func() {
			if i == 1 {
				time.Sleep(100 * time.Millisecond)
			}
			ids[i], errs[i] = e.a.CreateAccount(ctx, e.s, e.budget, crm.NewAccount{Ref: "qwoty-customer-" + strconv.Itoa(i), Name: "Org " + strconv.Itoa(i)})
			done <- i
		}()
	}
	<-done
	<-done
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	codes := e.pd.FieldsNamed(company, pdtest.OrgFields, pipedrive.RefFieldName)
	if len(codes) != 2 {
		t.Fatalf("%d fields named %q: the race this test plays did not happen", len(codes), pipedrive.RefFieldName)
	}
	for i, id := range ids {
		if got := e.org(t, id).Custom[codes[0]]; got != "qwoty-customer-"+strconv.Itoa(i) {
			t.Errorf("run %d's organization holds %v in the first %q field, want its reference", i, got, pipedrive.RefFieldName)
		}
		got, err := e.a.FindAccount(ctx, e.s, e.budget, crm.AccountMatch{Ref: "qwoty-customer-" + strconv.Itoa(i)})
		if err != nil || got != id {
			t.Errorf("run %d's organization %s found by its reference as %q, %v", i, id, got, err)
		}
	}
}
