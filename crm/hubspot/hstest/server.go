// Package hstest is an in-process emulator of the parts of HubSpot that Qwoty
// uses, written from HubSpot's developer documentation: the OAuth install
// (authorize, the versioned token and introspection endpoints), the CRM
// objects API for deals and companies, what sync writes (line items in
// batches, upserted by a unique property; the properties API; associations;
// deals' batch update) under HubSpot's per-account rate limit, and, most
// important, the signed request HubSpot sends to our backend when the app
// card calls hubspot.fetch (SignedCardRequest).
//
// It answers as HubSpot does, errors included, so that a client tested
// against it meets the same failures in a real portal. Where HubSpot's
// behaviour is undocumented the choice is marked "assumed" next to the code.
//
// The listener, the token store, the fault hooks and the ledger of writes
// are the emulator base's (crm/emulator): a Server has its Inject, Writes,
// ExpireAccessToken and the rest.
//
// Tests call New; a dev server calls Start and Close.
package hstest

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/hubspot"
)

// Defaults used when Options leave App or Portals empty.
const (
	// HubSpot client ids and secrets are UUIDs.
	DefaultClientID     = "6a0c1f9e-7d2b-4c55-9e1a-3f8b2d4c6e70"
	DefaultClientSecret = "c3b1e0d2-9a4f-4e6b-8d7c-5f2a1b0e9d84"
	DefaultAppID        = int64(4242424)
	DefaultRedirectURL  = "http://localhost:8080/oauth/hubspot/callback"
	// DefaultPortalID is the demo portal of HubSpot's own examples.
	DefaultPortalID     = int64(62515)
	DefaultPortalDomain = "acme.example"
	// DefaultAdminID is a Super Admin, who may install apps.
	DefaultAdminID    = int64(1001)
	DefaultAdminEmail = "admin@acme.example"
	// DefaultRepID is a sales rep, who may not.
	DefaultRepID    = int64(1002)
	DefaultRepEmail = "rep@acme.example"
	// DefaultDealID has an amount, a currency and two companies, the
	// primary one being DefaultCompanyID; DefaultBareDealID has none.
	DefaultDealID         = "18765432101"
	DefaultBareDealID     = "18765432102"
	DefaultCompanyID      = "29876543210"
	DefaultOtherCompanyID = "29876543209"
)

// HubSpot's documented lifetimes.
const (
	// AccessTokenTTL: access tokens "expire after 30 minutes".
	AccessTokenTTL = 30 * time.Minute
	// CodeTTL: HubSpot says only that the code must be exchanged within a
	// short window; 10 minutes is RFC 6749's maximum (assumed).
	CodeTTL = 10 * time.Minute
)

// App is the Qwoty app as registered in HubSpot.
type App struct {
	ID           int64
	ClientID     string
	ClientSecret string
	// RedirectURLs are matched exactly against redirect_uri.
	RedirectURLs []string
	// RequiredScopes must all be in an install URL's scope, which may hold
	// nothing else; empty means hubspot.DefaultScopes. OptionalScopes may
	// be asked for in optional_scope; nil means hubspot.OptionalScopes.
	RequiredScopes []string
	OptionalScopes []string
}

// Portal is a HubSpot account with its users and CRM records.
type Portal struct {
	ID        int64
	Domain    string
	Users     []User
	Deals     []Deal
	Companies []Company
	Products  []Product
	Contacts  []Contact
	// Currencies are the account's currencies, the company currency first
	// (nil: USD alone). With more than one, the account is multi-currency
	// and products hold hs_price_<code> properties.
	Currencies []string
	// NoOrders: the account has no orders object (orders.go): every call
	// on orders is answered as for an unknown object type.
	NoOrders bool
}

// User is a user of a portal.
type User struct {
	ID    int64
	Email string
	// Installer: a Super Admin or a user with HubSpot Marketplace Access,
	// the only ones HubSpot lets install an app.
	Installer bool
}

