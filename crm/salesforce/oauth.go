package salesforce

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// scopes the Qwoty External Client App asks for: the REST API (the package's
// Apex REST resources) and a refresh token, to reach the org while the admin
// is away. They match the packaged OAuth settings (Api, RefreshToken).
var scopes = []string{"api", "refresh_token"}

// OAuthApp is the Qwoty External Client App as the server uses it: the OAuth
// 2.0 web server flow with PKCE against any login URL (production, sandbox,
// a My Domain, or the emulator).
type OAuthApp struct {
	ClientID     string
	ClientSecret string
	RedirectURL  string
	// Prompt, when set, is sent as "prompt" ("login consent" makes the admin
	// sign in and approve again, so that they can pick another org).
	Prompt string
	// HTTP makes the calls; nil means http.DefaultClient. Every call is also
	// bounded by DefaultTimeout.
	HTTP *http.Client
}

// Token is what a code exchange or a refresh gives.
type Token struct {
	AccessToken string
	// RefreshToken is the one to use next: the new one when Salesforce
	// rotates refresh tokens, else the one already held.
	RefreshToken string
	// InstanceURL is the org's API base URL.
	InstanceURL string
	// IdentityURL is ".../id/{orgId}/{userId}".
	IdentityURL string
	IssuedAt    time.Time
	// OrgID is the 18-character org id, UserID the 18-character user id,
	// both from the identity URL.
	OrgID  string
	UserID string
	// Scope is the space-separated scopes granted.
	Scope string
}

// oauth is the app's OAuth client for one login URL: the web server flow's
// endpoints on it, with client_id and client_secret as body parameters, as
// Salesforce documents them.
func (a *OAuthApp) oauth(loginURL string) *crm.OAuthClient {
	return &crm.OAuthClient{
		Provider: qwoty.ProviderSalesforce, ClientID: a.ClientID, ClientSecret: a.ClientSecret, RedirectURL: a.RedirectURL, Scopes: scopes,
		AuthBase: loginURL, AuthPath: "/services/oauth2/authorize", TokenBase: loginURL, TokenPath: "/services/oauth2/token",
		AuthStyle: oauth2.AuthStyleInParams, HTTP: a.HTTP, Timeout: DefaultTimeout, Errors: oauthErrors,
	}
}

// AuthCodeURL is where to send the admin's browser to start connecting an org.
// state must be unguessable and tied to the browser; verifier is the PKCE
// verifier (oauth2.GenerateVerifier) kept until the callback.
func (a *OAuthApp) AuthCodeURL(loginURL, state, verifier string) string {
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if a.Prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", a.Prompt))
	}
	return a.oauth(loginURL).Config().AuthCodeURL(state, opts...)
}

// Exchange trades the callback's code for tokens at the same login URL.
func (a *OAuthApp) Exchange(ctx context.Context, loginURL, code, verifier string) (*Token, error) {
	tok, err := a.token(a.oauth(loginURL).Exchange(ctx, code, oauth2.VerifierOption(verifier)))
	if err != nil {
		return nil, fmt.Errorf("salesforce: exchange code at %s: %w", loginURL, err)
	}
	return tok, nil
}

// Refresh gets a new access token. An error matching crm.ErrInvalidGrant
// means the refresh token is dead (revoked, expired, or rotated by a
// concurrent refresh): the org must be connected again. The refresh token
// stays the one given unless Salesforce rotates it.
func (a *OAuthApp) Refresh(ctx context.Context, loginURL, refreshToken string) (*Token, error) {
	tok, err := a.token(a.oauth(loginURL).Refresh(ctx, refreshToken))
	if err != nil {
		return nil, fmt.Errorf("salesforce: refresh token at %s: %w", loginURL, err)
	}
	return tok, nil
}

// Revoke revokes a token: a refresh token takes its access tokens with it.
// A token that was already invalid gives an error matching ErrInvalidToken.
func (a *OAuthApp) Revoke(ctx context.Context, loginURL, token string) error {
	if err := a.oauth(loginURL).Post(ctx, "/services/oauth2/revoke", url.Values{"token": {token}}, nil); err != nil {
		return fmt.Errorf("salesforce: revoke token at %s: %w", loginURL, err)
	}
	return nil
}

// token reads Salesforce's token answer, or passes on the error of the
// request for it. The signature covers the identity URL and issued_at, the
// two values that say whose token this is.
func (a *OAuthApp) token(t *crm.TokenAnswer, err error) (*Token, error) {
	if err != nil {
		return nil, err
	}
	out := &Token{
		AccessToken:  t.AccessToken,
		RefreshToken: t.RefreshToken,
		InstanceURL:  t.Text("instance_url"),
		IdentityURL:  t.Text("id"),
		Scope:        t.Text("scope"),
	}
	issuedAt := t.Text("issued_at")
	if sig := t.Text("signature"); sig != "" {
		if err := verifySignature(a.ClientSecret, out.IdentityURL, issuedAt, sig); err != nil {
			return nil, err
		}
	}
	if issuedAt != "" {
		ms, err := strconv.ParseInt(issuedAt, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("issued_at %q is not a time in milliseconds", issuedAt)
		}
		out.IssuedAt = time.UnixMilli(ms)
	}
	if out.InstanceURL, err = baseURL(out.InstanceURL); err != nil {
		return nil, fmt.Errorf("instance_url: %w", err)
	}
	if out.OrgID, out.UserID, err = parseIdentityURL(out.IdentityURL); err != nil {
		return nil, err
	}
	return out, nil
}

// verifySignature checks base64(HMAC-SHA256(clientSecret, id + issuedAt)) in
// constant time. The signature has one spelling (crm.DecodeMAC).
func verifySignature(clientSecret, id, issuedAt, signature string) error {
	got, ok := crm.DecodeMAC(signature)
	if !ok {
		return fmt.Errorf("%w: it is not base64", ErrBadSignature)
	}
	mac := hmac.New(sha256.New, []byte(clientSecret))
	mac.Write([]byte(id + issuedAt))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// parseIdentityURL reads ".../id/{orgId}/{userId}".
func parseIdentityURL(raw string) (orgID, userID string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", "", fmt.Errorf("identity URL %q is not a URL", raw)
	}
	if err := checkScheme(u); err != nil {
		return "", "", fmt.Errorf("identity URL: %w", err)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 3 || parts[len(parts)-3] != "id" {
		return "", "", fmt.Errorf("identity URL %q does not end with /id/{orgId}/{userId}", raw)
	}
	if orgID, err = NormalizeOrgID(parts[len(parts)-2]); err != nil {
		return "", "", fmt.Errorf("identity URL: %w", err)
	}
	if userID, err = NormalizeID(parts[len(parts)-1]); err != nil {
		return "", "", fmt.Errorf("identity URL: %w", err)
	}
	return orgID, userID, nil
}
