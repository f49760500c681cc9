package qwoty

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// Half-up is half away from zero, half-even goes to the even neighbour;
// neither touches what is not a half.
func TestRoundingHalves(t *testing.T) {
	for _, c := range []struct {
		r      Rounding
		in     string
		places int32
		want   string
	}{
		{RoundLineHalfUp, "0.125", 2, "0.13"}, {RoundLineHalfUp, "-0.125", 2, "-0.13"}, {RoundLineHalfUp, "0.135", 2, "0.14"},
		{RoundLineHalfEven, "0.125", 2, "0.12"}, {RoundLineHalfEven, "-0.125", 2, "-0.12"}, {RoundLineHalfEven, "0.135", 2, "0.14"},
		{RoundDocumentHalfUp, "2.5", 0, "3"}, {RoundDocumentHalfEven, "2.5", 0, "2"}, {RoundDocumentHalfEven, "3.5", 0, "4"},
		{RoundLineHalfEven, "0.1251", 2, "0.13"}, {RoundLineHalfUp, "0.1249", 2, "0.12"},
		{RoundLineHalfUp, "1.2345", 3, "1.235"}, {RoundLineHalfEven, "1.2345", 3, "1.234"},
		{"", "0.125", 2, "0.13"}, // no policy: half-up
	} {
		if got := c.r.Round(dec(c.in), c.places).StringFixed(c.places); got != c.want {
			t.Errorf("%s.Round(%s, %d) = %s, want %s", c.r, c.in, c.places, got, c.want)
		}
	}
	for _, r := range Roundings {
		if got, ok := ParseRounding(string(r)); !ok || got != r {
			t.Errorf("ParseRounding(%s) = %s, %v", r, got, ok)
		}
	}
	if _, ok := ParseRounding("half-up"); ok {
		t.Error("ParseRounding took an unknown policy")
	}
}

// Allocate's shares add up to the total exactly, are in minor units, and
// each is within one minor unit of its exact pro-rata part, whatever the
// weights (random ones, in every currency's exponent).
func TestAllocateAddsUpExactly(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 16))
	for _, exp := range []int32{0, 2, 3} {
		unit := decimal.New(1, -exp)
		for n := 0; n < 500; n++ {
			weights := make([]decimal.Decimal, 1+rnd.IntN(40))
			sum := decimal.Zero
			for i := range weights {
				if rnd.IntN(5) > 0 {
					weights[i] = decimal.New(rnd.Int64N(10_000_000), -4)
				}
				sum = sum.Add(weights[i])
			}
			total := decimal.New(rnd.Int64N(1_000_000), -exp)
			shares := Allocate(total, weights, exp)
			got := decimal.Zero
			for i, s := range shares {
				got = got.Add(s)
				if -s.Exponent() > exp && !s.Equal(s.Truncate(exp)) {
					t.Fatalf("share %s is not in minor units of %d", s, exp)
				}
				if !sum.IsZero() {
					exact := total.Mul(weights[i]).Div(sum)
					if s.Sub(exact).Abs().GreaterThanOrEqual(unit) {
						t.Fatalf("share %s is a minor unit or more from its exact part %s", s, exact)
					}
				}
			}
			if !got.Equal(total) {
				t.Fatalf("exp %d: shares of %s by %v add up to %s", exp, total, weights, got)
			}
		}
	}
	// Ties: the leftover unit goes to the earlier line.
	got := Allocate(dec("1.00"), []decimal.Decimal{dec("1"), dec("1"), dec("1")}, 2)
	if s := got[0].String() + " " + got[1].String() + " " + got[2].String(); s != "0.34 0.33 0.33" {
		t.Errorf("three equal shares of 1.00 = %s", s)
	}
}

