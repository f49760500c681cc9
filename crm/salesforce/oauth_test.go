package salesforce_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/oauthtest"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/crm/salesforce/sftest"
)

func newApp() *salesforce.OAuthApp {
	return &salesforce.OAuthApp{
		ClientID:     sftest.DefaultClientID,
		ClientSecret: sftest.DefaultClientSecret,
		RedirectURL:  sftest.DefaultCallbackURL,
		Prompt:       "login consent",
	}
}

// authorize follows the browser's first hop and returns the callback query
// Salesforce redirected to.
func authorize(t *testing.T, app *salesforce.OAuthApp, loginURL, state, verifier string) url.Values {
	t.Helper()
	return oauthtest.Authorize(t, app.AuthCodeURL(loginURL, state, verifier), app.RedirectURL)
}

// connect runs the whole web server flow and returns the token.
func connect(t *testing.T, srv *sftest.Server, app *salesforce.OAuthApp) *salesforce.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	q := authorize(t, app, srv.URL, "state-1", verifier)
	if err := salesforce.CallbackError(q); err != nil {
		t.Fatalf("callback carries an error: %v", err)
	}
	tok, err := app.Exchange(context.Background(), srv.URL, q.Get("code"), verifier)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok
}

func TestAuthCodeURLAsksForPKCEAndScopes(t *testing.T) {
	app := newApp()
	u, err := url.Parse(app.AuthCodeURL("https://login.salesforce.com/", "st", "verifier-0123456789-0123456789-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := map[string]string{
		"response_type":         "code",
		"client_id":             sftest.DefaultClientID,
		"redirect_uri":          sftest.DefaultCallbackURL,
		"scope":                 "api refresh_token",
		"state":                 "st",
		"code_challenge_method": "S256",
		"code_challenge":        oauth2.S256ChallengeFromVerifier("verifier-0123456789-0123456789-0123456789"),
		"prompt":                "login consent",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("authorize URL %s = %q, want %q", k, q.Get(k), v)
		}
	}
	if u.Host != "login.salesforce.com" || u.Path != "/services/oauth2/authorize" {
		t.Errorf("authorize URL is %s, want https://login.salesforce.com/services/oauth2/authorize", u)
	}
}

func TestCodeFlowWithPKCE(t *testing.T) {
	srv := sftest.New(t, sftest.Options{})
	app := newApp()
	before := time.Now().Add(-time.Second)
	tok := connect(t, srv, app)

	if tok.OrgID != sftest.DefaultOrgID || tok.UserID != sftest.DefaultAdminID {
		t.Errorf("token is for %s/%s, want %s/%s", tok.OrgID, tok.UserID, sftest.DefaultOrgID, sftest.DefaultAdminID)
	}
	if tok.InstanceURL != srv.URL {
		t.Errorf("InstanceURL = %q, want %q", tok.InstanceURL, srv.URL)
	}
	if tok.IdentityURL != srv.URL+"/id/"+sftest.DefaultOrgID+"/"+sftest.DefaultAdminID {
		t.Errorf("IdentityURL = %q", tok.IdentityURL)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Errorf("token lacks an access or a refresh token: %+v", tok)
	}
	if tok.IssuedAt.Before(before) || tok.IssuedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("IssuedAt = %v, want about now", tok.IssuedAt)
	}
	if tok.Scope != "api refresh_token" {
		t.Errorf("Scope = %q, want %q", tok.Scope, "api refresh_token")
	}
	if n := srv.TokenCalls("authorization_code"); n != 1 {
		t.Errorf("token endpoint saw %d code exchanges, want 1", n)
	}
}

func TestCallbackCarriesState(t *testing.T) {
	srv := sftest.New(t, sftest.Options{})
	q := authorize(t, newApp(), srv.URL, "opaque state/with+chars", oauth2.GenerateVerifier())
	if q.Get("state") != "opaque state/with+chars" || q.Get("code") == "" {
		t.Errorf("callback query = %v, want the state back and a code", q)
	}
}

