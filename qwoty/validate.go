package qwoty

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Every check of what a client sends, and every message it can get back,
// is in this file: one catalogue (docs/troubleshooting.md lists it).

// LineInput is a line item as a user types it, before validation.
type LineInput struct {
	SKU             string
	Description     string
	Quantity        string
	UnitPrice       string
	DiscountPercent string
	// ProductID is the CRM product the line was picked from in the
	// catalogue, "" for a free line.
	ProductID string
	// TaxRate is the line's own tax rate, percent (a quote taxed per
	// line); "" for none: the quote's rate applies.
	TaxRate string
}

// The limits follow from the columns (migrations/001_init.sql), so that
// every figure a valid quote can reach is stored exactly: quantity is
// numeric(16,4), below 10^12; prices and every amount are numeric(20,4),
// below 10^16. A line's amount (quantity × unit price) is at most
// MaxLineAmount, and a quote has at most MaxLines lines, so its subtotal is
// at most 2×10^15; discounts only lower it and tax adds at most 100 %, so no
// total passes MaxTotal = 4×10^15, under half of what the columns hold.
const (
	// MaxLines is the most lines a quote holds.
	MaxLines = 2000
	// MaxTitleLen is the longest quote title, in characters.
	MaxTitleLen       = 200
	maxSKULen         = 64
	maxDescriptionLen = 1000
	maxEmailLen       = 254
	maxNameLen        = 200
	// maxProductIDLen bounds a CRM product id (Salesforce's are 18
	// characters, HubSpot's and Pipedrive's numbers).
	maxProductIDLen = 64
)

var (
	maxQuantity = decimal.NewFromInt(1_000_000_000)
	maxPrice    = decimal.NewFromInt(1_000_000_000_000)
	// MaxLineAmount is the largest amount (quantity × unit price) of a line.
	MaxLineAmount = decimal.NewFromInt(1_000_000_000_000)
	// MaxTotal bounds every amount of a valid quote: MaxLines lines at
	// MaxLineAmount, plus 100 % tax.
	MaxTotal = MaxLineAmount.Mul(decimal.NewFromInt(2 * MaxLines))
)

// fieldLabels names each input, by its form name, as messages call it.
var fieldLabels = map[string]string{
	"sku": "SKU", "description": "description", "quantity": "quantity", "unit_price": "unit price",
	"discount_percent": "discount", "title": "title", "tax_rate": "tax rate", "currency": "currency",
	"version": "version", "status": "status", "email": "email", "name": "name", "password": "password",
	"workspace": "workspace name", "token": "token",
	"product_id": "product", "q": "search", "limit": "limit",
	"tax_mode": "tax mode", "discount_kind": "discount kind", "discount_value": "quote discount",
}

// label is how a message names the field: its label, or for a field no
// form of ours has, its name quoted (it came from the client).
func label(field string) string {
	if l, ok := fieldLabels[field]; ok {
		return l
	}
	return "form field " + echo(field)
}

// invalid is a validation error about one field.
func invalid(field, hint, format string, args ...any) *Error {
	return &Error{Code: CodeValidation, Field: field, Message: fmt.Sprintf(format, args...), Hint: hint}
}

// echo quotes a value a client sent for a message, cut to a length that
// fits one: the message is shown, and logged, whole.
func echo(s string) string {
	const max = 40
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

// CheckText refuses text that a PostgreSQL text column cannot hold: a NUL
// character, or bytes that are not UTF-8. Every text a client sends is
// checked with it before it can reach the database; field is the input's
// form name.
func CheckText(field, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return invalid(field, "Remove the NUL character (\\u0000): text cannot hold it.", "%s holds a NUL character", label(field))
	}
	if !utf8.ValidString(s) {
		return invalid(field, "Send the text in UTF-8, as browsers do.", "%s is not valid UTF-8 text", label(field))
	}
	return nil
}

// CleanText makes text from elsewhere (a CRM record's name, to prefill a
// quote) storable: NUL characters dropped, bytes that are not UTF-8
// replaced by U+FFFD. What a user types is checked instead (CheckText).
func CleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// TitleFrom is a quote title prefilled from a CRM record's name: cleaned,
// trimmed and cut to MaxTitleLen characters.
func TitleFrom(name string) string {
	t := strings.TrimSpace(CleanText(name))
	if r := []rune(t); len(r) > MaxTitleLen {
		t = strings.TrimSpace(string(r[:MaxTitleLen]))
	}
	return t
}

// parseText checks and trims a free-text field of at most max characters.
func parseText(field, s string, max int, hint string) (string, error) {
	if err := CheckText(field, s); err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	return s, checkLength(field, s, max, hint)
}

