package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/webhooks"
)

// Webhooks (docs/api.md, "Webhooks"): subscriptions of the key's CRM
// account, their secrets, the delivery log and redelivery. Scope
// webhooks:manage.

// Subscription is a webhook subscription as the API shows it.
type Subscription struct {
	ID          string            `json:"id" format:"uuid"`
	URL         string            `json:"url"`
	Description string            `json:"description"`
	EventTypes  []qwoty.EventType `json:"eventTypes"`
	Filters     Filters           `json:"filters"`
	Enabled     bool              `json:"enabled"`
	// DisabledReason says why Qwoty disabled it.
	DisabledReason string     `json:"disabledReason,omitempty"`
	FailingSince   *time.Time `json:"failingSince,omitempty"`
	RotationEndsAt *time.Time `json:"rotationEndsAt,omitempty" doc:"While set, the previous secret signs too (a second signature) until then."`
	CreatedAt      time.Time  `json:"createdAt"`
	UpdatedAt      time.Time  `json:"updatedAt"`
}

// Filters narrow a subscription's events.
type Filters struct {
	Statuses   []qwoty.Status `json:"statuses,omitempty" doc:"Only quote events of quotes in these statuses." enum:"draft,sent,viewed,accepted,rejected,expired"`
	CustomerID string         `json:"customerId,omitempty" doc:"Only events of this customer and its quotes." maxLength:"100"`
}

// SubscriptionInput is what a client sets of a subscription.
type SubscriptionInput struct {
	URL         string            `json:"url" maxLength:"2000" doc:"Where deliveries are posted: https, public."`
	Description string            `json:"description,omitempty" maxLength:"200"`
	EventTypes  []qwoty.EventType `json:"eventTypes" minItems:"1" enum:"quote.created,quote.updated,quote.sent,quote.viewed,quote.accepted,quote.rejected,quote.expired,quote.deleted,customer.created,customer.updated,order.created,order.updated,sync.failed"`
	Filters     Filters           `json:"filters,omitempty"`
	Enabled     *bool             `json:"enabled,omitempty" doc:"Default true."`
}

