// Package sftest is an in-process emulator of the parts of Salesforce's HTTP
// API that Qwoty uses, written from Salesforce's documentation: the OAuth 2.0
// web server flow with PKCE, token refresh and revocation, the identity URL,
// the Qwoty package's Apex REST resources (config and ping), including
// the ping's real signed callout back to the Qwoty server, and the REST
// data resources sync writes with (Composite, sObject Collections, upsert
// by External ID, a SOQL subset) over an org's opportunities, products,
// price books and quotes, with the org's API allocation.
//
// It answers as Salesforce does, errors included, so that a client tested
// against it meets the same failures in a real org. Where Salesforce's
// behaviour is undocumented the choice is marked "observed" (from public bug
// reports) or "assumed" next to the code.
//
// The listener, the token store, the fault hooks and the ledger of writes
// are the emulator base's (crm/emulator): a Server has its Inject, Writes,
// ExpireAccessToken and the rest.
//
// Tests call New; a dev server calls Start and Close.
package sftest

import (
	"cmp"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/salesforce"
)

// Defaults used when Options leave App, Orgs or LoginAs empty.
const (
	DefaultClientID     = "3MVG9sftestQwotyConsumerKey0000000000000000000000000000000000000000"
	DefaultClientSecret = "SFTEST0123456789CONSUMERSECRET0123456789ABCDEF0123456789ABCDEF0123"
	DefaultCallbackURL  = "http://localhost:8080/oauth/salesforce/callback"
	DefaultOrgID        = "00D5g000004XyZaEAK"
	DefaultMyDomain     = "acme"
	// DefaultAdminID is a System Administrator: Customize Application, and
	// access to the package's classes.
	DefaultAdminID = "0055g00000AdMinAAF"
	// DefaultRepID is a sales rep: no Customize Application.
	DefaultRepID = "0055g00000RePzzAAF"
)

// Salesforce's documented and observed lifetimes.
const (
	// CodeTTL: "the authorization code expires after 15 minutes" (web
	// server flow help page).
	CodeTTL = 15 * time.Minute
	// AccessTokenTTL is the default session timeout, which is what bounds an
	// access token.
	AccessTokenTTL = 2 * time.Hour
	// CalloutTimeout is the package's Apex callout timeout (QwotyCallout).
	CalloutTimeout = 10 * time.Second
)

// User is a Salesforce user of an org.
type User struct {
	// ID is the 15- or 18-character user id (005...); it is stored as 18.
	ID       string
	Username string
	Email    string
	Name     string
	// Admin: the user holds Customize Application or Modify All Data, which
	// QwotyConfigResource checks itself.
	Admin bool
	// NoClassAccess: the user has no access to the package's Apex classes
	// (no Qwoty Admin or Qwoty User permission set), so Salesforce itself
	// refuses the Apex REST resources with a 403 array.
	NoClassAccess bool
}

// Org is a Salesforce org.
type Org struct {
	// ID is the 15- or 18-character org id (00D...); it is stored as 18.
	ID string
	// MyDomain is the org's My Domain name. The emulator serves every org
	// from its own URL, so it is for the caller's bookkeeping only.
	MyDomain string
	Users    []User
	// NoPackage: the Qwoty package, and with it the Qwoty External Client
	// App, is not installed in the org.
	NoPackage bool

	// The org's data settings (data_*.go). Name is the organization's name
	// ("Acme" when empty).
	Name string
	// Currency is a single-currency org's currency ("USD" when empty).
	// Currencies, when set, make the org multi-currency with these active
	// currencies, the first the corporate one (CurrencyType, and a
	// CurrencyIsoCode field on records).
	Currency   string
	Currencies []string
	// NoQuotes: Quotes are not enabled (Setup → Quote Settings): Quote and
	// QuoteLineItem do not exist.
	NoQuotes bool
	// OrdersNeedContract: the order setting "Enable orders without
	// contracts" is off, so that every order needs a contract
	// (data_orders.go).
	OrdersNeedContract bool
	// NoSyncFields: the org runs a package version from before sync, whose
	// objects lack Qwoty__Ref__c and Qwoty__Deleted__c.
	NoSyncFields bool
	// NoDealFields: the org runs a package version from before deals made
	// by Qwoty, whose Account and Opportunity lack Qwoty__Ref__c (an org
	// with NoSyncFields lacks them too).
	NoDealFields bool
	// APILimit is the org's daily API allocation (DefaultAPILimit when 0);
	// APIUsed the calls already made in the last 24 hours.
	APILimit int
	APIUsed  int
	// Opportunities are in the org from the start, with the ids given (the
	// development server's playground card is on one).
	Opportunities []Opportunity
}

// Opportunity is an opportunity an org starts with. StageName is
// "Prospecting" and CloseDate the end of next year when empty.
type Opportunity struct {
	ID        string
	Name      string
	StageName string
	CloseDate string
}