func TestExchangeRefusesWrongVerifierAndSpentCode(t *testing.T) {
	srv := sftest.New(t, sftest.Options{})
	app := newApp()
	verifier := oauth2.GenerateVerifier()
	q := authorize(t, app, srv.URL, "s", verifier)

	_, err := app.Exchange(context.Background(), srv.URL, q.Get("code"), oauth2.GenerateVerifier())
	if !errors.Is(err, crm.ErrInvalidGrant) {
		t.Fatalf("Exchange with another verifier: %v, want ErrInvalidGrant", err)
	}
	var oe *crm.OAuthError
	if !errors.As(err, &oe) || oe.Status != http.StatusBadRequest || oe.Description != "invalid code verifier" {
		t.Errorf("error = %#v, want a 400 OAuthError \"invalid code verifier\"", oe)
	}
	// The failed attempt spent the code: the right verifier is too late.
	if _, err := app.Exchange(context.Background(), srv.URL, q.Get("code"), verifier); !errors.Is(err, crm.ErrInvalidGrant) {
		t.Errorf("second Exchange of the code: %v, want ErrInvalidGrant", err)
	}
}

func TestExchangeRefusesTamperedSignature(t *testing.T) {
	srv := sftest.New(t, sftest.Options{CorruptSignature: true})
	app := newApp()
	verifier := oauth2.GenerateVerifier()
	q := authorize(t, app, srv.URL, "s", verifier)
	tok, err := app.Exchange(context.Background(), srv.URL, q.Get("code"), verifier)
	if !errors.Is(err, salesforce.ErrBadSignature) || tok != nil {
		t.Fatalf("Exchange = %v, %v; want ErrBadSignature and no token", tok, err)
	}
}

func TestExchangeRefusesWrongClientSecret(t *testing.T) {
	srv := sftest.New(t, sftest.Options{})
	app := newApp()
	verifier := oauth2.GenerateVerifier()
	q := authorize(t, app, srv.URL, "s", verifier)
	app.ClientSecret = "not-the-secret"
	_, err := app.Exchange(context.Background(), srv.URL, q.Get("code"), verifier)
	var oe *crm.OAuthError
	if !errors.As(err, &oe) || oe.Code != "invalid_client" {
		t.Fatalf("Exchange with a wrong secret: %v, want invalid_client", err)
	}
}

