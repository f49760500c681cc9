package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/devmail"
	"github.com/qwoty/companion/gctune"
	"github.com/qwoty/companion/metrics"
	"github.com/qwoty/companion/notify"
	"github.com/qwoty/companion/operator"
	"github.com/qwoty/companion/playground"
	"github.com/qwoty/companion/quotemail"
	"github.com/qwoty/companion/server"
	"github.com/qwoty/companion/web"
	"github.com/qwoty/companion/webhooks"
)

// On SIGTERM (config.ShutdownTimeout bounds it all, QWOTY_SHUTDOWN_TIMEOUT):
// /readyz answers 503 at once and requests are still served for the drain
// delay (load balancers probe every few seconds), then the listener closes
// and requests in flight get the rest of the bound to finish. The job
// workers stop fetching at once; jobs running get the bound less
// handBackTime to finish, then are cancelled and handed back to River (an
// instance still up, or the next start, works them again).
const (
	drainDelay   = 5 * time.Second
	handBackTime = 3 * time.Second
)

// shutdownPlan splits the shutdown's bound: the drain, the HTTP grace after
// it, and the time running jobs get before they are handed back.
type shutdownPlan struct{ timeout, drain, httpGrace, jobs time.Duration }

func planShutdown(timeout time.Duration, dev bool) shutdownPlan {
	p := shutdownPlan{timeout: timeout, drain: min(drainDelay, timeout/5)}
	if dev {
		p.drain = 0 // a laptop has no load balancer to wait for
	}
	margin := timeout / 20 // to log and close the rest
	p.httpGrace = timeout - p.drain - margin
	p.jobs = timeout - min(handBackTime, timeout/5) - margin
	return p
}

