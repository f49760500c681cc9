package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// moneyOf is how the card writes amounts for the rep of this request: in
// the locale their CRM sent when the card opened (the page token carries it).
func moneyOf(c *gin.Context) qwoty.Money { return qwoty.MoneyFor(claimsOf(c).User.Locale) }

// quoteList renders the record's quotes.
func (s *Server) quoteList(c *gin.Context) {
	qs, err := s.db.ListQuotes(c.Request.Context(), scopeOf(claimsOf(c)))
	if err != nil {
		s.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.QuoteList(qs, moneyOf(c)))
}
