package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// sentQuote is a quote sent from the card, with what the test needs of it.
type sentQuote struct {
	conn  *qwoty.Connection
	tok   string // the card's page token
	base  string // the card's path of the quote
	id    string
	link  string // the customer's page, /q/{token}
	token string
}

// cyrillicQuote opens a card on a EUR deal whose account has a Cyrillic
// name and makes a quote of two lines.
func cyrillicQuote(t *testing.T, a *testApp) (conn *qwoty.Connection, tok, base string, editor response) {
	t.Helper()
	org := orgID(t, "00D00000000000A")
	conn = a.connect("Acme", org, "acme")
	ans := do(t, a.request(callout{org: org, secret: conn.Secret, body: body(recordA, accountA, "ООО Ромашка", "EUR")})).answer(t)
	_, tok = a.page(ans.EmbedURL)
	r := a.action(http.MethodPost, "/embed/api/quotes", tok, nil)
	base = "/embed/api/quotes/" + string(quoteIDPattern.FindSubmatch(r.body)[1])
	r = a.send(http.MethodPost, base+"/lines", tok, url.Values{"version": {editorVersion(t, r)}, "sku": {"LIC"}, "description": {"Лицензия"},
		"quantity": {"3"}, "unit_price": {"19.99"}, "discount_percent": {"10"}}, false)
	r = a.send(http.MethodPost, base+"/lines", tok, url.Values{"version": {editorVersion(t, r)}, "sku": {"SUP"}, "description": {"Support"},
		"quantity": {"1"}, "unit_price": {"1250.50"}}, false)
	r = a.send(http.MethodPut, base+"/terms", tok, url.Values{"version": {editorVersion(t, r)}, "title": {"Renewal"}, "tax_rate": {"20"}}, false)
	if r.status != 200 {
		t.Fatalf("quote setup: %d %s", r.status, r.body)
	}
	return conn, tok, base, r
}

// sendIt sends the quote from the card to to, and reads the link's token
// the way the mail job does (from the job the send queued).
func sendIt(t *testing.T, a *testApp, conn *qwoty.Connection, tok, base string, editor response, to string) sentQuote {
	t.Helper()
	r := a.send(http.MethodPost, base+"/send", tok, url.Values{"version": {editorVersion(t, editor)}, "to": {to},
		"subject": {"Your quote"}, "message": {"Hello"}}, false)
	if r.status != 200 || !bytes.Contains(r.body, []byte(`id="quote-status">Sent<`)) {
		t.Fatalf("send: %d %s", r.status, r.body)
	}
	sq := sentQuote{conn: conn, tok: tok, base: base, id: strings.TrimPrefix(base, "/embed/api/quotes/")}
	sq.token = jobToken(t, a, sq.id)
	sq.link = "/q/" + sq.token
	return sq
}

// jobToken opens the token of the quote's latest send's email job.
func jobToken(t *testing.T, a *testApp, quoteID string) string {
	t.Helper()
	ctx := context.Background()
	var sendID, linkID string
	if err := storetest.Pool(t, a.db).QueryRow(ctx, `SELECT id, link_id FROM quote_sends WHERE quote_id = $1 ORDER BY sent_at DESC LIMIT 1`,
		quoteID).Scan(&sendID, &linkID); err != nil {
		t.Fatal(err)
	}
	var args []byte
	if err := storetest.Pool(t, a.db).QueryRow(ctx, `SELECT args FROM river_job WHERE kind = 'quote_mail' AND args->>'send_id' = $1`, sendID).
		Scan(&args); err != nil {
		t.Fatalf("the send queued no email job: %v", err)
	}
	var job struct {
		SealedToken []byte `json:"sealed_token"`
	}
	if err := json.Unmarshal(args, &job); err != nil {
		t.Fatal(err)
	}
	token, err := a.db.OpenLinkToken(job.SealedToken, linkID)
	if err != nil {
		t.Fatal(err)
	}
	// The database keeps only the token's hash.
	var n int
	if err := storetest.Pool(t, a.db).QueryRow(ctx, `SELECT count(*) FROM quote_links WHERE id = $1 AND token_hash = sha256($2::bytea)`,
		linkID, []byte(token)).Scan(&n); err != nil || n != 1 {
		t.Fatalf("link row by the token's SHA-256: %d %v", n, err)
	}
	return token
}

