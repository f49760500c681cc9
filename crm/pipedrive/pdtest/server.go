// Package pdtest is an in-process emulator of the parts of Pipedrive that
// Qwoty meets, written from Pipedrive's developer documentation: the OAuth
// server (authorize, token with the authorization_code and refresh_token
// grants), a company's REST API (users/me, deals read, updated, made and
// searched, deal products one by one and in bulk, the product catalog,
// organizations read, made and searched), the
// API's limits (a daily token budget per company charged per endpoint, a
// 2-second burst window per token, with their headers and 429s), and the
// requests Pipedrive's app extensions make to the app: the JSON panel's GET
// (PanelRequest) and the custom panel's iframe URL (CustomUIURL), each with
// its signed token, and the SDK's GET_SIGNED_TOKEN (SignedToken).
//
// It answers as Pipedrive does, errors included, so that code tested against
// it meets the same failures in a real company. Where the documentation is
// silent the choice is marked "assumed" next to the code. It imports nothing
// of the pipedrive package, so that the two are checked against each other
// rather than against themselves.
//
// The listener, the token store, the fault hooks and the ledger of writes
// are the emulator base's (crm/emulator): a Server has its Inject, Writes,
// ExpireAccessToken and the rest.
//
// Tests call New; a dev server calls Start and Close.
package pdtest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qwoty/companion/crm/emulator"
	"github.com/shopspring/decimal"
)

// Defaults used when Options leave App or Companies empty.
const (
	// DefaultClientID and DefaultClientSecret have the shape of Pipedrive's
	// (20 and 40 hexadecimal characters).
	DefaultClientID     = "b4d0pd7e57c11e47a1d0"
	DefaultClientSecret = "5ec7e7pd7e57c11e47a1d05ec7e7pd7e57c11e47"
	DefaultCallbackURL  = "http://localhost:8080/oauth/pipedrive/callback"
	DefaultCompanyID    = 54321
	DefaultCompanyName  = "Acme"
	DefaultDomain       = "acme"
	// DefaultAdminID is an admin of the company; DefaultRepID a regular
	// user.
	DefaultAdminID = 12345
	DefaultRepID   = 12346
	DefaultOrgID   = 7
	DefaultDealID  = 3
	// DefaultNoOrgDealID is a deal without organization.
	DefaultNoOrgDealID = 4
	// DefaultPipelineID is the default company's pipeline; its stages are
	// DefaultStageID (a deal's stage unless it names one) to
	// DefaultStageID+4.
	DefaultPipelineID = 1
	DefaultStageID    = 1
)

// DefaultScopes are the app's scopes when App leaves them empty: what the
// card needed before sync (an installation made then). SyncScopes are the
// app's scopes once it writes deals and products (Developer Hub's "Deals:
// Full access" and "Products: Full access"); DealScopes once it also makes
// organizations for the deals it makes ("Contacts: Full access").
var (
	DefaultScopes = []string{"base", "deals:read", "contacts:read"}
	SyncScopes    = []string{"base", "deals:full", "products:full", "contacts:read"}
	DealScopes    = []string{"base", "deals:full", "products:full", "contacts:full"}
)

// Pipedrive's documented lifetimes.
const (
	// CodeTTL: "the authorization_code expires in 5 minutes".
	CodeTTL = 5 * time.Minute
	// AccessTokenTTL: "access_token expires after 60 minutes".
	AccessTokenTTL = time.Hour
	// RefreshTokenIdle: a refresh token "will expire if it isn't used in
	// 60 days"; each use resets the 60 days.
	RefreshTokenIdle = 60 * 24 * time.Hour
	// ExtensionTokenTTL: the SDK's signed token "is valid for 5 minutes";
	// the same life is assumed for the tokens of panel requests and iframe
	// URLs, whose life is not documented.
	ExtensionTokenTTL = 5 * time.Minute
)

