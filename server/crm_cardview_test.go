package server

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store/storetest"
	"github.com/qwoty/companion/web"
)

func orgIDB(t testing.TB, id15 string) string { return orgID(t, id15) }

func orgID(t testing.TB, id15 string) string {
	t.Helper()
	id, err := salesforce.NormalizeOrgID(id15)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

const (
	recordA  = "006000000000001AAA"
	accountA = "001000000000001AAA"
)

func TestCardViewAnswersWithQuotesAndEmbedURL(t *testing.T) {
	a := newApp(t, "", nil)
	org := orgID(t, "00D00000000000A")
	conn := a.connect("Acme", org, "acme")

	r := do(t, a.request(callout{org: org, secret: conn.Secret, body: body(recordA, accountA, "Acme", "EUR")}))
	ans := r.answer(t)
	if !strings.HasPrefix(ans.EmbedURL, a.url()+"/embed/salesforce/card?token=") || ans.Record.ID != recordA || len(ans.Quotes) != 0 {
		t.Fatalf("answer = %+v", ans)
	}
	if d := ans.ExpiresAt.Sub(a.clock.Now()); d > cardview.EmbedTTL || d < cardview.EmbedTTL-2*time.Second {
		t.Fatalf("expiresAt is %s from now, want 5m", d)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get(web.HeaderRequestID) == "" {
		t.Fatalf("headers = %v", r.header)
	}

	// Create a quote through the card, then the next callout lists it.
	_, token := a.page(ans.EmbedURL)
	if token == "" {
		t.Fatal("the card page carries no page token")
	}
	created := a.action(http.MethodPost, "/embed/api/quotes", token, nil)
	if created.status != http.StatusCreated || !bytes.Contains(created.body, []byte("Q-00001")) || !bytes.Contains(created.body, []byte("EUR")) {
		t.Fatalf("create: %d %s", created.status, created.body)
	}
	ans = do(t, a.request(callout{org: org, secret: conn.Secret, body: body(recordA, accountA, "Acme", "EUR")})).answer(t)
	if len(ans.Quotes) != 1 || ans.Quotes[0].Number != "Q-00001" || ans.Quotes[0].Total != "0.00" || ans.Quotes[0].Currency != "EUR" ||
		ans.Quotes[0].Status != qwoty.StatusDraft || !strings.Contains(ans.Quotes[0].URL, "&quote="+ans.Quotes[0].ID) {
		t.Fatalf("quotes = %+v", ans.Quotes)
	}

	// A 15-character org id is accepted (and signed as sent).
	r = do(t, a.request(callout{org: org[:15], secret: conn.Secret, body: body(recordA, accountA, "Acme", "")}))
	if len(r.answer(t).Quotes) != 1 {
		t.Fatal("the 15-character org id did not find the same org")
	}
}

func TestCardViewErrorCodes(t *testing.T) {
	a := newApp(t, "", nil)
	org := orgID(t, "00D00000000000A")
	conn := a.connect("Acme", org, "acme")
	gone := a.connect("Gone", orgID(t, "00D00000000000G"), "gone")
	if err := a.db.Disconnect(context.Background(), gone.ID, "test"); err != nil {
		t.Fatal(err)
	}
	good := body(recordA, accountA, "Acme", "USD")
	now := a.clock.Now()

	replayNonce := salesforce.NewNonce()
	do(t, a.request(callout{org: org, secret: conn.Secret, body: good, nonce: replayNonce})).answer(t)

	cases := []struct {
		name   string
		req    func() *http.Request
		status int
		code   qwoty.Code
	}{
		{"no org header", func() *http.Request {
			r := a.request(callout{org: org, secret: conn.Secret, body: good})
			r.Header.Del(salesforce.HeaderOrg)
			return r
		}, 400, qwoty.CodeBadRequest},
		{"no recordId", func() *http.Request {
			return a.request(callout{org: org, secret: conn.Secret, body: `{"objectType":"Opportunity"}`})
		}, 400, qwoty.CodeBadRequest},
		{"body not JSON", func() *http.Request {
			return a.request(callout{org: org, secret: conn.Secret, body: `recordId=1`})
		}, 400, qwoty.CodeBadRequest},
		{"body over 64 KiB", func() *http.Request {
			big := `{"recordId":"` + recordA + `","objectType":"Opportunity","record":{"name":"` + strings.Repeat("x", 64<<10) + `"}}`
			return a.request(callout{org: org, secret: conn.Secret, body: big})
		}, 413, qwoty.CodePayloadTooLarge},
		{"no signature", func() *http.Request {
			r := a.request(callout{org: org, secret: conn.Secret, body: good})
			r.Header.Del(salesforce.HeaderSignature)
			return r
		}, 401, qwoty.CodeSignatureMissing},
		{"wrong secret", func() *http.Request {
			return a.request(callout{org: org, secret: []byte("stale-secret-from-an-old-install"), body: good})
		}, 401, qwoty.CodeSignatureInvalid},
		{"clock 301 s behind", func() *http.Request {
			return a.request(callout{org: org, secret: conn.Secret, body: good, at: now.Add(-301 * time.Second)})
		}, 401, qwoty.CodeTimestampOutOfRange},
		{"clock 301 s ahead", func() *http.Request {
			return a.request(callout{org: org, secret: conn.Secret, body: good, at: now.Add(301 * time.Second)})
		}, 401, qwoty.CodeTimestampOutOfRange},
		{"replayed nonce", func() *http.Request {
			return a.request(callout{org: org, secret: conn.Secret, body: good, nonce: replayNonce})
		}, 409, qwoty.CodeReplayedRequest},
		{"unknown org", func() *http.Request {
			return a.request(callout{org: orgID(t, "00D00000000000Z"), secret: conn.Secret, body: good})
		}, 404, qwoty.CodeOrgNotConnected},
		{"disconnected org", func() *http.Request {
			return a.request(callout{org: gone.ExternalID, secret: gone.Secret, body: good})
		}, 403, qwoty.CodeOrgDisconnected},
		{"GET instead of POST", func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, a.url()+"/api/crm/cardView", nil)
			return r
		}, 405, qwoty.CodeMethodNotAllowed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			do(t, c.req()).wantError(t, c.status, c.code)
		})
	}

	// A chunked body over the cap (no Content-Length) is refused as well.
	big := bytes.Repeat([]byte("x"), 70<<10)
	r := a.request(callout{org: org, secret: conn.Secret, body: string(big)})
	r.ContentLength = -1
	r.Body = struct {
		*bytes.Reader
		noClose
	}{bytes.NewReader(big), noClose{}}
	do(t, r).wantError(t, 413, qwoty.CodePayloadTooLarge)

	// Our fault: the database goes away. 500 internal, with a request id.
	a.db.Close()
	do(t, a.request(callout{org: org, secret: conn.Secret, body: good})).wantError(t, 500, qwoty.CodeInternal)
}

