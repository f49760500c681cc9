package server

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// The order of an accepted quote in the card (docs/orders.md): the editor
// loads it once shown, and the rep marks it fulfilled or cancelled. Both
// are scoped to the card's record: the order is found through its quote
// (store.QuoteOrder), never by an id the page sent.

// quoteOrder renders the order panel of a quote of the record (empty when
// the quote has no order).
func (s *Server) quoteOrder(c *gin.Context) {
	claims := claimsOf(c)
	ctx := c.Request.Context()
	q, err := s.db.GetQuote(ctx, scopeOf(claims), c.Param("quote"))
	if err != nil {
		s.fail(c, err)
		return
	}
	o, err := s.db.QuoteOrder(ctx, scopeOf(claims), q.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.QuoteOrder(q, o, moneyOf(c), repZone(claims.User.TimeZone)))
}

// quoteOrderStatus moves the order of a quote of the record to fulfilled
// or cancelled, as of the order version the panel was rendered with.
func (s *Server) quoteOrderStatus(c *gin.Context) {
	next, ok := qwoty.ParseOrderStatus(c.Request.FormValue("status"))
	if !ok || next == qwoty.OrderOpen {
		s.fail(c, &qwoty.Error{Code: qwoty.CodeValidation, Field: "status", Message: "an order is marked fulfilled or cancelled",
			Hint: "Use the order's buttons."})
		return
	}
	version, err := formVersion(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	claims := claimsOf(c)
	ctx := c.Request.Context()
	q, err := s.db.GetQuote(ctx, scopeOf(claims), c.Param("quote"))
	if err != nil {
		s.fail(c, err)
		return
	}
	o, err := s.db.QuoteOrder(ctx, scopeOf(claims), q.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	if o == nil {
		s.fail(c, qwoty.Errorf(qwoty.CodeNotFound, "Reload the quote.", "quote %s has no order", q.Number))
		return
	}
	if o, err = s.db.SetOrderStatus(ctx, claims.WorkspaceID, claims.ConnectionID, o.ID, version, next, claims.User.ID); err != nil {
		s.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.QuoteOrder(q, o, moneyOf(c), repZone(claims.User.TimeZone)))
}

// repZone is the rep's time zone, UTC when the CRM gave none it knows.
func repZone(tz string) *time.Location {
	if l, err := time.LoadLocation(tz); err == nil && tz != "" {
		return l
	}
	return time.UTC
}
