// Package testcrm is a fourth CRM that exists only in tests: a small,
// invented CRM whose adapter is written against crm.Adapter and nothing
// else, with its own emulator (tctest). A test registers it beside the
// three real CRMs and runs the card and the console through it, which
// proves that the house takes a new CRM without a change anywhere else:
// no switch on a provider, no route of its own, no table to extend
// (docs/adding-a-crm.md follows what this package had to write).
//
// Its CRM, as the emulator plays it:
//
//   - An OAuth app: the browser authorises at {base}/oauth/authorize, this
//     server trades codes and refresh tokens at {base}/oauth/token (client
//     credentials in HTTP Basic, refresh tokens rotated) and revokes at
//     {base}/oauth/revoke. The token answer names the account's instance
//     URL, where its API and its web pages are.
//   - An API on the instance: GET /api/me (the token's account and user),
//     GET /api/deals/{id} (a deal, with its company and currency).
//   - A card on each deal page of the instance, which fetches its data
//     with a signed GET to crm.CardPath (verify.go).
//
// Nothing in cmd/qwoty imports this package: `go list -deps ./cmd/qwoty`
// does not list it.
package testcrm

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Provider is the test CRM's name: a URL segment (/api/crm/testcrm/card,
// /embed/testcrm/card, /oauth/testcrm/callback) and the connections'
// provider column.
const Provider qwoty.Provider = "testcrm"

// Its limits.
const (
	// DefaultTimeout bounds each call to the CRM.
	DefaultTimeout = 5 * time.Second
	// FetchTimeout bounds the answer to the card's fetch; the card gives it
	// 10 s.
	FetchTimeout = 8 * time.Second
	// RefreshMargin: a token is refreshed a minute before it dies.
	RefreshMargin = time.Minute
)

// Options are what the adapter is built from: the app's settings.
type Options struct {
	// ClientID and ClientSecret are the app's ("" when not configured). The
	// secret also keys the card's signatures.
	ClientID     string
	ClientSecret string
	// RedirectURL is APP_URL followed by crm.CallbackPath(Provider).
	RedirectURL string
	// BaseURL is the CRM's login host (authorize, token, revoke): the
	// emulator's URL.
	BaseURL string
	// HTTP makes every call (nil: http.DefaultClient).
	HTTP *http.Client
	// Now dates token expiries (nil: time.Now).
	Now func() time.Time
	// SyncCalls is the sync budget, calls per second (0: SyncCalls).
	SyncCalls int
}

// Adapter is the test CRM as the card, the console and sync see it.
type Adapter struct {
	o Options
}

var (
	_ crm.Adapter     = (*Adapter)(nil)
	_ crm.CardFetcher = (*Adapter)(nil)
)

// Name is how people write the CRM's name; errors and pages outside this
// package read it through qwoty.Provider.Title.
const Name = "TestCRM"

func init() { qwoty.NameProvider(Provider, Name) }

// NewAdapter builds the adapter.
func NewAdapter(o Options) *Adapter { return &Adapter{o: o} }

func (a *Adapter) configured() bool { return a.o.ClientID != "" && a.o.ClientSecret != "" }

// Info describes the CRM for the console.
func (a *Adapter) Info() crm.Info {
	in := crm.Info{Provider: Provider, Name: Name, Account: "account", Configured: a.configured(), RefreshMargin: RefreshMargin}
	if !in.Configured {
		in.Missing = "the test CRM's client id and secret"
	}
	return in
}

// FetchTimeout bounds the answer to the card's signed fetch.
func (a *Adapter) FetchTimeout() time.Duration { return FetchTimeout }

// FrameOrigins is the origin of the connection's instance, whose deal pages
// frame the card; none when the connection has no instance URL, or one
// whose host is not a plain host name or address: a CSP source such as
// https://*.example would let any of its hosts frame the card.
func (a *Adapter) FrameOrigins(c *qwoty.Connection) []string {
	u, err := url.Parse(c.InstanceURL)
	if err != nil || crm.CheckScheme(u, "TestCRM") != nil ||
		!(hostName.MatchString(u.Hostname()) || net.ParseIP(u.Hostname()) != nil) {
		return nil
	}
	return []string{u.Scheme + "://" + u.Host}
}

// hostName is a DNS name in lower case.
var hostName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

// OAuth is the app's flow, nil when not configured.
func (a *Adapter) OAuth() crm.OAuth {
	if !a.configured() {
		return nil
	}
	return oauthFlow{a}
}

// LookupRecord reads the deal the card is on (the card sends its id only):
// its name, currency and company.
func (a *Adapter) LookupRecord(ctx context.Context, s crm.Session, rec crm.Record) (crm.Record, error) {
	var d deal
	err := s.Call(ctx, func(ctx context.Context, token string) error {
		return a.api(ctx, s.Connection().InstanceURL, token, "/api/deals/"+url.PathEscape(rec.ID), &d)
	})
	if err != nil {
		return rec, err
	}
	rec.Name, rec.Currency, rec.AccountID, rec.AccountName = d.Name, d.Currency, d.Company.ID, d.Company.Name
	return rec, nil
}

// Configure does nothing: the account holds no settings of ours.
func (a *Adapter) Configure(context.Context, crm.Session, []byte, string) error { return nil }

// Unconfigure does nothing, as Configure.
func (a *Adapter) Unconfigure(context.Context, crm.Session) error { return nil }

// Test asks the CRM whose the connection's token is (refreshed if it died)
// and checks that it acts in the connected account (crm.TestAccount).
func (a *Adapter) Test(ctx context.Context, s crm.Session, _ string) *crm.TestReport {
	instance := s.Connection().InstanceURL
	whoami := func(ctx context.Context, token string) (string, string, error) {
		var m me
		err := a.api(ctx, instance, token, "/api/me", &m)
		return m.Account.ID, "account " + m.Account.ID, err
	}
	return crm.TestAccount(ctx, s, a.Info(), whoami, func(err error) crm.Problem { return crm.ExplainCall(a.Info(), instance, err) })
}

// me is GET /api/me: the token's account and user.
type me struct {
	Account struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"account"`
	User struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	} `json:"user"`
}

// deal is GET /api/deals/{id}.
type deal struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Currency string `json:"currency"`
	Company  struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"company"`
}

// api GETs path on the account's instance with token into out. A 401
// matches crm.ErrUnauthorized (the session refreshes and calls again).
func (a *Adapter) api(ctx context.Context, instanceURL, token, path string, out any) error {
	return crm.Call(ctx, crm.Request{Provider: Provider, Method: http.MethodGet, Base: instanceURL, Path: path,
		Token: token, Timeout: DefaultTimeout, HTTP: a.o.HTTP, Refused: apiErrors.Answer}, out)
}

// apiErrors reads the API's refusals: {"error": {"code", "message"}}.
var apiErrors = crm.APIErrors{Provider: Provider, Read: func(e *crm.APIError, body []byte) {
	var v struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &v) == nil {
		e.Code, e.Message = v.Error.Code, v.Error.Message
	}
}}