// Deal is a deal record. Values are stored as HubSpot stores properties:
// strings, "" meaning unset.
type Deal struct {
	ID       string
	Name     string
	Amount   string
	Currency string
	// Stage is dealstage, one of DealStages ("" for none).
	Stage string
	// CompanyIDs are the associated companies, the first one primary.
	CompanyIDs []string
	// ContactIDs are the associated contacts.
	ContactIDs []string
	// CloseDate is closedate as HubSpot stores it ("" for none).
	CloseDate string
}

// Company is a company record.
type Company struct {
	ID   string
	Name string
	// Properties are its other properties (domain, phone, address, city,
	// zip, state, country, ...).
	Properties map[string]string
}

// Options configure a Server. The zero value gives the default app and one
// portal (DefaultPortalID) with an admin (logged in), a rep, two deals and
// two companies.
type Options struct {
	App     App
	Portals []Portal
	// LoginAs is the id of the user "logged in" in the browser: authorize
	// installs as them, in their portal. 0 means the first user of the
	// first portal.
	LoginAs int64
	// CodeTTL and AccessTokenTTL override the constants of the same name.
	CodeTTL        time.Duration
	AccessTokenTTL time.Duration
	// Now is HubSpot's clock (codes, tokens, card signatures); nil means
	// time.Now.
	Now func() time.Time
	// Addr is the address to listen on ("127.0.0.1:0" when empty).
	Addr string
	// RateLimit is the per-account limit of the CRM API; the zero value is
	// HubSpot's 110 calls per 10 seconds, on Now's clock.
	RateLimit RateLimit
	// SearchRateLimit is the Search API's own limit; the zero value is
	// HubSpot's 5 a second. RateLimit.Off lifts it too.
	SearchRateLimit RateLimit
	// MultiStatusCreateOnly answers multi-status (207, refused inputs
	// listed) on batch create only, as HubSpot's error-handling guide
	// documents it; batch update and upsert then refuse a request with one
	// bad input as a whole. By default they answer per input too, as their
	// inputs' objectWriteTraceId suggests (assumed).
	MultiStatusCreateOnly bool
}

// Server is a running emulator. Its URL serves as both HubSpot hosts: the
// app host (authorize) and the API host (tokens, CRM).
type Server struct {
	emulator.Base

	opts   Options
	tokens *emulator.Tokens[grant]
	// calls counts the calls of TokenCalls, IntrospectCalls and Reads.
	calls emulator.Counter

	mu      sync.Mutex
	portals map[int64]*portal
	users   map[int64]*user
	loginAs *user
	windows map[int64]*rolling
	// searchWindows are the Search API's own limit's; searchHook is
	// SetSearchHook's; hooks are webhooks.go's.
	searchWindows map[int64]*rolling
	searchHook    func(n int)
}

type portal struct {
	Portal
	deals     map[string]Deal
	companies map[string]Company
	// products, contacts, the records' times and the archived ones are
	// pulling's (pull.go).
	products   map[string]Product
	contacts   map[string]Contact
	modified   map[string]time.Time
	archived   map[string]*archivedRecord
	currencies []string
	// dealExtra holds the deal properties Deal has no field for.
	dealExtra map[string]map[string]string
	lineItems map[string]*lineItem
	// properties are the custom properties, by object type and name.
	properties map[string]map[string]Property
	lastID     int64
	// files and notes are the file manager's files and the notes that
	// attach them to deals (files.go).
	files map[string]*File
	notes map[string]*Note
	// orders are the commerce orders (orders.go).
	orders map[string]*Order
}

// objects is what a batch request changes in a portal, kept to put back
// when the request is refused as a whole. Records are replaced, never
// changed in place, so copying the maps is enough.
type objects struct {
	deals     map[string]Deal
	dealExtra map[string]map[string]string
	lineItems map[string]*lineItem
	modified  map[string]time.Time
	lastID    int64
}

func (p *portal) snapshot() objects {
	return objects{maps.Clone(p.deals), maps.Clone(p.dealExtra), maps.Clone(p.lineItems), maps.Clone(p.modified), p.lastID}
}

func (p *portal) restore(o objects) {
	p.deals, p.dealExtra, p.lineItems, p.modified, p.lastID = o.deals, o.dealExtra, o.lineItems, o.modified, o.lastID
}