type noClose struct{}

func (noClose) Close() error { return nil }

func TestReplayIsRefusedAcrossInstances(t *testing.T) {
	dbURL := ""
	first := newApp(t, dbURL, nil)
	// The second instance shares the first one's database, not its memory.
	var shared string
	{
		var err error
		err = storetest.Pool(t, first.db).QueryRow(context.Background(), "SELECT current_database()").Scan(&shared)
		if err != nil {
			t.Fatal(err)
		}
	}
	u, _ := url.Parse(storetest.Pool(t, first.db).Config().ConnString())
	u.Path = "/" + shared
	second := newApp(t, u.String(), first.clock)

	org := orgID(t, "00D00000000000A")
	conn := first.connect("Acme", org, "acme")
	co := callout{org: org, secret: conn.Secret, body: body(recordA, accountA, "Acme", "USD"), nonce: salesforce.NewNonce()}
	do(t, first.request(co)).answer(t)
	req := second.request(co)
	do(t, req).wantError(t, 409, qwoty.CodeReplayedRequest)
}

func TestSecretRotationWindow(t *testing.T) {
	a := newApp(t, "", nil)
	org := orgID(t, "00D00000000000A")
	conn := a.connect("Acme", org, "acme")
	newSecret, err := a.db.RotateSecret(context.Background(), conn.ID, 10*time.Minute, "admin")
	if err != nil {
		t.Fatal(err)
	}
	b := body(recordA, accountA, "Acme", "USD")
	do(t, a.request(callout{org: org, secret: conn.Secret, body: b})).answer(t) // old, within the window
	do(t, a.request(callout{org: org, secret: newSecret, body: b})).answer(t)   // new
	a.clock.Add(10*time.Minute + time.Second)
	do(t, a.request(callout{org: org, secret: conn.Secret, body: b})).wantError(t, 401, qwoty.CodeSignatureInvalid)
	do(t, a.request(callout{org: org, secret: newSecret, body: b})).answer(t)
}

