// Package webtest is what tests of the HTTP surfaces share: a browser that
// keeps cookies and follows redirects, and the first-run walk that makes
// the console's first admin. Tests only: it imports testing.
package webtest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// The first admin SetupAdmin makes.
const (
	AdminEmail    = "admin@acme.example"
	AdminPassword = "correct horse battery"
)

// Browser is a person's browser: a cookie jar that follows redirects.
type Browser struct {
	t      *testing.T
	Client *http.Client
	// Last is the last answer (after redirects) and Body its body.
	Last *http.Response
	Body []byte
}

// NewBrowser is a browser with no cookies.
func NewBrowser(t *testing.T) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{t: t, Client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// Do sends req and keeps the answer.
func (b *Browser) Do(req *http.Request) *Browser {
	b.t.Helper()
	resp, err := b.Client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	b.Body, _ = io.ReadAll(resp.Body)
	b.Last = resp
	return b
}

// Get opens u.
func (b *Browser) Get(u string) *Browser {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.Do(req)
}

// Post sends a form to u, URL-encoded as a browser does.
func (b *Browser) Post(u string, form url.Values) *Browser {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.Do(req)
}

var csrfPattern = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// CSRF is the form token of the last page.
func (b *Browser) CSRF() string {
	b.t.Helper()
	m := csrfPattern.FindSubmatch(b.Body)
	if m == nil {
		b.t.Fatalf("no CSRF token on %s", b.Last.Request.URL)
	}
	return string(m[1])
}

// Want checks the last answer: its status, the path it ended at (unless
// ""), and text its body contains.
func (b *Browser) Want(status int, path string, contains ...string) {
	b.t.Helper()
	if b.Last.StatusCode != status || (path != "" && b.Last.Request.URL.Path != path) {
		b.t.Fatalf("at %s: %d, want %d at %s\n%s", b.Last.Request.URL, b.Last.StatusCode, status, path, b.Body)
	}
	for _, s := range contains {
		if !bytes.Contains(b.Body, []byte(s)) {
			b.t.Fatalf("at %s: page lacks %q\n%s", b.Last.Request.URL, s, b.Body)
		}
	}
}

// SetupAdmin walks the first-run link of the app at appURL (workspace
// Acme, admin AdminEmail) and returns the admin's browser, on Integrations.
func SetupAdmin(t *testing.T, db *store.DB, appURL string) *Browser {
	t.Helper()
	token, err := db.NewSetupToken(context.Background(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBrowser(t)
	b.Get(appURL+"/setup?token="+token).Want(200, "/setup", "Create the first admin")
	b.Post(appURL+"/setup", url.Values{"token": {token}, "workspace": {"Acme"}, "name": {"Ada"}, "email": {AdminEmail}, "password": {AdminPassword}}).
		Want(200, "/settings/integrations", "<h1>Integrations</h1>")
	return b
}

// MemberPassword is the password Join gives a new member.
const MemberPassword = "a long enough password"

// Join adds email to the admin's (AdminEmail's) workspace with role the
// way a person joins: an invitation (made in the store, as the admin's
// form makes it) accepted on its page with MemberPassword. The member
// then logs in like anyone.
func Join(t *testing.T, db *store.DB, appURL, email string, role qwoty.Role) {
	t.Helper()
	u, _, err := db.UserForLogin(context.Background(), AdminEmail)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := db.Invite(context.Background(), u.WorkspaceID, email, role, AdminEmail)
	if err != nil {
		t.Fatal(err)
	}
	NewBrowser(t).Post(appURL+"/invitation", url.Values{"token": {token}, "name": {"Test " + string(role)},
		"password": {MemberPassword}, "password2": {MemberPassword}}).Want(200, "/settings/integrations")
}

// Escaped is s as a page writes it in HTML text: what Want looks for when
// the text holds quotes or angle brackets.
func Escaped(s string) string {
	return strings.NewReplacer(`"`, "&#34;", "&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&#39;").Replace(s)
}