func TestRefresh(t *testing.T) {
	srv := sftest.New(t, sftest.Options{})
	app := newApp()
	tok := connect(t, srv, app)

	srv.ExpireAccessTokens()
	again, err := app.Refresh(context.Background(), srv.URL, tok.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if again.AccessToken == "" || again.AccessToken == tok.AccessToken {
		t.Errorf("Refresh gave access token %q, want a new one", again.AccessToken)
	}
	if again.RefreshToken != tok.RefreshToken {
		t.Errorf("Refresh changed the refresh token without rotation: %q", again.RefreshToken)
	}
	if again.OrgID != tok.OrgID || again.UserID != tok.UserID || again.InstanceURL != tok.InstanceURL {
		t.Errorf("refreshed token is for %s/%s at %s, want %s/%s at %s",
			again.OrgID, again.UserID, again.InstanceURL, tok.OrgID, tok.UserID, tok.InstanceURL)
	}
	if n := srv.TokenCalls("refresh_token"); n != 1 {
		t.Errorf("token endpoint saw %d refreshes, want 1", n)
	}
	// The new token works where the expired one no longer does.
	c := &salesforce.Client{InstanceURL: again.InstanceURL, AccessToken: again.AccessToken}
	if _, err := c.GetConfig(context.Background()); err != nil {
		t.Errorf("GetConfig with the refreshed token: %v", err)
	}
}

func TestRefreshAfterRevokeIsInvalidGrant(t *testing.T) {
	srv := sftest.New(t, sftest.Options{})
	app := newApp()
	tok := connect(t, srv, app)

	if err := app.Revoke(context.Background(), srv.URL, tok.RefreshToken); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if _, err := app.Refresh(context.Background(), srv.URL, tok.RefreshToken); !errors.Is(err, crm.ErrInvalidGrant) {
		t.Errorf("Refresh of a revoked token: %v, want ErrInvalidGrant", err)
	}
	// Revoking the refresh token took its access token with it.
	c := &salesforce.Client{InstanceURL: tok.InstanceURL, AccessToken: tok.AccessToken}
	if _, err := c.GetConfig(context.Background()); !errors.Is(err, crm.ErrUnauthorized) {
		t.Errorf("GetConfig after revoke: %v, want ErrUnauthorized", err)
	}
	if err := app.Revoke(context.Background(), srv.URL, tok.RefreshToken); !errors.Is(err, salesforce.ErrInvalidToken) {
		t.Errorf("second Revoke: %v, want ErrInvalidToken", err)
	}
}

func TestRefreshAfterRevokeAllIsInvalidGrant(t *testing.T) {
	srv := sftest.New(t, sftest.Options{})
	app := newApp()
	tok := connect(t, srv, app)
	srv.RevokeAll()
	if _, err := app.Refresh(context.Background(), srv.URL, tok.RefreshToken); !errors.Is(err, crm.ErrInvalidGrant) {
		t.Errorf("Refresh after RevokeAll: %v, want ErrInvalidGrant", err)
	}
}

// Two instances refreshing the same token at once: without rotation both
// win; with rotation the second holds a dead token. The server must
// serialise refreshes per connection for orgs that rotate.
func TestConcurrentRefreshes(t *testing.T) {
	for _, rotate := range []bool{false, true} {
		t.Run(map[bool]string{false: "no rotation", true: "rotation"}[rotate], func(t *testing.T) {
			const delay = 400 * time.Millisecond
			srv := sftest.New(t, sftest.Options{RotateRefreshTokens: rotate, TokenDelay: delay})
			app := newApp()
			tok := connect(t, srv, app)

			start := time.Now()
			var wg sync.WaitGroup
			errs := make([]error, 2)
			toks := make([]*salesforce.Token, 2)
			for i := range 2 {
				wg.Go(func() { toks[i], errs[i] = app.Refresh(context.Background(), srv.URL, tok.RefreshToken) })
			}
			wg.Wait()
			// Both waited the delay, side by side.
			if elapsed := time.Since(start); elapsed < delay || elapsed >= 2*delay {
				t.Errorf("two refreshes took %v, want between %v (the delay) and %v (had they not overlapped)", elapsed, delay, 2*delay)
			}
			failed := 0
			for i, err := range errs {
				switch {
				case err == nil:
					if rotate && toks[i].RefreshToken == tok.RefreshToken {
						t.Errorf("rotation on, but refresh %d kept the old refresh token", i)
					}
				case errors.Is(err, crm.ErrInvalidGrant):
					failed++
				default:
					t.Errorf("refresh %d: %v", i, err)
				}
			}
			want := map[bool]int{false: 0, true: 1}[rotate]
			if failed != want {
				t.Errorf("%d of 2 concurrent refreshes failed with invalid_grant, want %d", failed, want)
			}
			if n := srv.TokenCalls("refresh_token"); n != 2 {
				t.Errorf("token endpoint saw %d refreshes, want 2", n)
			}
		})
	}
}

func TestIdentity(t *testing.T) {
	srv := sftest.New(t, sftest.Options{})
	app := newApp()
	tok := connect(t, srv, app)

	id, err := app.Identity(context.Background(), tok)
	if err != nil {
		t.Fatalf("Identity: %v", err)
	}
	want := salesforce.Identity{OrgID: sftest.DefaultOrgID, UserID: sftest.DefaultAdminID,
		Username: "admin@acme.example", Email: "admin@acme.example", DisplayName: "Ada Admin"}
	if *id != want {
		t.Errorf("Identity = %+v, want %+v", *id, want)
	}

	srv.ExpireAccessTokens()
	if _, err := app.Identity(context.Background(), tok); !errors.Is(err, crm.ErrUnauthorized) {
		t.Errorf("Identity with an expired token: %v, want ErrUnauthorized (the 403 Bad_OAuth_Token)", err)
	}
}

func TestAuthorizeWithoutPackageIsAppNotInstalled(t *testing.T) {
	srv := sftest.New(t, sftest.Options{
		Orgs: []sftest.Org{{ID: "00D5g000004NoPkEAK", MyDomain: "nopkg", NoPackage: true,
			Users: []sftest.User{{ID: "0055g00000NoPkAAAV", Username: "admin@nopkg.example", Admin: true}}}},
	})
	q := authorize(t, newApp(), srv.URL, "s-42", oauth2.GenerateVerifier())
	err := salesforce.CallbackError(q)
	if !errors.Is(err, salesforce.ErrAppNotInstalled) {
		t.Fatalf("CallbackError(%v) = %v, want ErrAppNotInstalled", q, err)
	}
	var oe *crm.OAuthError
	if !errors.As(err, &oe) || oe.Code != "OAUTH_EC_APP_NOT_FOUND" || q.Get("state") != "s-42" || q.Get("code") != "" {
		t.Errorf("callback = %v, want OAUTH_EC_APP_NOT_FOUND with the state and no code", q)
	}
}

func TestRefreshAfterUninstallIsAppNotInstalled(t *testing.T) {
	srv := sftest.New(t, sftest.Options{})
	app := newApp()
	tok := connect(t, srv, app)
	srv.SetPackageInstalled(sftest.DefaultOrgID, false)
	_, err := app.Refresh(context.Background(), srv.URL, tok.RefreshToken)
	if !errors.Is(err, salesforce.ErrAppNotInstalled) || errors.Is(err, crm.ErrInvalidGrant) {
		t.Errorf("Refresh after uninstall: %v, want ErrAppNotInstalled only", err)
	}
}

func TestCallbackError(t *testing.T) {
	cases := []struct {
		query  string
		target error
	}{
		{"code=abc&state=s", nil},
		{"error=access_denied&error_description=end-user+denied+authorization&state=s", crm.ErrAccessDenied},
		{"error=OAUTH_EC_APP_NOT_FOUND&error_description=x", salesforce.ErrAppNotInstalled},
		{"error=invalid_request&error_description=missing+required+code+challenge", nil},
	}
	for _, c := range cases {
		q, _ := url.ParseQuery(c.query)
		err := salesforce.CallbackError(q)
		if (err == nil) != (q.Get("error") == "") {
			t.Errorf("CallbackError(%s) = %v", c.query, err)
			continue
		}
		if c.target != nil && !errors.Is(err, c.target) {
			t.Errorf("CallbackError(%s) = %v, want %v", c.query, err, c.target)
		}
		if err != nil && !strings.Contains(err.Error(), q.Get("error")) {
			t.Errorf("CallbackError(%s).Error() = %q, want it to name the code", c.query, err)
		}
	}
}

func TestOAuthCallsRefuseInsecureLoginURLs(t *testing.T) {
	calls := 0
	app := newApp()
	app.HTTP = &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		calls++
		return nil, errors.New("no network in this test")
	})}
	for _, login := range []string{"http://login.example.com", "ftp://login.salesforce.com", "https://login.salesforce.com?x=1", "login.salesforce.com"} {
		if _, err := app.Exchange(context.Background(), login, "code", "verifier"); err == nil {
			t.Errorf("Exchange accepted login URL %q", login)
		}
		if _, err := app.Refresh(context.Background(), login, "rt"); err == nil {
			t.Errorf("Refresh accepted login URL %q", login)
		}
		if err := app.Revoke(context.Background(), login, "rt"); err == nil {
			t.Errorf("Revoke accepted login URL %q", login)
		}
	}
	if calls != 0 {
		t.Errorf("%d requests left for insecure login URLs, want none", calls)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
