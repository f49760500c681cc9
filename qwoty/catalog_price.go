package qwoty

// ParseCatalogPrice reads a catalogue price an API client sets: an ISO
// 4217 currency and a unit price a quote line would accept.
func ParseCatalogPrice(currency, unitPrice string) (CatalogPrice, error) {
	cur, err := ParseCurrency(currency)
	if err != nil {
		return CatalogPrice{}, err
	}
	p, err := parseAmount("unit_price", unitPrice, "", 4)
	if err != nil {
		return CatalogPrice{}, err
	}
	if err := checkUnitPrice(p); err != nil {
		return CatalogPrice{}, err
	}
	return CatalogPrice{Currency: cur, UnitPrice: p, Active: true}, nil
}
