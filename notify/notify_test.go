package notify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/devmail"
)

const from = "Qwoty <no-reply@app.example>"

func alert() Alert {
	return Alert{
		Kind:           KindPushFailed,
		WorkspaceName:  "Acme & Sons",
		ConnectionName: "Salesforce · Acme (00D000000000001)",
		Subject:        "Sync failed: quote Q-1042 to Salesforce",
		Text:           "Quote Q-1042 could not be written to Salesforce after 3 retries.\n\nSalesforce said: <unable to obtain exclusive access>",
		Link:           "https://app.example/console/integrations/4f0c",
		Emails:         []string{"ana@acme.example"},
	}
}

func startMailbox(t *testing.T, o devmail.Options) *devmail.Mailbox {
	t.Helper()
	mb, err := devmail.StartWith("127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mb.Close() })
	return mb
}

func newSender(t *testing.T, o Options) *Sender {
	t.Helper()
	if o.From == "" {
		o.From = from
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// slackReceiver is a stand-in for Slack's webhook endpoint: it records
// each post and answers what Slack answers (200 "ok") unless told otherwise.
type slackReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	posts  []slackPost
	status int
	answer string
	delay  time.Duration
}

type slackPost struct {
	contentType string
	body        map[string]any
}

func newSlack(t *testing.T) *slackReceiver {
	r := &slackReceiver{status: 200, answer: "ok"}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var body map[string]any
		if req.Method != http.MethodPost || json.Unmarshal(b, &body) != nil {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.posts = append(r.posts, slackPost{req.Header.Get("Content-Type"), body})
		status, answer, delay := r.status, r.answer, r.delay
		r.mu.Unlock()
		select {
		case <-time.After(delay):
		case <-req.Context().Done():
			return
		}
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *slackReceiver) Posts() []slackPost {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]slackPost(nil), r.posts...)
}

// The webhook's path as Slack makes it: the receiver ignores it, but no
// error may show it.
const hookPath = "/services/T0001/B0001/SeCrEtToKeN0123456789abc"

func TestEmailToEachAdmin(t *testing.T) {
	mb := startMailbox(t, devmail.Options{})
	s := newSender(t, Options{SMTP: mb.SMTP()})
	a := alert()
	a.Emails = []string{"ana@acme.example", "Bo Admin <bo@acme.example>", "ANA@acme.example"}
	if err := s.Send(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	msgs := mb.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want one per admin (the same address twice is one)", len(msgs))
	}
	got := map[string]devmail.Message{}
	for _, m := range msgs {
		if len(m.EnvelopeTo) != 1 {
			t.Fatalf("message delivered to %v: want each admin alone (no admin sees another's address)", m.EnvelopeTo)
		}
		got[m.EnvelopeTo[0]] = m
	}
	bo, ok := got["bo@acme.example"]
	if !ok || got["ana@acme.example"].Subject == "" {
		t.Fatalf("recipients %v", got)
	}
	if bo.To != `"Bo Admin" <bo@acme.example>` && bo.To != "Bo Admin <bo@acme.example>" {
		t.Errorf("To header %q", bo.To)
	}
	if bo.Subject != "[Qwoty] Sync failed: quote Q-1042 to Salesforce" || bo.EnvelopeFrom != "no-reply@app.example" || !strings.Contains(bo.From, "no-reply@app.example") {
		t.Errorf("subject %q, from %q (envelope %q)", bo.Subject, bo.From, bo.EnvelopeFrom)
	}
	for _, want := range []string{"could not be written to Salesforce after 3 retries", "Salesforce said: <unable to obtain exclusive access>",
		"Workspace: Acme & Sons", "Connection: Salesforce · Acme (00D000000000001)", "Open in Qwoty: https://app.example/console/integrations/4f0c",
		"admin of the Qwoty workspace “Acme & Sons”"} {
		if !strings.Contains(bo.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, bo.Text)
		}
	}
	for _, want := range []string{"&lt;unable to obtain exclusive access&gt;", "Acme &amp; Sons", `href="https://app.example/console/integrations/4f0c"`} {
		if !strings.Contains(bo.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, bo.HTML)
		}
	}
	if bo.Header.Get("Auto-Submitted") != "auto-generated" || bo.Header.Get("X-Qwoty-Alert") != "push_failed" || bo.Header.Get("Message-Id") == "" {
		t.Errorf("headers %v", bo.Header)
	}
}

