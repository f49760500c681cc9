// Package tctest is the emulator of the test CRM (crm/testcrm), built on
// the emulator base (crm/emulator): its OAuth server (authorize, token with
// code and refresh grants, revoke), its API (GET /api/me, GET
// /api/deals/{id}, the sync write of sync.go, the change listings of
// pull.go) and the signed fetch its card sends to our backend
// (SignedCardRequest). Its URL is both the CRM's login host and every
// account's instance, whose origin frames the card.
//
// The base gives it the listener, the token store and its controls
// (ExpireAccessTokens, RevokeAll), the fault hooks and the ledger.
package tctest

import (
	"cmp"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/testcrm"
)

// Defaults used when Options leave them empty.
const (
	DefaultClientID     = "testcrm-client"
	DefaultClientSecret = "testcrm-client-secret"
	DefaultRedirectURL  = "http://localhost:8080/oauth/testcrm/callback"
	DefaultAccountID    = "4711"
	DefaultAccountName  = "Acme Test"
	DefaultUserID       = "u1"
	DefaultUserEmail    = "admin@acme.test"
	DefaultDealID       = "d100"
	DefaultDealName     = "Acme - test deal"
	DefaultCompanyID    = "c200"
	DefaultCompanyName  = "Acme Inc."
)

// Lifetimes of its codes and tokens.
const (
	CodeTTL        = 5 * time.Minute
	AccessTokenTTL = time.Hour
)

// contentType is how the CRM labels its JSON.
const contentType = "application/json"

// Options configure a Server. The zero value gives the default app and one
// account with one user and one deal.
type Options struct {
	ClientID     string
	ClientSecret string
	// RedirectURLs are matched exactly against redirect_uri.
	RedirectURLs []string
	Accounts     []Account
	// Now is the CRM's clock (codes, tokens, card signatures); nil means
	// time.Now.
	Now func() time.Time
	// Addr is the address to listen on ("127.0.0.1:0" when empty).
	Addr string
	// Scope is what tokens are granted, space separated (DefaultScope
	// when empty).
	Scope string
	// AnyDeal makes every deal id exist for sync (empty, in the first
	// account), so that a test pushes as many records as it likes.
	AnyDeal bool
	// RecordClock dates the changes of pulled records (pull.go), to the
	// millisecond; nil means time.Now. It is apart from Now, so that a
	// test moves records' times without expiring tokens.
	RecordClock func() time.Time
	// PageSize caps the listings' pages below their limit (0: MaxPage).
	PageSize int
}

// DefaultScope is what the app is granted: reading and writing deals.
const DefaultScope = "deals:read deals:write"

// Account is a CRM account. The first user of the first account is the one
// logged in to the browser, who authorises. Accounts are fixed once the
// server starts.
type Account struct {
	ID, Name string
	Users    []User
	Deals    []Deal
}

// User is a user of an account.
type User struct{ ID, Email string }

// Deal is a deal record.
type Deal struct {
	ID, Name, Currency     string
	CompanyID, CompanyName string
}

// Server is a running emulator.
type Server struct {
	emulator.Base

	opts   Options
	tokens *emulator.Tokens[grant]
	calls  emulator.Counter
	sync   syncState
	files  fileState
	orders orderState
	// fieldSet is the fields tests changed (fields.go).
	fieldSet fieldState
	pull     pullState
}

// grant is what a code or token stands for: a user of an account.
type grant struct {
	account *Account
	user    User
}

// New starts a Server for a test and closes it when the test ends.
func New(t emulator.T, opts Options) *Server {
	t.Helper()
	return emulator.ForTest(t, func() (*Server, error) { return Start(opts) })
}