// User is a Pipedrive user of a company.
type User struct {
	ID       int64
	Name     string
	Email    string
	Admin    bool
	Locale   string // "en_US" when empty
	TimeZone string // "Europe/Tallinn" when empty
}

// Org is an organization (a customer of the company). Its address is
// v2's address object's parts; an organization has no email or phone field
// of its own (persons have them).
type Org struct {
	ID         int64
	Name       string
	Street     string
	City       string
	PostalCode string
	Region     string
	Country    string
	// Address is the address as typed (v2's address.value) when it was
	// written so, its parts unknown.
	Address string
	// Custom are its custom fields' values by field code, as v2 shows
	// them in custom_fields (a text as a string); the company's other
	// organization custom fields show null.
	Custom map[string]any
	// Updated is its update_time; zero shows the emulator's creation time.
	Updated time.Time
}

// Person is a contact person of the company, with their emails and phones
// (the first of each is the primary one).
type Person struct {
	ID     int64
	Name   string
	OrgID  int64
	Emails []string
	Phones []string
}

// Deal is a deal of a company.
type Deal struct {
	ID    int64
	Title string
	// Value is exact decimal text ("12000.50"); "" means 0.
	Value    string
	Currency string
	// OrgID is 0 for a deal without organization.
	OrgID int64
	// Status is open (when empty), won, lost or deleted.
	Status string
	// StageID is the deal's stage; 0 means the first stage of the
	// company's first pipeline.
	StageID int64
	// PersonID is the deal's contact person, 0 for none.
	PersonID int64
	// CloseDate is the expected close date, "YYYY-MM-DD" or "".
	CloseDate string
	// Updated is its update_time (a deleted deal's: when it was deleted);
	// zero shows the emulator's creation time. An update through the API
	// sets it to the clock's second.
	Updated time.Time
}

// Pipeline is a sales pipeline of a company: its stages, in order.
type Pipeline struct {
	ID     int64
	Name   string
	Stages []Stage
}

// Stage is a stage of a pipeline; its id is unique in the company.
type Stage struct {
	ID   int64
	Name string
}

// Company is a Pipedrive company (account): its users and data.
type Company struct {
	ID      int64
	Name    string
	Domain  string // the subdomain of {domain}.pipedrive.com
	Users   []User
	Orgs    []Org
	Persons []Person
	Deals   []Deal
	// Pipelines are the company's pipelines; empty means one pipeline
	// (DefaultPipelineID) of five stages from DefaultStageID.
	Pipelines []Pipeline
	// Products are the company's product catalog.
	Products []Product
	// Plan and Seats set the daily token budget (30,000 × the plan's
	// multiplier × seats + TopUpTokens) and the OAuth burst limit; the zero
	// values are Lite and one seat.
	Plan        Plan
	Seats       int
	TopUpTokens int
}

// App is the Qwoty app as registered in Developer Hub.
type App struct {
	ClientID     string
	ClientSecret string
	// CallbackURL is the one registered callback; redirect_uri must equal it.
	CallbackURL string
	// Scopes are the app's scopes, granted on install; empty means
	// DefaultScopes.
	Scopes []string
	// PanelJWTSecret and CustomPanelJWTSecret are the extensions' "JWT
	// secret" fields; empty means the client secret signs, as in Pipedrive.
	PanelJWTSecret       string
	CustomPanelJWTSecret string
	// PanelUsername and PanelPassword are the JSON panel's optional "HTTP
	// Auth" credentials, sent as a Basic Authorization header.
	PanelUsername string
	PanelPassword string
}

