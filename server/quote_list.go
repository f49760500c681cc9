package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/templates"
)

// quoteList renders the record's quotes.
func (s *Server) quoteList(c *gin.Context) {
	qs, err := s.db.ListQuotes(c.Request.Context(), scopeOf(claimsOf(c)))
	if err != nil {
		s.fail(c, err)
		return
	}
	render(c, http.StatusOK, templates.QuoteList(qs))
}
