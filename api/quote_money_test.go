package api

import (
	"strings"
	"testing"

	"github.com/qwoty/companion/qwoty"
)

// The quote-level discount, the tax mode and a line's own tax rate are set
// through the API (create, update, lines) and shown with what they came
// to; the answers are checked against the OpenAPI document (harness).
func TestQuoteDiscountAndLineTax(t *testing.T) {
	e := newEnv(t)
	k := e.all(e.a1)
	// 2 × 50 (own rate 10 %) + 1 × 30 (the quote's 20 %); 10 % off the
	// 130.00 is 13.00, shared 10.00 and 3.00 by largest remainder; tax
	// 90 × 10 % + 27 × 20 % = 9.00 + 5.40.
	r := e.do(k, "POST", "/quotes", map[string]any{"crmRecordId": "deal-m", "currency": "EUR", "taxRate": "20", "taxMode": "line",
		"discount": map[string]any{"kind": "percent", "value": "10"},
		"lines":    []map[string]any{{"sku": "A", "quantity": "2", "unitPrice": "50", "taxRate": "10"}, {"sku": "B", "unitPrice": "30"}}})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var q Quote
	r.decode(t, &q)
	if q.TaxMode != "line" || q.Discount.Kind != "percent" || q.Discount.Value != "10" || q.Rounding != "line-half-up" ||
		q.Totals.QuoteDiscount != "13.00" || q.Totals.Tax != "14.40" || q.Totals.Total != "131.40" ||
		q.Lines[0].TaxRate != "10" || q.Lines[0].Tax != "9.00" || q.Lines[1].TaxRate != "" || q.Lines[1].Tax != "5.40" {
		t.Fatalf("created: %+v", q)
	}

	// An amount discount; one rate for the quote again.
	var got Quote
	e.do(k, "PATCH", "/quotes/"+q.ID, map[string]any{"taxMode": "quote", "discount": map[string]any{"kind": "amount", "value": "30"}}).decode(t, &got)
	if got.TaxMode != "quote" || got.Totals.QuoteDiscount != "30.00" || got.Totals.Tax != "20.00" || got.Totals.Total != "120.00" || got.Lines[0].TaxRate != "10" {
		t.Fatalf("patched: %+v", got)
	}
	// The lines replaced keep the discount; a line's rate goes with it.
	e.do(k, "PUT", "/quotes/"+q.ID+"/lines", map[string]any{"lines": []map[string]any{{"sku": "C", "unitPrice": "40", "taxRate": "5.5"}}}).decode(t, &got)
	if len(got.Lines) != 1 || got.Lines[0].TaxRate != "5.5" || got.Totals.QuoteDiscount != "30.00" || got.Totals.Total != "12.00" {
		t.Fatalf("lines replaced: %+v", got)
	}

	for _, c := range []struct {
		name string
		body map[string]any
		says string
	}{
		{"an amount over the discounted subtotal", map[string]any{"discount": map[string]any{"kind": "amount", "value": "40.01"}}, "more than the discounted subtotal 40.00"},
		{"an amount with a third decimal", map[string]any{"discount": map[string]any{"kind": "amount", "value": "1.005"}}, "more decimals than EUR"},
		{"a percent over 100", map[string]any{"discount": map[string]any{"kind": "percent", "value": "100.01"}}, "out of range"},
	} {
		r := e.do(k, "PATCH", "/quotes/"+q.ID, c.body)
		if r.Status != 422 || r.code() != qwoty.CodeValidation || !strings.Contains(string(r.Body), c.says) {
			t.Errorf("%s: %d %s, want 422 validation_failed saying %q", c.name, r.Status, r.Body, c.says)
		}
	}
	// What the schema refuses: an unknown kind or tax mode, a negative rate.
	for _, body := range []map[string]any{{"discount": map[string]any{"kind": "half"}}, {"taxMode": "vat"}} {
		if r := e.doInvalid(k, "PATCH", "/quotes/"+q.ID, body); r.Status != 422 {
			t.Errorf("%v: %d %s, want 422", body, r.Status, r.Body)
		}
	}
	if r := e.do(k, "PUT", "/quotes/"+q.ID+"/lines", map[string]any{"lines": []map[string]any{{"sku": "C", "taxRate": "101"}}}); r.Status != 422 ||
		r.code() != qwoty.CodeValidation {
		t.Errorf("a line rate of 101: %d %s", r.Status, r.Body)
	}
}
