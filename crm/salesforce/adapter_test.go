package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

func TestAdapterInfo(t *testing.T) {
	off := NewAdapter(Options{}).Info()
	if off.Configured || off.Missing != "SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET" || off.Install != nil || !off.Rotates || off.Account != "org" {
		t.Fatalf("unconfigured: %+v", off)
	}
	if NewAdapter(Options{}).OAuth() != nil {
		t.Fatal("an unconfigured adapter has an OAuth flow")
	}
	on := NewAdapter(Options{ClientID: "id", ClientSecret: "secret", PackageVersionID: "04t000000000001AAA"}).Info()
	want := []crm.Link{
		{Name: "production", Label: "Install on a production org", URL: "https://login.salesforce.com/packaging/installPackage.apexp?p0=04t000000000001AAA"},
		{Name: "sandbox", Label: "Install on a sandbox", URL: "https://test.salesforce.com/packaging/installPackage.apexp?p0=04t000000000001AAA"},
	}
	if !on.Configured || on.Missing != "" || !slices.Equal(on.Install, want) {
		t.Fatalf("configured: %+v", on)
	}
	// The console's connect form is the guide's sign-in fields; each choice
	// it offers is one Begin reads.
	if on.Guide.Package == "" || len(on.Guide.SignIn) == 0 {
		t.Fatalf("the console has no install page or sign-in choice for Salesforce: %+v", on.Guide)
	}
	o := NewAdapter(Options{ClientID: "id", ClientSecret: "secret"}).OAuth()
	for _, f := range on.Guide.SignIn {
		if f.Value == "" {
			continue
		}
		form := url.Values{f.Name: {f.Value}}
		for _, g := range on.Guide.SignIn {
			if g.Value == "" {
				form.Set(g.Name, "acme.my.salesforce.com")
			}
		}
		if b, err := o.Begin(form); err != nil || b.LoginURL == "" {
			t.Errorf("the form's choice %s=%s: Begin %+v, %v", f.Name, f.Value, b, err)
		}
	}
}

// The connect form's choice gives the login host exactly as the console
// always chose it: a real login URL serves production, sandboxes go to
// test.salesforce.com, a My Domain to its own host; an emulator's URL
// serves every kind of org.
func TestBeginMapsTheConnectForm(t *testing.T) {
	form := func(env, myDomain string) url.Values { return url.Values{"env": {env}, "my_domain": {myDomain}} }
	real := NewAdapter(Options{ClientID: "id", ClientSecret: "s"}).OAuth()
	emu := NewAdapter(Options{ClientID: "id", ClientSecret: "s", LoginURL: "http://127.0.0.1:9999"}).OAuth()
	cases := []struct {
		o    crm.OAuth
		form url.Values
		want string
	}{
		{real, form("", ""), ProductionLoginURL},
		{real, form("production", ""), ProductionLoginURL},
		{real, form("sandbox", ""), SandboxLoginURL},
		{real, form("mydomain", "acme.my.salesforce.com"), "https://acme.my.salesforce.com"},
		{real, form("mydomain", "acme--uat.sandbox.my.salesforce.com"), "https://acme--uat.sandbox.my.salesforce.com"},
		{emu, form("sandbox", ""), "http://127.0.0.1:9999"},
		{emu, form("production", ""), "http://127.0.0.1:9999"},
	}
	for _, c := range cases {
		b, err := c.o.Begin(c.form)
		if err != nil || b.LoginURL != c.want || len(b.Verifier) < 43 {
			t.Errorf("%v: %+v, %v; want %s with a PKCE verifier", c.form, b, err, c.want)
		}
	}
	for _, bad := range []url.Values{form("mydomain", "not a domain!"), form("staging", "")} {
		if _, err := real.Begin(bad); qwoty.ErrorCode(err) != qwoty.CodeValidation {
			t.Errorf("%v: %v; want validation_failed", bad, err)
		}
	}
	b, _ := real.Begin(form("", ""))
	to, err := real.AuthURL(b, "st")
	if u, _ := url.Parse(to); err != nil || u.Host != "login.salesforce.com" || u.Query().Get("state") != "st" || u.Query().Get("code_challenge") == "" {
		t.Fatalf("AuthURL = %s, %v", to, err)
	}
	if got := emu.FormHosts(); !slices.Equal(got, []string{ProductionLoginURL, SandboxLoginURL, "https://*.my.salesforce.com", "http://127.0.0.1:9999"}) {
		t.Fatalf("FormHosts = %v", got)
	}
	if got := real.FormHosts(); len(got) != 3 {
		t.Fatalf("FormHosts of production = %v: the login host is listed once", got)
	}
}

func TestCallbackErrorOfAMissingPackage(t *testing.T) {
	o := NewAdapter(Options{ClientID: "id", ClientSecret: "s"}).OAuth()
	err := o.CallbackError(url.Values{"error": {"OAUTH_EC_APP_NOT_FOUND"}})
	if qwoty.ErrorCode(err) != qwoty.CodePackageNotInstalled || !errors.Is(err, ErrAppNotInstalled) {
		t.Fatalf("app not found: %v; want package_not_installed", err)
	}
	if err := o.CallbackError(url.Values{"error": {"access_denied"}}); !errors.Is(err, crm.ErrAccessDenied) || qwoty.ErrorCode(err) != qwoty.CodeInternal {
		t.Fatalf("access denied: %v", err)
	}
	if err := o.CallbackError(url.Values{"code": {"c"}}); err != nil {
		t.Fatalf("a code: %v", err)
	}
}

