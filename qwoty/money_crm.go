package qwoty

import "github.com/shopspring/decimal"

// SalesforceScale is the number of decimals a Salesforce currency field
// holds (Amount, UnitPrice, Tax: 2; the API stores more, which the CRM's
// pages would then show rounded, so the pushed figure is rounded first).
const SalesforceScale int32 = 2

// CRMFigures are a quote's figures as a CRM receives them.
type CRMFigures struct {
	Total decimal.Decimal
	Tax   decimal.Decimal
	// Nets are each line's net, in the lines' order; they add up to the
	// sum of the nets (Subtotal − Discount) at the CRM's scale, exactly.
	Nets []decimal.Decimal
}

// ForCRM is what a CRM whose amounts hold scale decimals receives of a
// quote priced with policy r in currency: every figure at the CRM's scale
// or the currency's minor units, whichever is fewer. Where the currency
// has no more decimals than the CRM (USD, EUR, JPY in Salesforce), the
// figures are the quote's, unchanged. Otherwise (KWD's 3 decimals in
// Salesforce's 2) the total and the tax are rounded with the quote's own
// rule for a half, and the lines' nets are the nets' sum rounded the same
// way, shared out among the lines by Allocate, so that the lines the CRM
// holds add up to the figure it holds. A document-rounded quote's lines
// are shared out the same way at any scale: each line's own rounded net
// may not add up to the document's sum, the pushed ones do. nets are the
// lines' nets (LineItem.Net).
func ForCRM(t Totals, nets []decimal.Decimal, currency string, r Rounding, scale int32) CRMFigures {
	places := min(CurrencyExponent(currency), scale)
	return CRMFigures{
		Total: r.Round(t.Total, places),
		Tax:   r.Round(t.Tax, places),
		Nets:  Allocate(r.Round(t.Subtotal.Sub(t.Discount), places), nets, places),
	}
}

// Places is the number of decimals ForCRM gives a figure in currency for
// a CRM of scale decimals.
func Places(currency string, scale int32) int32 { return min(CurrencyExponent(currency), scale) }
