package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/qwoty"
)

// Webhook subscriptions of a workspace's CRM account (docs/api.md,
// "Webhooks"). Each has its signing secret, sealed with the keyring; the
// secret is returned in clear only when it is made (created, rotated).

const subscriptionColumns = `id, workspace_id, connection_id, url, description, event_types, filter_statuses, filter_customer_id,
	enabled, disabled_reason, coalesce(failing_since, 'epoch'),
	CASE WHEN previous_expires_at > now() THEN previous_expires_at ELSE 'epoch' END,
	created_by, created_at, updated_at`

func scanSubscription(row pgx.CollectableRow) (qwoty.WebhookSubscription, error) {
	var s qwoty.WebhookSubscription
	var types, statuses []string
	err := row.Scan(&s.ID, &s.WorkspaceID, &s.ConnectionID, &s.URL, &s.Description, &types, &statuses, &s.CustomerID,
		&s.Enabled, &s.DisabledReason, &s.FailingSince, &s.RotationEndsAt, &s.CreatedBy, &s.CreatedAt, &s.UpdatedAt)
	for _, t := range types {
		s.EventTypes = append(s.EventTypes, qwoty.EventType(t))
	}
	for _, st := range statuses {
		s.Statuses = append(s.Statuses, qwoty.Status(st))
	}
	if s.FailingSince.Unix() == 0 {
		s.FailingSince = time.Time{}
	}
	if s.RotationEndsAt.Unix() == 0 {
		s.RotationEndsAt = time.Time{}
	}
	return s, err
}

func subscriptionNotFound(id string) error {
	return &qwoty.Error{Code: qwoty.CodeNotFound, Message: fmt.Sprintf("webhook subscription %s was not found", id),
		Hint: "List the subscriptions to find its id.", Err: qwoty.ErrNotFound}
}

func subscriptionAAD(id string) []byte { return []byte("webhook_subscriptions/" + id + "/secret") }
func previousAAD(id string) []byte {
	return []byte("webhook_subscriptions/" + id + "/previous_secret")
}

// WebhookSubscriptionInput is what an admin sets of a subscription, checked
// by the caller (qwoty.CheckWebhookFilter, webhooks.Policy.CheckURL).
type WebhookSubscriptionInput struct {
	qwoty.WebhookFilter
	URL         string
	Description string
	Enabled     bool
}

func eventTypeNames(ts []qwoty.EventType) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}

func statusNames(ss []qwoty.Status) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

