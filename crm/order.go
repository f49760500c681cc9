package crm

import (
	"context"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
)

// OrderSyncer writes Qwoty's orders to a CRM (issue 18, docs/orders.md):
// a Salesforce Order with its OrderItems on the Opportunity's account and
// price book; a HubSpot order associated with the deal and its line items;
// for Pipedrive, which has no orders, the deal marked won with the order's
// number and link in a field. An Adapter whose CRM takes orders implements
// it beside its Syncer, whose Buckets it spends: the order job (package
// crmsync) takes from the same connection budget as the pushes.
//
// Its errors are classified as a Push's outcomes (Outcome.Err): a
// *WaitError (a limit: try later, no retry used), ErrRejected (the CRM
// refused the order: its own message, for the sync log and the alert, e.g.
// a Salesforce org whose orders need a contract), ErrForbidden or
// ErrNotFound (permanent), a coded qwoty.Error (the connection itself),
// anything else transient.
type OrderSyncer interface {
	// OrdersReady says whether conn may be sent orders: nil, or an error
	// coded sync_reconnect when the connection lacks a scope orders need.
	OrdersReady(conn *qwoty.Connection) error
	// FindOrder looks on o.RecordID for the order o, made by an earlier
	// attempt whose answer was lost, by its Qwoty number; it returns the
	// CRM's id of the order, "" when there is none. It takes from b
	// before each call.
	FindOrder(ctx context.Context, s Session, b Budget, o OrderPush) (string, error)
	// PushOrder writes o: creates it when o.CRMID is "" (the caller has
	// looked with FindOrder after a lost answer), else brings the CRM's
	// order o.CRMID to o (its status). It returns the CRM's id of the
	// order, taking from b before each call.
	PushOrder(ctx context.Context, s Session, b Budget, o OrderPush) (string, error)
}

// OrderPush is an order to write to the CRM.
type OrderPush struct {
	// RecordID is the CRM record (Opportunity, deal) of the accepted quote.
	RecordID string
	// CRMID is the CRM's id of the order once made, "" before.
	CRMID string
	// Number is Qwoty's order number ("O-00042"): FindOrder finds the
	// order by it, and the CRM shows it.
	Number      string
	QuoteNumber string
	Status      qwoty.OrderStatus
	Currency    string
	// Total is the order's total, at the CRM's scale (qwoty.ForCRM).
	Total decimal.Decimal
	Lines []OrderPushLine
	// Link is the order's page in Qwoty's console, for a CRM that can
	// only hold a link (Pipedrive).
	Link string
	// EffectiveDate is the day the quote was accepted (Salesforce's
	// Order.EffectiveDate), YYYY-MM-DD.
	EffectiveDate string
}

// OrderPushLine is a line of an order to write.
type OrderPushLine struct {
	ProductID   string // the CRM's product (Salesforce: PricebookEntry) id, "" for a free line
	SKU         string
	Description string
	Quantity    decimal.Decimal
	// UnitPrice is the line's net per unit at the CRM's scale: what the
	// CRM multiplies by the quantity (discounts already taken).
	UnitPrice decimal.Decimal
	Net       decimal.Decimal
}

// OrderObject is the sync log's object of an order.
const OrderObject = "order"
