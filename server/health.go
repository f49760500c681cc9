package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
)

// healthz answers while the process runs (liveness).
func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz answers 200 while this instance should get traffic: the database
// answers and the server is not shutting down.
func (s *Server) readyz(c *gin.Context) {
	if s.draining.Load() {
		s.fail(c, qwoty.Errorf(qwoty.CodeUnavailable, "This instance is shutting down; the load balancer will use another.", "shutting down"))
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.fail(c, &qwoty.Error{Code: qwoty.CodeUnavailable, Message: "the database does not answer",
			Hint: "Check DATABASE_URL and that PostgreSQL is up.", Err: err})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
