package salesforce_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/qwoty"
)

const secret = "s3cr3t-0123456789_abcdefghijklmnopqrstuvwxyz" // 43 characters, as the server makes them

func clientFor(tok *salesforce.Token) *salesforce.Client {
	return &salesforce.Client{InstanceURL: tok.InstanceURL, AccessToken: tok.AccessToken}
}

func TestConfigWriteReadClear(t *testing.T) {
	srv := sftest.New(t, sftest.Options{})
	c := clientFor(connect(t, srv, newApp()))
	ctx := context.Background()

	st, err := c.GetConfig(ctx)
	if err != nil {
		t.Fatalf("GetConfig: %v", err)
	}
	if *st != (salesforce.ConfigState{OrgID: sftest.DefaultOrgID}) {
		t.Errorf("GetConfig on a new org = %+v, want nothing configured", *st)
	}

	st, err = c.PutConfig(ctx, secret, "https://quotes.example.com")
	if err != nil {
		t.Fatalf("PutConfig: %v", err)
	}
	want := salesforce.ConfigState{OrgID: sftest.DefaultOrgID, Configured: true, AppURL: "https://quotes.example.com", SecretSet: true}
	if *st != want {
		t.Errorf("PutConfig = %+v, want %+v", *st, want)
	}
	if rec := srv.Config(sftest.DefaultOrgID); rec.Secret != secret || rec.AppURL != "https://quotes.example.com" {
		t.Errorf("the org stored %+v", rec)
	}

	st, err = c.DeleteConfig(ctx)
	if err != nil {
		t.Fatalf("DeleteConfig: %v", err)
	}
	want.SecretSet = false
	if *st != want {
		t.Errorf("DeleteConfig = %+v, want %+v (app URL kept, secret cleared)", *st, want)
	}
	if rec := srv.Config(sftest.DefaultOrgID); rec.Secret != "" || !rec.Configured {
		t.Errorf("after DeleteConfig the org stored %+v", rec)
	}
}

func TestPutConfigRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("not an admin", func(t *testing.T) {
		srv := sftest.New(t, sftest.Options{LoginAs: sftest.DefaultRepID})
		_, err := clientFor(connect(t, srv, newApp())).PutConfig(ctx, secret, "https://quotes.example.com")
		var ae *crm.APIError
		if !errors.Is(err, crm.ErrForbidden) || !errors.As(err, &ae) ||
			ae.Status != 403 || ae.Code != "INSUFFICIENT_ACCESS" || ae.Source != salesforce.PackageSource || !strings.Contains(ae.Message, "rep@acme.example") {
			t.Errorf("PutConfig as a rep: %v, want the package's 403 INSUFFICIENT_ACCESS naming the user", err)
		}
		if rec := srv.Config(sftest.DefaultOrgID); rec.Configured {
			t.Errorf("a refused PutConfig wrote %+v", rec)
		}
	})
	t.Run("no access to the class", func(t *testing.T) {
		srv := sftest.New(t, sftest.Options{Orgs: []sftest.Org{{ID: sftest.DefaultOrgID, MyDomain: "acme",
			Users: []sftest.User{{ID: sftest.DefaultAdminID, Username: "admin@acme.example", Admin: true, NoClassAccess: true}}}}})
		_, err := clientFor(connect(t, srv, newApp())).PutConfig(ctx, secret, "https://quotes.example.com")
		var ae *crm.APIError
		if !errors.Is(err, crm.ErrForbidden) || !errors.As(err, &ae) || ae.Source != "" {
			t.Errorf("PutConfig without class access: %v, want Salesforce's own 403", err)
		}
	})
	t.Run("package missing", func(t *testing.T) {
		srv := sftest.New(t, sftest.Options{})
		c := clientFor(connect(t, srv, newApp()))
		srv.SetPackageInstalled(sftest.DefaultOrgID, false)
		_, err := c.PutConfig(ctx, secret, "https://quotes.example.com")
		var ae *crm.APIError
		if !errors.Is(err, salesforce.ErrPackageNotInstalled) || !errors.As(err, &ae) || ae.Code != "NOT_FOUND" ||
			!strings.Contains(ae.Message, "Could not find a match for URL") {
			t.Errorf("PutConfig without the package: %v, want 404 NOT_FOUND", err)
		}
		if errors.Is(err, crm.ErrUnauthorized) || errors.Is(err, crm.ErrForbidden) {
			t.Errorf("a 404 also matched another sentinel: %v", err)
		}
	})
	t.Run("expired token, then refresh and retry", func(t *testing.T) {
		srv := sftest.New(t, sftest.Options{})
		app := newApp()
		tok := connect(t, srv, app)
		srv.ExpireAccessTokens()
		_, err := clientFor(tok).PutConfig(ctx, secret, "https://quotes.example.com")
		var ae *crm.APIError
		if !errors.Is(err, crm.ErrUnauthorized) || !errors.As(err, &ae) || ae.Code != "INVALID_SESSION_ID" || ae.Source != "" {
			t.Fatalf("PutConfig with an expired token: %v, want 401 INVALID_SESSION_ID", err)
		}
		tok, err = app.Refresh(ctx, srv.URL, tok.RefreshToken)
		if err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		if _, err := clientFor(tok).PutConfig(ctx, secret, "https://quotes.example.com"); err != nil {
			t.Errorf("PutConfig after refresh: %v", err)
		}
	})
	t.Run("app URL with a path", func(t *testing.T) {
		srv := sftest.New(t, sftest.Options{})
		_, err := clientFor(connect(t, srv, newApp())).PutConfig(ctx, secret, "https://quotes.example.com/")
		var ae *crm.APIError
		if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "BAD_REQUEST" || ae.Field != "appUrl" || ae.Hint == "" {
			t.Fatalf("PutConfig with a trailing slash: %v, want 400 BAD_REQUEST on appUrl", err)
		}
		for _, s := range []error{crm.ErrUnauthorized, salesforce.ErrPackageNotInstalled, crm.ErrForbidden} {
			if errors.Is(err, s) {
				t.Errorf("a BAD_REQUEST matched %v", s)
			}
		}
	})
}

