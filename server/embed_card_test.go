package server

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/qwoty"
)

func openCard(t *testing.T, a *testApp, org string, secret []byte) wireAnswer {
	t.Helper()
	return do(t, a.request(callout{org: org, secret: secret, body: body(recordA, accountA, "Acme", "USD")})).answer(t)
}

func TestCardPageHeadersAndToken(t *testing.T) {
	a := newApp(t, "", nil)
	org := orgID(t, "00D00000000000A")
	conn := a.connect("Acme", org, "acme--uat.sandbox")
	ans := openCard(t, a, org, conn.Secret)

	r, token := a.page(ans.EmbedURL)
	if r.status != 200 || token == "" {
		t.Fatalf("card page: %d, token %q", r.status, token)
	}
	csp := r.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors https://acme--uat.sandbox.lightning.force.com https://acme--uat.sandbox.my.salesforce.com") ||
		strings.Contains(csp, "*") || !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("card CSP = %q", csp)
	}
	if r.header.Get("Referrer-Policy") != "no-referrer" || r.header.Get("Set-Cookie") != "" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("card headers = %v", r.header)
	}
	if bytes.Contains(r.body, []byte("<script>")) {
		t.Fatal("the card has an inline script; the CSP allows none")
	}
	if token == strings.TrimPrefix(ans.EmbedURL, a.url()+"/embed/salesforce/card?token=") {
		t.Fatal("the page token is the embed token; it must be exchanged")
	}
	// The embed token is not a page token, and the page token does not open a card.
	embedTok := strings.TrimPrefix(ans.EmbedURL, a.url()+"/embed/salesforce/card?token=")
	a.action(http.MethodGet, "/embed/api/quotes", embedTok, nil).wantError(t, 401, qwoty.CodeTokenInvalid)
	if r, _ := a.page(a.url() + "/embed/salesforce/card?token=" + token); r.status != 401 {
		t.Fatalf("a page token opened the card page: %d", r.status)
	}

	// Other pages may not be framed at all.
	home := do(t, mustGet(t, a.url()+"/"))
	if !strings.Contains(home.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("home CSP = %q", home.header.Get("Content-Security-Policy"))
	}
}

