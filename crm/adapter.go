package crm

import (
	"context"
	"net/url"
	"time"

	"github.com/qwoty/companion/qwoty"
)

// Adapter is everything that differs between CRMs. Each CRM's package
// (crm/salesforce, crm/hubspot, crm/pipedrive) has one; cmd/qwoty builds
// them from the configuration and registers them once (Registry), and the
// card, the console and sync reach a CRM only through its adapter and the
// session layer (crm/session). Nothing outside crm/ and that registration
// names a provider.
type Adapter interface {
	// Info describes the CRM for the console: its name, whether this server
	// is configured for it, and what a connection of it supports.
	Info() Info

	// Verify authenticates a signed card request and returns who is looking
	// at which record of which connected account. once is a value unique to
	// this request that the card claims once, so a replay is refused; it is
	// "" for a CRM whose requests are not single-use (see its Verify).
	// conns finds the account's connection; AccountConnection turns what it
	// finds into the codes every card understands.
	Verify(ctx context.Context, conns ConnectionLookup, req SignedRequest, now time.Time) (ec *EmbedContext, once string, err error)

	// FrameOrigins are the CRM's own origins allowed to frame the card of
	// conn (its extra origins are added by the caller). Never a wildcard.
	FrameOrigins(conn *qwoty.Connection) []string

	// OAuth is the CRM's OAuth app, or nil when this server has none
	// configured (Info().Configured is false).
	OAuth() OAuth

	// LookupRecord completes the record a card is on (name, account,
	// currency) for a new quote, reading the CRM through s when the signed
	// request did not carry them. It returns rec unchanged when there is
	// nothing to read.
	LookupRecord(ctx context.Context, s Session, rec Record) (Record, error)

	// Configure writes what the CRM account must hold for the card to work
	// (Salesforce: the embed secret and this server's URL, into the
	// package's protected setting), after connecting and after a rotation.
	// It returns nil at once for a CRM that holds nothing. Its error is
	// explained (Problem.Err): a connection-health code such as
	// package_not_installed, what happened and what to do, which the console
	// records on the connection.
	Configure(ctx context.Context, s Session, secret []byte, appURL string) error
	// Unconfigure clears it on disconnection (best effort; nil when nothing).
	Unconfigure(ctx context.Context, s Session) error

	// Test checks a connection end to end, step by step, each failed step
	// with what to do. When the test cannot run at all (no token, the CRM
	// unreachable), its first step says why and the others are skipped.
	Test(ctx context.Context, s Session, appURL string) *TestReport

	// Sync is the CRM's outbound sync (Syncer), or nil for a CRM Qwoty
	// does not push to.
	Sync() Syncer

	// Pull is the CRM's inbound sync (Puller), or nil for a CRM Qwoty
	// does not read changes from.
	Pull() Puller
}

// Info describes a CRM for the console.
type Info struct {
	Provider qwoty.Provider
	// Name is the CRM's name as people write it ("HubSpot").
	Name string
	// Account is what the CRM calls an account: "org", "portal", "company".
	Account string
	// Configured says whether this server holds the CRM's app settings;
	// when not, Missing says which to set ("HUBSPOT_CLIENT_ID and
	// HUBSPOT_CLIENT_SECRET").
	Configured bool
	Missing    string
	// Rotates says whether a connection has an embed secret held in the
	// CRM account that the console can rotate (Configure writes it).
	Rotates bool
	// Install lists where the admin installs what the CRM needs before
	// connecting (the Salesforce package's install links); empty for none.
	Install []Link
	// Guide is how the console's pages word the CRM's set-up.
	Guide Guide
	// RefreshMargin is how long before its expiry an access token is
	// refreshed; tokens without an expiry are refreshed after a 401 only.
	RefreshMargin time.Duration
	// Plans are the CRM's subscription plans when its API allowance
	// depends on the plan and seats and its API tells neither (Pipedrive):
	// the sync settings ask the admin for them (qwoty.Connection's Plan
	// and Seats). Empty for a CRM that needs neither.
	Plans []Link
}

// Link is a labelled URL.
type Link struct {
	// Name is the link's short name, unique in its list ("production"):
	// pages name their elements by it.
	Name  string
	Label string
	URL   string
}

// Guide is how the console words a CRM's set-up beyond its name: what the
// admin installs in the account before connecting, where the sign-in may
// run, and what to do once connected. The zero Guide is a CRM connected in
// one click with nothing to install.
type Guide struct {
	// Package names what is installed in the account before connecting
	// ("the Qwoty package"); "" when nothing is. A CRM with one is
	// connected from its install page: Install's links, then the sign-in.
	Package string
	// InstallNote is what to do once it is installed; NoInstall says why
	// Install is empty (the setting this server lacks).
	InstallNote string
	NoInstall   string
	// SignIn are the connect form's fields when the admin chooses where
	// the sign-in runs (Salesforce: production, a sandbox or a My Domain);
	// OAuth().Begin reads them back.
	SignIn []Field
	// Next is what to do in the CRM once it is connected ("add the Qwoty
	// card to the deal record in HubSpot."); "" when nothing is.
	Next string
}