// Every policy, in JPY, EUR and KWD, keeps the totals' identity, gives the
// lines' taxes that sum to the tax, and prices a 100 % discount (a line's
// or the quote's) at exactly zero.
func TestPriceEveryPolicy(t *testing.T) {
	rnd := rand.New(rand.NewPCG(2, 16))
	for _, cur := range []string{"JPY", "EUR", "KWD"} {
		for _, r := range Roundings {
			for _, mode := range []TaxMode{TaxPerQuote, TaxPerLine} {
				for _, qd := range []QuoteDiscount{{Kind: DiscountNone}, {Kind: DiscountPercent, Value: dec("12.5")},
					{Kind: DiscountAmount, Value: dec("7")}, {Kind: DiscountPercent, Value: hundred}} {
					for n := 0; n < 20; n++ {
						lines := make([]LineItem, 1+rnd.IntN(30))
						for i := range lines {
							lines[i] = LineItem{Quantity: decimal.New(1+rnd.Int64N(5000), -2), UnitPrice: decimal.New(rnd.Int64N(1_000_000), -4),
								DiscountPercent: decimal.New(rnd.Int64N(3)*50, 0)}
							if rnd.IntN(2) == 0 {
								lines[i].TaxRate = decimal.NewNullDecimal(decimal.New(rnd.Int64N(250), -1))
							}
						}
						p := Pricing{Currency: cur, TaxRate: dec("19.6"), TaxMode: mode, Discount: qd, Rounding: r}
						tot := Price(lines, p)
						name := strings.Join([]string{cur, string(r), string(mode), string(qd.Kind), qd.Value.String()}, " ")
						checkTotals(t, name, lines, tot, p)
					}
				}
			}
		}
	}
}

func checkTotals(t *testing.T, name string, lines []LineItem, tot Totals, p Pricing) {
	t.Helper()
	exp := CurrencyExponent(p.Currency)
	if !tot.Subtotal.Sub(tot.Discount).Sub(tot.QuoteDiscount).Add(tot.Tax).Equal(tot.Total) {
		t.Fatalf("%s: totals %+v do not add up", name, tot)
	}
	for _, v := range []decimal.Decimal{tot.Subtotal, tot.Discount, tot.QuoteDiscount, tot.Tax, tot.Total} {
		if !v.Equal(v.Truncate(exp)) || v.IsNegative() {
			t.Fatalf("%s: figure %s is not in %s's minor units, or below zero", name, v, p.Currency)
		}
	}
	taxes := decimal.Zero
	for _, l := range lines {
		taxes = taxes.Add(l.Tax)
		if !l.Amount.Sub(l.Discount).Equal(l.Net) {
			t.Fatalf("%s: line %+v: amount − discount is not net", name, l)
		}
		if l.DiscountPercent.Equal(hundred) && !l.Net.IsZero() {
			t.Fatalf("%s: a 100 %% line discount leaves %s", name, l.Net)
		}
	}
	if !taxes.Equal(tot.Tax) {
		t.Fatalf("%s: line taxes sum to %s, the tax is %s", name, taxes, tot.Tax)
	}
	if p.Discount.Kind == DiscountPercent && p.Discount.Value.Equal(hundred) && !tot.Total.IsZero() {
		t.Fatalf("%s: a 100 %% quote discount leaves %s", name, tot.Total)
	}
	if !p.Rounding.PerDocument() {
		sub, disc := decimal.Zero, decimal.Zero
		for _, l := range lines {
			sub, disc = sub.Add(l.Amount), disc.Add(l.Discount)
		}
		if !sub.Equal(tot.Subtotal) || !disc.Equal(tot.Discount) {
			t.Fatalf("%s: per-line figures do not sum to the totals", name)
		}
	}
}

