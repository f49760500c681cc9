package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/metrics"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// cardShow renders the card page of a registered CRM (/embed/{provider}/card)
// from an embed token.
func (s *Server) cardShow(c *gin.Context) {
	provider := qwoty.Provider(c.Param("provider"))
	if _, ok := s.cards.Adapter(provider); !ok {
		s.noRoute(c)
		return
	}
	s.card(c, provider)
}

// card renders the card page from an embed token: it exchanges the token
// for a page token (kept in the page's memory, sent as a bearer header on
// every action) and lets only the connection's own origins frame the page.
func (s *Server) card(c *gin.Context, provider qwoty.Provider) {
	token := c.Query("token")
	stage := metrics.CardPage()
	claims, conn, err := s.cards.OpenCard(c.Request.Context(), provider, token)
	if err != nil {
		s.cardError(c, token, err)
		return
	}
	web.SetConnectionID(c, conn.ID)
	c.Request = c.Request.WithContext(s.cardEnv(c, provider))
	ec := claims.Context()
	pageToken, _ := s.cards.Tokens().Issue(ec, cardview.AudiencePage, cardview.PageTTL)
	scope := scopeOf(claims)
	name := ec.Record.Name
	if name == "" { // HubSpot and Pipedrive send the record's id only
		name = recordLabel(ec.Record.Type) + " " + ec.Record.ID
	}
	v := templates.CardView{
		Provider:   string(provider),
		RecordID:   ec.Record.ID,
		RecordName: name, AccountName: ec.Record.AccountName,
		PageToken: pageToken, ParentOrigins: s.cards.FrameAncestors(conn), Money: qwoty.MoneyFor(ec.User.Locale),
	}
	stage.Mark(metrics.StageSession)
	if id := c.Query("quote"); id != "" {
		q, err := s.db.GetQuote(c.Request.Context(), scope, id)
		if err != nil && qwoty.ErrorCode(err) != qwoty.CodeNotFound {
			s.cardError(c, "", err)
			return
		}
		v.Open = q
	}
	if v.Open == nil {
		if v.Quotes, err = s.db.ListQuotes(c.Request.Context(), scope); err != nil {
			s.cardError(c, "", err)
			return
		}
	}
	stage.Mark(metrics.StageDB)
	c.Header("Content-Security-Policy", web.Policy(cardview.FrameAncestorsDirective(v.ParentOrigins)))
	web.Render(c, http.StatusOK, templates.CardPage(v))
	stage.Mark(metrics.StageRender)
}

// cardError renders a full-page state for a card that cannot open. When the
// token is genuine (our key, even if expired) it names its connection, so
// the page may be framed by that connection's origins, where the rep sees the
// code and request id, and tells the CRM to fetch a fresh card; a forged or
// missing token gets frame-ancestors 'none'.
func (s *Server) cardError(c *gin.Context, token string, err error) {
	var f web.Framing
	if token != "" {
		if claims, perr := s.cards.Tokens().ParseExpired(token, cardview.AudienceEmbed); perr == nil {
			if conn, cerr := s.db.ConnectionByID(c.Request.Context(), claims.ConnectionID); cerr == nil {
				f.ParentOrigins = s.cards.FrameAncestors(conn)
				f.FrameAncestors = cardview.FrameAncestorsDirective(f.ParentOrigins)
			}
		}
	}
	s.errs.Answer(c, err, web.Page("Reload the record.", f))
}

// scopeOf is what a card session may touch: its record's quotes made in its
// CRM account (connection), in its workspace.
func scopeOf(claims *cardview.Claims) store.Scope {
	return store.Scope{WorkspaceID: claims.WorkspaceID, ConnectionID: claims.ConnectionID, RecordID: claims.Record.ID}
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// recordLabel names a record type for people ("deal" → "Deal").
func recordLabel(t string) string {
	if t == "" {
		return "Record"
	}
	return strings.ToUpper(t[:1]) + t[1:]
}
