package store_test

import (
	"context"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// A new quote takes its workspace's rounding policy and keeps it: the
// workspace changing its policy later changes no existing quote's figures.
// The quote-level discount, the tax mode and a line's own rate are stored
// with what they came to.
func TestNewQuoteTakesTheWorkspaceRounding(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	s := store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID, RecordID: "006000000000001AAA"}
	if err := db.SetRounding(ctx, a.WorkspaceID, qwoty.RoundDocumentHalfEven, "admin"); err != nil {
		t.Fatal(err)
	}
	var lines []qwoty.LineItem
	for _, sku := range []string{"A", "B", "C"} {
		l, err := qwoty.ParseLine(qwoty.LineInput{SKU: sku, Quantity: "1", UnitPrice: "0.125"})
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	q, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "EUR", TaxRate: decimal.Zero, Lines: lines})
	if err != nil {
		t.Fatal(err)
	}
	// Per document: 0.375 rounds once, to 0.38 (per line, half-up, 0.39).
	if q.Rounding != qwoty.RoundDocumentHalfEven || q.Totals.Total.StringFixed(2) != "0.38" {
		t.Fatalf("new quote: rounding %s, total %s; want document-half-even, 0.38", q.Rounding, q.Totals.Total)
	}
	if err := db.SetRounding(ctx, a.WorkspaceID, qwoty.RoundLineHalfUp, "admin"); err != nil {
		t.Fatal(err)
	}
	// An edit of the existing quote keeps its policy.
	d := qwoty.QuoteDiscount{Kind: qwoty.DiscountAmount, Value: decimal.RequireFromString("0.05")}
	rate := decimal.NewNullDecimal(decimal.RequireFromString("10"))
	q, err = db.UpdateQuote(ctx, s, q.ID, q.Version, "u", func(q *qwoty.Quote) error {
		if err := q.SetTerms(qwoty.Terms{Title: q.Title, TaxRate: decimal.RequireFromString("20"), TaxMode: qwoty.TaxPerLine, Discount: &d}); err != nil {
			return err
		}
		l := q.Lines[0]
		l.TaxRate = rate
		return q.UpdateLine(l.ID, l)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Nets 3 × 0.125 = 0.375 (0.38); 0.05 off leaves 0.33; raw tax
	// 0.0125 (10 %) + 0.025 + 0.025 (20 %) = 0.0625, × 0.33/0.38 =
	// 0.0543 → 0.05.
	if q.Rounding != qwoty.RoundDocumentHalfEven || q.TaxMode != qwoty.TaxPerLine || !q.Lines[0].TaxRate.Valid ||
		q.Totals.QuoteDiscount.StringFixed(2) != "0.05" || q.Totals.Tax.StringFixed(2) != "0.05" || q.Totals.Total.StringFixed(2) != "0.38" {
		t.Fatalf("edited quote: rounding %s, mode %s, line rate %v, totals %+v", q.Rounding, q.TaxMode, q.Lines[0].TaxRate, q.Totals)
	}
	var stored, lineTax decimal.Decimal
	if err := db.Pool().QueryRow(ctx, `SELECT quote_discount, (SELECT sum(tax) FROM quote_line_items WHERE quote_id = $1) FROM quotes WHERE id = $1`,
		q.ID).Scan(&stored, &lineTax); err != nil {
		t.Fatal(err)
	}
	if !stored.Equal(q.Totals.QuoteDiscount) || !lineTax.Equal(q.Totals.Tax) {
		t.Fatalf("stored quote discount %s, line taxes %s; want %s, %s", stored, lineTax, q.Totals.QuoteDiscount, q.Totals.Tax)
	}
	if err := db.SetRounding(ctx, a.WorkspaceID, "half-up", "admin"); qwoty.ErrorCode(err) != qwoty.CodeValidation {
		t.Fatalf("an unknown policy: err = %v, want validation_failed", err)
	}
	// A new quote takes the workspace's new policy.
	s.RecordID = "006000000000002AAA"
	q2, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "EUR", Lines: lines})
	if err != nil {
		t.Fatal(err)
	}
	if q2.Rounding != qwoty.RoundLineHalfUp || q2.Totals.Total.StringFixed(2) != "0.39" {
		t.Fatalf("second quote: rounding %s, total %s; want line-half-up, 0.39", q2.Rounding, q2.Totals.Total)
	}
}
