package pipedrive

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

// OAuthApp is the Qwoty app registered in Pipedrive's Developer Hub, as the
// server uses it: the authorization code flow against Pipedrive's OAuth
// server (or the emulator). Pipedrive documents neither PKCE nor a scope
// parameter (the scopes are the app's, set in Developer Hub), so neither is
// sent; state is, and comes back on the callback, except when the user
// installs the app from the Marketplace, whose callback has no state.
type OAuthApp struct {
	ClientID     string
	ClientSecret string
	// RedirectURL must equal the callback URL registered for the app.
	RedirectURL string
	// OAuthURL is the OAuth server's base URL; "" means DefaultOAuthURL.
	OAuthURL string
	// HTTP makes the calls; nil means http.DefaultClient. Every call is also
	// bounded by DefaultTimeout.
	HTTP *http.Client
}

// Token is what a code exchange or a refresh gives.
type Token struct {
	AccessToken string
	// RefreshToken is the one to keep: Pipedrive answers the same one on a
	// refresh, its 60-day expiry reset.
	RefreshToken string
	// Expiry is when the access token dies (about an hour after issue).
	Expiry time.Time
	// Scope lists the scopes granted, comma separated as Pipedrive sends
	// them.
	Scope string
	// APIDomain is the company's API base URL ("https://acme.pipedrive.com"),
	// checked: store it as the connection's instance URL.
	APIDomain string
}

func (a *OAuthApp) config(base string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     a.ClientID,
		ClientSecret: a.ClientSecret,
		RedirectURL:  a.RedirectURL,
		Endpoint: oauth2.Endpoint{
			AuthURL:  base + "/oauth/authorize",
			TokenURL: base + "/oauth/token",
			// The documentation requires HTTP Basic client authentication
			// (credentials in the body are accepted but "not recommended");
			// auto-detection would also send the code a second time after
			// any failure.
			AuthStyle: oauth2.AuthStyleInHeader,
		},
	}
}

func (a *OAuthApp) base() (string, error) {
	if a.OAuthURL == "" {
		return DefaultOAuthURL, nil
	}
	return baseURL(a.OAuthURL)
}

// AuthCodeURL is where to send the admin's browser to install the app.
// state must be unguessable and tied to the browser.
func (a *OAuthApp) AuthCodeURL(state string) (string, error) {
	base, err := a.base()
	if err != nil {
		return "", fmt.Errorf("pipedrive: authorize URL: %w", err)
	}
	return a.config(base).AuthCodeURL(state), nil
}

// Exchange trades the callback's code (valid 5 minutes, once) for tokens.
func (a *OAuthApp) Exchange(ctx context.Context, code string) (*Token, error) {
	cfg, ctx, cancel, err := a.prepare(ctx)
	if err != nil {
		return nil, fmt.Errorf("pipedrive: exchange code: %w", err)
	}
	defer cancel()
	t, err := cfg.Exchange(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("pipedrive: exchange code: %w", fromRetrieveError(err))
	}
	tok, err := token(t)
	if err != nil {
		return nil, fmt.Errorf("pipedrive: exchange code: %w", err)
	}
	return tok, nil
}

// Refresh gets a new access token. An error matching ErrInvalidGrant means
// the refresh token is dead (unused for 60 days, or the app uninstalled):
// the company must be connected again.
func (a *OAuthApp) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	cfg, ctx, cancel, err := a.prepare(ctx)
	if err != nil {
		return nil, fmt.Errorf("pipedrive: refresh token: %w", err)
	}
	defer cancel()
	t, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, fmt.Errorf("pipedrive: refresh token: %w", fromRetrieveError(err))
	}
	tok, err := token(t)
	if err != nil {
		return nil, fmt.Errorf("pipedrive: refresh token: %w", err)
	}
	return tok, nil
}

// prepare checks the OAuth URL and bounds the call: x/oauth2 takes its HTTP
// client from the context.
func (a *OAuthApp) prepare(ctx context.Context) (*oauth2.Config, context.Context, context.CancelFunc, error) {
	base, err := a.base()
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	ctx = context.WithValue(ctx, oauth2.HTTPClient, clientOrDefault(a.HTTP))
	return a.config(base), ctx, cancel, nil
}

// token reads Pipedrive's token answer; api_domain is where every API call
// of the company goes, so it is checked like any base URL we send a token
// to.
func token(t *oauth2.Token) (*Token, error) {
	domain, _ := t.Extra("api_domain").(string)
	if domain == "" {
		return nil, fmt.Errorf("the token answer has no api_domain")
	}
	base, err := baseURL(domain)
	if err != nil {
		return nil, fmt.Errorf("api_domain: %w", err)
	}
	if t.RefreshToken == "" {
		return nil, fmt.Errorf("the token answer has no refresh_token")
	}
	scope, _ := t.Extra("scope").(string)
	return &Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, Expiry: t.Expiry, Scope: scope, APIDomain: base}, nil
}
