package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/qwoty/companion/qwoty"
)

// OAuthClient is what every CRM's OAuth app does the same way: build the
// x/oauth2 configuration, check the hosts before a code, a token or the
// secret goes to them, bound each request, and read the CRM's error
// answers. Each CRM's OAuthApp fills one from its own settings for each
// call, since those may change between calls (tests do change them).
type OAuthClient struct {
	Provider     qwoty.Provider
	ClientID     string
	ClientSecret string
	RedirectURL  string
	Scopes       []string
	// AuthBase is where browsers authorise and TokenBase where this server
	// trades codes and tokens: base URLs, checked with BaseURL before a
	// request; AuthPath and TokenPath are the endpoints' paths on them.
	AuthBase, AuthPath   string
	TokenBase, TokenPath string
	// AuthStyle is how the client authenticates to the token endpoint, as
	// the CRM documents it. It must be set: auto-detection would first try
	// one way and, on any error, send the one-time code a second time.
	AuthStyle oauth2.AuthStyle
	// HTTP makes the calls (nil: http.DefaultClient); Timeout bounds each.
	HTTP    *http.Client
	Timeout time.Duration
	// Now dates TokenAnswer.Start; nil means time.Now.
	Now func() time.Time
	// Errors reads the CRM's error answers.
	Errors OAuthErrors
}

// TokenAnswer is a token endpoint's answer, as x/oauth2 read it, with when
// it was asked for: an expiry counted from Start errs early, never late.
type TokenAnswer struct {
	*oauth2.Token
	Start time.Time
}

// Config is the x/oauth2 configuration, its bases taken as they are: a
// caller that sends nothing to them (an authorize URL a browser follows)
// may use it unchecked.
func (c *OAuthClient) Config() *oauth2.Config {
	return c.config(strings.TrimRight(c.AuthBase, "/"), strings.TrimRight(c.TokenBase, "/"))
}

func (c *OAuthClient) config(authBase, tokenBase string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		RedirectURL:  c.RedirectURL,
		Scopes:       c.Scopes,
		Endpoint:     oauth2.Endpoint{AuthURL: authBase + c.AuthPath, TokenURL: tokenBase + c.TokenPath, AuthStyle: c.AuthStyle},
	}
}

// AuthCodeURL is where to send the admin's browser, on a checked AuthBase.
func (c *OAuthClient) AuthCodeURL(state string, opts ...oauth2.AuthCodeOption) (string, error) {
	base, err := BaseURL(c.AuthBase, c.Provider.Title())
	if err != nil {
		return "", err
	}
	return c.config(base, "").AuthCodeURL(state, opts...), nil
}

// Exchange trades the callback's code for tokens.
func (c *OAuthClient) Exchange(ctx context.Context, code string, opts ...oauth2.AuthCodeOption) (*TokenAnswer, error) {
	return c.token(ctx, func(ctx context.Context, cfg *oauth2.Config) (*oauth2.Token, error) {
		return cfg.Exchange(ctx, code, opts...)
	})
}

// Refresh trades a refresh token for new tokens. x/oauth2 keeps the
// refresh token it was given when the answer has none.
func (c *OAuthClient) Refresh(ctx context.Context, refreshToken string) (*TokenAnswer, error) {
	return c.token(ctx, func(ctx context.Context, cfg *oauth2.Config) (*oauth2.Token, error) {
		return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	})
}

// token runs one token request: credentials and host checked first, the
// request bounded (x/oauth2 takes its HTTP client from the context), a
// refusal read as an *OAuthError, and a token that is not a bearer token
// refused, since every call sends it as one.
func (c *OAuthClient) token(ctx context.Context, fetch func(context.Context, *oauth2.Config) (*oauth2.Token, error)) (*TokenAnswer, error) {
	if c.ClientID == "" || c.ClientSecret == "" {
		return nil, errors.New("the app's client id and secret are not configured")
	}
	if c.AuthStyle == oauth2.AuthStyleAutoDetect {
		return nil, errors.New("the app's client authentication style is not set")
	}
	base, err := BaseURL(c.TokenBase, c.Provider.Title())
	if err != nil {
		return nil, err
	}
	ctx, cancel := bound(ctx, c.Timeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, Client(c.HTTP))
	start := c.now()
	t, err := fetch(ctx, c.config("", base))
	if err != nil {
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) {
			return nil, err // network, timeout
		}
		status, header := 0, http.Header(nil)
		if re.Response != nil {
			status, header = re.Response.StatusCode, re.Response.Header
		}
		return nil, c.Errors.Answer(status, header, re.Body)
	}
	if tt := t.Extra("token_type"); tt != nil && !strings.EqualFold(fmt.Sprint(tt), "bearer") {
		return nil, fmt.Errorf("token_type is %q, not bearer", tt)
	}
	return &TokenAnswer{Token: t, Start: start}, nil
}

// Post sends a form to an OAuth endpoint on TokenBase other than the token
// endpoint (revocation, introspection) and decodes a 2xx answer into out
// (nil: dropped); a refusal is an *OAuthError.
func (c *OAuthClient) Post(ctx context.Context, path string, form url.Values, out any) error {
	return Call(ctx, Request{Provider: c.Provider, Method: http.MethodPost, Base: c.TokenBase, Path: path,
		Form: form, Timeout: c.Timeout, HTTP: c.HTTP, Refused: c.Errors.Answer}, out)
}

func (c *OAuthClient) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Text is the answer's string field key, "" when absent or not a string.
func (t *TokenAnswer) Text(key string) string {
	s, _ := t.Extra(key).(string)
	return s
}

// Int reads the answer's whole-number field key, sent as a JSON number or
// a decimal string.
func (t *TokenAnswer) Int(key string) (int64, bool) {
	switch n := t.Extra(key).(type) {
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

// Texts reads the answer's list of strings key, skipping anything else.
func (t *TokenAnswer) Texts(key string) []string {
	var out []string
	if list, ok := t.Extra(key).([]any); ok {
		for _, s := range list {
			if s, ok := s.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