type user struct {
	User
	portal *portal
}

// New starts a Server for a test and closes it when the test ends.
func New(t emulator.T, opts Options) *Server {
	t.Helper()
	return emulator.ForTest(t, func() (*Server, error) { return Start(opts) })
}

// Start starts a Server; Close stops it.
func Start(opts Options) (*Server, error) {
	s := &Server{opts: opts, portals: map[int64]*portal{}, users: map[int64]*user{}, windows: map[int64]*rolling{}, searchWindows: map[int64]*rolling{}}
	s.opts.CodeTTL = cmp.Or(s.opts.CodeTTL, CodeTTL)
	s.opts.RateLimit.Max = cmp.Or(s.opts.RateLimit.Max, DefaultRateLimitMax)
	s.opts.RateLimit.Interval = cmp.Or(s.opts.RateLimit.Interval, DefaultRateLimitInterval)
	s.opts.AccessTokenTTL = cmp.Or(s.opts.AccessTokenTTL, AccessTokenTTL)
	s.opts.SearchRateLimit.Max = cmp.Or(s.opts.SearchRateLimit.Max, DefaultSearchMax)
	s.opts.SearchRateLimit.Interval = cmp.Or(s.opts.SearchRateLimit.Interval, DefaultSearchPeriod)
	if err := s.setup(); err != nil {
		return nil, err
	}
	s.tokens = emulator.NewTokens(emulator.TokenConfig[grant]{
		Now:       s.Now,
		CodeTTL:   s.opts.CodeTTL,
		AccessTTL: s.opts.AccessTokenTTL,
		Account:   func(g grant) string { return strconv.FormatInt(g.user.portal.ID, 10) },
		NewCode:   func(grant) string { return emulator.UUID() },
		NewAccess: func(grant) string { return "CO" + emulator.RandomBase64(96) },
		// HubSpot refresh tokens carry the account's data centre first.
		NewRefresh: func(grant) string { return "na1-" + emulator.UUID() },
	})
	err := emulator.Start(&s.Base, emulator.Config{Name: "hstest", Addr: opts.Addr, Now: opts.Now,
		Tokens: s.tokens, FaultAnswer: faultAnswer}, s.routes())
	if err != nil {
		return nil, err
	}
	return s, nil
}

// App returns the app as configured, defaults filled in.
func (s *Server) App() App { return s.opts.App }