// checkLength refuses text of more than max characters.
func checkLength(field, s string, max int, hint string) error {
	if utf8.RuneCountInString(s) > max {
		return invalid(field, hint, "%s is longer than %d characters", label(field), max)
	}
	return nil
}

// ParseLine validates a line typed by a user and returns it as a LineItem
// (unpriced). The error names the field and what it accepts.
func ParseLine(in LineInput) (LineItem, error) {
	var l LineItem
	var err error
	if l.SKU, err = parseText("sku", in.SKU, maxSKULen, skuHint); err != nil {
		return l, err
	}
	if l.Description, err = parseText("description", in.Description, maxDescriptionLen, descriptionHint); err != nil {
		return l, err
	}
	if err := checkNamed(l); err != nil {
		return l, err
	}
	if l.Quantity, err = parseAmount("quantity", in.Quantity, "1", 4); err != nil {
		return l, err
	}
	if err := checkQuantity(l.Quantity); err != nil {
		return l, err
	}
	if l.UnitPrice, err = parseAmount("unit_price", in.UnitPrice, "0", 4); err != nil {
		return l, err
	}
	if err := checkUnitPrice(l.UnitPrice); err != nil {
		return l, err
	}
	if err := checkLineAmount(l); err != nil {
		return l, err
	}
	if l.DiscountPercent, err = ParsePercent("discount_percent", in.DiscountPercent); err != nil {
		return l, err
	}
	if l.ProductID, err = parseText("product_id", in.ProductID, maxProductIDLen, productHint); err != nil {
		return l, err
	}
	if l.TaxRate, err = ParseLineTaxRate(in.TaxRate); err != nil {
		return l, err
	}
	return l, nil
}

// ParseLineTaxRate reads a line's own tax rate: "" is none (the quote's
// rate applies), else a percentage from 0 to 100 with up to 4 decimals.
func ParseLineTaxRate(s string) (decimal.NullDecimal, error) {
	if strings.TrimSpace(s) == "" {
		return decimal.NullDecimal{}, nil
	}
	d, err := ParsePercent("tax_rate", s)
	if err != nil {
		return decimal.NullDecimal{}, err
	}
	return decimal.NewNullDecimal(d), nil
}

// ParseTaxMode reads where a quote's tax rates are set: "quote" (one rate)
// or "line" (a rate per line, the quote's when a line has none).
func ParseTaxMode(s string) (TaxMode, error) {
	switch m := TaxMode(strings.TrimSpace(s)); m {
	case TaxPerQuote, TaxPerLine:
		return m, nil
	}
	return "", invalid("tax_mode", "Use quote (one tax rate) or line (a rate per line).", "tax mode %s is not quote or line", echo(s))
}

// ParseDiscount reads a quote-level discount as typed: its kind (none,
// percent, amount; empty is none) and value (a percentage from 0 to 100,
// or an amount of 0 or more; empty is 0), with at most 4 decimals. Whether
// an amount fits the quote (its currency's decimals, the discounted
// subtotal) is SetTerms's to check (checkQuoteDiscount).
func ParseDiscount(kind, value string) (QuoteDiscount, error) {
	k := DiscountKind(strings.TrimSpace(kind))
	switch k {
	case "", DiscountNone:
		return QuoteDiscount{Kind: DiscountNone}, nil
	case DiscountPercent:
		d, err := ParsePercent("discount_value", value)
		return QuoteDiscount{Kind: k, Value: d}, err
	case DiscountAmount:
		d, err := parseAmount("discount_value", value, "0", 4)
		if err != nil {
			return QuoteDiscount{}, err
		}
		if d.IsNegative() || d.GreaterThan(MaxTotal) {
			return QuoteDiscount{}, errDiscountRange(d)
		}
		return QuoteDiscount{Kind: k, Value: d}, nil
	}
	return QuoteDiscount{}, invalid("discount_kind", "Use none, percent or amount.", "discount kind %s is not none, percent or amount", echo(kind))
}

// checkDiscountAmount refuses an amount discount below zero, with more
// decimals than its currency has, or past what a quote can total.
func checkDiscountAmount(d decimal.Decimal, currency string) error {
	if d.IsNegative() || d.GreaterThan(MaxTotal) {
		return errDiscountRange(d)
	}
	if exp := CurrencyExponent(currency); -d.Exponent() > exp {
		return invalid("discount_value", fmt.Sprintf("Round it to %d decimals: %s amounts have no smaller unit.", exp, currency),
			"discount %s has more decimals than %s has (%d)", d, currency, exp)
	}
	return nil
}

func errDiscountRange(d decimal.Decimal) error {
	return invalid("discount_value", "Enter an amount from 0 up to the quote's discounted subtotal.", "discount %s is out of range", d)
}

