package qwoty

import (
	"slices"
	"strings"
	"time"
)

// Webhook subscriptions (docs/api.md, "Webhooks"): what an admin asks to be
// told of, and where.

// WebhookSubscription is one subscription of a workspace's CRM account.
type WebhookSubscription struct {
	ID           string
	WorkspaceID  string
	ConnectionID string
	WebhookFilter
	// URL is where deliveries are posted.
	URL         string
	Description string
	Enabled     bool
	// DisabledReason says why Qwoty disabled it ("" when an admin did, or
	// when it is enabled).
	DisabledReason string
	// FailingSince is when its deliveries started failing, zero when the
	// last one succeeded.
	FailingSince time.Time
	// RotationEndsAt is when the previous secret stops signing, zero
	// when no rotation is under way.
	RotationEndsAt time.Time
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// WebhookFilter is what a subscription is told of: its event types, and
// optionally only the quotes of some statuses or of one customer.
type WebhookFilter struct {
	EventTypes []EventType
	// Statuses, when not empty, keeps quote events of quotes in these
	// statuses (other events have no status and are kept).
	Statuses []Status
	// CustomerID, when set, keeps the events of this customer and of its
	// quotes.
	CustomerID string
}

// Limits of a subscription.
const (
	MaxWebhookURL         = 2000
	MaxWebhookDescription = 200
	// MaxWebhookSubscriptions is how many subscriptions one CRM account
	// may have.
	MaxWebhookSubscriptions = 20
)

// WebhookRotationOverlap is how long the previous secret keeps signing
// after a rotation.
const WebhookRotationOverlap = 24 * time.Hour

// WebhookDisableAfter is how long a subscription may fail every delivery
// before Qwoty disables it.
const WebhookDisableAfter = 72 * time.Hour

// CheckWebhookFilter checks and normalises a filter: known event types
// and statuses, no duplicates, in the lists' order. The URL is checked by
// package webhooks (what a server accepts depends on its environment).
func CheckWebhookFilter(f WebhookFilter) (WebhookFilter, error) {
	var out WebhookFilter
	for _, t := range f.EventTypes {
		t = EventType(strings.TrimSpace(string(t)))
		if !slices.Contains(EventTypes, t) {
			return out, invalid("eventTypes", "Pick event types from the list in docs/api.md.", "%s is not an event type", echo(string(t)))
		}
		if !slices.Contains(out.EventTypes, t) {
			out.EventTypes = append(out.EventTypes, t)
		}
	}
	if len(out.EventTypes) == 0 {
		return out, invalid("eventTypes", "Pick at least one event type.", "a subscription needs an event type")
	}
	slices.SortFunc(out.EventTypes, func(a, b EventType) int { return slices.Index(EventTypes, a) - slices.Index(EventTypes, b) })
	for _, s := range f.Statuses {
		s = Status(strings.TrimSpace(string(s)))
		if !slices.Contains(Statuses, s) {
			return out, invalid("statuses", "Statuses are draft, sent, viewed, accepted, rejected and expired.", "%s is not a quote status", echo(string(s)))
		}
		if !slices.Contains(out.Statuses, s) {
			out.Statuses = append(out.Statuses, s)
		}
	}
	slices.SortFunc(out.Statuses, func(a, b Status) int { return slices.Index(Statuses, a) - slices.Index(Statuses, b) })
	out.CustomerID = strings.TrimSpace(f.CustomerID)
	if len(out.CustomerID) > 100 {
		return out, invalid("customerId", "Give the id of a customer as the API shows it.", "a customer id has at most 100 characters")
	}
	return out, nil
}

// CheckWebhookDescription checks a subscription's description.
func CheckWebhookDescription(d string) (string, error) {
	d = strings.TrimSpace(d)
	if len(d) > MaxWebhookDescription {
		return d, invalid("description", "Shorten it.", "a description has at most %d characters", MaxWebhookDescription)
	}
	return d, nil
}

// WebhookDeliveryState is where a delivery stands.
type WebhookDeliveryState string

// Delivery states.
const (
	DeliveryPending   WebhookDeliveryState = "pending"
	DeliverySucceeded WebhookDeliveryState = "succeeded"
	DeliveryFailed    WebhookDeliveryState = "failed"
)

// WebhookDelivery is one event sent (or to send) to one subscription: its
// id is the webhook-id header, the same on every attempt.
type WebhookDelivery struct {
	ID             string
	SubscriptionID string
	EventID        string
	EventType      EventType
	State          WebhookDeliveryState
	// Attempts made so far, and the last one's outcome.
	Attempts    int
	StatusCode  int
	Response    string
	DurationMS  int
	Error       string
	NextAttempt time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	DeliveredAt time.Time
}

// WebhookAttempt is one attempt of a delivery.
type WebhookAttempt struct {
	Attempt    int
	StatusCode int
	Response   string
	DurationMS int
	Error      string
	At         time.Time
}