// routes lists every endpoint. The token endpoints, whose bodies carry the
// client secret and tokens, are marked so that the ledger keeps no body of
// theirs.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+hubspot.AuthorizePath, s.authorize)
	// The versioned OAuth API answers under its date and under v3, the
	// same operation (HubSpot's API spec lists both paths for each).
	mux.HandleFunc("POST /oauth/2026-03/token", emulator.Credentials(s.token))
	mux.HandleFunc("POST /oauth/v3/token", emulator.Credentials(s.token))
	mux.HandleFunc("POST /oauth/2026-03/token/introspect", emulator.Credentials(s.introspect))
	mux.HandleFunc("POST /oauth/v3/token/introspect", emulator.Credentials(s.introspect))
	// The CRM API answers under its date-versioned paths (2026-03) and the
	// v3/v4 ones, the same operations.
	mux.HandleFunc("GET /crm/v3/objects/{type}/{id}", s.readObject)
	mux.HandleFunc("GET /crm/objects/2026-03/{type}/{id}", s.readObject)
	mux.HandleFunc("POST /crm/v3/objects/{type}/batch/{op}", s.batch)
	mux.HandleFunc("POST /crm/objects/2026-03/{type}/batch/{op}", s.batch)
	mux.HandleFunc("POST /crm/v3/properties/{type}", s.createProperty)
	mux.HandleFunc("POST /crm/properties/2026-03/{type}", s.createProperty)
	mux.HandleFunc("GET /crm/v3/properties/{type}/{name}", s.readProperty)
	mux.HandleFunc("GET /crm/v3/properties/{type}", s.listProperties)
	mux.HandleFunc("GET /crm/properties/2026-03/{type}", s.listProperties)
	mux.HandleFunc("GET /crm/properties/2026-03/{type}/{name}", s.readProperty)
	// Pulling's reads (pull.go, search.go).
	mux.HandleFunc("POST /crm/v3/objects/{type}/search", s.search)
	mux.HandleFunc("POST /crm/objects/2026-03/{type}/search", s.search)
	mux.HandleFunc("GET /crm/v3/objects/{type}", s.listObjects)
	mux.HandleFunc("GET /crm/objects/2026-03/{type}", s.listObjects)
	mux.HandleFunc("POST /crm/v4/associations/{from}/{to}/batch/read", s.readAssociations)
	mux.HandleFunc("POST /crm/associations/2026-03/{from}/{to}/batch/read", s.readAssociations)
	mux.HandleFunc("GET /account-info/v3/details", s.accountDetails)
	mux.HandleFunc("POST /files/v3/files", s.uploadFile)
	mux.HandleFunc("POST /files/2026-03/files", s.uploadFile)
	mux.HandleFunc("GET /files/v3/files/search", s.searchFiles)
	mux.HandleFunc("GET /files/2026-03/files/search", s.searchFiles)
	mux.HandleFunc("POST /crm/v3/objects/notes", s.createNote)
	mux.HandleFunc("POST /crm/objects/2026-03/notes", s.createNote)
	mux.HandleFunc("GET /crm/v3/objects/notes/{id}", s.readNote)
	mux.HandleFunc("GET /crm/objects/2026-03/notes/{id}", s.readNote)
	mux.HandleFunc("GET /crm/v4/objects/deals/{id}/associations/notes", s.dealNotes)
	// Orders (orders.go): create and update; reads go through readObject,
	// batch/read and search; a deal's orders through its associations.
	// One create for companies and deals (create.go), the orders' own.
	mux.HandleFunc("POST /crm/v3/objects/{type}", s.createRecord)
	mux.HandleFunc("POST /crm/objects/2026-03/{type}", s.createRecord)
	mux.HandleFunc("PATCH /crm/v3/objects/{type}/{id}", s.updateOrder)
	mux.HandleFunc("PATCH /crm/objects/2026-03/{type}/{id}", s.updateOrder)
	mux.HandleFunc("GET /crm/v4/objects/deals/{id}/associations/orders", s.dealOrders)
	mux.HandleFunc("POST /crm/v4/associations/{from}/{to}/batch/associate/default", s.associateDefault)
	mux.HandleFunc("POST /crm/associations/2026-03/{from}/{to}/batch/associate/default", s.associateDefault)
	return mux
}

// faultAnswer answers an injected error status in HubSpot's error shape. A
// 429 is the documented rate-limit answer (the ten-second policy's name is
// observed); the other messages are assumed.
func faultAnswer(w http.ResponseWriter, status int) {
	if status == http.StatusTooManyRequests {
		writeJSON(w, status, map[string]any{
			"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
			"errorType": "RATE_LIMIT", "correlationId": emulator.UUID(), "policyName": "TEN_SECONDLY_ROLLING",
		})
		return
	}
	apiError(w, status, "", http.StatusText(status))
}

