package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// quoteCreate creates a draft on the record, prefilled from the record:
// its account as customer, its name as title, its currency.
func (s *Server) quoteCreate(c *gin.Context) {
	claims := claimsOf(c)
	ctx := c.Request.Context()
	rec := claims.Record
	if a, ok := s.cards.Adapter(claims.Provider); ok && rec.Name == "" {
		// A CRM whose card names only the record (HubSpot, Pipedrive) has
		// it read through the connection's session. A CRM that cannot be
		// read still gets its quote, just not prefilled.
		if d, err := a.LookupRecord(ctx, session.New(s.db, a, connectionOf(c)), rec); err != nil {
			s.log.WarnContext(ctx, "quote not prefilled: the CRM record could not be read", "request_id", web.RequestID(c),
				"connection_id", claims.ConnectionID, "error", err.Error())
		} else if d != rec {
			rec = d
			if rec.AccountID != "" {
				// The CRM's text may hold what no text column can (a NUL):
				// a prefill is cleaned, not refused.
				if err := s.db.UpsertCustomer(ctx, claims.WorkspaceID, claims.ConnectionID, qwoty.CleanText(rec.AccountID), qwoty.CleanText(rec.AccountName)); err != nil {
					s.fail(c, err)
					return
				}
			}
		}
	}
	q, err := s.db.CreateQuote(ctx, scopeOf(claims), store.NewQuote{
		AccountID: qwoty.CleanText(rec.AccountID), Title: qwoty.TitleFrom(rec.Name), Currency: qwoty.CurrencyFrom(rec.Currency), CreatedBy: claims.User.ID,
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	web.Render(c, http.StatusCreated, templates.QuoteEditor(q, moneyOf(c)))
}
