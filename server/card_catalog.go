package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// catalogSearch answers the add-line form's search as the rep types: the
// products of the session's CRM account whose SKU or name holds q, priced
// in the quote's currency (store.SearchCatalog). The quote is found in the
// session's scope, like every card action's, so its currency is never the
// client's to say. A search longer than 100 characters, or a limit out of
// 1..20, is a validation error.
func (s *Server) catalogSearch(c *gin.Context) {
	query, err := qwoty.ParseCatalogQuery(c.Query("q"))
	if err != nil {
		s.fail(c, err)
		return
	}
	limit, err := qwoty.ParseCatalogLimit(c.Query("limit"))
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	scope := scopeOf(claimsOf(c))
	q, err := s.db.GetQuoteHeader(ctx, scope, c.Param("quote")) // its currency
	if err != nil {
		s.fail(c, err)
		return
	}
	items, err := s.db.SearchCatalog(ctx, scope, q.Currency, query, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.CatalogResults(items, query, q.Currency, moneyOf(c)))
}

// quoteSyncNow is the rep's "Sync now" on the quote's record: the record
// is fetched from the CRM and its pending change pushed at once
// (store.SyncRecordNow, audited). It answers with the editor, where the
// record's sync state shows, and says the sync was requested.
func (s *Server) quoteSyncNow(c *gin.Context) {
	claims := claimsOf(c)
	ctx := c.Request.Context()
	scope := scopeOf(claims)
	if _, err := s.db.GetQuoteHeader(ctx, scope, c.Param("quote")); err != nil {
		s.fail(c, err)
		return
	}
	pushed, err := s.db.SyncRecordNow(ctx, scope, claims.User.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	q, err := s.db.GetQuote(ctx, scope, c.Param("quote"))
	if err != nil {
		s.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.SyncRequested(q, pushed, moneyOf(c)))
}