func TestHeaderInjectionIsFlattened(t *testing.T) {
	mb := startMailbox(t, devmail.Options{})
	s := newSender(t, Options{SMTP: mb.SMTP()})
	a := alert()
	a.Subject = "Sync failed\r\nBcc: thief@evil.example\r\n\r\nforged body"
	if err := s.Send(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	m := mb.Messages()[0]
	if len(m.EnvelopeTo) != 1 || m.Header.Get("Bcc") != "" || m.Subject != "[Qwoty] Sync failed Bcc: thief@evil.example forged body" {
		t.Fatalf("delivered to %v, Bcc %q, subject %q", m.EnvelopeTo, m.Header.Get("Bcc"), m.Subject)
	}
}

func TestStartTLSWithAuthentication(t *testing.T) {
	serverTLS, roots := testCert(t)
	mb := startMailbox(t, devmail.Options{TLSConfig: serverTLS, Auth: func(u, p string) bool { return u == "alerts" && p == "pa55 word" }})
	smtp := mb.SMTP()
	if smtp.Security != config.SMTPStartTLS {
		t.Fatalf("mailbox settings %v", smtp)
	}
	smtp.Username, smtp.Password = "alerts", "pa55 word"
	s := newSender(t, Options{SMTP: smtp, TLSConfig: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}})
	if err := s.Send(context.Background(), alert()); err != nil {
		t.Fatal(err)
	}
	if m := mb.Messages(); len(m) != 1 || !m[0].TLS || m[0].User != "alerts" {
		t.Fatalf("messages %+v: want one, over TLS, authenticated", m)
	}

	smtp.Password = "wrong"
	s = newSender(t, Options{SMTP: smtp, TLSConfig: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}})
	err := s.Send(context.Background(), alert())
	var de *DeliveryError
	if !errors.As(err, &de) || de.Email == nil || de.Slack != nil || len(de.Sent) != 0 || len(mb.Messages()) != 1 {
		t.Fatalf("wrong password: %v, sent %v, %d messages", err, de.Sent, len(mb.Messages()))
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("the error shows the password: %v", err)
	}
}

func TestImplicitTLS(t *testing.T) {
	serverTLS, roots := testCert(t)
	mb := startMailbox(t, devmail.Options{TLSConfig: serverTLS, ImplicitTLS: true})
	s := newSender(t, Options{SMTP: mb.SMTP(), TLSConfig: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}})
	if err := s.Send(context.Background(), alert()); err != nil {
		t.Fatal(err)
	}
	if m := mb.Messages(); len(m) != 1 || !m[0].TLS {
		t.Fatalf("messages %+v: want one over TLS", m)
	}
}

func TestUntrustedCertificateIsRefused(t *testing.T) {
	serverTLS, _ := testCert(t)
	mb := startMailbox(t, devmail.Options{TLSConfig: serverTLS})
	s := newSender(t, Options{SMTP: mb.SMTP()}) // the system's roots
	err := s.Send(context.Background(), alert())
	var de *DeliveryError
	if !errors.As(err, &de) || de.Email == nil || len(mb.Messages()) != 0 {
		t.Fatalf("self-signed server: %v, %d messages; want refused", err, len(mb.Messages()))
	}
}

// smtp:// to a host that is not loopback requires STARTTLS: a server that
// does not offer it gets nothing, and Slack is still posted.
func TestStartTLSRequiredAndSlackStillPosted(t *testing.T) {
	mb := startMailbox(t, devmail.Options{}) // no STARTTLS
	smtp := mb.SMTP()
	smtp.Security = config.SMTPStartTLS // what smtp://mail.acme.example gives
	slack := newSlack(t)
	s := newSender(t, Options{SMTP: smtp, CheckSlackURL: AllowLoopbackSlack})
	a := alert()
	a.SlackURL = slack.URL + hookPath
	err := s.Send(context.Background(), a)
	var de *DeliveryError
	if !errors.As(err, &de) || de.Email == nil || de.Slack != nil {
		t.Fatalf("err = %v; want the email channel failed, Slack sent", err)
	}
	if !strings.Contains(de.Email.Error(), "STARTTLS") || len(mb.Messages()) != 0 || len(slack.Posts()) != 1 {
		t.Fatalf("email error %q, %d messages, %d Slack posts", de.Email, len(mb.Messages()), len(slack.Posts()))
	}
	if f := de.Failed(); len(f) != 1 || f[0] != ChannelEmail || len(de.Sent) != 1 || de.Sent[0] != ChannelSlack {
		t.Fatalf("failed channels %v, sent %v", f, de.Sent)
	}
}

