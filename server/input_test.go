package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/web"
	"github.com/qwoty/companion/web/webtest"
)

// send calls a card action with a URL-encoded form (every byte escaped, as a
// browser does), as htmx when hx is set.
func (a *testApp) send(method, path, token string, form url.Values, hx bool) response {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.url()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	if hx {
		req.Header.Set("HX-Request", "true")
	}
	return do(a.t, req)
}

// cardQuote opens a card and creates a quote with one line and a title;
// it returns the page token, the quote's path and its editor.
func cardQuote(t *testing.T, a *testApp) (conn *qwoty.Connection, tok, base string, editor response) {
	t.Helper()
	org := orgID(t, "00D00000000000A")
	conn = a.connect("Acme", org, "acme")
	_, tok = a.page(openCard(t, a, org, conn.Secret).EmbedURL)
	r := a.action(http.MethodPost, "/embed/api/quotes", tok, nil)
	base = "/embed/api/quotes/" + string(quoteIDPattern.FindSubmatch(r.body)[1])
	r = a.send(http.MethodPost, base+"/lines", tok, url.Values{"version": {editorVersion(t, r)}, "sku": {"LIC"}, "description": {"Licence"},
		"quantity": {"3"}, "unit_price": {"19.99"}, "discount_percent": {"10"}}, false)
	r = a.send(http.MethodPut, base+"/terms", tok, url.Values{"version": {editorVersion(t, r)}, "title": {"Renewal"}, "tax_rate": {"20"}}, false)
	if r.status != 200 {
		t.Fatalf("quote setup: %d %s", r.status, r.body)
	}
	return conn, tok, base, r
}

func editorVersion(t *testing.T, r response) string {
	t.Helper()
	m := versionPattern.FindSubmatch(r.body)
	if m == nil {
		t.Fatalf("no editor in %d %s", r.status, r.body)
	}
	return string(m[1])
}

