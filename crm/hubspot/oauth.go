package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Paths of HubSpot's OAuth API. Token and introspection are the date-versioned
// endpoints HubSpot's docs name as the current OAuth API (2026-03): the v1
// ones (/oauth/v1/token, /oauth/v1/access-tokens/{token}) are deprecated,
// sunset on 16 February 2027, and carry tokens in URLs, where logs keep them.
const (
	AuthorizePath  = "/oauth/authorize"
	TokenPath      = "/oauth/2026-03/token"
	IntrospectPath = "/oauth/2026-03/token/introspect"
)

// DefaultScopes are what the card needs: read deals, and the companies
// associated with them. "oauth" is the basic scope HubSpot adds to every app;
// it is asked for explicitly because the install URL's scope list must match
// the app's required scopes.
var DefaultScopes = []string{"crm.objects.deals.read", "crm.objects.companies.read", "oauth"}

// AccessTokenTTL is the lifetime HubSpot documents for an access token; the
// token answer's expires_in is what counts.
const AccessTokenTTL = 30 * time.Minute

// RefreshMargin is how long before its expiry a token is refreshed, so that a
// call made with it does not meet the expiry halfway.
const RefreshMargin = 5 * time.Minute

// OAuthApp is the Qwoty HubSpot app as the server uses it: the authorization
// code flow, refresh, and token introspection.
type OAuthApp struct {
	ClientID     string
	ClientSecret string
	// RedirectURL must be one of the app's redirect URLs, exactly.
	RedirectURL string
	// Scopes asked for; nil means DefaultScopes.
	Scopes []string
	// AuthURL is where browsers authorize ("" means AppBaseURL); APIURL
	// serves tokens and introspection ("" means APIBaseURL). Both are
	// overridden by tests and the dev server to reach the emulator.
	AuthURL string
	APIURL  string
	// HTTP makes the calls; nil means http.DefaultClient. Every call is also
	// bounded by DefaultTimeout.
	HTTP *http.Client
	// Now is the clock that dates ExpiresAt; nil means time.Now.
	Now func() time.Time
}

// Token is what a code exchange or a refresh gives.
type Token struct {
	AccessToken string
	// RefreshToken does not expire; HubSpot answers the same one on refresh.
	RefreshToken string
	// ExpiresAt is counted from just before the request, so it errs early.
	ExpiresAt time.Time
	// HubID is the portal the token acts in and UserID the installing user,
	// as the token answer states them (0 when it does not): TokenInfo is
	// the authoritative source.
	HubID  int64
	UserID int64
	Scopes []string
}

// NeedsRefresh says whether t should be refreshed before use at now: it has
// no access token, or it expires within RefreshMargin.
func (t *Token) NeedsRefresh(now time.Time) bool {
	return t.AccessToken == "" || !now.Before(t.ExpiresAt.Add(-RefreshMargin))
}

// TokenInfo is HubSpot's metadata of an access token.
type TokenInfo struct {
	// HubID is the portal (account) id: what a connection is keyed by.
	HubID     int64
	HubDomain string
	UserID    int64
	// User is the email of the user who installed the app.
	User      string
	AppID     int64
	ClientID  string
	Scopes    []string
	ExpiresAt time.Time
}

// AuthCodeURL is where to send the admin's browser to install the app in a
// portal. state must be unguessable and tied to the browser. PKCE is not
// used: HubSpot does not document a code challenge on its authorize URL.
func (a *OAuthApp) AuthCodeURL(state string) (string, error) {
	base, err := baseURL(orDefault(a.AuthURL, AppBaseURL))
	if err != nil {
		return "", fmt.Errorf("hubspot: authorize URL: %w", err)
	}
	return a.config(base, "").AuthCodeURL(state), nil
}

// Exchange trades the callback's code for tokens.
func (a *OAuthApp) Exchange(ctx context.Context, code string) (*Token, error) {
	cfg, ctx, cancel, err := a.prepare(ctx)
	if err != nil {
		return nil, fmt.Errorf("hubspot: exchange code: %w", err)
	}
	defer cancel()
	start := a.now()
	t, err := cfg.Exchange(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("hubspot: exchange code: %w", fromRetrieveError(err))
	}
	tok, err := token(t, start)
	if err != nil {
		return nil, fmt.Errorf("hubspot: exchange code: %w", err)
	}
	return tok, nil
}

// Refresh gets a new access token. An error matching ErrInvalidGrant means
// the refresh token is dead (the app was uninstalled from the portal): the
// portal must be connected again.
func (a *OAuthApp) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	cfg, ctx, cancel, err := a.prepare(ctx)
	if err != nil {
		return nil, fmt.Errorf("hubspot: refresh token: %w", err)
	}
	defer cancel()
	start := a.now()
	// x/oauth2 keeps the refresh token it was given when the answer has none.
	t, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, fmt.Errorf("hubspot: refresh token: %w", fromRetrieveError(err))
	}
	tok, err := token(t, start)
	if err != nil {
		return nil, fmt.Errorf("hubspot: refresh token: %w", err)
	}
	return tok, nil
}