// Field is one input of a console form that an adapter reads back.
type Field struct {
	Name  string // the form field's name
	Label string
	// Value is a radio button's value (Checked: chosen at first); a field
	// without one is a line of text, Placeholder its example.
	Value       string
	Checked     bool
	Placeholder string
}

// OAuth is a CRM's OAuth app: authorisation-code flow, refresh, revoke.
type OAuth interface {
	// Begin reads the console's connect form (Salesforce: production,
	// sandbox or a My Domain) and returns what the callback will need: the
	// host the sign-in runs on, and a PKCE verifier when the CRM takes one.
	Begin(form url.Values) (Begin, error)
	// AuthURL is where to send the admin's browser, with state.
	AuthURL(b Begin, state string) (string, error)
	// FormHosts are the origins the connect form may lead to (the console's
	// CSP form-action lists them).
	FormHosts() []string
	// CallbackError is the error the CRM put in the callback's query, if
	// any. An error with code package_not_installed sends the admin to the
	// install steps.
	CallbackError(q url.Values) error
	// Exchange trades the callback's code for tokens and says which
	// account they act in.
	Exchange(ctx context.Context, b Begin, code string) (*Grant, error)
	// Refresh trades a refresh token for new tokens. A refusal of the grant
	// itself (revoked, expired) wraps ErrInvalidGrant.
	Refresh(ctx context.Context, loginURL, refreshToken string) (*Token, error)
	// Revoke revokes a refresh token (and the access tokens made from it);
	// nil when the CRM has no revocation.
	Revoke(ctx context.Context, loginURL, refreshToken string) error
}

// CallbackPath is where a CRM's OAuth sign-in comes back to this server
// (the redirect URL registered with the CRM's app is APP_URL followed by
// it): /oauth/{provider}/callback.
func CallbackPath(p qwoty.Provider) string { return "/oauth/" + string(p) + "/callback" }

// Begin is what the start of a sign-in keeps for its callback.
type Begin struct {
	// LoginURL is the host the sign-in runs on ("" for the CRM's default).
	LoginURL string
	// Verifier is the PKCE verifier ("" when the CRM takes none).
	Verifier string
}

// Token is an OAuth token pair.
type Token struct {
	AccessToken  string
	RefreshToken string // "" when the CRM keeps the previous one
	// ExpiresAt is when the access token dies (zero: unknown, only a 401
	// says so).
	ExpiresAt time.Time
}

// Grant is the outcome of a sign-in: the tokens and the account they act in.
type Grant struct {
	Token
	// ExternalID is the CRM account id (org, portal, company).
	ExternalID string
	// InstanceURL is the account's API base (Salesforce instance, Pipedrive
	// api_domain); "" when the CRM has one for all.
	InstanceURL string
	// LoginURL is the host refreshes go to ("" for the CRM's default).
	LoginURL string
	// MyDomain and Sandbox are Salesforce's (see qwoty.Connection).
	MyDomain string
	Sandbox  bool
	// CRMUserID names who signed in (a username or a user id).
	CRMUserID string
	// Scopes are the scopes the CRM granted, as it names them (nil when
	// it does not say): a Syncer's Ready reads them back from the
	// connection.
	Scopes []string
}

// Session is one connection's authenticated access to its CRM: the session
// layer (crm/session) gives adapters and sync a fresh token, refreshes it
// once after a 401 under the connection's row lock, and turns a refused
// grant into a connection error. Adapters never see refresh tokens.
type Session interface {
	// Connection is the connection the session acts for.
	Connection() *qwoty.Connection
	// Call runs fn with a fresh access token; if fn's error wraps
	// ErrUnauthorized, the token is refreshed once and fn runs again.
	Call(ctx context.Context, fn func(ctx context.Context, accessToken string) error) error
}

// TestReport is the outcome of a connection test.
type TestReport struct {
	OK bool
	// RequestID is the CRM's id of the test, for support ("" if none).
	RequestID string
	Steps     []TestStep
	// Code and Message are the first failure, as the connection keeps it
	// (last_error_code, last_error); empty when OK.
	Code    qwoty.Code
	Message string
}

// TestStep is one step of a connection test.
type TestStep struct {
	Name    string
	Title   string // the step as an admin thinks of it
	OK      bool
	Skipped bool
	Message string // what happened, in plain words
	Fix     string // what to do, when it failed
	Detail  string // the raw error, for a disclosure and support
}