// Options configure a Server. The zero value gives one company
// (DefaultCompanyID) with an admin (logged in) and a rep, an organization
// and two deals.
type Options struct {
	App       App
	Companies []Company
	// LoginAs is the id of the user "logged in" in the browser: the
	// authorize endpoint installs the app as them, in their company. 0 means
	// the first user of the first company.
	LoginAs int64
	// APIDomain is the api_domain the token endpoint answers; empty means
	// the server's own URL, which serves every company's API.
	APIDomain string
	// AllowBodyCredentials accepts client_id and client_secret in the token
	// request's body, which Pipedrive accepts but advises against; by
	// default they are refused, so that a client that sends them is caught.
	AllowBodyCredentials bool
	// CodeTTL, AccessTokenTTL and ExtensionTokenTTL override the constants
	// of the same names.
	CodeTTL           time.Duration
	AccessTokenTTL    time.Duration
	ExtensionTokenTTL time.Duration
	// Now is Pipedrive's clock (codes, tokens, extension tokens, the burst
	// window and the day of the token budget); nil means time.Now.
	Now func() time.Time
	// NoBurst turns the 2-second burst limit off (its headers are still
	// sent), for a test that sends many requests on a frozen clock;
	// NoDailyBudget turns the daily token budget off (tokens are still
	// counted).
	NoBurst       bool
	NoDailyBudget bool
	// BudgetZone is the time zone whose midnight resets the daily token
	// budget ("the server's timezone", which the documentation does not
	// name); nil means UTC.
	BudgetZone *time.Location
	// LockValueWithProducts makes a deal's value follow its products only:
	// while a deal has products, an update of its value is ignored (its
	// answer shows the value kept). The default accepts the value and lets
	// the next change of the deal's products compute it again.
	LockValueWithProducts bool
	// SearchLag is how long an organization or a deal made through the API
	// stays out of its search's results (a search index's delay, which the
	// documentation does not give); 0 finds it at once.
	SearchLag time.Duration
	// Addr is the address to listen on ("127.0.0.1:0" when empty).
	Addr string
}

// Server is a running emulator. Its URL serves as OAuth server and as the
// api_domain of every company.
type Server struct {
	emulator.Base

	opts   Options
	tokens *emulator.Tokens[*user]
	// calls counts the calls of TokenCalls and APICalls.
	calls emulator.Counter

	mu        sync.Mutex
	companies map[int64]*company
	users     map[int64]*user
	loginAs   *user
	deny      bool
	// nextID numbers the products and deal products created, over all
	// companies, as Pipedrive's ids are.
	nextID int64
	// nextFile numbers the files uploaded (files.go).
	nextFile int64
	// limits are the burst windows of the tokens and the 429s answered;
	// tokensSpent the tokens charged to each company, all days together.
	limits      limiter
	tokensSpent map[int64]int
	// afterPage and pages are AfterPage's hook and ListPages' counts.
	afterPage func(path string, page int)
	pages     map[string]int
	// tokensByRoute is the tokens charged per endpoint (TokensByRoute).
	tokensByRoute map[string]int
	// webhooks are the webhooks apps made, by id (webhooks.go).
	webhooks map[int64]*Webhook
}

type company struct {
	Company
	orgs     map[int64]Org
	persons  map[int64]Person
	deals    map[int64]Deal
	stages   map[int64]int64 // stage id → pipeline id
	products map[int64]*Product
	// dealProducts are each deal's attached products, in the order added.
	dealProducts map[int64][]*DealProduct
	// spent is the tokens charged on day.
	spent int
	day   string
	// fields are the deal and organization fields by object, custom the
	// deals' custom field values (fields.go); both made on first use.
	fields map[string][]Field
	custom map[int64]map[string]json.RawMessage
	// files are the files uploaded (files.go).
	files []*File
	// made are when organizations ("org:<id>") and deals ("deal:<id>")
	// were made through the API (create.go).
	made map[string]time.Time
}

type user struct {
	User
	company *company
}

// New starts a Server for a test and closes it when the test ends.
func New(t emulator.T, opts Options) *Server {
	t.Helper()
	return emulator.ForTest(t, func() (*Server, error) { return Start(opts) })
}

