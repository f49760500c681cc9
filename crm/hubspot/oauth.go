package hubspot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
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

// DefaultScopes are what the app requires: the card reads deals and the
// companies associated with them; sync (SyncScopes) writes deals and line
// items, files sent PDFs on deals (ArchiveScopes) and makes companies and
// deals for quotes made outside HubSpot (DealScopes). "oauth" is the basic
// scope HubSpot adds to every app; it is asked for explicitly because the
// install URL's scope list must match the app's required scopes
// (hubspot-app's requiredScopes hold the same list).
//
// Pulling (PullScopes) also reads the deals' contacts and the products;
// field mappings (MappingScopes) read the deals' and companies' properties.
var DefaultScopes = slices.Concat([]string{"crm.objects.deals.read", "crm.objects.companies.read", "oauth"}, SyncScopes, PullScopes, MappingScopes, ArchiveScopes, DealScopes)

// OptionalScopes are asked for in the install URL's optional_scope (the
// app's optionalScopes hold the same list): the orders' (OrderScopes).
// Orders are a commerce object not every HubSpot account has, and a
// required scope the account cannot grant would refuse the whole install;
// optional, an account without them installs the app and syncs quotes, and
// Qwoty writes and pulls orders only where they were granted
// (docs/sync-hubspot.md, "Orders").
var OptionalScopes = slices.Clone(OrderScopes)

// ArchiveScopes are the scopes filing a sent quote's PDF on its deal needs
// (archive.go): files, to upload it to the file manager (Files API), and
// crm.objects.contacts.write, which the notes API takes to create the note
// that attaches it to the deal (and to read notes back).
var ArchiveScopes = []string{"files", "crm.objects.contacts.write"}

// SyncScopes are the scopes sync writes with (each named in the reference
// of the endpoint it opens):
//   - crm.objects.deals.write: the deals' batch update (amount, dealstage);
//   - crm.objects.line_items.read and .write: line items' batch create,
//     upsert and archive, and their associations to deals;
//   - crm.schemas.line_items.read: read the qwoty_ref property back;
//   - crm.schemas.deals.write: create the qwoty_ref line item property.
//     HubSpot has no crm.schemas.line_items.write: its create-property
//     endpoint takes one of several schema scopes, and which one covers line
//     items is an assumption to check in a real portal (docs/sync-hubspot.md).
//
// A connection made before sync lacks them; Syncer.Ready then asks for a
// reconnection.
var SyncScopes = []string{
	"crm.objects.deals.write", "crm.objects.line_items.read", "crm.objects.line_items.write",
	"crm.schemas.line_items.read", "crm.schemas.deals.write",
}

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
	// Scopes asked for; nil means DefaultScopes. OptionalScopes are asked
	// for as optional ones; nil means the package's OptionalScopes, empty
	// none.
	Scopes         []string
	OptionalScopes []string
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
	var opts []oauth2.AuthCodeOption
	if optional := a.optional(); len(optional) > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("optional_scope", strings.Join(optional, " ")))
	}
	u, err := a.oauth().AuthCodeURL(state, opts...)
	if err != nil {
		return "", fmt.Errorf("hubspot: authorize URL: %w", err)
	}
	return u, nil
}

// Exchange trades the callback's code for tokens.
func (a *OAuthApp) Exchange(ctx context.Context, code string) (*Token, error) {
	tok, err := token(a.oauth().Exchange(ctx, code))
	if err != nil {
		return nil, fmt.Errorf("hubspot: exchange code: %w", err)
	}
	return tok, nil
}

// Refresh gets a new access token. An error matching crm.ErrInvalidGrant
// means the refresh token is dead (the app was uninstalled from the
// portal): the portal must be connected again.
func (a *OAuthApp) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	tok, err := token(a.oauth().Refresh(ctx, refreshToken))
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
	start := a.now()
	// Everything goes in the body: the point of the versioned endpoint is to
	// keep tokens and the secret out of URLs.
	form := url.Values{
		"client_id": {a.ClientID}, "client_secret": {a.ClientSecret},
		"token": {accessToken}, "token_type_hint": {"access_token"},
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
	if err := a.oauth().Post(ctx, IntrospectPath, form, &v); err != nil {
		return nil, err
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

// oauth is the app's OAuth client: browsers authorise on the app host,
// this server trades tokens on the API host, with client_id and
// client_secret as body parameters, as HubSpot takes them.
func (a *OAuthApp) oauth() *crm.OAuthClient {
	scopes := a.Scopes
	if scopes == nil {
		scopes = DefaultScopes
	}
	return &crm.OAuthClient{
		Provider: qwoty.ProviderHubSpot, ClientID: a.ClientID, ClientSecret: a.ClientSecret, RedirectURL: a.RedirectURL, Scopes: scopes,
		AuthBase: cmp.Or(a.AuthURL, AppBaseURL), AuthPath: AuthorizePath, TokenBase: cmp.Or(a.APIURL, APIBaseURL), TokenPath: TokenPath,
		AuthStyle: oauth2.AuthStyleInParams, HTTP: a.HTTP, Timeout: DefaultTimeout, Now: a.Now, Errors: oauthErrors,
	}
}

// optional is the scopes the install URL asks for in optional_scope.
func (a *OAuthApp) optional() []string {
	if a.OptionalScopes == nil {
		return OptionalScopes
	}
	return a.OptionalScopes
}

func (a *OAuthApp) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// token reads HubSpot's token answer, or passes on the error of the request
// for it: access_token, refresh_token, expires_in (counted from the
// request), and (in the versioned API) hub_id, user_id and scopes.
func token(t *crm.TokenAnswer, err error) (*Token, error) {
	if err != nil {
		return nil, err
	}
	secs, ok := t.Int("expires_in")
	if !ok || secs <= 0 {
		return nil, errors.New("the answer has no positive expires_in")
	}
	out := &Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken,
		ExpiresAt: t.Start.Add(time.Duration(secs) * time.Second), Scopes: t.Texts("scopes")}
	out.HubID, _ = t.Int("hub_id")
	out.UserID, _ = t.Int("user_id")
	return out, nil
}
