package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
)

// syncViewColumns is a quote's sync state, from its record's outbox row
// (sr): synced once the record's pushed version reaches the quote's last
// change, failed or pending otherwise, and nothing for a quote never bound
// for the CRM.
const syncViewColumns = `CASE WHEN q.sync_seq = 0 OR sr.connection_id IS NULL THEN ''
		WHEN sr.synced_seq >= q.sync_seq THEN 'synced' WHEN sr.state = 'failed' THEN 'failed' ELSE 'pending' END,
	coalesce(sr.synced_at, 'epoch'),
	CASE WHEN sr.synced_seq >= q.sync_seq THEN '' ELSE coalesce(sr.last_error_code, '') END,
	CASE WHEN sr.synced_seq >= q.sync_seq THEN '' ELSE coalesce(sr.last_error, '') END,
	coalesce(sr.warning, '')`

// captureSync records, in tx, that the quotes quoteIDs of scope s's record
// changed by trigger: when the connection's sync settings push that
// trigger, the record's outbox row takes a new version (the latest wins:
// ten edits make one push), the quotes remember it, and a push job is
// inserted in the same transaction, so that it exists if and only if the
// change committed. A status or primary change is due at once; other
// edits wait the connection's coalescing delay for the next one.
//
// A quote without a CRM record pushes nothing: it makes its deal when it
// reaches its connection's deal status (queueDeals), and is pushed as a
// quote of that record from then on.
func (db *DB) captureSync(ctx context.Context, tx pgx.Tx, s Scope, trigger string, quoteIDs ...string) error {
	if s.RecordID == "" {
		return db.queueDeals(ctx, tx, s, quoteIDs...)
	}
	var on bool
	var coalesceMS int
	err := tx.QueryRow(ctx, `SELECT $2 = ANY(triggers), coalesce_ms FROM sync_settings WHERE connection_id = $1`,
		s.ConnectionID, trigger).Scan(&on, &coalesceMS)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		on, coalesceMS = true, defaultCoalesceMS
	case err != nil:
		return fmt.Errorf("sync settings: %w", err)
	}
	if !on {
		return nil
	}
	delay := coalesceMS
	if qwoty.Realtime(trigger) {
		delay = 0
	}
	var seq int64
	var due time.Time
	err = tx.QueryRow(ctx, `
		INSERT INTO sync_records AS r (connection_id, crm_record_id, workspace_id, desired_seq, due_at)
		VALUES ($1, $2, $3, nextval('sync_seq'), now() + $4 * interval '1 millisecond')
		ON CONFLICT (connection_id, crm_record_id) DO UPDATE SET
			desired_seq = EXCLUDED.desired_seq,
			state = CASE WHEN r.state = 'in_flight' AND r.lease_until > now() THEN 'in_flight' ELSE 'pending' END,
			due_at = CASE WHEN r.state IN ('pending', 'in_flight') THEN least(r.due_at, EXCLUDED.due_at) ELSE EXCLUDED.due_at END,
			attempts = CASE WHEN r.state = 'failed' THEN 0 ELSE r.attempts END,
			updated_at = now()
		RETURNING desired_seq, due_at`,
		s.ConnectionID, s.RecordID, s.WorkspaceID, delay).Scan(&seq, &due)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE quotes SET sync_seq = $2 WHERE id = ANY($1::uuid[])`, quoteIDs, seq); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return db.insertPush(ctx, tx, s.ConnectionID, qwoty.Realtime(trigger), due)
}

// defaultCoalesceMS is sync_settings.coalesce_ms's default.
const defaultCoalesceMS = 5000

// insertPush inserts, in tx, the connection's push job, to run at (or
// now). A job of the same kind already queued for the connection makes
// this a no-op (jobs.SyncPush is unique while queued): it will lease the
// record when it runs.
func (db *DB) insertPush(ctx context.Context, tx pgx.Tx, connectionID string, now bool, at time.Time) error {
	opts := &river.InsertOpts{}
	if !now && !at.IsZero() {
		opts.ScheduledAt = at
	}
	if _, err := db.jobs.InsertTx(ctx, tx, jobs.SyncPush{ConnectionID: connectionID, Now: now}, opts); err != nil {
		return fmt.Errorf("insert push job: %w", err)
	}
	return nil
}

// SetPrimary makes quote id the primary quote of scope s's record: its
// total, status and lines become the CRM record's. The previous primary
// stops being one in the same transaction.
func (db *DB) SetPrimary(ctx context.Context, s Scope, id, by string) (*qwoty.Quote, error) {
	if s.RecordID == "" {
		// A quote without a CRM record is no record's primary quote yet.
		return nil, qwoty.E(qwoty.CodeQuoteNoRecord, "This quote has no CRM deal yet: it becomes its deal's primary quote when the deal is made.")
	}
	var out *qwoty.Quote
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		q, err := getQuote(ctx, tx, s, id, true)
		if err != nil {
			return err
		}
		if q.Primary {
			out = q
			return nil
		}
		var was []string
		rows, err := tx.Query(ctx, `UPDATE quotes SET is_primary = false, updated_at = now()
			WHERE workspace_id = $1 AND connection_id = $2 AND crm_record_id = $3 AND is_primary AND deleted_at IS NULL
			RETURNING id::text`, s.WorkspaceID, s.ConnectionID, s.RecordID)
		if err != nil {
			return err
		}
		if was, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE quotes SET is_primary = true, version = version + 1, updated_at = now() WHERE id = $1`, id); err != nil {
			return err
		}
		if err := audit(ctx, tx, s.WorkspaceID, s.ConnectionID, by, "quote.primary_set", map[string]any{"quote": q.Number}); err != nil {
			return err
		}
		if err := db.captureSync(ctx, tx, s, qwoty.TriggerPrimary, append(was, id)...); err != nil {
			return err
		}
		// quote.updated of each quote whose primary flag changed.
		for _, qid := range append(was, id) {
			c, err := getQuote(ctx, tx, s, qid, false)
			if err != nil {
				return err
			}
			if err := db.emitEvent(ctx, tx, quoteEvent(qwoty.EventQuoteUpdated, c)); err != nil {
				return err
			}
			if qid == id {
				out = c
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: set primary quote %s: %w", id, err)
	}
	return out, nil
}

