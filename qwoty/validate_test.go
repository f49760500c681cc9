package qwoty

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// A bad input is the client's mistake: validation_failed, about the field
// it is in, with a message that names that field.
func TestBadInputNamesItsField(t *testing.T) {
	line := func(mod func(*LineInput)) func() error {
		return func() error {
			in := LineInput{SKU: "LIC", Description: "Licence", Quantity: "1", UnitPrice: "10"}
			mod(&in)
			_, err := ParseLine(in)
			return err
		}
	}
	cases := []struct {
		name, field, says string
		run               func() error
	}{
		{"NUL in SKU", "sku", "SKU holds a NUL character", line(func(in *LineInput) { in.SKU = "LIC\x00" })},
		{"invalid UTF-8 in SKU", "sku", "SKU is not valid UTF-8", line(func(in *LineInput) { in.SKU = "LIC\xff" })},
		{"NUL in description", "description", "description holds a NUL", line(func(in *LineInput) { in.Description = "a\x00b" })},
		{"cut UTF-8 in description", "description", "description is not valid UTF-8", line(func(in *LineInput) { in.Description = "caf\xc3" })},
		{"NUL alone in SKU", "sku", "SKU holds a NUL", line(func(in *LineInput) { in.SKU, in.Description = "\x00", "" })},
		{"quantity × price past a line's amount", "unit_price", "quantity × unit price is 100,000,000,000,000,000",
			line(func(in *LineInput) { in.Quantity, in.UnitPrice = "100000", "1000000000000" })},
		{"the largest of each", "unit_price", "above the 1,000,000,000,000 a line may hold",
			line(func(in *LineInput) { in.Quantity, in.UnitPrice = "1000000000", "1000000000000" })},
		{"just past a line's amount", "unit_price", "quantity × unit price is 1,000,000,000,000.0002",
			line(func(in *LineInput) { in.Quantity, in.UnitPrice = "2", "500000000000.0001" })},
		{"discount out of range", "discount_percent", "discount 150% is out of range", line(func(in *LineInput) { in.DiscountPercent = "150" })},
		{"quantity not a number", "quantity", `quantity "lots" is not a number`, line(func(in *LineInput) { in.Quantity = "lots" })},
		{"NUL in quantity", "quantity", `quantity "1\x00" is not a number`, line(func(in *LineInput) { in.Quantity = "1\x00" })},
		{"NUL in title", "title", "title holds a NUL", func() error { _, err := ParseTitle("Q\x00"); return err }},
		{"invalid UTF-8 in title", "title", "title is not valid UTF-8", func() error { _, err := ParseTitle("\xe2\x82"); return err }},
		{"odd currency", "currency", `currency "É$" is not valid`, func() error { _, err := ParseCurrency("É$"); return err }},
		{"NUL in currency", "currency", `currency "US\x00" is not valid`, func() error { _, err := ParseCurrency("US\x00"); return err }},
		{"version past the column", "version", "version 2147483648 is out of range", func() error { _, err := ParseVersion("2147483648"); return err }},
		{"version past int64", "version", `version "99999999999999999999" is not a positive number`, func() error { _, err := ParseVersion("99999999999999999999"); return err }},
		{"NUL in email", "email", "email holds a NUL", func() error { _, err := ParseEmail("a\x00@b.example"); return err }},
		{"invalid UTF-8 in email", "email", "email is not valid UTF-8", func() error { _, err := ParseEmail("\xff@b.example"); return err }},
		{"NUL in name", "name", "name holds a NUL", func() error { _, err := ParseUserName("Ada\x00"); return err }},
		{"a field no form has", "x\xff", `form field "x\xff" is not valid UTF-8`, func() error { return CheckText("x\xff", "\xff") }},
	}
	for _, c := range cases {
		err := c.run()
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeValidation {
			t.Errorf("%s: err = %v, want validation_failed", c.name, err)
			continue
		}
		if e.Field != c.field || !strings.Contains(e.Message, c.says) || e.Hint == "" {
			t.Errorf("%s: field %q, message %q, hint %q; want field %q and a message saying %q, with a hint", c.name, e.Field, e.Message, e.Hint, c.field, c.says)
		}
	}
	// The message quotes what was sent, but never all of a long value.
	_, err := ParseLine(LineInput{SKU: "x", Quantity: strings.Repeat("9", 5000) + "x"})
	if m := AsError(err).Message; len(m) > 100 {
		t.Errorf("message of %d bytes for a long value: %.120s…", len(m), m)
	}
}