// checkQuoteDiscount refuses a quote-level discount a quote of lines
// priced with p cannot take: a kind that is none of the three, a percent
// out of 0..100, and an amount with more decimals than the currency's or
// larger than the subtotal after the lines' discounts (a discount never
// takes a quote below zero; were lines removed afterwards, the engine
// caps the discount at what is left: docs/money.md).
func checkQuoteDiscount(d QuoteDiscount, lines []LineItem, p Pricing) error {
	switch d.Kind {
	case "", DiscountNone:
		if !d.Value.IsZero() {
			return invalid("discount_value", "Choose percent or amount, or clear the value.", "a discount of kind none has value %s", d.Value)
		}
		return nil
	case DiscountPercent:
		if err := checkPlaces("discount_value", d.Value, 4); err != nil {
			return err
		}
		return checkPercent("discount_value", d.Value)
	case DiscountAmount:
		if err := checkDiscountAmount(d.Value, p.Currency); err != nil {
			return err
		}
		priced := slices.Clone(lines)
		p.Discount = QuoteDiscount{Kind: DiscountNone}
		t := Price(priced, p)
		if net := t.Subtotal.Sub(t.Discount); d.Value.GreaterThan(net) {
			return invalid("discount_value", fmt.Sprintf("Enter at most %s: the subtotal after the lines' discounts.", FormatAmount(net, p.Currency)),
				"the quote discount %s %s is more than the discounted subtotal %s %s",
				FormatAmount(d.Value, p.Currency), p.Currency, FormatAmount(net, p.Currency), p.Currency)
		}
		return nil
	}
	return invalid("discount_kind", "Use none, percent or amount.", "discount kind %s is not none, percent or amount", echo(string(d.Kind)))
}

const (
	skuHint         = "Shorten the SKU."
	descriptionHint = "Shorten the description."
	productHint     = "Pick the product from the catalogue search, or clear it for a free line."
)

// checkLine holds a line as a quote stores it, however it was made, to the
// limits ParseLine applies to what a user types, in the same order and with
// the same messages: a quote never holds a line ParseLine would refuse.
func checkLine(l LineItem) error {
	for _, f := range []struct {
		field, text, hint string
		max               int
	}{{"sku", l.SKU, skuHint, maxSKULen}, {"description", l.Description, descriptionHint, maxDescriptionLen}} {
		if err := CheckText(f.field, f.text); err != nil {
			return err
		}
		if err := checkLength(f.field, f.text, f.max, f.hint); err != nil {
			return err
		}
	}
	if err := checkNamed(l); err != nil {
		return err
	}
	for _, check := range []func() error{
		func() error { return checkPlaces("quantity", l.Quantity, 4) },
		func() error { return checkQuantity(l.Quantity) },
		func() error { return checkPlaces("unit_price", l.UnitPrice, 4) },
		func() error { return checkUnitPrice(l.UnitPrice) },
		func() error { return checkLineAmount(l) },
		func() error { return checkPlaces("discount_percent", l.DiscountPercent, 4) },
		func() error { return checkPercent("discount_percent", l.DiscountPercent) },
		func() error {
			if !l.TaxRate.Valid {
				return nil
			}
			return checkTaxRate(l.TaxRate.Decimal)
		},
	} {
		if err := check(); err != nil {
			return err
		}
	}
	if err := CheckText("product_id", l.ProductID); err != nil {
		return err
	}
	return checkLength("product_id", l.ProductID, maxProductIDLen, productHint)
}

// checkNamed refuses a line with neither a SKU nor a description: nobody
// could tell what it sells.
func checkNamed(l LineItem) error {
	if l.SKU == "" && l.Description == "" {
		return invalid("sku", "Give the line a SKU or a description.", "a line needs a SKU or a description")
	}
	return nil
}

func checkQuantity(q decimal.Decimal) error {
	if !q.IsPositive() || q.GreaterThan(maxQuantity) {
		return invalid("quantity", "Enter a quantity above 0 and at most 1,000,000,000.", "quantity %s is out of range", q)
	}
	return nil
}

func checkUnitPrice(p decimal.Decimal) error {
	if p.IsNegative() || p.GreaterThan(maxPrice) {
		return invalid("unit_price", "Enter a unit price from 0 to 1,000,000,000,000.", "unit price %s is out of range", p)
	}
	return nil
}

// checkLineAmount refuses a line whose amount (quantity × unit price) is past
// MaxLineAmount, which bounds every total (see MaxTotal).
func checkLineAmount(l LineItem) error {
	if a := l.Quantity.Mul(l.UnitPrice); a.GreaterThan(MaxLineAmount) {
		return invalid("unit_price", "Lower the quantity or the unit price, or split the line: a line's amount is at most 1,000,000,000,000.",
			"quantity × unit price is %s, above the 1,000,000,000,000 a line may hold", groupThousands(a.String()))
	}
	return nil
}

