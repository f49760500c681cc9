// Package notify sends an alert to the people who must act on it: one
// email to each workspace admin and, when the connection has one, a
// message to a Slack incoming webhook. It only sends; the sync engine
// decides when (at most one alert per connection and kind per hour).
package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/qwoty/companion/config"
)

// Kind names what an alert is about; the engine throttles per connection
// and kind, and sync_alerts.kind stores it.
type Kind string

// The alerts sync raises; the values are the engine's (jobs.AlertPushFailed,
// jobs.AlertConnection).
const (
	// KindPushFailed: quotes' pushes failed for good (retries used up, or
	// a permanent error from the CRM).
	KindPushFailed Kind = "push_failed"
	// KindConnection: sync cannot run on the connection: it is in error
	// (its token was revoked: invalid_grant), or it was made before sync
	// and must be reconnected to grant the write scopes.
	KindConnection Kind = "connection"
)

// Alert is one alert, composed by the caller. Its texts must hold no
// secret (no token, no webhook URL): they go to mailboxes and Slack.
type Alert struct {
	Kind           Kind
	WorkspaceName  string
	ConnectionName string
	// Subject is one line ("Sync failed: quote Q-1042 to Salesforce").
	Subject string
	// Text says what happened and what to do; plain text, paragraphs
	// separated by blank lines.
	Text string
	// Link is the console page to act on (absolute http(s) URL), or "".
	Link string
	// Emails are the workspace admins' addresses: each gets their own
	// message. None: no email.
	Emails []string
	// SlackURL is the connection's incoming webhook, or "": no Slack.
	SlackURL string
}

// Channel is a way an alert is delivered.
type Channel string

// The channels.
const (
	ChannelEmail Channel = "email"
	ChannelSlack Channel = "slack"
)

// DeliveryError says which channel failed and why; the other channel was
// still tried. Its texts hold no secret.
type DeliveryError struct {
	// Email and Slack are each channel's failure, nil for a channel that
	// was sent or had nothing to send.
	Email error
	Slack error
	// Sent lists the channels that reached someone (email: at least one
	// admin), so that a caller that retries can tell a partial delivery,
	// whose retry would repeat what went out, from nothing delivered.
	Sent []Channel
}

func (e *DeliveryError) Error() string {
	var parts []string
	if e.Email != nil {
		parts = append(parts, "email: "+e.Email.Error())
	}
	if e.Slack != nil {
		parts = append(parts, "slack: "+e.Slack.Error())
	}
	return "alert not delivered: " + strings.Join(parts, "; ")
}

