package pipedrive_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/oauthtest"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
)

func newApp(srv *pdtest.Server) *pipedrive.OAuthApp {
	return &pipedrive.OAuthApp{
		ClientID:     pdtest.DefaultClientID,
		ClientSecret: pdtest.DefaultClientSecret,
		RedirectURL:  pdtest.DefaultCallbackURL,
		OAuthURL:     srv.URL,
	}
}

// authorize follows the browser's first hop and returns the callback query.
func authorize(t *testing.T, app *pipedrive.OAuthApp, state string) url.Values {
	t.Helper()
	authURL, err := app.AuthCodeURL(state)
	if err != nil {
		t.Fatal(err)
	}
	return oauthtest.Authorize(t, authURL, app.RedirectURL)
}

// connect runs the whole installation and returns the token.
func connect(t *testing.T, srv *pdtest.Server) *pipedrive.Token {
	t.Helper()
	app := newApp(srv)
	q := authorize(t, app, "state-1")
	if err := pipedrive.CallbackError(q); err != nil {
		t.Fatalf("callback carries an error: %v", err)
	}
	tok, err := app.Exchange(context.Background(), q.Get("code"))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

func TestAuthCodeURL(t *testing.T) {
	app := &pipedrive.OAuthApp{ClientID: "cid", ClientSecret: "secret", RedirectURL: "https://app.example/oauth/pipedrive/callback"}
	raw, err := app.AuthCodeURL("st 1")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	if u.Scheme+"://"+u.Host+u.Path != "https://oauth.pipedrive.com/oauth/authorize" {
		t.Errorf("authorize URL %s, want Pipedrive's", raw)
	}
	if q.Get("client_id") != "cid" || q.Get("redirect_uri") != app.RedirectURL || q.Get("state") != "st 1" {
		t.Errorf("query %v, want client_id, redirect_uri and state", q)
	}
	// Nothing Pipedrive does not document: the secret above all.
	for _, k := range []string{"client_secret", "scope", "code_challenge"} {
		if q.Has(k) {
			t.Errorf("authorize URL carries %s: %s", k, raw)
		}
	}
	app.OAuthURL = "http://oauth.example"
	if _, err := app.AuthCodeURL("s"); err == nil {
		t.Error("a plain http OAuth URL off loopback was accepted")
	}
}

func TestConnect(t *testing.T) {
	srv := pdtest.New(t, pdtest.Options{})
	before := time.Now()
	tok := connect(t, srv)
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.APIDomain != srv.URL || tok.Scope != "base,deals:read,contacts:read" {
		t.Errorf("token %+v, want tokens, the scopes and api_domain %s", tok, srv.URL)
	}
	if d := tok.Expiry.Sub(before); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("expiry in %s, want about an hour", d)
	}
	// The emulator refuses credentials anywhere but the Basic header, so
	// this one exchange proves the client authenticates as documented.
	if got := srv.TokenCalls("authorization_code"); got != 1 {
		t.Errorf("%d code exchanges, want 1 (no retry with other credentials)", got)
	}

	me, err := (&pipedrive.Client{APIDomain: tok.APIDomain, AccessToken: tok.AccessToken}).Me(context.Background())
	if err != nil {
		t.Fatalf("me: %v", err)
	}
	want := pipedrive.User{ID: pdtest.DefaultAdminID, Name: "Ada Admin", Email: "ada@acme.example", IsAdmin: true, Locale: "en_US",
		TimeZone: "Europe/Tallinn", CompanyID: pdtest.DefaultCompanyID, CompanyName: pdtest.DefaultCompanyName, CompanyDomain: pdtest.DefaultDomain}
	if *me != want {
		t.Errorf("me = %+v, want %+v", *me, want)
	}

	// Another user installs: the token says who.
	if err := srv.SetLoginUser(pdtest.DefaultRepID); err != nil {
		t.Fatal(err)
	}
	tok = connect(t, srv)
	me, err = (&pipedrive.Client{APIDomain: tok.APIDomain, AccessToken: tok.AccessToken}).Me(context.Background())
	if err != nil || me.ID != pdtest.DefaultRepID || me.IsAdmin {
		t.Errorf("me = %+v, %v, want the rep, not admin", me, err)
	}
}

func TestExchangeErrors(t *testing.T) {
	srv := pdtest.New(t, pdtest.Options{})
	ctx := context.Background()

	_, err := newApp(srv).Exchange(ctx, "54321.12345.nope")
	var oe *crm.OAuthError
	if !errors.Is(err, crm.ErrInvalidGrant) || !errors.As(err, &oe) || oe.Status != 400 || oe.Description != "Invalid grant: authorization code is invalid" {
		t.Errorf("unknown code: %v, want invalid_grant with Pipedrive's message", err)
	}

	code := authorize(t, newApp(srv), "s").Get("code")
	bad := newApp(srv)
	bad.ClientSecret = "wrong"
	if _, err := bad.Exchange(ctx, code); !errors.Is(err, crm.ErrInvalidClient) {
		t.Errorf("wrong secret: %v, want invalid_client", err)
	}

	other := newApp(srv)
	other.RedirectURL = "https://app.example/elsewhere"
	if _, err := other.Exchange(ctx, code); err == nil || errors.Is(err, crm.ErrInvalidGrant) || !strings.Contains(err.Error(), "redirect_uri is invalid") {
		t.Errorf("other redirect_uri: %v, want invalid_request about redirect_uri", err)
	}

	srv.SetDenyInstall(true)
	q := authorize(t, newApp(srv), "s")
	if err := pipedrive.CallbackError(q); !errors.Is(err, crm.ErrAccessDenied) {
		t.Errorf("cancelled install: callback error %v, want access denied", err)
	}
}