// Columns of migrations/001_init.sql, as the largest value each can hold.
var (
	quantityColumn = decimal.RequireFromString("999999999999.9999")     // numeric(16,4)
	amountColumn   = decimal.RequireFromString("9999999999999999.9999") // numeric(20,4)
)

// Every figure a valid quote can reach fits its column: the limits are
// derived from them.
func TestLimitsFitTheColumns(t *testing.T) {
	if maxQuantity.GreaterThan(quantityColumn) || maxPrice.GreaterThan(amountColumn) || MaxTotal.GreaterThan(amountColumn) {
		t.Fatalf("limits past the columns: quantity %s, price %s, total %s", maxQuantity, maxPrice, MaxTotal)
	}
	// The largest lines: the most of each field, and each at the most a
	// line may hold.
	inputs := []LineInput{
		{SKU: strings.Repeat("S", maxSKULen), Quantity: "1000000000", UnitPrice: "1000"},
		{SKU: "P", Quantity: "1", UnitPrice: "1000000000000"},
		{SKU: "F", Quantity: "999999999.9999", UnitPrice: "1000.0000"},
		{SKU: "D", Quantity: "0.5", UnitPrice: "1000000000000", DiscountPercent: "0.0001"},
		{SKU: "Q", Quantity: "3", UnitPrice: "333333333333.3333"},
	}
	for _, currency := range []string{"JPY", "USD", "KWD"} {
		var lines []LineItem
		for i := 0; i < MaxLines; i++ {
			l, err := ParseLine(inputs[i%len(inputs)])
			if err != nil {
				t.Fatalf("largest line %+v refused: %v", inputs[i%len(inputs)], err)
			}
			lines = append(lines, l)
		}
		tot := ComputeTotals(lines, hundred, currency)
		for _, l := range lines {
			for _, v := range []decimal.Decimal{l.Amount, l.Discount, l.Net} {
				if v.Abs().GreaterThan(MaxLineAmount) {
					t.Fatalf("%s: line figure %s past MaxLineAmount", currency, v)
				}
			}
		}
		for _, v := range []decimal.Decimal{tot.Subtotal, tot.Discount, tot.Tax, tot.Total} {
			if v.Abs().GreaterThan(MaxTotal) {
				t.Fatalf("%s: totals %+v: %s is past MaxTotal %s", currency, tot, v, MaxTotal)
			}
		}
	}
}

// ParseLine either refuses with a validation error about a field, or gives
// a line that every column can hold.
func FuzzParseLine(f *testing.F) {
	f.Add("LIC", "Licence", "3", "19.99", "10")
	f.Add("A\x00", "", "1", "1", "")
	f.Add("", "caf\xc3", "100000", "1000000000000", "0")
	f.Add(" ", " ", "1,000.5", "0.0001", "100")
	f.Add("x", "", "-0", "1e3", "5%")
	f.Fuzz(func(t *testing.T, sku, desc, qty, price, disc string) {
		l, err := ParseLine(LineInput{SKU: sku, Description: desc, Quantity: qty, UnitPrice: price, DiscountPercent: disc})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeValidation || e.Field == "" || e.Message == "" || e.Hint == "" || !utf8.ValidString(e.Message) {
				t.Fatalf("error %#v: want validation_failed about a field, with a message and a hint", err)
			}
			return
		}
		for _, s := range []string{l.SKU, l.Description} {
			if CheckText("sku", s) != nil {
				t.Fatalf("accepted text the database cannot hold: %q", s)
			}
		}
		if !l.Quantity.IsPositive() || l.Quantity.GreaterThan(quantityColumn) || l.UnitPrice.IsNegative() ||
			l.UnitPrice.GreaterThan(amountColumn) || l.Quantity.Mul(l.UnitPrice).GreaterThan(MaxLineAmount) ||
			l.DiscountPercent.IsNegative() || l.DiscountPercent.GreaterThan(hundred) {
			t.Fatalf("accepted a line past the limits: %+v", l)
		}
		for _, d := range []decimal.Decimal{l.Quantity, l.UnitPrice, l.DiscountPercent} {
			if d.Exponent() < -4 {
				t.Fatalf("accepted %s: more decimals than the columns keep", d)
			}
		}
		// A quote takes every line ParseLine gives (AddLine checks it again).
		if err := checkLine(l); err != nil {
			t.Fatalf("ParseLine gave %+v, which a quote refuses: %v", l, err)
		}
	})
}
