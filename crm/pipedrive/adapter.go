package pipedrive

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Options are what the Pipedrive adapter is built from: the app's settings.
type Options struct {
	// ClientID and ClientSecret are the app's ("" when this server has
	// none: Pipedrive's panels and console are then not available).
	ClientID     string
	ClientSecret string
	// JWTSecret is the app extensions' JWT secret ("": Pipedrive signs them
	// with the client secret).
	JWTSecret string
	// RedirectURL is APP_URL followed by crm.CallbackPath.
	RedirectURL string
	// OAuthURL overrides Pipedrive's OAuth server ("" for Pipedrive's; the
	// tests and the dev server point it at the emulator).
	OAuthURL string
	// HTTP makes every call to Pipedrive (nil: http.DefaultClient).
	HTTP *http.Client
	// PullPageSize is a pull's list page length (0: 500, v2's largest);
	// tests make it small to read a listing over several pages.
	PullPageSize int
}

// LaunchFrameAncestors may frame a refused launch of the custom panel: the
// page names no connection (the launch was not verified) and holds no data,
// and any company's host must show it, or Pipedrive hides the panel.
const LaunchFrameAncestors = "frame-ancestors https://*.pipedrive.com"

// RefreshMargin refreshes Pipedrive's hour-long tokens a little early.
const RefreshMargin = 5 * time.Minute

// Adapter is Pipedrive as the card, the console and sync see it: the app
// extensions' signed tokens, the app's OAuth install, and its deals.
type Adapter struct {
	o       Options
	app     *OAuthApp // nil when not configured
	secrets [][]byte  // what extension tokens verify with
}

var _ crm.Adapter = (*Adapter)(nil)

// Name is how people write the CRM's name; errors and pages outside this
// package read it through qwoty.Provider.Title.
const Name = "Pipedrive"

func init() { qwoty.NameProvider(qwoty.ProviderPipedrive, Name) }

// NewAdapter builds the adapter.
func NewAdapter(o Options) *Adapter {
	a := &Adapter{o: o}
	if o.ClientID != "" {
		a.app = &OAuthApp{ClientID: o.ClientID, ClientSecret: o.ClientSecret, RedirectURL: o.RedirectURL, OAuthURL: o.OAuthURL, HTTP: o.HTTP}
		a.secrets = PanelSecrets(o.JWTSecret, o.ClientSecret)
	}
	return a
}

// Info describes Pipedrive for the console.
func (a *Adapter) Info() crm.Info {
	in := crm.Info{Provider: qwoty.ProviderPipedrive, Name: Name, Account: "company", Configured: a.app != nil,
		RefreshMargin: RefreshMargin, Guide: crm.Guide{Next: "add the Qwoty panels to the deal details in Pipedrive."}}
	for _, p := range Plans {
		in.Plans = append(in.Plans, crm.Link{Name: string(p), Label: fmt.Sprintf("%s (%s tokens a day per seat)", planLabel(p), thousands(DailyTokens(p, 1)))})
	}
	if !in.Configured {
		in.Missing = "PIPEDRIVE_CLIENT_ID and PIPEDRIVE_CLIENT_SECRET"
	}
	return in
}

// FrameOrigins is the company's own origin, its api_domain
// (https://acme.pipedrive.com): Pipedrive serves a company from it.
func (a *Adapter) FrameOrigins(c *qwoty.Connection) []string {
	u, err := url.Parse(c.InstanceURL)
	if err != nil || u.Scheme != "https" || !strings.HasSuffix(u.Host, ".pipedrive.com") {
		return nil
	}
	return []string{"https://" + u.Host}
}

// OAuth is the app's install flow, nil when not configured.
func (a *Adapter) OAuth() crm.OAuth {
	if a.app == nil {
		return nil
	}
	return oauthFlow{a}
}

// LookupRecord reads the deal the card is on (Pipedrive sends its id only):
// its title, currency and organization.
func (a *Adapter) LookupRecord(ctx context.Context, s crm.Session, rec crm.Record) (crm.Record, error) {
	id, err := strconv.ParseInt(rec.ID, 10, 64)
	if err != nil {
		return rec, fmt.Errorf("deal id %q: %w", rec.ID, err)
	}
	var d *Deal
	err = s.Call(ctx, func(ctx context.Context, token string) error {
		var err error
		d, err = a.client(s.Connection(), token).Deal(ctx, id)
		return err
	})
	if err != nil {
		return rec, err
	}
	rec.Name, rec.Currency = d.Title, d.Currency
	if d.OrgID != 0 {
		rec.AccountID, rec.AccountName = strconv.FormatInt(d.OrgID, 10), d.OrgName
	}
	return rec, nil
}