// Unwrap gives both errors to errors.Is and errors.As.
func (e *DeliveryError) Unwrap() []error {
	var out []error
	for _, err := range []error{e.Email, e.Slack} {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// Failed lists the channels that failed.
func (e *DeliveryError) Failed() []Channel {
	var out []Channel
	if e.Email != nil {
		out = append(out, ChannelEmail)
	}
	if e.Slack != nil {
		out = append(out, ChannelSlack)
	}
	return out
}

// ErrNoSMTP is the email channel's error when an alert has addresses but
// the server has no SMTP_URL.
var ErrNoSMTP = &permanentError{errors.New("not sent: no mail server is configured (SMTP_URL)")}

// permanentError is a failure that sending again cannot change (no mail
// server, a webhook Slack refuses).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Retry reports whether the whole alert is worth sending again after Send
// returned err: only when it reached no one and a failed channel may work
// on another try. A partial delivery is not (a retry would repeat what
// went out), nor a malformed alert, nor failures that stay (no mail
// server, Slack refusing the webhook or its channel).
func Retry(err error) bool {
	var de *DeliveryError
	if !errors.As(err, &de) || len(de.Sent) > 0 {
		return false
	}
	var p *permanentError
	for _, e := range []error{de.Email, de.Slack} {
		if e != nil && !errors.As(e, &p) {
			return true
		}
	}
	return false
}

// Options build a Sender.
type Options struct {
	// SMTP is the mail server (config.SMTP, from SMTP_URL); zero: no email.
	SMTP config.SMTP
	// From is the From address (MAIL_FROM).
	From string
	// TLSConfig verifies the mail server (nil: the system's roots, for
	// the SMTP host). Tests give their own roots.
	TLSConfig *tls.Config
	// HTTPClient posts to Slack (nil: a client that follows no redirect).
	HTTPClient *http.Client
	// CheckSlackURL accepts a webhook URL before anything is posted to it
	// (nil: ValidSlackWebhook). Tests that post to a local receiver use
	// AllowLoopbackSlack.
	CheckSlackURL func(string) error
	// EmailTimeout bounds a whole SMTP session, SlackTimeout one post
	// (0: the defaults).
	EmailTimeout, SlackTimeout time.Duration
}

// Default bounds: an alert is sent from a background job, which must not
// hang on a mail server or on Slack.
const (
	DefaultEmailTimeout = 30 * time.Second
	DefaultSlackTimeout = 10 * time.Second
)

// Sender delivers alerts. It is safe for concurrent use.
type Sender struct {
	smtp       config.SMTP
	from       *mail.Address
	tlsConfig  *tls.Config
	http       *http.Client
	checkSlack func(string) error
	emailTO    time.Duration
	slackTO    time.Duration
}

// New builds a Sender.
func New(o Options) (*Sender, error) {
	from, err := mail.ParseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("notify: From %q is not a mail address", o.From)
	}
	s := &Sender{smtp: o.SMTP, from: from, tlsConfig: o.TLSConfig, http: o.HTTPClient, checkSlack: o.CheckSlackURL,
		emailTO: o.EmailTimeout, slackTO: o.SlackTimeout}
	if s.http == nil {
		// A webhook answers; it never redirects, and a redirect must not
		// carry the alert (or the webhook's path) elsewhere.
		s.http = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if s.checkSlack == nil {
		s.checkSlack = ValidSlackWebhook
	}
	if s.emailTO <= 0 {
		s.emailTO = DefaultEmailTimeout
	}
	if s.slackTO <= 0 {
		s.slackTO = DefaultSlackTimeout
	}
	return s, nil
}

// FromConfig builds the server's Sender from its configuration.
func FromConfig(c *config.Config) (*Sender, error) {
	return New(Options{SMTP: c.SMTP, From: c.MailFrom})
}

// EmailEnabled reports whether a mail server is configured.
func (s *Sender) EmailEnabled() bool { return s.smtp.Enabled() }

// Send delivers an alert by email and to Slack, each independently and at
// the same time: one failing does not stop the other. It returns nil when
// every channel with a recipient was sent, a *DeliveryError naming the
// failed ones (and those sent) otherwise, or another error for an alert
// that is not well formed (nothing sent). An alert without emails and
// Slack URL sends nothing.
func (s *Sender) Send(ctx context.Context, a Alert) error {
	a, err := clean(a)
	if err != nil {
		return err
	}
	var de DeliveryError
	var emailed int
	var wg sync.WaitGroup
	if len(a.Emails) > 0 {
		wg.Go(func() { emailed, de.Email = s.sendEmail(ctx, a) })
	}
	if a.SlackURL != "" {
		wg.Go(func() { de.Slack = s.postSlack(ctx, a) })
	}
	wg.Wait()
	if de.Email == nil && de.Slack == nil {
		return nil
	}
	if emailed > 0 {
		de.Sent = append(de.Sent, ChannelEmail)
	}
	if a.SlackURL != "" && de.Slack == nil {
		de.Sent = append(de.Sent, ChannelSlack)
	}
	return &de
}

var kindForm = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// clean checks an alert and bounds its texts; single-line fields lose
// their control characters (no header can be injected through them).
func clean(a Alert) (Alert, error) {
	if !kindForm.MatchString(string(a.Kind)) {
		return a, fmt.Errorf("notify: kind %q is not a short lower-case name", a.Kind)
	}
	a.Subject = oneLine(a.Subject, 200)
	a.WorkspaceName = oneLine(a.WorkspaceName, 200)
	a.ConnectionName = oneLine(a.ConnectionName, 200)
	a.Text = multiLine(a.Text, 4000)
	if a.Subject == "" || a.Text == "" {
		return a, errors.New("notify: an alert needs a subject and a text")
	}
	if a.Link != "" {
		u, err := url.Parse(a.Link)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return a, errors.New("notify: the link is not an absolute http(s) URL")
		}
	}
	a.SlackURL = strings.TrimSpace(a.SlackURL)
	return a, nil
}

// oneLine turns every run of spaces and control characters into one
// space and cuts the text at n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	return cut(s, n)
}

// multiLine keeps line breaks and tabs, drops other control characters
// and cuts the text at n characters.
func multiLine(s string, n int) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	s = strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	return cut(strings.TrimSpace(s), n)
}

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n-1])) + "…"
}
