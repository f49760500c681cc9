package hubspot_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/qwoty"
)

func (e *syncEnv) findAccount(m crm.AccountMatch) (string, error) {
	return e.a.FindAccount(context.Background(), hubspotSession(e), e.budget, m)
}

func (e *syncEnv) createAccount(acc crm.NewAccount) (string, error) {
	return e.a.CreateAccount(context.Background(), hubspotSession(e), e.budget, acc)
}

func (e *syncEnv) findDeal(ref string) (string, error) {
	return e.a.FindDeal(context.Background(), hubspotSession(e), e.budget, ref)
}

func (e *syncEnv) createDeal(d crm.NewDeal) (string, error) {
	return e.a.CreateDeal(context.Background(), hubspotSession(e), e.budget, d)
}

// made lists the companies or deals carrying qwoty_ref.
func (e *syncEnv) made(typ string) []hstest.MadeRecord {
	return e.hs.RecordsWith(hstest.DefaultPortalID, typ, hubspot.RefProperty)
}

func newDealOf(ref, account string) crm.NewDeal {
	return crm.NewDeal{Ref: ref, Name: "Licences 2027", AccountID: account, Currency: "EUR", Amount: decimal.RequireFromString("1299.50"),
		CloseDate: "2026-12-31", Status: qwoty.StatusSent}
}

