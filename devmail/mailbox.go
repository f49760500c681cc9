// Package devmail is the development mailbox: an SMTP server on a loopback
// address that keeps the last messages it received in memory, and pages
// that list them, so that `make run` shows the alert email the server
// sends without a real mail server. Nothing is ever delivered anywhere.
package devmail

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/qwoty/companion/config"
)

// Bounds of what the mailbox keeps: a development server runs for days,
// and an alert is a few kilobytes.
const (
	DefaultMaxMessages     = 200
	DefaultMaxMessageBytes = 256 << 10
)

// Options change the mailbox for tests of an SMTP client: the
// development server uses none of them.
type Options struct {
	// TLSConfig makes the server offer STARTTLS or, with ImplicitTLS,
	// speak TLS from the first byte (smtps).
	TLSConfig   *tls.Config
	ImplicitTLS bool
	// Auth, when set, offers AUTH PLAIN and requires it before MAIL; it
	// says whether a user and password are right.
	Auth func(user, password string) bool
	// RejectRcpt, when set, refuses the recipients it names with 550, as
	// a server refuses an unknown mailbox.
	RejectRcpt func(to string) bool
	// MaxMessages and MaxMessageBytes bound what is kept (0: the defaults).
	// A longer message is refused with SMTP's 552.
	MaxMessages     int
	MaxMessageBytes int64
}

// Mailbox is a running development mailbox.
type Mailbox struct {
	opts   Options
	srv    *smtp.Server
	ln     net.Listener
	served chan struct{}

	mu     sync.Mutex
	msgs   []*Message // oldest first
	nextID int
}

// Start runs a mailbox on addr, a loopback address such as
// "127.0.0.1:2525" (port 0 picks one).
func Start(addr string) (*Mailbox, error) { return StartWith(addr, Options{}) }

// StartWith runs a mailbox with options. It refuses an address other
// than a loopback one: the mailbox takes mail from anyone who can reach it.
func StartWith(addr string, o Options) (*Mailbox, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("devmail: address %q: %w", addr, err)
	}
	if ip, err := netip.ParseAddr(host); host != "localhost" && (err != nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("devmail: %q is not a loopback address (127.0.0.1:port)", addr)
	}
	if o.MaxMessages <= 0 {
		o.MaxMessages = DefaultMaxMessages
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	var ln net.Listener
	if o.ImplicitTLS {
		if o.TLSConfig == nil {
			return nil, errors.New("devmail: ImplicitTLS needs a TLSConfig")
		}
		ln, err = tls.Listen("tcp", addr, o.TLSConfig)
	} else {
		ln, err = net.Listen("tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("devmail: listen on %s: %w", addr, err)
	}
	mb := &Mailbox{opts: o, ln: ln, served: make(chan struct{})}
	mb.srv = smtp.NewServer(smtp.BackendFunc(mb.newSession))
	mb.srv.Domain = "qwoty-devmail.localhost"
	mb.srv.MaxMessageBytes = o.MaxMessageBytes
	mb.srv.MaxRecipients = 100
	mb.srv.ReadTimeout = time.Minute
	mb.srv.WriteTimeout = time.Minute
	if !o.ImplicitTLS {
		mb.srv.TLSConfig = o.TLSConfig // offers STARTTLS when set
	}
	// Loopback only: a password in clear never leaves the machine.
	mb.srv.AllowInsecureAuth = true
	mb.srv.ErrorLog = debugLog{}
	go func() {
		defer close(mb.served)
		_ = mb.srv.Serve(ln)
	}()
	return mb, nil
}

// Addr is the address the mailbox listens on ("127.0.0.1:2525").
func (mb *Mailbox) Addr() string { return mb.ln.Addr().String() }

// SMTP is the setting that sends to this mailbox (SMTP_URL
// smtp://127.0.0.1:PORT for the development one).
func (mb *Mailbox) SMTP() config.SMTP {
	a := mb.ln.Addr().(*net.TCPAddr)
	s := config.SMTP{Host: a.IP.String(), Port: a.Port, Security: config.SMTPLoopback}
	switch {
	case mb.opts.ImplicitTLS:
		s.Security = config.SMTPImplicitTLS
	case mb.opts.TLSConfig != nil:
		s.Security = config.SMTPStartTLS
	}
	return s
}

// URL is the SMTP_URL of this mailbox, without credentials.
func (mb *Mailbox) URL() string {
	scheme := "smtp"
	if mb.opts.ImplicitTLS {
		scheme = "smtps"
	}
	return scheme + "://" + mb.Addr()
}

// Close stops the mailbox; the messages are gone with it.
func (mb *Mailbox) Close() error {
	err := mb.srv.Close()
	// Serve may not have registered the listener yet, and then Close did
	// not close it.
	_ = mb.ln.Close()
	<-mb.served
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Messages returns the messages kept, newest first.
func (mb *Mailbox) Messages() []Message {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	out := make([]Message, 0, len(mb.msgs))
	for i := len(mb.msgs) - 1; i >= 0; i-- {
		out = append(out, *mb.msgs[i])
	}
	return out
}

// Message returns the message with id, if it is still kept.
func (mb *Mailbox) Message(id int) (Message, bool) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	for _, m := range mb.msgs {
		if m.ID == id {
			return *m, true
		}
	}
	return Message{}, false
}

// keep stores a message, dropping the oldest beyond the bound.
func (mb *Mailbox) keep(m *Message) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	mb.nextID++
	m.ID = mb.nextID
	mb.msgs = append(mb.msgs, m)
	if n := len(mb.msgs) - mb.opts.MaxMessages; n > 0 {
		clear(mb.msgs[:n])
		mb.msgs = mb.msgs[n:]
	}
}

func (mb *Mailbox) newSession(c *smtp.Conn) (smtp.Session, error) {
	_, tlsOn := c.TLSConnectionState()
	return &session{mb: mb, tls: tlsOn}, nil
}

// session is one SMTP conversation.
type session struct {
	mb   *Mailbox
	tls  bool
	user string // authenticated
	from string
	to   []string
}

func (s *session) AuthMechanisms() []string {
	if s.mb.opts.Auth == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	if s.mb.opts.Auth == nil || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, user, password string) error {
		if (identity != "" && identity != user) || !s.mb.opts.Auth(user, password) {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.mb.opts.Auth != nil && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from, s.to = from, nil
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.mb.opts.RejectRcpt != nil && s.mb.opts.RejectRcpt(to) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	// The server bounds r at MaxMessageBytes: a longer message fails
	// here with its 552 and is not kept.
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := parse(raw)
	m.Received = time.Now()
	m.EnvelopeFrom = s.from
	m.EnvelopeTo = append([]string(nil), s.to...)
	m.TLS = s.tls
	m.User = s.user
	s.mb.keep(m)
	return nil
}

func (s *session) Reset() { s.from, s.to = "", nil }

func (s *session) Logout() error { return nil }

// debugLog sends go-smtp's connection errors (a client that hung up) to
// the debug log rather than stderr.
type debugLog struct{}

func (debugLog) Printf(format string, v ...any) { slog.Debug("devmail: " + fmt.Sprintf(format, v...)) }
func (debugLog) Println(v ...any)               { slog.Debug("devmail: " + fmt.Sprint(v...)) }