// Start starts a Server; Close stops it.
func Start(opts Options) (*Server, error) {
	s := &Server{opts: opts, companies: map[int64]*company{}, users: map[int64]*user{}, tokensSpent: map[int64]int{},
		pages: map[string]int{}, tokensByRoute: map[string]int{}, webhooks: map[int64]*Webhook{}}
	s.opts.CodeTTL = cmp.Or(s.opts.CodeTTL, CodeTTL)
	s.opts.AccessTokenTTL = cmp.Or(s.opts.AccessTokenTTL, AccessTokenTTL)
	s.opts.ExtensionTokenTTL = cmp.Or(s.opts.ExtensionTokenTTL, ExtensionTokenTTL)
	if err := s.setup(); err != nil {
		return nil, err
	}
	s.tokens = emulator.NewTokens(emulator.TokenConfig[*user]{
		Now:         s.Now,
		CodeTTL:     s.opts.CodeTTL,
		AccessTTL:   s.opts.AccessTokenTTL,
		RefreshIdle: RefreshTokenIdle,
		Account:     func(u *user) string { return strconv.FormatInt(u.company.ID, 10) },
		// The documented example is "123.456.2d73391055ca60cbf07f13aaaaf1207cfe33a4b605";
		// reading its first two parts as company and user ids is assumed.
		NewCode: func(u *user) string { return fmt.Sprintf("%d.%d.%s", u.company.ID, u.ID, emulator.RandomHex(21)) },
		// The documented access tokens start with "v1u:".
		NewAccess:  func(*user) string { return "v1u:" + emulator.RandomHex(48) },
		NewRefresh: func(*user) string { return "pdr:" + emulator.RandomHex(32) },
	})
	err := emulator.Start(&s.Base, emulator.Config{Name: "pdtest", Addr: opts.Addr, Now: opts.Now,
		Tokens: s.tokens, FaultAnswer: faultAnswer}, s.routes())
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) setup() error {
	app := &s.opts.App
	if app.ClientID == "" {
		app.ClientID, app.ClientSecret = DefaultClientID, DefaultClientSecret
	}
	if app.CallbackURL == "" {
		app.CallbackURL = DefaultCallbackURL
	}
	if len(app.Scopes) == 0 {
		app.Scopes = DefaultScopes
	}
	companies := s.opts.Companies
	if len(companies) == 0 {
		companies = []Company{{
			ID: DefaultCompanyID, Name: DefaultCompanyName, Domain: DefaultDomain,
			Users: []User{
				{ID: DefaultAdminID, Name: "Ada Admin", Email: "ada@acme.example", Admin: true},
				{ID: DefaultRepID, Name: "Rex Rep", Email: "rex@acme.example"},
			},
			Orgs: []Org{{ID: DefaultOrgID, Name: "Globex"}},
			Deals: []Deal{
				{ID: DefaultDealID, Title: "Globex - 200 licences", Value: "12000.50", Currency: "EUR", OrgID: DefaultOrgID},
				{ID: DefaultNoOrgDealID, Title: "Walk-in", Value: "99", Currency: "USD"},
			},
		}}
	}
	for _, c := range companies {
		if c.ID <= 0 || s.companies[c.ID] != nil {
			return fmt.Errorf("pdtest: company id %d is not positive or listed twice", c.ID)
		}
		if c.Plan == "" {
			c.Plan = Lite
		}
		if _, ok := plans[c.Plan]; !ok {
			return fmt.Errorf("pdtest: company %d has an unknown plan %q", c.ID, c.Plan)
		}
		if c.Seats == 0 {
			c.Seats = 1
		}
		if len(c.Pipelines) == 0 {
			c.Pipelines = []Pipeline{{ID: DefaultPipelineID, Name: "Pipeline", Stages: []Stage{
				{DefaultStageID, "Qualified"}, {DefaultStageID + 1, "Contact made"}, {DefaultStageID + 2, "Proposal made"},
				{DefaultStageID + 3, "Negotiations started"}, {DefaultStageID + 4, "Closing"}}}}
		}
		stored := &company{Company: c, orgs: map[int64]Org{}, persons: map[int64]Person{}, deals: map[int64]Deal{}, stages: map[int64]int64{},
			products: map[int64]*Product{}, dealProducts: map[int64][]*DealProduct{}}
		s.companies[c.ID] = stored
		for _, o := range c.Orgs {
			stored.orgs[o.ID] = o
		}
		for _, p := range c.Persons {
			stored.persons[p.ID] = p
		}
		for _, p := range c.Pipelines {
			for _, st := range p.Stages {
				stored.stages[st.ID] = p.ID
			}
		}
		for _, d := range c.Deals {
			if err := s.putDeal(stored, d); err != nil {
				return err
			}
		}
		for _, p := range c.Products {
			if err := s.putProduct(stored, p); err != nil {
				return err
			}
		}
		for _, u := range c.Users {
			if u.ID <= 0 || s.users[u.ID] != nil {
				return fmt.Errorf("pdtest: user id %d is not positive or listed twice", u.ID)
			}
			s.users[u.ID] = &user{User: u, company: stored}
		}
	}
	login := s.opts.LoginAs
	if login == 0 {
		if len(companies[0].Users) == 0 {
			return fmt.Errorf("pdtest: company %d has no user to log in as", companies[0].ID)
		}
		login = companies[0].Users[0].ID
	}
	return s.SetLoginUser(login)
}

