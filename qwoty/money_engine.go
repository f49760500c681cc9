package qwoty

import (
	"cmp"
	"math"
	"math/big"
	"math/bits"
	"slices"

	"github.com/shopspring/decimal"
)

// The money engine: every figure of a quote (the card, the API, the PDF,
// the customer's page, what is pushed to a CRM) is computed here, by Price,
// from the lines and what the quote states (Pricing). docs/money.md sets
// the rules out in prose with a table of worked cases; money_doc_test.go
// runs that table through Price, so the document and the code cannot part.

// Totals are a quote's amounts, always computed on the server from its
// lines. Subtotal − Discount − QuoteDiscount + Tax = Total, exactly.
type Totals struct {
	Subtotal decimal.Decimal // sum of line amounts before discounts
	Discount decimal.Decimal // sum of line discounts
	// QuoteDiscount is what the quote-level discount came to.
	QuoteDiscount decimal.Decimal
	Tax           decimal.Decimal // on (subtotal − discount − quote discount)
	Total         decimal.Decimal // subtotal − discount − quote discount + tax
}

// Pricing is what a quote states that its figures depend on besides its
// lines.
type Pricing struct {
	Currency string
	TaxRate  decimal.Decimal // percent: every line's (TaxPerQuote), or a line's without its own
	TaxMode  TaxMode
	Discount QuoteDiscount
	Rounding Rounding
}

// Pricing is what q is priced with.
func (q *Quote) Pricing() Pricing {
	return Pricing{Currency: q.Currency, TaxRate: q.TaxRate, TaxMode: q.TaxMode, Discount: q.Discount, Rounding: q.Rounding}
}

var hundred = decimal.NewFromInt(100)

// ParseRounding returns the policy named s, or false when s names none.
func ParseRounding(s string) (Rounding, bool) {
	r := Rounding(s)
	return r, slices.Contains(Roundings, r)
}

// PerDocument reports whether the policy rounds the document's sums once
// (else each line's figures are rounded, then summed).
func (r Rounding) PerDocument() bool {
	return r == RoundDocumentHalfUp || r == RoundDocumentHalfEven
}

// HalfEven reports whether a half is rounded to the even neighbour
// (banker's rounding); else it is rounded away from zero (half-up).
func (r Rounding) HalfEven() bool { return r == RoundLineHalfEven || r == RoundDocumentHalfEven }

// Label is the policy as the quote states it to people.
func (r Rounding) Label() string {
	where, how := "each line", "half up"
	if r.PerDocument() {
		where = "the document's totals"
	}
	if r.HalfEven() {
		how = "half to even"
	}
	return "Rounded " + how + ", on " + where
}

// Round rounds d to places decimals with the policy's rule for a half:
// away from zero (half-up) or to the even digit (half-even). A policy
// that is not set rounds half-up.
func (r Rounding) Round(d decimal.Decimal, places int32) decimal.Decimal {
	if r.HalfEven() {
		return d.RoundBank(places)
	}
	return d.Round(places)
}

// ComputeTotals prices lines in place for a quote with one tax rate, no
// quote-level discount and the default policy (line-half-up); see Price.
func ComputeTotals(lines []LineItem, taxRate decimal.Decimal, currency string) Totals {
	return Price(lines, Pricing{Currency: currency, TaxRate: taxRate, TaxMode: TaxPerQuote, Rounding: RoundLineHalfUp})
}

