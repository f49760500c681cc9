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

// A quote's revisions on the card: Revise, the versions panel, and what
// changed between two versions.

// quoteRevise makes the quote's next revision a draft (qwoty.Quote.Revise),
// as of the version the editor was rendered with.
func (s *Server) quoteRevise(c *gin.Context) {
	version, err := formVersion(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.updateQuote(c, version, func(q *qwoty.Quote) error { return q.Revise() })
}

// quoteVersions is the editor's versions panel: the sent revisions, the
// current draft's, and what changed between the last two.
func (s *Server) quoteVersions(c *gin.Context) {
	q, snaps, rows, err := s.versionsOf(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	v := templates.VersionsView{Quote: q, Rows: rows}
	if n := len(rows); n >= 2 {
		v.From, v.To = rows[n-2].Revision, rows[n-1].Revision
		d := qwoty.DiffVersions(snaps[v.From], snaps[v.To])
		v.Diff = &d
	}
	web.Render(c, http.StatusOK, templates.QuoteVersions(v, moneyOf(c)))
}

// quoteVersionDiff is what changed from revision from to revision to
// (query parameters), each a revision the panel lists; another is a
// validation error naming the parameter.
func (s *Server) quoteVersionDiff(c *gin.Context) {
	_, snaps, _, err := s.versionsOf(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var revs [2]int
	for i, name := range []string{"from", "to"} {
		n, err := strconv.Atoi(c.Query(name))
		if _, ok := snaps[n]; err != nil || !ok {
			s.fail(c, &qwoty.Error{Code: qwoty.CodeValidation, Field: name,
				Message: name + " must be a revision of this quote that is listed under Versions",
				Hint:    "Pick the versions to compare from the lists."})
			return
		}
		revs[i] = n
	}
	web.Render(c, http.StatusOK, templates.VersionDiff(qwoty.DiffVersions(snaps[revs[0]], snaps[revs[1]]), moneyOf(c)))
}

// versionsOf reads the session's quote and its versions: each revision's
// snapshot by number (the frozen ones, and the current revision's as it
// stands when it is not sent yet) and the panel's rows, oldest first.
func (s *Server) versionsOf(c *gin.Context) (*qwoty.Quote, map[int]qwoty.VersionSnapshot, []templates.VersionRow, error) {
	ctx := c.Request.Context()
	scope := scopeOf(claimsOf(c))
	q, err := s.db.GetQuote(ctx, scope, c.Param("quote"))
	if err != nil {
		return nil, nil, nil, err
	}
	vs, err := s.db.QuoteVersions(ctx, scope, q.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	snaps, rows := versionRows(q, vs)
	return q, snaps, rows, nil
}

// versionRows lists q's frozen versions vs and, when q's current revision
// is not among them, q as it stands.
func versionRows(q *qwoty.Quote, vs []store.QuoteVersion) (map[int]qwoty.VersionSnapshot, []templates.VersionRow) {
	snaps := make(map[int]qwoty.VersionSnapshot, len(vs)+1)
	rows := make([]templates.VersionRow, 0, len(vs)+1)
	for _, v := range vs {
		snaps[v.Revision] = v.Snapshot
		rows = append(rows, templates.VersionRow{Revision: v.Revision, Sent: true, SentAt: v.FrozenAt, Currency: v.Currency, Total: v.Total, Intact: v.Intact})
	}
	if _, frozen := snaps[q.Revision]; !frozen {
		snaps[q.Revision] = qwoty.Snapshot(q)
		rows = append(rows, templates.VersionRow{Revision: q.Revision, Currency: q.Currency, Total: q.Totals.Total, Intact: true})
	}
	return snaps, rows
}