// Configure does nothing: a company holds no settings of ours.
func (a *Adapter) Configure(context.Context, crm.Session, []byte, string) error { return nil }

// Unconfigure does nothing, as Configure.
func (a *Adapter) Unconfigure(context.Context, crm.Session) error { return nil }

// Test reads the token's user and company (refreshing an expired token)
// and checks the company is the connected one.
func (a *Adapter) Test(ctx context.Context, s crm.Session, _ string) *crm.TestReport {
	return crm.TestAccount(ctx, s, a.Info(), func(ctx context.Context, tok string) (string, string, error) {
		me, err := a.client(s.Connection(), tok).Me(ctx)
		if err != nil {
			return "", "", err
		}
		return strconv.FormatInt(me.CompanyID, 10), fmt.Sprintf("company_id %d", me.CompanyID), nil
	}, func(err error) crm.Problem { return a.explain(s.Connection().InstanceURL, err) })
}

// explain explains why a call to Pipedrive failed: nothing is Pipedrive's
// own.
func (a *Adapter) explain(instanceURL string, err error) crm.Problem {
	return crm.ExplainCall(a.Info(), instanceURL, err)
}

func (a *Adapter) client(conn *qwoty.Connection, token string) *Client {
	return &Client{APIDomain: conn.InstanceURL, AccessToken: token, HTTP: a.o.HTTP}
}

// oauthFlow is the app's install flow: authorization code, no PKCE (Pipedrive
// documents none), the company named by the token's user.
type oauthFlow struct{ a *Adapter }

// Begin has nothing to keep: one host, no verifier.
func (f oauthFlow) Begin(url.Values) (crm.Begin, error) { return crm.Begin{}, nil }

func (f oauthFlow) AuthURL(_ crm.Begin, state string) (string, error) {
	return f.a.app.AuthCodeURL(state)
}

// FormHosts is the OAuth server the install page is on.
func (f oauthFlow) FormHosts() []string {
	return crm.Origins(cmp.Or(f.a.o.OAuthURL, DefaultOAuthURL))
}

func (f oauthFlow) CallbackError(q url.Values) error { return CallbackError(q) }

// Exchange names the company from the token's user (GET /users/me), and
// keeps the company's api_domain as the connection's instance URL (its
// origin is also where the card may be framed from) and the scopes granted,
// which say whether sync may write (Syncer.Ready).
func (f oauthFlow) Exchange(ctx context.Context, _ crm.Begin, code string) (*crm.Grant, error) {
	tok, err := f.a.app.Exchange(ctx, code)
	if err != nil {
		return nil, err
	}
	me, err := (&Client{APIDomain: tok.APIDomain, AccessToken: tok.AccessToken, HTTP: f.a.o.HTTP}).Me(ctx)
	if err != nil {
		return nil, err
	}
	return &crm.Grant{Token: crm.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, ExpiresAt: tok.Expiry},
		ExternalID: strconv.FormatInt(me.CompanyID, 10), InstanceURL: tok.APIDomain, CRMUserID: strconv.FormatInt(me.ID, 10),
		Scopes: tok.Scopes()}, nil
}

// Refresh gets a new access token; a dead grant (unused for 60 days, the
// app uninstalled) matches crm.ErrInvalidGrant.
func (f oauthFlow) Refresh(ctx context.Context, _, refreshToken string) (*crm.Token, error) {
	t, err := f.a.app.Refresh(ctx, refreshToken)
	if err != nil {
		return nil, err
	}
	return &crm.Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, ExpiresAt: t.Expiry}, nil
}

// Revoke does nothing: Pipedrive documents no revocation; an admin
// uninstalls the app in Pipedrive.
func (f oauthFlow) Revoke(context.Context, string, string) error { return nil }

func planLabel(p Plan) string { return strings.ToUpper(string(p[:1])) + string(p[1:]) }

// thousands writes n with a comma between thousands (30,000).
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
