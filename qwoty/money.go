package qwoty

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// Totals are a quote's amounts, always computed on the server from its lines.
type Totals struct {
	Subtotal decimal.Decimal // sum of line amounts before discounts
	Discount decimal.Decimal // sum of line discounts
	Tax      decimal.Decimal // (subtotal − discount) × tax rate
	Total    decimal.Decimal // subtotal − discount + tax
}

// minorUnits lists the ISO 4217 currencies whose minor unit is not 2 digits.
var minorUnits = map[string]int32{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// CurrencyExponent returns the number of decimals amounts in currency carry.
func CurrencyExponent(currency string) int32 {
	if e, ok := minorUnits[currency]; ok {
		return e
	}
	return 2
}

// ValidCurrency reports whether s looks like an ISO 4217 code (three capitals).
func ValidCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

var hundred = decimal.NewFromInt(100)

// round rounds half away from zero to the currency's minor unit, as invoices do.
func round(d decimal.Decimal, exp int32) decimal.Decimal { return d.Round(exp) }

// PriceLine fills a line's Amount, Discount and Net for the currency.
func PriceLine(l *LineItem, currency string) {
	exp := CurrencyExponent(currency)
	l.Amount = round(l.Quantity.Mul(l.UnitPrice), exp)
	l.Discount = round(l.Amount.Mul(l.DiscountPercent).Div(hundred), exp)
	l.Net = l.Amount.Sub(l.Discount)
}

// ComputeTotals prices every line in place and returns the quote's totals.
func ComputeTotals(lines []LineItem, taxRate decimal.Decimal, currency string) Totals {
	exp := CurrencyExponent(currency)
	var t Totals
	for i := range lines {
		PriceLine(&lines[i], currency)
		t.Subtotal = t.Subtotal.Add(lines[i].Amount)
		t.Discount = t.Discount.Add(lines[i].Discount)
	}
	t.Tax = round(t.Subtotal.Sub(t.Discount).Mul(taxRate).Div(hundred), exp)
	t.Total = t.Subtotal.Sub(t.Discount).Add(t.Tax)
	return t
}

// FormatAmount renders an amount with exactly the currency's decimals, as the
// wire format and the card show it ("1234.50").
func FormatAmount(d decimal.Decimal, currency string) string {
	return d.StringFixed(CurrencyExponent(currency))
}

// DisplayAmount renders an amount for people: grouped thousands and the code
// ("USD 1,234.50").
func DisplayAmount(d decimal.Decimal, currency string) string {
	return fmt.Sprintf("%s %s", currency, groupThousands(FormatAmount(d, currency)))
}

// groupThousands puts a comma between each group of three digits of a
// decimal's integer part ("-1234.50" is "-1,234.50").
func groupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}
