package server

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// The customer's page of a quote, /q/{token} (docs/customer-page.md): no
// login and no cookie. The link's token is looked up by its hash; its
// posts (the view its script reports, the answer) carry a form token
// signed by the server for that link, and a post whose Origin is another
// site's is refused, so no other site can post for the customer.

// customerRoutes mounts the customer's page and its actions.
func (s *Server) customerRoutes(r *gin.Engine) {
	g := r.Group("/q/:token", s.customerEnv, s.public.limit(s.failCustomer))
	g.GET("", s.customerPage)
	g.GET("/logo", s.customerLogo)
	g.GET("/pdf", s.customerPDF)
	post := g.Group("", web.SameOrigin(s.cfg.AppURL, s.failCustomer), web.FormInput(s.failCustomer))
	post.POST("/seen", s.customerSeen)
	post.POST("/accept", s.customerAnswer(true))
	post.POST("/reject", s.customerAnswer(false))
}

// customerEnv keeps the token out of the access log (the route's pattern
// is logged instead) and out of every cache. The page's own forms must
// carry their Origin (with no-referrer a browser sends "Origin: null"),
// so its referrer policy is same-origin: the link still never leaves for
// another site.
func (s *Server) customerEnv(c *gin.Context) {
	web.SetLogPath(c, c.FullPath())
	c.Header("Cache-Control", "private, no-store")
	c.Header("Referrer-Policy", "same-origin")
	c.Next()
}

// customerShape is the error shape of the customer's page: a page of its
// own, in words for a customer.
var customerShape = web.Shape{NotFound: "Check that the whole link was copied from the email, or ask the sender for a new one.",
	Write: func(c *gin.Context, p web.Problem) {
		web.Render(c, p.Status, templates.CustomerError(templates.ErrorView{Title: customerTitle(p.Code), Code: string(p.Code),
			Message: web.SentenceEnd(p.Message), Hint: p.Hint, RequestID: p.RequestID}))
	}}

func customerTitle(code qwoty.Code) string {
	switch code {
	case qwoty.CodeNotFound:
		return "This link does not lead to a quote"
	case qwoty.CodeLinkExpired:
		return "This link has expired"
	case qwoty.CodeRateLimited:
		return "Too many requests"
	case qwoty.CodeCSRF:
		return "This answer was not sent from the quote's page"
	case qwoty.CodeUnavailable:
		return "Temporarily unavailable"
	case qwoty.CodeQuoteChanged:
		return "This quote is being revised"
	}
	return "This quote cannot open"
}

func (s *Server) failCustomer(c *gin.Context, err error) { s.errs.Answer(c, err, customerShape) }

// link is the request's link, or an error answered.
func (s *Server) link(c *gin.Context) (*store.CustomerLink, bool) {
	l, err := s.db.QuoteLink(c.Request.Context(), c.Param("token"), s.now())
	if err != nil {
		s.failCustomer(c, err)
		return nil, false
	}
	return l, true
}

// customerPage shows the quote. A GET changes nothing: link previews,
// mail scanners and prefetches fetch it too.
func (s *Server) customerPage(c *gin.Context) {
	l, ok := s.link(c)
	if !ok {
		return
	}
	s.renderCustomer(c, http.StatusOK, l, "", "", "")
}

// renderCustomer renders the link's quote as it is now, with a notice.
func (s *Server) renderCustomer(c *gin.Context, status int, l *store.CustomerLink, notice string, code qwoty.Code, fullName string) {
	ctx := c.Request.Context()
	q, err := s.linkQuote(c, l)
	if err != nil {
		s.failCustomer(c, err)
		return
	}
	ws, err := s.db.WorkspaceName(ctx, l.WorkspaceID)
	if err != nil {
		s.failCustomer(c, err)
		return
	}
	logo, _, err := s.db.WorkspaceLogo(ctx, l.WorkspaceID)
	if err != nil {
		s.failCustomer(c, err)
		return
	}
	h, err := s.db.QuoteHistory(ctx, l.Scope(), q.ID)
	if err != nil {
		s.failCustomer(c, err)
		return
	}
	v := templates.CustomerView{Base: "/q/" + c.Param("token"), Workspace: ws, HasLogo: len(logo) > 0, Quote: q,
		Money: qwoty.MoneyFor(firstLanguage(c.GetHeader("Accept-Language"))), Expired: store.Expired(q, s.now()),
		VersionHash: qwoty.VersionHash(q), FormToken: s.formToken(l.ID, s.now()), Notice: notice, NoticeCode: string(code), FullName: fullName}
	if n := len(h.Decisions); n > 0 && (q.Status == qwoty.StatusAccepted || q.Status == qwoty.StatusRejected) {
		d := h.Decisions[n-1]
		v.Decision = &templates.CustomerDecision{Accepted: d.Decision == "accepted", FullName: d.FullName, At: d.At}
	}
	web.Render(c, status, templates.CustomerPage(v))
}

// linkQuote is the link's quote as the customer may see it: a quote back
// in draft is being revised, and its edits in progress are not shown.
func (s *Server) linkQuote(c *gin.Context, l *store.CustomerLink) (*qwoty.Quote, error) {
	q, err := s.db.LinkQuote(c.Request.Context(), l)
	if err != nil {
		return nil, err
	}
	if q.Status == qwoty.StatusDraft {
		return nil, qwoty.Errorf(qwoty.CodeQuoteChanged, "You will receive the new version by email when it is sent.",
			"Quote %s is being revised by its sender", q.Number)
	}
	return q, nil
}

// firstLanguage is the first tag of an Accept-Language header ("fr-CH").
func firstLanguage(h string) string {
	tag, _, _ := strings.Cut(h, ",")
	tag, _, _ = strings.Cut(tag, ";")
	tag = strings.TrimSpace(tag)
	if len(tag) > 20 {
		return ""
	}
	return tag
}

