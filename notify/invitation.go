package notify

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Invitation is the email inviting someone to a workspace: its link holds
// a single-use token, so the email is the secret's only copy and nothing
// of it is logged.
type Invitation struct {
	To            string
	WorkspaceName string
	InvitedBy     string
	Role          string
	// Link is the absolute http(s) address that accepts the invitation.
	Link    string
	Expires time.Time
}

// SendInvitation sends one invitation email (plain text), through the
// same mail server as alerts. ErrNoSMTP when none is configured.
func (s *Sender) SendInvitation(ctx context.Context, inv Invitation) error {
	if !s.smtp.Enabled() {
		return ErrNoSMTP
	}
	to, err := mail.ParseAddress(inv.To)
	if err != nil {
		return fmt.Errorf("notify: %q is not a mail address", inv.To)
	}
	u, err := url.Parse(inv.Link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("notify: the invitation link is not an absolute http(s) URL")
	}
	ws := oneLine(inv.WorkspaceName, 200)
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	m.FromMailAddress(s.from)
	m.ToMailAddress(to)
	m.Subject("[Qwoty] " + oneLine(inv.InvitedBy, 200) + " invites you to " + ws)
	m.SetDate()
	m.SetMessageID()
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetGenHeader("X-Qwoty-Mail", "invitation")
	m.SetBodyString(gomail.TypeTextPlain, fmt.Sprintf(
		"%s invites you to the Qwoty workspace “%s” as %s.\n\n"+
			"Open this link to choose your name and password and sign in:\n\n%s\n\n"+
			"The link works once, until %s. If you did not expect this invitation, ignore this email: nothing happens without the link.\n",
		oneLine(inv.InvitedBy, 200), ws, oneLine(inv.Role, 20), inv.Link, inv.Expires.UTC().Format("2 January 2006, 15:04 UTC")))
	if _, errs := s.deliver(ctx, []*gomail.Msg{m}, []string{to.Address}); len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}