func (a *testApp) get(path string, header map[string]string) response {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.url()+path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(a.t, req)
}

// post posts a form to the customer's page, as its browser does (same
// origin), without following a redirect.
func (a *testApp) post(path string, form url.Values, origin string) response {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.url()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "test-browser/1.0")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return response{resp.StatusCode, resp.Header, b.Bytes()}
}

var (
	formTokenPattern   = regexp.MustCompile(`name="form_token" value="([^"]+)"`)
	versionHashPattern = regexp.MustCompile(`name="version_hash" value="([0-9a-f]{64})"`)
	seenTokenPattern   = regexp.MustCompile(`data-token="([^"]+)"`)
)

func match(t *testing.T, re *regexp.Regexp, b []byte) string {
	t.Helper()
	m := re.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no %s in %s", re, b)
	}
	return string(m[1])
}

func (a *testApp) status(t *testing.T, sq sentQuote) qwoty.Status {
	t.Helper()
	q, err := a.db.GetQuote(context.Background(), scopeFor(sq.conn, recordA), sq.id)
	if err != nil {
		t.Fatal(err)
	}
	return q.Status
}

func count(t *testing.T, a *testApp, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := storetest.Pool(t, a.db).QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A quote sent from the card is viewed, then accepted on its customer's
// page: a GET alone (a prefetch, a preview) marks nothing; the page's
// script's post does, once; the acceptance records the exact version; the
// card's history shows it all.
func TestSendViewAccept(t *testing.T) {
	a := newApp(t, "", nil)
	conn, tok, base, editor := cyrillicQuote(t, a)
	sq := sendIt(t, a, conn, tok, base, editor, "Buyer <Buyer@Romashka.example>, second@romashka.example; buyer@romashka.example")
	if n := count(t, a, `SELECT cardinality(recipients) FROM quote_sends WHERE quote_id = $1`, sq.id); n != 2 {
		t.Fatalf("recipients %d, want 2 (deduplicated)", n)
	}

	// GETs: with prefetch headers, without, and a preview's: none marks.
	for _, h := range []map[string]string{
		{"Sec-Purpose": "prefetch"}, {"Purpose": "prefetch"}, {"Sec-Purpose": "prefetch;prerender"}, nil,
		{"User-Agent": "Slackbot-LinkExpanding 1.0"},
	} {
		r := a.get(sq.link, h)
		if r.status != 200 || !bytes.Contains(r.body, []byte("ООО Ромашка")) || !bytes.Contains(r.body, []byte(`id="accept-form"`)) {
			t.Fatalf("page %v: %d %s", h, r.status, r.body)
		}
		if !strings.Contains(r.header.Get("Cache-Control"), "no-store") || !strings.Contains(r.header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Fatalf("page headers: %v", r.header)
		}
	}
	if st := a.status(t, sq); st != qwoty.StatusSent {
		t.Fatalf("after GETs only the quote is %s, want sent", st)
	}
	if n := count(t, a, `SELECT count(*) FROM quote_views WHERE quote_id = $1`, sq.id); n != 0 {
		t.Fatalf("%d views recorded by GETs", n)
	}

	page := a.get(sq.link, nil)
	seenTok := match(t, seenTokenPattern, page.body)
	// The post needs the page's token, and its own site.
	if r := a.post(sq.link+"/seen", url.Values{}, ""); r.status != http.StatusForbidden {
		t.Fatalf("seen without the page's token: %d", r.status)
	}
	if r := a.post(sq.link+"/seen", url.Values{"form_token": {seenTok}}, "https://evil.example"); r.status != http.StatusForbidden {
		t.Fatalf("seen from another site: %d", r.status)
	}
	if st := a.status(t, sq); st != qwoty.StatusSent {
		t.Fatalf("refused posts moved the quote to %s", st)
	}
	for range 2 {
		if r := a.post(sq.link+"/seen", url.Values{"form_token": {seenTok}}, a.url()); r.status != http.StatusNoContent {
			t.Fatalf("seen: %d %s", r.status, r.body)
		}
	}
	if st := a.status(t, sq); st != qwoty.StatusViewed {
		t.Fatalf("after the page's post the quote is %s, want viewed", st)
	}
	if n := count(t, a, `SELECT count(*) FROM quote_views WHERE quote_id = $1 AND user_agent = 'test-browser/1.0'`, sq.id); n != 1 {
		t.Fatalf("%d views recorded, want 1", n)
	}

	page = a.get(sq.link, nil)
	form := url.Values{"form_token": {match(t, formTokenPattern, page.body)}, "version_hash": {match(t, versionHashPattern, page.body)}}
	q, _ := a.db.GetQuote(context.Background(), scopeFor(conn, recordA), sq.id)
	if form.Get("version_hash") != qwoty.VersionHash(q) {
		t.Fatalf("the page's version hash is not the quote's")
	}
	// Without consent, without a name, with another version: refused.
	if r := a.post(sq.link+"/accept", url.Values{"form_token": form["form_token"], "version_hash": form["version_hash"], "full_name": {"Иван Петров"}}, ""); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("accept without consent: %d", r.status)
	}
	if r := a.post(sq.link+"/accept", url.Values{"form_token": form["form_token"], "version_hash": form["version_hash"], "consent": {"yes"}}, ""); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("accept without a name: %d", r.status)
	}
	stale := strings.Repeat("0", 64)
	r := a.post(sq.link+"/accept", url.Values{"form_token": form["form_token"], "version_hash": {stale}, "full_name": {"Иван Петров"}, "consent": {"yes"}}, "")
	if r.status != http.StatusConflict || !bytes.Contains(r.body, []byte(`data-code="quote_changed"`)) || !bytes.Contains(r.body, []byte(form.Get("version_hash"))) {
		t.Fatalf("accept of another version: %d %s", r.status, r.body)
	}
	if st := a.status(t, sq); st != qwoty.StatusViewed {
		t.Fatalf("refused answers moved the quote to %s", st)
	}
	form.Set("full_name", "  Иван   Петров ")
	form.Set("consent", "yes")
	if r := a.post(sq.link+"/accept", form, a.url()); r.status != http.StatusSeeOther {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	if st := a.status(t, sq); st != qwoty.StatusAccepted {
		t.Fatalf("after acceptance the quote is %s", st)
	}
	var name, hash, ua string
	var rev int
	if err := storetest.Pool(t, a.db).QueryRow(context.Background(), `SELECT full_name, version_hash, revision, user_agent FROM quote_decisions
		WHERE quote_id = $1 AND decision = 'accepted' AND consent`, sq.id).Scan(&name, &hash, &rev, &ua); err != nil {
		t.Fatal(err)
	}
	if name != "Иван Петров" || hash != qwoty.VersionHash(q) || rev != q.Revision || ua != "test-browser/1.0" {
		t.Fatalf("decision %q %s r%d %q", name, hash, rev, ua)
	}
	// The change went the shared way: the status change is queued for the
	// CRM and audited.
	if n := count(t, a, `SELECT count(*) FROM audit_log WHERE action = 'quote.status_changed' AND detail->>'to' = 'accepted'`); n != 1 {
		t.Fatalf("%d audit entries of the acceptance", n)
	}
	page = a.get(sq.link, nil)
	if !bytes.Contains(page.body, []byte("Accepted by Иван Петров")) || bytes.Contains(page.body, []byte(`id="accept-form"`)) {
		t.Fatalf("the accepted page: %s", page.body)
	}
	if r := a.post(sq.link+"/accept", form, ""); r.status != http.StatusConflict {
		t.Fatalf("a second acceptance: %d", r.status)
	}
	// The workspace's logo is in the page's header, served from the link.
	var logo bytes.Buffer
	_ = png.Encode(&logo, image.NewRGBA(image.Rect(0, 0, 8, 2)))
	if err := a.db.SetWorkspaceLogo(context.Background(), conn.WorkspaceID, "image/png", logo.Bytes(), "admin"); err != nil {
		t.Fatal(err)
	}
	if page = a.get(sq.link, nil); !bytes.Contains(page.body, []byte(`class="cp-logo" src="`+sq.link+`/logo"`)) {
		t.Fatalf("no logo on the page: %s", page.body)
	}
	if r := a.get(sq.link+"/logo", nil); r.status != 200 || r.header.Get("Content-Type") != "image/png" || !bytes.Equal(r.body, logo.Bytes()) {
		t.Fatalf("logo: %d %v", r.status, r.header)
	}
	h := a.action(http.MethodGet, base+"/history", tok, nil)
	for _, want := range []string{"buyer@romashka.example, second@romashka.example", `data-kind="viewed"`, "Accepted by Иван Петров"} {
		if !bytes.Contains(h.body, []byte(want)) {
			t.Fatalf("history lacks %q: %s", want, h.body)
		}
	}
}

