package console

import (
	"context"
	"net/url"
	"testing"

	"github.com/qwoty/companion/store/storetest"
)

// The CSRF token never repeats across console pages (each carries it
// masked with a fresh pad, so compressed pages reveal nothing by length),
// every page's masking is accepted, and anything else is refused: a
// changed byte, or the session's token unmasked.
func TestCSRFTokenIsMaskedPerPage(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	admin := e.setupAdmin(t)
	admin.Get(e.url() + "/settings/users")
	first := admin.CSRF()
	admin.Get(e.url() + "/settings/users")
	second := admin.CSRF()
	if first == second {
		t.Fatalf("two pages carried the same CSRF value %q, want a fresh masking per page", first)
	}
	var raw string // the one session's token, as stored
	if err := storetest.Pool(t, e.db).QueryRow(context.Background(), `SELECT csrf_token FROM sessions`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	admin.Post(e.url()+"/settings/invitations", url.Values{"csrf": {raw}, "email": {"raw@acme.example"}, "role": {"viewer"}}).
		Want(403, "", "csrf_failed")
	tampered := []byte(first)
	tampered[len(tampered)/2] ^= 1
	if tampered[len(tampered)/2] == '.' {
		tampered[len(tampered)/2] = 'A'
	}
	admin.Post(e.url()+"/settings/invitations", url.Values{"csrf": {string(tampered)}, "email": {"t@acme.example"}, "role": {"viewer"}}).
		Want(403, "", "csrf_failed")
	for i, tok := range []string{first, second} {
		email := []string{"one@acme.example", "two@acme.example"}[i]
		admin.Post(e.url()+"/settings/invitations", url.Values{"csrf": {tok}, "email": {email}, "role": {"viewer"}}).
			Want(200, "/settings/users", email)
	}
}
