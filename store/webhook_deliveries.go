package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/qwoty"
)

// Webhook deliveries: what the delivery worker reads and records, and the
// delivery log an admin reads, filters and redelivers from.

// WebhookTarget is what sending to a subscription needs: its URL and
// state as they are now, and the secrets that sign.
type WebhookTarget struct {
	SubscriptionID string
	WorkspaceID    string
	ConnectionID   string
	URL            string
	Enabled        bool
	// Secrets sign the request: the current one, and the previous one
	// during a rotation's overlap.
	Secrets []string
}

// WebhookTargetOf reads subscription id for sending; a deleted one is not
// found (qwoty.ErrNotFound).
func (db *DB) WebhookTargetOf(ctx context.Context, id string) (*WebhookTarget, error) {
	var t WebhookTarget
	var cur, prev []byte
	err := db.pool.QueryRow(ctx, `SELECT id, workspace_id, connection_id, url, enabled, secret,
			CASE WHEN previous_expires_at > now() THEN previous_secret END
		FROM webhook_subscriptions WHERE id = $1`, id).Scan(&t.SubscriptionID, &t.WorkspaceID, &t.ConnectionID, &t.URL, &t.Enabled, &cur, &prev)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("store: webhook subscription %s: %w", id, qwoty.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: webhook subscription %s: %w", id, err)
	}
	plain, err := db.keys.Open(cur, subscriptionAAD(t.SubscriptionID))
	if err != nil {
		return nil, fmt.Errorf("store: webhook subscription %s: secret: %w", id, err)
	}
	t.Secrets = append(t.Secrets, string(plain))
	if prev != nil {
		old, err := db.keys.Open(prev, previousAAD(t.SubscriptionID))
		if err != nil {
			return nil, fmt.Errorf("store: webhook subscription %s: previous secret: %w", id, err)
		}
		t.Secrets = append(t.Secrets, string(old))
	}
	return &t, nil
}

// LeasedDelivery is a delivery a drain job holds, with the body to send.
type LeasedDelivery struct {
	DeliveryID string
	EventType  qwoty.EventType
	// Tries are the attempts of the delivery's current round so far.
	Tries int
	Body  []byte
}

// LeaseWebhooks takes up to max of a subscription's due deliveries, oldest
// first, for lease: pending ones whose time has come that no worker holds
// (or whose worker's lease ran out). New deliveries are taken only when
// made before cutoff (the drain job's own second, jobs.WebhookDrain):
// later ones have a job of their own; retries are taken by any job.
// Deliveries another worker is leasing are skipped, not waited for.
func (db *DB) LeaseWebhooks(ctx context.Context, subscriptionID string, max int, cutoff time.Time, lease time.Duration) ([]LeasedDelivery, error) {
	rows, err := db.pool.Query(ctx, `WITH due AS MATERIALIZED (
			SELECT id FROM event_deliveries
			WHERE subscription_id = $1 AND state = 'pending' AND next_attempt_at <= now()
				AND (lease_until IS NULL OR lease_until < now()) AND (tries > 0 OR created_at < $3)
			ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
		UPDATE event_deliveries d SET lease_until = now() + $4 * interval '1 millisecond'
		FROM due, webhook_events e
		WHERE d.id = due.id AND e.id = d.event_id
		RETURNING d.id, d.event_type, d.tries, e.payload`, subscriptionID, max, cutoff, lease.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("store: lease webhook deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (LeasedDelivery, error) {
		var l LeasedDelivery
		return l, r.Scan(&l.DeliveryID, &l.EventType, &l.Tries, &l.Body)
	})
	if err != nil {
		return nil, fmt.Errorf("store: lease webhook deliveries: %w", err)
	}
	return out, nil
}

// WebhookSuccess is an attempt the receiver took.
type WebhookSuccess struct {
	DeliveryID string
	StatusCode int
	Response   string
	DurationMS int
}

