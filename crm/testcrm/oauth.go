package testcrm

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/qwoty/companion/crm"
)

// Paths of the CRM's OAuth server, on its login host.
const (
	AuthorizePath = "/oauth/authorize"
	TokenPath     = "/oauth/token"
	RevokePath    = "/oauth/revoke"
)

// Scopes are what the card needs: read deals.
var Scopes = []string{"deals.read"}

// oauthErrors reads the OAuth server's refusals: RFC 6749's error and
// error_description, nothing of its own.
var oauthErrors = crm.OAuthErrors{Provider: Provider}

// oauthFlow is the app's flow: authorization code without PKCE, the
// account named by GET /api/me on the instance the token answer names.
type oauthFlow struct{ a *Adapter }

// client is the app's OAuth client, built from the options on each call.
func (f oauthFlow) client() *crm.OAuthClient {
	o := f.a.o
	return &crm.OAuthClient{
		Provider: Provider, ClientID: o.ClientID, ClientSecret: o.ClientSecret, RedirectURL: o.RedirectURL, Scopes: Scopes,
		AuthBase: o.BaseURL, AuthPath: AuthorizePath, TokenBase: o.BaseURL, TokenPath: TokenPath,
		AuthStyle: oauth2.AuthStyleInHeader, HTTP: o.HTTP, Timeout: DefaultTimeout, Now: o.Now, Errors: oauthErrors,
	}
}

// Begin has nothing to keep: one login host, no verifier.
func (f oauthFlow) Begin(url.Values) (crm.Begin, error) { return crm.Begin{}, nil }

func (f oauthFlow) AuthURL(_ crm.Begin, state string) (string, error) {
	return f.client().AuthCodeURL(state)
}

// FormHosts is the login host, where the connect form leads.
func (f oauthFlow) FormHosts() []string {
	return crm.Origins(f.a.o.BaseURL)
}

func (f oauthFlow) CallbackError(q url.Values) error { return oauthErrors.Callback(q) }

// Exchange trades the code for tokens, then asks the account's instance
// whose they are: the connection is keyed by that account.
func (f oauthFlow) Exchange(ctx context.Context, _ crm.Begin, code string) (*crm.Grant, error) {
	t, err := f.client().Exchange(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("testcrm: exchange code: %w", err)
	}
	tok, instance, err := token(t)
	if err != nil {
		return nil, fmt.Errorf("testcrm: exchange code: %w", err)
	}
	var m me
	if err := f.a.api(ctx, instance, tok.AccessToken, "/api/me", &m); err != nil {
		return nil, fmt.Errorf("testcrm: read the token's account: %w", err)
	}
	if m.Account.ID == "" {
		return nil, errors.New("testcrm: the token's account has no id")
	}
	return &crm.Grant{Token: *tok, ExternalID: m.Account.ID, InstanceURL: instance, CRMUserID: m.User.Email,
		Scopes: strings.Fields(t.Text("scope"))}, nil
}

// Refresh trades a refresh token for new tokens; the CRM rotates refresh
// tokens, so the answer's replaces the stored one. A refused grant matches
// crm.ErrInvalidGrant (OAuthErrors reads invalid_grant so).
func (f oauthFlow) Refresh(ctx context.Context, _, refreshToken string) (*crm.Token, error) {
	t, err := f.client().Refresh(ctx, refreshToken)
	if err != nil {
		return nil, fmt.Errorf("testcrm: refresh token: %w", err)
	}
	tok, _, err := token(t)
	if err != nil {
		return nil, fmt.Errorf("testcrm: refresh token: %w", err)
	}
	return tok, nil
}

// Revoke revokes the refresh token and the access tokens issued with it
// (RFC 7009), so that a disconnected account holds no live grant of ours.
func (f oauthFlow) Revoke(ctx context.Context, _, refreshToken string) error {
	c := f.client()
	form := url.Values{"token": {refreshToken}, "token_type_hint": {"refresh_token"},
		"client_id": {c.ClientID}, "client_secret": {c.ClientSecret}}
	if err := c.Post(ctx, RevokePath, form, nil); err != nil {
		return fmt.Errorf("testcrm: revoke: %w", err)
	}
	return nil
}

// token reads a token answer: the tokens, expires_in counted from the
// request, and instance_url, checked as a base URL before a token goes to
// it.
func token(t *crm.TokenAnswer) (*crm.Token, string, error) {
	secs, ok := t.Int("expires_in")
	if !ok || secs <= 0 {
		return nil, "", errors.New("the answer has no positive expires_in")
	}
	instance, err := crm.BaseURL(t.Text("instance_url"), "TestCRM")
	if err != nil {
		return nil, "", fmt.Errorf("instance_url: %w", err)
	}
	return &crm.Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken,
		ExpiresAt: t.Start.Add(time.Duration(secs) * time.Second)}, instance, nil
}
