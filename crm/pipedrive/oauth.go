package pipedrive

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
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

// Scopes are the scopes granted, one by one; nil when the answer named
// none.
func (t *Token) Scopes() []string {
	var out []string
	for _, s := range strings.FieldsFunc(t.Scope, func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, s)
	}
	return out
}

// oauth is the app's OAuth client: the authorization code flow on the
// OAuth server, with HTTP Basic client authentication, which the
// documentation requires (credentials in the body are accepted but "not
// recommended").
func (a *OAuthApp) oauth() *crm.OAuthClient {
	base := cmp.Or(a.OAuthURL, DefaultOAuthURL)
	return &crm.OAuthClient{
		Provider: qwoty.ProviderPipedrive, ClientID: a.ClientID, ClientSecret: a.ClientSecret, RedirectURL: a.RedirectURL,
		AuthBase: base, AuthPath: "/oauth/authorize", TokenBase: base, TokenPath: "/oauth/token",
		AuthStyle: oauth2.AuthStyleInHeader, HTTP: a.HTTP, Timeout: DefaultTimeout, Errors: oauthErrors,
	}
}

// AuthCodeURL is where to send the admin's browser to install the app.
// state must be unguessable and tied to the browser.
func (a *OAuthApp) AuthCodeURL(state string) (string, error) {
	u, err := a.oauth().AuthCodeURL(state)
	if err != nil {
		return "", fmt.Errorf("pipedrive: authorize URL: %w", err)
	}
	return u, nil
}

// Exchange trades the callback's code (valid 5 minutes, once) for tokens.
func (a *OAuthApp) Exchange(ctx context.Context, code string) (*Token, error) {
	tok, err := token(a.oauth().Exchange(ctx, code))
	if err != nil {
		return nil, fmt.Errorf("pipedrive: exchange code: %w", err)
	}
	return tok, nil
}

// Refresh gets a new access token. An error matching crm.ErrInvalidGrant
// means the refresh token is dead (unused for 60 days, or the app
// uninstalled): the company must be connected again.
func (a *OAuthApp) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	tok, err := token(a.oauth().Refresh(ctx, refreshToken))
	if err != nil {
		return nil, fmt.Errorf("pipedrive: refresh token: %w", err)
	}
	return tok, nil
}

// token reads Pipedrive's token answer, or passes on the error of the
// request for it; api_domain is where every API call of the company goes,
// so it is checked like any base URL we send a token to.
func token(t *crm.TokenAnswer, err error) (*Token, error) {
	if err != nil {
		return nil, err
	}
	domain := t.Text("api_domain")
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
	return &Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, Expiry: t.Expiry, Scope: t.Text("scope"), APIDomain: base}, nil
}
