// Package quotepdf renders one version of a quote as an A4 PDF, on the
// server and in pure Go (fpdf; no browser, no cgo): a branded header, the
// customer, the lines in a table that breaks across pages with its header
// row repeated, the totals, the validity, the rounding policy, the terms and
// "Page n of m" on every page. docs/pdf.md describes the document.
//
// The package prices nothing: the caller hands over a Document whose lines
// and totals the money engine has already computed, so the PDF shows the
// same figures as the card and the API.
package quotepdf

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
)

// Document is what the PDF of one quote version shows. Every field maps
// from the quote (qwoty.Quote) and its workspace; nothing is computed here
// but the layout. Text may hold any Unicode: what the embedded fonts cannot
// show is written as a replacement character (U+FFFD).
type Document struct {
	// Workspace is the seller's name, shown beside the logo on every page.
	Workspace string
	// Logo is the workspace's logo as PNG or JPEG bytes, nil for none. A
	// logo that fails CheckLogo is left out; the document still renders.
	Logo []byte

	Number  string       // qwoty.Quote.Number, like Q-00042
	Title   string       // qwoty.Quote.Title
	Version int          // qwoty.Quote.Version
	Status  qwoty.Status // qwoty.Quote.Status, shown by its Label
	// Created is when this version was created; ValidUntil is the last day
	// the offer holds (the zero time: no validity is shown). Both are
	// written as dates (2026-11-29) in the location they carry.
	Created    time.Time
	ValidUntil time.Time

	Customer Customer
	// Currency is the ISO 4217 code of every amount (qwoty.Quote.Currency):
	// amounts carry its minor units (qwoty.CurrencyExponent).
	Currency string
	Lines    []Line
	Totals   Totals
	// RoundingPolicy is the sentence stating how amounts were rounded
	// ("Amounts are rounded half-up per line."), shown under the totals.
	RoundingPolicy string
	// Terms are the quote's terms and conditions; line breaks are kept.
	Terms string
}

// Customer is who the quote is addressed to.
type Customer struct {
	Name    string   // qwoty.Quote.CustomerName
	Address []string // address lines, in the order they are written
	Email   string
}

// Line is one line of the quote, already priced.
type Line struct {
	SKU         string
	Name        string
	Description string // line breaks are kept
	Quantity    decimal.Decimal
	UnitPrice   decimal.Decimal // every decimal it holds is shown (at least the currency's)
	// DiscountPercent (0..100) is shown as "10%"; when it is zero and
	// DiscountAmount is not, the amount is shown instead.
	DiscountPercent decimal.Decimal
	DiscountAmount  decimal.Decimal
	// Amount is what the line adds to the subtotal after its discount
	// (qwoty.LineItem.Net).
	Amount decimal.Decimal
}

// TotalsOf are q's totals as the PDF shows them: the money engine's
// figures (qwoty.Price), with the quote's tax rate or its tax mode.
func TotalsOf(q *qwoty.Quote) Totals {
	return Totals{Subtotal: q.Totals.Subtotal, Discount: q.Totals.Discount, QuoteDiscount: q.Totals.QuoteDiscount,
		TaxRate: q.TaxRate, TaxPerLine: q.TaxMode == qwoty.TaxPerLine, Tax: q.Totals.Tax, Total: q.Totals.Total}
}

// Totals are the quote's totals as the money engine computed them.
type Totals struct {
	Subtotal decimal.Decimal // before discounts
	Discount decimal.Decimal // the lines' discounts, shown as a negative amount when not zero
	// QuoteDiscount is the quote-level discount (qwoty.Totals.QuoteDiscount),
	// a row of its own when not zero.
	QuoteDiscount decimal.Decimal
	TaxRate       decimal.Decimal // percent, shown in the tax's label
	// TaxPerLine: the quote is taxed at each line's rate (qwoty.TaxPerLine);
	// the tax's label names no rate.
	TaxPerLine bool
	Tax        decimal.Decimal
	Total      decimal.Decimal
}
