package templates

import (
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// OrdersQuery is the console's order list filter as the form shows it.
type OrdersQuery struct {
	Status, Record, From, To, Search string
	Filtered                         bool
}

// OrdersView is the console's Orders page.
type OrdersView struct {
	ConsolePage
	Query OrdersQuery
	Rows  []store.OrderRow
	// Titles names each CRM ("Salesforce").
	Titles map[qwoty.Provider]string
	// Older and Newest page the list ("" when there is none).
	Older, Newest string
}

// OrderView is one order in the console.
type OrderView struct {
	ConsolePage
	Row     store.OrderRow
	CRMName string
	Sync    store.OrderSyncState
	History []store.AuditEntry
	// Accounts is what each CRM calls an account, for the history's texts.
	Accounts map[qwoty.Provider]string
	// CanChange: the user may mark the order fulfilled or cancelled
	// (admins and members; viewers read).
	CanChange bool
}

// orderSyncText is an order's state with the CRM in a few words.
func orderSyncText(o store.OrderRow, s store.OrderSyncState) string {
	if o.Origin == qwoty.OrderFromCRM {
		return "Made in the CRM: read-only here"
	}
	switch s.Outcome {
	case "synced":
		return "Synced " + when(s.At)
	case "failed":
		return "Failed " + when(s.At) + ": " + s.Message
	case "retrying":
		return "Retrying: " + s.Message
	case "waiting":
		return "Waiting for the CRM's limits"
	case "skipped":
		return "Skipped: " + s.Message
	}
	if o.CRMOrderID != "" {
		return "In the CRM"
	}
	return "Not sent to the CRM (the sync trigger \"a quote is accepted\" is off, or the push is pending)"
}

// orderOrigin says who owns an order.
func orderOrigin(o store.OrderRow) string {
	if o.Origin == qwoty.OrderFromCRM {
		return "The CRM (pulled; change it there)"
	}
	return "Qwoty (its quote was accepted)"
}

// orderAction is the button that moves an order to s.
func orderAction(s qwoty.OrderStatus) string {
	if s == qwoty.OrderCancelled {
		return "Cancel the order"
	}
	return "Mark as fulfilled"
}
