package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
)

// LeasedRecord is an outbox record a push job holds.
type LeasedRecord struct {
	RecordID string
	// Attempts are the transient failures since its last success.
	Attempts int
	// Backfill is set for a record a back-fill run queued and no real-time
	// change touched since: it is leased after real-time records, and
	// pushed only while the budget is more than half full.
	Backfill bool
}

// LeaseSync takes up to max due records of a connection for one worker,
// for lease (on the database's clock): pending ones whose time has come,
// and in-flight ones whose lease ran out (a worker that died). Records
// another worker holds are skipped, not waited for. The token names the
// lease in RecordSync and ReleaseSync; no transaction stays open while the
// CRM is called. Back-fill records come after real-time ones, at most
// backfillLeaseMax of them, so that a back-fill never holds back a rep's
// change for longer than a short batch.
func (db *DB) LeaseSync(ctx context.Context, connectionID string, max int, lease time.Duration) (token string, recs []LeasedRecord, err error) {
	token = newID()
	// The due rows are picked once, in a materialised CTE: a LIMIT ... SKIP
	// LOCKED subquery joined to the UPDATE may be scanned again by the
	// plan, and each scan skips what the last one locked, so it would
	// lease more rows than max.
	rows, err := db.pool.Query(ctx, `
		WITH rt AS MATERIALIZED (
			SELECT crm_record_id FROM sync_records
			WHERE connection_id = $1 AND due_at <= now() AND (state = 'pending' OR state = 'in_flight' AND lease_until < now())
				AND NOT (run_id IS NOT NULL AND desired_seq = run_seq)
			ORDER BY due_at, crm_record_id LIMIT $2 FOR UPDATE SKIP LOCKED
		), bf AS MATERIALIZED (
			SELECT crm_record_id FROM sync_records
			WHERE connection_id = $1 AND due_at <= now() AND (state = 'pending' OR state = 'in_flight' AND lease_until < now())
				AND run_id IS NOT NULL AND desired_seq = run_seq
			ORDER BY due_at, crm_record_id LIMIT least($5, greatest(0, $2 - (SELECT count(*) FROM rt))) FOR UPDATE SKIP LOCKED
		), due AS (SELECT crm_record_id FROM rt UNION ALL SELECT crm_record_id FROM bf)
		UPDATE sync_records r SET state = 'in_flight', lease_token = $3, lease_until = now() + $4 * interval '1 millisecond'
		FROM due
		WHERE r.connection_id = $1 AND r.crm_record_id = due.crm_record_id
		RETURNING r.crm_record_id, r.attempts, (r.run_id IS NOT NULL AND r.desired_seq = r.run_seq)`, connectionID, max, token, lease.Milliseconds(), backfillLeaseMax)
	if err != nil {
		return "", nil, fmt.Errorf("store: lease sync records: %w", err)
	}
	recs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (LeasedRecord, error) {
		var l LeasedRecord
		return l, r.Scan(&l.RecordID, &l.Attempts, &l.Backfill)
	})
	if err != nil {
		return "", nil, fmt.Errorf("store: lease sync records: %w", err)
	}
	return token, recs, nil
}

// backfillLeaseMax bounds the back-fill records one lease takes: a batch
// of them at the CRM's limit is pushed in well under a second, after which
// the worker leases again and a real-time change made meanwhile goes first.
const backfillLeaseMax = 20

// NextDue is when the connection's next waiting record is due (zero when
// none waits).
func (db *DB) NextDue(ctx context.Context, connectionID string) (time.Time, error) {
	var t *time.Time
	err := db.pool.QueryRow(ctx, `SELECT min(CASE WHEN state = 'pending' THEN due_at ELSE greatest(due_at, lease_until) END)
		FROM sync_records WHERE connection_id = $1 AND state IN ('pending', 'in_flight')`, connectionID).Scan(&t)
	if err != nil || t == nil {
		return time.Time{}, err
	}
	return *t, nil
}

// SyncSnapshot is a record's state to push: all its quotes (deleted ones
// included) with their lines, read at one instant, and the outbox version
// that instant had.
type SyncSnapshot struct {
	RecordID string
	Seq      int64
	Quotes   []qwoty.Quote
}

// maxSnapshotQuotes bounds the quotes read per record (the card lists 200).
const maxSnapshotQuotes = 500

