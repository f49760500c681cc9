package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"net/mail"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/qwoty/companion/config"
)

// sendEmail sends one message to each address over one SMTP session. An
// address the server refuses does not stop the others; the error names
// the addresses not sent to.
func (s *Sender) sendEmail(ctx context.Context, a Alert) (sent int, _ error) {
	if !s.smtp.Enabled() {
		return 0, ErrNoSMTP
	}
	var msgs []*gomail.Msg
	var to []string
	var errs []error
	seen := map[string]bool{}
	for _, e := range a.Emails {
		addr, err := mail.ParseAddress(e)
		if err != nil {
			errs = append(errs, fmt.Errorf("%q is not a mail address", e))
			continue
		}
		if key := strings.ToLower(addr.Address); seen[key] {
			continue
		} else {
			seen[key] = true
		}
		m, err := s.message(a, addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("to %s: %w", addr.Address, err))
			continue
		}
		msgs, to = append(msgs, m), append(to, addr.Address)
	}
	if len(msgs) > 0 {
		var failed []error
		sent, failed = s.deliver(ctx, msgs, to)
		errs = append(errs, failed...)
	}
	return sent, errors.Join(errs...)
}

// message builds the email to one admin: plain text with a simple HTML
// alternative, marked as automatic so that vacation replies stay quiet.
func (s *Sender) message(a Alert, to *mail.Address) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	m.FromMailAddress(s.from)
	m.ToMailAddress(to)
	m.Subject("[Qwoty] " + a.Subject)
	m.SetDate()
	m.SetMessageID()
	// RFC 3834: an automatic message; Precedence and
	// X-Auto-Response-Suppress quiet the auto-responders that ignore it.
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetBulk()
	m.SetGenHeader("X-Qwoty-Alert", string(a.Kind))
	m.SetBodyString(gomail.TypeTextPlain, plainBody(a))
	var html bytes.Buffer
	if err := htmlBody.Execute(&html, a); err != nil {
		return nil, err
	}
	m.AddAlternativeString(gomail.TypeTextHTML, html.String())
	return m, nil
}

// deliver sends the messages over one session: how many went out, and an
// error per message not sent (or one for the session).
func (s *Sender) deliver(ctx context.Context, msgs []*gomail.Msg, to []string) (sent int, errs []error) {
	c, err := s.client()
	if err != nil {
		return 0, []error{err}
	}
	ctx, cancel := context.WithTimeout(ctx, s.emailTO)
	defer cancel()
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return 0, []error{fmt.Errorf("connect to %s:%d: %w", s.smtp.Host, s.smtp.Port, err)}
	}
	// The context ends the session too: closing the connection fails the
	// command under way.
	stop := context.AfterFunc(ctx, func() { _ = sc.Close() })
	defer stop()
	for i, m := range msgs {
		if err := c.SendWithSMTPClient(sc, m); err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("%w (%w)", ctx.Err(), err)
			}
			errs = append(errs, fmt.Errorf("to %s: %w", to[i], err))
			continue
		}
		sent++
	}
	_ = c.CloseWithSMTPClient(sc)
	return sent, errs
}

// client is a go-mail client for the configured server: TLS from the
// first byte (smtps), or STARTTLS required (smtp), or, to a loopback
// host, STARTTLS when the server offers it. It authenticates when the URL
// carries a user, with the strongest mechanism the server offers.
func (s *Sender) client() (*gomail.Client, error) {
	tc := s.tlsConfig
	if tc == nil {
		tc = &tls.Config{ServerName: s.smtp.Host, MinVersion: tls.VersionTLS12}
	}
	opts := []gomail.Option{gomail.WithPort(s.smtp.Port), gomail.WithTimeout(s.emailTO), gomail.WithTLSConfig(tc)}
	switch s.smtp.Security {
	case config.SMTPImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case config.SMTPStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case config.SMTPLoopback:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		return nil, fmt.Errorf("unknown SMTP security %q", s.smtp.Security)
	}
	if s.smtp.Username != "" {
		opts = append(opts, gomail.WithUsername(s.smtp.Username), gomail.WithPassword(s.smtp.Password))
		if s.smtp.Security == config.SMTPLoopback {
			// Maybe without TLS: go-mail's discovery then skips PLAIN and
			// LOGIN, which it allows in clear to localhost only.
			opts = append(opts, gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1,
				gomail.SMTPAuthCramMD5, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
		} else {
			opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover))
		}
	}
	return gomail.NewClient(s.smtp.Host, opts...)
}

// footer says why the reader gets this, in both bodies.
func footer(a Alert) string {
	who := "You receive this because you are an admin of this Qwoty workspace. "
	if a.WorkspaceName != "" {
		who = fmt.Sprintf("You receive this because you are an admin of the Qwoty workspace “%s”. ", a.WorkspaceName)
	}
	return who + "Qwoty sends at most one alert of this kind per connection per hour."
}

func plainBody(a Alert) string {
	var b strings.Builder
	b.WriteString(a.Text)
	b.WriteString("\n\n")
	if a.WorkspaceName != "" {
		b.WriteString("Workspace: " + a.WorkspaceName + "\n")
	}
	if a.ConnectionName != "" {
		b.WriteString("Connection: " + a.ConnectionName + "\n")
	}
	if a.Link != "" {
		b.WriteString("\nOpen in Qwoty: " + a.Link + "\n")
	}
	b.WriteString("\n-- \n" + footer(a) + "\n")
	return b.String()
}

// paragraphs splits a text at blank lines, for the HTML body.
func paragraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(s, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// htmlBody is the HTML alternative: inline styles only (mail clients drop
// style sheets), every value escaped by html/template.
var htmlBody = template.Must(template.New("alert").Funcs(template.FuncMap{"paragraphs": paragraphs, "footer": footer}).Parse(
	`<!doctype html><html><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.5;color:#222">
<p style="font-size:16px;font-weight:bold">{{.Subject}}</p>
{{range paragraphs .Text}}<p style="white-space:pre-line">{{.}}</p>
{{end}}<table style="border-collapse:collapse;margin:12px 0">
{{if .WorkspaceName}}<tr><td style="padding:2px 12px 2px 0;color:#666">Workspace</td><td>{{.WorkspaceName}}</td></tr>{{end}}
{{if .ConnectionName}}<tr><td style="padding:2px 12px 2px 0;color:#666">Connection</td><td>{{.ConnectionName}}</td></tr>{{end}}
</table>
{{if .Link}}<p><a href="{{.Link}}" style="color:#0b5cad">Open in Qwoty</a></p>{{end}}
<p style="color:#777;font-size:12px;border-top:1px solid #ddd;padding-top:8px">{{footer .}}</p>
</body></html>`))
