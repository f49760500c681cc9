package devmail_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"regexp"
	"strings"
	"testing"

	"github.com/qwoty/companion/devmail"
	"github.com/qwoty/companion/notify"
)

func start(t *testing.T, o devmail.Options) *devmail.Mailbox {
	t.Helper()
	mb, err := devmail.StartWith("127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := mb.Close(); err != nil {
			t.Error(err)
		}
	})
	return mb
}

// pages mounts the handler the way the server does, at /dev/mail.
func pages(t *testing.T, mb *devmail.Mailbox) *httptest.Server {
	mux := http.NewServeMux()
	h := mb.Handler("/dev/mail")
	mux.Handle("/dev/mail", h)
	mux.Handle("/dev/mail/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, method, url string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func send(t *testing.T, mb *devmail.Mailbox, subject, text string, to ...string) error {
	t.Helper()
	s, err := notify.New(notify.Options{SMTP: mb.SMTP(), From: "Qwoty <no-reply@localhost>"})
	if err != nil {
		t.Fatal(err)
	}
	return s.Send(context.Background(), notify.Alert{Kind: notify.KindPushFailed, WorkspaceName: "Acme", ConnectionName: "HubSpot · 1234",
		Subject: subject, Text: text, Link: "http://localhost:8080/console/integrations", Emails: to})
}

func TestSentMailShowsOnThePages(t *testing.T) {
	mb := start(t, devmail.Options{})
	srv := pages(t, mb)
	status, _, body := get(t, "GET", srv.URL+"/dev/mail")
	if status != 200 || !strings.Contains(body, `id="empty"`) {
		t.Fatalf("empty mailbox: %d\n%s", status, body)
	}

	if err := send(t, mb, "First alert", "Quote Q-1 failed.", "ana@acme.example"); err != nil {
		t.Fatal(err)
	}
	if err := send(t, mb, `Sync failed: <script>alert("x")</script>`, "Quote Q-2 failed: <b>bold</b> & more. Café = 5 €", "bo@acme.example"); err != nil {
		t.Fatal(err)
	}

	for _, path := range []string{"/dev/mail", "/dev/mail/"} {
		status, h, body := get(t, "GET", srv.URL+path)
		if status != 200 || h.Get("Content-Type") != "text/html; charset=utf-8" || h.Get("Cache-Control") != "no-store" {
			t.Fatalf("GET %s: %d %v", path, status, h)
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, "<b>bold") {
			t.Fatalf("GET %s: a value is not escaped:\n%s", path, body)
		}
		for _, want := range []string{"[Qwoty] Sync failed: &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "bo@acme.example", "ana@acme.example",
			"no-reply@localhost", "Quote Q-2 failed: &lt;b&gt;bold&lt;/b&gt; &amp; more.", `href="/dev/mail/2"`, `href="/dev/mail/1"`} {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s lacks %q:\n%s", path, want, body)
			}
		}
		if strings.Index(body, "/dev/mail/2") > strings.Index(body, "/dev/mail/1") {
			t.Errorf("GET %s: want the newest first", path)
		}
		checkPolicy(t, h, body)
	}

	status, h, body := get(t, "GET", srv.URL+"/dev/mail/2")
	if status != 200 || strings.Contains(body, "<script>") {
		t.Fatalf("message page: %d\n%s", status, body)
	}
	for _, want := range []string{`<pre id="text">Quote Q-2 failed: &lt;b&gt;bold&lt;/b&gt; &amp; more. Café = 5 €`, "Workspace: Acme", "Open in Qwoty: http://localhost:8080/console/integrations",
		"delivered to bo@acme.example", `<pre id="html">`, `href="/dev/mail/"`} {
		if !strings.Contains(body, want) {
			t.Errorf("message page lacks %q:\n%s", want, body)
		}
	}
	checkPolicy(t, h, body)

	for path, want := range map[string]int{"/dev/mail/3": 404, "/dev/mail/x": 404, "/dev/mail/1/raw": 404} {
		if status, _, _ := get(t, "GET", srv.URL+path); status != want {
			t.Errorf("GET %s: %d, want %d", path, status, want)
		}
	}
	if status, _, _ := get(t, "POST", srv.URL+"/dev/mail/"); status != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", status)
	}
}