// ParsePercent parses a percentage from 0 to 100 with up to 4 decimals;
// empty means 0. field is the input's form name ("tax_rate").
func ParsePercent(field, s string) (decimal.Decimal, error) {
	d, err := parseAmount(field, s, "0", 4)
	if err != nil {
		return d, err
	}
	return d, checkPercent(field, d)
}

func checkPercent(field string, d decimal.Decimal) error {
	if d.IsNegative() || d.GreaterThan(hundred) {
		return invalid(field, "Enter a percentage from 0 to 100.", "%s %s%% is out of range", label(field), d)
	}
	return nil
}

// checkTaxRate refuses a tax rate the quote cannot carry: 0 to 100 percent,
// with at most the 4 decimals the column keeps.
func checkTaxRate(d decimal.Decimal) error {
	if err := checkPlaces("tax_rate", d, 4); err != nil {
		return err
	}
	return checkPercent("tax_rate", d)
}

// ParseTitle checks and trims a quote title.
func ParseTitle(s string) (string, error) {
	return parseText("title", s, MaxTitleLen, "Shorten the title.")
}

// ParseCurrency reads a currency code as typed ("usd " is USD).
func ParseCurrency(s string) (string, error) {
	cur := strings.ToUpper(strings.TrimSpace(s))
	if !ValidCurrency(cur) {
		return "", errCurrency(s)
	}
	return cur, nil
}

// errCurrency is the error for a currency code that is not ISO 4217's form.
func errCurrency(s string) *Error {
	return invalid("currency", "Use a three-letter ISO 4217 code such as USD.", "currency %s is not valid", echo(s))
}

// checkLineCount refuses a quote of more than MaxLines lines.
func checkLineCount(n int) error {
	if n > MaxLines {
		return invalid("lines", "Split the quote.", "a quote holds at most %d lines", MaxLines)
	}
	return nil
}

// ParseStatusInput reads the status a form moves a quote to.
func ParseStatusInput(s string) (Status, error) {
	st, ok := ParseStatus(s)
	if !ok {
		return "", invalid("status", "Use draft, sent, viewed, accepted, rejected or expired.", "status %s is not a quote status", echo(s))
	}
	return st, nil
}

// ParseVersion reads the quote version a form was rendered with; 0 when
// absent (callers that accept last-write-wins). Versions are positive and
// fit the column (integer).
func ParseVersion(s string) (int, error) {
	v := strings.TrimSpace(s)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, invalid("version", "Reload the quote.", "version %s is not a positive number", echo(v))
	}
	if n > math.MaxInt32 {
		return 0, invalid("version", "Reload the quote.", "version %s is out of range", v)
	}
	return int(n), nil
}

// ParseEmail checks and trims an email address typed into the console.
func ParseEmail(s string) (string, error) {
	if err := CheckText("email", s); err != nil {
		return "", err
	}
	e := strings.TrimSpace(s)
	if !strings.Contains(e, "@") || len(e) > maxEmailLen {
		return "", invalid("email", "Give a valid email address.", "email %s is not valid", echo(e))
	}
	return e, nil
}

// ParseUserName checks and trims a person's name typed into the console.
func ParseUserName(s string) (string, error) {
	return parseText("name", s, maxNameLen, "Shorten the name.")
}

// parseAmount parses a plain decimal ("1234.5"; a thousands comma or spaces
// are tolerated, scientific notation is not) with at most places decimals.
// field is the input's form name.
func parseAmount(field, s, empty string, places int32) (decimal.Decimal, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = empty
	}
	notNumber := func() error {
		return invalid(field, "Use digits and a decimal point, like 1234.50.", "%s %s is not a number", label(field), echo(s))
	}
	clean := strings.NewReplacer(",", "", " ", "", "\u00a0", "").Replace(s)
	for i, r := range clean {
		if !(r >= '0' && r <= '9' || r == '.' || (i == 0 && r == '-')) {
			return decimal.Zero, notNumber()
		}
	}
	d, err := decimal.NewFromString(clean)
	if err != nil {
		return decimal.Zero, notNumber()
	}
	if err := checkPlaces(field, d, places); err != nil {
		return decimal.Zero, err
	}
	return d, nil
}

// checkPlaces refuses a figure with more decimals than its column keeps:
// the column would round it, and store another figure than the one given.
func checkPlaces(field string, d decimal.Decimal, places int32) error {
	if -d.Exponent() > places {
		return invalid(field, "Round it to at most 4 decimals.", "%s %s has more than %d decimals", label(field), d, places)
	}
	return nil
}
