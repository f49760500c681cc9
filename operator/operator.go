// Package operator is the operator address's handler (METRICS_ADDR, never
// the public port): GET /metrics for Prometheus, and the jobs view (River's
// own UI, riverui) under /jobs/ behind the operator credential from the
// environment. The operator is whoever runs the server; workspace admins
// never reach this address, so the view may show every tenant's jobs.
package operator

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"github.com/qwoty/companion/metrics"
)

// JobsPrefix is where the jobs view is served.
const JobsPrefix = "/jobs"

// Options make the operator handler.
type Options struct {
	// User and Password are the credential the jobs view asks for (HTTP
	// Basic); no Password: no jobs view.
	User, Password string
	// Jobs is the River client the jobs view reads and acts through; nil:
	// no jobs view.
	Jobs   *river.Client[pgx.Tx]
	Logger *slog.Logger
}

// New makes the handler. Its background work (the jobs view's caches)
// runs until ctx ends.
func New(ctx context.Context, opt Options) (http.Handler, error) {
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler())
	switch {
	case opt.Jobs == nil:
	case opt.Password == "":
		log.Warn("the jobs view is off: set QWOTY_OPERATOR_PASSWORD to open it on the operator address", "path", JobsPrefix+"/")
	default:
		ui, err := riverui.NewHandler(&riverui.HandlerOpts{
			Endpoints: riverui.NewEndpoints(opt.Jobs, nil),
			// A job's arguments (ids) show on its own page, not in lists.
			JobListHideArgsByDefault: true,
			Logger:                   log.With("component", "jobs view"),
			Prefix:                   JobsPrefix,
		})
		if err != nil {
			return nil, fmt.Errorf("operator: jobs view: %w", err)
		}
		if err := ui.Start(ctx); err != nil {
			return nil, fmt.Errorf("operator: jobs view: %w", err)
		}
		// Its actions (retry, cancel, delete a job; pause a queue) are
		// POST/PUT/PATCH: a browser's cross-origin request is refused, so
		// another site cannot use the operator's saved credential.
		h := basicAuth(opt.User, opt.Password, http.NewCrossOriginProtection().Handler(ui))
		mux.Handle(JobsPrefix, h)
		mux.Handle(JobsPrefix+"/", h)
		log.Info("jobs view on the operator address", "path", JobsPrefix+"/", "user", opt.User)
	}
	return mux, nil
}

// basicAuth lets a request through with the credential, compared in
// constant time (of its digest, so that neither length shows); 401 asks a
// browser for it.
func basicAuth(user, password string, next http.Handler) http.Handler {
	wantUser, wantPassword := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(password))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		gotUser, gotPassword := sha256.Sum256([]byte(u)), sha256.Sum256([]byte(p))
		match := subtle.ConstantTimeCompare(gotUser[:], wantUser[:]) & subtle.ConstantTimeCompare(gotPassword[:], wantPassword[:])
		if !ok || match != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="Qwoty operator", charset="UTF-8"`)
			http.Error(w, "The jobs view needs the operator credential (QWOTY_OPERATOR_USER, QWOTY_OPERATOR_PASSWORD).", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
