package hubspot_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/crm/oauthtest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newApp(srv *hstest.Server, now func() time.Time) *hubspot.OAuthApp {
	return &hubspot.OAuthApp{
		ClientID: hstest.DefaultClientID, ClientSecret: hstest.DefaultClientSecret, RedirectURL: hstest.DefaultRedirectURL,
		AuthURL: srv.URL, APIURL: srv.URL, Now: now,
	}
}

// authorize follows the browser's first hop and returns the callback query
// HubSpot redirected to.
func authorize(t *testing.T, app *hubspot.OAuthApp, state string) url.Values {
	t.Helper()
	authURL, err := app.AuthCodeURL(state)
	if err != nil {
		t.Fatalf("AuthCodeURL: %v", err)
	}
	return oauthtest.Authorize(t, authURL, app.RedirectURL)
}

// connect runs the install flow and returns the token.
func connect(t *testing.T, app *hubspot.OAuthApp) *hubspot.Token {
	t.Helper()
	q := authorize(t, app, "state-1")
	if err := hubspot.CallbackError(q); err != nil {
		t.Fatalf("callback carries an error: %v", err)
	}
	tok, err := app.Exchange(context.Background(), q.Get("code"))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok
}

func TestAuthCodeURL(t *testing.T) {
	app := &hubspot.OAuthApp{ClientID: "cid", ClientSecret: "s", RedirectURL: "https://quotes.example.com/oauth/hubspot/callback"}
	raw, err := app.AuthCodeURL("st")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	if u.Scheme+"://"+u.Host+u.Path != "https://app.hubspot.com/oauth/authorize" {
		t.Errorf("authorize URL is %s, want HubSpot's app host", raw)
	}
	q := u.Query()
	want := map[string]string{"client_id": "cid", "redirect_uri": "https://quotes.example.com/oauth/hubspot/callback", "state": "st",
		"scope": "crm.objects.deals.read crm.objects.companies.read oauth crm.objects.deals.write crm.objects.line_items.read " +
			"crm.objects.line_items.write crm.schemas.line_items.read crm.schemas.deals.write crm.objects.contacts.read crm.objects.products.read " +
			"crm.schemas.deals.read crm.schemas.companies.read files crm.objects.contacts.write " +
			"crm.objects.companies.write crm.schemas.companies.write",
		"optional_scope": "crm.objects.orders.read crm.objects.orders.write"}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if q.Has("client_secret") {
		t.Error("the authorize URL carries the client secret")
	}
}

func TestHTTPSIsEnforcedExceptOnLoopback(t *testing.T) {
	for _, base := range []string{"http://app.hubspot.com", "http://10.0.0.1:8080", "ftp://x", "https://user:pw@app.hubspot.com", "not a url"} {
		app := &hubspot.OAuthApp{ClientID: "c", ClientSecret: "s", AuthURL: base, APIURL: base}
		if _, err := app.AuthCodeURL("s"); err == nil {
			t.Errorf("AuthCodeURL accepted %s", base)
		}
		if _, err := app.Exchange(context.Background(), "code"); err == nil {
			t.Errorf("Exchange accepted %s", base)
		}
		if _, err := app.TokenInfo(context.Background(), "tok"); err == nil {
			t.Errorf("TokenInfo accepted %s", base)
		}
		if _, err := (&hubspot.Client{BaseURL: base, AccessToken: "t"}).Deal(context.Background(), "1"); err == nil {
			t.Errorf("Deal accepted %s", base)
		}
	}
	for _, base := range []string{"http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"} {
		app := &hubspot.OAuthApp{ClientID: "c", ClientSecret: "s", AuthURL: base}
		if _, err := app.AuthCodeURL("s"); err != nil {
			t.Errorf("AuthCodeURL refused loopback %s: %v", base, err)
		}
	}
}

