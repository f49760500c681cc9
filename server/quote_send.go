package server

import (
	"net/http"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

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
	v := templates.SendView{Quote: q, Max: store.MaxRecipients, Subject: notify.QuoteSubject(ws, q.Number, q.Title),
		Message: defaultMessage(q, claims.User.Name)}
	for _, ct := range contacts {
		v.Contacts = append(v.Contacts, templates.SendContact{Email: ct.Email, Name: ct.Name, Role: ct.Role})
	}
	web.Render(c, http.StatusOK, templates.SendForm(v))
}

// defaultMessage is the send form's message until the rep writes theirs.
func defaultMessage(q *qwoty.Quote, rep string) string {
	m := "Hello,\n\nHere is our quote " + q.Number + ". You can read it, download it as a PDF, and accept it online at the link below."
	if rep != "" {
		m += "\n\nBest regards,\n" + rep
	}
	return m
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
	form := c.Request.PostForm
	in := store.SendInput{Subject: strings.Join(strings.Fields(form.Get("subject")), " "), Message: strings.TrimSpace(form.Get("message"))}
	if in.Subject == "" {
		s.fail(c, &qwoty.Error{Code: qwoty.CodeRecipientInvalid, Message: "The email needs a subject.", Hint: "Write a subject, then send.", Field: "subject"})
		return
	}
	if utf8.RuneCountInString(in.Subject) > store.MaxSubjectChars {
		s.fail(c, &qwoty.Error{Code: qwoty.CodeRecipientInvalid, Message: "The subject is too long: 200 characters at most.", Hint: "Shorten the subject.", Field: "subject"})
		return
	}
	if utf8.RuneCountInString(in.Message) > store.MaxMessageChars {
		s.fail(c, &qwoty.Error{Code: qwoty.CodeRecipientInvalid, Message: "The message is too long: 5000 characters at most.", Hint: "Shorten the message.", Field: "message"})
		return
	}
	contacts, err := s.db.DealContacts(ctx, scopeOf(claims))
	if err != nil {
		s.fail(c, err)
		return
	}
	if in.Recipients, err = recipients(form["contact"], form.Get("to"), contacts); err != nil {
		s.fail(c, err)
		return
	}
	in.SentBy = claims.User.Name
	q, _, err := s.db.SendQuote(ctx, scopeOf(claims), c.Param("quote"), version, claims.User.ID, in, s.now())
	if err != nil {
		s.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.QuoteEditor(q, moneyOf(c)))
}

// maxTypedChars bounds the typed addresses' field.
const maxTypedChars = 4000

// recipients is the send's recipients: the contacts ticked (each must be
// one of the deal's) and the addresses typed (separated by commas,
// semicolons or spaces), each a valid address, lower-cased, without
// duplicates, at least one and at most store.MaxRecipients.
func recipients(ticked []string, typed string, contacts []store.Contact) ([]string, error) {
	bad := func(msg string) error {
		return &qwoty.Error{Code: qwoty.CodeRecipientInvalid, Message: msg,
			Hint: "Pick the deal's contacts or type addresses like name@example.com, separated by commas.", Field: "to"}
	}
	known := make(map[string]bool, len(contacts))
	for _, ct := range contacts {
		known[strings.ToLower(ct.Email)] = true
	}
	seen := map[string]bool{}
	var out []string
	add := func(addr string) error {
		if len(out) >= store.MaxRecipients && !seen[addr] {
			return bad("Too many recipients: one send goes to 20 at most.")
		}
		if !seen[addr] {
			seen[addr] = true
			out = append(out, addr)
		}
		return nil
	}
	for _, t := range ticked {
		e := strings.ToLower(strings.TrimSpace(t))
		if !known[e] {
			return nil, bad(quoteText(t) + " is not a contact of this deal.")
		}
		if err := add(e); err != nil {
			return nil, err
		}
	}
	if utf8.RuneCountInString(typed) > maxTypedChars {
		return nil, bad("Too many addresses typed: one send goes to 20 at most.")
	}
	for _, f := range splitAddresses(typed) {
		a, err := mail.ParseAddress(f)
		if err != nil || !plausibleAddress(a.Address) {
			return nil, bad(quoteText(f) + " is not a valid email address.")
		}
		if err := add(strings.ToLower(a.Address)); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, bad("Choose at least one recipient.")
	}
	return out, nil
}

// splitAddresses splits a typed list at commas, semicolons and line
// breaks; an address with a display name ("Ann <ann@x.example>") stays
// whole.
func splitAddresses(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '\n' || r == '\r' }) {
		if f = strings.TrimSpace(f); f != "" {
			if !strings.Contains(f, "<") && strings.ContainsFunc(f, unicode.IsSpace) {
				out = append(out, strings.Fields(f)...)
				continue
			}
			out = append(out, f)
		}
	}
	return out
}

// plausibleAddress refuses what mail.ParseAddress takes but no mailbox
// is: no dot in the domain, too long.
func plausibleAddress(a string) bool {
	at := strings.LastIndexByte(a, '@')
	return at > 0 && len(a) <= 254 && strings.Contains(a[at+1:], ".") && !strings.HasSuffix(a, ".")
}

// quoteText quotes a bit of the rep's input in a message, bounded.
func quoteText(s string) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > 80 {
		s = string([]rune(s)[:79]) + "…"
	}
	return "“" + s + "”"
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
