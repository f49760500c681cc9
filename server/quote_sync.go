package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// The card's sync actions: make a quote the record's primary one, delete a
// quote, and send a failed record to the CRM again. Each is scoped as every
// card action is (scopeOf: the session's workspace, connection and record):
// another record's quote is not found.

// quotePrimary makes the quote the record's primary quote (store.SetPrimary:
// the previous one stops being it in the same transaction, and the record
// is queued for the CRM).
func (s *Server) quotePrimary(c *gin.Context) {
	claims := claimsOf(c)
	q, err := s.db.SetPrimary(c.Request.Context(), scopeOf(claims), c.Param("quote"), claims.User.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderAfter(c, q)
}

// quoteRetry queues the quote's record again after its push failed for
// good (store.RetrySync, audited). A record that is not failed is left as
// it is: the answer shows where it stands.
func (s *Server) quoteRetry(c *gin.Context) {
	claims := claimsOf(c)
	ctx := c.Request.Context()
	scope := scopeOf(claims)
	if _, err := s.db.GetQuote(ctx, scope, c.Param("quote")); err != nil {
		s.fail(c, err)
		return
	}
	if _, err := s.db.RetrySync(ctx, scope.WorkspaceID, scope.ConnectionID, scope.RecordID, claims.User.ID); err != nil {
		s.fail(c, err)
		return
	}
	q, err := s.db.GetQuote(ctx, scope, c.Param("quote"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderAfter(c, q)
}

// quoteDelete deletes the quote as of the version the editor was rendered
// with (a stale one is a version_conflict) and answers with the list. Its
// CRM mirror is marked deleted, not removed (store.DeleteQuote).
func (s *Server) quoteDelete(c *gin.Context) {
	version, err := formVersion(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	claims := claimsOf(c)
	ctx := c.Request.Context()
	if err := s.db.DeleteQuote(ctx, scopeOf(claims), c.Param("quote"), version, claims.User.ID); err != nil {
		s.fail(c, err)
		return
	}
	qs, err := s.db.ListQuotes(ctx, scopeOf(claims))
	if err != nil {
		s.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.QuoteList(qs, moneyOf(c)))
}

// renderAfter answers an action taken from the list with the list, and one
// taken from the editor with the quote's editor.
func (s *Server) renderAfter(c *gin.Context, q *qwoty.Quote) {
	if c.Request.FormValue("view") != "list" {
		web.Render(c, http.StatusOK, templates.QuoteEditor(q, moneyOf(c)))
		return
	}
	qs, err := s.db.ListQuotes(c.Request.Context(), scopeOf(claimsOf(c)))
	if err != nil {
		s.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.QuoteList(qs, moneyOf(c)))
}