func TestRefresh(t *testing.T) {
	srv := pdtest.New(t, pdtest.Options{})
	tok := connect(t, srv)
	app := newApp(srv)

	next, err := app.Refresh(context.Background(), tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if next.AccessToken == tok.AccessToken || next.RefreshToken != tok.RefreshToken || next.APIDomain != srv.URL {
		t.Errorf("refreshed %+v, want a new access token, the same refresh token, the api_domain", next)
	}

	srv.Uninstall(pdtest.DefaultCompanyID)
	if _, err := app.Refresh(context.Background(), tok.RefreshToken); !errors.Is(err, crm.ErrInvalidGrant) {
		t.Errorf("refresh after uninstall: %v, want invalid_grant", err)
	}
}

func TestAPIDomainIsChecked(t *testing.T) {
	for _, tc := range []struct {
		domain string
		ok     bool
	}{
		{"https://acme.pipedrive.com", true},
		{"https://acme.pipedrive.com/", true},
		{"http://acme.pipedrive.com", false},
		{"https://user:pw@acme.pipedrive.com", false},
		{"acme.pipedrive.com", false},
	} {
		srv := pdtest.New(t, pdtest.Options{APIDomain: tc.domain})
		app := newApp(srv)
		tok, err := app.Exchange(context.Background(), authorize(t, app, "s").Get("code"))
		switch {
		case tc.ok && (err != nil || tok.APIDomain != "https://acme.pipedrive.com"):
			t.Errorf("api_domain %q: %+v, %v, want it kept without trailing slash", tc.domain, tok, err)
		case !tc.ok && err == nil:
			t.Errorf("api_domain %q was accepted", tc.domain)
		}
	}
}

// fakeToken answers every token request with status and body.
func fakeToken(t *testing.T, status int, body string) *pipedrive.OAuthApp {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(ts.Close)
	return &pipedrive.OAuthApp{ClientID: "c", ClientSecret: "s", RedirectURL: "https://app.example/cb", OAuthURL: ts.URL}
}

func TestOAuthErrorShapes(t *testing.T) {
	cases := []struct {
		name, body string
		sentinel   error
		desc       string
	}{
		{"message only", `{"success":false,"message":"Invalid grant: refresh token is invalid"}`, crm.ErrInvalidGrant, "Invalid grant: refresh token is invalid"},
		{"RFC 6749", `{"error":"invalid_grant","error_description":"expired"}`, crm.ErrInvalidGrant, "expired"},
		{"code and message", `{"success":false,"error":"invalid_client","message":"Invalid client: client is invalid"}`, crm.ErrInvalidClient, "Invalid client: client is invalid"},
		{"a proxy's page", `<html>bad gateway</html>`, nil, "<html>bad gateway</html>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fakeToken(t, http.StatusBadRequest, tc.body).Refresh(context.Background(), "rt")
			var oe *crm.OAuthError
			if !errors.As(err, &oe) || oe.Description != tc.desc {
				t.Fatalf("error %v, want an OAuthError with description %q", err, tc.desc)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("error %v does not match %v", err, tc.sentinel)
			}
			if tc.sentinel == nil && (errors.Is(err, crm.ErrInvalidGrant) || errors.Is(err, crm.ErrInvalidClient)) {
				t.Errorf("a proxy's page matched a Pipedrive error: %v", err)
			}
		})
	}
	// A 200 without api_domain cannot be used: every call needs it.
	_, err := fakeToken(t, http.StatusOK, `{"access_token":"a","refresh_token":"r","token_type":"bearer","expires_in":3600}`).Refresh(context.Background(), "rt")
	if err == nil || !strings.Contains(err.Error(), "api_domain") {
		t.Errorf("token without api_domain: %v, want an error naming it", err)
	}
}

// deadlineTransport records whether requests carry a deadline, and fails
// them.
type deadlineTransport struct{ calls, withDeadline atomic.Int32 }

func (d *deadlineTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	d.calls.Add(1)
	if dl, ok := r.Context().Deadline(); ok && time.Until(dl) <= pipedrive.DefaultTimeout {
		d.withDeadline.Add(1)
	}
	return nil, errors.New("no network in this test")
}

func TestOAuthCallsAreBounded(t *testing.T) {
	tr := &deadlineTransport{}
	app := &pipedrive.OAuthApp{ClientID: "c", ClientSecret: "s", RedirectURL: "https://app.example/cb", HTTP: &http.Client{Transport: tr}}
	_, err1 := app.Exchange(context.Background(), "code")
	_, err2 := app.Refresh(context.Background(), "rt")
	if err1 == nil || err2 == nil || tr.calls.Load() != 2 || tr.withDeadline.Load() != 2 {
		t.Errorf("calls %d, with deadline %d (errors %v, %v), want 2 bounded failing calls", tr.calls.Load(), tr.withDeadline.Load(), err1, err2)
	}
}