func (in SubscriptionInput) store() store.WebhookSubscriptionInput {
	return store.WebhookSubscriptionInput{URL: in.URL, Description: in.Description, Enabled: in.Enabled == nil || *in.Enabled,
		WebhookFilter: qwoty.WebhookFilter{EventTypes: in.EventTypes, Statuses: in.Filters.Statuses, CustomerID: in.Filters.CustomerID}}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func subscriptionOf(s *qwoty.WebhookSubscription) Subscription {
	return Subscription{ID: s.ID, URL: s.URL, Description: s.Description, EventTypes: s.EventTypes,
		Filters: Filters{Statuses: s.Statuses, CustomerID: s.CustomerID}, Enabled: s.Enabled, DisabledReason: s.DisabledReason,
		FailingSince: timePtr(s.FailingSince), RotationEndsAt: timePtr(s.RotationEndsAt), CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

// SubscriptionWithSecret is a subscription with its signing secret, shown
// once: at creation and at rotation.
type SubscriptionWithSecret struct {
	Subscription
	Secret string `json:"secret" doc:"whsec_ and the key in base64: keep it, it is not shown again."`
}

// Delivery is one event sent to one subscription; its id is the
// webhook-id header of every attempt.
type Delivery struct {
	ID             string                     `json:"id" format:"uuid"`
	SubscriptionID string                     `json:"subscriptionId" format:"uuid"`
	EventID        string                     `json:"eventId" format:"uuid"`
	EventType      qwoty.EventType            `json:"eventType"`
	State          qwoty.WebhookDeliveryState `json:"state" enum:"pending,succeeded,failed"`
	Attempts       int                        `json:"attempts"`
	StatusCode     int                        `json:"statusCode,omitempty" doc:"The last attempt's HTTP status, absent when none came."`
	Response       string                     `json:"response,omitempty" doc:"The start of the last answer (1 KiB)."`
	DurationMS     int                        `json:"durationMs"`
	Error          string                     `json:"error,omitempty"`
	NextAttemptAt  *time.Time                 `json:"nextAttemptAt,omitempty"`
	CreatedAt      time.Time                  `json:"createdAt"`
	UpdatedAt      time.Time                  `json:"updatedAt"`
	DeliveredAt    *time.Time                 `json:"deliveredAt,omitempty"`
	AttemptLog     []Attempt                  `json:"attemptLog,omitempty" doc:"Every attempt (one delivery's read only)."`
}

// Attempt is one attempt of a delivery.
type Attempt struct {
	Attempt    int       `json:"attempt"`
	StatusCode int       `json:"statusCode,omitempty"`
	Response   string    `json:"response,omitempty"`
	DurationMS int       `json:"durationMs"`
	Error      string    `json:"error,omitempty"`
	At         time.Time `json:"at"`
}

func deliveryOf(d *qwoty.WebhookDelivery) Delivery {
	return Delivery{ID: d.ID, SubscriptionID: d.SubscriptionID, EventID: d.EventID, EventType: d.EventType, State: d.State,
		Attempts: d.Attempts, StatusCode: d.StatusCode, Response: d.Response, DurationMS: d.DurationMS, Error: d.Error,
		NextAttemptAt: timePtr(d.NextAttempt), CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, DeliveredAt: timePtr(d.DeliveredAt)}
}

type idPath struct {
	ID string `path:"id" format:"uuid"`
}

type subscriptionsOut struct {
	Body struct {
		Data []Subscription `json:"data"`
	}
}

type subscriptionOut struct{ Body Subscription }

type secretOut struct{ Body SubscriptionWithSecret }

type subscriptionIn struct{ Body SubscriptionInput }

type subscriptionUpdateIn struct {
	ID   string `path:"id" format:"uuid"`
	Body SubscriptionInput
}

type deliveriesIn struct {
	SubscriptionID string    `query:"subscriptionId" format:"uuid" doc:"Only this subscription's."`
	State          string    `query:"state" enum:"pending,succeeded,failed"`
	EventType      string    `query:"eventType" enum:"quote.created,quote.updated,quote.sent,quote.viewed,quote.accepted,quote.rejected,quote.expired,quote.deleted,customer.created,customer.updated,order.created,order.updated,sync.failed,webhook.test"`
	CreatedAfter   time.Time `query:"createdAfter" doc:"Only deliveries made at or after this time (RFC 3339)."`
	Cursor         string    `query:"cursor" format:"uuid" doc:"nextCursor of the previous page."`
	Limit          int       `query:"limit" minimum:"1" maximum:"100" default:"50"`
}

type deliveriesOut struct {
	Body struct {
		Data       []Delivery `json:"data"`
		NextCursor string     `json:"nextCursor,omitempty" doc:"Give it as cursor for the next (older) page; absent on the last."`
	}
}

type deliveryOut struct{ Body Delivery }

type testEventOut struct {
	Body struct {
		DeliveryID string `json:"deliveryId" format:"uuid" doc:"The test event's delivery: its webhook-id, and its entry in the delivery log."`
	}
}

type redeliverFailedIn struct {
	Body *struct {
		SubscriptionID string `json:"subscriptionId,omitempty" format:"uuid" doc:"Only this subscription's failed deliveries."`
	} `required:"false"`
}

type redeliverFailedOut struct {
	Body struct {
		Redelivered int `json:"redelivered" doc:"How many failed deliveries are sent again (1000 at most a call)."`
	}
}

// registerWebhooks registers the webhooks' operations.
func (a *API) registerWebhooks() {
	sec := Secured(qwoty.ScopeWebhooksManage)
	tags := []string{"Webhooks"}
	policy := webhooks.Policy{Development: !a.prod}
	huma.Register(a.h, huma.Operation{OperationID: "list-webhook-subscriptions", Method: http.MethodGet, Path: "/webhooks/subscriptions",
		Summary: "List webhook subscriptions", Security: sec, Tags: tags},
		func(ctx context.Context, _ *struct{}) (*subscriptionsOut, error) {
			k := KeyOf(ctx)
			ss, err := a.db.WebhookSubscriptions(ctx, k.WorkspaceID, k.ConnectionID)
			if err != nil {
				return nil, err
			}
			out := &subscriptionsOut{}
			out.Body.Data = make([]Subscription, len(ss))
			for i := range ss {
				out.Body.Data[i] = subscriptionOf(&ss[i])
			}
			return out, nil
		})
	huma.Register(a.h, huma.Operation{OperationID: "create-webhook-subscription", Method: http.MethodPost, Path: "/webhooks/subscriptions",
		Summary: "Create a webhook subscription", Description: "The answer holds the signing secret, shown this once.",
		Security: sec, Tags: tags, DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *subscriptionIn) (*secretOut, error) {
			k := KeyOf(ctx)
			s, secret, err := policy.Create(ctx, a.db, k.WorkspaceID, k.ConnectionID, "api key "+k.Prefix, in.Body.store())
			if err != nil {
				return nil, err
			}
			return &secretOut{Body: SubscriptionWithSecret{Subscription: subscriptionOf(s), Secret: secret}}, nil
		})
	huma.Register(a.h, huma.Operation{OperationID: "get-webhook-subscription", Method: http.MethodGet, Path: "/webhooks/subscriptions/{id}",
		Summary: "Get a webhook subscription", Security: sec, Tags: tags},
		func(ctx context.Context, in *idPath) (*subscriptionOut, error) {
			k := KeyOf(ctx)
			s, err := a.db.WebhookSubscription(ctx, k.WorkspaceID, k.ConnectionID, in.ID)
			if err != nil {
				return nil, err
			}
			return &subscriptionOut{Body: subscriptionOf(s)}, nil
		})
	huma.Register(a.h, huma.Operation{OperationID: "replace-webhook-subscription", Method: http.MethodPut, Path: "/webhooks/subscriptions/{id}",
		Summary: "Replace a webhook subscription's settings", Description: "Enabling a subscription Qwoty disabled starts it again; its failed deliveries can then be redelivered.",
		Security: sec, Tags: tags},
		func(ctx context.Context, in *subscriptionUpdateIn) (*subscriptionOut, error) {
			k := KeyOf(ctx)
			s, err := policy.Update(ctx, a.db, k.WorkspaceID, k.ConnectionID, in.ID, in.Body.store())
			if err != nil {
				return nil, err
			}
			return &subscriptionOut{Body: subscriptionOf(s)}, nil
		})
	huma.Register(a.h, huma.Operation{OperationID: "delete-webhook-subscription", Method: http.MethodDelete, Path: "/webhooks/subscriptions/{id}",
		Summary: "Delete a webhook subscription", Description: "Its deliveries go with it; pending ones are not sent.",
		Security: sec, Tags: tags, DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, in *idPath) (*struct{}, error) {
			k := KeyOf(ctx)
			return nil, a.db.DeleteWebhookSubscription(ctx, k.WorkspaceID, k.ConnectionID, in.ID)
		})
	huma.Register(a.h, huma.Operation{OperationID: "rotate-webhook-secret", Method: http.MethodPost, Path: "/webhooks/subscriptions/{id}/rotate-secret",
		Summary: "Rotate a subscription's signing secret",
		Description: "The answer holds the new secret, shown this once. For 24 hours deliveries carry two signatures, " +
			"the new secret's and the old one's, so that receivers can switch without missing one.",
		Security: sec, Tags: tags},
		func(ctx context.Context, in *idPath) (*secretOut, error) {
			k := KeyOf(ctx)
			s, secret, err := webhooks.Rotate(ctx, a.db, k.WorkspaceID, k.ConnectionID, in.ID)
			if err != nil {
				return nil, err
			}
			return &secretOut{Body: SubscriptionWithSecret{Subscription: subscriptionOf(s), Secret: secret}}, nil
		})
	huma.Register(a.h, huma.Operation{OperationID: "send-webhook-test-event", Method: http.MethodPost, Path: "/webhooks/subscriptions/{id}/test",
		Summary: "Send a test event to a subscription",
		Description: "A webhook.test event, whatever the subscription's filters, sent as every event is: signed, retried, " +
			"in the delivery log. A disabled subscription is refused (validation_failed).",
		Security: sec, Tags: tags, DefaultStatus: http.StatusAccepted},
		func(ctx context.Context, in *idPath) (*testEventOut, error) {
			k := KeyOf(ctx)
			id, err := a.db.SendTestEvent(ctx, k.WorkspaceID, k.ConnectionID, in.ID)
			if err != nil {
				return nil, err
			}
			out := &testEventOut{}
			out.Body.DeliveryID = id
			return out, nil
		})
	huma.Register(a.h, huma.Operation{OperationID: "list-webhook-deliveries", Method: http.MethodGet, Path: "/webhooks/deliveries",
		Summary: "List webhook deliveries (the delivery log)", Description: "Newest first, with each one's last attempt.",
		Security: sec, Tags: tags},
		func(ctx context.Context, in *deliveriesIn) (*deliveriesOut, error) {
			k := KeyOf(ctx)
			ds, more, err := a.db.WebhookDeliveries(ctx, k.WorkspaceID, k.ConnectionID, store.WebhookDeliveryFilter{
				SubscriptionID: in.SubscriptionID, State: qwoty.WebhookDeliveryState(in.State), EventType: qwoty.EventType(in.EventType),
				Since: in.CreatedAfter, After: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, err
			}
			out := &deliveriesOut{}
			out.Body.Data = make([]Delivery, len(ds))
			for i := range ds {
				out.Body.Data[i] = deliveryOf(&ds[i])
			}
			if more {
				out.Body.NextCursor = ds[len(ds)-1].ID
			}
			return out, nil
		})
	huma.Register(a.h, huma.Operation{OperationID: "get-webhook-delivery", Method: http.MethodGet, Path: "/webhooks/deliveries/{id}",
		Summary: "Get a webhook delivery with its attempts", Security: sec, Tags: tags},
		func(ctx context.Context, in *idPath) (*deliveryOut, error) {
			k := KeyOf(ctx)
			d, as, err := a.db.WebhookDelivery(ctx, k.WorkspaceID, k.ConnectionID, in.ID)
			if err != nil {
				return nil, err
			}
			out := &deliveryOut{Body: deliveryOf(d)}
			for _, x := range as {
				out.Body.AttemptLog = append(out.Body.AttemptLog, Attempt(x))
			}
			return out, nil
		})
	huma.Register(a.h, huma.Operation{OperationID: "redeliver-webhook", Method: http.MethodPost, Path: "/webhooks/deliveries/{id}/redeliver",
		Summary: "Send a delivery again", Description: "With the same webhook-id. A delivery still pending is refused (webhook_delivery_pending).",
		Security: sec, Tags: tags, DefaultStatus: http.StatusAccepted},
		func(ctx context.Context, in *idPath) (*struct{}, error) {
			k := KeyOf(ctx)
			return nil, a.db.RedeliverWebhook(ctx, k.WorkspaceID, k.ConnectionID, in.ID)
		})
	huma.Register(a.h, huma.Operation{OperationID: "redeliver-failed-webhooks", Method: http.MethodPost, Path: "/webhooks/deliveries/redeliver-failed",
		Summary: "Send every failed delivery again", Description: "The oldest 1000 at most per call; call again for more.",
		Security: sec, Tags: tags, DefaultStatus: http.StatusAccepted},
		func(ctx context.Context, in *redeliverFailedIn) (*redeliverFailedOut, error) {
			k := KeyOf(ctx)
			sub := ""
			if in.Body != nil && in.Body.SubscriptionID != "" {
				sub = in.Body.SubscriptionID
				if _, err := a.db.WebhookSubscription(ctx, k.WorkspaceID, k.ConnectionID, sub); err != nil {
					return nil, err
				}
			}
			n, err := a.db.RedeliverFailedWebhooks(ctx, k.WorkspaceID, k.ConnectionID, sub)
			if err != nil {
				return nil, err
			}
			out := &redeliverFailedOut{}
			out.Body.Redelivered = n
			return out, nil
		})
}