// qwotyPing is a tiny /api/crm/ping that verifies v1 signatures with the
// server's own verifier, answering as the contract says.
type qwotyPing struct {
	mu     sync.Mutex
	conns  map[string]*qwoty.Connection
	nonces map[string]bool
	// override, when set, answers instead (a proxy, a broken server).
	override http.HandlerFunc
}

func (p *qwotyPing) ConnectionByExternalID(_ context.Context, _ qwoty.Provider, id string) (*qwoty.Connection, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.conns[id]; ok {
		return c, nil
	}
	return nil, qwoty.ErrNotFound
}

func (p *qwotyPing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.override != nil {
		p.override(w, r)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/api/crm/ping" {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, salesforce.MaxBodyBytes))
	conn, h, err := salesforce.Authenticate(r.Context(), p,
		crm.SignedRequest{Method: r.Method, Path: r.URL.Path, Header: r.Header, Body: body}, time.Now())
	if err == nil {
		p.mu.Lock()
		if p.nonces[h.OrgID+h.Nonce] {
			err = qwoty.Errorf(qwoty.CodeReplayedRequest, "", "nonce already used")
		}
		p.nonces[h.OrgID+h.Nonce] = true
		p.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		e := qwoty.AsError(err)
		status := map[qwoty.Code]int{
			qwoty.CodeBadRequest: 400, qwoty.CodeSignatureMissing: 401, qwoty.CodeSignatureInvalid: 401,
			qwoty.CodeTimestampOutOfRange: 401, qwoty.CodeReplayedRequest: 409, qwoty.CodeOrgNotConnected: 404,
			qwoty.CodeOrgDisconnected: 403,
		}[e.Code]
		if status == 0 {
			status = 500
		}
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{
			"code": string(e.Code), "message": e.Message, "hint": e.Hint, "requestId": "req-err"}})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "orgId": conn.ExternalID, "requestId": "req-ok"})
}