// A quote's edits keep the engine's rules: an amount discount larger than
// the discounted subtotal, or with more decimals than the currency, is
// refused with validation_failed on discount_value; the tax mode and a
// line's own rate are taken; Reprice prices with them.
func TestSetTermsDiscountAndTaxMode(t *testing.T) {
	q, _ := NewDraft("T", "EUR", dec("20"))
	if err := q.AddLine(LineItem{SKU: "A", Quantity: dec("1"), UnitPrice: dec("40")}); err != nil {
		t.Fatal(err)
	}
	if err := q.AddLine(LineItem{SKU: "B", Quantity: dec("1"), UnitPrice: dec("10"), DiscountPercent: dec("50"), TaxRate: decimal.NewNullDecimal(dec("5"))}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		d     QuoteDiscount
		field string
		says  string
	}{
		{"more than the discounted subtotal", QuoteDiscount{Kind: DiscountAmount, Value: dec("45.01")}, "discount_value", "more than the discounted subtotal 45.00"},
		{"more decimals than EUR", QuoteDiscount{Kind: DiscountAmount, Value: dec("1.005")}, "discount_value", "more decimals than EUR"},
		{"percent over 100", QuoteDiscount{Kind: DiscountPercent, Value: dec("100.5")}, "discount_value", "out of range"},
		{"unknown kind", QuoteDiscount{Kind: "half"}, "discount_kind", "not none, percent or amount"},
	} {
		err := q.SetTerms(Terms{Title: "T", TaxRate: dec("20"), Discount: &c.d})
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeValidation || e.Field != c.field || !strings.Contains(e.Message, c.says) || e.Hint == "" {
			t.Errorf("%s: err = %v, want validation_failed on %s saying %q", c.name, err, c.field, c.says)
		}
	}
	d := QuoteDiscount{Kind: DiscountAmount, Value: dec("45")}
	if err := q.SetTerms(Terms{Title: "T", TaxRate: dec("20"), TaxMode: TaxPerLine, Discount: &d}); err != nil {
		t.Fatal(err)
	}
	q.Reprice()
	// Nets 40 and 5; the 45.00 discount leaves nothing to tax.
	if q.TaxMode != TaxPerLine || !q.Totals.Total.IsZero() || !q.Totals.QuoteDiscount.Equal(dec("45")) {
		t.Fatalf("totals %+v, mode %s", q.Totals, q.TaxMode)
	}
	d = QuoteDiscount{Kind: DiscountNone}
	if err := q.SetTerms(Terms{Title: "T", TaxRate: dec("20"), Discount: &d}); err != nil {
		t.Fatal(err)
	}
	q.Reprice()
	// 40 × 20 % + 5 × 5 % (the line's own rate).
	if got := q.Totals.Tax.StringFixed(2); got != "8.25" {
		t.Fatalf("tax per line = %s, want 8.25", got)
	}
	if _, err := ParseTaxMode("vat"); ErrorCode(err) != CodeValidation {
		t.Errorf("ParseTaxMode(vat) err = %v", err)
	}
	q.Currency = "JPY"
	jpy := QuoteDiscount{Kind: DiscountAmount, Value: dec("10.5")}
	if err := q.SetTerms(Terms{Title: "T", Discount: &jpy}); ErrorCode(err) != CodeValidation {
		t.Errorf("a 10.5 JPY discount err = %v", err)
	}
	if _, err := ParseDiscount("amount", "-1"); ErrorCode(err) != CodeValidation {
		t.Errorf("a discount of -1 err = %v", err)
	}
	if d, err := ParseDiscount("", ""); err != nil || d.Kind != DiscountNone {
		t.Errorf("an empty discount = %+v, %v", d, err)
	}
	if _, err := ParseLineTaxRate("101"); ErrorCode(err) != CodeValidation {
		t.Errorf("a 101 %% line rate err = %v", err)
	}
}

