// Package api is Qwoty's public REST API, /api/v1 (docs/api.md): quotes,
// customers and contacts, the catalogue and webhooks, for the systems
// around the CRM, authorised by API keys with scopes.
//
// The API is code-first with huma (its gin adapter): each operation is
// registered once with its Go input and output types, and the OpenAPI 3.1
// document served at /api/v1/openapi.json is generated from those same
// registrations, so the document cannot drift from the code. Tests check
// requests and answers against the served document.
//
// Errors take the project's one path and shape (web.Errors, web.ErrorBody):
// a handler returns a *qwoty.Error (or any error: unclassified is our
// fault, 500), and huma's own input errors become validation_failed or
// bad_request in the same shape.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humagin"
	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/web"
)

// Base is where the API is mounted.
const Base = "/api/v1"

// securityScheme is the OpenAPI name of the API key scheme.
const securityScheme = "apiKey"

// Deps are what the API needs.
type Deps struct {
	DB     *store.DB
	Errors *web.Errors
	Logger *slog.Logger
	Now    func() time.Time
	// Production refuses what development allows (webhook targets on
	// loopback).
	Production bool
	// RateLimit is each key's rate limit (zero: config.DefaultAPIRateLimit).
	RateLimit config.APIRateLimit
}

// API is the mounted API.
type API struct {
	db   *store.DB
	errs *web.Errors
	log  *slog.Logger
	now  func() time.Time
	prod bool
	h    huma.API
}

// ctxErrors carries the error path to huma's error constructor, which has
// only the request's context (see problem).
const ctxErrors = "qwoty.api.errors"

// Mount registers the API's routes on r under Base.
func Mount(r *gin.Engine, d Deps) *API {
	a := &API{db: d.DB, errs: d.Errors, log: d.Logger, now: d.Now, prod: d.Production}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	g := r.Group(Base, func(c *gin.Context) { c.Set(ctxErrors, a.errs) })
	cfg := huma.DefaultConfig("Qwoty API", "1.0.0")
	cfg.OpenAPIPath = "/openapi" // /api/v1/openapi.json
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	cfg.CreateHooks = nil // no $schema fields in answers, no Link headers
	cfg.Servers = []*huma.Server{{URL: Base}}
	cfg.Info.Description = "Quotes, orders, customers, the catalogue and webhooks of one Qwoty workspace's CRM account. See docs/api.md."
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		securityScheme: {Type: "http", Scheme: "bearer", Description: "An API key (qwk_…), created by an admin in the console; " +
			"each operation names the scope it needs."},
	}
	a.h = humagin.NewWithGroup(r, g, cfg)
	a.h.UseMiddleware(a.authenticate)
	a.h.UseMiddleware(a.limitRate(d.RateLimit))
	huma.NewErrorWithContext = problem
	a.register()
	return a
}

// register registers every operation; each area has its file.
func (a *API) register() {
	// The document's error answers are the shape Problem writes (huma
	// takes an operation's error schema from what NewError returns), so
	// that clients, and the tests that check answers against the
	// document, see the shape the API sends.
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		e := qwoty.AsError(inputError(status, msg, errs))
		return &Problem{status: status, ErrorBody: web.ErrorBody{Error: web.ErrorDetail{Code: e.Code, Message: e.Message, Hint: e.Hint}}}
	}
	// Resources (docs/api.md, "Resources"); every write is idempotent
	// with an Idempotency-Key (idempotency.go).
	a.h.UseMiddleware(a.idempotent)
	a.organizationGet()
	a.quoteList()
	a.quoteGet()
	a.quoteCreate()
	a.quoteUpdate()
	a.quoteLines()
	a.quoteStatus()
	a.quoteRevise()
	a.orders()
	a.customers()
	a.contacts()
	a.catalog()
	a.registerWebhooks()
}

// Huma is the underlying huma API (for tests and each area's registration).
func (a *API) Huma() huma.API { return a.h }

// Secured is an operation's security requirement: an API key with scope.
// Every operation but the OpenAPI document has one.
func Secured(scope qwoty.Scope) []map[string][]string {
	return []map[string][]string{{securityScheme: {string(scope)}}}
}

// ctxKey carries the authenticated key in the request's context.
type ctxKey struct{}

// KeyOf returns the API key a request was authenticated with (nil outside
// a secured operation).
func KeyOf(ctx context.Context) *store.APIKey {
	k, _ := ctx.Value(ctxKey{}).(*store.APIKey)
	return k
}

