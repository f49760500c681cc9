package qwoty

import (
	"strings"
	"testing"
)

// Amounts read one way for a locale, with the currency's minor units; the
// marks are CLDR's for a currency code (what Intl.NumberFormat writes with
// currencyDisplay "code").
func TestMoneyAmount(t *testing.T) {
	cases := []struct {
		locale, currency, amount, want string
	}{
		{"en_US", "USD", "14454.08", "USD 14,454.08"},
		{"en_US", "USD", "-1234567.5", "-USD 1,234,567.50"},
		{"en_US", "USD", "49.9", "USD 49.90"},
		{"en_US", "USD", "0", "USD 0.00"},
		{"en_US", "USD", "-0.001", "USD 0.00"},  // rounds to zero: no "-0.00"
		{"en_US", "USD", "-0.005", "-USD 0.01"}, // half away from zero
		{"en_US", "USD", "999.995", "USD 1,000.00"},
		{"en_US", "JPY", "14454.5", "JPY 14,455"},
		{"en_US", "KWD", "1234.5", "KWD 1,234.500"},
		{"fr_FR", "EUR", "14454.08", "14\u202f454,08\u00a0EUR"},
		{"fr-FR", "EUR", "-12", "-12,00\u00a0EUR"},
		{"fr", "JPY", "1234567", "1\u202f234\u202f567\u00a0JPY"},
		{"de_DE_EURO", "EUR", "1234.5", "1.234,50\u00a0EUR"},
		{"de-CH", "CHF", "1234.5", "CHF\u00a01’234.50"},
		{"es_ES", "EUR", "1234.5", "1234,50\u00a0EUR"}, // CLDR: es groups from 5 digits
		{"es_ES", "EUR", "12345.5", "12.345,50\u00a0EUR"},
		{"es_MX", "MXN", "1234.5", "MXN\u00a01,234.50"},
		{"en_IN", "INR", "1234567.5", "INR\u00a012,34,567.50"},
		{"ja_JP", "JPY", "1000", "JPY\u00a01,000"},
		{"pt_BR", "BRL", "1234.5", "BRL\u00a01.234,50"},
		{"sv_SE", "SEK", "1234.5", "1\u00a0234,50\u00a0SEK"},
		{"", "USD", "1234.5", "USD\u00a01,234.50"},           // no locale: en-US
		{"xx_YY", "USD", "1234.5", "USD\u00a01,234.50"},      // unknown: en-US
		{"fr_CA", "CAD", "1234.5", "1\u202f234,50\u00a0CAD"}, // region unknown: its language
	}
	for _, c := range cases {
		want := strings.ReplaceAll(c.want, " ", "\u00a0")
		if got := MoneyFor(c.locale).Amount(dec(c.amount), c.currency); got != want {
			t.Errorf("%s %s %s = %q, want %q", c.locale, c.currency, c.amount, got, want)
		}
	}
}

func TestMoneyLocaleTag(t *testing.T) {
	for in, want := range map[string]string{"en_US": "en-US", "fr_FR": "fr-FR", "de_DE_EURO": "de-DE", "FR": "fr",
		"es_419": "es-419", "": "en-US", "123": "en-US", "zz": "en-US", "fr_CA": "fr-CA"} {
		if got := MoneyFor(in).Locale; got != want {
			t.Errorf("MoneyFor(%q).Locale = %q, want %q", in, got, want)
		}
	}
	// The zero value writes as en-US.
	if got := (Money{}).Number(dec("1234.5"), 2); got != "1,234.50" {
		t.Errorf("zero Money = %q", got)
	}
}

func TestInputAmount(t *testing.T) {
	for _, c := range []struct{ amount, currency, want string }{
		{"49.9", "USD", "49.90"}, {"49.90", "USD", "49.90"}, {"0.1234", "USD", "0.1234"}, {"12.3400", "USD", "12.34"},
		{"1000", "JPY", "1000"}, {"1000.5", "JPY", "1000.5"}, {"1.5", "KWD", "1.500"}, {"0", "USD", "0.00"},
	} {
		if got := InputAmount(dec(c.amount), c.currency); got != c.want {
			t.Errorf("InputAmount(%s %s) = %q, want %q", c.amount, c.currency, got, c.want)
		}
	}
}
