package qwoty

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// What a quote states beside its lines (migration 017): a quote-level
// discount, how tax applies, and the rounding policy it is priced with.
// The money engine (money.go, docs/money.md) gives them their meaning.

// DiscountKind is how a quote-level discount is given.
type DiscountKind string

// The quote-level discount kinds.
const (
	DiscountNone    DiscountKind = "none"
	DiscountPercent DiscountKind = "percent" // Value is a percent, 0..100
	DiscountAmount  DiscountKind = "amount"  // Value is an amount in the quote's currency
)

// QuoteDiscount is a discount on the whole quote, taken after the lines'
// own discounts.
type QuoteDiscount struct {
	Kind  DiscountKind
	Value decimal.Decimal
}

// TaxMode says where a quote's tax rate is set.
type TaxMode string

// The tax modes.
const (
	TaxPerQuote TaxMode = "quote" // Quote.TaxRate for every line
	TaxPerLine  TaxMode = "line"  // each LineItem.TaxRate (the quote's when not set)
)

// Rounding is a workspace's rounding policy, stated on each quote priced
// with it: where amounts are rounded to the currency's minor unit (each
// line, or the document's sums) and how a half is rounded.
type Rounding string

// The rounding policies.
const (
	RoundLineHalfUp       Rounding = "line-half-up"
	RoundLineHalfEven     Rounding = "line-half-even"
	RoundDocumentHalfUp   Rounding = "document-half-up"
	RoundDocumentHalfEven Rounding = "document-half-even"
)

// Roundings lists the policies in the order the console offers them.
var Roundings = []Rounding{RoundLineHalfUp, RoundLineHalfEven, RoundDocumentHalfUp, RoundDocumentHalfEven}

// Bounds of a workspace's quote defaults (workspaces' checks, migration
// 017).
const (
	MinValidDays = 1
	MaxValidDays = 365
	MaxTermsLen  = 10000 // characters
)

// CheckQuoteDefaults checks a workspace's quote defaults: a validity of
// MinValidDays to MaxValidDays days, a rounding policy of Roundings, terms
// of at most MaxTermsLen characters. Each refusal is validation_failed
// naming its field.
func CheckQuoteDefaults(validDays int, r Rounding, terms string) error {
	if validDays < MinValidDays || validDays > MaxValidDays {
		return &Error{Code: CodeValidation, Field: "valid_days",
			Message: fmt.Sprintf("the validity must be a whole number of days from %d to %d", MinValidDays, MaxValidDays),
			Hint:    "A sent quote stays valid this many days unless it says otherwise; 30 is usual."}
	}
	if _, ok := ParseRounding(string(r)); !ok {
		return &Error{Code: CodeValidation, Field: "rounding", Message: fmt.Sprintf("rounding %q is not a policy", r),
			Hint: "Pick a rounding policy from the list."}
	}
	if n := utf8.RuneCountInString(terms); n > MaxTermsLen || !utf8.ValidString(terms) || strings.ContainsRune(terms, 0) {
		return &Error{Code: CodeValidation, Field: "terms",
			Message: fmt.Sprintf("the terms are %d characters long, or not text; at most %d are kept", n, MaxTermsLen),
			Hint:    "Shorten the terms, or link to a longer document."}
	}
	return nil
}
