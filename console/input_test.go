package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
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

	// An invitation's address, on the admin's form.
	for _, c := range []struct{ email, says string }{
		{"new\x00@acme.example", "Email holds a NUL character"},
		{"\xff@acme.example", "Email is not valid UTF-8 text"},
		{"new.acme.example", `Email "new.acme.example" is not valid`},
	} {
		b.Get(e.url() + "/settings/users")
		b.Post(e.url()+"/settings/invitations", url.Values{"csrf": {b.CSRF()}, "role": {"member"}, "email": {c.email}})
		b.Want(422, "", "validation_failed", webtest.Escaped(c.says))
	}
	// The invitee's name, on the invitation's page.
	inv, _, err := e.db.Invite(context.Background(), adminWorkspace(t, e), "new@acme.example", qwoty.RoleMember, adminEmail)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, says string }{
		{"N\x00", "holds a NUL character"},
		{"N\xe2\x82", "is not valid UTF-8 text"},
		{strings.Repeat("n", 201), "is longer than 200 characters"},
	} {
		webtest.NewBrowser(t).Post(e.url()+"/invitation", url.Values{"token": {inv}, "name": {c.name},
			"password": {"correct horse battery 2"}, "password2": {"correct horse battery 2"}}).
			Want(422, "", webtest.Escaped(c.says))
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
