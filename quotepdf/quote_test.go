package quotepdf

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
)

// A stored quote maps to the document the server files and downloads: its
// revision as the version, the lines' and the quote's discounts together,
// its validity and rounding policy; and renders with them.
func TestFromQuote(t *testing.T) {
	q := sampleQuote(3)
	q.Revision, q.Version = 2, 9
	q.Rounding = qwoty.RoundDocumentHalfEven
	valid := time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC)
	q.ValidUntil = &valid
	q.Terms = "Net 30."
	q.Totals.QuoteDiscount = decimal.RequireFromString("5.00")
	q.Lines[0].Description = "Desk\nOak, 160 cm"
	d := FromQuote("Acme", nil, &q)
	if d.Version != 2 || d.Number != q.Number || !d.ValidUntil.Equal(valid) || d.Terms != "Net 30." {
		t.Fatalf("document %+v", d)
	}
	if want := q.Totals.Discount.Add(decimal.RequireFromString("5")); !d.Totals.Discount.Equal(want) {
		t.Fatalf("discount %s, want %s", d.Totals.Discount, want)
	}
	if d.Lines[0].Name != "Desk" || d.Lines[0].Description != "Oak, 160 cm" || !d.Lines[0].Amount.Equal(q.Lines[0].Net) {
		t.Fatalf("line %+v", d.Lines[0])
	}
	if !strings.Contains(d.RoundingPolicy, "sums") || !strings.Contains(d.RoundingPolicy, "even") {
		t.Fatalf("rounding %q", d.RoundingPolicy)
	}
	text := poppler(t, render(t, d), "pdftotext", "-layout")
	for _, want := range []string{q.Number + " · version 2", "Desk", "2026-12-29", "Net 30."} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}
}