func TestNoMailServer(t *testing.T) {
	slack := newSlack(t)
	s := newSender(t, Options{CheckSlackURL: AllowLoopbackSlack})
	if s.EmailEnabled() {
		t.Fatal("no SMTP, email enabled")
	}
	a := alert()
	a.SlackURL = slack.URL + hookPath
	err := s.Send(context.Background(), a)
	if !errors.Is(err, ErrNoSMTP) || len(slack.Posts()) != 1 {
		t.Fatalf("err = %v, %d posts; want ErrNoSMTP and Slack sent", err, len(slack.Posts()))
	}
	a.Emails = nil
	if err := s.Send(context.Background(), a); err != nil {
		t.Fatalf("no address and no mail server: %v, want nil (nothing to email)", err)
	}
}

func TestOneBadAddressDoesNotStopTheOthers(t *testing.T) {
	mb := startMailbox(t, devmail.Options{})
	s := newSender(t, Options{SMTP: mb.SMTP()})
	a := alert()
	a.Emails = []string{"not an address", "ana@acme.example"}
	err := s.Send(context.Background(), a)
	var de *DeliveryError
	if !errors.As(err, &de) || !strings.Contains(de.Email.Error(), `"not an address"`) || len(mb.Messages()) != 1 || len(de.Sent) != 1 {
		t.Fatalf("err = %v, %d messages, sent %v; want the bad address named and the good one sent", err, len(mb.Messages()), de.Sent)
	}
}

// The server refuses one admin's mailbox: the others still get theirs,
// and the error names the refused one.
func TestRefusedRecipientDoesNotStopTheOthers(t *testing.T) {
	mb := startMailbox(t, devmail.Options{RejectRcpt: func(to string) bool { return to == "gone@acme.example" }})
	s := newSender(t, Options{SMTP: mb.SMTP()})
	a := alert()
	a.Emails = []string{"ana@acme.example", "gone@acme.example", "bo@acme.example"}
	err := s.Send(context.Background(), a)
	var de *DeliveryError
	if !errors.As(err, &de) || de.Email == nil || !strings.Contains(de.Email.Error(), "to gone@acme.example") || !strings.Contains(de.Email.Error(), "550") {
		t.Fatalf("err = %v; want the refused address and the server's 550", err)
	}
	if len(de.Sent) != 1 || de.Sent[0] != ChannelEmail || len(mb.Messages()) != 2 {
		t.Fatalf("sent %v, %d messages; want the two others delivered", de.Sent, len(mb.Messages()))
	}
	a.Emails = []string{"gone@acme.example"}
	if err := s.Send(context.Background(), a); !errors.As(err, &de) || len(de.Sent) != 0 {
		t.Fatalf("only a refused address: %v, sent %v; want nothing sent", err, de.Sent)
	}
}

// A mail server that accepts the connection and never answers must not
// hold the job past the timeout.
func TestSilentMailServerTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	s := newSender(t, Options{SMTP: config.SMTP{Host: "127.0.0.1", Port: port, Security: config.SMTPLoopback}, EmailTimeout: 300 * time.Millisecond})
	began := time.Now()
	err = s.Send(context.Background(), alert())
	if took := time.Since(began); err == nil || took > 3*time.Second {
		t.Fatalf("err = %v after %v; want a failure within the timeout", err, took)
	}
}

