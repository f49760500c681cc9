package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/store/storetest"
	"github.com/qwoty/companion/web/webtest"
)

// The console's forms refuse what the database cannot hold, naming the
// field, and store nothing.
func TestConsoleFormsRefuseTextTheDatabaseCannotHold(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	anon := webtest.NewBrowser(t)
	// Before any admin: setup with a NUL keeps the setup link usable.
	token, err := e.db.NewSetupToken(context.Background(), 3600e9)
	if err != nil {
		t.Fatal(err)
	}
	anon.Post(e.url()+"/setup", url.Values{"token": {token}, "workspace": {"Ac\x00me"}, "name": {"Ada"}, "email": {adminEmail}, "password": {adminPassword}})
	anon.Want(422, "/setup", "validation_failed", "Workspace name holds a NUL character")
	anon.Post(e.url()+"/setup", url.Values{"token": {token}, "workspace": {"Acme"}, "name": {"Ada\xff"}, "email": {adminEmail}, "password": {adminPassword}})
	anon.Want(422, "/setup", "Name is not valid UTF-8 text")
	anon.Get(e.url()+"/setup?token=%00").Want(422, "/setup", "Token holds a NUL character")
	if ok, err := e.db.SetupTokenValid(context.Background(), token); err != nil || !ok {
		t.Fatalf("refused setups used the link: %v %v", ok, err)
	}
	b := e.setupAdmin(t)

	anon.Post(e.url()+"/login", url.Values{"email": {"admin\x00@acme.example"}, "password": {adminPassword}})
	anon.Want(422, "/login", "Email holds a NUL character")
	anon.Post(e.url()+"/login", url.Values{"email": {"\xff@acme.example"}, "password": {adminPassword}})
	anon.Want(422, "/login", "Email is not valid UTF-8 text")

	for _, c := range []struct {
		form url.Values
		says string
	}{
		{url.Values{"email": {"new\x00@acme.example"}, "name": {"New"}}, "Email holds a NUL character"},
		{url.Values{"email": {"\xff@acme.example"}, "name": {"New"}}, "Email is not valid UTF-8 text"},
		{url.Values{"email": {"new@acme.example"}, "name": {"N\x00"}}, "Name holds a NUL character"},
		{url.Values{"email": {"new@acme.example"}, "name": {"N\xe2\x82"}}, "Name is not valid UTF-8 text"},
		{url.Values{"email": {"new@acme.example"}, "name": {strings.Repeat("n", 201)}}, "Name is longer than 200 characters"},
		{url.Values{"email": {"new.acme.example"}, "name": {"New"}}, `Email "new.acme.example" is not valid`},
	} {
		b.Get(e.url() + "/settings/users")
		c.form.Set("csrf", b.CSRF())
		c.form.Set("role", "member")
		c.form.Set("password", "correct horse battery 2")
		b.Post(e.url()+"/settings/users", c.form)
		b.Want(422, "/settings/users", "validation_failed", webtest.Escaped(c.says))
	}
	users, err := e.db.ListUsers(context.Background(), adminWorkspace(t, e))
	if err != nil || len(users) != 1 {
		t.Fatalf("users after refused adds: %+v, %v; want the admin only", users, err)
	}
}

func adminWorkspace(t *testing.T, e *consoleEnv) string {
	t.Helper()
	u, _, err := e.db.UserForLogin(context.Background(), adminEmail)
	if err != nil {
		t.Fatal(err)
	}
	return u.WorkspaceID
}

// TestConsoleSessionUnreadableIsNotALogout: a logged-in admin whose session
// cannot be read because the database is down gets the console's 503 page,
// not the login page; the session works again when the database is back.
func TestConsoleSessionUnreadableIsNotALogout(t *testing.T) {
	proxy := storetest.NewProxy(t, storetest.NewDatabase(t))
	e := newConsoleEnv(t, proxy.URL(), nil)
	b := e.setupAdmin(t)
	proxy.Cut()
	b.Get(e.url()+"/settings/integrations").Want(http.StatusServiceUnavailable, "/settings/integrations",
		"temporarily unavailable", "Code unavailable")
	if got := b.Last.Header.Get("Retry-After"); got != "2" {
		t.Fatalf("Retry-After = %q, want 2", got)
	}
	time.Sleep(1100 * time.Millisecond) // an outage of over a second, as a restart's (see server's restore)
	proxy.Restore()
	b.Get(e.url()+"/settings/integrations").Want(http.StatusOK, "/settings/integrations", "<h1>Integrations</h1>")
}