// RecordWebhookSuccesses writes a batch's successful attempts in one
// statement: each delivery succeeded, its attempt in the log, and the end
// of its subscription's failing streak.
func (db *DB) RecordWebhookSuccesses(ctx context.Context, ok []WebhookSuccess) error {
	if len(ok) == 0 {
		return nil
	}
	ids, codes, resp, ms := make([]string, len(ok)), make([]int32, len(ok)), make([]string, len(ok)), make([]int32, len(ok))
	for i, o := range ok {
		ids[i], codes[i], resp[i], ms[i] = o.DeliveryID, int32(o.StatusCode), o.Response, int32(o.DurationMS)
	}
	_, err := db.pool.Exec(ctx, `WITH r AS (
			SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::int[]) AS r(id, status_code, response, duration_ms)),
		d AS (
			UPDATE event_deliveries x SET attempts = x.attempts + 1, tries = x.tries + 1, state = 'succeeded', status_code = r.status_code,
				response = r.response, duration_ms = r.duration_ms, error = '', next_attempt_at = NULL, lease_until = NULL,
				updated_at = now(), delivered_at = now()
			FROM r WHERE x.id = r.id AND x.state = 'pending'
			RETURNING x.id, x.subscription_id, x.attempts, r.status_code, r.response, r.duration_ms),
		a AS (
			INSERT INTO event_delivery_attempts (delivery_id, attempt, status_code, response, duration_ms)
			SELECT id, attempts, status_code, response, duration_ms FROM d)
		UPDATE webhook_subscriptions SET failing_since = NULL
		WHERE id IN (SELECT DISTINCT subscription_id FROM d) AND failing_since IS NOT NULL`, ids, codes, resp, ms)
	if err != nil {
		return fmt.Errorf("store: record %d webhook deliveries: %w", len(ok), err)
	}
	return nil
}

// DueWebhookSubscriptions lists up to limit subscriptions with a due
// delivery that no worker holds: what the sweep gives a drain job.
func (db *DB) DueWebhookSubscriptions(ctx context.Context, limit int) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT s.id::text FROM webhook_subscriptions s
		WHERE EXISTS (SELECT 1 FROM event_deliveries d WHERE d.subscription_id = s.id AND d.state = 'pending'
			AND d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until < now()))
		LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: due webhook subscriptions: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: due webhook subscriptions: %w", err)
	}
	return ids, nil
}

// QueueWebhookDrains gives each subscription a drain job.
func (db *DB) QueueWebhookDrains(ctx context.Context, subscriptionIDs []string) error {
	if len(subscriptionIDs) == 0 {
		return nil
	}
	return db.inTx(ctx, func(tx pgx.Tx) error { return db.insertDrains(ctx, tx, subscriptionIDs) })
}

// WebhookOutcome is how an attempt ended.
type WebhookOutcome struct {
	qwoty.WebhookAttempt
	// OK: the receiver answered 2xx.
	OK bool
	// Final: no attempt follows (the last one failed, or the subscription
	// is disabled); NextAt is when the next one runs otherwise.
	Final  bool
	NextAt time.Time
}

// disabledReason is why Qwoty disables a subscription.
const disabledReason = "Every delivery failed for 3 days; Qwoty disabled it."

// WebhookDisabled is a subscription that Qwoty has just disabled, failing
// every delivery for qwoty.WebhookDisableAfter.
type WebhookDisabled struct {
	SubscriptionID string
	WorkspaceID    string
	ConnectionID   string
	URL            string
	FailingSince   time.Time
}