// CreateWebhookSubscription creates a subscription of the workspace's
// connection with secret (webhooks.NewSecret), sealed. A connection has at
// most qwoty.MaxWebhookSubscriptions.
func (db *DB) CreateWebhookSubscription(ctx context.Context, workspaceID, connectionID, by string, in WebhookSubscriptionInput, secret string) (*qwoty.WebhookSubscription, error) {
	id := newID()
	sealed, err := db.keys.Seal([]byte(secret), subscriptionAAD(id))
	if err != nil {
		return nil, fmt.Errorf("store: create webhook subscription: %w", err)
	}
	var out *qwoty.WebhookSubscription
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		// The connection's row lock serialises creations: the count holds.
		var n int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM webhook_subscriptions WHERE workspace_id = $1 AND connection_id = $2)
			FROM connections WHERE id = $2 AND workspace_id = $1 FOR UPDATE`, workspaceID, connectionID).Scan(&n); err != nil {
			return err
		}
		if n >= qwoty.MaxWebhookSubscriptions {
			return &qwoty.Error{Code: qwoty.CodeValidation, Message: fmt.Sprintf("a CRM account has at most %d webhook subscriptions", qwoty.MaxWebhookSubscriptions),
				Hint: "Delete one you no longer use, or subscribe one URL to more event types."}
		}
		rows, err := tx.Query(ctx, `INSERT INTO webhook_subscriptions (id, workspace_id, connection_id, url, description, event_types,
				filter_statuses, filter_customer_id, secret, enabled, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING `+subscriptionColumns,
			id, workspaceID, connectionID, in.URL, in.Description, eventTypeNames(in.EventTypes), statusNames(in.Statuses),
			in.CustomerID, sealed, in.Enabled, by)
		if err != nil {
			return err
		}
		s, err := pgx.CollectExactlyOneRow(rows, scanSubscription)
		out = &s
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: create webhook subscription: %w", err)
	}
	return out, nil
}

// WebhookSubscriptions lists the connection's subscriptions, oldest first.
func (db *DB) WebhookSubscriptions(ctx context.Context, workspaceID, connectionID string) ([]qwoty.WebhookSubscription, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+subscriptionColumns+` FROM webhook_subscriptions
		WHERE workspace_id = $1 AND connection_id = $2 ORDER BY created_at, id`, workspaceID, connectionID)
	if err != nil {
		return nil, fmt.Errorf("store: webhook subscriptions: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanSubscription)
	if err != nil {
		return nil, fmt.Errorf("store: webhook subscriptions: %w", err)
	}
	return out, nil
}

// WebhookSubscription returns one subscription of the connection.
func (db *DB) WebhookSubscription(ctx context.Context, workspaceID, connectionID, id string) (*qwoty.WebhookSubscription, error) {
	if !validID(id) {
		return nil, subscriptionNotFound(id)
	}
	rows, err := db.pool.Query(ctx, `SELECT `+subscriptionColumns+` FROM webhook_subscriptions
		WHERE id = $1 AND workspace_id = $2 AND connection_id = $3`, id, workspaceID, connectionID)
	if err != nil {
		return nil, fmt.Errorf("store: webhook subscription %s: %w", id, err)
	}
	s, err := pgx.CollectExactlyOneRow(rows, scanSubscription)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, subscriptionNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: webhook subscription %s: %w", id, err)
	}
	return &s, nil
}

// UpdateWebhookSubscription replaces what an admin sets of a
// subscription. Enabling it again clears why it was disabled and its
// failing streak.
func (db *DB) UpdateWebhookSubscription(ctx context.Context, workspaceID, connectionID, id string, in WebhookSubscriptionInput) (*qwoty.WebhookSubscription, error) {
	if !validID(id) {
		return nil, subscriptionNotFound(id)
	}
	rows, err := db.pool.Query(ctx, `UPDATE webhook_subscriptions SET url = $4, description = $5, event_types = $6,
			filter_statuses = $7, filter_customer_id = $8,
			disabled_reason = CASE WHEN $9 THEN '' ELSE disabled_reason END,
			failing_since = CASE WHEN $9 AND NOT enabled THEN NULL ELSE failing_since END,
			enabled = $9, updated_at = now()
		WHERE id = $1 AND workspace_id = $2 AND connection_id = $3 RETURNING `+subscriptionColumns,
		id, workspaceID, connectionID, in.URL, in.Description, eventTypeNames(in.EventTypes), statusNames(in.Statuses),
		in.CustomerID, in.Enabled)
	if err != nil {
		return nil, fmt.Errorf("store: update webhook subscription %s: %w", id, err)
	}
	s, err := pgx.CollectExactlyOneRow(rows, scanSubscription)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, subscriptionNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: update webhook subscription %s: %w", id, err)
	}
	return &s, nil
}

// DeleteWebhookSubscription deletes a subscription with its deliveries
// (pending ones are not sent: their jobs find nothing).
func (db *DB) DeleteWebhookSubscription(ctx context.Context, workspaceID, connectionID, id string) error {
	if !validID(id) {
		return subscriptionNotFound(id)
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM webhook_subscriptions WHERE id = $1 AND workspace_id = $2 AND connection_id = $3`,
		id, workspaceID, connectionID)
	if err != nil {
		return fmt.Errorf("store: delete webhook subscription %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return subscriptionNotFound(id)
	}
	return nil
}

// TestEventData is the data of a test event.
type TestEventData struct {
	SubscriptionID string `json:"subscriptionId"`
	Message        string `json:"message"`
}

