// Package server is the HTTP layer: the gin engine, its middleware, the
// route table (routes.go) and one handler per file, named after its route.
// Handlers stay thin: they parse, call cardview or the store, and render.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/password"
	"github.com/qwoty/companion/store"
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
	// Hasher bounds password hashing (nil: password.NewHasher with its
	// defaults). Tests pass one with small bounds.
	Hasher *password.Hasher
	// DrainDelay is how long /readyz answers 503 before the listener closes
	// on shutdown, so load balancers stop sending first (0: close at once).
	DrainDelay time.Duration
}

// Server serves the application's routes.
type Server struct {
	cfg      *config.Config
	db       *store.DB
	cards    *cardview.Service
	log      *slog.Logger
	version  string
	now      func() time.Time
	engine   *gin.Engine
	draining atomic.Bool
	drain    time.Duration
	crms     *crm.Registry
	sfOAuth  *salesforce.OAuthApp
	hsOAuth  *hubspot.OAuthApp
	pdOAuth  *pipedrive.OAuthApp
	logins   *loginThrottle
	// routeTable is the route list NoRoute's redirects look in.
	routeTable routeTable
	hasher     *password.Hasher
	// sleep is the login's soft slowdown (tests record it instead).
	sleep func(context.Context, time.Duration) bool
}

func init() { gin.SetMode(gin.ReleaseMode) }

// New builds the server and its routes.
func New(d Deps) *Server {
	s := &Server{cfg: d.Config, db: d.DB, cards: d.Cards, log: d.Logger, version: d.Version, now: d.Now, drain: d.DrainDelay,
		crms: d.CRMs, hasher: d.Hasher}
	s.sfOAuth, s.hsOAuth, s.pdOAuth = consoleOAuthApps(d.CRMs)
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.hasher == nil {
		s.hasher = password.NewHasher(password.Options{})
	}
	s.logins = newLoginThrottle(s.now)
	s.sleep = sleep
	s.engine = s.routes()
	return s
}

// Handler returns the HTTP handler of the application.
func (s *Server) Handler() http.Handler { return s.engine }

// Serve answers on ln until ctx is done, then shuts down gracefully:
// /readyz turns 503 for DrainDelay while requests are still served, so load
// balancers stop sending; then the listener closes and requests in flight
// get up to grace to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	return serveGracefully(ctx, ln, s.Handler(), grace, func() {
		s.draining.Store(true)
		if s.drain > 0 {
			s.log.Info("draining before shutdown", "delay", s.drain.String())
			time.Sleep(s.drain)
		}
	}, s.log)
}

func serveGracefully(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration, onDrain func(), log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       20 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server: serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	if onDrain != nil {
		onDrain()
	}
	log.Info("shutting down", "addr", ln.Addr().String(), "grace", grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("server: shutdown %s: %w", ln.Addr(), err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