func TestInstallFlow(t *testing.T) {
	c := newClock()
	srv := hstest.New(t, hstest.Options{Now: c.Now})
	app := newApp(srv, c.Now)
	tok := connect(t, app)

	if tok.AccessToken == "" || !strings.HasPrefix(tok.RefreshToken, "na1-") {
		t.Errorf("token lacks an access or a refresh token: %+v", tok)
	}
	if want := c.Now().Add(30 * time.Minute); !tok.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v (30 minutes)", tok.ExpiresAt, want)
	}
	if tok.HubID != hstest.DefaultPortalID || tok.UserID != hstest.DefaultAdminID {
		t.Errorf("token is for hub %d user %d, want %d and %d", tok.HubID, tok.UserID, hstest.DefaultPortalID, hstest.DefaultAdminID)
	}
	if want := slices.Concat(hubspot.DefaultScopes, hubspot.OptionalScopes); !slices.Equal(tok.Scopes, want) {
		t.Errorf("Scopes = %v, want %v (the optional ones granted)", tok.Scopes, want)
	}

	info, err := app.TokenInfo(context.Background(), tok.AccessToken)
	if err != nil {
		t.Fatalf("TokenInfo: %v", err)
	}
	if info.HubID != hstest.DefaultPortalID || info.User != hstest.DefaultAdminEmail || info.AppID != hstest.DefaultAppID ||
		info.HubDomain != hstest.DefaultPortalDomain || info.UserID != hstest.DefaultAdminID {
		t.Errorf("TokenInfo = %+v", info)
	}
	if !info.ExpiresAt.Equal(tok.ExpiresAt) {
		t.Errorf("TokenInfo.ExpiresAt = %v, want %v", info.ExpiresAt, tok.ExpiresAt)
	}
	if srv.TokenCalls("authorization_code") != 1 || srv.IntrospectCalls() != 1 {
		t.Errorf("calls: %d code exchanges, %d introspections; want 1 and 1", srv.TokenCalls("authorization_code"), srv.IntrospectCalls())
	}
}

func TestNeedsRefresh(t *testing.T) {
	exp := time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)
	tok := &hubspot.Token{AccessToken: "a", ExpiresAt: exp}
	tests := []struct {
		now  time.Time
		want bool
	}{
		{exp.Add(-30 * time.Minute), false},
		{exp.Add(-5*time.Minute - time.Nanosecond), false},
		{exp.Add(-5 * time.Minute), true},
		{exp.Add(-time.Minute), true},
		{exp.Add(time.Hour), true},
	}
	for _, tt := range tests {
		if got := tok.NeedsRefresh(tt.now); got != tt.want {
			t.Errorf("NeedsRefresh %v before expiry = %v, want %v", exp.Sub(tt.now), got, tt.want)
		}
	}
	if !(&hubspot.Token{ExpiresAt: exp}).NeedsRefresh(exp.Add(-time.Hour)) {
		t.Error("a token without an access token does not need a refresh")
	}
}