// SyncSnapshots reads the records' states, in one repeatable-read
// transaction so that each record's version matches its quotes.
func (db *DB) SyncSnapshots(ctx context.Context, connectionID string, recordIDs []string) ([]SyncSnapshot, error) {
	out := make([]SyncSnapshot, 0, len(recordIDs))
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		idx := map[string]int{}
		rows, err := tx.Query(ctx, `SELECT crm_record_id, desired_seq FROM sync_records
			WHERE connection_id = $1 AND crm_record_id = ANY($2) ORDER BY crm_record_id`, connectionID, recordIDs)
		if err != nil {
			return err
		}
		for rows.Next() {
			var s SyncSnapshot
			if err := rows.Scan(&s.RecordID, &s.Seq); err != nil {
				rows.Close()
				return err
			}
			idx[s.RecordID] = len(out)
			out = append(out, s)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT `+quoteColumns+quoteFrom+`
			WHERE q.connection_id = $1 AND q.crm_record_id = ANY($2)
			ORDER BY q.crm_record_id, q.created_at, q.id`, connectionID, recordIDs)
		if err != nil {
			return err
		}
		qs, err := pgx.CollectRows(rows, scanQuote)
		if err != nil {
			return err
		}
		byID := map[string][2]int{}
		for _, q := range qs {
			i, ok := idx[q.CRMRecordID]
			if !ok || len(out[i].Quotes) >= maxSnapshotQuotes {
				continue
			}
			byID[q.ID] = [2]int{i, len(out[i].Quotes)}
			out[i].Quotes = append(out[i].Quotes, q)
		}
		ids := make([]string, 0, len(byID))
		for id := range byID {
			ids = append(ids, id)
		}
		rows, err = tx.Query(ctx, `SELECT `+lineColumns+` FROM quote_line_items WHERE quote_id = ANY($1::uuid[])
			ORDER BY quote_id, position, created_at`, ids)
		if err != nil {
			return err
		}
		lines, err := pgx.CollectRows(rows, scanLine)
		if err != nil {
			return err
		}
		for _, l := range lines {
			at := byID[l.QuoteID]
			q := &out[at[0]].Quotes[at[1]]
			q.Lines = append(q.Lines, l)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: sync snapshots: %w", err)
	}
	return out, nil
}

// Sync outcomes, as the log and a record keep them.
const (
	SyncedOutcome   = "synced"
	RetryingOutcome = "retrying"
	FailedOutcome   = "failed"
	WaitingOutcome  = "waiting"
)

// SyncResult is what a push did to one leased record.
type SyncResult struct {
	RecordID string
	// Seq is the version of the snapshot that was pushed.
	Seq int64
	// Outcome is SyncedOutcome, RetryingOutcome (a transient failure,
	// tried again at Due), WaitingOutcome (a limit or the connection: at
	// Due, no attempt counted) or FailedOutcome (for good, until Retry).
	Outcome string
	// Attempts is the record's count of transient failures after this one.
	Attempts int
	Due      time.Time
	Code     qwoty.Code
	Message  string
	Warning  string
	// Written is what the CRM got, for the log (any JSON-able list).
	Written   any
	CRMObject string
	CRMID     string
	Calls     int
	// Quiet keeps the push out of the log: a wait the connection's own
	// budget asked for, which says nothing an admin acts on and may
	// repeat every few milliseconds while a backlog drains.
	Quiet bool
}

// RecordSync writes, in one transaction, what a push did to the records
// leased under token: their outbox rows (a record changed while it was
// pushed stays pending for its newer version), the sync log, and for a
// record that failed for good an alert job. A record whose lease another
// worker took over is left to that worker (its row untouched); its log
// entry is written all the same.
func (db *DB) RecordSync(ctx context.Context, workspaceID, connectionID, token string, results []SyncResult) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		failed := false
		for _, r := range results {
			written, err := json.Marshal(r.Written)
			if err != nil || r.Written == nil {
				written = []byte("[]")
			}
			switch r.Outcome {
			case SyncedOutcome:
				b.Queue(`UPDATE sync_records SET synced_seq = greatest(synced_seq, $4),
					state = CASE WHEN desired_seq > $4 THEN 'pending' ELSE 'synced' END,
					lease_token = NULL, lease_until = NULL, attempts = 0, last_error_code = '', last_error = '',
					warning = $5, synced_at = now(), updated_at = now()
					WHERE connection_id = $1 AND crm_record_id = $2 AND lease_token = $3`,
					connectionID, r.RecordID, token, r.Seq, r.Warning)
			case FailedOutcome:
				failed = true
				// Not batched: whether the record failed for good (and
				// makes a sync.failed event) is known from its row.
				var state string
				err := tx.QueryRow(ctx, `UPDATE sync_records SET state = CASE WHEN desired_seq > $4 THEN 'pending' ELSE 'failed' END,
					attempts = CASE WHEN desired_seq > $4 THEN 0 ELSE $5 END, due_at = now(),
					lease_token = NULL, lease_until = NULL, last_error_code = $6, last_error = $7, updated_at = now()
					WHERE connection_id = $1 AND crm_record_id = $2 AND lease_token = $3 RETURNING state`,
					connectionID, r.RecordID, token, r.Seq, r.Attempts, string(r.Code), r.Message).Scan(&state)
				if err != nil && !errors.Is(err, pgx.ErrNoRows) {
					return err
				}
				if state == "failed" {
					if err := db.emitEvent(ctx, tx, syncFailedEvent(workspaceID, connectionID, r)); err != nil {
						return err
					}
				}
			default: // retrying, waiting
				b.Queue(`UPDATE sync_records SET state = 'pending', attempts = $4, due_at = greatest($5, now()),
					lease_token = NULL, lease_until = NULL, last_error_code = $6, last_error = $7, updated_at = now()
					WHERE connection_id = $1 AND crm_record_id = $2 AND lease_token = $3`,
					connectionID, r.RecordID, token, r.Attempts, r.Due, string(r.Code), r.Message)
			}
			if r.Quiet {
				continue
			}
			// A push of the version a back-fill run captured is the run's.
			b.Queue(`INSERT INTO sync_log (workspace_id, connection_id, crm_record_id, crm_object, crm_id, outcome, error_code, message, written, api_calls, seq, run_id)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, (SELECT run_id FROM sync_records
					WHERE connection_id = $2 AND crm_record_id = $3 AND run_seq = $11 AND run_seq > 0))`,
				workspaceID, connectionID, r.RecordID, r.CRMObject, r.CRMID, r.Outcome, string(r.Code), r.Message, written, r.Calls, r.Seq)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if failed {
			if _, err := db.jobs.InsertTx(ctx, tx, jobs.SyncAlert{ConnectionID: connectionID, Alert: jobs.AlertPushFailed}, nil); err != nil {
				return fmt.Errorf("insert alert job: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record sync: %w", err)
	}
	return nil
}

// ReleaseSync hands back the records still leased under token, unchanged
// (a worker stopping), so that the next job takes them at once.
func (db *DB) ReleaseSync(ctx context.Context, connectionID, token string) error {
	_, err := db.pool.Exec(ctx, `UPDATE sync_records SET state = 'pending', lease_token = NULL, lease_until = NULL
		WHERE connection_id = $1 AND lease_token = $2 AND state = 'in_flight'`, connectionID, token)
	if err != nil {
		return fmt.Errorf("store: release sync records: %w", err)
	}
	return nil
}

// PruneSyncLog deletes log rows older than before, at most limit of them
// (the caller loops while it deletes a full batch).
func (db *DB) PruneSyncLog(ctx context.Context, before time.Time, limit int) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM sync_log WHERE id IN (SELECT id FROM sync_log WHERE created_at < $1 ORDER BY created_at LIMIT $2)`,
		before, limit)
	if err != nil {
		return 0, fmt.Errorf("store: prune sync log: %w", err)
	}
	return tag.RowsAffected(), nil
}

