package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// quoteShow opens one quote of the record in the editor.
func (s *Server) quoteShow(c *gin.Context) {
	q, err := s.db.GetQuote(c.Request.Context(), scopeOf(claimsOf(c)), c.Param("quote"))
	if err != nil {
		s.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.QuoteEditor(q, moneyOf(c)))
}
