package qwoty

import "github.com/shopspring/decimal"

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