func mustGet(t *testing.T, u string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestCardPageRefusesExpiredAndForgedTokensWithAPage(t *testing.T) {
	a := newApp(t, "", nil)
	org := orgID(t, "00D00000000000A")
	conn := a.connect("Acme", org, "acme")
	ans := openCard(t, a, org, conn.Secret)

	forged := strings.Replace(ans.EmbedURL, "token=eyJ", "token=eyK", 1)
	r, tok := a.page(forged)
	if r.status != 401 || tok != "" || !bytes.Contains(r.body, []byte("This card link is not valid")) ||
		!strings.Contains(r.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(r.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("forged: %d %q %s", r.status, r.header.Get("Content-Security-Policy"), r.body)
	}
	r, _ = a.page(a.url() + "/embed/salesforce/card")
	if r.status != 401 || !bytes.Contains(r.body, []byte("token_missing")) {
		t.Fatalf("no token: %d %s", r.status, r.body)
	}

	a.clock.Add(cardview.EmbedTTL + time.Minute)
	r, tok = a.page(ans.EmbedURL)
	if r.status != 401 || tok != "" || !bytes.Contains(r.body, []byte("Session expired")) || !bytes.Contains(r.body, []byte(`data-code="token_expired"`)) {
		t.Fatalf("expired: %d %s", r.status, r.body)
	}
	// A genuine expired token may show its page inside its own org's frame.
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors https://acme.lightning.force.com") {
		t.Fatalf("expired page CSP = %q", csp)
	}
	if bytes.Contains(r.body, []byte("goroutine")) || bytes.Contains(r.body, []byte(".go:")) {
		t.Fatal("error page leaks a stack trace")
	}
}

var quoteIDPattern = regexp.MustCompile(`/embed/api/quotes/([0-9a-f-]{36})/`)
var lineIDPattern = regexp.MustCompile(`/lines/([0-9a-f-]{36})"`)
var versionPattern = regexp.MustCompile(`data-version="(\d+)"`)

func TestCardActionsEditQuoteWithServerTotals(t *testing.T) {
	a := newApp(t, "", nil)
	org := orgID(t, "00D00000000000A")
	conn := a.connect("Acme", org, "acme")
	_, tok := a.page(openCard(t, a, org, conn.Secret).EmbedURL)

	r := a.action(http.MethodPost, "/embed/api/quotes", tok, nil)
	id := string(quoteIDPattern.FindSubmatch(r.body)[1])
	version := func(r response) string { return string(versionPattern.FindSubmatch(r.body)[1]) }
	base := "/embed/api/quotes/" + id

	r = a.action(http.MethodPost, base+"/lines", tok, map[string]string{"version": version(r), "sku": "LIC", "description": "Licence", "quantity": "3", "unit_price": "19.99", "discount_percent": "10"})
	r = a.action(http.MethodPost, base+"/lines", tok, map[string]string{"version": version(r), "sku": "SUP", "quantity": "1", "unit_price": "100"})
	r = a.action(http.MethodPut, base+"/terms", tok, map[string]string{"version": version(r), "title": "Renewal", "tax_rate": "20", "currency": "USD"})
	if r.status != 200 || !bytes.Contains(r.body, []byte("id=\"total\">USD\u00a0184.76")) {
		t.Fatalf("after two lines and 20%% tax: %d\n%s", r.status, r.body)
	}
	var lines [][][]byte // unique line ids, in page order (each appears in its form and its remove button)
	for _, m := range lineIDPattern.FindAllSubmatch(r.body, -1) {
		if len(lines) == 0 || !bytes.Equal(lines[len(lines)-1][1], m[1]) {
			lines = append(lines, m)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("want line urls, got %d", len(lines))
	}
	stale := version(r)
	r = a.action(http.MethodPut, base+"/lines/"+string(lines[1][1]), tok, map[string]string{"version": version(r), "sku": "SUP", "quantity": "2", "unit_price": "100", "discount_percent": "50"})
	if !bytes.Contains(r.body, []byte("id=\"total\">USD\u00a0184.76")) {
		t.Fatalf("2×100 at 50%% should leave the total unchanged: %s", r.body)
	}
	// A form rendered before that edit is refused, not silently applied.
	a.action(http.MethodDelete, base+"/lines/"+string(lines[0][1])+"?version="+stale, tok, nil).wantError(t, 409, qwoty.CodeVersionConflict)
	r = a.action(http.MethodDelete, base+"/lines/"+string(lines[0][1])+"?version="+version(r), tok, nil)
	if !bytes.Contains(r.body, []byte("id=\"total\">USD\u00a0120.00")) {
		t.Fatalf("after removing the first line: %s", r.body)
	}

	// Bad input: a clear error, nothing lost.
	e := a.action(http.MethodPost, base+"/lines", tok, map[string]string{"sku": "X", "quantity": "lots", "unit_price": "1"}).wantError(t, 422, qwoty.CodeValidation)
	if !strings.Contains(e.Message, "quantity") {
		t.Fatalf("validation message %q does not name the field", e.Message)
	}
	a.action(http.MethodPost, base+"/status", tok, map[string]string{"status": "accepted"}).wantError(t, 409, qwoty.CodeInvalidTransition)
	a.action(http.MethodPost, base+"/status", tok, map[string]string{"status": "approved"}).wantError(t, 422, qwoty.CodeValidation)
	r = a.action(http.MethodPost, base+"/status", tok, map[string]string{"status": "sent"})
	if !bytes.Contains(r.body, []byte(`id="quote-status">Sent`)) || !bytes.Contains(r.body, []byte(`disabled`)) {
		t.Fatalf("sent quote: %s", r.body)
	}
	a.action(http.MethodPost, base+"/lines", tok, map[string]string{"sku": "X", "quantity": "1", "unit_price": "1"}).wantError(t, 409, qwoty.CodeQuoteLocked)
	q, err := a.db.GetQuote(context.Background(), scopeFor(conn, recordA), id)
	if err != nil || q.Totals.Total.StringFixed(2) != "120.00" || len(q.Lines) != 1 || q.Status != qwoty.StatusSent {
		t.Fatalf("stored quote after refused edits: %+v, %v", q, err)
	}

	// htmx gets its errors as a fragment retargeted to the flash.
	req, _ := http.NewRequest(http.MethodPost, a.url()+base+"/lines", strings.NewReader("sku=X&quantity=1&unit_price=1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("HX-Request", "true")
	hr := do(t, req)
	if hr.status != 409 || hr.header.Get("HX-Retarget") != "#flash" || !bytes.Contains(hr.body, []byte("only draft quotes can be edited")) {
		t.Fatalf("htmx error: %d %v %s", hr.status, hr.header, hr.body)
	}
}

func TestDisconnectStopsOpenCards(t *testing.T) {
	a := newApp(t, "", nil)
	org := orgID(t, "00D00000000000A")
	conn := a.connect("Acme", org, "acme")
	ans := openCard(t, a, org, conn.Secret)
	_, tok := a.page(ans.EmbedURL)
	if r := a.action(http.MethodGet, "/embed/api/quotes", tok, nil); r.status != 200 {
		t.Fatalf("before disconnect: %d", r.status)
	}
	if err := a.db.Disconnect(context.Background(), conn.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	a.action(http.MethodGet, "/embed/api/quotes", tok, nil).wantError(t, 403, qwoty.CodeOrgDisconnected)
	if r, _ := a.page(ans.EmbedURL); r.status != 403 || !bytes.Contains(r.body, []byte("Disconnected from Qwoty")) {
		t.Fatalf("card page after disconnect: %d", r.status)
	}
}

func TestPageTokenRefreshAndExpiry(t *testing.T) {
	a := newApp(t, "", nil)
	org := orgID(t, "00D00000000000A")
	conn := a.connect("Acme", org, "acme")
	_, tok := a.page(openCard(t, a, org, conn.Secret).EmbedURL)
	a.clock.Add(10 * time.Minute)
	r := a.action(http.MethodPost, "/embed/api/session/refresh", tok, nil)
	fresh := regexp.MustCompile(`"token":"([^"]+)"`).FindSubmatch(r.body)
	if r.status != 200 || fresh == nil {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	a.clock.Add(10 * time.Minute) // the first token is past its 15 minutes, the fresh one is not
	a.action(http.MethodGet, "/embed/api/quotes", tok, nil).wantError(t, 401, qwoty.CodeTokenExpired)
	if r := a.action(http.MethodGet, "/embed/api/quotes", string(fresh[1]), nil); r.status != 200 {
		t.Fatalf("refreshed token refused: %d", r.status)
	}
	a.action(http.MethodGet, "/embed/api/quotes", "", nil).wantError(t, 401, qwoty.CodeTokenMissing)
}