// App is the Qwoty External Client App: its global OAuth settings.
type App struct {
	ClientID     string
	ClientSecret string
	// CallbackURLs are matched exactly against redirect_uri.
	CallbackURLs []string
	// Scopes the app may be granted; empty means "api refresh_token".
	Scopes []string
}

// Options configure a Server. The zero value gives one org (DefaultOrgID)
// with the package installed, an admin (logged in) and a rep.
type Options struct {
	App  App
	Orgs []Org
	// LoginAs is the id or username of the user "logged in" in the browser:
	// the authorize endpoint approves as them, in their org. Empty means the
	// first user of the first org.
	LoginAs string
	// ShowLogin makes the authorize endpoint show Salesforce's login page
	// and then its "Allow Access?" page before it redirects, as a browser
	// without a Salesforce session meets them; without it the LoginAs user
	// approves at once (what tests following redirects need).
	ShowLogin bool
	// CodeTTL and AccessTokenTTL override the constants of the same name.
	CodeTTL        time.Duration
	AccessTokenTTL time.Duration
	// TokenDelay holds each token request this long before answering, outside
	// any lock, so that tests can make requests overlap. It is a Fault of
	// the base, armed at Start: ClearFaults disarms it.
	TokenDelay time.Duration
	// RotateRefreshTokens is the app's "Enable Refresh Token Rotation": every
	// refresh answers a new refresh token and invalidates the old one.
	RotateRefreshTokens bool
	// CorruptSignature makes the token endpoint answer a signature that does
	// not match, as a tampered or forged response would.
	CorruptSignature bool
	// CalloutClient makes the ping's callouts; nil means a client with
	// CalloutTimeout that does not follow redirects, as Apex's Http.
	CalloutClient *http.Client
	// Now is Salesforce's clock (codes, tokens, issued_at, callout
	// timestamps); nil means time.Now.
	Now func() time.Time
	// Addr is the address to listen on ("127.0.0.1:0" when empty).
	Addr string
}

// Server is a running emulator. Its URL serves as login URL, instance URL
// and identity host of every org.
type Server struct {
	emulator.Base

	opts    Options
	callout *http.Client
	tokens  *emulator.Tokens[grant]
	// tokenCalls counts the token requests by grant_type.
	tokenCalls emulator.Counter

	mu      sync.Mutex
	orgs    map[string]*org
	users   map[string]*user // by 18-character id
	loginAs *user
}

type org struct {
	Org
	installed bool
	config    ConfigRecord
	db        *orgDB
}

type user struct {
	User
	org *org
}

// ConfigRecord is the org defaults record of Qwoty_Config__c.
type ConfigRecord struct {
	// Configured: the record exists (it stays after a DELETE).
	Configured bool
	Secret     string
	AppURL     string
}

// New starts a Server for a test and closes it when the test ends.
func New(t emulator.T, opts Options) *Server {
	t.Helper()
	return emulator.ForTest(t, func() (*Server, error) { return Start(opts) })
}