func TestRefresh(t *testing.T) {
	c := newClock()
	srv := hstest.New(t, hstest.Options{Now: c.Now})
	app := newApp(srv, c.Now)
	tok := connect(t, app)
	c.Advance(26 * time.Minute)
	if !tok.NeedsRefresh(c.Now()) {
		t.Fatal("a token 4 minutes from expiry does not need a refresh")
	}
	fresh, err := app.Refresh(context.Background(), tok.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken != tok.RefreshToken {
		t.Errorf("Refresh gave %+v, want a new access token and the same refresh token", fresh)
	}
	if want := c.Now().Add(30 * time.Minute); !fresh.ExpiresAt.Equal(want) || fresh.NeedsRefresh(c.Now()) {
		t.Errorf("refreshed ExpiresAt = %v, want %v", fresh.ExpiresAt, want)
	}
	if n := srv.TokenCalls("refresh_token"); n != 1 {
		t.Errorf("TokenCalls(refresh_token) = %d, want 1", n)
	}
}

func TestRefreshAfterUninstall(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	app := newApp(srv, nil)
	tok := connect(t, app)
	srv.Uninstall(hstest.DefaultPortalID)
	_, err := app.Refresh(context.Background(), tok.RefreshToken)
	if !errors.Is(err, crm.ErrInvalidGrant) {
		t.Fatalf("Refresh after uninstall: %v, want ErrInvalidGrant", err)
	}
	var oe *crm.OAuthError
	if !errors.As(err, &oe) || oe.CRMCode != "BAD_REFRESH_TOKEN" || oe.Status != 400 || oe.RequestID == "" {
		t.Errorf("error = %#v, want a 400 BAD_REFRESH_TOKEN with a correlation id", oe)
	}
	if _, err := app.TokenInfo(context.Background(), tok.AccessToken); !errors.Is(err, hubspot.ErrTokenInactive) {
		t.Errorf("TokenInfo after uninstall: %v, want ErrTokenInactive", err)
	}
}

func TestExchangeRefusals(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	app := newApp(srv, nil)
	q := authorize(t, app, "s")
	if _, err := app.Exchange(context.Background(), q.Get("code")); err != nil {
		t.Fatalf("first Exchange: %v", err)
	}
	if _, err := app.Exchange(context.Background(), q.Get("code")); !errors.Is(err, crm.ErrInvalidGrant) {
		t.Errorf("second Exchange of the code: %v, want ErrInvalidGrant", err)
	}

	wrong := newApp(srv, nil)
	wrong.ClientSecret = "c3b1e0d2-0000-0000-0000-5f2a1b0e9d84"
	before := srv.TokenCalls("authorization_code")
	_, err := wrong.Exchange(context.Background(), authorize(t, app, "s").Get("code"))
	if !errors.Is(err, crm.ErrInvalidClient) {
		t.Errorf("Exchange with a wrong secret: %v, want ErrInvalidClient", err)
	}
	// The secret goes in the body once: no second try with Basic auth that
	// would send the code twice.
	if n := srv.TokenCalls("authorization_code") - before; n != 1 {
		t.Errorf("the wrong-secret exchange made %d token calls, want 1", n)
	}

	other := newApp(srv, nil)
	other.RedirectURL = "http://localhost:8080/elsewhere"
	if _, err := other.Exchange(context.Background(), authorize(t, app, "s").Get("code")); !errors.Is(err, crm.ErrInvalidGrant) {
		t.Errorf("Exchange with another redirect URL: %v, want ErrInvalidGrant", err)
	}

	if _, err := (&hubspot.OAuthApp{APIURL: srv.URL}).Exchange(context.Background(), "x"); err == nil {
		t.Error("Exchange without client credentials was attempted")
	}
}

func TestTokenInfoOfAnExpiredToken(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	app := newApp(srv, nil)
	tok := connect(t, app)
	srv.ExpireAccessTokens()
	if _, err := app.TokenInfo(context.Background(), tok.AccessToken); !errors.Is(err, hubspot.ErrTokenInactive) {
		t.Errorf("TokenInfo of an expired token: %v, want ErrTokenInactive", err)
	}
	wrong := newApp(srv, nil)
	wrong.ClientSecret = "wrong"
	if _, err := wrong.TokenInfo(context.Background(), tok.AccessToken); !errors.Is(err, crm.ErrInvalidClient) {
		t.Errorf("TokenInfo with a wrong secret: %v, want ErrInvalidClient", err)
	}
}

func TestInstallRefusedScopeMismatch(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	app := newApp(srv, nil)
	app.Scopes = []string{"crm.objects.deals.read"}
	authURL, err := app.AuthCodeURL("s")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("install with scopes that do not match the app: %d, want HubSpot's 400 page", resp.StatusCode)
	}
}

func TestCallbackError(t *testing.T) {
	err := hubspot.CallbackError(url.Values{"error": {"access_denied"}, "error_description": {"user refused"}})
	if !errors.Is(err, crm.ErrAccessDenied) || !strings.Contains(err.Error(), "user refused") {
		t.Errorf("CallbackError = %v, want ErrAccessDenied with the description", err)
	}
	if hubspot.CallbackError(url.Values{"code": {"x"}}) != nil {
		t.Error("a callback with a code was taken for an error")
	}
}

// A HubSpot that does not answer is cut by the caller's deadline.
func TestCallsHonourTheCallersDeadline(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice the client hanging up.
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	app := &hubspot.OAuthApp{ClientID: "c", ClientSecret: "s", APIURL: hang.URL}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := app.Exchange(ctx, "code"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Exchange against a silent server: %v, want a deadline error", err)
	}
	if _, err := (&hubspot.Client{BaseURL: hang.URL, AccessToken: "t"}).Deal(ctx, "1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Deal against a silent server: %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the calls took %s", d)
	}
}