func TestTenantIsolation(t *testing.T) {
	a := newApp(t, "", nil)
	orgA, orgB := orgID(t, "00D00000000000A"), orgID(t, "00D00000000000B")
	connA, connB := a.connect("A", orgA, "a-corp"), a.connect("B", orgB, "b-corp")
	b := body(recordA, accountA, "Acme", "USD")

	ansA := do(t, a.request(callout{org: orgA, secret: connA.Secret, body: b})).answer(t)
	_, tokA := a.page(ansA.EmbedURL)
	created := a.action(http.MethodPost, "/embed/api/quotes", tokA, nil)
	quoteID := regexp.MustCompile(`/embed/api/quotes/([0-9a-f-]{36})/`).FindSubmatch(created.body)
	if quoteID == nil {
		t.Fatalf("no quote id in %s", created.body)
	}

	// Org B, same record id, signing with its own secret: sees nothing of A.
	ansB := do(t, a.request(callout{org: orgB, secret: connB.Secret, body: b})).answer(t)
	if len(ansB.Quotes) != 0 {
		t.Fatalf("org B sees %d of org A's quotes", len(ansB.Quotes))
	}
	// Org B signing as org A with B's secret is refused.
	do(t, a.request(callout{org: orgA, secret: connB.Secret, body: b})).wantError(t, 401, qwoty.CodeSignatureInvalid)
	// B's page token cannot read or edit A's quote by id.
	_, tokB := a.page(ansB.EmbedURL)
	a.action(http.MethodGet, "/embed/api/quotes/"+string(quoteID[1]), tokB, nil).wantError(t, 404, qwoty.CodeNotFound)
	a.action(http.MethodPost, "/embed/api/quotes/"+string(quoteID[1])+"/lines", tokB,
		map[string]string{"sku": "X", "quantity": "1", "unit_price": "1"}).wantError(t, 404, qwoty.CodeNotFound)
	list := a.action(http.MethodGet, "/embed/api/quotes", tokB, nil)
	if bytes.Contains(list.body, quoteID[1]) {
		t.Fatal("org B's list shows org A's quote")
	}
}

func TestPing(t *testing.T) {
	a := newApp(t, "", nil)
	org := orgID(t, "00D00000000000A")
	conn := a.connect("Acme", org, "acme")
	r := do(t, a.request(callout{org: org, secret: conn.Secret, body: "{}", path: "/api/crm/ping"}))
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"ok":true`)) || !bytes.Contains(r.body, []byte(org)) {
		t.Fatalf("ping: %d %s", r.status, r.body)
	}
	// A ping signature does not open the card endpoint (the path is signed).
	co := callout{org: org, secret: conn.Secret, body: "{}", path: "/api/crm/ping"}
	req := a.request(co)
	req.URL.Path = "/api/crm/cardView"
	do(t, req).wantError(t, 401, qwoty.CodeSignatureInvalid)
	do(t, a.request(callout{org: org, secret: []byte("wrong"), body: "{}", path: "/api/crm/ping"})).wantError(t, 401, qwoty.CodeSignatureInvalid)
}
