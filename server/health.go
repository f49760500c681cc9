package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/migrations"
	"github.com/qwoty/companion/qwoty"
)

// healthz answers while the process runs (liveness): it checks nothing
// else, so that a database outage does not get every instance restarted.
func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz answers 200 while this instance should get traffic, and 503
// naming the check that failed otherwise: not shutting down, the database
// answers, its schema has every migration this binary embeds (a database
// ahead, mid rolling deploy, is fine: migrations stay backward compatible),
// and the job workers run.
func (s *Server) readyz(c *gin.Context) {
	if s.draining.Load() {
		s.notReady(c, "shutdown", "This instance is shutting down; the load balancer will use another.", nil)
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	version, err := s.db.SchemaVersion(ctx)
	if err != nil {
		s.notReady(c, "database", "Check DATABASE_URL and that PostgreSQL is up.", err)
		return
	}
	if want := migrations.Latest(); version < want {
		s.notReady(c, "migrations", "Run qwoty migrate, or start one instance of this version: it migrates at start.",
			fmt.Errorf("the database is at migration %d, this version needs %d", version, want))
		return
	}
	if s.workers != nil {
		if err := s.workers.Ready(); err != nil {
			s.notReady(c, "workers", "Look for the job workers' error in the instance's log.", err)
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": gin.H{"database": "ok", "migrations": "ok", "workers": "ok"}})
}

// notReady answers 503 naming the failed check in the message (the error's
// text stays in the log).
func (s *Server) notReady(c *gin.Context, check, hint string, err error) {
	msg := "not ready: " + check
	if err != nil && check != "database" {
		msg += ": " + err.Error()
	}
	s.fail(c, &qwoty.Error{Code: qwoty.CodeUnavailable, Message: msg, Hint: hint, Err: err})
}
