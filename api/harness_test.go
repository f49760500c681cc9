package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
	"github.com/qwoty/companion/web"
)

// env is a mounted API over a fresh database with two workspaces: A with
// two CRM accounts (A1, A2), B with one. Every request a test makes goes
// through do, which checks the request and the answer against the
// OpenAPI document the API serves (kin-openapi), so the document cannot
// drift from the code.
type env struct {
	t      testing.TB
	db     *store.DB
	r      *gin.Engine
	router routers.Router
	doc    *openapi3.T
	a1, a2 *qwoty.Connection
	b      *qwoty.Connection
}

func newEnv(t testing.TB) *env { return newEnvWith(t, config.APIRateLimit{}) }

// newEnvWith is newEnv with keys limited to limit (zero: the default).
func newEnvWith(t testing.TB, limit config.APIRateLimit) *env {
	t.Helper()
	gin.SetMode(gin.TestMode)
	ctx := context.Background()
	db := storetest.New(t)
	e := &env{t: t, db: db}
	var err error
	// A workspace has one active CRM account at a time: A2 is the one A
	// had before (disconnected; its keys and data stay its own).
	if e.a2, err = db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Acme", Provider: qwoty.ProviderPipedrive, ExternalID: "2002"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Disconnect(ctx, e.a2.ID, "admin@acme.example"); err != nil {
		t.Fatal(err)
	}
	if e.a1, err = db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Acme", Provider: qwoty.ProviderHubSpot, ExternalID: "1001"}); err != nil {
		t.Fatal(err)
	}
	if e.b, err = db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Globex", Provider: qwoty.ProviderHubSpot, ExternalID: "3003"}); err != nil {
		t.Fatal(err)
	}
	if e.a1.WorkspaceID != e.a2.WorkspaceID || e.a1.WorkspaceID == e.b.WorkspaceID {
		t.Fatalf("workspaces: a1 %s, a2 %s, b %s", e.a1.WorkspaceID, e.a2.WorkspaceID, e.b.WorkspaceID)
	}
	errs := web.NewErrors(slog.New(slog.DiscardHandler), nil)
	e.r = web.NewEngine(slog.New(slog.DiscardHandler), errs, web.API, nil)
	Mount(e.r, Deps{DB: db, Errors: errs, Logger: slog.New(slog.DiscardHandler), RateLimit: limit})
	e.loadDoc()
	return e
}

// loadDoc reads the served document that every request and answer of
// e.do is checked against.
func (e *env) loadDoc() {
	t := e.t
	t.Helper()
	ctx := context.Background()
	w := httptest.NewRecorder()
	e.r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, Base+"/openapi.json", nil))
	if w.Code != 200 {
		t.Fatalf("openapi.json: %d", w.Code)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(w.Body.Bytes())
	if err != nil {
		t.Fatalf("the served document does not load: %v", err)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("the served document is not valid OpenAPI: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("the served document is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	// Requests are matched against the document's paths under its
	// server, /api/v1.
	doc.Servers = openapi3.Servers{{URL: "http://api.test" + Base}}
	e.doc = doc
	if e.router, err = gorillamux.NewRouter(doc); err != nil {
		t.Fatal(err)
	}
}

// key makes an API key of conn with scopes.
func (e *env) key(conn *qwoty.Connection, scopes ...qwoty.Scope) string {
	e.t.Helper()
	names := make([]string, len(scopes))
	for i, s := range scopes {
		names[i] = string(s)
	}
	tok, _, err := e.db.CreateAPIKey(context.Background(), conn.WorkspaceID, conn.ID, "ERP sync", names, nil, "admin@acme.example")
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// all is a key of conn with every scope.
func (e *env) all(conn *qwoty.Connection) string { return e.key(conn, qwoty.Scopes...) }

// resp is an answer.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *resp) decode(t testing.TB, v any) {
	t.Helper()
	if r.Status >= 400 {
		t.Fatalf("answer %d, want a success: %s", r.Status, r.Body)
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("answer %d is not the JSON expected: %v: %s", r.Status, err, r.Body)
	}
}

// code is the error code of an error answer ("" for none).
func (r *resp) code() qwoty.Code {
	var b web.ErrorBody
	_ = json.Unmarshal(r.Body, &b)
	return b.Error.Code
}

// do sends a request with token (none when ""), body (marshalled unless
// a string or nil) and header pairs, and checks the request and the
// answer against the document: a request the document does not allow is
// only sent when the test says it is meant to be invalid (invalid true).
func (e *env) do(token, method, path string, body any, header ...string) *resp {
	e.t.Helper()
	return e.send(false, token, method, path, body, header...)
}

// doInvalid sends a request the document does not allow (to see it
// refused); only the answer is checked against the document.
func (e *env) doInvalid(token, method, path string, body any, header ...string) *resp {
	e.t.Helper()
	return e.send(true, token, method, path, body, header...)
}

func (e *env) send(invalid bool, token, method, path string, body any, header ...string) *resp {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	mk := func(base string) *http.Request {
		var rd io.Reader
		if raw != nil {
			rd = bytes.NewReader(raw)
		}
		req := httptest.NewRequest(method, base+Base+path, rd)
		if raw != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		return req
	}
	ctx := context.Background()
	// The check is made on a copy addressed as the document's server.
	check := mk("http://api.test")
	route, params, err := e.router.FindRoute(check)
	if err != nil {
		e.t.Fatalf("%s %s: not in the document: %v", method, path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && !invalid {
		e.t.Fatalf("%s %s: the request does not match the document: %v", method, path, err)
	} else if err == nil && invalid {
		e.t.Fatalf("%s %s: the request was meant not to match the document, but it does", method, path)
	}
	w := httptest.NewRecorder()
	e.r.ServeHTTP(w, mk(""))
	out := &resp{Status: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
	rin := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: out.Status, Header: out.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	rin.SetBodyBytes(out.Body)
	if err := openapi3filter.ValidateResponse(ctx, rin); err != nil {
		e.t.Fatalf("%s %s: the answer %d does not match the document: %v\n%s", method, path, out.Status, err, out.Body)
	}
	if out.Status >= 400 && (out.code() == "" || !strings.Contains(string(out.Body), `"hint"`)) {
		e.t.Fatalf("%s %s: error answer %d without a code and a hint: %s", method, path, out.Status, out.Body)
	}
	return out
}
