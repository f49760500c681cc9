package templates

import (
	"github.com/qwoty/companion/qwoty"
)

// WebhooksView is a connection's webhooks page: its subscriptions, the
// form to add or change one, and the delivery log.
type WebhooksView struct {
	ConsolePage
	CRMName       string
	Provider      qwoty.Provider
	Subscriptions []qwoty.WebhookSubscription
	// Form is the form as typed (after a refusal), the edited
	// subscription's, or a new one's defaults.
	Form    WebhookForm
	Editing *qwoty.WebhookSubscription
	// Secret is a secret just made (created or rotated), for the
	// subscription SecretFor: shown this once.
	Secret    string
	SecretFor string
	// Development accepts http and loopback URLs.
	Development bool
	// The delivery log, filtered; NextCursor pages to older ones.
	Deliveries []qwoty.WebhookDelivery
	Log        WebhookLogFilter
	NextCursor string
}

// WebhookForm is a subscription's form as text.
type WebhookForm struct {
	URL, Description, CustomerID string
	EventTypes, Statuses         []string
	Enabled                      bool
}

// WebhookLogFilter is the delivery log's filter as the query gave it.
type WebhookLogFilter struct {
	Subscription, State, EventType string
}

// Filtered says whether the log is filtered.
func (f WebhookLogFilter) Filtered() bool { return f != WebhookLogFilter{} }

// WebhookFormOf is s's form.
func WebhookFormOf(s qwoty.WebhookSubscription) WebhookForm {
	f := WebhookForm{URL: s.URL, Description: s.Description, CustomerID: s.CustomerID, Enabled: s.Enabled}
	for _, t := range s.EventTypes {
		f.EventTypes = append(f.EventTypes, string(t))
	}
	for _, st := range s.Statuses {
		f.Statuses = append(f.Statuses, string(st))
	}
	return f
}

func webhooksPath(p qwoty.Provider, rest string) string { return crmPath(p, "webhooks") + rest }

func webhookFormAction(v WebhooksView) string {
	if v.Editing != nil {
		return webhooksPath(v.Provider, "/"+v.Editing.ID)
	}
	return webhooksPath(v.Provider, "")
}

func eventTypeNames(ts []qwoty.EventType) string {
	out := ""
	for i, t := range ts {
		if i > 0 {
			out += ", "
		}
		out += string(t)
	}
	return out
}

func statusNames(ss []qwoty.Status) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ", "
		}
		out += string(s)
	}
	return out
}

func deliveryStateLabel(s qwoty.WebhookDeliveryState) string {
	switch s {
	case qwoty.DeliverySucceeded:
		return "Delivered"
	case qwoty.DeliveryFailed:
		return "Failed"
	}
	return "Pending"
}

// deliveryStateClass is the outcome class the sync log's styles colour.
func deliveryStateClass(s qwoty.WebhookDeliveryState) string {
	switch s {
	case qwoty.DeliverySucceeded:
		return "synced"
	case qwoty.DeliveryFailed:
		return "failed"
	}
	return "retrying"
}

// subscriptionHost is a subscription's URL for the log's filter.
func subscriptionLabel(s qwoty.WebhookSubscription) string {
	if s.Description != "" {
		return s.Description
	}
	return s.URL
}

var webhookDeliveryStates = []qwoty.WebhookDeliveryState{qwoty.DeliveryPending, qwoty.DeliverySucceeded, qwoty.DeliveryFailed}