// RecordWebhookAttempt writes an attempt of delivery id in the log, the
// delivery's state, and its subscription's failing streak: a success ends
// it; a failure starts it, and one that finds it older than
// qwoty.WebhookDisableAfter disables the subscription (returned, so that
// its admins are told, once).
func (db *DB) RecordWebhookAttempt(ctx context.Context, id string, o WebhookOutcome) (*WebhookDisabled, error) {
	state := qwoty.DeliveryPending
	var next *time.Time
	switch {
	case o.OK:
	case o.Final:
		state = qwoty.DeliveryFailed
	default:
		next = &o.NextAt
	}
	if o.OK {
		return nil, db.RecordWebhookSuccesses(ctx, []WebhookSuccess{{DeliveryID: id, StatusCode: o.StatusCode, Response: o.Response, DurationMS: o.DurationMS}})
	}
	var dis *WebhookDisabled
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var subID string
		var attempt int
		err := tx.QueryRow(ctx, `UPDATE event_deliveries SET attempts = attempts + 1, tries = tries + 1, state = $2, status_code = $3, response = $4,
				duration_ms = $5, error = $6, next_attempt_at = $7, lease_until = NULL, updated_at = now(),
				delivered_at = CASE WHEN $2 = 'succeeded' THEN now() ELSE delivered_at END
			WHERE id = $1 RETURNING subscription_id, attempts`,
			id, string(state), o.StatusCode, o.Response, o.DurationMS, o.Error, next).Scan(&subID, &attempt)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // deleted with its subscription meanwhile
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO event_delivery_attempts (delivery_id, attempt, status_code, response, duration_ms, error)
			VALUES ($1, $2, $3, $4, $5, $6)`, id, attempt, o.StatusCode, o.Response, o.DurationMS, o.Error); err != nil {
			return err
		}
		d := WebhookDisabled{SubscriptionID: subID}
		var enabled bool
		var since *time.Time
		if err := tx.QueryRow(ctx, `SELECT workspace_id, connection_id, url, enabled, failing_since FROM webhook_subscriptions
			WHERE id = $1 FOR UPDATE`, subID).Scan(&d.WorkspaceID, &d.ConnectionID, &d.URL, &enabled, &since); err != nil {
			return err
		}
		now := db.now()
		if since == nil {
			_, err := tx.Exec(ctx, `UPDATE webhook_subscriptions SET failing_since = $2 WHERE id = $1`, subID, now)
			return err
		}
		if !enabled || now.Sub(*since) < qwoty.WebhookDisableAfter {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE webhook_subscriptions SET enabled = false, disabled_reason = $2, updated_at = now()
			WHERE id = $1`, subID, disabledReason); err != nil {
			return err
		}
		d.FailingSince = *since
		dis = &d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: record webhook attempt of %s: %w", id, err)
	}
	return dis, nil
}

// WebhookDeliveryFilter selects deliveries of the log; the zero value
// selects the latest of every subscription.
type WebhookDeliveryFilter struct {
	SubscriptionID string
	State          qwoty.WebhookDeliveryState
	EventType      qwoty.EventType
	// Since keeps deliveries made at or after it.
	Since time.Time
	// After is a cursor: deliveries older than the one it names (the
	// last of the previous page).
	After string
	// Limit caps the page (MaxDeliveryPage).
	Limit int
}

// MaxDeliveryPage is the most deliveries a page lists.
const MaxDeliveryPage = 100

const deliveryColumns = `id, subscription_id, event_id, event_type, state, attempts, status_code, response, duration_ms, error,
	coalesce(next_attempt_at, 'epoch'), created_at, updated_at, coalesce(delivered_at, 'epoch')`

func scanDelivery(row pgx.CollectableRow) (qwoty.WebhookDelivery, error) {
	var d qwoty.WebhookDelivery
	err := row.Scan(&d.ID, &d.SubscriptionID, &d.EventID, &d.EventType, &d.State, &d.Attempts, &d.StatusCode, &d.Response,
		&d.DurationMS, &d.Error, &d.NextAttempt, &d.CreatedAt, &d.UpdatedAt, &d.DeliveredAt)
	if d.NextAttempt.Unix() == 0 || d.State != qwoty.DeliveryPending {
		d.NextAttempt = time.Time{}
	}
	if d.DeliveredAt.Unix() == 0 {
		d.DeliveredAt = time.Time{}
	}
	return d, err
}

func deliveryNotFound(id string) error {
	return &qwoty.Error{Code: qwoty.CodeNotFound, Message: fmt.Sprintf("webhook delivery %s was not found", id),
		Hint: "List the deliveries to find its id.", Err: qwoty.ErrNotFound}
}