// checkPolicy: the page loads nothing, and its one style block is the
// one the policy allows by hash (else the browser would drop it).
func checkPolicy(t *testing.T, h http.Header, body string) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no style block")
	}
	sum := sha256.Sum256([]byte(m[1]))
	if !strings.HasPrefix(csp, "default-src 'none'; ") || !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
		t.Errorf("policy %q does not allow the page's style", csp)
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "src=") || strings.Contains(body, "<link") {
		t.Errorf("the page loads something")
	}
}

func TestKeepsTheLastMessages(t *testing.T) {
	mb := start(t, devmail.Options{MaxMessages: 3})
	for i := 1; i <= 5; i++ {
		if err := send(t, mb, fmt.Sprintf("Alert %d", i), "text", "ana@acme.example"); err != nil {
			t.Fatal(err)
		}
	}
	msgs := mb.Messages()
	if len(msgs) != 3 || msgs[0].ID != 5 || msgs[2].ID != 3 || msgs[0].Subject != "[Qwoty] Alert 5" {
		t.Fatalf("kept %d messages, first %+v", len(msgs), msgs)
	}
	if status, _, _ := get(t, "GET", pages(t, mb).URL+"/dev/mail/1"); status != 404 {
		t.Fatalf("dropped message: %d, want 404", status)
	}
}

func TestRefusesALongMessage(t *testing.T) {
	mb := start(t, devmail.Options{MaxMessageBytes: 4096})
	err := send(t, mb, "Long", strings.Repeat("a long line of text ", 200), "ana@acme.example")
	var de *notify.DeliveryError
	if !errors.As(err, &de) || de.Email == nil || !strings.Contains(de.Email.Error(), "552") || len(mb.Messages()) != 0 {
		t.Fatalf("err = %v, %d kept; want 552 and nothing kept", err, len(mb.Messages()))
	}
	if err := send(t, mb, "Short", "fits", "ana@acme.example"); err != nil || len(mb.Messages()) != 1 {
		t.Fatalf("short message after a long one: %v", err)
	}
}

// A message not from go-mail: one base64 text body and an encoded
// subject, as another client might send.
func TestReadsOtherMessages(t *testing.T) {
	mb := start(t, devmail.Options{})
	raw := "From: =?utf-8?q?Caf=C3=A9?= <cafe@example.com>\r\nTo: x@example.com\r\nSubject: =?utf-8?b?" +
		base64.StdEncoding.EncodeToString([]byte("Ünïcode subject")) + "?=\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString([]byte("Hello\r\nthere")) + "\r\n"
	if err := smtp.SendMail(mb.Addr(), nil, "cafe@example.com", []string{"x@example.com", "y@example.com"}, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	m := mb.Messages()[0]
	if m.Subject != "Ünïcode subject" || m.From != "Café <cafe@example.com>" || m.Text != "Hello\nthere" ||
		strings.Join(m.EnvelopeTo, " ") != "x@example.com y@example.com" || m.TLS || m.User != "" {
		t.Fatalf("read %+v", m)
	}
}

func TestListensOnLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:2525", "example.com:2525", "127.0.0.1"} {
		if mb, err := devmail.Start(addr); err == nil {
			mb.Close()
			t.Errorf("Start(%q) accepted", addr)
		}
	}
	mb, err := devmail.Start("localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := mb.Close(); err != nil {
		t.Fatal(err)
	}
	if mb.URL() != "smtp://"+mb.Addr() {
		t.Fatalf("URL %q", mb.URL())
	}
}
