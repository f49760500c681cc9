// Package console is the admin console: the first-run page, logins, users,
// the audit log, and Settings → Integrations, where an admin connects,
// tests, rotates and disconnects the workspace's CRM. Its pages are
// server-rendered with a first-party session cookie and a CSRF token on
// every form. Its routes are all in routes.go; server mounts them
// (Register) beside the card and the CRM endpoints.
package console

import (
	"context"
	"log/slog"
	"time"

	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/password"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/web"
)

// Deps are what the console is built from.
type Deps struct {
	Config *config.Config
	DB     *store.DB
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Hasher bounds password hashing (nil: password.NewHasher with its
	// defaults). Tests pass one with small bounds.
	Hasher *password.Hasher
	// CRMs are the CRMs the console connects, each by its adapter, in the
	// order Integrations lists them.
	CRMs *crm.Registry
	// Mail sends invitations (nil: they are saved, not sent; the admin
	// is told so and resends once mail works).
	Mail Mailer
}

// Console serves the admin console's routes.
type Console struct {
	cfg    *config.Config
	db     *store.DB
	log    *slog.Logger
	now    func() time.Time
	errs   *web.Errors
	hasher *password.Hasher
	logins *loginThrottle
	// invites bounds wrong invitation links per address.
	invites *loginThrottle
	mail    Mailer
	crms    *crm.Registry
	// sleep is the login's soft slowdown (tests record it instead).
	sleep func(context.Context, time.Duration) bool
}

// New builds the console.
func New(d Deps) *Console {
	con := &Console{cfg: d.Config, db: d.DB, log: d.Logger, now: d.Now, hasher: d.Hasher,
		crms: d.CRMs, sleep: sleep, mail: d.Mail}
	if con.now == nil {
		con.now = time.Now
	}
	if con.log == nil {
		con.log = slog.Default()
	}
	if con.hasher == nil {
		con.hasher = password.NewHasher(password.Options{})
	}
	con.errs = web.NewErrors(con.log, con.db.Unavailable)
	con.logins = newLoginThrottle(con.now)
	con.invites = newLoginThrottle(con.now)
	return con
}
