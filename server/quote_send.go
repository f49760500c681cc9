package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/notify"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// quoteSendForm shows the send form: the deal's contacts, a default
// subject and message.
func (s *Server) quoteSendForm(c *gin.Context) {
	ctx := c.Request.Context()
	claims := claimsOf(c)
	q, err := s.db.GetQuote(ctx, scopeOf(claims), c.Param("quote"))
	if err != nil {
		s.fail(c, err)
		return
	}
	contacts, err := s.db.DealContacts(ctx, scopeOf(claims))
	if err != nil {
		s.fail(c, err)
		return
	}
	ws, err := s.db.WorkspaceName(ctx, claims.WorkspaceID)
	if err != nil {
		s.fail(c, err)
		return
	}
	v := templates.SendView{Quote: q, Max: qwoty.MaxRecipients, Subject: notify.QuoteSubject(ws, q.Number, q.Title),
		Message: qwoty.DefaultSendMessage(q.Number, claims.User.Name)}
	for _, ct := range contacts {
		v.Contacts = append(v.Contacts, templates.SendContact{Email: ct.Email, Name: ct.Name, Role: ct.Role})
	}
	web.Render(c, http.StatusOK, templates.SendForm(v))
}

// quoteSend sends the quote: a customer link, the quote sent, the send
// recorded and its email queued, all in one transaction.
func (s *Server) quoteSend(c *gin.Context) {
	claims := claimsOf(c)
	ctx := c.Request.Context()
	version, err := formVersion(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	contacts, err := s.db.DealContacts(ctx, scopeOf(claims))
	if err != nil {
		s.fail(c, err)
		return
	}
	form := c.Request.PostForm
	f := qwoty.SendForm{Ticked: form["contact"], Typed: form.Get("to"), Subject: form.Get("subject"), Message: form.Get("message")}
	for _, ct := range contacts {
		f.Known = append(f.Known, ct.Email)
	}
	checked, err := qwoty.CheckSend(f)
	if err != nil {
		s.fail(c, err)
		return
	}
	in := store.SendInput{Recipients: checked.Recipients, Subject: checked.Subject, Message: checked.Message}
	in.SentBy = claims.User.Name
	q, _, err := s.db.SendQuote(ctx, scopeOf(claims), c.Param("quote"), version, claims.User.ID, in, s.now())
	if err != nil {
		s.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.QuoteEditor(q, moneyOf(c)))
}

// quoteHistory shows the quote's sends, views and answers.
func (s *Server) quoteHistory(c *gin.Context) {
	claims := claimsOf(c)
	h, err := s.db.QuoteHistory(c.Request.Context(), scopeOf(claims), c.Param("quote"))
	if err != nil {
		s.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.History(historyView(h, claims.User.TimeZone)))
}

// quotePDF downloads the quote's PDF.
func (s *Server) quotePDF(c *gin.Context) {
	claims := claimsOf(c)
	q, err := s.db.GetQuote(c.Request.Context(), scopeOf(claims), c.Param("quote"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writePDF(c, claims.WorkspaceID, q, s.fail)
}