func cmdServe(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "qwoty serve: takes no arguments (configuration comes from the environment)\n")
		return 2
	}
	cfg, ok := loadConfig(stderr)
	if !ok {
		return 2
	}
	log := newLogger(stdout, cfg.LogLevel)
	slog.SetDefault(log)
	log.Debug("garbage collector", "gogc", gctune.GC(), "memory_limit", gctune.MemoryLimit())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	a, err := open(ctx, cfg)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		return 1
	}
	defer a.db.Close()

	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
	if err != nil {
		log.Error("cannot listen", "port", cfg.Port, "error", err.Error())
		return 1
	}
	plan := planShutdown(cfg.ShutdownTimeout, cfg.Dev())
	stopEmulators, err := startDevEmulators(cfg, stderr)
	if err != nil {
		log.Error("cannot start the development emulators", "error", err.Error())
		return 1
	}
	defer stopEmulators()
	// After the emulators, which stand in for CRM apps in the configuration.
	crms := registry(cfg)

	sender, err := notify.FromConfig(cfg)
	if err != nil {
		log.Error("cannot set up alert delivery", "error", err.Error())
		return 1
	}
	if sender.EmailEnabled() {
		log.Info("alert email", "smtp", cfg.SMTP, "from", cfg.MailFrom)
	} else {
		log.Warn("SMTP_URL is not set: sync alerts go to Slack only, where a connection has a webhook")
	}
	var devMail http.Handler
	if cfg.Dev() && cfg.DevMailPort > 0 {
		mb, err := devmail.Start("127.0.0.1:" + strconv.Itoa(cfg.DevMailPort))
		if err != nil {
			log.Error("cannot start the development mailbox (set DEV_MAIL_PORT, or 0 to disable it)", "port", cfg.DevMailPort, "error", err.Error())
			return 1
		}
		defer mb.Close()
		devMail = mb.Handler("/dev/mail")
	}

	// Sync's job engine: every instance works jobs, the elected leader
	// runs the periodic ones.
	// Webhook deliveries are worked by the same engine, on their queue.
	hooks := webhooks.New(a.db, webhooks.Options{Policy: webhooks.Policy{Development: cfg.Dev()}, AppURL: cfg.AppURL,
		Logger: log, Alerts: webhookAlerter{s: sender}})
	// A quote's email to its customers (a send from the card) too.
	mailer := quotemail.New(a.db, quotemail.Options{AppURL: cfg.AppURL, Mail: sender, Logger: log})
	engine, err := crmsync.New(a.db, crms, crmsync.Options{AppURL: cfg.AppURL, Logger: log, Lease: cfg.SyncLease,
		Alerts: syncAlerter{s: sender, log: log}, Plugins: []crmsync.Plugin{hooks, mailer}})
	if err != nil {
		log.Error("cannot start sync", "error", err.Error())
		return 1
	}
	srv := server.New(server.Deps{Config: cfg, DB: a.db, Cards: a.cards(crms), CRMs: crms, Logger: log, Version: version,
		DrainDelay: plan.drain, DevMail: devMail, Mail: sender, Workers: engine})

	g, gctx := errgroup.WithContext(ctx)
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		<-gctx.Done()
		log.Info("shutting down: /readyz answers 503, the job workers stop fetching", "timeout", plan.timeout.String(),
			"drain", plan.drain.String())
		srv.Drain()
		// The bound holds whatever hangs.
		select {
		case <-finished:
		case <-time.After(plan.timeout):
			log.Error("the shutdown outran its bound (QWOTY_SHUTDOWN_TIMEOUT): exiting", "timeout", plan.timeout.String())
			os.Exit(1)
		}
	}()
	// The operator address serves (metrics, the jobs view) until the rest
	// has stopped, so the shutdown shows in its metrics.
	var stopping sync.WaitGroup
	stopping.Add(2)
	g.Go(func() error {
		defer stopping.Done()
		if err := srv.Serve(gctx, ln, plan.httpGrace); err != nil {
			return err
		}
		log.Info("HTTP drained and closed")
		return nil
	})
	g.Go(func() error {
		defer stopping.Done()
		// Not gctx: its end would cancel the jobs running at once.
		if err := engine.Start(context.WithoutCancel(gctx)); err != nil {
			return err
		}
		<-gctx.Done()
		began := time.Now()
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(gctx), plan.timeout-plan.timeout/20)
		defer cancel()
		cancelled, err := engine.Shutdown(stopCtx, plan.jobs)
		if err != nil {
			log.Error("the job workers did not stop in time", "error", err.Error())
			return err
		}
		log.Info("the job workers stopped", "took", time.Since(began).Round(time.Millisecond).String(), "handed_back", cancelled)
		return nil
	})
	g.Go(func() error { sweepNonces(gctx, a, log); return nil })

	// Metrics and the jobs view on the operator address, apart from the
	// public port.
	if cfg.MetricsAddr != "" {
		if err := metrics.RegisterDB(a.db); err != nil {
			log.Error("cannot register the database metrics", "error", err.Error())
			return 1
		}
		ops, err := operator.New(gctx, operator.Options{User: cfg.OperatorUser, Password: cfg.OperatorPassword,
			Jobs: engine.Client(), Logger: log})
		if err != nil {
			log.Error("cannot make the operator address's handler", "error", err.Error())
			return 1
		}
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			log.Error("cannot listen for metrics (set METRICS_ADDR, or off)", "addr", cfg.MetricsAddr, "error", err.Error())
			return 1
		}
		opsCtx, opsDone := context.WithCancel(context.WithoutCancel(gctx))
		go func() {
			<-gctx.Done()
			stopping.Wait()
			opsDone()
		}()
		g.Go(func() error { return web.Serve(opsCtx, mln, ops, time.Second, func() {}, log) })
		log.Info("metrics listening", "addr", mln.Addr().String())
	} else if cfg.OperatorPassword != "" {
		log.Warn("QWOTY_OPERATOR_PASSWORD is set but METRICS_ADDR is off: no operator address, no jobs view")
	}

	if cfg.Dev() && cfg.PlaygroundPort > 0 {
		if _, err := playground.EnsureDevConnection(ctx, a.db, cfg); err != nil {
			log.Error("cannot create the development connection", "error", err.Error())
			return 1
		}
		pln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.PlaygroundPort))
		if err != nil {
			log.Error("cannot listen for the playground (set PLAYGROUND_PORT, or 0 to disable it)", "port", cfg.PlaygroundPort, "error", err.Error())
			return 1
		}
		pg := playground.New(cfg.AppURL, a.db, log)
		g.Go(func() error { return pg.Serve(gctx, pln, plan.httpGrace) })
	}

	log.Info("qwoty listening", "url", cfg.AppURL, "env", string(cfg.Env), "version", version)
	if err := printSetupLink(ctx, a, cfg, log, stderr); err != nil {
		log.Error("cannot make the setup link", "error", err.Error())
		return 1
	}
	if cfg.Dev() {
		fmt.Fprintf(stderr, "\n  Qwoty companion is running: open %s\n", cfg.AppURL)
		if cfg.PlaygroundPort > 0 {
			fmt.Fprintf(stderr, "  Playground (an Opportunity page on a second origin): %s\n\n", playground.Origin(cfg))
		}
		if devMail != nil {
			fmt.Fprintf(stderr, "  Development mailbox (alert email): %s/dev/mail\n\n", cfg.AppURL)
		}
	}
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("server stopped", "error", err.Error())
		return 1
	}
	log.Info("stopped")
	return 0
}

// printSetupLink prints, when no user exists yet, the one-time link that
// creates the first admin: until then nothing else of the console is open.
// A new link replaces the previous one at each start.
func printSetupLink(ctx context.Context, a *app, cfg *config.Config, log *slog.Logger, stderr io.Writer) error {
	n, err := a.db.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	token, err := a.db.NewSetupToken(ctx, setupLinkTTL)
	if err != nil {
		return err
	}
	link := cfg.AppURL + "/setup?token=" + token
	log.Warn("no admin yet: open the one-time setup link to create the first one", "setup_url", link, "expires_in", setupLinkTTL.String())
	if cfg.Dev() {
		fmt.Fprintf(stderr, "  No admin yet: create one at %s\n\n", link)
	}
	return nil
}

// setupLinkTTL bounds how long the first-run link works.
const setupLinkTTL = 24 * time.Hour

// sweepNonces deletes expired nonces every minute. Each sweep runs until
// every nonce expired at its start is gone (store.DeleteExpiredNonces), so
// seen_nonces holds at most about (NonceTTL + a minute) of callouts at any
// rate. Every instance runs the loop; an advisory lock lets one of them
// sweep at a time, the others skip.
func sweepNonces(ctx context.Context, a *app, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			began := time.Now()
			n, err := a.db.DeleteExpiredNonces(ctx)
			if err != nil && ctx.Err() == nil {
				log.Warn("nonce sweep failed", "deleted", n, "error", err.Error())
			} else if n > 0 {
				log.Debug("nonce sweep", "deleted", n, "took", time.Since(began).String())
			}
		}
	}
}