// customerLogo is the workspace's logo, for the page's header.
func (s *Server) customerLogo(c *gin.Context) {
	l, ok := s.link(c)
	if !ok {
		return
	}
	data, ct, err := s.db.WorkspaceLogo(c.Request.Context(), l.WorkspaceID)
	if err != nil {
		s.failCustomer(c, err)
		return
	}
	if data == nil {
		s.failCustomer(c, qwoty.Errorf(qwoty.CodeNotFound, "The page shows the workspace's name instead.", "This workspace has no logo."))
		return
	}
	c.Header("Cache-Control", "private, max-age=3600")
	c.Data(http.StatusOK, ct, data)
}

// customerPDF downloads the quote's PDF.
func (s *Server) customerPDF(c *gin.Context) {
	l, ok := s.link(c)
	if !ok {
		return
	}
	q, err := s.linkQuote(c, l)
	if err != nil {
		s.failCustomer(c, err)
		return
	}
	s.writePDF(c, l.WorkspaceID, q, s.failCustomer)
}

// customerSeen is the page's script reporting a real view: the link's
// first one is recorded, and a sent quote becomes viewed.
func (s *Server) customerSeen(c *gin.Context) {
	l, ok := s.link(c)
	if !ok {
		return
	}
	if !s.checkFormToken(c.Request.PostFormValue("form_token"), l.ID, s.now()) {
		s.failCustomer(c, errForeignPost())
		return
	}
	if _, err := s.db.MarkViewed(c.Request.Context(), l, visitorOf(c), s.now()); err != nil {
		s.failCustomer(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// customerAnswer accepts or rejects the version the page showed.
func (s *Server) customerAnswer(accept bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		l, ok := s.link(c)
		if !ok {
			return
		}
		form := c.Request.PostForm
		if !s.checkFormToken(form.Get("form_token"), l.ID, s.now()) {
			s.failCustomer(c, errForeignPost())
			return
		}
		d := store.Decision{Accept: accept, VersionHash: form.Get("version_hash"), Visitor: visitorOf(c)}
		name := strings.Join(strings.Fields(form.Get("full_name")), " ")
		if accept {
			d.FullName, d.Consent = name, form.Get("consent") == "yes"
			switch {
			case d.FullName == "":
				s.renderCustomer(c, http.StatusUnprocessableEntity, l, "Type your full name to accept the quote.", qwoty.CodeValidation, "")
				return
			case utf8.RuneCountInString(d.FullName) > store.MaxFullNameChars:
				s.renderCustomer(c, http.StatusUnprocessableEntity, l, "Your name is too long: 200 characters at most.", qwoty.CodeValidation, "")
				return
			case !d.Consent:
				s.renderCustomer(c, http.StatusUnprocessableEntity, l, "Tick the box to confirm that you accept the quote.", qwoty.CodeValidation, d.FullName)
				return
			}
		} else {
			d.Reason = strings.TrimSpace(form.Get("reason"))
			if utf8.RuneCountInString(d.Reason) > store.MaxReasonChars {
				s.renderCustomer(c, http.StatusUnprocessableEntity, l, "The reason is too long: 2000 characters at most.", qwoty.CodeValidation, "")
				return
			}
		}
		if _, err := s.db.Decide(c.Request.Context(), l, d, s.now()); err != nil {
			switch code := qwoty.ErrorCode(err); code {
			case qwoty.CodeQuoteChanged, qwoty.CodeLinkExpired, qwoty.CodeValidation, qwoty.CodeInvalidTransition:
				e := qwoty.AsError(err)
				s.renderCustomer(c, qwoty.HTTPStatus(code), l, web.SentenceEnd(e.Message)+" "+e.Hint, code, d.FullName)
			default:
				s.failCustomer(c, err)
			}
			return
		}
		c.Redirect(http.StatusSeeOther, "/q/"+c.Param("token"))
	}
}

func errForeignPost() error {
	return qwoty.Errorf(qwoty.CodeCSRF, "Open the quote from the link in your email and answer on its page.",
		"This answer did not come from the quote's page, or the page was open too long")
}

// visitorOf is who made the request, for the record.
func visitorOf(c *gin.Context) store.Visitor {
	return store.Visitor{IP: c.ClientIP(), UserAgent: c.GetHeader("User-Agent")}
}

// formTokenLife is how long a page's form token is taken.
const formTokenLife = 24 * time.Hour

// formToken binds a page's posts to its link: the issue time and an
// HMAC of it with the link's id, under a key derived from the server's
// master key.
func (s *Server) formToken(linkID string, now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	return ts + "." + base64.RawURLEncoding.EncodeToString(s.formMAC(linkID, ts))
}

func (s *Server) formMAC(linkID, ts string) []byte {
	m := hmac.New(sha256.New, s.pageKey)
	m.Write([]byte("qwoty customer page|" + linkID + "|" + ts))
	return m.Sum(nil)
}

// checkFormToken reports whether tok is a form token of the link, issued
// within formTokenLife (compared in constant time).
func (s *Server) checkFormToken(tok, linkID string, now time.Time) bool {
	ts, mac, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 100 {
		return false
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	issued := time.Unix(n, 0)
	if now.Sub(issued) > formTokenLife || issued.Sub(now) > 5*time.Minute {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil {
		return false
	}
	return hmac.Equal(got, s.formMAC(linkID, ts))
}

// derivePageKey derives the form tokens' key from the master key.
func derivePageKey(master []byte) []byte {
	k, err := hkdf.Key(sha256.New, master, nil, "qwoty customer page form v1", 32)
	if err != nil {
		panic("server: derive the customer page key: " + err.Error())
	}
	return k
}