// WebhookDeliveries lists the connection's deliveries that f selects,
// newest first; more says whether another page follows.
func (db *DB) WebhookDeliveries(ctx context.Context, workspaceID, connectionID string, f WebhookDeliveryFilter) (out []qwoty.WebhookDelivery, more bool, err error) {
	if f.Limit <= 0 || f.Limit > MaxDeliveryPage {
		f.Limit = MaxDeliveryPage
	}
	for _, id := range []string{f.SubscriptionID, f.After} {
		if id != "" && !validID(id) {
			return nil, false, &qwoty.Error{Code: qwoty.CodeValidation, Message: fmt.Sprintf("%q is not an id", id),
				Hint: "Give an id as the API or the console shows it."}
		}
	}
	var since *time.Time
	if !f.Since.IsZero() {
		since = &f.Since
	}
	rows, err := db.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM event_deliveries d
		WHERE workspace_id = $1 AND connection_id = $2
			AND ($3 = '' OR subscription_id = nullif($3, '')::uuid)
			AND ($4 = '' OR state = $4) AND ($5 = '' OR event_type = $5)
			AND ($6::timestamptz IS NULL OR created_at >= $6)
			AND ($7 = '' OR (created_at, id) < (SELECT created_at, id FROM event_deliveries
				WHERE id = nullif($7, '')::uuid AND workspace_id = $1 AND connection_id = $2))
		ORDER BY created_at DESC, id DESC LIMIT $8`,
		workspaceID, connectionID, f.SubscriptionID, string(f.State), string(f.EventType), since, f.After, f.Limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("store: webhook deliveries: %w", err)
	}
	out, err = pgx.CollectRows(rows, scanDelivery)
	if err != nil {
		return nil, false, fmt.Errorf("store: webhook deliveries: %w", err)
	}
	if len(out) > f.Limit {
		return out[:f.Limit], true, nil
	}
	return out, false, nil
}

// WebhookDelivery returns one delivery of the connection with its
// attempts, oldest first.
func (db *DB) WebhookDelivery(ctx context.Context, workspaceID, connectionID, id string) (*qwoty.WebhookDelivery, []qwoty.WebhookAttempt, error) {
	if !validID(id) {
		return nil, nil, deliveryNotFound(id)
	}
	rows, err := db.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM event_deliveries
		WHERE id = $1 AND workspace_id = $2 AND connection_id = $3`, id, workspaceID, connectionID)
	if err != nil {
		return nil, nil, fmt.Errorf("store: webhook delivery %s: %w", id, err)
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDelivery)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, deliveryNotFound(id)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store: webhook delivery %s: %w", id, err)
	}
	rows, err = db.pool.Query(ctx, `SELECT attempt, status_code, response, duration_ms, error, at FROM event_delivery_attempts
		WHERE delivery_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, nil, fmt.Errorf("store: webhook delivery %s: %w", id, err)
	}
	as, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (qwoty.WebhookAttempt, error) {
		var a qwoty.WebhookAttempt
		err := r.Scan(&a.Attempt, &a.StatusCode, &a.Response, &a.DurationMS, &a.Error, &a.At)
		return a, err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: webhook delivery %s: %w", id, err)
	}
	return &d, as, nil
}

// RedeliverWebhook sends a delivery again, with the same webhook-id (the
// receiver deduplicates by it): one still pending is refused (its retries
// go on).
func (db *DB) RedeliverWebhook(ctx context.Context, workspaceID, connectionID, id string) error {
	if !validID(id) {
		return deliveryNotFound(id)
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var state string
		err := tx.QueryRow(ctx, `SELECT state FROM event_deliveries WHERE id = $1 AND workspace_id = $2 AND connection_id = $3 FOR UPDATE`,
			id, workspaceID, connectionID).Scan(&state)
		if errors.Is(err, pgx.ErrNoRows) {
			return deliveryNotFound(id)
		}
		if err != nil {
			return err
		}
		if state == string(qwoty.DeliveryPending) {
			return &qwoty.Error{Code: qwoty.CodeDeliveryPending, Message: fmt.Sprintf("webhook delivery %s is still being tried", id),
				Hint: "Wait for its retries to end, or for it to succeed; the log shows when the next attempt runs."}
		}
		var sub string
		if err := tx.QueryRow(ctx, `UPDATE event_deliveries SET state = 'pending', tries = 0, next_attempt_at = now(), lease_until = NULL, updated_at = now()
			WHERE id = $1 RETURNING subscription_id::text`, id).Scan(&sub); err != nil {
			return err
		}
		return db.insertDrains(ctx, tx, []string{sub})
	})
	if err != nil {
		return fmt.Errorf("store: redeliver webhook %s: %w", id, err)
	}
	return nil
}

// MaxRedeliver is the most failed deliveries one "redeliver all failed"
// sends again (the oldest first); more calls send the rest.
const MaxRedeliver = 1000

// RedeliverFailedWebhooks sends again the connection's failed deliveries
// (of one subscription when subscriptionID is set), MaxRedeliver at most,
// and returns how many.
func (db *DB) RedeliverFailedWebhooks(ctx context.Context, workspaceID, connectionID, subscriptionID string) (int, error) {
	if subscriptionID != "" && !validID(subscriptionID) {
		return 0, subscriptionNotFound(subscriptionID)
	}
	var n int
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE event_deliveries SET state = 'pending', tries = 0, next_attempt_at = now(), lease_until = NULL, updated_at = now()
			WHERE id IN (SELECT id FROM event_deliveries WHERE workspace_id = $1 AND connection_id = $2 AND state = 'failed'
				AND ($3 = '' OR subscription_id = nullif($3, '')::uuid) ORDER BY created_at LIMIT $4 FOR UPDATE SKIP LOCKED)
			RETURNING subscription_id::text`, workspaceID, connectionID, subscriptionID, MaxRedeliver)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		n = len(ids)
		if n == 0 {
			return nil
		}
		return db.insertDrains(ctx, tx, ids)
	})
	if err != nil {
		return 0, fmt.Errorf("store: redeliver failed webhooks: %w", err)
	}
	return n, nil
}