// Start starts a Server; Close stops it.
func Start(opts Options) (*Server, error) {
	opts.ClientID = cmp.Or(opts.ClientID, DefaultClientID)
	opts.ClientSecret = cmp.Or(opts.ClientSecret, DefaultClientSecret)
	opts.Scope = cmp.Or(opts.Scope, DefaultScope)
	if len(opts.RedirectURLs) == 0 {
		opts.RedirectURLs = []string{DefaultRedirectURL}
	}
	if len(opts.Accounts) == 0 {
		opts.Accounts = []Account{{ID: DefaultAccountID, Name: DefaultAccountName,
			Users: []User{{ID: DefaultUserID, Email: DefaultUserEmail}},
			Deals: []Deal{{ID: DefaultDealID, Name: DefaultDealName, Currency: "EUR", CompanyID: DefaultCompanyID, CompanyName: DefaultCompanyName}}}}
	}
	seen := map[string]bool{}
	for _, acc := range opts.Accounts {
		if len(acc.Users) == 0 || seen[acc.ID] {
			return nil, fmt.Errorf("tctest: account %q has no user or is listed twice", acc.ID)
		}
		seen[acc.ID] = true
	}
	s := &Server{opts: opts}
	s.tokens = emulator.NewTokens(emulator.TokenConfig[grant]{
		Now: s.Now, CodeTTL: CodeTTL, AccessTTL: AccessTokenTTL,
		Account: func(g grant) string { return g.account.ID },
	})
	if err := emulator.Start(&s.Base, emulator.Config{Name: "tctest", Addr: opts.Addr, Now: opts.Now, Tokens: s.tokens}, s.routes()); err != nil {
		return nil, err
	}
	return s, nil
}

// routes lists every endpoint; the OAuth ones carry credentials, which the
// ledger does not keep.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+testcrm.AuthorizePath, s.authorize)
	mux.HandleFunc("POST "+testcrm.TokenPath, emulator.Credentials(s.token))
	mux.HandleFunc("POST "+testcrm.RevokePath, emulator.Credentials(s.revoke))
	mux.HandleFunc("GET /api/me", s.me)
	mux.HandleFunc("GET /api/deals/{id}", s.deal)
	mux.HandleFunc("GET /api/deals", s.listDeals)
	mux.HandleFunc("POST /api/deals", s.postDeal)
	mux.HandleFunc("GET /api/companies", s.listCompanies)
	mux.HandleFunc("POST /api/companies", s.postCompany)
	mux.HandleFunc("PUT /api/deals/{id}/sync", s.syncDeal)
	mux.HandleFunc("POST /api/deals/{id}/files", s.postFile)
	mux.HandleFunc("GET /api/deals/{id}/files", s.listFiles)
	mux.HandleFunc("POST /api/deals/{id}/orders", s.postOrder)
	mux.HandleFunc("GET /api/deals/{id}/orders", s.listOrders)
	mux.HandleFunc("PATCH /api/orders/{id}", s.patchOrder)
	mux.HandleFunc("GET /api/fields/{object}", s.fields)
	mux.HandleFunc("GET /api/changes/{object}", s.changes)
	mux.HandleFunc("GET /api/batch/{object}", s.batch)
	return mux
}

// TokenCalls counts the token endpoint's calls for a grant type, failed
// ones included.
func (s *Server) TokenCalls(grantType string) int { return s.calls.Get("token:" + grantType) }

// RevokeCalls counts the revocation endpoint's calls.
func (s *Server) RevokeCalls() int { return s.calls.Get("revoke") }

// authorize is GET /oauth/authorize: the browser is logged in as the first
// user of the first account, who approves at once. A wrong client or
// redirect URL is shown on the CRM's page, never sent to the redirect.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	if q.Get("client_id") != s.opts.ClientID || !slices.Contains(s.opts.RedirectURLs, redirect) {
		http.Error(w, "unknown client or redirect_uri", http.StatusBadRequest)
		return
	}
	if q.Get("response_type") != "code" {
		emulator.RedirectError(w, r, redirect, q.Get("state"), "unsupported_response_type", "response_type must be code")
		return
	}
	acc := &s.opts.Accounts[0]
	code := s.tokens.NewCode(grant{account: acc, user: acc.Users[0]}, redirect, "")
	params := url.Values{"code": {code}}
	if st := q.Get("state"); st != "" {
		params.Set("state", st)
	}
	emulator.Redirect(w, r, redirect, params)
}

