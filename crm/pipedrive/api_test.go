package pipedrive_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
)

func client(tok *pipedrive.Token) *pipedrive.Client {
	return &pipedrive.Client{APIDomain: tok.APIDomain, AccessToken: tok.AccessToken}
}

func TestDeal(t *testing.T) {
	srv := pdtest.New(t, pdtest.Options{})
	c := client(connect(t, srv))
	ctx := context.Background()

	d, err := c.Deal(ctx, pdtest.DefaultDealID)
	if err != nil {
		t.Fatalf("deal: %v", err)
	}
	want := pipedrive.Deal{ID: 3, Title: "Globex - 200 licences", Value: "12000.50", Currency: "EUR", OrgID: pdtest.DefaultOrgID, OrgName: "Globex", Status: "open"}
	if *d != want {
		t.Errorf("deal = %+v, want %+v", *d, want)
	}

	d, err = c.Deal(ctx, pdtest.DefaultNoOrgDealID)
	if err != nil || d.OrgID != 0 || d.OrgName != "" || d.Value != "99" {
		t.Errorf("deal without organization = %+v, %v", d, err)
	}
	if n := srv.APICalls("/api/v2/organizations/0"); n != 0 {
		t.Errorf("%d calls for organization 0, want none", n)
	}

	// Exact money: no float on the way.
	srv.PutDeal(pdtest.DefaultCompanyID, pdtest.Deal{ID: 8, Title: "Precise", Value: "12345678901234567.89", Currency: "USD"})
	if d, err := c.Deal(ctx, 8); err != nil || d.Value != "12345678901234567.89" {
		t.Errorf("deal 8 value = %+v, %v, want 12345678901234567.89 exactly", d, err)
	}

	_, err = c.Deal(ctx, 404)
	var ae *crm.APIError
	if !errors.Is(err, crm.ErrNotFound) || !errors.As(err, &ae) || ae.Message != "Deal not found" {
		t.Errorf("unknown deal: %v, want not found with Pipedrive's message", err)
	}
}

func TestDealAfterTokenExpiry(t *testing.T) {
	srv := pdtest.New(t, pdtest.Options{})
	tok := connect(t, srv)
	srv.ExpireAccessTokens()
	_, err := client(tok).Deal(context.Background(), pdtest.DefaultDealID)
	var ae *crm.APIError
	if !errors.Is(err, crm.ErrUnauthorized) || !errors.As(err, &ae) || ae.Message != "Invalid token: access_token is invalid" {
		t.Fatalf("deal with an expired token: %v, want unauthorized", err)
	}
	// What the server does on ErrUnauthorized: refresh once, retry.
	next, err := newApp(srv).Refresh(context.Background(), tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client(next).Deal(context.Background(), pdtest.DefaultDealID); err != nil {
		t.Errorf("deal after refresh: %v", err)
	}
	if _, err := client(tok).Me(context.Background()); !errors.Is(err, crm.ErrUnauthorized) {
		t.Errorf("me with the expired token: %v, want unauthorized", err)
	}
}

func TestDealOfAnotherCompany(t *testing.T) {
	srv := pdtest.New(t, pdtest.Options{Companies: []pdtest.Company{
		{ID: 1, Name: "A", Domain: "a", Users: []pdtest.User{{ID: 10, Name: "A"}}, Deals: []pdtest.Deal{{ID: 100, Title: "A's", Currency: "EUR"}}},
		{ID: 2, Name: "B", Domain: "b", Users: []pdtest.User{{ID: 20, Name: "B"}}, Deals: []pdtest.Deal{{ID: 200, Title: "B's", Currency: "EUR"}}},
	}})
	c := client(connect(t, srv)) // as user 10 of company 1
	if _, err := c.Deal(context.Background(), 200); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("company 2's deal through company 1's token: %v, want not found", err)
	}
}

func TestDealScopes(t *testing.T) {
	// Without contacts:read the organization's name is hidden, not fatal.
	srv := pdtest.New(t, pdtest.Options{App: pdtest.App{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret, Scopes: []string{"base", "deals:read"}}})
	d, err := client(connect(t, srv)).Deal(context.Background(), pdtest.DefaultDealID)
	if err != nil || d.OrgID != pdtest.DefaultOrgID || d.OrgName != "" || d.Title == "" {
		t.Errorf("deal without contacts scope = %+v, %v, want the deal with its org id and no name", d, err)
	}

	// Without deals:read the deal itself is forbidden.
	srv = pdtest.New(t, pdtest.Options{App: pdtest.App{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret, Scopes: []string{"base", "contacts:read"}}})
	_, err = client(connect(t, srv)).Deal(context.Background(), pdtest.DefaultDealID)
	if !errors.Is(err, crm.ErrForbidden) {
		t.Errorf("deal without deals scope: %v, want forbidden", err)
	}
}

// fakeAPI answers every request with status and body.
func fakeAPI(t *testing.T, status int, body string) *pipedrive.Client {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(ts.Close)
	return &pipedrive.Client{APIDomain: ts.URL, AccessToken: "a"}
}

func TestAPIErrorShapes(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		body     string
		sentinel error
		msg      string
	}{
		{"rate limit", 429, `{"success":false,"error":"Request over limit","error_info":"..."}`, crm.ErrRateLimited, "Request over limit"},
		{"capping", 403, `{"success":false,"error":"Couldn't add the deal. Open deals limit reached.","code":"feature_capping_deals_limit"}`, crm.ErrForbidden, "Couldn't add the deal. Open deals limit reached."},
		{"a proxy's page", 502, `<html>bad gateway</html>`, nil, "<html>bad gateway</html>"},
		{"a 200 that is no success", 200, `{"success":false}`, nil, ""},
		{"a 200 without data", 200, `{"success":true,"data":null}`, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fakeAPI(t, tc.status, tc.body).Deal(context.Background(), 1)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("error %v does not match %v", err, tc.sentinel)
			}
			var ae *crm.APIError
			if tc.msg != "" && (!errors.As(err, &ae) || ae.Message != tc.msg || ae.Status != tc.status) {
				t.Errorf("error %v, want an APIError %d %q", err, tc.status, tc.msg)
			}
			if errors.Is(err, crm.ErrUnauthorized) {
				t.Errorf("error %v matches unauthorized", err)
			}
		})
	}
}

func TestAPIDomainRefusedBeforeSending(t *testing.T) {
	tr := &deadlineTransport{}
	for _, domain := range []string{"http://acme.pipedrive.com", "", "https://acme.pipedrive.com?x=1"} {
		c := &pipedrive.Client{APIDomain: domain, AccessToken: "secret", HTTP: &http.Client{Transport: tr}}
		if _, err := c.Deal(context.Background(), 1); err == nil {
			t.Errorf("api domain %q accepted", domain)
		}
	}
	if tr.calls.Load() != 0 {
		t.Errorf("%d requests sent to refused domains", tr.calls.Load())
	}
	c := &pipedrive.Client{APIDomain: "https://acme.pipedrive.com", AccessToken: "a", HTTP: &http.Client{Transport: tr}}
	_, err1 := c.Deal(context.Background(), 1)
	_, err2 := c.Me(context.Background())
	if err1 == nil || err2 == nil || tr.calls.Load() != 2 || tr.withDeadline.Load() != 2 {
		t.Errorf("calls %d, with deadline %d, want 2 bounded calls", tr.calls.Load(), tr.withDeadline.Load())
	}
}