// Start starts a Server; Close stops it.
func Start(opts Options) (*Server, error) {
	s := &Server{
		opts:    opts,
		callout: opts.CalloutClient,
		orgs:    map[string]*org{},
		users:   map[string]*user{},
	}
	if s.callout == nil {
		s.callout = &http.Client{
			Timeout: CalloutTimeout,
			// Apex's Http.send returns a 3xx as it is.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	s.opts.CodeTTL = cmp.Or(s.opts.CodeTTL, CodeTTL)
	s.opts.AccessTokenTTL = cmp.Or(s.opts.AccessTokenTTL, AccessTokenTTL)
	if err := s.setup(); err != nil {
		return nil, err
	}
	s.tokens = emulator.NewTokens(emulator.TokenConfig[grant]{
		Now:       s.Now,
		CodeTTL:   s.opts.CodeTTL,
		AccessTTL: s.opts.AccessTokenTTL,
		Account:   func(g grant) string { return g.user.org.ID },
		// The shapes of Salesforce's codes and tokens: an access token is
		// the session id, the 15-character org id first.
		NewCode:    func(grant) string { return "aPrx" + emulator.RandomBase64(36) },
		NewAccess:  func(g grant) string { return g.user.org.ID[:15] + "!" + emulator.RandomBase64(72) },
		NewRefresh: func(grant) string { return "5Aep861" + emulator.RandomBase64(48) },
	})
	err := emulator.Start(&s.Base, emulator.Config{Name: "sftest", Addr: opts.Addr, Now: opts.Now,
		Tokens: s.tokens, FaultAnswer: faultAnswer}, s.routes())
	if err != nil {
		return nil, err
	}
	if opts.TokenDelay > 0 {
		if err := s.Inject(emulator.Fault{Route: "POST " + tokenPath, Delay: opts.TokenDelay}); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) setup() error {
	app := &s.opts.App
	if app.ClientID == "" {
		app.ClientID, app.ClientSecret = DefaultClientID, DefaultClientSecret
	}
	if len(app.CallbackURLs) == 0 {
		app.CallbackURLs = []string{DefaultCallbackURL}
	}
	if len(app.Scopes) == 0 {
		app.Scopes = []string{"api", "refresh_token"}
	}
	orgs := s.opts.Orgs
	if len(orgs) == 0 {
		orgs = []Org{{
			ID: DefaultOrgID, MyDomain: DefaultMyDomain,
			Users: []User{
				{ID: DefaultAdminID, Username: "admin@acme.example", Email: "admin@acme.example", Name: "Ada Admin", Admin: true},
				{ID: DefaultRepID, Username: "rep@acme.example", Email: "rep@acme.example", Name: "Rex Rep"},
			},
		}}
	}
	for _, o := range orgs {
		id, err := salesforce.NormalizeOrgID(o.ID)
		if err != nil {
			return fmt.Errorf("sftest: org: %w", err)
		}
		if s.orgs[id] != nil {
			return fmt.Errorf("sftest: org %s is listed twice", id)
		}
		clock := s.opts.Now
		if clock == nil {
			clock = time.Now
		}
		db, err := newOrgDB(o, id, clock)
		if err != nil {
			return err
		}
		stored := &org{Org: o, installed: !o.NoPackage, db: db}
		stored.ID = id
		s.orgs[id] = stored
		for _, u := range o.Users {
			uid, err := salesforce.NormalizeID(u.ID)
			if err != nil || uid[:3] != "005" {
				return fmt.Errorf("sftest: user %q of org %s: not a user id", u.ID, id)
			}
			if s.users[uid] != nil {
				return fmt.Errorf("sftest: user %s is listed twice", uid)
			}
			u.ID = uid
			s.users[uid] = &user{User: u, org: stored}
		}
	}
	login := s.opts.LoginAs
	if login == "" {
		if len(orgs[0].Users) == 0 {
			return fmt.Errorf("sftest: org %s has no user to log in as", orgs[0].ID)
		}
		login = orgs[0].Users[0].ID
	}
	return s.SetLoginUser(login)
}

// SetLoginUser changes who is logged in for the next authorizations: a user
// id (15 or 18 characters) or a username.
func (s *Server) SetLoginUser(idOrUsername string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, err := salesforce.NormalizeID(idOrUsername); err == nil && s.users[id] != nil {
		s.loginAs = s.users[id]
		return nil
	}
	for _, u := range s.users {
		if u.Username == idOrUsername {
			s.loginAs = u
			return nil
		}
	}
	return fmt.Errorf("sftest: no user %q", idOrUsername)
}

// SetPackageInstalled installs or uninstalls the Qwoty package in an org.
// Uninstalling keeps issued tokens (so a test can meet the Apex REST 404),
// but new authorizations and refreshes fail as they do for an app that is
// not installed.
func (s *Server) SetPackageInstalled(orgID string, installed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustOrg(orgID).installed = installed
}

// Config returns the org's Qwoty_Config__c org defaults as stored.
func (s *Server) Config(orgID string) ConfigRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mustOrg(orgID).config
}

// TokenCalls counts the token requests received with that grant_type,
// answered or refused.
func (s *Server) TokenCalls(grant string) int { return s.tokenCalls.Get(grant) }

func (s *Server) mustOrg(orgID string) *org {
	id, err := salesforce.NormalizeOrgID(orgID)
	if err == nil && s.orgs[id] != nil {
		return s.orgs[id]
	}
	panic(fmt.Sprintf("sftest: no org %q", orgID))
}

const tokenPath = "/services/oauth2/token"

// routes lists every endpoint. The OAuth endpoints that receive a password,
// a secret or a token are marked so that the ledger keeps no body of theirs.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /services/oauth2/authorize", s.authorize)
	mux.HandleFunc("POST /services/oauth2/authorize", emulator.Credentials(s.authorize))
	mux.HandleFunc("POST "+tokenPath, emulator.Credentials(s.token))
	mux.HandleFunc("POST /services/oauth2/revoke", emulator.Credentials(s.revoke))
	mux.HandleFunc("GET /id/{org}/{user}", s.identity)
	mux.HandleFunc("GET /services/oauth2/userinfo", s.userinfo)
	mux.HandleFunc("/services/apexrest/", s.apexrest)
	mux.HandleFunc("/services/data/", s.dataAPI)
	return mux
}

// faultAnswer answers an injected error status in the REST API's error
// shape. SERVER_UNAVAILABLE is what Salesforce is observed to send with a
// 503 during maintenance; the other codes and the messages are assumed.
func faultAnswer(w http.ResponseWriter, status int) {
	code := map[int]string{500: "UNKNOWN_EXCEPTION", 503: "SERVER_UNAVAILABLE"}[status]
	if code == "" {
		code = strings.ToUpper(strings.ReplaceAll(http.StatusText(status), " ", "_"))
	}
	sfError(w, status, code, http.StatusText(status))
}

// now is Salesforce's clock, Options.Now.
func (s *Server) now() time.Time { return s.Now() }
