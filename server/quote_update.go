package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// updateQuote is the shared tail of every edit: check the version the form
// was rendered with, apply the change under the quote's lock, recompute the
// totals, and render the editor again.
func (s *Server) updateQuote(c *gin.Context, change store.Change) {
	version, err := qwoty.ParseVersion(c.Request.FormValue("version"))
	if err != nil {
		s.fail(c, err)
		return
	}
	q, err := s.db.UpdateQuote(c.Request.Context(), scopeOf(claimsOf(c)), c.Param("quote"), version, change)
	if err != nil {
		s.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.QuoteEditor(q, moneyOf(c)))
}

// quoteTerms changes a draft's title, currency and tax rate.
func (s *Server) quoteTerms(c *gin.Context) {
	s.updateQuote(c, func(ctx context.Context, tx pgx.Tx, q *qwoty.Quote) error {
		t, err := formTerms(c, q)
		if err != nil {
			return err
		}
		return store.SetTerms(t)(ctx, tx, q)
	})
}

// quoteStatus moves a quote along an allowed transition.
func (s *Server) quoteStatus(c *gin.Context) {
	next, err := qwoty.ParseStatusInput(c.Request.FormValue("status"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.updateQuote(c, store.SetStatus(next, claimsOf(c).User.ID))
}

// lineAdd appends a line to a draft.
func (s *Server) lineAdd(c *gin.Context) {
	l, err := formLine(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.updateQuote(c, store.AddLine(l))
}

// lineUpdate changes one line of a draft.
func (s *Server) lineUpdate(c *gin.Context) {
	l, err := formLine(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.updateQuote(c, store.UpdateLine(c.Param("line"), l))
}

// lineRemove deletes one line of a draft.
func (s *Server) lineRemove(c *gin.Context) {
	s.updateQuote(c, store.RemoveLine(c.Param("line")))
}