// A company and a deal made for a quote: the company with the customer's
// name, domain and address and Qwoty's reference (its qwoty_ref property
// made, unique, on first use); the deal with the quote's name, amount,
// currency, close date and the stage a push gives a sent quote, on the
// company as its primary one; each found again by its reference alone.
func TestDealMakerCreatesCompanyAndDeal(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	if err := e.a.DealsReady(e.conn); err != nil {
		t.Fatalf("DealsReady on a connection with the app's scopes: %v", err)
	}
	acc := crm.NewAccount{Ref: "qwoty-customer-c1", Name: "Globex", Domain: "globex.example", Email: "buy@globex.example",
		Phone: "+33 1 23 45 67 89", Street: "1 rue de la Paix", City: "Paris", PostalCode: "75002", Region: "IDF", Country: "France"}
	company, err := e.createAccount(acc)
	if err != nil {
		t.Fatal(err)
	}
	def, ok := e.hs.CustomProperty(hstest.DefaultPortalID, "companies", hubspot.RefProperty)
	if !ok || !def.HasUniqueValue {
		t.Fatalf("companies' %s property %+v (exists %v), want one with unique values", hubspot.RefProperty, def, ok)
	}
	got := e.hs.CompanyProperties(hstest.DefaultPortalID, company)
	want := map[string]string{"name": "Globex", "domain": "globex.example", "phone": "+33 1 23 45 67 89", "address": "1 rue de la Paix",
		"city": "Paris", "zip": "75002", "state": "IDF", "country": "France", hubspot.RefProperty: acc.Ref}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("company's %s = %q, want %q", k, got[k], v)
		}
	}
	if id, err := e.findAccount(crm.AccountMatch{Ref: acc.Ref}); err != nil || id != company {
		t.Errorf("FindAccount by its reference = %q, %v; want %s", id, err, company)
	}
	if id, err := e.findAccount(crm.AccountMatch{Ref: "qwoty-customer-other"}); err != nil || id != "" {
		t.Errorf("FindAccount by another reference = %q, %v; want none", id, err)
	}

	if id, err := e.findDeal("qwoty-quote-q1"); err != nil || id != "" {
		t.Errorf("FindDeal before any deal property exists = %q, %v; want none", id, err)
	}
	deal, err := e.createDeal(newDealOf("qwoty-quote-q1", company))
	if err != nil {
		t.Fatal(err)
	}
	props := e.hs.DealProperties(hstest.DefaultPortalID, deal)
	closes := strconv.FormatInt(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC).UnixMilli(), 10)
	want = map[string]string{"dealname": "Licences 2027", "amount": "1299.5", "deal_currency_code": "EUR", "dealstage": "contractsent",
		"closedate": closes, "pipeline": "default", hubspot.RefProperty: "qwoty-quote-q1"}
	for k, v := range want {
		if props[k] != v {
			t.Errorf("deal's %s = %q, want %q", k, props[k], v)
		}
	}
	if deals := e.made("deals"); len(deals) != 1 || deals[0].ID != deal || deals[0].CompanyID != company {
		t.Errorf("deals made %+v, want %s on company %s", deals, deal, company)
	}
	// The association is made by the create itself, as the primary one.
	var body struct {
		Associations []struct {
			To struct {
				ID string `json:"id"`
			} `json:"to"`
			Types []struct {
				Category string `json:"associationCategory"`
				TypeID   int    `json:"associationTypeId"`
			} `json:"types"`
		} `json:"associations"`
	}
	for _, w := range e.hs.Writes() {
		if w.Method == "POST" && w.Path == "/crm/objects/2026-03/deals" && w.Status == 201 {
			if err := json.Unmarshal(w.Body, &body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if a := body.Associations; len(a) != 1 || a[0].To.ID != company || len(a[0].Types) != 1 ||
		a[0].Types[0].Category != "HUBSPOT_DEFINED" || a[0].Types[0].TypeID != hstest.DealToCompanyPrimary {
		t.Errorf("the deal's create associated %+v, want company %s as primary (type %d)", a, company, hstest.DealToCompanyPrimary)
	}
	if id, err := e.findDeal("qwoty-quote-q1"); err != nil || id != deal {
		t.Errorf("FindDeal = %q, %v; want %s", id, err, deal)
	}
}

// A create whose answer was lost made its record: the retry meets the
// reference taken (409) and adopts the record, and nothing is made twice.
func TestDealMakerAdoptsAfterALostAnswer(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	// A first company and deal make the qwoty_ref properties: the lost
	// creates below are then writes, not refusals of a missing property.
	first, err := e.createAccount(crm.NewAccount{Ref: "qwoty-customer-c1", Name: "Globex"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.createDeal(newDealOf("qwoty-quote-q1", first)); err != nil {
		t.Fatal(err)
	}
	for _, route := range []string{"POST /crm/objects/2026-03/companies", "POST /crm/objects/2026-03/deals"} {
		if err := e.hs.Inject(emulator.Fault{Route: route, Times: 1, Drop: true}); err != nil {
			t.Fatal(err)
		}
	}
	acc := crm.NewAccount{Ref: "qwoty-customer-c2", Name: "Initech"}
	if _, err := e.createAccount(acc); err == nil || errors.Is(err, crm.ErrRejected) {
		t.Fatalf("create with its answer lost: %v, want a retryable error", err)
	}
	company, err := e.createAccount(acc)
	if err != nil {
		t.Fatal(err)
	}
	if made := e.made("companies"); len(made) != 2 || made[1].ID != company {
		t.Fatalf("companies made %+v, want %s after %s", made, company, first)
	}
	if _, err := e.createDeal(newDealOf("qwoty-quote-q2", company)); err == nil {
		t.Fatal("deal create with its answer lost succeeded")
	}
	deal, err := e.createDeal(newDealOf("qwoty-quote-q2", company))
	if err != nil {
		t.Fatal(err)
	}
	if made := e.made("deals"); len(made) != 2 || made[1].ID != deal {
		t.Fatalf("deals made %+v, want %s after the first", made, deal)
	}
}

// Matching: a name whatever its case, the oldest of several; a domain
// with or without "www."; nothing for another name or domain.
func TestDealMakerMatchesCompanies(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	e.hs.PutCompany(hstest.DefaultPortalID, hstest.Company{ID: "501", Name: "Umbrella Corp"})
	e.hs.PutCompany(hstest.DefaultPortalID, hstest.Company{ID: "502", Name: "UMBRELLA CORP"})
	e.hs.PutCompany(hstest.DefaultPortalID, hstest.Company{ID: "503", Name: "Umbrella Corporation",
		Properties: map[string]string{"domain": "www.umbrella.example"}})
	cases := []struct {
		name string
		m    crm.AccountMatch
		want string
	}{
		{"name, other case, oldest", crm.AccountMatch{By: qwoty.MatchByName, Name: "umbrella corp"}, "501"},
		{"name, another", crm.AccountMatch{By: qwoty.MatchByName, Name: "Umbrella"}, ""},
		{"domain stored with www.", crm.AccountMatch{By: qwoty.MatchByDomain, Name: "x", Domain: "umbrella.example"}, "503"},
		{"domain, another", crm.AccountMatch{By: qwoty.MatchByDomain, Name: "Umbrella Corp", Domain: "other.example"}, ""},
		{"domain, none: by name", crm.AccountMatch{By: qwoty.MatchByDomain, Name: "Umbrella Corporation"}, "503"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, err := e.findAccount(c.m); err != nil || got != c.want {
				t.Errorf("FindAccount(%+v) = %q, %v; want %q", c.m, got, err, c.want)
			}
		})
	}
}

// The connection's stage for the status wins over the default; a stage
// HubSpot does not have is refused for good, with its words.
func TestDealMakerStage(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	d := newDealOf("qwoty-quote-q3", "")
	d.Stage = "qualifiedtobuy"
	id, err := e.createDeal(d)
	if err != nil {
		t.Fatal(err)
	}
	if st := e.hs.DealProperties(hstest.DefaultPortalID, id)["dealstage"]; st != "qualifiedtobuy" {
		t.Errorf("dealstage %q, want the connection's qualifiedtobuy", st)
	}
	d = newDealOf("qwoty-quote-q4", "")
	d.Stage = "no_such_stage"
	if _, err := e.createDeal(d); !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "dealstage") {
		t.Errorf("unknown stage: %v, want rejected naming dealstage", err)
	}
}

// A connection made before deals were made lacks the companies' write
// scopes: DealsReady asks for a reconnection, and a create is forbidden.
func TestDealMakerMissingScope(t *testing.T) {
	scopes := slices.DeleteFunc(slices.Clone(hubspot.DefaultScopes), func(s string) bool { return slices.Contains(hubspot.DealScopes, s) })
	e := newSyncEnv(t, hstest.Options{App: hstest.App{ClientID: hstest.DefaultClientID, ClientSecret: hstest.DefaultClientSecret,
		RequiredScopes: scopes}}, scopes...)
	err := e.a.DealsReady(e.conn)
	var coded *qwoty.Error
	if !errors.As(err, &coded) || coded.Code != qwoty.CodeSyncReconnect || !strings.Contains(err.Error(), "crm.objects.companies.write") {
		t.Errorf("DealsReady without the companies' write scopes: %v, want sync_reconnect naming them", err)
	}
	if _, err := e.createAccount(crm.NewAccount{Ref: "qwoty-customer-c9", Name: "Hooli"}); !errors.Is(err, crm.ErrForbidden) {
		t.Errorf("create without the scope: %v, want forbidden", err)
	}
	if made := e.made("companies"); len(made) != 0 {
		t.Errorf("companies made %+v, want none", made)
	}
}