// Price fills every line's Amount, Discount, Net and Tax in place and
// returns the quote's totals, in p.Currency's minor units:
//
//   - A line's amount is quantity × unit price, its discount amount ×
//     discount percent, its net amount − discount (a 100 % discount leaves
//     exactly zero).
//   - The quote-level discount is taken from the sum of the nets: a percent
//     of it, or an amount, at most that sum (the total never goes below
//     zero; SetDiscount refuses a larger amount when it is set).
//   - Tax: with TaxPerQuote, the quote's rate on the taxable base (nets −
//     quote discount); with TaxPerLine, each line's rate (the quote's when
//     it has none) on its net less its share of the quote discount, shared
//     pro rata to the nets.
//   - Rounding: a per-line policy rounds each line's amount, discount and
//     tax, then sums them; the quote discount and a tax on the whole base
//     are rounded once. A per-document policy sums the unrounded figures and
//     rounds each document figure once; each line's shown figures are then
//     its own rounded values. Either rounds a half away from zero (half-up)
//     or to even (half-even).
//
// Shares (the quote discount per line, a document figure per line) are
// handed out by Allocate, so that they add up to the figure exactly.
func Price(lines []LineItem, p Pricing) Totals {
	exp := CurrencyExponent(p.Currency)
	r := p.Rounding
	if r == "" {
		r = RoundLineHalfUp
	}
	rnd := func(d decimal.Decimal) decimal.Decimal { return r.Round(d, exp) }
	perLineTax := p.TaxMode == TaxPerLine
	rate := func(l *LineItem) decimal.Decimal {
		if perLineTax && l.TaxRate.Valid {
			return l.TaxRate.Decimal
		}
		return p.TaxRate
	}

	// Each line's unrounded figures.
	n := len(lines)
	rawNet := make([]decimal.Decimal, n)
	var sumAmount, sumNet decimal.Decimal
	for i := range lines {
		l := &lines[i]
		amount := l.Quantity.Mul(l.UnitPrice)
		disc := amount.Mul(l.DiscountPercent).Shift(-2)
		if r.PerDocument() {
			sumAmount = sumAmount.Add(amount)
			rawNet[i] = amount.Sub(disc)
			sumNet = sumNet.Add(rawNet[i])
			l.Amount = rnd(amount)
			l.Discount = rnd(disc)
		} else {
			l.Amount = rnd(amount)
			l.Discount = rnd(l.Amount.Mul(l.DiscountPercent).Shift(-2))
			rawNet[i] = l.Amount.Sub(l.Discount)
		}
		l.Net = l.Amount.Sub(l.Discount)
	}

	var t Totals
	if r.PerDocument() {
		t.Subtotal = rnd(sumAmount)
		net := rnd(sumNet)
		t.Discount = t.Subtotal.Sub(net)
	} else {
		for i := range lines {
			t.Subtotal = t.Subtotal.Add(lines[i].Amount)
			t.Discount = t.Discount.Add(lines[i].Discount)
		}
	}
	net := t.Subtotal.Sub(t.Discount) // the nets' sum, rounded

	// The quote-level discount, and the part of the base left after it.
	switch p.Discount.Kind {
	case DiscountPercent:
		base := net
		if r.PerDocument() {
			base = sumNet
		}
		t.QuoteDiscount = rnd(base.Mul(p.Discount.Value).Shift(-2))
	case DiscountAmount:
		t.QuoteDiscount = decimal.Min(rnd(p.Discount.Value), net)
	}
	if t.QuoteDiscount.GreaterThan(net) {
		t.QuoteDiscount = net
	}
	if t.QuoteDiscount.IsNegative() {
		t.QuoteDiscount = decimal.Zero
	}
	taxable := net.Sub(t.QuoteDiscount)

	// Tax.
	if r.PerDocument() {
		// One rounding: the unrounded tax of every line, scaled by the part
		// of the base the quote discount leaves.
		var rawTax decimal.Decimal
		lineTax := make([]decimal.Decimal, n)
		for i := range lines {
			lineTax[i] = rawNet[i].Mul(rate(&lines[i])).Shift(-2)
			rawTax = rawTax.Add(lineTax[i])
		}
		switch {
		case taxable.IsZero():
			rawTax = decimal.Zero
		case p.Discount.Kind == DiscountPercent:
			rawTax = rawTax.Mul(hundred.Sub(p.Discount.Value)).Shift(-2)
		case !t.QuoteDiscount.IsZero():
			rawTax = rawTax.Mul(taxable).Div(net)
		}
		t.Tax = rnd(rawTax)
		spread(lines, Allocate(t.Tax, lineTax, exp))
	} else {
		nets := make([]decimal.Decimal, n)
		for i := range lines {
			nets[i] = lines[i].Net
		}
		shares := Allocate(t.QuoteDiscount, nets, exp)
		bases := make([]decimal.Decimal, n)
		for i := range lines {
			bases[i] = lines[i].Net.Sub(shares[i])
		}
		if perLineTax {
			for i := range lines {
				lines[i].Tax = rnd(bases[i].Mul(rate(&lines[i])).Shift(-2))
				t.Tax = t.Tax.Add(lines[i].Tax)
			}
		} else {
			t.Tax = rnd(taxable.Mul(p.TaxRate).Shift(-2))
			spread(lines, Allocate(t.Tax, bases, exp))
		}
	}
	t.Total = taxable.Add(t.Tax)
	return t
}

// spread sets each line's tax to its share.
func spread(lines []LineItem, tax []decimal.Decimal) {
	for i := range lines {
		lines[i].Tax = tax[i]
	}
}

// Allocate shares total (a figure in minor units of exp decimals) among
// weights pro rata, in minor units, so that the shares add up to total
// exactly: each share is its exact part cut to exp decimals (toward zero),
// and the minor units left over go one each to the largest remainders
// (the earlier weight first when two are equal). Weights are zero or more;
// when they sum to zero every share is zero but the last, which takes the
// total.
func Allocate(total decimal.Decimal, weights []decimal.Decimal, exp int32) []decimal.Decimal {
	if out, ok := allocateSmall(total, weights, exp); ok {
		return out
	}
	return allocateBig(total, weights, exp)
}