// SendTestEvent sends a webhook.test event to one subscription, whatever
// its filters, as any event is sent (signed, retried, in the delivery
// log), and returns its delivery's id. A disabled subscription is refused.
func (db *DB) SendTestEvent(ctx context.Context, workspaceID, connectionID, id string) (string, error) {
	if !validID(id) {
		return "", subscriptionNotFound(id)
	}
	body, err := json.Marshal(eventBody{Type: qwoty.EventWebhookTest, Timestamp: db.now().UTC().Truncate(time.Millisecond),
		Data: TestEventData{SubscriptionID: id, Message: "A test event sent from Qwoty."}})
	if err != nil {
		return "", fmt.Errorf("store: test event: %w", err)
	}
	var delivery *string
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		// One statement: the subscription, and its event and delivery
		// when it is enabled.
		var enabled bool
		err := tx.QueryRow(ctx, `WITH s AS (
				SELECT id, enabled FROM webhook_subscriptions WHERE id = $1 AND workspace_id = $2 AND connection_id = $3),
			e AS (
				INSERT INTO webhook_events (workspace_id, connection_id, type, subject, payload)
				SELECT $2, $3, $4, $1, $5 FROM s WHERE s.enabled RETURNING id),
			d AS (
				INSERT INTO event_deliveries (event_id, subscription_id, workspace_id, connection_id, event_type)
				SELECT e.id, $1::uuid, $2, $3, $4 FROM e RETURNING id)
			SELECT s.enabled, (SELECT id::text FROM d) FROM s`,
			id, workspaceID, connectionID, string(qwoty.EventWebhookTest), body).Scan(&enabled, &delivery)
		if errors.Is(err, pgx.ErrNoRows) {
			return subscriptionNotFound(id)
		}
		if err != nil {
			return err
		}
		if !enabled || delivery == nil {
			return qwoty.Errorf(qwoty.CodeValidation, "Enable the subscription, then send the test event again.",
				"webhook subscription %s is disabled: nothing is sent to it", id)
		}
		return db.insertDrains(ctx, tx, []string{id})
	})
	if err != nil {
		return "", fmt.Errorf("store: test event to webhook subscription %s: %w", id, err)
	}
	return *delivery, nil
}

// RotateWebhookSecret makes secret the subscription's signing secret; the
// current one keeps signing beside it for qwoty.WebhookRotationOverlap
// (deliveries carry both signatures), so that receivers can switch
// without losing one. Rotating again during an overlap ends the older
// secret's at once.
func (db *DB) RotateWebhookSecret(ctx context.Context, workspaceID, connectionID, id, secret string) (*qwoty.WebhookSubscription, error) {
	if !validID(id) {
		return nil, subscriptionNotFound(id)
	}
	var out *qwoty.WebhookSubscription
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var cur []byte
		err := tx.QueryRow(ctx, `SELECT secret FROM webhook_subscriptions WHERE id = $1 AND workspace_id = $2 AND connection_id = $3 FOR UPDATE`,
			id, workspaceID, connectionID).Scan(&cur)
		if errors.Is(err, pgx.ErrNoRows) {
			return subscriptionNotFound(id)
		}
		if err != nil {
			return err
		}
		plain, err := db.keys.Open(cur, subscriptionAAD(id))
		if err != nil {
			return err
		}
		prev, err := db.keys.Seal(plain, previousAAD(id))
		if err != nil {
			return err
		}
		next, err := db.keys.Seal([]byte(secret), subscriptionAAD(id))
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `UPDATE webhook_subscriptions SET secret = $2, previous_secret = $3,
				previous_expires_at = $4, updated_at = now() WHERE id = $1 RETURNING `+subscriptionColumns,
			id, next, prev, db.now().Add(qwoty.WebhookRotationOverlap))
		if err != nil {
			return err
		}
		s, err := pgx.CollectExactlyOneRow(rows, scanSubscription)
		out = &s
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: rotate the secret of webhook subscription %s: %w", id, err)
	}
	return out, nil
}
