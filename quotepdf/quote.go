package quotepdf

import (
	"strings"

	"github.com/qwoty/companion/qwoty"
)

// FromQuote is the Document of quote q as the server stores it, sold by
// workspace (its name) with logo (nil for none): the version shown is the
// quote's revision (what a sent version is called), its lines and totals
// as the money engine priced them, the discount the lines' and the
// quote-level one together.
func FromQuote(workspace string, logo []byte, q *qwoty.Quote) Document {
	d := Document{
		Workspace: workspace, Logo: logo,
		Number: q.Number, Title: q.Title, Version: max(q.Revision, 1), Status: q.Status,
		Created:  q.UpdatedAt,
		Customer: Customer{Name: q.CustomerName},
		Currency: q.Currency,
		Totals: Totals{Subtotal: q.Totals.Subtotal, Discount: q.Totals.Discount.Add(q.Totals.QuoteDiscount), TaxRate: q.TaxRate,
			Tax: q.Totals.Tax, Total: q.Totals.Total},
		RoundingPolicy: RoundingSentence(q.Rounding),
		Terms:          q.Terms,
	}
	if q.ValidUntil != nil {
		d.ValidUntil = *q.ValidUntil
	}
	for _, l := range q.Lines {
		name, desc, _ := strings.Cut(l.Description, "\n")
		d.Lines = append(d.Lines, Line{SKU: l.SKU, Name: name, Description: desc, Quantity: l.Quantity, UnitPrice: l.UnitPrice,
			DiscountPercent: l.DiscountPercent, DiscountAmount: l.Discount, Amount: l.Net})
	}
	return d
}

// RoundingSentence states rounding policy r under the totals ("" for
// none).
func RoundingSentence(r qwoty.Rounding) string {
	switch r {
	case qwoty.RoundLineHalfUp:
		return "Amounts are rounded per line, halves away from zero."
	case qwoty.RoundLineHalfEven:
		return "Amounts are rounded per line, halves to even."
	case qwoty.RoundDocumentHalfUp:
		return "Amounts are rounded on the document's sums, halves away from zero."
	case qwoty.RoundDocumentHalfEven:
		return "Amounts are rounded on the document's sums, halves to even."
	}
	return ""
}