func (s *Server) setup() error {
	app := &s.opts.App
	if app.ClientID == "" {
		app.ID, app.ClientID, app.ClientSecret = DefaultAppID, DefaultClientID, DefaultClientSecret
	}
	if app.ID == 0 {
		app.ID = DefaultAppID
	}
	if len(app.RedirectURLs) == 0 {
		app.RedirectURLs = []string{DefaultRedirectURL}
	}
	if len(app.RequiredScopes) == 0 {
		app.RequiredScopes = slices.Clone(hubspot.DefaultScopes)
	}
	if app.OptionalScopes == nil {
		app.OptionalScopes = slices.Clone(hubspot.OptionalScopes)
	}
	portals := s.opts.Portals
	if len(portals) == 0 {
		portals = []Portal{defaultPortal()}
	}
	for _, p := range portals {
		if p.ID <= 0 || s.portals[p.ID] != nil {
			return fmt.Errorf("hstest: portal id %d is not positive or is listed twice", p.ID)
		}
		stored := &portal{Portal: p, deals: map[string]Deal{}, companies: map[string]Company{},
			dealExtra: map[string]map[string]string{}, lineItems: map[string]*lineItem{}, properties: map[string]map[string]Property{},
			products: map[string]Product{}, contacts: map[string]Contact{}, modified: map[string]time.Time{},
			archived: map[string]*archivedRecord{}, currencies: slices.Clone(p.Currencies)}
		if len(stored.currencies) == 0 {
			stored.currencies = []string{"USD"}
		}
		for _, pr := range p.Products {
			stored.products[pr.ID] = pr
		}
		for _, c := range p.Contacts {
			stored.contacts[c.ID] = c
		}
		for _, d := range p.Deals {
			stored.deals[d.ID] = d
		}
		for _, c := range p.Companies {
			stored.companies[c.ID] = c
		}
		s.portals[p.ID] = stored
		for _, u := range p.Users {
			if u.ID <= 0 || s.users[u.ID] != nil {
				return fmt.Errorf("hstest: user id %d is not positive or is listed twice", u.ID)
			}
			s.users[u.ID] = &user{User: u, portal: stored}
		}
	}
	login := s.opts.LoginAs
	if login == 0 {
		if len(portals[0].Users) == 0 {
			return fmt.Errorf("hstest: portal %d has no user to log in as", portals[0].ID)
		}
		login = portals[0].Users[0].ID
	}
	return s.SetLoginUser(login)
}

func defaultPortal() Portal {
	return Portal{
		ID: DefaultPortalID, Domain: DefaultPortalDomain,
		Users: []User{
			{ID: DefaultAdminID, Email: DefaultAdminEmail, Installer: true},
			{ID: DefaultRepID, Email: DefaultRepEmail},
		},
		Deals: []Deal{
			{ID: DefaultDealID, Name: "Acme - 200 licences", Amount: "12000.50", Currency: "USD", Stage: "qualifiedtobuy",
				CompanyIDs: []string{DefaultCompanyID, DefaultOtherCompanyID}},
			{ID: DefaultBareDealID, Name: "Acme - renewal"},
		},
		Companies: []Company{
			{ID: DefaultCompanyID, Name: "Acme"},
			{ID: DefaultOtherCompanyID, Name: "Acme Holdings"},
		},
	}
}

// SetLoginUser changes who is logged in for the next authorizations.
func (s *Server) SetLoginUser(userID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[userID]
	if u == nil {
		return fmt.Errorf("hstest: no user %d", userID)
	}
	s.loginAs = u
	return nil
}

// PutDeal adds or replaces a deal of a portal.
func (s *Server) PutDeal(portalID int64, d Deal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal(portalID)
	p.deals[d.ID] = d
	p.touch("deals", d.ID, s.Now())
}

// PutCompany adds or replaces a company of a portal.
func (s *Server) PutCompany(portalID int64, c Company) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal(portalID)
	p.companies[c.ID] = c
	p.touch("companies", c.ID, s.Now())
}

// Uninstall removes the app from a portal: its refresh and access tokens
// stop working.
func (s *Server) Uninstall(portalID int64) {
	s.mu.Lock()
	s.mustPortal(portalID)
	s.mu.Unlock()
	s.tokens.RevokeAccount(strconv.FormatInt(portalID, 10))
}

// TokenCalls counts the token endpoint's calls for a grant type
// ("authorization_code", "refresh_token"), failed ones included.
func (s *Server) TokenCalls(grant string) int { return s.calls.Get("token:" + grant) }

// IntrospectCalls counts the introspection endpoint's calls.
func (s *Server) IntrospectCalls() int { return s.calls.Get("introspect") }

// Reads counts the CRM reads of an object type ("deals", "companies"),
// refused ones included.
func (s *Server) Reads(objectType string) int { return s.calls.Get("read:" + objectType) }

func (s *Server) mustPortal(id int64) *portal {
	p := s.portals[id]
	if p == nil {
		panic(fmt.Sprintf("hstest: no portal %d", id))
	}
	return p
}
