package qwoty

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// A quote's version as the customer sees it: what a sent revision freezes,
// what an acceptance names by its hash. Only what the customer reads is in
// it (not sync state, ids or timestamps), so a version's hash changes when
// and only when what was offered changes.

// VersionLine is one line of a version.
type VersionLine struct {
	Position        int     `json:"position"`
	Parent          int     `json:"parent,omitempty"` // the bundle parent's position
	SKU             string  `json:"sku"`
	Description     string  `json:"description"`
	Quantity        string  `json:"quantity"`
	UnitPrice       string  `json:"unit_price"`
	DiscountPercent string  `json:"discount_percent"`
	TaxRate         *string `json:"tax_rate,omitempty"`
	Amount          string  `json:"amount"`
	Discount        string  `json:"discount"`
	Tax             string  `json:"tax"`
	Net             string  `json:"net"`
}

// VersionTotals are a version's totals.
type VersionTotals struct {
	Subtotal      string `json:"subtotal"`
	Discount      string `json:"discount"`
	QuoteDiscount string `json:"quote_discount"`
	Tax           string `json:"tax"`
	Total         string `json:"total"`
}

// VersionSnapshot is a quote as offered in one revision. Its JSON (the
// field order of this struct, amounts with the currency's decimals) is
// canonical: VersionHash hashes it.
type VersionSnapshot struct {
	Number        string        `json:"number"`
	Revision      int           `json:"revision"`
	Title         string        `json:"title"`
	Customer      string        `json:"customer"`
	Currency      string        `json:"currency"`
	TaxMode       TaxMode       `json:"tax_mode"`
	TaxRate       string        `json:"tax_rate"`
	Rounding      Rounding      `json:"rounding"`
	DiscountKind  DiscountKind  `json:"discount_kind"`
	DiscountValue string        `json:"discount_value"`
	ValidUntil    string        `json:"valid_until,omitempty"` // YYYY-MM-DD
	Terms         string        `json:"terms"`
	Lines         []VersionLine `json:"lines"`
	Totals        VersionTotals `json:"totals"`
}

// Snapshot is q's current revision as the customer sees it.
func Snapshot(q *Quote) VersionSnapshot {
	amt := func(d interface{ StringFixed(int32) string }) string {
		return d.StringFixed(CurrencyExponent(q.Currency))
	}
	v := VersionSnapshot{
		Number: q.Number, Revision: q.Revision, Title: q.Title, Customer: q.CustomerName, Currency: q.Currency,
		TaxMode: q.TaxMode, TaxRate: q.TaxRate.String(), Rounding: q.Rounding,
		DiscountKind: q.Discount.Kind, DiscountValue: q.Discount.Value.String(), Terms: q.Terms,
		Lines: make([]VersionLine, len(q.Lines)),
		Totals: VersionTotals{Subtotal: amt(q.Totals.Subtotal), Discount: amt(q.Totals.Discount),
			QuoteDiscount: amt(q.Totals.QuoteDiscount), Tax: amt(q.Totals.Tax), Total: amt(q.Totals.Total)},
	}
	if q.ValidUntil != nil {
		v.ValidUntil = q.ValidUntil.UTC().Format(time.DateOnly)
	}
	pos := make(map[string]int, len(q.Lines))
	for _, l := range q.Lines {
		pos[l.ID] = l.Position
	}
	for i, l := range q.Lines {
		vl := VersionLine{Position: l.Position, Parent: pos[l.ParentID], SKU: l.SKU, Description: l.Description,
			Quantity: l.Quantity.String(), UnitPrice: l.UnitPrice.String(), DiscountPercent: l.DiscountPercent.String(),
			Amount: amt(l.Amount), Discount: amt(l.Discount), Tax: amt(l.Tax), Net: amt(l.Net)}
		if l.TaxRate.Valid {
			r := l.TaxRate.Decimal.String()
			vl.TaxRate = &r
		}
		v.Lines[i] = vl
	}
	return v
}

// JSON is the snapshot's canonical JSON.
func (v VersionSnapshot) JSON() []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("qwoty: a version snapshot does not marshal: " + err.Error()) // strings and ints only
	}
	return b
}

// Hash is the hex SHA-256 of the snapshot's canonical JSON: what an
// acceptance records of the version accepted.
func (v VersionSnapshot) Hash() string {
	sum := sha256.Sum256(v.JSON())
	return hex.EncodeToString(sum[:])
}

// VersionHash is the hash of q's current revision (Snapshot(q).Hash()).
func VersionHash(q *Quote) string { return Snapshot(q).Hash() }
