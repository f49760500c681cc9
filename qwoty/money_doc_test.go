package qwoty

import (
	"os"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// docCase is one row of the worked cases in docs/money.md.
type docCase struct {
	name     string
	pricing  Pricing
	lines    []LineItem
	want     [5]string // subtotal, discount, quote discount, tax, total
	lineTax  []string  // nil: not checked
	fromLine int
}

// TestMoneyDocTable runs every worked case of docs/money.md through the
// engine: the table in the document is this test's table.
func TestMoneyDocTable(t *testing.T) {
	cases := readDocCases(t, "../docs/money.md")
	if len(cases) < 15 {
		t.Fatalf("docs/money.md has %d worked cases, want at least 15", len(cases))
	}
	for _, c := range cases {
		lines := c.lines
		got := Price(lines, c.pricing)
		cur := c.pricing.Currency
		f := func(d decimal.Decimal) string { return FormatAmount(d, cur) }
		have := [5]string{f(got.Subtotal), f(got.Discount), f(got.QuoteDiscount), f(got.Tax), f(got.Total)}
		if have != c.want {
			t.Errorf("docs/money.md line %d %q: got subtotal, discount, quote discount, tax, total %v, the table says %v",
				c.fromLine, c.name, have, c.want)
		}
		if !got.Subtotal.Sub(got.Discount).Sub(got.QuoteDiscount).Add(got.Tax).Equal(got.Total) {
			t.Errorf("%q: totals %+v do not add up", c.name, got)
		}
		if c.lineTax != nil {
			var taxes []string
			sum := decimal.Zero
			for _, l := range lines {
				taxes = append(taxes, f(l.Tax))
				sum = sum.Add(l.Tax)
			}
			if strings.Join(taxes, "; ") != strings.Join(c.lineTax, "; ") {
				t.Errorf("docs/money.md line %d %q: line taxes %v, the table says %v", c.fromLine, c.name, taxes, c.lineTax)
			}
			if !sum.Equal(got.Tax) {
				t.Errorf("%q: line taxes add up to %s, the tax is %s", c.name, sum, got.Tax)
			}
		}
	}
}

// readDocCases reads the worked cases: the table whose header starts
// "| case |".
func readDocCases(t *testing.T, path string) []docCase {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []docCase
	in := false
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "| case |") {
			in = true
			continue
		}
		if !in {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			break
		}
		if strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		if len(cells) != 12 {
			t.Fatalf("docs/money.md line %d: %d cells, want 12", i+1, len(cells))
		}
		c := docCase{name: cells[0], fromLine: i + 1}
		c.pricing.Currency = cells[1]
		r, ok := ParseRounding(cells[2])
		if !ok {
			t.Fatalf("line %d: rounding %q", i+1, cells[2])
		}
		c.pricing.Rounding = r
		c.pricing.TaxMode = TaxPerQuote
		tax := cells[3]
		if rest, ok := strings.CutPrefix(tax, "line,"); ok {
			c.pricing.TaxMode, tax = TaxPerLine, strings.TrimSpace(rest)
		}
		c.pricing.TaxRate = docPercent(t, i, tax)
		switch qd := cells[4]; {
		case qd == "—":
			c.pricing.Discount = QuoteDiscount{Kind: DiscountNone}
		case strings.HasSuffix(qd, "%"):
			c.pricing.Discount = QuoteDiscount{Kind: DiscountPercent, Value: docPercent(t, i, qd)}
		default:
			c.pricing.Discount = QuoteDiscount{Kind: DiscountAmount, Value: decimal.RequireFromString(qd)}
		}
		for _, l := range strings.Split(cells[5], ";") {
			c.lines = append(c.lines, docLine(t, i, strings.TrimSpace(l)))
		}
		copy(c.want[:], cells[6:11])
		if cells[11] != "—" {
			for _, s := range strings.Split(cells[11], ";") {
				c.lineTax = append(c.lineTax, strings.TrimSpace(s))
			}
		}
		out = append(out, c)
	}
	return out
}

// docLine reads "3×19.99 -10% @20%".
func docLine(t *testing.T, row int, s string) LineItem {
	fields := strings.Fields(s)
	qty, price, ok := strings.Cut(fields[0], "×")
	if !ok {
		t.Fatalf("line %d: line %q is not quantity×price", row+1, s)
	}
	l := LineItem{Quantity: decimal.RequireFromString(qty), UnitPrice: decimal.RequireFromString(price)}
	for _, f := range fields[1:] {
		switch {
		case strings.HasPrefix(f, "-"):
			l.DiscountPercent = docPercent(t, row, f[1:])
		case strings.HasPrefix(f, "@"):
			l.TaxRate = decimal.NewNullDecimal(docPercent(t, row, f[1:]))
		default:
			t.Fatalf("line %d: %q in line %q", row+1, f, s)
		}
	}
	if err := checkLine(LineItem{SKU: "x", Quantity: l.Quantity, UnitPrice: l.UnitPrice, DiscountPercent: l.DiscountPercent, TaxRate: l.TaxRate}); err != nil {
		t.Fatalf("line %d: line %q is not one a quote can hold: %v", row+1, s, err)
	}
	return l
}

func docPercent(t *testing.T, row int, s string) decimal.Decimal {
	d, err := decimal.NewFromString(strings.TrimSuffix(s, "%"))
	if err != nil {
		t.Fatalf("line %d: percent %q: %v", row+1, s, err)
	}
	return d
}
