package server

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/qwoty/companion/qwoty"
)

// The card's terms form sets the quote-level discount and the tax mode, a
// line's form its own tax rate; the totals show what they come to, and the
// engine prices them (docs/money.md). Bad values are 422 naming the field.
func TestCardSetsQuoteDiscountAndLineTax(t *testing.T) {
	a := newApp(t, "", nil)
	conn, tok, base, editor := cardQuote(t, a)
	id := strings.TrimPrefix(base, "/embed/api/quotes/")
	line := string(lineIDPattern.FindSubmatch(editor.body)[1])
	get := func() *qwoty.Quote {
		q, err := a.db.GetQuote(context.Background(), scopeFor(conn, recordA), id)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	terms := func(r response, kv ...string) url.Values {
		f := url.Values{"version": {editorVersion(t, r)}, "title": {"Renewal"}, "tax_rate": {"20"}}
		for i := 0; i < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}

	// 3 × 19.99 − 10 % = 53.97; 5 % off is 2.70 (2.6985), leaving 51.27;
	// taxed per line, the line has no rate of its own: 20 %, 10.25.
	r := a.send(http.MethodPut, base+"/terms", tok, terms(editor, "tax_mode", "line", "discount_kind", "percent", "discount_value", "5"), true)
	if r.status != http.StatusOK {
		t.Fatalf("terms: %d %s", r.status, r.body)
	}
	q := get()
	if q.TaxMode != qwoty.TaxPerLine || q.Discount.Kind != qwoty.DiscountPercent || q.Totals.QuoteDiscount.StringFixed(2) != "2.70" ||
		q.Totals.Tax.StringFixed(2) != "10.25" || q.Totals.Total.StringFixed(2) != "61.52" {
		t.Fatalf("after the terms: mode %s, discount %+v, totals %+v", q.TaxMode, q.Discount, q.Totals)
	}
	for _, want := range []string{`id="quote-discount"`, `Quote discount (5 %)`, `<option value="line" selected`, `id="l-` + line + `-tax_rate"`,
		`id="rounding"`, "Rounded half up, on each line", `id="discount_value" name="discount_value" class="num" value="5"`} {
		if !bytes.Contains(r.body, []byte(want)) {
			t.Errorf("the editor lacks %s", want)
		}
	}

	// The line's own rate: 10 % of 51.27 is 5.13.
	r = a.send(http.MethodPut, base+"/lines/"+line, tok, url.Values{"version": {editorVersion(t, r)}, "sku": {"LIC"}, "description": {"Licence"},
		"quantity": {"3"}, "unit_price": {"19.99"}, "discount_percent": {"10"}, "tax_rate": {"10"}}, true)
	if q = get(); r.status != http.StatusOK || !q.Lines[0].TaxRate.Valid || q.Totals.Tax.StringFixed(2) != "5.13" || q.Totals.Total.StringFixed(2) != "56.40" {
		t.Fatalf("line rate: %d, line %+v, totals %+v", r.status, q.Lines[0], q.Totals)
	}

	// Back to one rate for the quote: the line keeps its rate, in a hidden
	// field its next save sends back.
	r = a.send(http.MethodPut, base+"/terms", tok, terms(r, "tax_mode", "quote", "discount_kind", "amount", "discount_value", "3.97"), true)
	if q = get(); r.status != http.StatusOK || q.TaxMode != qwoty.TaxPerQuote || q.Totals.QuoteDiscount.StringFixed(2) != "3.97" ||
		q.Totals.Tax.StringFixed(2) != "10.00" || !bytes.Contains(r.body, []byte(`<input type="hidden" name="tax_rate" value="10">`)) {
		t.Fatalf("quote mode: %d, totals %+v, body %s", r.status, q.Totals, r.body)
	}

	v := editorVersion(t, r)
	for _, c := range []struct {
		name, path  string
		form        url.Values
		field, says string
	}{
		{"an amount over the discounted subtotal", "/terms", url.Values{"version": {v}, "title": {"R"}, "tax_rate": {"20"}, "discount_kind": {"amount"}, "discount_value": {"53.98"}},
			"discount_value", "more than the discounted subtotal 53.97"},
		{"an amount with a third decimal", "/terms", url.Values{"version": {v}, "title": {"R"}, "tax_rate": {"20"}, "discount_kind": {"amount"}, "discount_value": {"1.005"}},
			"discount_value", "more decimals than"},
		{"a percent over 100", "/terms", url.Values{"version": {v}, "title": {"R"}, "tax_rate": {"20"}, "discount_kind": {"percent"}, "discount_value": {"120"}},
			"discount_value", "out of range"},
		{"an unknown discount kind", "/terms", url.Values{"version": {v}, "title": {"R"}, "tax_rate": {"20"}, "discount_kind": {"half"}},
			"discount_kind", "not none, percent or amount"},
		{"an unknown tax mode", "/terms", url.Values{"version": {v}, "title": {"R"}, "tax_rate": {"20"}, "tax_mode": {"vat"}}, "tax_mode", "not quote or line"},
		{"a line rate over 100", "/lines/" + line, url.Values{"version": {v}, "sku": {"LIC"}, "quantity": {"1"}, "unit_price": {"1"}, "tax_rate": {"101"}},
			"tax_rate", "out of range"},
	} {
		e := a.send(http.MethodPut, base+c.path, tok, c.form, false).wantError(t, http.StatusUnprocessableEntity, qwoty.CodeValidation)
		if !strings.Contains(e.Message, c.says) || e.Hint == "" {
			t.Errorf("%s: message %q hint %q; want it to say %q", c.name, e.Message, e.Hint, c.says)
		}
		if r := a.send(http.MethodPut, base+c.path, tok, c.form, true); !bytes.Contains(r.body, []byte(`<strong data-field="`+c.field+`">`)) {
			t.Errorf("%s (htmx): %d %s", c.name, r.status, r.body)
		}
	}
	if after := get(); after.Version != q.Version {
		t.Fatalf("refused edits changed the quote: version %d, was %d", after.Version, q.Version)
	}
}
