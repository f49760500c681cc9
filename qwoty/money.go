package qwoty

import (
	"strings"

	"github.com/shopspring/decimal"
)

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

// MinorUnitExceptions returns the currencies whose amounts do not carry 2
// decimals, with their number of decimals.
func MinorUnitExceptions() map[string]int32 {
	out := make(map[string]int32, len(minorUnits))
	for c, e := range minorUnits {
		out[c] = e
	}
	return out
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

// FormatAmount renders an amount with exactly the currency's decimals, as the
// wire format and the card show it ("1234.50").
func FormatAmount(d decimal.Decimal, currency string) string {
	return d.StringFixed(CurrencyExponent(currency))
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

// Money is how amounts are written for people in one locale: every amount
// the card shows goes through it, so a figure reads the same in the list,
// the editor, a line and the totals. The digits are the currency's minor
// units (JPY 0, USD 2, KWD 3); the marks and the place of the currency code
// are the locale's, as CLDR has them for a code (not a symbol: "$" is many
// currencies, and a rep may quote in any of them).
type Money struct {
	// Locale is the locale the marks come from, as a BCP 47 tag ("fr-FR"):
	// the one asked for when known, else its language's, else en-US.
	Locale string
	conv   moneyConv
}

// moneyConv is one locale's way of writing an amount with a currency code.
type moneyConv struct {
	decimal string // the decimal mark
	group   string // between groups of digits
	// minGroup is how many digits the integer part needs before it is
	// grouped at all: 1 groups 1,234; 2 writes 1234 but 12 345 (es, pl, pt-PT).
	minGroup int
	// indian groups by two above the thousands (12,34,567.00).
	indian bool
	// codeAfter puts the code after the number ("1 234,50 EUR").
	codeAfter bool
}

// The marks use no-break spaces (U+00A0, or CLDR's narrow U+202F for
// French), so an amount never wraps inside.
const (
	nbsp       = "\u00a0"
	narrowNbsp = "\u202f"
)

var (
	convEN   = moneyConv{decimal: ".", group: ",", minGroup: 1}
	convCode = moneyConv{decimal: ",", group: ".", minGroup: 1, codeAfter: true} // de, it, da, id…
	convFR   = moneyConv{decimal: ",", group: narrowNbsp, minGroup: 1, codeAfter: true}
	convNBSP = moneyConv{decimal: ",", group: nbsp, minGroup: 1, codeAfter: true} // sv, nb, fi, cs, ru…
)

// moneyConvs holds the locales the card knows, by language and by
// language-region where a region differs from its language (CLDR 44).
var moneyConvs = map[string]moneyConv{
	"en": convEN, "ja": convEN, "zh": convEN, "ko": convEN, "he": convEN, "th": convEN, "ms": convEN,
	"en-IN": {decimal: ".", group: ",", minGroup: 1, indian: true},
	"hi":    {decimal: ".", group: ",", minGroup: 1, indian: true},
	"fr":    convFR, "fr-CH": {decimal: ",", group: narrowNbsp, minGroup: 1, codeAfter: true},
	"de": convCode, "de-AT": {decimal: ",", group: nbsp, minGroup: 1},
	"de-CH": {decimal: ".", group: "’", minGroup: 1}, "it-CH": {decimal: ".", group: "’", minGroup: 1},
	"it": convCode, "da": convCode, "id": convCode, "el": convCode, "ro": convCode, "hr": convCode,
	"es":    {decimal: ",", group: ".", minGroup: 2, codeAfter: true},
	"es-MX": convEN, "es-US": convEN, "es-419": convEN,
	"nl":    {decimal: ",", group: ".", minGroup: 1},
	"pt":    {decimal: ",", group: ".", minGroup: 1}, // Brazil
	"pt-PT": {decimal: ",", group: nbsp, minGroup: 2, codeAfter: true},
	"tr":    {decimal: ",", group: ".", minGroup: 1},
	"pl":    {decimal: ",", group: nbsp, minGroup: 2, codeAfter: true},
	"sv":    convNBSP, "nb": convNBSP, "no": convNBSP, "fi": convNBSP, "cs": convNBSP, "sk": convNBSP,
	"ru": convNBSP, "uk": convNBSP, "hu": convNBSP,
}

// defaultLocale is the locale of a request that names none, or none known.
const defaultLocale = "en-US"

// MoneyFor returns the formatter of a rep's locale as a CRM sends it:
// "fr_FR" (Salesforce, Pipedrive), "fr-FR", "fr", "de_DE_EURO". A locale the
// card does not know falls back to its language, then to en-US.
func MoneyFor(locale string) Money {
	lang, region := splitLocale(locale)
	if region != "" {
		if c, ok := moneyConvs[lang+"-"+region]; ok {
			return Money{Locale: lang + "-" + region, conv: c}
		}
	}
	if c, ok := moneyConvs[lang]; ok {
		tag := lang
		if region != "" {
			tag += "-" + region
		}
		return Money{Locale: tag, conv: c}
	}
	return Money{Locale: defaultLocale, conv: convEN}
}

// splitLocale reads a locale's language (lower case) and region (upper
// case, or a three-digit area such as 419); anything else in it is ignored.
func splitLocale(locale string) (lang, region string) {
	parts := strings.FieldsFunc(locale, func(r rune) bool { return r == '_' || r == '-' })
	if len(parts) == 0 || !letters(parts[0], 2, 3) {
		return "", ""
	}
	lang = strings.ToLower(parts[0])
	if len(parts) > 1 && (letters(parts[1], 2, 2) || digits(parts[1], 3)) {
		region = strings.ToUpper(parts[1])
	}
	return lang, region
}

func letters(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Amount writes d in currency for people: rounded half away from zero to
// the currency's minor units, grouped, with the code where the locale puts
// it ("USD 1,234.50", "1 234,50 EUR", "JPY 1,235"). An amount that rounds
// to zero has no sign: never "-0.00".
func (m Money) Amount(d decimal.Decimal, currency string) string {
	num := m.Number(d, CurrencyExponent(currency))
	neg := strings.HasPrefix(num, "-")
	num = strings.TrimPrefix(num, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if m.conv.codeAfter {
		b.WriteString(num)
		b.WriteString(nbsp)
		b.WriteString(currency)
	} else {
		b.WriteString(currency)
		b.WriteString(nbsp)
		b.WriteString(num)
	}
	return b.String()
}

// Number writes d with exactly places decimals in the locale's marks
// ("1 234,50"), a leading "-" when it is below zero once rounded.
func (m Money) Number(d decimal.Decimal, places int32) string {
	d = d.Round(places)
	neg := d.Sign() < 0
	s := d.Abs().StringFixed(places)
	intPart, frac, _ := strings.Cut(s, ".")
	c := m.conv
	if c.decimal == "" {
		c = convEN
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(group(intPart, c))
	if frac != "" {
		b.WriteString(c.decimal)
		b.WriteString(frac)
	}
	return b.String()
}

// group puts the locale's group mark between the integer part's groups:
// threes, or a three and then twos (Indian).
func group(s string, c moneyConv) string {
	if len(s) < 4 || len(s) < 3+c.minGroup {
		return s
	}
	var groups []string
	head, tail := s[:len(s)-3], s[len(s)-3:]
	groups = append(groups, tail)
	size := 3
	if c.indian {
		size = 2
	}
	for len(head) > size {
		groups = append(groups, head[len(head)-size:])
		head = head[:len(head)-size]
	}
	groups = append(groups, head)
	var b strings.Builder
	for i := len(groups) - 1; i >= 0; i-- {
		b.WriteString(groups[i])
		if i > 0 {
			b.WriteString(c.group)
		}
	}
	return b.String()
}

// InputAmount writes a price for an input field, in the notation the card's
// fields accept (digits and a decimal point): at least the currency's minor
// units, so 49.9 USD reads 49.90 and 1000 JPY reads 1000, and every decimal
// a unit price holds beyond them (0.1234).
func InputAmount(d decimal.Decimal, currency string) string {
	exp := CurrencyExponent(currency)
	if s := d.String(); strings.Contains(s, ".") && len(s)-strings.Index(s, ".")-1 > int(exp) {
		return s
	}
	return d.StringFixed(exp)
}