func TestSlackMessage(t *testing.T) {
	slack := newSlack(t)
	s := newSender(t, Options{CheckSlackURL: AllowLoopbackSlack})
	a := alert()
	a.Emails = nil
	a.SlackURL = slack.URL + hookPath
	a.Text += "\nPing <!channel> & <https://evil.example|click>"
	if err := s.Send(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	posts := slack.Posts()
	if len(posts) != 1 || posts[0].contentType != "application/json" || len(posts[0].body) != 1 {
		t.Fatalf("posts %+v: want one JSON {\"text\": ...}", posts)
	}
	text, _ := posts[0].body["text"].(string)
	want := "*Sync failed: quote Q-1042 to Salesforce*\n" +
		"Quote Q-1042 could not be written to Salesforce after 3 retries.\n\nSalesforce said: &lt;unable to obtain exclusive access&gt;\n" +
		"Ping &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;\n" +
		"Workspace: Acme &amp; Sons · Connection: Salesforce · Acme (00D000000000001)\n" +
		"<https://app.example/console/integrations/4f0c|Open in Qwoty>"
	if text != want {
		t.Fatalf("Slack text:\n%s\nwant:\n%s", text, want)
	}
}

func TestSlackFailureIsReportedWithoutTheURL(t *testing.T) {
	mb := startMailbox(t, devmail.Options{})
	slack := newSlack(t)
	slack.status, slack.answer = http.StatusNotFound, "channel_not_found"
	s := newSender(t, Options{SMTP: mb.SMTP(), CheckSlackURL: AllowLoopbackSlack})
	a := alert()
	a.SlackURL = slack.URL + hookPath
	err := s.Send(context.Background(), a)
	var de *DeliveryError
	if !errors.As(err, &de) || de.Email != nil || de.Slack == nil || len(mb.Messages()) != 1 || len(de.Sent) != 1 || de.Sent[0] != ChannelEmail {
		t.Fatalf("err = %v, %d messages, sent %v; want Slack failed, email sent", err, len(mb.Messages()), de.Sent)
	}
	if !strings.Contains(de.Slack.Error(), "404: channel_not_found") {
		t.Errorf("Slack error %q, want Slack's status and answer", de.Slack)
	}

	// A webhook that hangs is cut at the timeout; the error still has no URL.
	slack.status, slack.delay = 200, 5*time.Second
	s = newSender(t, Options{SMTP: mb.SMTP(), CheckSlackURL: AllowLoopbackSlack, SlackTimeout: 200 * time.Millisecond})
	began := time.Now()
	err = s.Send(context.Background(), a)
	if !errors.As(err, &de) || de.Slack == nil || time.Since(began) > 3*time.Second {
		t.Fatalf("hanging webhook: %v after %v", err, time.Since(began))
	}
	for _, e := range []error{err} {
		if strings.Contains(e.Error(), "SeCrEtToKeN") || strings.Contains(e.Error(), slack.URL) {
			t.Fatalf("the error shows the webhook URL: %v", e)
		}
	}
}

func TestSlackRedirectIsNotFollowed(t *testing.T) {
	elsewhere := newSlack(t)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	s := newSender(t, Options{CheckSlackURL: AllowLoopbackSlack})
	a := alert()
	a.Emails, a.SlackURL = nil, redirector.URL+hookPath
	err := s.Send(context.Background(), a)
	if err == nil || !strings.Contains(err.Error(), "307") || len(elsewhere.Posts()) != 0 {
		t.Fatalf("err = %v, %d posts elsewhere; want the redirect refused", err, len(elsewhere.Posts()))
	}
}

// Without an override, only Slack's own webhooks are posted to.
func TestDefaultSenderPostsToSlackOnly(t *testing.T) {
	slack := newSlack(t)
	s := newSender(t, Options{})
	a := alert()
	a.Emails, a.SlackURL = nil, slack.URL+hookPath
	err := s.Send(context.Background(), a)
	var de *DeliveryError
	if !errors.As(err, &de) || de.Slack == nil || len(slack.Posts()) != 0 {
		t.Fatalf("err = %v, %d posts; want a local URL refused", err, len(slack.Posts()))
	}
}

func TestMalformedAlertSendsNothing(t *testing.T) {
	mb := startMailbox(t, devmail.Options{})
	s := newSender(t, Options{SMTP: mb.SMTP()})
	for name, change := range map[string]func(*Alert){
		"no subject":      func(a *Alert) { a.Subject = " \r\n" },
		"no text":         func(a *Alert) { a.Text = "" },
		"bad kind":        func(a *Alert) { a.Kind = "Push Failed" },
		"script link":     func(a *Alert) { a.Link = "javascript:alert(1)" },
		"relative link":   func(a *Alert) { a.Link = "/console" },
		"link with login": func(a *Alert) { a.Link = "https://u:p@app.example/x" },
	} {
		a := alert()
		change(&a)
		err := s.Send(context.Background(), a)
		var de *DeliveryError
		if err == nil || errors.As(err, &de) {
			t.Errorf("%s: err = %v; want a plain error", name, err)
		}
	}
	if n := len(mb.Messages()); n != 0 {
		t.Fatalf("%d messages sent for malformed alerts", n)
	}
}

func TestValidSlackWebhook(t *testing.T) {
	for _, ok := range []string{
		"https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
		"  https://hooks.slack.com/services/T0ABC123/B0DEF456/a1B2c3D4e5F6g7H8i9J0k1L2 ",
	} {
		if err := ValidSlackWebhook(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"",
		"hooks.slack.com/services/T0/B0/x",
		"http://hooks.slack.com/services/T0/B0/SeCrEt",
		"https://hooks.slack.com.evil.example/services/T0/B0/SeCrEt",
		"https://evil.example/services/T0/B0/SeCrEt",
		"https://user@hooks.slack.com/services/T0/B0/SeCrEt",
		"https://hooks.slack.com:8443/services/T0/B0/SeCrEt",
		"https://hooks.slack.com/services/T0/B0/SeCrEt?x=1",
		"https://hooks.slack.com/services/T0/B0/SeCrEt#x",
		"https://hooks.slack.com/services/T0/B0",
		"https://hooks.slack.com/workflows/T0/A0/1/SeCrEt",
		"https://hooks.slack.com/services/T0/B0/SeCrEt/../../x",
		"https://hooks.slack.com/services/T0/B0/Se%43rEt",
		"https://hooks.slack.com/services/T0/B0/" + strings.Repeat("a", 600),
	} {
		err := ValidSlackWebhook(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), "SeCrEt") || !strings.Contains(err.Error(), "https://hooks.slack.com/services/") {
			t.Errorf("%q: message %q; want what a webhook looks like, without the URL", bad, err)
		}
	}
}

// testCert is a self-signed certificate for 127.0.0.1 and the pool that
// trusts it.
func testCert(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "qwoty test mail server"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

func TestRetry(t *testing.T) {
	mb := startMailbox(t, devmail.Options{})
	slack := newSlack(t)
	send := func(o Options, a Alert) error {
		t.Helper()
		o.CheckSlackURL = AllowLoopbackSlack
		return newSender(t, o).Send(context.Background(), a)
	}
	withSlack := alert()
	withSlack.SlackURL = slack.URL + hookPath
	slackOnly := withSlack
	slackOnly.Emails = nil
	down := config.SMTP{Host: "127.0.0.1", Port: closedPort(t), Security: config.SMTPLoopback}

	cases := []struct {
		name   string
		status int
		o      Options
		a      Alert
		want   bool
	}{
		{"all sent", 200, Options{SMTP: mb.SMTP()}, withSlack, false},
		{"email sent, Slack down", 503, Options{SMTP: mb.SMTP()}, withSlack, false},
		{"mail server down, Slack sent", 200, Options{SMTP: down}, withSlack, false},
		{"mail server down, no Slack", 200, Options{SMTP: down}, alert(), true},
		{"mail server down, Slack down", 503, Options{SMTP: down}, withSlack, true},
		{"Slack rate limit", 429, Options{}, slackOnly, true},
		{"Slack channel archived", 410, Options{}, slackOnly, false},
		{"no mail server, no Slack", 200, Options{}, alert(), false},
		{"no mail server, Slack channel gone", 404, Options{}, withSlack, false},
		{"no mail server, Slack down", 500, Options{}, withSlack, true},
		{"malformed", 200, Options{SMTP: mb.SMTP()}, Alert{Kind: KindPushFailed}, false},
	}
	for _, c := range cases {
		slack.mu.Lock()
		slack.status = c.status
		slack.mu.Unlock()
		err := send(c.o, c.a)
		if got := Retry(err); got != c.want {
			t.Errorf("%s: Retry(%v) = %v, want %v", c.name, err, got, c.want)
		}
	}
	if Retry(send(Options{SMTP: mb.SMTP()}, alert())) || Retry(nil) {
		t.Error("Retry of a success")
	}
}

// closedPort is a port where nothing listens.
func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}