// scopeOf is the scope op requires, "" for an open operation.
func scopeOf(op *huma.Operation) qwoty.Scope {
	for _, req := range op.Security {
		if s := req[securityScheme]; len(s) > 0 {
			return qwoty.Scope(s[0])
		}
	}
	return ""
}

// authenticate checks the key of a secured operation and its scope: the
// key is read from the database on every request (a revocation holds at
// once everywhere); a malformed token costs no query.
func (a *API) authenticate(ctx huma.Context, next func(huma.Context)) {
	scope := scopeOf(ctx.Operation())
	if scope == "" {
		next(ctx)
		return
	}
	auth := ctx.Header("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		a.fail(ctx, qwoty.E(qwoty.CodeAPIKeyInvalid, "no Authorization: Bearer header"))
		return
	}
	k, err := a.db.APIKeyByToken(ctx.Context(), strings.TrimSpace(token))
	if err != nil {
		a.fail(ctx, err)
		return
	}
	if !k.Has(scope) {
		a.fail(ctx, qwoty.E(qwoty.CodeScopeMissing, "this call needs the scope %s; the key has %s", scope, joinScopes(k.Scopes)))
		return
	}
	next(huma.WithValue(ctx, ctxKey{}, k))
}

func joinScopes(s []qwoty.Scope) string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = string(x)
	}
	return strings.Join(out, ", ")
}

// fail answers err from a middleware, in the project's shape.
func (a *API) fail(ctx huma.Context, err error) {
	_ = huma.WriteErr(a.h, ctx, 0, "", err)
}

// Problem is the API's error answer: web.ErrorBody, with its status.
type Problem struct {
	status int
	web.ErrorBody
}

// Error implements error.
func (p *Problem) Error() string {
	return string(p.ErrorBody.Error.Code) + ": " + p.ErrorBody.Error.Message
}

// GetStatus implements huma.StatusError.
func (p *Problem) GetStatus() int { return p.status }

// problem is huma's error constructor (huma.NewErrorWithContext): it
// turns what a handler returned, or huma's own complaint about the input,
// into the project's error through the one error path (web.Errors:
// classified, logged once when it is ours).
func problem(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
	var err error
	for _, e := range errs {
		var qe *qwoty.Error
		if errors.As(e, &qe) || errors.Is(e, qwoty.ErrNotFound) {
			err = e
			break
		}
	}
	if err == nil {
		err = inputError(status, msg, errs)
	}
	c := humagin.Unwrap(ctx)
	x, _ := c.Get(ctxErrors)
	errs0, _ := x.(*web.Errors)
	if errs0 == nil {
		errs0 = web.NewErrors(nil, nil)
	}
	p := errs0.Classify(c, err, "Check the id; list the collection to find it.")
	return &Problem{status: p.Status, ErrorBody: web.ErrorBody{Error: web.ErrorDetail{Code: p.Code, Message: p.Message, Hint: p.Hint, RequestID: p.RequestID}}}
}

// inputError is huma's complaint (status, msg, its details) as our error:
// a 4xx about the request is bad_request or validation_failed, anything
// else is ours.
func inputError(status int, msg string, errs []error) error {
	var parts []string
	field := ""
	for _, e := range errs {
		var d *huma.ErrorDetail
		if errors.As(e, &d) {
			parts = append(parts, strings.TrimSpace(d.Location+" "+d.Message))
			if field == "" {
				field = d.Location
			}
			continue
		}
		if e != nil && status < 500 {
			parts = append(parts, e.Error())
		}
	}
	text := msg
	if len(parts) > 0 {
		text = strings.TrimSuffix(msg, ".") + ": " + strings.Join(parts, "; ")
	}
	switch {
	case status == http.StatusUnprocessableEntity:
		return &qwoty.Error{Code: qwoty.CodeValidation, Field: field, Message: text, Hint: "Check the request against " + Base + "/openapi.json."}
	case status == http.StatusRequestEntityTooLarge:
		return qwoty.E(qwoty.CodePayloadTooLarge, "%s", text)
	case status >= 400 && status < 500:
		return qwoty.Errorf(qwoty.CodeBadRequest, "Check the request against "+Base+"/openapi.json.", "%s", text)
	}
	return errors.Join(append([]error{errors.New(msg)}, errs...)...)
}
