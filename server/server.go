// Package server is the application's HTTP server: the gin engine, the
// signed CRM endpoints, the card page and its actions, health checks, and
// the admin console (package console) mounted beside them. Its routes are
// in routes.go, one handler per file, named after its route. Handlers stay
// thin: they parse, call cardview or the store, and render.
package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/console"
	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/password"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/web"
)

// Deps are what the server is built from; cmd/qwoty assembles them.
type Deps struct {
	Config  *config.Config
	DB      *store.DB
	Cards   *cardview.Service
	Logger  *slog.Logger
	Version string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// CRMs are the CRMs this server serves, each by its adapter (cmd/qwoty
	// registers them); the card service holds the same registry.
	CRMs *crm.Registry
	// Hasher bounds the console's password hashing (nil:
	// password.NewHasher with its defaults). Tests pass one with small
	// bounds.
	Hasher *password.Hasher
	// DrainDelay is how long /readyz answers 503 before the listener closes
	// on shutdown, so load balancers stop sending first (0: close at once).
	DrainDelay time.Duration
	// DevMail is the development mailbox's pages (devmail), served at
	// /dev/mail in development; nil serves none.
	DevMail http.Handler
	// Mail sends the console's invitations (nil: saved, not sent).
	Mail console.Mailer
	// Workers are the job workers /readyz checks (crmsync.Engine); nil:
	// this server runs none, nothing to check.
	Workers Workers
}

// Workers say whether the job workers run.
type Workers interface{ Ready() error }

// Server serves the application's routes.
type Server struct {
	cfg      *config.Config
	db       *store.DB
	cards    *cardview.Service
	log      *slog.Logger
	version  string
	now      func() time.Time
	engine   *gin.Engine
	errs     *web.Errors
	draining atomic.Bool
	drain    time.Duration
	crms     *crm.Registry
	console  *console.Console
	devMail  http.Handler
	workers  Workers
	// public bounds the customer's pages' unauthenticated requests;
	// pageKey signs their form tokens.
	public  *publicLimiter
	pageKey []byte
}

// New builds the server and its routes.
func New(d Deps) *Server {
	s := &Server{cfg: d.Config, db: d.DB, cards: d.Cards, log: d.Logger, version: d.Version, now: d.Now, drain: d.DrainDelay,
		crms: d.CRMs, devMail: d.DevMail, workers: d.Workers}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.errs = web.NewErrors(s.log, s.db.Unavailable)
	s.public = newPublicLimiter(s.now)
	s.pageKey = derivePageKey(d.Config.MasterKey)
	s.console = console.New(console.Deps{Config: d.Config, DB: d.DB, Logger: s.log, Now: s.now, Hasher: d.Hasher, CRMs: d.CRMs, Mail: d.Mail})
	s.engine = s.routes()
	return s
}

// Drain turns /readyz 503 at once (the shutdown's first step; Serve does
// it too when its context ends).
func (s *Server) Drain() { s.draining.Store(true) }

// Handler returns the HTTP handler of the application.
func (s *Server) Handler() http.Handler { return s.engine }

// Serve answers on ln until ctx is done, then shuts down gracefully:
// /readyz turns 503 for DrainDelay while requests are still served, so load
// balancers stop sending; then the listener closes and requests in flight
// get up to grace to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	return web.Serve(ctx, ln, s.Handler(), grace, func() {
		s.draining.Store(true)
		if s.drain > 0 {
			s.log.Info("draining before shutdown", "delay", s.drain.String())
			time.Sleep(s.drain)
		}
	}, s.log)
}