func TestPing(t *testing.T) {
	type step struct {
		ok   bool
		code string
	}
	cases := []struct {
		name string
		// setup prepares the org (through the client) and the Qwoty server.
		setup     func(t *testing.T, c *salesforce.Client, p *qwotyPing, appURL string)
		clock     time.Duration // Salesforce's clock offset
		status    int
		requestID string
		steps     [3]step
	}{
		{
			name:  "not configured",
			setup: func(*testing.T, *salesforce.Client, *qwotyPing, string) {},
			steps: [3]step{{false, "CONFIG_NOT_FOUND"}, {false, "SKIPPED"}, {false, "SKIPPED"}},
		},
		{
			name: "signature accepted",
			setup: func(t *testing.T, c *salesforce.Client, p *qwotyPing, appURL string) {
				p.conns[sftest.DefaultOrgID] = &qwoty.Connection{ExternalID: sftest.DefaultOrgID, Status: qwoty.ConnectionActive, Secret: []byte(secret)}
				mustPut(t, c, secret, appURL)
			},
			status: 200, requestID: "req-ok",
			steps: [3]step{{true, ""}, {true, ""}, {true, ""}},
		},
		{
			name: "stale secret in the org",
			setup: func(t *testing.T, c *salesforce.Client, p *qwotyPing, appURL string) {
				p.conns[sftest.DefaultOrgID] = &qwoty.Connection{ExternalID: sftest.DefaultOrgID, Status: qwoty.ConnectionActive, Secret: []byte("the-server-has-another-secret-0123456789")}
				mustPut(t, c, secret, appURL)
			},
			status: 401, requestID: "req-err",
			steps: [3]step{{true, ""}, {true, ""}, {false, "signature_invalid"}},
		},
		{
			name: "org not connected",
			setup: func(t *testing.T, c *salesforce.Client, p *qwotyPing, appURL string) {
				mustPut(t, c, secret, appURL)
			},
			status: 404, requestID: "req-err",
			steps: [3]step{{true, ""}, {true, ""}, {false, "org_not_connected"}},
		},
		{
			name: "Salesforce's clock is off",
			setup: func(t *testing.T, c *salesforce.Client, p *qwotyPing, appURL string) {
				p.conns[sftest.DefaultOrgID] = &qwoty.Connection{ExternalID: sftest.DefaultOrgID, Status: qwoty.ConnectionActive, Secret: []byte(secret)}
				mustPut(t, c, secret, appURL)
			},
			clock:  -10 * time.Minute,
			status: 401, requestID: "req-err",
			steps: [3]step{{true, ""}, {true, ""}, {false, "timestamp_out_of_range"}},
		},
		{
			name: "a proxy answers",
			setup: func(t *testing.T, c *salesforce.Client, p *qwotyPing, appURL string) {
				p.override = func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "<html>Bad gateway</html>", 502) }
				mustPut(t, c, secret, appURL)
			},
			status: 502,
			steps:  [3]step{{true, ""}, {true, ""}, {false, "HTTP_502"}},
		},
		{
			name: "the server verified another org",
			setup: func(t *testing.T, c *salesforce.Client, p *qwotyPing, appURL string) {
				p.override = func(w http.ResponseWriter, _ *http.Request) {
					w.Write([]byte(`{"ok":true,"orgId":"00D000000000001AAA"}`))
				}
				mustPut(t, c, secret, appURL)
			},
			status: 200,
			steps:  [3]step{{true, ""}, {true, ""}, {false, "INVALID_RESPONSE"}},
		},
		{
			name: "nobody listens",
			setup: func(t *testing.T, c *salesforce.Client, p *qwotyPing, _ string) {
				mustPut(t, c, secret, closedURL(t))
			},
			steps: [3]step{{true, ""}, {false, "CALLOUT_FAILED"}, {false, "SKIPPED"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &qwotyPing{conns: map[string]*qwoty.Connection{}, nonces: map[string]bool{}}
			qs := httptest.NewServer(p)
			t.Cleanup(qs.Close)
			srv := sftest.New(t, sftest.Options{Now: func() time.Time { return time.Now().Add(tc.clock) }})
			c := clientFor(connect(t, srv, newApp()))
			tc.setup(t, c, p, qs.URL)

			r, err := c.Ping(context.Background())
			if err != nil {
				t.Fatalf("Ping: %v", err)
			}
			wantOK := tc.steps[0].ok && tc.steps[1].ok && tc.steps[2].ok
			if r.OK != wantOK || r.OrgID != sftest.DefaultOrgID || r.Scheme != "v1" || r.Status != tc.status || r.RequestID != tc.requestID {
				t.Errorf("report = ok %v org %s scheme %s status %d request %q; want ok %v org %s v1 status %d request %q",
					r.OK, r.OrgID, r.Scheme, r.Status, r.RequestID, wantOK, sftest.DefaultOrgID, tc.status, tc.requestID)
			}
			if len(r.Steps) != 3 {
				t.Fatalf("report has %d steps, want 3: %+v", len(r.Steps), r.Steps)
			}
			for i, name := range []string{"config", "callout", "signature"} {
				got := r.Steps[i]
				if got.Name != name || got.OK != tc.steps[i].ok || got.Code != tc.steps[i].code || got.Message == "" {
					t.Errorf("step %d = %+v, want %s ok=%v code=%q with a message", i, got, name, tc.steps[i].ok, tc.steps[i].code)
				}
			}
			if s := r.Step("signature"); s == nil || s != &r.Steps[2] {
				t.Errorf("Step(\"signature\") = %v, want the third step", s)
			}
		})
	}
}

// Each ping is a fresh signed request: the Qwoty server's replay check lets
// a second one through.
func TestPingTwiceUsesFreshNonces(t *testing.T) {
	p := &qwotyPing{conns: map[string]*qwoty.Connection{}, nonces: map[string]bool{}}
	qs := httptest.NewServer(p)
	defer qs.Close()
	p.conns[sftest.DefaultOrgID] = &qwoty.Connection{ExternalID: sftest.DefaultOrgID, Status: qwoty.ConnectionActive, Secret: []byte(secret)}
	srv := sftest.New(t, sftest.Options{})
	c := clientFor(connect(t, srv, newApp()))
	mustPut(t, c, secret, qs.URL)
	for i := range 2 {
		r, err := c.Ping(context.Background())
		if err != nil || !r.OK {
			t.Fatalf("ping %d: %+v, %v", i, r, err)
		}
	}
	if len(p.nonces) != 2 {
		t.Errorf("the server saw %d distinct nonces, want 2", len(p.nonces))
	}
}

func TestPingErrors(t *testing.T) {
	srv := sftest.New(t, sftest.Options{})
	tok := connect(t, srv, newApp())
	srv.ExpireAccessTokens()
	if _, err := clientFor(tok).Ping(context.Background()); !errors.Is(err, crm.ErrUnauthorized) {
		t.Errorf("Ping with an expired token: %v, want ErrUnauthorized", err)
	}
}

func mustPut(t *testing.T, c *salesforce.Client, secret, appURL string) {
	t.Helper()
	if _, err := c.PutConfig(context.Background(), secret, appURL); err != nil {
		t.Fatalf("PutConfig(%s): %v", appURL, err)
	}
}

// closedURL is the URL of a local port nobody listens on.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}
