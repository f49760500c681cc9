package testcrm_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/oauthtest"
	"github.com/qwoty/companion/crm/testcrm"
	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/qwoty"
)

// The adapter on its own, against its emulator: the card's signature, the
// OAuth flow, the frame origins. The card and the console run it end to
// end in server/fourth_crm_test.go and console/fourth_crm_test.go.

const appURL = "http://127.0.0.1:9"

// accounts is the card's connection look-up, holding the connections a
// test made.
type accounts map[string]*qwoty.Connection

func (a accounts) ConnectionByExternalID(_ context.Context, p qwoty.Provider, id string) (*qwoty.Connection, error) {
	if c, ok := a[id]; ok && p == c.Provider {
		return c, nil
	}
	return nil, qwoty.ErrNotFound
}

func newAdapter(emu *tctest.Server) *testcrm.Adapter {
	return testcrm.NewAdapter(testcrm.Options{ClientID: tctest.DefaultClientID, ClientSecret: tctest.DefaultClientSecret,
		RedirectURL: tctest.DefaultRedirectURL, BaseURL: emu.URL})
}

// signed is the emulator's card fetch as the server hands it to Verify.
func signed(t *testing.T, r *http.Request) crm.SignedRequest {
	t.Helper()
	return crm.SignedRequest{Method: r.Method, Path: r.URL.Path, URI: r.URL.String(), Query: r.URL.Query(), Header: r.Header}
}

func TestVerify(t *testing.T) {
	emu := tctest.New(t, tctest.Options{})
	a := newAdapter(emu)
	conns := accounts{}
	now := time.Now()
	fetch := func(opts ...tctest.CardOption) crm.SignedRequest {
		return signed(t, emu.SignedCardRequest(appURL, tctest.DefaultAccountID, tctest.DefaultUserID, tctest.DefaultDealID, opts...))
	}
	code := func(err error) qwoty.Code { return qwoty.ErrorCode(err) }

	if _, _, err := a.Verify(ctx, conns, fetch(), now); code(err) != qwoty.CodeOrgNotConnected {
		t.Fatalf("unknown account: %v, want org_not_connected", err)
	}
	conns[tctest.DefaultAccountID] = &qwoty.Connection{ID: "c1", WorkspaceID: "w1", Provider: testcrm.Provider,
		ExternalID: tctest.DefaultAccountID, Status: qwoty.ConnectionActive}
	ec, once, err := a.Verify(ctx, conns, fetch(tctest.WithRequestID("req-1")), now)
	if err != nil {
		t.Fatal(err)
	}
	if once != "req-1" || ec.ConnectionID != "c1" || ec.Record != (crm.Record{Type: "deal", ID: tctest.DefaultDealID}) ||
		ec.User.ID != tctest.DefaultUserID || ec.User.Email != tctest.DefaultUserEmail {
		t.Fatalf("verified %+v, once %q", ec, once)
	}

	if _, _, err := a.Verify(ctx, conns, fetch(tctest.SignedWith("not-the-secret")), now); code(err) != qwoty.CodeSignatureInvalid {
		t.Fatalf("forged: %v, want signature_invalid", err)
	}
	if _, _, err := a.Verify(ctx, conns, fetch(tctest.SignedAt(now.Add(-6*time.Minute))), now); code(err) != qwoty.CodeTimestampOutOfRange {
		t.Fatalf("old: %v, want timestamp_out_of_range", err)
	}
	moved := fetch()
	moved.URI += "&x=1" // the query is under the signature
	if _, _, err := a.Verify(ctx, conns, moved, now); code(err) != qwoty.CodeSignatureInvalid {
		t.Fatalf("moved: %v, want signature_invalid", err)
	}
	bare := fetch()
	bare.Header = bare.Header.Clone()
	bare.Header.Del(testcrm.HeaderSignature)
	if _, _, err := a.Verify(ctx, conns, bare, now); code(err) != qwoty.CodeSignatureMissing {
		t.Fatalf("unsigned: %v, want signature_missing", err)
	}
	if _, _, err := a.Verify(ctx, conns, fetch(tctest.WithRequestID("a b")), now); code(err) != qwoty.CodeBadRequest {
		t.Fatalf("bad request id: %v, want bad_request", err)
	}
	if _, _, err := testcrm.NewAdapter(testcrm.Options{}).Verify(ctx, conns, fetch(), now); code(err) != qwoty.CodeNotConfigured {
		t.Fatalf("unconfigured: %v, want not_configured", err)
	}
}