// What a CRM receives: the quote's figures where the currency fits the
// CRM's scale; otherwise rounded with the quote's half rule, and lines
// that add up to the pushed discounted subtotal.
func TestForCRM(t *testing.T) {
	price := func(cur string, r Rounding, prices ...string) (Totals, []decimal.Decimal) {
		var lines []LineItem
		for _, p := range prices {
			lines = append(lines, LineItem{Quantity: dec("1"), UnitPrice: dec(p)})
		}
		tot := Price(lines, Pricing{Currency: cur, Rounding: r, TaxMode: TaxPerQuote})
		var nets []decimal.Decimal
		for _, l := range lines {
			nets = append(nets, l.Net)
		}
		return tot, nets
	}
	join := func(ds []decimal.Decimal, places int32) string {
		var s []string
		for _, d := range ds {
			s = append(s, d.StringFixed(places))
		}
		return strings.Join(s, " ")
	}
	for _, c := range []struct {
		cur          string
		r            Rounding
		prices       []string
		total, lines string
	}{
		{"EUR", RoundLineHalfUp, []string{"0.125", "0.125", "0.125"}, "0.39", "0.13 0.13 0.13"},     // unchanged
		{"EUR", RoundDocumentHalfUp, []string{"0.125", "0.125", "0.125"}, "0.38", "0.13 0.13 0.12"}, // lines add up to 0.38
		{"KWD", RoundLineHalfUp, []string{"1.005", "1.005"}, "2.01", "1.01 1.00"},
		{"KWD", RoundLineHalfEven, []string{"1.5225", "1.5225"}, "3.04", "1.52 1.52"},
		{"JPY", RoundLineHalfUp, []string{"1000.5"}, "1001", "1001"},
	} {
		tot, nets := price(c.cur, c.r, c.prices...)
		f := ForCRM(tot, nets, c.cur, c.r, SalesforceScale)
		places := Places(c.cur, SalesforceScale)
		sum := decimal.Zero
		for _, n := range f.Nets {
			sum = sum.Add(n)
		}
		if got := f.Total.StringFixed(places); got != c.total || join(f.Nets, places) != c.lines || !sum.Equal(f.Total) {
			t.Errorf("%s %s %v: pushed total %s lines %s, want %s and %s", c.cur, c.r, c.prices, got, join(f.Nets, places), c.total, c.lines)
		}
	}
	// A CRM that keeps any scale gets KWD's three decimals.
	tot, nets := price("KWD", RoundLineHalfUp, "1.005", "1.005")
	if f := ForCRM(tot, nets, "KWD", RoundLineHalfUp, CurrencyExponent("KWD")); f.Total.StringFixed(3) != "2.010" {
		t.Errorf("KWD at its own scale = %s", f.Total)
	}
}

// The 64-bit path of Allocate gives what the big-integer path gives, share
// for share, exponent for exponent, over random totals and weights (zeros,
// ties, mixed exponents, large figures); and it declines what it cannot
// hold (a negative total or weight, figures past 63 bits).
func TestAllocateSmallIsAllocateBig(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 2000))
	fig := func() decimal.Decimal {
		switch r.IntN(8) {
		case 0:
			return decimal.Zero
		case 1:
			return decimal.New(r.Int64N(1_000_000_000_000_000), -r.Int32N(7))
		case 2:
			return decimal.New(r.Int64N(100), 0) // ties
		default:
			return decimal.New(r.Int64N(10_000_000), -r.Int32N(5)+1)
		}
	}
	took := 0
	for range 20000 {
		n := 1 + r.IntN(40)
		weights := make([]decimal.Decimal, n)
		for i := range weights {
			weights[i] = fig()
		}
		total, exp := fig(), r.Int32N(4)
		small, ok := allocateSmall(total, weights, exp)
		if !ok {
			continue
		}
		took++
		big := allocateBig(total, weights, exp)
		for i := range big {
			if small[i].String() != big[i].String() || small[i].Exponent() != big[i].Exponent() {
				t.Fatalf("Allocate(%s, %v, %d): share %d is %s (exp %d) in 64 bits, %s (exp %d) in big integers",
					total, weights, exp, i, small[i], small[i].Exponent(), big[i], big[i].Exponent())
			}
		}
	}
	if took < 10000 {
		t.Fatalf("the 64-bit path took %d cases of 20,000", took)
	}
	for _, c := range []struct {
		total   string
		weights []string
	}{
		{"-1.00", []string{"1", "2"}},
		{"1.00", []string{"1", "-2"}},
		{"1.00", []string{"9223372036854775807", "1"}},
		{"1.00", []string{"1", "0.0000000000000000001"}},
	} {
		ws := make([]decimal.Decimal, len(c.weights))
		for i, w := range c.weights {
			ws[i] = decimal.RequireFromString(w)
		}
		if _, ok := allocateSmall(decimal.RequireFromString(c.total), ws, 2); ok {
			t.Errorf("allocateSmall took %s over %v", c.total, c.weights)
		}
	}
}
