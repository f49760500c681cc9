package qwoty

import (
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// The catalogue is the CRM's products and their prices (Salesforce's
// products and price book entries, HubSpot's products, Pipedrive's
// products), pulled into Qwoty; the card searches it as the rep types.

const (
	// MaxCatalogQueryLen is the longest catalogue search, in characters:
	// enough for any SKU or product name a rep types.
	MaxCatalogQueryLen = 100
	// MaxCatalogResults is the most products one search returns: what fits
	// a sidebar's drop-down.
	MaxCatalogResults = 20
)

// CatalogItem is a product found in the catalogue, priced in one currency.
type CatalogItem struct {
	ProductID   string // the CRM's id of the product
	SKU         string
	Name        string
	Description string
	Currency    string
	UnitPrice   decimal.Decimal
}

// ParseCatalogQuery reads what the rep typed in the catalogue search:
// trimmed, lower-cased (the catalogue's search column is), at most
// MaxCatalogQueryLen characters.
func ParseCatalogQuery(s string) (string, error) {
	if err := CheckText("q", s); err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n > MaxCatalogQueryLen {
		return "", invalid("q", "Type part of the SKU or the product's name: a search holds at most 100 characters.",
			"the search is %d characters long, above the %d allowed", n, MaxCatalogQueryLen)
	}
	return strings.ToLower(s), nil
}

// ParseCatalogLimit reads how many products a search returns: empty means
// MaxCatalogResults, otherwise 1 to MaxCatalogResults.
func ParseCatalogLimit(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return MaxCatalogResults, nil
	}
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' || n > MaxCatalogResults {
			n = -1
			break
		}
		n = n*10 + int(r-'0')
	}
	if n < 1 || n > MaxCatalogResults {
		return 0, invalid("limit", "Ask for 1 to 20 products.", "limit %s is not a number from 1 to %d", echo(s), MaxCatalogResults)
	}
	return n, nil
}

// LineFrom is the line a catalogue product makes: its SKU and name (cut to
// what a line holds), its price, one of it.
func (it CatalogItem) LineFrom() LineItem {
	return LineItem{ProductID: it.ProductID, SKU: cut(it.SKU, maxSKULen), Description: cut(it.Name, maxDescriptionLen),
		Quantity: decimal.NewFromInt(1), UnitPrice: it.UnitPrice}
}

// cut shortens s to at most n characters.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
