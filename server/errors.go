package server

import (
	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/web"
)

// fail answers err in the API's shape (web.API): the JSON error for API
// clients, a flash above the card for htmx requests.
func (s *Server) fail(c *gin.Context, err error) { s.errs.Answer(c, err, web.API) }

func (s *Server) noRoute(c *gin.Context) {
	if web.SlashRedirect(c, s.engine) {
		return
	}
	s.fail(c, qwoty.Errorf(qwoty.CodeNotFound, "Check the URL; the API is described in docs/callout-contract.md.", "no route for %s %s", c.Request.Method, c.Request.URL.Path))
}

func (s *Server) noMethod(c *gin.Context) {
	s.fail(c, qwoty.Errorf(qwoty.CodeMethodNotAllowed, "Check the method; signed callouts are POST.", "%s is not allowed on %s", c.Request.Method, c.Request.URL.Path))
}
