package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
)

// Event is a change that webhook subscriptions may be told of.
type Event struct {
	WorkspaceID  string
	ConnectionID string
	Type         qwoty.EventType
	// Subject is the id of what changed (a quote's, a customer's).
	Subject string
	// Data is the event's payload (the resource as the API shows it),
	// marshalled to JSON.
	Data any
	// Status is the quote's status after the change, "" for an event
	// that is not about a quote; CustomerID the customer it is about
	// (the quote's), "" for none. Subscriptions filter on both.
	Status     qwoty.Status
	CustomerID string
}

// eventBody is what a delivery posts, as the Standard Webhooks
// specification shapes it: the type, when it happened, and the data.
type eventBody struct {
	Type      qwoty.EventType `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      any             `json:"data"`
}

// emitEvent records e in tx, the transaction of the change itself, so an
// event is sent if and only if its change is committed. Every write that
// makes an event calls it (the card's, the API's, the sync's).
//
// An event that no enabled subscription of its connection wants costs one
// indexed query and writes nothing. Otherwise the event row holds the body
// to send, and each subscription that wants it gets a delivery (its id is
// the webhook-id of every attempt) and a drain job (jobs.WebhookDrain,
// unique per subscription and second), inserted in tx: two statements in
// all.
func (db *DB) emitEvent(ctx context.Context, tx pgx.Tx, e Event) error {
	body, err := json.Marshal(eventBody{Type: e.Type, Timestamp: db.now().UTC().Truncate(time.Millisecond), Data: e.Data})
	if err != nil {
		return fmt.Errorf("event %s: payload: %w", e.Type, err)
	}
	// One statement: the subscriptions that want the event, the event row
	// when there is one, and a delivery for each.
	rows, err := tx.Query(ctx, `WITH s AS (
			SELECT id FROM webhook_subscriptions
			WHERE workspace_id = $1 AND connection_id = $2 AND enabled AND $3 = ANY(event_types)
				AND (cardinality(filter_statuses) = 0 OR $4 = '' OR $4 = ANY(filter_statuses))
				AND (filter_customer_id = '' OR filter_customer_id = $5)),
		e AS (
			INSERT INTO webhook_events (workspace_id, connection_id, type, subject, payload)
			SELECT $1, $2, $3, $6, $7 WHERE EXISTS (SELECT 1 FROM s) RETURNING id)
		INSERT INTO event_deliveries (event_id, subscription_id, workspace_id, connection_id, event_type)
		SELECT e.id, s.id, $1, $2, $3 FROM e, s RETURNING subscription_id::text`,
		e.WorkspaceID, e.ConnectionID, string(e.Type), string(e.Status), e.CustomerID, e.Subject, body)
	if err != nil {
		return fmt.Errorf("event %s: %w", e.Type, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("event %s: %w", e.Type, err)
	}
	if len(ids) == 0 {
		return nil
	}
	return db.insertDrains(ctx, tx, ids)
}

// insertDrains inserts a drain job (jobs.WebhookDrain) for each of the
// subscriptions in tx; one already queued this second takes the new
// deliveries too.
//
// A job is unique per subscription and second, and River's unique insert
// locks the job it finds until the inserting transaction ends: every
// event of a busy subscription would queue behind the one before. So an
// instance inserts a subscription's job once a second at most, and a
// later event of the same second counts on that job (it drains every
// delivery made before its second ends and lingers a second more,
// webhooks/deliver.go). Should the transaction that inserted it roll
// back, the next second's job or the sweep (a few seconds) sends what
// this second's events left.
func (db *DB) insertDrains(ctx context.Context, tx pgx.Tx, subscriptionIDs []string) error {
	sec := db.now().Unix()
	seen := make(map[string]bool, len(subscriptionIDs))
	params := make([]river.InsertManyParams, 0, len(subscriptionIDs))
	for _, id := range subscriptionIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		if last, ok := db.drains.Swap(id, sec); ok && last.(int64) == sec {
			continue
		}
		params = append(params, river.InsertManyParams{Args: jobs.WebhookDrain{SubscriptionID: id}})
	}
	if len(params) == 0 {
		return nil
	}
	if _, err := db.jobs.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("insert webhook drain jobs: %w", err)
	}
	return nil
}

// QuoteEventData is the data of a quote's events.
type QuoteEventData struct {
	ID          string       `json:"id"`
	Number      string       `json:"number"`
	Title       string       `json:"title"`
	Status      qwoty.Status `json:"status"`
	Currency    string       `json:"currency"`
	Subtotal    string       `json:"subtotal"`
	Discount    string       `json:"discount"`
	Tax         string       `json:"tax"`
	Total       string       `json:"total"`
	CustomerID  string       `json:"customerId,omitempty"`
	CRMRecordID string       `json:"crmRecordId"`
	ExternalRef string       `json:"externalRef,omitempty"`
	Primary     bool         `json:"primary"`
	Version     int          `json:"version"`
	CreatedAt   time.Time    `json:"createdAt"`
	UpdatedAt   time.Time    `json:"updatedAt"`
}

// quoteEvent is the event t of quote q.
func quoteEvent(t qwoty.EventType, q *qwoty.Quote) Event {
	return Event{WorkspaceID: q.WorkspaceID, ConnectionID: q.ConnectionID, Type: t, Subject: q.ID, Status: q.Status,
		CustomerID: q.CustomerID, Data: QuoteEventData{ID: q.ID, Number: q.Number, Title: q.Title, Status: q.Status,
			Currency: q.Currency, Subtotal: q.Totals.Subtotal.String(), Discount: q.Totals.Discount.String(),
			Tax: q.Totals.Tax.String(), Total: q.Totals.Total.String(), CustomerID: q.CustomerID,
			CRMRecordID: q.CRMRecordID, ExternalRef: q.ExternalRef, Primary: q.Primary, Version: q.Version, CreatedAt: q.CreatedAt, UpdatedAt: q.UpdatedAt}}
}

// emitQuoteEvents emits the events of a quote's change: created (was
// nil) or updated, and the event of its new status when it changed.
func (db *DB) emitQuoteEvents(ctx context.Context, tx pgx.Tx, was, q *qwoty.Quote) error {
	if was == nil {
		return db.emitEvent(ctx, tx, quoteEvent(qwoty.EventQuoteCreated, q))
	}
	if err := db.emitEvent(ctx, tx, quoteEvent(qwoty.EventQuoteUpdated, q)); err != nil {
		return err
	}
	if q.Status != was.Status {
		if t := qwoty.StatusEvent(q.Status); t != "" {
			return db.emitEvent(ctx, tx, quoteEvent(t, q))
		}
	}
	return nil
}
