package sftest_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/qwoty/companion/crm/salesforce/sftest"
)

// submit posts the authorize form as the browser does from the login and
// consent pages, and returns the status, the callback's query (nil when the
// answer is a page) and the body.
func submit(t *testing.T, srv *sftest.Server, form url.Values) (int, url.Values, string) {
	t.Helper()
	resp, err := noFollow.PostForm(srv.URL+"/services/oauth2/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if loc := resp.Header.Get("Location"); loc != "" {
		if !strings.HasPrefix(loc, sftest.DefaultCallbackURL+"?") {
			t.Fatalf("redirected to %s, not to the registered callback", loc)
		}
		u, _ := url.Parse(loc)
		return resp.StatusCode, u.Query(), string(body)
	}
	return resp.StatusCode, nil, string(body)
}

func TestShowLoginAsksToLogInThenToAllowAccess(t *testing.T) {
	srv := sftest.New(t, sftest.Options{ShowLogin: true})
	status, redirect, page := get(t, srv, authorizeQuery())
	if status != http.StatusOK || redirect != nil || !strings.Contains(page, `name="password"`) || !strings.Contains(page, `value="admin@acme.example"`) {
		t.Fatalf("authorize = %d %v, want the login page with the username filled in:\n%s", status, redirect, page)
	}
	form := authorizeQuery()
	form.Set("sftest_step", "login")
	form.Set("username", "admin@acme.example")

	// No password: Salesforce's own refusal, still on the login page.
	if status, redirect, page := submit(t, srv, form); status != http.StatusOK || redirect != nil || !strings.Contains(page, "Please check your username and password") {
		t.Fatalf("login without a password = %d %v:\n%s", status, redirect, page)
	}
	form.Set("password", "anything")
	status, redirect, page = submit(t, srv, form)
	for _, want := range []string{"Allow Access?", "Manage user data via APIs (api)", "Perform requests at any time", `value="deny"`, `value="allow"`} {
		if status != http.StatusOK || redirect != nil || !strings.Contains(page, want) {
			t.Fatalf("after logging in = %d %v; the consent page lacks %q:\n%s", status, redirect, want, page)
		}
	}

	consent := authorizeQuery()
	consent.Set("sftest_step", "consent")
	consent.Set("username", "admin@acme.example")
	consent.Set("sftest_consent", "deny")
	if status, redirect, _ := submit(t, srv, consent); status != http.StatusFound || redirect.Get("error") != "access_denied" ||
		redirect.Get("error_description") != "end-user denied authorization" || redirect.Get("state") != "st" {
		t.Fatalf("deny = %d %v, want the callback with access_denied", status, redirect)
	}
	consent.Set("sftest_consent", "allow")
	status, redirect, _ = submit(t, srv, consent)
	if status != http.StatusFound || redirect.Get("code") == "" || redirect.Get("state") != "st" {
		t.Fatalf("allow = %d %v, want the callback with a code", status, redirect)
	}
	// Only a user of the emulator's orgs can allow access.
	rep := authorizeQuery()
	rep.Set("sftest_step", "consent")
	rep.Set("username", "nobody@acme.example")
	rep.Set("sftest_consent", "allow")
	if status, redirect, page := submit(t, srv, rep); status != http.StatusOK || redirect != nil || !strings.Contains(page, "Please check your username") {
		t.Fatalf("an unknown user allowing = %d %v, want the login page again", status, redirect)
	}
}

func TestWithoutShowLoginTheUserApprovesAtOnce(t *testing.T) {
	srv := sftest.New(t, sftest.Options{})
	if status, redirect, _ := get(t, srv, authorizeQuery()); status != http.StatusFound || redirect.Get("code") == "" {
		t.Fatalf("authorize = %d %v, want a code at once", status, redirect)
	}
}
