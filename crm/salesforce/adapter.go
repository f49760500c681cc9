package salesforce

import (
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

// Options are what the Salesforce adapter is built from: the External Client
// App's settings and the package version to install.
type Options struct {
	// ClientID and ClientSecret are the External Client App's ("" when this
	// server has none: the card still works for connections made with
	// `qwoty connection add`, the console cannot connect orgs).
	ClientID     string
	ClientSecret string
	// RedirectURL is APP_URL followed by CallbackPath.
	RedirectURL string
	// LoginURL is the default OAuth host ("" for ProductionLoginURL; the
	// tests and the dev server point it at the emulator).
	LoginURL string
	// PackageVersionID builds the package's install links ("" for none).
	PackageVersionID string
	// HTTP makes every call to Salesforce (nil: http.DefaultClient).
	HTTP *http.Client
	// PullPageSize is the rows a pull's page asks for (0: 2,000, the
	// most a query answer holds; tests make it small).
	PullPageSize int
}

// CallbackPath is the OAuth redirect path to register on the External
// Client App: {APP_URL}/oauth/salesforce/callback.
var CallbackPath = crm.CallbackPath(qwoty.ProviderSalesforce)

// Adapter is Salesforce as the card, the console and sync see it: the
// package's v1 signed callout, the External Client App, the package's
// protected setting (its embed secret and our URL) and its ping.
type Adapter struct {
	o   Options
	app *OAuthApp // nil when not configured
}

var (
	_ crm.Adapter        = (*Adapter)(nil)
	_ crm.AccountWording = (*Adapter)(nil)
)

// Name is how people write the CRM's name; errors and pages outside this
// package read it through qwoty.Provider.Title.
const Name = "Salesforce"

func init() { qwoty.NameProvider(qwoty.ProviderSalesforce, Name) }

// NewAdapter builds the adapter.
func NewAdapter(o Options) *Adapter {
	if o.LoginURL == "" {
		o.LoginURL = ProductionLoginURL
	}
	a := &Adapter{o: o}
	if o.ClientID != "" {
		a.app = &OAuthApp{ClientID: o.ClientID, ClientSecret: o.ClientSecret, RedirectURL: o.RedirectURL, HTTP: o.HTTP}
	}
	return a
}

// Info describes Salesforce for the console.
func (a *Adapter) Info() crm.Info {
	in := crm.Info{Provider: qwoty.ProviderSalesforce, Name: Name, Account: "org", Configured: a.app != nil,
		Rotates: true, Install: InstallLinks(a.o.PackageVersionID), Guide: guide}
	if !in.Configured {
		in.Missing = "SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET"
	}
	return in
}

// InstallLinks are the package's install pages for a production org and a
// sandbox, built from the version id ("" gives none).
func InstallLinks(versionID string) []crm.Link {
	if versionID == "" {
		return nil
	}
	q := "/packaging/installPackage.apexp?p0=" + url.QueryEscape(versionID)
	return []crm.Link{{Name: "production", Label: "Install on a production org", URL: ProductionLoginURL + q},
		{Name: "sandbox", Label: "Install on a sandbox", URL: SandboxLoginURL + q}}
}

// guide is how the console words connecting an org: the package first,
// then a sign-in at production, a sandbox or a My Domain (Begin reads the
// form's env and my_domain).
var guide = crm.Guide{
	Package:     "the Qwoty package",
	InstallNote: `Choose "Install for All Users", then give yourself the Qwoty Admin permission set.`,
	NoInstall:   "The install links need SALESFORCE_PACKAGE_VERSION_ID on this server (docs/salesforce-package.md).",
	SignIn: []crm.Field{
		{Name: "env", Value: "production", Label: "Production or Developer Edition", Checked: true},
		{Name: "env", Value: "sandbox", Label: "Sandbox"},
		{Name: "env", Value: "mydomain", Label: "My Domain:"},
		{Name: "my_domain", Label: "My Domain", Placeholder: "acme.my.salesforce.com"},
	},
}

// Verify checks a v1 callout (VerifyCallout); its nonce is what the card
// claims once.
func (a *Adapter) Verify(ctx context.Context, conns crm.ConnectionLookup, req crm.SignedRequest, now time.Time) (*crm.EmbedContext, string, error) {
	ec, h, err := VerifyCallout(ctx, conns, req, now)
	if err != nil {
		return nil, "", err
	}
	return ec, h.Nonce, nil
}

// VerifyPing checks a v1 signed ping from the package's QwotyPing: the same
// authentication as a card request, no body. It returns the org's
// connection and the nonce to claim.
func (a *Adapter) VerifyPing(ctx context.Context, conns crm.ConnectionLookup, req crm.SignedRequest, now time.Time) (*qwoty.Connection, string, error) {
	conn, h, err := Authenticate(ctx, conns, req, now)
	if err != nil {
		return nil, "", err
	}
	return conn, h.Nonce, nil
}

// NotConnected is the card's error for an org no workspace connected.
func (a *Adapter) NotConnected(orgID string) error { return notConnected(orgID) }

// Disconnected is the card's error for an org an admin disconnected.
func (a *Adapter) Disconnected(orgID string) error { return disconnected(orgID) }

// FrameOrigins are the org's Lightning and My Domain origins, known from
// its My Domain; none without one.
func (a *Adapter) FrameOrigins(c *qwoty.Connection) []string {
	if c.MyDomain == "" {
		return nil
	}
	d, err := ParseMyDomain(c.MyDomain, c.Sandbox)
	if err != nil {
		return nil
	}
	return d.Origins()
}

// OAuth is the External Client App's flow, nil when not configured.
func (a *Adapter) OAuth() crm.OAuth {
	if a.app == nil {
		return nil
	}
	return oauthFlow{a}
}

// LookupRecord returns rec as it is: the package's callout carries the
// record's name, account and currency.
func (a *Adapter) LookupRecord(_ context.Context, _ crm.Session, rec crm.Record) (crm.Record, error) {
	return rec, nil
}

// Configure writes the embed secret and the app URL into the org's
// protected setting through the package, and checks the org that answered
// is the connection's. Its error is explained (crm.Problem): a code such as
// package_not_installed, the message and the fix.
func (a *Adapter) Configure(ctx context.Context, s crm.Session, secret []byte, appURL string) error {
	conn := s.Connection()
	var st *ConfigState
	err := s.Call(ctx, func(ctx context.Context, token string) error {
		var err error
		st, err = a.client(conn, token).PutConfig(ctx, string(secret), appURL)
		return err
	})
	if err == nil && st.OrgID != "" && st.OrgID != conn.ExternalID {
		err = fmt.Errorf("the config was written in org %s, not %s", st.OrgID, conn.ExternalID)
	}
	if err != nil {
		return a.explain(conn.InstanceURL, err).Err(err)
	}
	return nil
}

// Unconfigure clears the org's secret (the app URL stays); its error is
// explained as Configure's.
func (a *Adapter) Unconfigure(ctx context.Context, s crm.Session) error {
	conn := s.Connection()
	err := s.Call(ctx, func(ctx context.Context, token string) error {
		_, err := a.client(conn, token).DeleteConfig(ctx)
		return err
	})
	if err != nil {
		return a.explain(conn.InstanceURL, err).Err(err)
	}
	return nil
}

// Test runs the package's ping (token valid, config present, callout
// allowed, signature accepted) and explains each failed step.
func (a *Adapter) Test(ctx context.Context, s crm.Session, appURL string) *crm.TestReport {
	conn := s.Connection()
	var r *PingReport
	err := s.Call(ctx, func(ctx context.Context, token string) error {
		var err error
		r, err = a.client(conn, token).Ping(ctx)
		return err
	})
	return a.pingReport(r, err, conn.InstanceURL, appURL)
}

func (a *Adapter) client(conn *qwoty.Connection, token string) *Client {
	return &Client{InstanceURL: conn.InstanceURL, AccessToken: token, HTTP: a.o.HTTP}
}

// oauthFlow is the External Client App's web server flow with PKCE, from
// the console's connect form (production, sandbox or a My Domain).
type oauthFlow struct{ a *Adapter }

// Begin maps the connect form's choice to the OAuth host and makes the PKCE
// verifier.
func (f oauthFlow) Begin(form url.Values) (crm.Begin, error) {
	loginURL, err := f.loginURL(form.Get("env"), form.Get("my_domain"))
	if err != nil {
		return crm.Begin{}, err
	}
	return crm.Begin{LoginURL: loginURL, Verifier: oauth2.GenerateVerifier()}, nil
}

// loginURL maps the connect form's choice to the OAuth host.
func (f oauthFlow) loginURL(env, myDomain string) (string, error) {
	// A login URL outside salesforce.com (the emulator, a test double)
	// serves every kind of org; a real one is production's or a My Domain.
	configured := f.a.o.LoginURL
	u, _ := url.Parse(configured)
	salesforceHost := u != nil && (u.Hostname() == "salesforce.com" || strings.HasSuffix(u.Hostname(), ".salesforce.com"))
	switch env {
	case "production", "":
		return configured, nil
	case "sandbox":
		if !salesforceHost {
			return configured, nil
		}
		return SandboxLoginURL, nil
	case "mydomain":
		d, err := ParseMyDomain(myDomain, false)
		if err != nil {
			return "", qwoty.Errorf(qwoty.CodeValidation, "Give your My Domain, such as acme.my.salesforce.com.", "%v", err)
		}
		return d.InstanceURL(), nil
	}
	return "", qwoty.Errorf(qwoty.CodeValidation, "Choose production, sandbox or My Domain.", "login choice %q is not known", env)
}

func (f oauthFlow) AuthURL(b crm.Begin, state string) (string, error) {
	return f.a.app.AuthCodeURL(b.LoginURL, state, b.Verifier), nil
}

// FormHosts are where the connect form may send the admin: the production
// and sandbox login hosts, any My Domain, and the configured login host.
func (f oauthFlow) FormHosts() []string {
	hosts := []string{ProductionLoginURL, SandboxLoginURL, "https://*.my.salesforce.com"}
	if o := crm.Origin(f.a.o.LoginURL); o != "" && !slices.Contains(hosts, o) {
		hosts = append(hosts, o)
	}
	return hosts
}

// CallbackError is the error Salesforce put in the callback; the app (and
// so the package) missing from the org is package_not_installed.
func (f oauthFlow) CallbackError(q url.Values) error {
	err := CallbackError(q)
	if errors.Is(err, ErrAppNotInstalled) {
		return &qwoty.Error{Code: qwoty.CodePackageNotInstalled, Message: "the Qwoty package, which brings Qwoty's app, is not installed in the org you signed in to",
			Hint: "Install the Qwoty package in the org, then connect again.", Err: err}
	}
	return err
}

// Exchange trades the code at the login host the sign-in began on, and
// names the org, its My Domain and the user who signed in.
func (f oauthFlow) Exchange(ctx context.Context, b crm.Begin, code string) (*crm.Grant, error) {
	tok, err := f.a.app.Exchange(ctx, b.LoginURL, code, b.Verifier)
	if err != nil {
		return nil, err
	}
	username := tok.UserID
	if id, err := f.a.app.Identity(ctx, tok); err == nil && id.Username != "" {
		username = id.Username
	}
	g := &crm.Grant{Token: crm.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken},
		ExternalID: tok.OrgID, InstanceURL: tok.InstanceURL, LoginURL: b.LoginURL, CRMUserID: username}
	if d, err := ParseMyDomain(tok.InstanceURL, false); err == nil {
		g.MyDomain, g.Sandbox = d.String(), d.Sandbox()
	}
	return g, nil
}

// Refresh trades the refresh token at the connection's login host; a dead
// grant matches crm.ErrInvalidGrant.
func (f oauthFlow) Refresh(ctx context.Context, loginURL, refreshToken string) (*crm.Token, error) {
	t, err := f.a.app.Refresh(ctx, loginURL, refreshToken)
	if err != nil {
		return nil, err
	}
	return &crm.Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken}, nil
}

// Revoke revokes the refresh token, and with it its access tokens.
func (f oauthFlow) Revoke(ctx context.Context, loginURL, refreshToken string) error {
	return f.a.app.Revoke(ctx, loginURL, refreshToken)
}
