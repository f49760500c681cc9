package qwoty

import (
	"time"

	"github.com/shopspring/decimal"
)

// An Order is what an accepted quote became: the lines and totals of the
// revision the customer accepted, frozen, with a life of its own (open,
// then fulfilled or cancelled). Accepting a quote generates its order, once
// (store.generateOrder), whichever way it was accepted: the customer's
// page, the card, the API or a stage pulled from the CRM.
//
// An order made in the CRM (a Salesforce Order, a HubSpot order) on a deal
// Qwoty knows is pulled in with Origin OrderFromCRM: Qwoty shows it and
// does not change it.
type Order struct {
	ID           string
	WorkspaceID  string
	ConnectionID string
	CRMRecordID  string // the deal the quote was on
	Number       string // "O-00042", per workspace
	// QuoteID and Revision: the quote and revision it was made from;
	// empty for an order pulled from the CRM.
	QuoteID      string
	QuoteNumber  string
	Revision     int
	Status       OrderStatus
	Origin       OrderOrigin
	CustomerID   string
	CustomerName string
	Currency     string
	Totals       OrderTotals
	Lines        []OrderLine
	// CRMOrderID is the order's id in the CRM, once pushed (or pulled).
	CRMOrderID string
	Version    int
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// OrderTotals are an order's totals, as the accepted revision had them.
type OrderTotals struct {
	Subtotal      decimal.Decimal
	Discount      decimal.Decimal
	QuoteDiscount decimal.Decimal
	Tax           decimal.Decimal
	Total         decimal.Decimal
}

// OrderLine is a line of an order, as the accepted revision had it.
type OrderLine struct {
	Position        int
	ProductID       string // the CRM's product (Salesforce: PricebookEntry) id, "" for a free line
	SKU             string
	Description     string
	Quantity        decimal.Decimal
	UnitPrice       decimal.Decimal
	DiscountPercent decimal.Decimal
	Amount          decimal.Decimal
	Discount        decimal.Decimal
	Tax             decimal.Decimal
	Net             decimal.Decimal
}

// OrderStatus is where an order is in its life.
type OrderStatus string

// Order statuses.
const (
	OrderOpen      OrderStatus = "open"
	OrderFulfilled OrderStatus = "fulfilled"
	OrderCancelled OrderStatus = "cancelled"
)

// OrderStatuses lists the statuses in their order of life.
var OrderStatuses = []OrderStatus{OrderOpen, OrderFulfilled, OrderCancelled}

// ParseOrderStatus parses an order status.
func ParseOrderStatus(s string) (OrderStatus, bool) {
	for _, o := range OrderStatuses {
		if string(o) == s {
			return o, true
		}
	}
	return "", false
}

// CanMoveTo reports whether an order may move from s to next: an open
// order is fulfilled or cancelled; both are final.
func (s OrderStatus) CanMoveTo(next OrderStatus) bool {
	return s == OrderOpen && (next == OrderFulfilled || next == OrderCancelled)
}

// Label is the status as people read it.
func (s OrderStatus) Label() string {
	switch s {
	case OrderOpen:
		return "Open"
	case OrderFulfilled:
		return "Fulfilled"
	case OrderCancelled:
		return "Cancelled"
	}
	return string(s)
}

// OrderOrigin says who owns an order: Qwoty (made from an accepted quote)
// or the CRM (pulled, read-only in Qwoty).
type OrderOrigin string

// Order origins.
const (
	OrderFromQuote OrderOrigin = "qwoty"
	OrderFromCRM   OrderOrigin = "crm"
)

// Transition moves o to next, or says why it cannot: an order the CRM
// owns is changed in the CRM; a fulfilled or cancelled order is final.
func (o *Order) Transition(next OrderStatus) error {
	if o.Origin == OrderFromCRM {
		return E(CodeOrderReadOnly, "Order %s was made in the CRM: change it there.", o.Number)
	}
	if o.Status == next {
		return nil
	}
	if !o.Status.CanMoveTo(next) {
		return E(CodeInvalidTransition, "Order %s is %s: it cannot become %s.", o.Number, o.Status.Label(), next.Label())
	}
	o.Status = next
	return nil
}

// FormatOrderNumber formats a per-workspace sequence number as an order
// number.
func FormatOrderNumber(n int64) string {
	s := decimal.NewFromInt(n).String()
	for len(s) < 5 {
		s = "0" + s
	}
	return "O-" + s
}

// OrderOf is the order quote q makes, as it stands (accepted: its lines
// and totals are those of the revision accepted), numbered number.
func OrderOf(q *Quote, number string) Order {
	o := Order{WorkspaceID: q.WorkspaceID, ConnectionID: q.ConnectionID, CRMRecordID: q.CRMRecordID, Number: number,
		QuoteID: q.ID, QuoteNumber: q.Number, Revision: q.Revision, Status: OrderOpen, Origin: OrderFromQuote,
		CustomerID: q.CustomerID, CustomerName: q.CustomerName, Currency: q.Currency,
		Totals: OrderTotals{Subtotal: q.Totals.Subtotal, Discount: q.Totals.Discount, QuoteDiscount: q.Totals.QuoteDiscount,
			Tax: q.Totals.Tax, Total: q.Totals.Total},
		Lines: make([]OrderLine, len(q.Lines))}
	for i, l := range q.Lines {
		o.Lines[i] = OrderLine{Position: l.Position, ProductID: l.ProductID, SKU: l.SKU, Description: l.Description,
			Quantity: l.Quantity, UnitPrice: l.UnitPrice, DiscountPercent: l.DiscountPercent, Amount: l.Amount,
			Discount: l.Discount, Tax: l.Tax, Net: l.Net}
	}
	return o
}
