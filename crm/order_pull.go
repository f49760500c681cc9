package crm

import (
	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
)

// PulledOrder is an order made in the CRM (a Salesforce Order, a HubSpot
// order), pulled into Qwoty as an order of origin qwoty.OrderFromCRM on
// the deal it is on, read-only. Orders Qwoty wrote itself
// (crm.OrderSyncer) are not pulled back: the store knows them by their CRM
// id and by Reference.
type PulledOrder struct {
	// RecordID is the deal (Opportunity) it is on, "" when none.
	RecordID string
	// Number is the CRM's own number of the order (HubSpot's orders have
	// none: their name).
	Number string
	// Reference is what the CRM's reference field holds (Salesforce's
	// OrderReferenceNumber, HubSpot's hs_external_order_id): Qwoty's number
	// on an order Qwoty made.
	Reference string
	Status    qwoty.OrderStatus
	Currency  string
	// Total is the CRM's total of the order (its products' sum).
	Total decimal.Decimal
	Lines []PulledOrderLine
}

// PulledOrderLine is a product of a pulled order.
type PulledOrderLine struct {
	ProductID   string
	SKU         string
	Description string
	Quantity    decimal.Decimal
	UnitPrice   decimal.Decimal
	Net         decimal.Decimal
}
