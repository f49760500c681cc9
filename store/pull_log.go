package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
)

// Pulls in the sync log, the polls' schedule and the pull's part of a
// connection's health.

// PullLog is one row of the sync log for a pull: one stream's listing in
// one run (or one fetch of records by id).
type PullLog struct {
	// Object is the stream ("customer", "deal_deleted") or the kind of
	// the records fetched.
	Object string
	// CRMID names the records fetched (their ids, comma separated; ""
	// for a listing).
	CRMID string
	// Outcome is SyncedOutcome, FailedOutcome or WaitingOutcome.
	Outcome string
	Code    qwoty.Code
	Message string
	Calls   int
}

// maxLogIDs bounds the ids a fetch's row names.
const maxLogIDs = 500

// RecordPull writes a pull's row to the sync log (direction 'pull').
func (db *DB) RecordPull(ctx context.Context, workspaceID, connectionID string, e PullLog) error {
	if len(e.CRMID) > maxLogIDs {
		e.CRMID = e.CRMID[:maxLogIDs] + "…"
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO sync_log (workspace_id, connection_id, crm_record_id, crm_object, crm_id,
			outcome, error_code, message, api_calls, direction)
		SELECT $1, $2, '', $3, $4, $5, $6, $7, $8, 'pull' FROM connections WHERE id = $2 AND workspace_id = $1`,
		workspaceID, connectionID, e.Object, e.CRMID, e.Outcome, string(e.Code), e.Message, e.Calls)
	if err != nil {
		return fmt.Errorf("store: record pull: %w", err)
	}
	return nil
}

// queuePollTx queues a connection's poll in tx (a connection made or
// reconnected reads its CRM at once rather than at the next sweep).
func (db *DB) queuePollTx(ctx context.Context, tx pgx.Tx, connectionID string) error {
	if _, err := db.jobs.InsertTx(ctx, tx, jobs.SyncPull{ConnectionID: connectionID}, nil); err != nil {
		return fmt.Errorf("insert pull job: %w", err)
	}
	return nil
}

// InsertPullJobs queues the polls of connectionIDs (unique while one is
// queued or running: a poll under way, or snoozed, is not doubled).
func (db *DB) InsertPullJobs(ctx context.Context, connectionIDs []string) error {
	if len(connectionIDs) == 0 {
		return nil
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		for _, id := range connectionIDs {
			if err := db.queuePollTx(ctx, tx, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// PullHealth is the pull's part of a connection's health.
type PullHealth struct {
	// Streams counts the streams that ever ran.
	Streams int
	// OldestStream is the stream whose last complete listing is the
	// oldest, and CompleteAt that listing's end (zero: it never
	// completed).
	OldestStream string
	CompleteAt   time.Time
	// ErrorStream is the stream whose listing failed last, and Error why
	// ("" when none stands).
	ErrorStream string
	Error       string
}

func (db *DB) pullHealth(ctx context.Context, workspaceID, connectionID string) (PullHealth, error) {
	var h PullHealth
	var done *time.Time
	err := db.pool.QueryRow(ctx, `
		WITH cur AS (SELECT p.* FROM pull_cursors p JOIN connections c ON c.id = p.connection_id
			WHERE p.connection_id = $1 AND c.workspace_id = $2)
		SELECT (SELECT count(*) FROM cur),
			coalesce(o.stream, ''), o.last_complete_at, coalesce(e.stream, ''), coalesce(e.last_error, '')
		FROM (SELECT 1) one
		LEFT JOIN LATERAL (SELECT stream, last_complete_at FROM cur
			ORDER BY last_complete_at ASC NULLS FIRST, stream LIMIT 1) o ON true
		LEFT JOIN LATERAL (SELECT stream, last_error FROM cur WHERE last_error <> ''
			ORDER BY updated_at DESC, stream LIMIT 1) e ON true`, connectionID, workspaceID).Scan(
		&h.Streams, &h.OldestStream, &done, &h.ErrorStream, &h.Error)
	if err != nil {
		return h, fmt.Errorf("store: pull health: %w", err)
	}
	h.CompleteAt = tv(done)
	return h, nil
}