// DeleteQuote deletes quote id of scope s (version as UpdateQuote checks
// it; 0 skips the check). The row stays, marked deleted, so that sync
// marks its CRM mirror instead of deleting it. A deleted primary hands the
// role to the record's most recently updated live quote.
func (db *DB) DeleteQuote(ctx context.Context, s Scope, id string, version int, by string) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		q, err := getQuote(ctx, tx, s, id, true)
		if err != nil {
			return err
		}
		if err := q.CheckVersion(version); err != nil {
			return err
		}
		if s.RecordID == "" {
			// A quote without a record (docs/deals.md): its deal, not
			// started or given up, goes with it; one under way (a create
			// may have reached the CRM) is let finish, and the quote is
			// deleted from its deal's card then.
			var underWay bool
			if err := tx.QueryRow(ctx, `WITH gone AS (DELETE FROM deal_creations WHERE quote_id = $1 AND connection_id = $2
					AND state IN ('pending', 'failed') RETURNING 1)
				SELECT EXISTS (SELECT 1 FROM deal_creations WHERE quote_id = $1 AND connection_id = $2 AND state IN ('account', 'deal'))`,
				id, s.ConnectionID).Scan(&underWay); err != nil {
				return err
			}
			if underWay {
				return qwoty.E(qwoty.CodeQuoteNoRecord, "%s's CRM deal is being made: once it is made, delete the quote from the card on that deal.", q.Number)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE quotes SET deleted_at = now(), is_primary = false, version = version + 1, updated_at = now()
			WHERE id = $1`, id); err != nil {
			return err
		}
		changed := []string{id}
		if q.Primary {
			var next string
			err := tx.QueryRow(ctx, `UPDATE quotes SET is_primary = true WHERE id = (
				SELECT id FROM quotes WHERE workspace_id = $1 AND connection_id = $2 AND crm_record_id = $3 AND deleted_at IS NULL
				ORDER BY updated_at DESC, id LIMIT 1) RETURNING id::text`, s.WorkspaceID, s.ConnectionID, s.RecordID).Scan(&next)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
			case err != nil:
				return err
			default:
				changed = append(changed, next)
			}
		}
		if err := audit(ctx, tx, s.WorkspaceID, s.ConnectionID, by, "quote.deleted", map[string]any{"quote": q.Number}); err != nil {
			return err
		}
		// quote.deleted of the quote as it was, and quote.updated of the
		// record's quote that became primary in its place.
		q.Deleted, q.Primary, q.Version = true, false, q.Version+1
		if err := db.emitEvent(ctx, tx, quoteEvent(qwoty.EventQuoteDeleted, q)); err != nil {
			return err
		}
		if len(changed) > 1 {
			next, err := getQuote(ctx, tx, s, changed[1], false)
			if err != nil {
				return err
			}
			if err := db.emitEvent(ctx, tx, quoteEvent(qwoty.EventQuoteUpdated, next)); err != nil {
				return err
			}
		}
		return db.captureSync(ctx, tx, s, qwoty.TriggerEdit, changed...)
	})
	if err != nil {
		return fmt.Errorf("store: delete quote %s: %w", id, err)
	}
	return nil
}

// RetrySync queues again the failed records of a connection of the
// workspace: one record (recordID) or all of them (""). It returns how
// many were queued.
func (db *DB) RetrySync(ctx context.Context, workspaceID, connectionID, recordID, by string) (int, error) {
	if !validID(connectionID) {
		return 0, fmt.Errorf("store: retry sync: %w", qwoty.ErrNotFound)
	}
	var n int
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE sync_records SET state = 'pending', attempts = 0, due_at = now(), updated_at = now()
			WHERE workspace_id = $1 AND connection_id = $2 AND state = 'failed' AND ($3 = '' OR crm_record_id = $3)`,
			workspaceID, connectionID, recordID)
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		if n == 0 {
			return nil
		}
		if err := audit(ctx, tx, workspaceID, connectionID, by, "sync.retried", map[string]any{"record": recordID, "records": n}); err != nil {
			return err
		}
		return db.insertPush(ctx, tx, connectionID, true, time.Time{})
	})
	if err != nil {
		return 0, fmt.Errorf("store: retry sync: %w", err)
	}
	return n, nil
}

// KickSync inserts a push job for the connection when it has records
// waiting (after a reconnect, or a change of its sync settings).
func (db *DB) KickSync(ctx context.Context, connectionID string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error { return db.kickIfWaiting(ctx, tx, connectionID) })
}

func (db *DB) kickIfWaiting(ctx context.Context, tx pgx.Tx, connectionID string) error {
	// Records parked until an admin acted (a refused grant, scopes to
	// reconnect for) are due now.
	if _, err := tx.Exec(ctx, `UPDATE sync_records SET due_at = now()
		WHERE connection_id = $1 AND state = 'pending' AND due_at > now() AND last_error_code = ANY($2)`,
		connectionID, qwoty.AdminWaitCodes); err != nil {
		return err
	}
	var waiting bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sync_records WHERE connection_id = $1 AND state IN ('pending', 'in_flight'))`,
		connectionID).Scan(&waiting); err != nil || !waiting {
		return err
	}
	return db.insertPush(ctx, tx, connectionID, true, time.Time{})
}