// A NUL, bytes that are not UTF-8, or amounts past what a line may hold
// are the client's mistakes: 422 validation_failed naming the field, the
// message beside that field in the card, and the quote as it was.
func TestCardActionsRefuseBadInputNamingTheField(t *testing.T) {
	a := newApp(t, "", nil)
	conn, tok, base, editor := cardQuote(t, a)
	line := string(lineIDPattern.FindSubmatch(editor.body)[1])
	before, err := a.db.GetQuote(context.Background(), scopeFor(conn, recordA), strings.TrimPrefix(base, "/embed/api/quotes/"))
	if err != nil {
		t.Fatal(err)
	}
	v := editorVersion(t, editor)
	lineForm := func(kv ...string) url.Values {
		f := url.Values{"version": {v}, "sku": {"LIC"}, "description": {"Licence"}, "quantity": {"1"}, "unit_price": {"10"}, "discount_percent": {"0"}}
		for i := 0; i < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	cases := []struct {
		name, method, path string
		form               url.Values
		field, says        string
	}{
		{"NUL in a new line's SKU", http.MethodPost, "/lines", lineForm("sku", "LIC\x00"), "sku", "SKU holds a NUL character"},
		{"invalid UTF-8 in a new line's SKU", http.MethodPost, "/lines", lineForm("sku", "LIC\xff"), "sku", "SKU is not valid UTF-8 text"},
		{"NUL in a new line's description", http.MethodPost, "/lines", lineForm("description", "a\x00b"), "description", "Description holds a NUL character"},
		{"invalid UTF-8 in a line's description", http.MethodPut, "/lines/" + line, lineForm("description", "caf\xc3"), "description", "Description is not valid UTF-8 text"},
		{"NUL in a line's SKU", http.MethodPut, "/lines/" + line, lineForm("sku", "\x00"), "sku", "SKU holds a NUL character"},
		{"quantity × price past the amount column", http.MethodPost, "/lines", lineForm("quantity", "100000", "unit_price", "1000000000000"),
			"unit_price", "Quantity × unit price is 100,000,000,000,000,000, above the 1,000,000,000,000 a line may hold"},
		{"a line's quantity × price past the amount column", http.MethodPut, "/lines/" + line, lineForm("quantity", "1000000000", "unit_price", "1000000000000"),
			"unit_price", "above the 1,000,000,000,000 a line may hold"},
		{"discount 150", http.MethodPost, "/lines", lineForm("discount_percent", "150"), "discount_percent", "Discount 150% is out of range"},
		{"NUL in the title", http.MethodPut, "/terms", url.Values{"version": {v}, "title": {"Re\x00newal"}, "tax_rate": {"20"}}, "title", "Title holds a NUL character"},
		{"invalid UTF-8 in the title", http.MethodPut, "/terms", url.Values{"version": {v}, "title": {"\xe2\x82"}, "tax_rate": {"20"}}, "title", "Title is not valid UTF-8 text"},
		{"a currency with odd characters", http.MethodPut, "/terms", url.Values{"version": {v}, "title": {"Renewal"}, "currency": {"U$\u00a0"}}, "currency", `Currency "U$\u00a0" is not valid`},
		{"a version past the column", http.MethodPut, "/terms", url.Values{"version": {"2147483648"}, "title": {"Renewal"}}, "version", "Version 2147483648 is out of range"},
		{"a version past int64", http.MethodPost, "/lines", lineForm("version", "99999999999999999999"), "version", `Version "99999999999999999999" is not a positive number`},
		{"NUL in a field no form has", http.MethodPost, "/lines", lineForm("note", "\x00"), "note", `Form field "note" holds a NUL character`},
		{"NUL in the status", http.MethodPost, "/status", url.Values{"version": {v}, "status": {"sent\x00"}}, "status", "Status holds a NUL character"},
	}
	for _, c := range cases {
		// An API client gets the JSON error.
		e := a.send(c.method, base+c.path, tok, c.form, false).wantError(t, http.StatusUnprocessableEntity, qwoty.CodeValidation)
		if !strings.Contains(web.Sentence(e.Message), c.says) {
			t.Errorf("%s: message %q, want it to say %q", c.name, e.Message, c.says)
		}
		// The card gets the message marked with its field, for card.js to
		// put beside it.
		r := a.send(c.method, base+c.path, tok, c.form, true)
		want := `<strong data-field="` + c.field + `">`
		if r.status != http.StatusUnprocessableEntity || r.header.Get("HX-Retarget") != "#flash" ||
			!bytes.Contains(r.body, []byte(want)) || !bytes.Contains(r.body, []byte(webtest.Escaped(c.says))) {
			t.Errorf("%s (htmx): %d, retarget %q, body %s; want 422 and %s…%s", c.name, r.status, r.header.Get("HX-Retarget"), r.body, want, webtest.Escaped(c.says))
		}
	}

	after, err := a.db.GetQuote(context.Background(), scopeFor(conn, recordA), before.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Version != before.Version || after.Title != before.Title || after.Currency != before.Currency ||
		!after.Totals.Total.Equal(before.Totals.Total) || len(after.Lines) != 1 || after.Lines[0].SKU != "LIC" ||
		after.Lines[0].Description != "Licence" || !after.Lines[0].Quantity.Equal(before.Lines[0].Quantity) {
		t.Fatalf("refused edits changed the quote:\nbefore %+v\nafter  %+v", before, after)
	}
	// The card still edits it.
	if r := a.send(http.MethodPost, base+"/lines", tok, lineForm("sku", "SUP"), false); r.status != 200 {
		t.Fatalf("a good edit after the refusals: %d %s", r.status, r.body)
	}
}

// Ids and versions that are not ours answer 4xx, never 500.
func TestCardActionsRefuseIdsThatAreNotOurs(t *testing.T) {
	a := newApp(t, "", nil)
	_, tok, base, editor := cardQuote(t, a)
	v := editorVersion(t, editor)
	cases := []struct {
		method, path string
		form         url.Values
		status       int
	}{
		{http.MethodGet, "/embed/api/quotes/not-a-uuid", nil, 404},
		{http.MethodGet, "/embed/api/quotes/00000000-0000-0000-0000-00000000000%00", nil, 404},
		{http.MethodPut, base + "/lines/not-a-uuid", url.Values{"version": {v}, "sku": {"X"}}, 404},
		{http.MethodDelete, base + "/lines/%FF?version=" + v, nil, 404},
		{http.MethodDelete, base + "/lines/12345678-1234-1234-1234-123456789012?version=" + v, nil, 404},
		{http.MethodPut, base + "/terms", url.Values{"version": {"-1"}}, 422},
		{http.MethodPut, base + "/terms", url.Values{"version": {"1e3"}}, 422},
		{http.MethodPut, base + "/terms", url.Values{"version": {"2147483648"}}, 422},
		{http.MethodPut, base + "/terms", url.Values{"version": {"1"}}, 409},
	}
	for _, c := range cases {
		r := a.send(c.method, c.path, tok, c.form, false)
		if r.status != c.status {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, r.status, r.body, c.status)
		}
	}
}

// A form body is capped at 64 KiB on every surface that reads forms; one
// that does not parse is a bad request.
func TestFormBodiesAreCapped(t *testing.T) {
	e := newApp(t, "", nil)
	_, tok, base, editor := cardQuote(t, e)
	v := editorVersion(t, editor)

	big := url.Values{"version": {v}, "sku": {"X"}, "quantity": {"1"}, "unit_price": {"1"}, "description": {strings.Repeat("é", 40<<10)}}
	e.send(http.MethodPost, base+"/lines", tok, big, false).wantError(t, http.StatusRequestEntityTooLarge, qwoty.CodePayloadTooLarge)
	// Without a length up front (chunked), the cap holds as the body is read.
	req, _ := http.NewRequest(http.MethodPost, e.url()+base+"/lines", io.MultiReader(strings.NewReader(big.Encode())))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+tok)
	do(t, req).wantError(t, http.StatusRequestEntityTooLarge, qwoty.CodePayloadTooLarge)
	// Multipart is capped the same way.
	var mp bytes.Buffer
	mp.WriteString("--b\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\n" + strings.Repeat("x", 70<<10) + "\r\n--b--\r\n")
	req, _ = http.NewRequest(http.MethodPost, e.url()+base+"/lines", io.MultiReader(&mp))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	req.Header.Set("Authorization", "Bearer "+tok)
	do(t, req).wantError(t, http.StatusRequestEntityTooLarge, qwoty.CodePayloadTooLarge)
	// A form just under the cap is read (and refused for its content only).
	under := url.Values{"version": {v}, "sku": {"X"}, "quantity": {"1"}, "unit_price": {"1"}, "description": {strings.Repeat("d", 60<<10)}}
	if e := e.send(http.MethodPost, base+"/lines", tok, under, false).wantError(t, 422, qwoty.CodeValidation); !strings.Contains(e.Message, "description is longer than 1000") {
		t.Fatalf("a form under the cap: %q", e.Message)
	}
	// A broken escape is a bad request, not a field read as empty.
	req, _ = http.NewRequest(http.MethodPost, e.url()+base+"/lines", strings.NewReader("version="+v+"&sku=%zz&quantity=1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+tok)
	if e := do(t, req).wantError(t, 400, qwoty.CodeBadRequest); !strings.Contains(e.Message, `invalid URL escape "%zz"`) {
		t.Fatalf("broken escape: %q", e.Message)
	}

	// The console's forms too: login, and an admin's.
	anon := webtest.NewBrowser(t)
	anon.Post(e.url()+"/login", url.Values{"email": {webtest.AdminEmail}, "password": {strings.Repeat("p", 70<<10)}})
	anon.Want(413, "/login", "payload_too_large", "64 KiB")
	b := webtest.SetupAdmin(t, e.db, e.url())
	b.Get(e.url() + "/settings/users")
	b.Post(e.url()+"/settings/invitations", url.Values{"csrf": {b.CSRF()}, "email": {"big@acme.example"}, "role": {"member"},
		"note": {strings.Repeat("n", 70<<10)}})
	b.Want(413, "/settings/invitations", "payload_too_large")
}

var lineAmountPattern = regexp.MustCompile(`<span class="amount"[^>]*>([^<]+)</span>`)

// The largest valid quote (the most lines, each at the most a line may
// hold, 100 % tax) is stored and read back exactly, through the card; one
// line more is refused.
func TestLargestQuoteIsStoredExactly(t *testing.T) {
	a := newApp(t, "", nil)
	conn, tok, base, editor := cardQuote(t, a)
	id := strings.TrimPrefix(base, "/embed/api/quotes/")
	// Drop the setup line, then fill the quote to its last line; each line
	// at the edge of a limit: the most quantity, the most price, the most
	// decimals, and the most a line may hold.
	line := string(lineIDPattern.FindSubmatch(editor.body)[1])
	r := a.action(http.MethodDelete, base+"/lines/"+line+"?version="+editorVersion(t, editor), tok, nil)
	inputs := []qwoty.LineInput{
		{SKU: strings.Repeat("S", 64), Description: strings.Repeat("é", 1000), Quantity: "1000000000", UnitPrice: "1000"},
		{SKU: "PRICE", Quantity: "1", UnitPrice: "1000000000000"},
		{SKU: "FRAC", Quantity: "999999999.9999", UnitPrice: "1000.0000", DiscountPercent: "0.0001"},
		{SKU: "TINY", Quantity: "0.0001", UnitPrice: "999999999999.9999", DiscountPercent: "99.9999"},
		{SKU: "THIRD", Quantity: "3", UnitPrice: "333333333333.3333"},
	}
	// Lines go in through the store in one transaction (500 card requests
	// would reprice the quote 500 times); the card then adds and edits.
	if _, err := a.db.UpdateQuote(context.Background(), scopeFor(conn, recordA), id, 0, "", addLines(t, inputs, qwoty.MaxLines-1)); err != nil {
		t.Fatalf("adding %d lines: %v", qwoty.MaxLines-1, err)
	}
	// The most quantity at the most price is past what a line may hold
	// (and what the amount column holds): refused, the quote as it was.
	e := a.send(http.MethodPost, base+"/lines", tok, url.Values{"sku": {"LAST"}, "quantity": {"1000000000"}, "unit_price": {"1000000000000"}}, false).
		wantError(t, 422, qwoty.CodeValidation)
	if !strings.Contains(e.Message, "a line may hold") {
		t.Fatalf("max quantity × max price: %q", e.Message)
	}
	r = a.send(http.MethodPost, base+"/lines", tok, url.Values{"sku": {"LAST"}, "quantity": {"1000000000"}, "unit_price": {"1000"}}, false)
	r = a.send(http.MethodPut, base+"/terms", tok, url.Values{"version": {editorVersion(t, r)}, "title": {"Largest"}, "tax_rate": {"100"}}, false)
	if r.status != 200 {
		t.Fatalf("the largest quote: %d %.300s", r.status, r.body)
	}
	e = a.send(http.MethodPost, base+"/lines", tok, url.Values{"sku": {"ONE MORE"}, "quantity": {"1"}, "unit_price": {"1"}}, false).
		wantError(t, 422, qwoty.CodeValidation)
	if !strings.Contains(e.Message, "at most "+strconv.Itoa(qwoty.MaxLines)+" lines") {
		t.Fatalf("line %d: %q, want the line limit", qwoty.MaxLines+1, e.Message)
	}

	q, err := a.db.GetQuote(context.Background(), scopeFor(conn, recordA), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Lines) != qwoty.MaxLines {
		t.Fatalf("%d lines stored, want %d", len(q.Lines), qwoty.MaxLines)
	}
	// What came back is what the domain computes from the inputs, to the
	// last decimal, and what the card shows.
	var want []qwoty.LineItem
	for i := 0; i < qwoty.MaxLines-1; i++ {
		l, _ := qwoty.ParseLine(inputs[i%len(inputs)])
		want = append(want, l)
	}
	last, _ := qwoty.ParseLine(qwoty.LineInput{SKU: "LAST", Quantity: "1000000000", UnitPrice: "1000"})
	want = append(want, last)
	totals := qwoty.ComputeTotals(want, q.TaxRate, q.Currency)
	for i, l := range q.Lines {
		w := want[i]
		if l.SKU != w.SKU || l.Description != w.Description || !l.Quantity.Equal(w.Quantity) || !l.UnitPrice.Equal(w.UnitPrice) ||
			!l.DiscountPercent.Equal(w.DiscountPercent) || !l.Amount.Equal(w.Amount) || !l.Discount.Equal(w.Discount) || !l.Net.Equal(w.Net) {
			t.Fatalf("line %d stored as %+v, want %+v", i+1, l, w)
		}
	}
	if !q.Totals.Subtotal.Equal(totals.Subtotal) || !q.Totals.Discount.Equal(totals.Discount) || !q.Totals.Tax.Equal(totals.Tax) ||
		!q.Totals.Total.Equal(totals.Total) || q.Totals.Total.GreaterThan(qwoty.MaxTotal) {
		t.Fatalf("totals stored as %+v, want %+v (at most %s)", q.Totals, totals, qwoty.MaxTotal)
	}
	if !bytes.Contains(r.body, []byte(`id="total">`+qwoty.MoneyFor("").Amount(totals.Total, "USD")+`<`)) {
		t.Fatalf("the card does not show the total %s", totals.Total.StringFixed(2))
	}
	if got := lineAmountPattern.FindAllSubmatch(r.body, -1); len(got) != qwoty.MaxLines {
		t.Fatalf("the card shows %d lines, want %d", len(got), qwoty.MaxLines)
	}
}

// addLines adds n lines cycling through inputs, in one transaction.
func addLines(t *testing.T, inputs []qwoty.LineInput, n int) store.Change {
	return func(q *qwoty.Quote) error {
		for i := 0; i < n; i++ {
			l, err := qwoty.ParseLine(inputs[i%len(inputs)])
			if err != nil {
				t.Errorf("line %+v refused: %v", inputs[i%len(inputs)], err)
				return err
			}
			if err := q.AddLine(l); err != nil {
				return err
			}
		}
		return nil
	}
}

// A CRM record's text prefills a quote; text no column can hold (a NUL in a
// HubSpot deal's or company's name) is cleaned, not refused.
func TestQuotePrefillFromTheCRMIsCleaned(t *testing.T) {
	var hs *hstest.Server
	app := newAppWith(t, "", func(appURL string, d *Deps) {
		hs = hstest.New(t, hstest.Options{App: hstest.App{ClientID: "hs-client", ClientSecret: hsClientSecret, RedirectURLs: []string{appURL + "/oauth/hubspot/callback"}},
			LoginAs: hstest.DefaultAdminID})
		d.Config.HubSpot.ClientID, d.Config.HubSpot.ClientSecret = "hs-client", hsClientSecret
		d.CRMs = testCRMs(d.Config, hubspot.NewAdapter(hubspot.Options{ClientID: "hs-client", ClientSecret: hsClientSecret,
			RedirectURL: appURL + "/oauth/hubspot/callback", AuthURL: hs.URL, APIURL: hs.URL}))
	})
	e := app
	b := webtest.SetupAdmin(t, e.db, e.url())
	b.Post(e.url()+"/settings/integrations/hubspot/connect", url.Values{"csrf": {b.CSRF()}}).Want(200, "/settings/integrations", "HubSpot is connected")
	hs.PutDeal(hstest.DefaultPortalID, hstest.Deal{ID: hstest.DefaultDealID, Name: "Acme\x00 - " + strings.Repeat("x", 300), Currency: "U\x00D",
		CompanyIDs: []string{hstest.DefaultCompanyID}})
	hs.PutCompany(hstest.DefaultPortalID, hstest.Company{ID: hstest.DefaultCompanyID, Name: "Ac\x00me"})

	ans := do(t, hs.SignedCardRequest(e.url(), hstest.DefaultPortalID, hstest.DefaultRepID, hstest.DefaultDealID)).answer(t)
	_, tok := e.page(ans.EmbedURL)
	r := e.action(http.MethodPost, "/embed/api/quotes", tok, nil)
	if r.status != 201 {
		t.Fatalf("new quote on a deal whose name holds a NUL: %d %.300s", r.status, r.body)
	}
	title := "Acme - " + strings.Repeat("x", qwoty.MaxTitleLen-len("Acme - "))
	if !bytes.Contains(r.body, []byte(`value="`+title+`"`)) || !bytes.Contains(r.body, []byte(">Acme</span>")) || !bytes.Contains(r.body, []byte(">USD</span>")) {
		t.Fatalf("quote not prefilled with the cleaned title %q, customer Acme and USD:\n%s", title, r.body)
	}
}

func TestHubSpotQuotePrefilledFromTheDeal(t *testing.T) {
	var hs *hstest.Server
	app := newAppWith(t, "", func(appURL string, d *Deps) {
		hs = hstest.New(t, hstest.Options{App: hstest.App{ClientID: "hs-client", ClientSecret: hsClientSecret, RedirectURLs: []string{appURL + "/oauth/hubspot/callback"}},
			LoginAs: hstest.DefaultAdminID})
		d.Config.HubSpot.ClientID, d.Config.HubSpot.ClientSecret = "hs-client", hsClientSecret
		d.CRMs = testCRMs(d.Config, hubspot.NewAdapter(hubspot.Options{ClientID: "hs-client", ClientSecret: hsClientSecret,
			RedirectURL: appURL + "/oauth/hubspot/callback", AuthURL: hs.URL, APIURL: hs.URL}))
	})
	e := app
	b := webtest.SetupAdmin(t, e.db, e.url())
	b.Post(e.url()+"/settings/integrations/hubspot/connect", url.Values{"csrf": {b.CSRF()}}).
		Want(200, "/settings/integrations", "HubSpot is connected", `id="health-hubspot">Connected`)

	ans := do(t, hs.SignedCardRequest(e.url(), hstest.DefaultPortalID, hstest.DefaultRepID, hstest.DefaultDealID)).answer(t)
	_, tok := e.page(ans.EmbedURL)
	r := e.action(http.MethodPost, "/embed/api/quotes", tok, nil)
	if r.status != 201 || !bytes.Contains(r.body, []byte(hubspotDealName)) {
		t.Fatalf("quote not prefilled with the deal's name %q: %d\n%s", hubspotDealName, r.status, r.body)
	}
	if hs.Reads("deals") == 0 {
		t.Fatal("the deal was not read through HubSpot's API")
	}
	// An expired access token is refreshed once, then the deal read again.
	hs.ExpireAccessTokens()
	before := hs.TokenCalls("refresh_token")
	if r := e.action(http.MethodPost, "/embed/api/quotes", tok, nil); r.status != 201 || !bytes.Contains(r.body, []byte(hubspotDealName)) {
		t.Fatalf("after expiry: %d", r.status)
	}
	if n := hs.TokenCalls("refresh_token") - before; n != 1 {
		t.Fatalf("%d refreshes after the token expired, want 1", n)
	}
}

// hubspotDealName is the name hstest gives DefaultDealID.
const hubspotDealName = "Acme - 200 licences"