// WebhookRetention is how long the delivery log keeps a delivery after it
// ended (succeeded, or failed for good), with its attempts; an event goes
// with its last delivery. Pending deliveries are kept whatever their age.
const WebhookRetention = 30 * 24 * time.Hour

// pruneBatch bounds the rows one prune statement deletes.
const pruneBatch = 5000

// PruneWebhooks deletes the deliveries that ended longer than retention
// ago, with their attempts, and the events older than that left without a
// delivery, a batch at a time; it returns how many deliveries and events.
func (db *DB) PruneWebhooks(ctx context.Context, retention time.Duration) (deliveries, events int, err error) {
	for {
		tag, err := db.pool.Exec(ctx, `DELETE FROM event_deliveries WHERE id IN (
			SELECT id FROM event_deliveries WHERE state <> 'pending' AND updated_at < now() - $1 * interval '1 millisecond' LIMIT $2)`,
			retention.Milliseconds(), pruneBatch)
		if err != nil {
			return deliveries, events, fmt.Errorf("store: prune webhook deliveries: %w", err)
		}
		deliveries += int(tag.RowsAffected())
		if tag.RowsAffected() < pruneBatch {
			break
		}
	}
	for {
		tag, err := db.pool.Exec(ctx, `DELETE FROM webhook_events WHERE id IN (
			SELECT e.id FROM webhook_events e WHERE e.created_at < now() - $1 * interval '1 millisecond'
				AND NOT EXISTS (SELECT 1 FROM event_deliveries d WHERE d.event_id = e.id) LIMIT $2)`,
			retention.Milliseconds(), pruneBatch)
		if err != nil {
			return deliveries, events, fmt.Errorf("store: prune webhook events: %w", err)
		}
		events += int(tag.RowsAffected())
		if tag.RowsAffected() < pruneBatch {
			break
		}
	}
	return deliveries, events, nil
}