// token is POST /oauth/token, the client authenticated with HTTP Basic.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		emulator.OAuthError(w, contentType, "invalid_request", "the body is not a form", nil)
		return
	}
	f := r.PostForm
	s.calls.Add("token:" + f.Get("grant_type"))
	if !s.clientOK(w, r) {
		return
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		c, st := s.tokens.Redeem(f.Get("code"))
		if st != emulator.Live || c.RedirectURI != f.Get("redirect_uri") {
			emulator.OAuthError(w, contentType, "invalid_grant", "the code is unknown, used, expired or for another redirect_uri", nil)
			return
		}
		s.issue(w, c.Grant, s.tokens.NewRefresh(c.Grant))
	case "refresh_token":
		old := f.Get("refresh_token")
		g, ok := s.tokens.LookupRefresh(old)
		next, rotated := s.tokens.Rotate(old)
		if !ok || !rotated {
			emulator.OAuthError(w, contentType, "invalid_grant", "the refresh token is unknown, revoked or used", nil)
			return
		}
		s.issue(w, g, next)
	default:
		emulator.OAuthError(w, contentType, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token", nil)
	}
}

// issue answers new tokens, with the instance the account is served from.
func (s *Server) issue(w http.ResponseWriter, g grant, refresh string) {
	a := s.tokens.Issue(g, refresh)
	w.Header().Set("Cache-Control", "no-store")
	emulator.JSON(w, contentType, http.StatusOK, map[string]any{
		"access_token": a.Token, "refresh_token": refresh, "token_type": "Bearer",
		"expires_in": int64(AccessTokenTTL / time.Second), "instance_url": s.URL, "scope": s.opts.Scope,
	})
}

// revoke is POST /oauth/revoke (RFC 7009): the token and what was issued
// with it die; an unknown token is not an error.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		emulator.OAuthError(w, contentType, "invalid_request", "the body is not a form", nil)
		return
	}
	s.calls.Add("revoke")
	if !s.clientOK(w, r) {
		return
	}
	s.tokens.Revoke(r.PostForm.Get("token"))
	w.WriteHeader(http.StatusOK)
}

// clientOK authenticates the client: HTTP Basic, or client_id and
// client_secret in the body (RFC 6749 §2.3.1 allows both, one at a time).
func (s *Server) clientOK(w http.ResponseWriter, r *http.Request) bool {
	id, secret, basic := r.BasicAuth()
	inBody := r.PostForm.Has("client_id") || r.PostForm.Has("client_secret")
	if basic == inBody {
		w.Header().Set("WWW-Authenticate", `Basic realm="testcrm"`)
		emulator.JSON(w, contentType, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "authenticate the client once"})
		return false
	}
	if inBody {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if subtle.ConstantTimeCompare([]byte(id), []byte(s.opts.ClientID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) != 1 {
		emulator.JSON(w, contentType, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "unknown client"})
		return false
	}
	return true
}

// bearer authenticates an API call; false once it has answered 401.
func (s *Server) bearer(w http.ResponseWriter, r *http.Request) (grant, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok {
		if a, st := s.tokens.Authenticate(r, tok); st == emulator.Live {
			return a.Grant, true
		}
	}
	apiError(w, http.StatusUnauthorized, "invalid_token", "the access token is missing, expired or revoked")
	return grant{}, false
}

// me is GET /api/me.
func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	g, ok := s.bearer(w, r)
	if !ok {
		return
	}
	emulator.JSON(w, contentType, http.StatusOK, map[string]any{
		"account": map[string]string{"id": g.account.ID, "name": g.account.Name},
		"user":    map[string]string{"id": g.user.ID, "email": g.user.Email},
	})
}

// deal is GET /api/deals/{id}, in the token's account.
func (s *Server) deal(w http.ResponseWriter, r *http.Request) {
	g, ok := s.bearer(w, r)
	if !ok {
		return
	}
	for _, d := range g.account.Deals {
		if d.ID == r.PathValue("id") {
			emulator.JSON(w, contentType, http.StatusOK, map[string]any{
				"id": d.ID, "name": d.Name, "currency": d.Currency,
				"company": map[string]string{"id": d.CompanyID, "name": d.CompanyName},
			})
			return
		}
	}
	apiError(w, http.StatusNotFound, "not_found", "no such deal")
}

func apiError(w http.ResponseWriter, status int, code, message string) {
	emulator.JSON(w, contentType, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}
