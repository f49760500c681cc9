package notify

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// QuoteEmail is a quote sent to a customer: one message to each
// recipient, with the rep's words and the link to the customer's page. The
// link holds the page's token, so nothing of it is logged.
type QuoteEmail struct {
	To            []string
	WorkspaceName string
	QuoteNumber   string
	Subject       string
	// Message is the rep's text (plain text, paragraphs kept).
	Message string
	// Link is the absolute http(s) address of the customer's page.
	Link string
}

// SendQuote sends a quote's email, one message per recipient over one
// session. It returns how many went out; an address the server refuses
// does not stop the others. ErrNoSMTP when no mail server is configured.
func (s *Sender) SendQuote(ctx context.Context, e QuoteEmail) (int, error) {
	if !s.smtp.Enabled() {
		return 0, ErrNoSMTP
	}
	u, err := url.Parse(e.Link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return 0, &permanentError{errors.New("the quote's link is not an absolute http(s) URL")}
	}
	ws := oneLine(e.WorkspaceName, 200)
	subject := oneLine(e.Subject, 200)
	if subject == "" {
		subject = "Quote " + oneLine(e.QuoteNumber, 40) + " from " + ws
	}
	body := multiLine(e.Message, 5000)
	text := fmt.Sprintf("%s\n\nOpen the quote %s:\n\n%s\n\nOn that page you can read the quote, download it as a PDF, and accept or reject it.\n\n-- \n%s\n",
		body, oneLine(e.QuoteNumber, 40), e.Link, ws)
	var msgs []*gomail.Msg
	var to []string
	var errs []error
	for _, addr := range e.To {
		a, err := mail.ParseAddress(addr)
		if err != nil {
			errs = append(errs, &permanentError{fmt.Errorf("%q is not a mail address", addr)})
			continue
		}
		m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
		from := *s.from
		if ws != "" {
			from.Name = ws
		}
		m.FromMailAddress(&from)
		m.ToMailAddress(a)
		m.Subject(subject)
		m.SetDate()
		m.SetMessageID()
		m.SetGenHeader("X-Qwoty-Mail", "quote")
		m.SetBodyString(gomail.TypeTextPlain, text)
		msgs, to = append(msgs, m), append(to, a.Address)
	}
	sent := 0
	if len(msgs) > 0 {
		var failed []error
		sent, failed = s.deliver(ctx, msgs, to)
		errs = append(errs, failed...)
	}
	return sent, errors.Join(errs...)
}

// Permanent reports whether sending again cannot help after err (no mail
// server, a malformed address or link).
func Permanent(err error) bool {
	var p *permanentError
	if err == nil {
		return false
	}
	for _, e := range unwrapAll(err) {
		if !errors.As(e, &p) {
			return false
		}
	}
	return true
}

// unwrapAll lists a joined error's parts (err itself when it is not one).
func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// QuoteSubject is a send form's default subject.
func QuoteSubject(workspace, number, title string) string {
	s := "Quote " + number
	if t := strings.TrimSpace(title); t != "" {
		s += ": " + t
	}
	if workspace != "" {
		s += " from " + workspace
	}
	return oneLine(s, 200)
}
