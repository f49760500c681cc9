package qwoty

import (
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// LineInput is a line item as a user types it, before validation.
type LineInput struct {
	SKU             string
	Description     string
	Quantity        string
	UnitPrice       string
	DiscountPercent string
}

// Limits on what a line may hold; the columns allow these and no more.
var (
	maxQuantity = decimal.NewFromInt(1_000_000_000)
	maxPrice    = decimal.NewFromInt(1_000_000_000_000)
)

const (
	maxSKULen         = 64
	maxDescriptionLen = 1000
	// MaxTitleLen is the longest quote title, in characters.
	MaxTitleLen = 200
)

// ParseLine validates a line typed by a user and returns it as a LineItem
// (unpriced). The error names the field and what it accepts.
func ParseLine(in LineInput) (LineItem, error) {
	var l LineItem
	l.SKU = strings.TrimSpace(in.SKU)
	l.Description = strings.TrimSpace(in.Description)
	if utf8.RuneCountInString(l.SKU) > maxSKULen {
		return l, Errorf(CodeValidation, "Shorten the SKU.", "SKU is longer than %d characters", maxSKULen)
	}
	if utf8.RuneCountInString(l.Description) > maxDescriptionLen {
		return l, Errorf(CodeValidation, "Shorten the description.", "description is longer than %d characters", maxDescriptionLen)
	}
	if l.SKU == "" && l.Description == "" {
		return l, Errorf(CodeValidation, "Give the line a SKU or a description.", "a line needs a SKU or a description")
	}
	var err error
	if l.Quantity, err = parseAmount("quantity", in.Quantity, "1", 4); err != nil {
		return l, err
	}
	if !l.Quantity.IsPositive() || l.Quantity.GreaterThan(maxQuantity) {
		return l, Errorf(CodeValidation, "Enter a quantity above 0 and at most 1,000,000,000.", "quantity %s is out of range", l.Quantity)
	}
	if l.UnitPrice, err = parseAmount("unit price", in.UnitPrice, "0", 4); err != nil {
		return l, err
	}
	if l.UnitPrice.IsNegative() || l.UnitPrice.GreaterThan(maxPrice) {
		return l, Errorf(CodeValidation, "Enter a unit price from 0 to 1,000,000,000,000.", "unit price %s is out of range", l.UnitPrice)
	}
	if l.DiscountPercent, err = ParsePercent("discount", in.DiscountPercent); err != nil {
		return l, err
	}
	return l, nil
}

// ParsePercent parses a percentage from 0 to 100 with up to 4 decimals;
// empty means 0.
func ParsePercent(field, s string) (decimal.Decimal, error) {
	d, err := parseAmount(field, s, "0", 4)
	if err != nil {
		return d, err
	}
	if d.IsNegative() || d.GreaterThan(hundred) {
		return d, Errorf(CodeValidation, "Enter a percentage from 0 to 100.", "%s %s%% is out of range", field, d)
	}
	return d, nil
}

// ParseTitle trims and checks a quote title.
func ParseTitle(s string) (string, error) {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > MaxTitleLen {
		return s, Errorf(CodeValidation, "Shorten the title.", "title is longer than %d characters", MaxTitleLen)
	}
	return s, nil
}

// parseAmount parses a plain decimal ("1234.5"; a thousands comma or spaces
// are tolerated, scientific notation is not) with at most places decimals.
func parseAmount(field, s, empty string, places int32) (decimal.Decimal, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = empty
	}
	clean := strings.NewReplacer(",", "", " ", "", "\u00a0", "").Replace(s)
	for i, r := range clean {
		if !(r >= '0' && r <= '9' || r == '.' || (i == 0 && r == '-')) {
			return decimal.Zero, Errorf(CodeValidation, "Use digits and a decimal point, like 1234.50.", "%s %q is not a number", field, s)
		}
	}
	d, err := decimal.NewFromString(clean)
	if err != nil {
		return decimal.Zero, Errorf(CodeValidation, "Use digits and a decimal point, like 1234.50.", "%s %q is not a number", field, s)
	}
	if -d.Exponent() > places {
		return decimal.Zero, Errorf(CodeValidation, "Round it to at most 4 decimals.", "%s %s has more than %d decimals", field, d, places)
	}
	return d, nil
}
