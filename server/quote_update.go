package server

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// Every edit reads and checks its whole form first, before any transaction:
// the quote's row is locked only while the domain applies the change
// (store.UpdateQuote), never while a request is parsed.

// updateQuote is the shared tail of every edit: apply change to the quote
// under its lock, as of the version the form was rendered with, and render
// the editor again.
func (s *Server) updateQuote(c *gin.Context, version int, change store.Change) {
	claims := claimsOf(c)
	q, err := s.db.UpdateQuote(c.Request.Context(), scopeOf(claims), c.Param("quote"), version, claims.User.ID, change)
	if err != nil {
		s.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.QuoteEditor(q, moneyOf(c)))
}

// formVersion is the quote version the form was rendered with.
func formVersion(c *gin.Context) (int, error) {
	return qwoty.ParseVersion(c.Request.FormValue("version"))
}

// quoteTerms changes a draft's title, currency, tax rate, tax mode and
// quote-level discount.
func (s *Server) quoteTerms(c *gin.Context) {
	version, err := formVersion(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	t, err := formTerms(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.updateQuote(c, version, func(q *qwoty.Quote) error { return q.SetTerms(t) })
}

// quoteStatus moves a quote along an allowed transition.
func (s *Server) quoteStatus(c *gin.Context) {
	next, err := qwoty.ParseStatusInput(c.Request.FormValue("status"))
	if err != nil {
		s.fail(c, err)
		return
	}
	version, err := formVersion(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.updateQuote(c, version, func(q *qwoty.Quote) error { return q.Transition(next) })
}

// lineAdd appends a line to a draft.
func (s *Server) lineAdd(c *gin.Context) {
	l, version, err := formLineEdit(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.updateQuote(c, version, func(q *qwoty.Quote) error { return q.AddLine(l) })
}

// PartialFrom is the number of lines from which a saved line is answered
// with that line and the totals only (templates.LineSaved), not the whole
// editor: a quote of 2,000 lines re-rendered for each edit would be
// megabytes, and most of a line edit's time (docs/performance.md). The
// editor of such a quote shows its lines as rows, each opened for editing
// on its own (lineShow).
const PartialFrom = templates.LargeFrom

// lineShow answers one line's form, for the card to open a line of a large
// quote for editing: the quote's header and that line only are read.
func (s *Server) lineShow(c *gin.Context) {
	q, l, err := s.db.GetQuoteLine(c.Request.Context(), scopeOf(claimsOf(c)), c.Param("quote"), c.Param("line"))
	if err != nil {
		s.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.LineEdit(q, l, moneyOf(c)))
}

// lineUpdate changes one line of a draft. The card (htmx) gets the editor
// again, or for a quote of PartialFrom lines or more the line's form, the
// totals, and out of band every other line whose shown figures the edit
// changed, with the quote's new version in X-Quote-Version.
func (s *Server) lineUpdate(c *gin.Context) {
	l, version, err := formLineEdit(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	line := c.Param("line")
	claims := claimsOf(c)
	// What the card shows of each line, as of the version its form was
	// rendered with (UpdateQuote refuses any other): the lines whose
	// figures come out different are sent again. A line's shown figures
	// are its own (templates.LineShown), but a quote-wide figure shared
	// across lines would move others' too.
	var shown map[string]templates.LineShown
	partial := c.GetHeader("HX-Request") == "true"
	q, err := s.db.UpdateQuote(c.Request.Context(), scopeOf(claims), c.Param("quote"), version, claims.User.ID,
		func(q *qwoty.Quote) error {
			if partial && len(q.Lines) >= PartialFrom && q.Version == version {
				shown = make(map[string]templates.LineShown, len(q.Lines))
				for _, l := range q.Lines {
					shown[l.ID] = templates.LineShownOf(l)
				}
			}
			return q.UpdateLine(line, l)
		})
	if err != nil {
		s.fail(c, err)
		return
	}
	if partial && shown != nil && len(q.Lines) >= PartialFrom {
		var saved *qwoty.LineItem
		var moved []qwoty.LineItem
		for i := range q.Lines {
			l := &q.Lines[i]
			if l.ID == line {
				saved = l
			} else if was, ok := shown[l.ID]; !ok || !was.Same(templates.LineShownOf(*l)) {
				moved = append(moved, *l)
			}
		}
		if saved != nil {
			c.Header("HX-Retarget", "#line-"+line)
			c.Header("HX-Reswap", "outerHTML")
			c.Header("X-Quote-Version", strconv.Itoa(q.Version))
			web.Render(c, http.StatusOK, templates.LineSaved(q, *saved, moved, moneyOf(c)))
			return
		}
	}
	web.Render(c, http.StatusOK, templates.QuoteEditor(q, moneyOf(c)))
}

// lineRemove deletes one line of a draft.
func (s *Server) lineRemove(c *gin.Context) {
	version, err := formVersion(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	line := c.Param("line")
	s.updateQuote(c, version, func(q *qwoty.Quote) error { return q.RemoveLine(line) })
}

// formLineEdit reads a line form: the line, then the version.
func formLineEdit(c *gin.Context) (qwoty.LineItem, int, error) {
	l, err := formLine(c)
	if err != nil {
		return l, 0, err
	}
	version, err := formVersion(c)
	return l, version, err
}
