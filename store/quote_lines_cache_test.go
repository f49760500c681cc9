package store_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// linesText is every stored field of lines, decimals with their exponent:
// two slices with the same text are the same lines, read or kept.
func linesText(lines []qwoty.LineItem) string {
	var b strings.Builder
	d := func(v decimal.Decimal) string { return fmt.Sprintf("%s/%d", v.String(), v.Exponent()) }
	for _, l := range lines {
		rate := "null"
		if l.TaxRate.Valid {
			rate = d(l.TaxRate.Decimal)
		}
		fmt.Fprintf(&b, "%s %s %q %d %q %q %q %s %s %s %s %s %s %s %s\n", l.ID, l.QuoteID, l.ParentID, l.Position, l.ProductID, l.SKU, l.Description,
			d(l.Quantity), d(l.UnitPrice), d(l.DiscountPercent), d(l.Amount), d(l.Discount), d(l.Net), rate, d(l.Tax))
	}
	return b.String()
}

// A large quote's edit keeps the lines it wrote under the version it
// committed, exactly as the database reads them back; the next edit takes
// them from there (a line changed behind the store's back without a new
// version is not seen: the proof the kept lines were used), and a new
// version is read again.
func TestLargeQuoteLinesAreKeptPerVersion(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	s := store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID, RecordID: "006000000000001AAA"}
	q, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "EUR", TaxRate: decimal.RequireFromString("19")})
	if err != nil {
		t.Fatal(err)
	}
	inputs := []qwoty.LineInput{
		{SKU: "A", Description: "Seats", Quantity: "25", UnitPrice: "49.90", DiscountPercent: "10"},
		{SKU: "B", Description: "Support", Quantity: "1", UnitPrice: "1200", TaxRate: "7"},
		{SKU: "C", Description: "Training", Quantity: "2.5", UnitPrice: "899.995", DiscountPercent: "12.5"},
		{SKU: "D", Description: "Free", Quantity: "1", UnitPrice: "0", DiscountPercent: "100", TaxRate: "0"},
	}
	q, err = db.UpdateQuote(ctx, s, q.ID, 0, "u", func(q *qwoty.Quote) error {
		for i := range 150 {
			l, err := qwoty.ParseLine(inputs[i%len(inputs)])
			if err != nil {
				return err
			}
			if err := q.AddLine(l); err != nil {
				return err
			}
		}
		disc := qwoty.QuoteDiscount{Kind: qwoty.DiscountPercent, Value: decimal.RequireFromString("2.5")}
		return q.SetTerms(qwoty.Terms{Title: "Large", TaxRate: q.TaxRate, TaxMode: qwoty.TaxPerLine, Discount: &disc})
	})
	if err != nil {
		t.Fatal(err)
	}
	same := func(step string, q *qwoty.Quote) {
		t.Helper()
		kept, ok := db.KeptLines(q.ID, q.Version, q.UpdatedAt)
		if !ok {
			t.Fatalf("%s: no lines kept for version %d", step, q.Version)
		}
		read, err := db.GetQuote(ctx, s, q.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := linesText(kept), linesText(read.Lines); got != want {
			t.Fatalf("%s: kept lines differ from the stored ones:\nkept %.600s\nread %.600s", step, got, want)
		}
		if got, want := linesText(q.Lines), linesText(read.Lines); got != want && step != "created" {
			// What an edit answers with are the lines as written
			// (values equal; only the new lines' quote id may lack).
			for i := range q.Lines {
				if !q.Lines[i].Net.Equal(read.Lines[i].Net) || !q.Lines[i].Tax.Equal(read.Lines[i].Tax) {
					t.Fatalf("%s: line %d answered %s/%s, stored %s/%s", step, i, q.Lines[i].Net, q.Lines[i].Tax, read.Lines[i].Net, read.Lines[i].Tax)
				}
			}
		}
	}
	same("created", q)

	edit := func(l qwoty.LineItem, qty string) store.Change {
		in := qwoty.LineInput{SKU: l.SKU, Description: l.Description, Quantity: qty, UnitPrice: l.UnitPrice.String(), DiscountPercent: l.DiscountPercent.String()}
		return func(q *qwoty.Quote) error {
			n, err := qwoty.ParseLine(in)
			if err != nil {
				return err
			}
			return q.UpdateLine(l.ID, n)
		}
	}
	if q, err = db.UpdateQuote(ctx, s, q.ID, q.Version, "u", edit(q.Lines[75], "3")); err != nil {
		t.Fatal(err)
	}
	same("edited", q)
	if q, err = db.UpdateQuote(ctx, s, q.ID, q.Version, "u", removeLine(q.Lines[3].ID)); err != nil {
		t.Fatal(err)
	}
	same("removed", q)
	l, _ := qwoty.ParseLine(inputs[2])
	if q, err = db.UpdateQuote(ctx, s, q.ID, q.Version, "u", addLine(l)); err != nil {
		t.Fatal(err)
	}
	same("added", q)

	// A line changed behind the store's back, the version left as it is:
	// the next edit takes the kept lines and does not see it (which no
	// write of this package does: every one bumps the version).
	target := q.Lines[10]
	if _, err := db.Pool().Exec(ctx, `UPDATE quote_line_items SET description = 'behind' WHERE id = $1`, target.ID); err != nil {
		t.Fatal(err)
	}
	if q, err = db.UpdateQuote(ctx, s, q.ID, q.Version, "u", edit(q.Lines[20], "4")); err != nil {
		t.Fatal(err)
	}
	if q.Lines[10].Description != target.Description {
		t.Fatalf("line 10 reads %q: the edit read the lines instead of taking the kept ones", q.Lines[10].Description)
	}
	// With a new version (any other write makes one) they are read again.
	if _, err := db.Pool().Exec(ctx, `UPDATE quote_line_items SET description = 'behind' WHERE id = $1`, target.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE quotes SET version = version + 1 WHERE id = $1`, q.ID); err != nil {
		t.Fatal(err)
	}
	if q, err = db.UpdateQuote(ctx, s, q.ID, 0, "u", edit(q.Lines[20], "5")); err != nil {
		t.Fatal(err)
	}
	if q.Lines[10].Description != "behind" {
		t.Fatalf("line 10 reads %q after a new version, want the stored %q", q.Lines[10].Description, "behind")
	}
	same("re-read", q)
}