func checkDeal(d Deal) error {
	if d.ID <= 0 {
		return fmt.Errorf("pdtest: deal id %d is not positive", d.ID)
	}
	if d.Value != "" {
		if _, err := decimal.NewFromString(d.Value); err != nil {
			return fmt.Errorf("pdtest: deal %d value %q is not a decimal", d.ID, d.Value)
		}
	}
	return nil
}

// SetLoginUser changes who is logged in for the next installations.
func (s *Server) SetLoginUser(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return fmt.Errorf("pdtest: no user %d", id)
	}
	s.loginAs = u
	return nil
}

// SetDenyInstall makes the logged-in user click "Cancel" instead of "Allow
// and install" on the next authorizations.
func (s *Server) SetDenyInstall(deny bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deny = deny
}

// PutDeal adds or replaces a deal of a company (its products stay).
func (s *Server) PutDeal(companyID int64, d Deal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.putDeal(s.mustCompany(companyID), d); err != nil {
		panic(err)
	}
}

// putDeal checks d and stores it; its stage defaults to the first of the
// first pipeline.
func (s *Server) putDeal(c *company, d Deal) error {
	if err := checkDeal(d); err != nil {
		return err
	}
	if d.StageID == 0 {
		d.StageID = c.Pipelines[0].Stages[0].ID
	}
	if _, ok := c.stages[d.StageID]; !ok {
		return fmt.Errorf("pdtest: deal %d is in stage %d, which company %d has not", d.ID, d.StageID, c.ID)
	}
	c.deals[d.ID] = d
	return nil
}

// Deal returns a deal of a company as it is now.
func (s *Server) Deal(companyID, id int64) (Deal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.mustCompany(companyID).deals[id]
	return d, ok
}

// PutOrg adds or replaces an organization of a company.
func (s *Server) PutOrg(companyID int64, o Org) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustCompany(companyID).orgs[o.ID] = o
}

// PutPerson adds or replaces a person of a company.
func (s *Server) PutPerson(companyID int64, p Person) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustCompany(companyID).persons[p.ID] = p
}

// DeleteOrg deletes an organization: it is listed and found no more.
func (s *Server) DeleteOrg(companyID, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.mustCompany(companyID).orgs, id)
}

// Uninstall revokes every token of a company's installations, as the app's
// uninstallation does: API calls answer 401 and refreshes invalid_grant.
func (s *Server) Uninstall(companyID int64) {
	s.mu.Lock()
	s.mustCompany(companyID)
	s.mu.Unlock()
	s.tokens.RevokeAccount(strconv.FormatInt(companyID, 10))
}