// A rejection takes an optional reason; an unknown token is a 404 page,
// an expired link a 410, a quote past its valid-until day offers no answer.
func TestRejectExpiryAndUnknownLinks(t *testing.T) {
	clk := &clock{t: time.Now()}
	a := newApp(t, "", clk)
	conn, tok, base, editor := cyrillicQuote(t, a)
	sq := sendIt(t, a, conn, tok, base, editor, "buyer@romashka.example")

	for _, p := range []string{"/q/short", "/q/" + strings.Repeat("A", 43), "/q/" + strings.Repeat("A", 43) + "/pdf"} {
		if r := a.get(p, nil); r.status != 404 || !bytes.Contains(r.body, []byte(`data-code="not_found"`)) {
			t.Fatalf("%s: %d %s", p, r.status, r.body)
		}
	}

	page := a.get(sq.link, nil)
	form := url.Values{"form_token": {match(t, formTokenPattern, page.body)}, "version_hash": {match(t, versionHashPattern, page.body)},
		"reason": {"Too expensive"}}
	// Valid until yesterday: the page says expired and offers no answer.
	ctx := context.Background()
	var validUntil *time.Time // set when it was sent (the version's hash covers it)
	if err := storetest.Pool(t, a.db).QueryRow(ctx, `SELECT valid_until FROM quotes WHERE id = $1`, sq.id).Scan(&validUntil); err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.Pool(t, a.db).Exec(ctx, `UPDATE quotes SET valid_until = $2 WHERE id = $1`, sq.id, clk.Now().AddDate(0, 0, -1)); err != nil {
		t.Fatal(err)
	}
	page = a.get(sq.link, nil)
	if !bytes.Contains(page.body, []byte(`id="cp-expired"`)) || bytes.Contains(page.body, []byte(`id="accept-form"`)) {
		t.Fatalf("an expired quote's page: %s", page.body)
	}
	if r := a.post(sq.link+"/reject", form, ""); r.status != http.StatusGone {
		t.Fatalf("reject after valid-until: %d %s", r.status, r.body)
	}
	if _, err := storetest.Pool(t, a.db).Exec(ctx, `UPDATE quotes SET valid_until = $2 WHERE id = $1`, sq.id, validUntil); err != nil {
		t.Fatal(err)
	}
	if r := a.post(sq.link+"/reject", form, ""); r.status != http.StatusSeeOther {
		t.Fatalf("reject: %d %s", r.status, r.body)
	}
	if st := a.status(t, sq); st != qwoty.StatusRejected {
		t.Fatalf("after rejection the quote is %s", st)
	}
	if n := count(t, a, `SELECT count(*) FROM quote_decisions WHERE quote_id = $1 AND decision = 'rejected' AND reason = 'Too expensive'`, sq.id); n != 1 {
		t.Fatalf("%d rejections recorded", n)
	}
	// Back to draft, the quote is being revised: the page shows none of
	// its edits in progress, nor its PDF.
	if _, err := a.db.UpdateQuote(ctx, scopeFor(conn, recordA), sq.id, 0, "rep", func(q *qwoty.Quote) error {
		return q.Transition(qwoty.StatusDraft)
	}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{sq.link, sq.link + "/pdf"} {
		if r := a.get(p, nil); r.status != http.StatusConflict || !bytes.Contains(r.body, []byte("being revised")) || bytes.Contains(r.body, []byte("cp-lines")) {
			t.Fatalf("%s of a quote in revision: %d %s", p, r.status, r.body)
		}
	}
	// The link lives 90 days (no valid-until): then it is gone.
	clk.Add(store.LinkMinLife + time.Minute)
	if r := a.get(sq.link, nil); r.status != http.StatusGone || !bytes.Contains(r.body, []byte(`data-code="link_expired"`)) {
		t.Fatalf("an expired link: %d %s", r.status, r.body)
	}
}

// A send is refused, with its code, for a quote without lines, an address
// that is none, too many recipients, or a contact not on the deal.
func TestSendRefusals(t *testing.T) {
	a := newApp(t, "", nil)
	conn, tok, base, editor := cyrillicQuote(t, a)
	v := editorVersion(t, editor)
	for _, c := range []struct {
		name string
		form url.Values
		code qwoty.Code
	}{
		{"bad address", url.Values{"to": {"not-an-address"}}, qwoty.CodeRecipientInvalid},
		{"no domain dot", url.Values{"to": {"a@localhost"}}, qwoty.CodeRecipientInvalid},
		{"nobody", url.Values{"to": {" , "}}, qwoty.CodeRecipientInvalid},
		{"21 recipients", url.Values{"to": {manyAddresses(21)}}, qwoty.CodeRecipientInvalid},
		{"not a contact", url.Values{"contact": {"stranger@example.com"}}, qwoty.CodeRecipientInvalid},
		{"long subject", url.Values{"to": {"a@b.example"}, "subject": {strings.Repeat("s", 201)}}, qwoty.CodeRecipientInvalid},
	} {
		c.form.Set("version", v)
		if c.form.Get("subject") == "" {
			c.form.Set("subject", "Quote")
		}
		a.send(http.MethodPost, base+"/send", tok, c.form, false).wantError(t, http.StatusUnprocessableEntity, c.code)
	}
	if n := count(t, a, `SELECT count(*) FROM quote_sends`); n != 0 {
		t.Fatalf("refused sends recorded %d sends", n)
	}
	// Twenty is fine, and the deal's contacts are offered and taken.
	ctx := context.Background()
	pool := storetest.Pool(t, a.db)
	if _, err := pool.Exec(ctx, `INSERT INTO crm_contacts (connection_id, email, workspace_id, name) VALUES ($1, 'olga@romashka.example', $2, 'Ольга')`,
		conn.ID, conn.WorkspaceID); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO crm_deal_contacts (connection_id, deal_crm_id, email, role) VALUES ($1, $2, 'olga@romashka.example', 'Buyer')`,
		conn.ID, recordA); err != nil {
		t.Fatal(err)
	}
	f := a.action(http.MethodGet, base+"/send", tok, nil)
	if f.status != 200 || !bytes.Contains(f.body, []byte(`value="olga@romashka.example"`)) || !bytes.Contains(f.body, []byte("Ольга")) {
		t.Fatalf("send form: %d %s", f.status, f.body)
	}
	r := a.send(http.MethodPost, base+"/send", tok, url.Values{"version": {v}, "contact": {"olga@romashka.example"}, "to": {manyAddresses(19)},
		"subject": {"Quote"}}, false)
	if r.status != 200 {
		t.Fatalf("send to 20: %d %s", r.status, r.body)
	}

	// A quote without lines is not sent.
	r = a.action(http.MethodPost, "/embed/api/quotes", tok, nil)
	empty := "/embed/api/quotes/" + string(quoteIDPattern.FindSubmatch(r.body)[1])
	a.send(http.MethodPost, empty+"/send", tok, url.Values{"version": {editorVersion(t, r)}, "to": {"a@b.example"}, "subject": {"Q"}}, false).
		wantError(t, http.StatusUnprocessableEntity, qwoty.CodeQuoteEmpty)
}

func manyAddresses(n int) string {
	var s []string
	for i := range n {
		s = append(s, fmt.Sprintf("p%d@example.com", i))
	}
	return strings.Join(s, ", ")
}
