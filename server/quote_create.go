package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
)

// defaultCurrency is used when the CRM record carries none (an org without
// multi-currency); the rep can change it while the quote is a draft.
const defaultCurrency = "USD"

// quoteCreate creates a draft on the record, prefilled from the record:
// its account as customer, its name as title, its currency.
func (s *Server) quoteCreate(c *gin.Context) {
	claims := claimsOf(c)
	cur := claims.Record.Currency
	if cur == "" {
		cur = defaultCurrency
	}
	title := claims.Record.Name
	if r := []rune(title); len(r) > qwoty.MaxTitleLen {
		title = string(r[:qwoty.MaxTitleLen])
	}
	q, err := s.db.CreateQuote(c.Request.Context(), scopeOf(claims), store.NewQuote{
		AccountID: claims.Record.AccountID, Title: title, Currency: cur, CreatedBy: claims.User.ID,
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	render(c, http.StatusCreated, templates.QuoteEditor(q))
}
