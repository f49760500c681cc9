package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// localeBody is a callout body whose rep has the given locale.
func localeBody(locale, currency string) string {
	b, _ := json.Marshal(map[string]any{
		"recordId": recordA, "objectType": "Opportunity",
		"user":   map[string]any{"id": "005000000000001AAA", "name": "Rep", "locale": locale},
		"record": map[string]any{"name": "Big deal", "accountId": accountA, "accountName": "Acme", "currencyIsoCode": currency},
	})
	return string(b)
}

var (
	listTotalPattern = regexp.MustCompile(`<span class="q-total num">([^<]*)</span>`)
	idText           = func(id string) *regexp.Regexp { return regexp.MustCompile(`id="` + id + `"[^>]*>([^<]*)<`) }
)

// Money reads one way on every surface of the card, in the rep's locale
// (from the CRM's request, carried by the page token) and the currency's
// minor units: the list, the editor's lines and totals; a unit price keeps
// its cents; an empty quote's discount has no sign.
func TestCardMoneyInTheRepsLocale(t *testing.T) {
	a := newApp(t, "", nil)
	org := orgID(t, "00D00000000000A")
	conn := a.connect("Acme", org, "acme")
	for _, c := range []struct {
		locale, currency, price, qty                   string
		unitInput, lineAmount, subtotal, discount, tot string
	}{
		{"en_US", "USD", "49.9", "300", "49.90", "USD 13,473.00", "USD 14,970.00", "-USD 1,497.00", "USD 13,473.00"},
		{"fr_FR", "EUR", "49.9", "300", "49.90", "13 473,00 EUR", "14 970,00 EUR", "-1 497,00 EUR", "13 473,00 EUR"},
		{"en_US", "JPY", "1499.5", "10", "1499.5", "JPY 13,495", "JPY 14,995", "-JPY 1,500", "JPY 13,495"},
	} {
		t.Run(c.currency, func(t *testing.T) {
			nb := func(s string) string {
				s = strings.ReplaceAll(s, " ", "\u00a0")
				if c.locale == "fr_FR" { // French groups with a narrow no-break space
					s = regexp.MustCompile(`(\d)\x{a0}(\d)`).ReplaceAllString(s, "$1\u202f$2")
				}
				return s
			}
			ans := do(t, a.request(callout{org: org, secret: conn.Secret, body: localeBody(c.locale, c.currency)})).answer(t)
			page, tok := a.page(ans.EmbedURL)
			r := a.action(http.MethodPost, "/embed/api/quotes", tok, nil)
			if got := idText("discount").FindSubmatch(r.body); got == nil || strings.Contains(string(got[1]), "-") || strings.Contains(string(got[1]), "−") {
				t.Fatalf("an empty quote's discount reads %q: want zero without a sign", got)
			}
			base := "/embed/api/quotes/" + string(quoteIDPattern.FindSubmatch(r.body)[1])
			r = a.send(http.MethodPost, base+"/lines", tok, url.Values{"version": {editorVersion(t, r)}, "sku": {"A"}, "quantity": {c.qty},
				"unit_price": {c.price}, "discount_percent": {"10"}}, false)
			r = a.send(http.MethodPost, base+"/lines", tok, url.Values{"version": {editorVersion(t, r)}, "sku": {"B"}, "quantity": {"1"},
				"unit_price": {"0"}}, false)
			r = a.send(http.MethodPut, base+"/terms", tok, url.Values{"version": {editorVersion(t, r)}, "title": {"T"}, "tax_rate": {"0"}}, false)
			if r.status != 200 {
				t.Fatalf("edit: %d %s", r.status, r.body)
			}
			if !bytes.Contains(r.body, []byte(`name="unit_price" class="num" value="`+c.unitInput+`"`)) {
				t.Fatalf("the unit price field does not read %s:\n%s", c.unitInput, r.body)
			}
			amounts := lineAmountPattern.FindAllSubmatch(r.body, -1)
			if len(amounts) != 2 || string(amounts[0][1]) != nb(c.lineAmount) {
				t.Fatalf("line amounts %q, want %q first", amounts, nb(c.lineAmount))
			}
			for id, want := range map[string]string{"subtotal": c.subtotal, "discount": c.discount, "total": c.tot} {
				if got := idText(id).FindSubmatch(r.body); got == nil || string(got[1]) != nb(want) {
					t.Fatalf("%s reads %q, want %q", id, got, nb(want))
				}
			}
			list := a.action(http.MethodGet, "/embed/api/quotes", tok, nil)
			if got := listTotalPattern.FindSubmatch(list.body); got == nil || string(got[1]) != nb(c.tot) {
				t.Fatalf("the list's total reads %q, want the editor's %q", got, nb(c.tot))
			}
			_ = page
		})
	}
}

// What the card says about a locked quote is what can be done today, and a
// version conflict is told in words, without the versions, with a reload.
func TestCardLockedTextAndConflict(t *testing.T) {
	a := newApp(t, "", nil)
	_, tok, base, editor := cardQuote(t, a)
	stale := editorVersion(t, editor)
	r := a.send(http.MethodPost, base+"/status", tok, url.Values{"version": {stale}, "status": {"sent"}}, true)
	if !bytes.Contains(r.body, []byte("use &#34;Revise&#34; below: the next revision becomes a draft")) || !bytes.Contains(r.body, []byte(`id="revise"`)) {
		t.Fatalf("a sent quote's note does not point at its Revise button:\n%s", r.body)
	}
	conflict := a.send(http.MethodPut, base+"/terms", tok, url.Values{"version": {stale}, "title": {"Old"}}, true)
	if conflict.status != http.StatusConflict || !bytes.Contains(conflict.body, []byte("changed elsewhere")) ||
		!bytes.Contains(conflict.body, []byte(`data-reload`)) || regexp.MustCompile(`version \d|\d+, you edited`).Match(conflict.body) {
		t.Fatalf("version conflict: %d\n%s", conflict.status, conflict.body)
	}
	r = a.send(http.MethodPost, base+"/status", tok, url.Values{"version": {editorVersion(t, r)}, "status": {"accepted"}}, true)
	if !bytes.Contains(r.body, []byte(`id="locked-note">This quote was accepted: it is final`)) || bytes.Contains(r.body, []byte("Revise")) {
		t.Fatalf("an accepted quote's note:\n%s", r.body)
	}
}

// Quotes are listed as buttons: no trigger filter (it needs eval, which
// the CSP forbids), and one create button in each state.
func TestCardListWithoutEvalOneCreateButton(t *testing.T) {
	a := newApp(t, "", nil)
	org := orgID(t, "00D00000000000A")
	conn := a.connect("Acme", org, "acme")
	page, tok := a.page(openCard(t, a, org, conn.Secret).EmbedURL)
	if n := bytes.Count(page.body, []byte(`hx-post="/embed/api/quotes"`)); n != 1 {
		t.Fatalf("the empty card has %d create buttons, want 1", n)
	}
	a.action(http.MethodPost, "/embed/api/quotes", tok, nil)
	list := a.action(http.MethodGet, "/embed/api/quotes", tok, nil)
	if bytes.Contains(list.body, []byte("keyup[")) || bytes.Contains(list.body, []byte("hx-trigger")) ||
		!bytes.Contains(list.body, []byte(`<button type="button" class="quote"`)) {
		t.Fatalf("the list:\n%s", list.body)
	}
	if n := bytes.Count(list.body, []byte(`hx-post="/embed/api/quotes"`)); n != 1 {
		t.Fatalf("the list has %d create buttons, want 1", n)
	}
}
