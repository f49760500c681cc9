package crm

import (
	"context"

	"github.com/shopspring/decimal"
)

// DefaultOrderScale is the decimals an order's amounts are written with
// to a CRM whose OrderSyncer does not say (OrderScaler): 2, as the money
// fields of Salesforce and of the test CRM.
const DefaultOrderScale int32 = 2

// OrderScaler is implemented by an OrderSyncer whose CRM's money fields
// hold another number of decimals than DefaultOrderScale: the order job
// gives it the order's figures at that scale (qwoty.ForCRM).
type OrderScaler interface {
	OrderScale() int32
}

// OrderScale is the decimals o's CRM holds.
func OrderScale(o OrderSyncer) int32 {
	if s, ok := o.(OrderScaler); ok {
		return s.OrderScale()
	}
	return DefaultOrderScale
}

// ClassifyOrder turns an order call's error into the OrderSyncer's
// classes, as ClassifyArchive does for a file: a 429 blocks the
// connection's budget for its Retry-After and waits; 400, 404, 409 and
// 422 are the CRM's refusals, with its words; 403 and 404 keep their
// sentinels; anything else is left as it is (transient, or coded).
func ClassifyOrder(ctx context.Context, b Budget, err error) error {
	return ClassifyArchive(ctx, b, err)
}

// SplitLine is l as a CRM that computes a line's net as quantity × unit
// price holds it, exactly: l itself when its unit price times its quantity
// is its net; else, for a whole quantity above 1, two lines of the same
// product, quantity − 1 at the unit price and 1 at the rest of the net
// (100.00 for 3 is 2 × 33.33 and 1 × 33.34), so that the CRM's lines add
// up to the order's figures. A fractional quantity is left as it is (the
// CRM's net is then off by the unit price's rounding).
func SplitLine(l OrderPushLine) []OrderPushLine {
	if l.Quantity.Mul(l.UnitPrice).Equal(l.Net) || !l.Quantity.IsInteger() || l.Quantity.LessThanOrEqual(decimal.NewFromInt(1)) {
		return []OrderPushLine{l}
	}
	most := l
	most.Quantity = l.Quantity.Sub(decimal.NewFromInt(1))
	most.Net = most.Quantity.Mul(l.UnitPrice)
	last := l
	last.Quantity = decimal.NewFromInt(1)
	last.Net = l.Net.Sub(most.Net)
	last.UnitPrice = last.Net
	return []OrderPushLine{most, last}
}
