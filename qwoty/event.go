package qwoty

// EventType is the type of an event sent to webhook subscriptions
// (docs/api.md, "Webhooks").
type EventType string

// Event types.
const (
	EventQuoteCreated    EventType = "quote.created"
	EventQuoteUpdated    EventType = "quote.updated"
	EventQuoteSent       EventType = "quote.sent"
	EventQuoteViewed     EventType = "quote.viewed"
	EventQuoteAccepted   EventType = "quote.accepted"
	EventQuoteRejected   EventType = "quote.rejected"
	EventQuoteExpired    EventType = "quote.expired"
	EventQuoteDeleted    EventType = "quote.deleted"
	EventCustomerCreated EventType = "customer.created"
	EventCustomerUpdated EventType = "customer.updated"
	EventSyncFailed      EventType = "sync.failed"
	EventOrderCreated    EventType = "order.created"
	EventOrderUpdated    EventType = "order.updated"
)

// EventWebhookTest is the test event an admin sends to one subscription
// (store.SendTestEvent): not subscribable, it goes to the one it is sent to.
const EventWebhookTest EventType = "webhook.test"

// EventTypes lists every event type, in the order the console shows them.
var EventTypes = []EventType{EventQuoteCreated, EventQuoteUpdated, EventQuoteSent, EventQuoteViewed, EventQuoteAccepted,
	EventQuoteRejected, EventQuoteExpired, EventQuoteDeleted, EventCustomerCreated, EventCustomerUpdated, EventSyncFailed,
	EventOrderCreated, EventOrderUpdated}

// StatusEvent is the event of a quote's new status, "" for a status that
// has none (draft).
func StatusEvent(s Status) EventType {
	switch s {
	case StatusSent:
		return EventQuoteSent
	case StatusViewed:
		return EventQuoteViewed
	case StatusAccepted:
		return EventQuoteAccepted
	case StatusRejected:
		return EventQuoteRejected
	case StatusExpired:
		return EventQuoteExpired
	}
	return ""
}