// allocateBig is Allocate in big integers, for any figures.
func allocateBig(total decimal.Decimal, weights []decimal.Decimal, exp int32) []decimal.Decimal {
	out := make([]decimal.Decimal, len(weights))
	for i := range out {
		out[i] = decimal.Zero
	}
	if len(weights) == 0 {
		return out
	}
	var sum decimal.Decimal
	for _, w := range weights {
		sum = sum.Add(w)
	}
	if sum.IsZero() {
		out[len(out)-1] = total
		return out
	}
	if total.IsZero() {
		return out
	}
	// In integers at one exponent: the weights' smallest, and the total's
	// minor units; each share is ⌊T × w / S⌋ minor units, its remainder
	// exact for the ranking.
	e := int32(0)
	for _, w := range weights {
		e = min(e, w.Exponent())
	}
	ints := make([]*big.Int, len(weights))
	s := new(big.Int)
	for i, w := range weights {
		ints[i] = w.Shift(-e).BigInt()
		s.Add(s, ints[i])
	}
	t := total.Shift(exp).BigInt()
	type rem struct {
		i int
		r *big.Int
	}
	rems := make([]rem, len(weights))
	given := new(big.Int)
	for i, w := range ints {
		q, r := new(big.Int).QuoRem(new(big.Int).Mul(t, w), s, new(big.Int))
		given.Add(given, q)
		out[i] = decimal.NewFromBigInt(q, -exp)
		rems[i] = rem{i, r.Abs(r)}
	}
	left := new(big.Int).Sub(t, given).Int64()
	if left < 0 {
		left = -left
	}
	if left == 0 {
		return out
	}
	unit := decimal.New(1, -exp)
	if total.IsNegative() {
		unit = unit.Neg()
	}
	slices.SortStableFunc(rems, func(a, b rem) int { return b.r.Cmp(a.r) })
	for k := 0; k < int(left) && k < len(rems); k++ {
		out[rems[k].i] = out[rems[k].i].Add(unit)
	}
	return out
}

// allocateSmall is Allocate in 64-bit integers, the same arithmetic as
// allocateBig (each share ⌊T × w / S⌋ with its exact remainder, the minor
// units left over to the largest remainders, the earlier first), for the
// usual case: a total and weights that are not negative, whose integers at
// one exponent fit in 63 bits. ok is false, and nothing computed, for any
// other; TestAllocateSmallIsAllocateBig holds the two paths equal.
func allocateSmall(total decimal.Decimal, weights []decimal.Decimal, exp int32) (out []decimal.Decimal, ok bool) {
	n := len(weights)
	if n == 0 || total.IsNegative() || exp < 0 || exp > 18 {
		return nil, false
	}
	e := int32(0)
	for _, w := range weights {
		if w.IsNegative() || w.NumDigits() > 18 {
			return nil, false
		}
		e = min(e, w.Exponent())
	}
	ints := make([]uint64, n)
	var sum uint64
	for i, w := range weights {
		v, ok := scaled(w, w.Exponent()-e)
		if !ok {
			return nil, false
		}
		ints[i] = v
		if sum += v; sum < v || sum > math.MaxInt64 {
			return nil, false
		}
	}
	if total.NumDigits() > 18 {
		return nil, false
	}
	// The total's minor units, cut toward zero as big.Int's conversion does.
	var t uint64
	if te := total.Exponent() + exp; te >= 0 {
		v, ok := scaled(total, te)
		if !ok {
			return nil, false
		}
		t = v
	} else {
		t = uint64(total.CoefficientInt64())
		for ; te < 0; te++ {
			t /= 10
		}
	}
	out = make([]decimal.Decimal, n)
	if sum == 0 {
		for i := range out {
			out[i] = decimal.Zero
		}
		out[n-1] = total
		return out, true
	}
	if total.IsZero() {
		for i := range out {
			out[i] = decimal.Zero
		}
		return out, true
	}
	type rem struct {
		i int
		r uint64
	}
	rems := make([]rem, n)
	shares := make([]uint64, n)
	var given uint64
	for i, w := range ints {
		hi, lo := bits.Mul64(t, w)
		q, r := bits.Div64(hi, lo, sum) // w ≤ sum: the quotient is at most t
		shares[i] = q
		given += q
		rems[i] = rem{i, r}
	}
	left := t - given
	if left > 0 {
		slices.SortStableFunc(rems, func(a, b rem) int { return cmp.Compare(b.r, a.r) })
		for k := 0; k < int(left) && k < n; k++ {
			shares[rems[k].i]++
		}
	}
	for i, q := range shares {
		out[i] = decimal.New(int64(q), -exp)
	}
	return out, true
}

// scaled is d's coefficient times 10^by (by ≥ 0), or false when it would
// not fit in 63 bits.
func scaled(d decimal.Decimal, by int32) (uint64, bool) {
	v := uint64(d.CoefficientInt64())
	for ; by > 0; by-- {
		hi, lo := bits.Mul64(v, 10)
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		v = lo
	}
	return v, true
}