// TokenCalls counts the token requests received with that grant_type,
// answered or refused.
func (s *Server) TokenCalls(grant string) int { return s.calls.Get("token:" + grant) }

// APICalls counts the API requests received on that path
// ("/api/v2/deals/3"), answered or refused.
func (s *Server) APICalls(path string) int { return s.calls.Get("api:" + path) }

func (s *Server) mustCompany(id int64) *company {
	c, ok := s.companies[id]
	if !ok {
		panic(fmt.Sprintf("pdtest: no company %d", id))
	}
	return c
}

// routes lists every endpoint. The token endpoint, whose body carries codes
// and tokens, is marked so that the ledger keeps no body of its.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/authorize", s.authorize)
	mux.HandleFunc("POST /oauth/token", emulator.Credentials(s.token))
	// Token costs are the API reference's "Cost" of each endpoint (see
	// limits.go for where each comes from).
	api := func(pattern string, cost int, h func(http.ResponseWriter, *http.Request, *user)) {
		mux.HandleFunc(pattern, s.api(cost, strings.HasSuffix(pattern, "/search"), h))
	}
	api("GET /api/v1/users/me", costGetV1, s.usersMe)
	api("GET /api/v2/deals/{id}", costGet, s.deal)
	api("PATCH /api/v2/deals/{id}", costUpdate, s.updateDeal)
	api("GET /api/v2/deals/{id}/products", costList, s.listDealProducts)
	api("POST /api/v2/deals/{id}/products", costAdd, s.addDealProduct)
	api("POST /api/v2/deals/{id}/products/bulk", costBulkAdd, s.addDealProducts)
	api("PATCH /api/v2/deals/{id}/products/{attachment}", costUpdate, s.updateDealProduct)
	api("DELETE /api/v2/deals/{id}/products/{attachment}", costDelete, s.deleteDealProduct)
	api("DELETE /api/v2/deals/{id}/products", costBulkDelete, s.deleteDealProducts)
	api("GET /api/v2/organizations/{id}", costGet, s.organization)
	api("POST /api/v2/products", costAdd, s.addProduct)
	api("GET /api/v2/products/{id}", costList, s.product)
	api("GET /api/v2/products/search", costSearch, s.searchProducts)
	api("GET /api/v2/deals", costList, s.listDeals)
	api("GET /api/v2/organizations", costList, s.listOrgs)
	api("GET /api/v2/persons", costList, s.listPersons)
	api("GET /api/v2/products", costList, s.listProducts)
	api("GET /api/v2/dealFields", costList, s.listFields(DealFields, "deals:read", "deals:full"))
	api("GET /api/v2/organizationFields", costList, s.listFields(OrgFields, "contacts:read", "contacts:full"))
	api("GET /api/v2/stages", costStages, s.listStages)
	api("POST /api/v1/dealFields", costAddField, s.addDealField)
	api("POST /api/v1/organizationFields", costAddField, s.addOrgField)
	api("POST /api/v2/organizations", costAdd, s.addOrg)
	api("POST /api/v2/deals", costAdd, s.addDeal)
	api("GET /api/v2/organizations/search", costSearch, s.searchOrgs)
	api("GET /api/v2/deals/search", costSearch, s.searchDeals)
	api("POST /api/v1/files", costAddFile, s.addFile)
	api("GET /api/v1/deals/{id}/files", costListDealFiles, s.listDealFiles)
	api("POST /v1/webhooks", costWebhookAdd, s.addWebhook)
	api("GET /v1/webhooks", costListV1, s.listWebhooks)
	api("DELETE /v1/webhooks/{id}", costDeleteV1, s.deleteWebhook)
	return mux
}

// faultAnswer answers an injected error status in the documented error
// envelope; the message, the status's name, is assumed.
func faultAnswer(w http.ResponseWriter, status int) { apiError(w, status, http.StatusText(status)) }