// A failure is explained in the same words the console has always used,
// with its typed code.
func TestExplain(t *testing.T) {
	a := NewAdapter(Options{})
	answer := func(status int, body string) error { return apiErrors.Answer(status, http.Header{}, []byte(body)) }
	const inst = "https://acme.my.salesforce.com"
	cases := []struct {
		err     error
		code    qwoty.Code
		message string
	}{
		{answer(404, `[{"errorCode":"NOT_FOUND","message":"Could not find a match for URL"}]`), qwoty.CodePackageNotInstalled, "Salesforce answered, but the Qwoty package is not installed in this org."},
		{answer(403, `{"ok":false,"code":"INSUFFICIENT_ACCESS","message":"admins only"}`), qwoty.CodeInsufficientAccess, "Salesforce answered, but the Salesforce user who connected may not change Qwoty's settings."},
		{qwoty.Errorf(qwoty.CodeRefreshRejected, "", "refused"), qwoty.CodeRefreshRejected, "Salesforce no longer accepts Qwoty's access to this org: it was revoked, expired, or the org was refreshed."},
		{qwoty.Errorf(qwoty.CodeNoOAuthToken, "", "none"), qwoty.CodeNoOAuthToken, "This connection was made with the command line (qwoty connection add), so the console holds no access to the org to test it."},
		{fmt.Errorf("put: %w", &net.DNSError{Err: "no such host", Name: "acme.my.salesforce.com", IsNotFound: true}), qwoty.CodeCRMUnreachable, "Qwoty could not reach your org: the address acme.my.salesforce.com was not found."},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}, qwoty.CodeCRMUnreachable, "Qwoty could not reach your org at acme.my.salesforce.com: no answer in time."},
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, qwoty.CodeCRMUnreachable, "Qwoty could not reach your org at acme.my.salesforce.com: the connection failed."},
		{answer(503, `[{"errorCode":"SERVER_UNAVAILABLE","message":"maintenance"}]`), qwoty.CodeCRMError, "Salesforce answered with a server error (HTTP 503)."},
		{answer(400, `{"ok":false,"code":"BAD_REQUEST","message":"appUrl"}`), qwoty.CodeCRMError, "Salesforce refused the request (HTTP 400)."},
		{context.DeadlineExceeded, qwoty.CodeCRMUnreachable, "Qwoty could not reach your org at acme.my.salesforce.com: no answer in time."},
		{errors.New("the answer is not JSON"), qwoty.CodeCRMError, "The call to your org failed before Salesforce gave an answer Qwoty understands."},
	}
	for _, c := range cases {
		p := a.explain(inst, c.err)
		if p.Code != c.code || p.Message != c.message || p.Fix == "" || p.Detail != c.err.Error() {
			t.Errorf("%v: %+v; want %s %q with a fix", c.err, p, c.code, c.message)
		}
	}
	if p := a.explain(inst, &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}); !strings.Contains(p.Fix, "My Domain changed") {
		t.Errorf("DNS fix %q: want the My Domain hint", p.Fix)
	}
}

// A ping's report keeps the org's steps, explains the first failure and
// gives the report its code and the message the connection keeps.
func TestPingReport(t *testing.T) {
	a := NewAdapter(Options{})
	r := a.pingReport(&PingReport{OK: false, RequestID: "req-1", Steps: []PingStep{
		{Name: "config", OK: true, Message: "Qwoty Config has a secret."},
		{Name: "callout", OK: true, Message: "Reached."},
		{Name: "signature", OK: false, Code: string(qwoty.CodeTimestampOutOfRange), Message: "clock"},
	}}, nil, "https://acme.my.salesforce.com", "https://qwoty.example")
	if r.OK || r.RequestID != "req-1" || len(r.Steps) != 4 || !r.Steps[0].OK || r.Code != qwoty.CodeTestFailed ||
		r.Message != "This server reached the org's request but its clock and Salesforce's differ by more than 5 minutes. Set this server's clock right (turn on NTP), then test again." {
		t.Fatalf("report %+v", r)
	}
	ok := a.pingReport(&PingReport{OK: true, Steps: []PingStep{{Name: "config", OK: true}}}, nil, "", "")
	if !ok.OK || ok.Code != "" || ok.Message != "" {
		t.Fatalf("passing report %+v", ok)
	}
	failed := a.pingReport(nil, apiErrors.Answer(404, http.Header{}, []byte(`[{"errorCode":"NOT_FOUND","message":"no"}]`)), "https://acme.my.salesforce.com", "")
	if failed.OK || failed.Code != qwoty.CodePackageNotInstalled || len(failed.Steps) != 4 || failed.Steps[0].OK || !failed.Steps[3].Skipped {
		t.Fatalf("report of a ping that did not run %+v", failed)
	}
}