func TestOAuth(t *testing.T) {
	emu := tctest.New(t, tctest.Options{})
	o := newAdapter(emu).OAuth()
	b, _ := o.Begin(url.Values{})
	to, err := o.AuthURL(b, "state-1")
	if err != nil {
		t.Fatal(err)
	}
	q := oauthtest.Authorize(t, to, tctest.DefaultRedirectURL)
	if err := o.CallbackError(q); err != nil || q.Get("state") != "state-1" {
		t.Fatalf("callback %v: %v", q, err)
	}
	g, err := o.Exchange(ctx, b, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if g.ExternalID != tctest.DefaultAccountID || g.InstanceURL != emu.URL || g.CRMUserID != tctest.DefaultUserEmail || g.RefreshToken == "" {
		t.Fatalf("grant %+v", g)
	}
	if _, err := o.Exchange(ctx, b, q.Get("code")); !errors.Is(err, crm.ErrInvalidGrant) {
		t.Fatalf("a spent code: %v, want ErrInvalidGrant", err)
	}
	next, err := o.Refresh(ctx, "", g.RefreshToken)
	if err != nil || next.RefreshToken == g.RefreshToken || next.ExpiresAt.IsZero() {
		t.Fatalf("refresh: %+v, %v; want a rotated token", next, err)
	}
	if _, err := o.Refresh(ctx, "", g.RefreshToken); !errors.Is(err, crm.ErrInvalidGrant) {
		t.Fatalf("a rotated-out refresh token: %v, want ErrInvalidGrant", err)
	}
	if err := o.Revoke(ctx, "", next.RefreshToken); err != nil || emu.RevokeCalls() != 1 {
		t.Fatalf("revoke: %v (%d calls)", err, emu.RevokeCalls())
	}
	if _, err := o.Refresh(ctx, "", next.RefreshToken); !errors.Is(err, crm.ErrInvalidGrant) {
		t.Fatalf("a revoked refresh token: %v, want ErrInvalidGrant", err)
	}
	if err := o.CallbackError(url.Values{"error": {"access_denied"}}); !errors.Is(err, crm.ErrAccessDenied) {
		t.Fatalf("refused callback: %v", err)
	}
	if got := o.FormHosts(); len(got) != 1 || got[0] != emu.URL {
		t.Fatalf("form hosts %v, want %s", got, emu.URL)
	}
}

func TestFrameOrigins(t *testing.T) {
	a := testcrm.NewAdapter(testcrm.Options{})
	for instance, want := range map[string]string{
		"https://acme.testcrm.example/":  "https://acme.testcrm.example",
		"http://127.0.0.1:4711":          "http://127.0.0.1:4711",
		"http://acme.testcrm.example":    "", // plain http only on loopback
		"":                               "",
		"https://*.testcrm.example/path": "", // not a host
	} {
		got := a.FrameOrigins(&qwoty.Connection{InstanceURL: instance})
		if (want == "" && len(got) != 0) || (want != "" && (len(got) != 1 || got[0] != want)) {
			t.Errorf("FrameOrigins(%q) = %v, want %q", instance, got, want)
		}
	}
	if a.OAuth() != nil || a.Info().Configured || a.Info().Missing == "" {
		t.Fatalf("an adapter without its app: %+v", a.Info())
	}
}

var ctx = context.Background()
