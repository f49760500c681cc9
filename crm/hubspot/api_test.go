package hubspot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
)

func client(t *testing.T, srv *hstest.Server, app *hubspot.OAuthApp) *hubspot.Client {
	t.Helper()
	return &hubspot.Client{BaseURL: srv.URL, AccessToken: connect(t, app).AccessToken}
}

func TestDealWithPrimaryCompany(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	c := client(t, srv, newApp(srv, nil))
	d, err := c.Deal(context.Background(), hstest.DefaultDealID)
	if err != nil {
		t.Fatalf("Deal: %v", err)
	}
	if d.ID != hstest.DefaultDealID || d.Name != "Acme - 200 licences" || d.Currency != "USD" {
		t.Errorf("Deal = %+v", d)
	}
	if !d.Amount.Valid || !d.Amount.Decimal.Equal(decimal.RequireFromString("12000.5")) {
		t.Errorf("Amount = %v, want exactly 12000.50", d.Amount)
	}
	// The other company sorts first; the primary one must still win.
	if d.CompanyID != hstest.DefaultCompanyID || d.CompanyName != "Acme" {
		t.Errorf("company = %s %q, want the primary %s \"Acme\"", d.CompanyID, d.CompanyName, hstest.DefaultCompanyID)
	}
	if srv.Reads("deals") != 1 || srv.Reads("companies") != 1 {
		t.Errorf("reads: %d deals, %d companies; want 1 and 1", srv.Reads("deals"), srv.Reads("companies"))
	}
}

func TestDealWithoutAmountCurrencyOrCompany(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	c := client(t, srv, newApp(srv, nil))
	d, err := c.Deal(context.Background(), hstest.DefaultBareDealID)
	if err != nil {
		t.Fatalf("Deal: %v", err)
	}
	if d.Amount.Valid || d.Currency != "" || d.CompanyID != "" || d.CompanyName != "" {
		t.Errorf("bare deal = %+v, want no amount, currency or company", d)
	}
	if n := srv.Reads("companies"); n != 0 {
		t.Errorf("a deal without company made %d company reads", n)
	}
}

func TestDealOddValues(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	srv.PutDeal(hstest.DefaultPortalID, hstest.Deal{ID: "77", Name: "Odd", Amount: "lots", Currency: "usd",
		CompanyIDs: []string{"88"}})
	srv.PutCompany(hstest.DefaultPortalID, hstest.Company{ID: "88", Name: "Only One"})
	c := client(t, srv, newApp(srv, nil))
	d, err := c.Deal(context.Background(), "77")
	if err != nil {
		t.Fatalf("Deal: %v", err)
	}
	if d.Amount.Valid || d.Currency != "" {
		t.Errorf("Deal = %+v, want a non-number amount and a non-ISO currency left empty", d)
	}
	if d.CompanyID != "88" || d.CompanyName != "Only One" {
		t.Errorf("company = %s %q", d.CompanyID, d.CompanyName)
	}
}

func TestDealErrors(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	app := newApp(srv, nil)
	c := client(t, srv, app)

	_, err := c.Deal(context.Background(), "404404")
	if !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("unknown deal: %v, want ErrNotFound", err)
	}
	var ae *crm.APIError
	if !errors.As(err, &ae) || ae.Status != 404 || ae.RequestID == "" {
		t.Errorf("unknown deal error = %#v, want a 404 APIError with a correlation id", ae)
	}

	for _, id := range []string{"", "12/../34", "abc", "1?x=1", "123456789012345678901"} {
		if _, err := c.Deal(context.Background(), id); err == nil {
			t.Errorf("Deal(%q) was attempted", id)
		}
	}
	if n := srv.Reads("deals"); n != 1 {
		t.Errorf("%d deal reads, want only the 404 one: malformed ids must not reach HubSpot", n)
	}

	srv.ExpireAccessTokens()
	if _, err := c.Deal(context.Background(), hstest.DefaultDealID); !errors.Is(err, crm.ErrUnauthorized) {
		t.Errorf("expired token: %v, want ErrUnauthorized", err)
	}
	bad := &hubspot.Client{BaseURL: srv.URL, AccessToken: "not-a-token"}
	if _, err := bad.Deal(context.Background(), hstest.DefaultDealID); !errors.Is(err, crm.ErrUnauthorized) || errors.Is(err, crm.ErrNotFound) {
		t.Errorf("unknown token: %v, want ErrUnauthorized only", err)
	}
}

// The card's path after 30 minutes: 401, refresh, read again.
func TestDealAfterRefresh(t *testing.T) {
	c := newClock()
	srv := hstest.New(t, hstest.Options{Now: c.Now})
	app := newApp(srv, c.Now)
	tok := connect(t, app)
	c.Advance(31 * time.Minute)
	cl := &hubspot.Client{BaseURL: srv.URL, AccessToken: tok.AccessToken}
	if _, err := cl.Deal(context.Background(), hstest.DefaultDealID); !errors.Is(err, crm.ErrUnauthorized) {
		t.Fatalf("Deal with a 31-minute-old token: %v, want ErrUnauthorized", err)
	}
	fresh, err := app.Refresh(context.Background(), tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	cl.AccessToken = fresh.AccessToken
	if _, err := cl.Deal(context.Background(), hstest.DefaultDealID); err != nil {
		t.Errorf("Deal after refresh: %v", err)
	}
}

func TestDealWithoutCompaniesScope(t *testing.T) {
	scopes := []string{"crm.objects.deals.read", "oauth"}
	srv := hstest.New(t, hstest.Options{App: hstest.App{ClientID: hstest.DefaultClientID, ClientSecret: hstest.DefaultClientSecret,
		RequiredScopes: scopes}})
	app := newApp(srv, nil)
	app.Scopes = scopes
	c := client(t, srv, app)
	_, err := c.Deal(context.Background(), hstest.DefaultDealID)
	if !errors.Is(err, hubspot.ErrMissingScopes) {
		t.Fatalf("Deal without the companies scope: %v, want ErrMissingScopes", err)
	}
	if errors.Is(err, crm.ErrUnauthorized) {
		t.Error("a missing scope was taken for an expired token: refreshing would not help")
	}
}