// DueSyncConnections lists the active connections that have records due
// now (or leases run out), for the sweep to give them a push job.
func (db *DB) DueSyncConnections(ctx context.Context) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT c.id::text FROM connections c WHERE c.status = 'active' AND EXISTS (
		SELECT 1 FROM sync_records r WHERE r.connection_id = c.id AND r.due_at <= now()
		AND (r.state = 'pending' OR r.state = 'in_flight' AND r.lease_until < now()))`)
	if err != nil {
		return nil, fmt.Errorf("store: due sync connections: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: due sync connections: %w", err)
	}
	return ids, nil
}

// InsertPushJobs inserts a push job for each connection (those already
// queued are left as they are).
func (db *DB) InsertPushJobs(ctx context.Context, connectionIDs []string) error {
	if len(connectionIDs) == 0 {
		return nil
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		for _, id := range connectionIDs {
			if err := db.insertPush(ctx, tx, id, false, time.Time{}); err != nil {
				return err
			}
		}
		return nil
	})
}

// InsertPushJobAt inserts the connection's push job to run at at: a no-op
// when the connection has a push job for that second already (push jobs
// are unique per second of their scheduled time).
func (db *DB) InsertPushJobAt(ctx context.Context, connectionID string, at time.Time) error {
	return db.inTx(ctx, func(tx pgx.Tx) error { return db.insertPush(ctx, tx, connectionID, false, at) })
}

// QueueAlert inserts a connection's alert job of kind (jobs.AlertPushFailed,
// jobs.AlertConnection); the alert worker sends it at most once an hour.
func (db *DB) QueueAlert(ctx context.Context, connectionID, kind string) error {
	if _, err := db.jobs.Insert(ctx, jobs.SyncAlert{ConnectionID: connectionID, Alert: kind}, nil); err != nil {
		return fmt.Errorf("store: queue alert: %w", err)
	}
	return nil
}

// SyncFailedData is the data of a sync.failed event: a CRM record whose
// quotes could not be pushed, and will not be tried again until someone
// retries them.
type SyncFailedData struct {
	CRMRecordID string     `json:"crmRecordId"`
	CRMObject   string     `json:"crmObject,omitempty"`
	CRMID       string     `json:"crmId,omitempty"`
	Code        qwoty.Code `json:"code"`
	Message     string     `json:"message"`
	Attempts    int        `json:"attempts"`
}

func syncFailedEvent(workspaceID, connectionID string, r SyncResult) Event {
	return Event{WorkspaceID: workspaceID, ConnectionID: connectionID, Type: qwoty.EventSyncFailed, Subject: r.RecordID,
		Data: SyncFailedData{CRMRecordID: r.RecordID, CRMObject: r.CRMObject, CRMID: r.CRMID, Code: r.Code, Message: r.Message, Attempts: r.Attempts}}
}