// TokenInfo asks HubSpot whose an access token is: its portal (hub) id, user
// and app. An install records the portal id from here. An error matching
// ErrTokenInactive means the token is expired or revoked; ErrWrongApp that
// it was issued to another app.
func (a *OAuthApp) TokenInfo(ctx context.Context, accessToken string) (*TokenInfo, error) {
	info, err := a.introspect(ctx, accessToken)
	if err != nil {
		return nil, fmt.Errorf("hubspot: token info: %w", err)
	}
	return info, nil
}

func (a *OAuthApp) introspect(ctx context.Context, accessToken string) (*TokenInfo, error) {
	if a.ClientID == "" || a.ClientSecret == "" {
		return nil, errors.New("the app's client id and secret are not configured")
	}
	base, err := baseURL(orDefault(a.APIURL, APIBaseURL))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	start := a.now()
	// Everything goes in the body: the point of the versioned endpoint is to
	// keep tokens and the secret out of URLs.
	form := url.Values{
		"client_id": {a.ClientID}, "client_secret": {a.ClientSecret},
		"token": {accessToken}, "token_type_hint": {"access_token"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+IntrospectPath, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := clientOrDefault(a.HTTP).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, oauthErrorBody(resp.StatusCode, body)
	}
	var v struct {
		Active    bool     `json:"active"`
		AppID     int64    `json:"app_id"`
		ClientID  string   `json:"client_id"`
		ExpiresIn int64    `json:"expires_in"`
		HubDomain string   `json:"hub_domain"`
		HubID     int64    `json:"hub_id"`
		Scopes    []string `json:"scopes"`
		TokenUse  string   `json:"token_use"`
		User      string   `json:"user"`
		UserID    int64    `json:"user_id"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("the answer is not the introspection JSON: %w", err)
	}
	info := &TokenInfo{HubID: v.HubID, HubDomain: v.HubDomain, UserID: v.UserID, User: v.User,
		AppID: v.AppID, ClientID: v.ClientID, Scopes: v.Scopes, ExpiresAt: start.Add(time.Duration(v.ExpiresIn) * time.Second)}
	if err := checkTokenInfo(v.Active, v.TokenUse, info, a.ClientID); err != nil {
		return nil, err
	}
	return info, nil
}

// checkTokenInfo refuses metadata that does not describe a live access
// token of our app in a portal.
func checkTokenInfo(active bool, tokenUse string, info *TokenInfo, clientID string) error {
	switch {
	case !active:
		return ErrTokenInactive
	case tokenUse != "" && tokenUse != "access_token":
		return fmt.Errorf("the token is a %s, not an access token", tokenUse)
	case info.ClientID != "" && info.ClientID != clientID:
		return fmt.Errorf("%w (client id %s)", ErrWrongApp, info.ClientID)
	case info.HubID <= 0:
		return errors.New("the answer names no portal (hub_id)")
	}
	return nil
}

func (a *OAuthApp) config(authBase, apiBase string) *oauth2.Config {
	scopes := a.Scopes
	if scopes == nil {
		scopes = DefaultScopes
	}
	return &oauth2.Config{
		ClientID:     a.ClientID,
		ClientSecret: a.ClientSecret,
		RedirectURL:  a.RedirectURL,
		Scopes:       scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:  authBase + AuthorizePath,
			TokenURL: apiBase + TokenPath,
			// HubSpot takes client_id and client_secret as body parameters;
			// auto-detection would first try Basic and, on any error, send
			// the one-time code a second time.
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// prepare checks the API URL and bounds the call: x/oauth2 takes its HTTP
// client from the context.
func (a *OAuthApp) prepare(ctx context.Context) (*oauth2.Config, context.Context, context.CancelFunc, error) {
	if a.ClientID == "" || a.ClientSecret == "" {
		return nil, nil, nil, errors.New("the app's client id and secret are not configured")
	}
	base, err := baseURL(orDefault(a.APIURL, APIBaseURL))
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	ctx = context.WithValue(ctx, oauth2.HTTPClient, clientOrDefault(a.HTTP))
	return a.config("", base), ctx, cancel, nil
}

func (a *OAuthApp) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// token reads HubSpot's token answer: access_token, refresh_token,
// expires_in, token_type, and (in the versioned API) hub_id, user_id and
// scopes.
func token(t *oauth2.Token, start time.Time) (*Token, error) {
	if tt := t.Extra("token_type"); tt != nil && !strings.EqualFold(fmt.Sprint(tt), "bearer") {
		return nil, fmt.Errorf("token_type is %q, not bearer", tt)
	}
	secs, ok := integer(t.Extra("expires_in"))
	if !ok || secs <= 0 {
		return nil, errors.New("the answer has no positive expires_in")
	}
	out := &Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken,
		ExpiresAt: start.Add(time.Duration(secs) * time.Second)}
	out.HubID, _ = integer(t.Extra("hub_id"))
	out.UserID, _ = integer(t.Extra("user_id"))
	if list, ok := t.Extra("scopes").([]any); ok {
		for _, s := range list {
			if s, ok := s.(string); ok {
				out.Scopes = append(out.Scopes, s)
			}
		}
	}
	return out, nil
}

// integer reads a whole number of a decoded JSON answer.
func integer(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		if n != float64(int64(n)) {
			return 0, false
		}
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil
	}
	return 0, false
}
