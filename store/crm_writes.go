package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
)

// The writes to a CRM beside a record's push (a sent version's PDF filed,
// an order, a deal made for a quote) share one way of ending a run: a row
// of their own says where the write stands, its run's WriteResult is
// recorded on it, and each run that does not only wait leaves one row in
// the sync log, with an alert when the write is given up. logWrite is that
// ending.

// The states a write's row ends in, whatever its kind (ArchiveDone,
// OrderPushFailed and the others name them).
const (
	WriteDone   = "done"
	WriteFailed = "failed"
)

// WriteResult is what became of one run of a write: what RecordArchive,
// RecordOrderPush or RecordDeal writes on its row and in the sync log.
type WriteResult struct {
	// State is WriteDone, WriteFailed, or the state the row was in for a
	// retry (the attempt counted) or a wait (not counted: Wait).
	State string
	// CRMID is the object the write left in the CRM (done): the file, the
	// order, or the deal (the quote's record from then on).
	CRMID string
	// Action is how that object came to be: created, adopted (found after
	// a lost answer), or, for an order, updated (its status).
	Action string
	// Status is an order push's alone: the order's status the CRM's order
	// was brought to (done). The other writes leave it "".
	Status qwoty.OrderStatus
	// Wait marks a wait for a limit: no attempt is used, and nothing is
	// logged when Quiet (the connection's own budget said wait, or the
	// same wait again).
	Wait, Quiet bool
	Code        qwoty.Code
	Message     string
	Calls       int
}

// Ended reports whether the run ended the write, done or failed.
func (r WriteResult) Ended() bool { return r.State == WriteDone || r.State == WriteFailed }

// attempts returns the retries a row that had used before has used after
// run r: a retry counts, an end or a wait does not.
func (r WriteResult) attempts(before int) int {
	if r.Ended() || r.Wait {
		return before
	}
	return before + 1
}

// writeRun is a run of a write as the sync log records it.
type writeRun struct {
	WorkspaceID, ConnectionID string
	// RecordID is the CRM record the write is on ("" for a deal not made).
	RecordID string
	QuoteID  string // "" when none
	// Object is the object the log row is about; its id in the CRM is the
	// result's CRMID ("" before it is made).
	Object string
	WriteResult
	// Written is what the run left in the CRM (when done); nil says the
	// result's CRMID, of Object, as its Action made it.
	Written []crm.Written
}

// logWrite writes, in tx, run r's row in the sync log, and the admins'
// alert when the write was given up.
func (db *DB) logWrite(ctx context.Context, tx pgx.Tx, r writeRun) error {
	if r.Quiet {
		return nil
	}
	if r.State == WriteFailed {
		// The admins hear of it as of a failed push.
		if _, err := db.jobs.InsertTx(ctx, tx, jobs.SyncAlert{ConnectionID: r.ConnectionID, Alert: jobs.AlertPushFailed}, nil); err != nil {
			return fmt.Errorf("insert alert job: %w", err)
		}
	}
	outcome := RetryingOutcome
	switch {
	case r.State == WriteDone:
		outcome = SyncedOutcome
	case r.State == WriteFailed:
		outcome = FailedOutcome
	case r.Wait:
		outcome = WaitingOutcome
	}
	written := []byte("[]")
	if r.State == WriteDone {
		w := r.Written
		if w == nil {
			w = []crm.Written{{Object: r.Object, ID: r.CRMID, Action: r.Action}}
		}
		var err error
		if written, err = json.Marshal(w); err != nil {
			return err
		}
	}
	var quote any
	if r.QuoteID != "" {
		quote = r.QuoteID
	}
	_, err := tx.Exec(ctx, `INSERT INTO sync_log (workspace_id, connection_id, crm_record_id, quote_id, crm_object, crm_id,
			outcome, error_code, message, written, api_calls)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.WorkspaceID, r.ConnectionID, r.RecordID, quote, r.Object, r.CRMID, outcome, string(r.Code), r.Message, written, r.Calls)
	if err != nil {
		return fmt.Errorf("sync log: %w", err)
	}
	return nil
}

// strandedLimit bounds the writes one sweep requeues.
const strandedLimit = 100

// RequeueStrandedWrites inserts a job for each order push and deal making
// still under way whose job is gone (River discarded it after its
// attempts: the database away at each, say; or an operator cancelled it)
// and that has not moved for stale: the sweep's guard that such a write
// never stays pending for good. A write waiting for a limit or its deal has
// its job, scheduled, and is left alone. It returns how many it requeued,
// at most strandedLimit of each kind a call.
func (db *DB) RequeueStrandedWrites(ctx context.Context, stale time.Duration) (int, error) {
	n := 0
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		live := `('available', 'pending', 'running', 'retryable', 'scheduled')`
		rows, err := tx.Query(ctx, `SELECT p.connection_id::text, p.order_id::text FROM order_pushes p
			WHERE p.state IN ('pending', 'pushing') AND p.updated_at < now() - $1 * interval '1 millisecond'
				AND (p.lease_until IS NULL OR p.lease_until < now())
				AND NOT EXISTS (SELECT 1 FROM river_job j WHERE j.kind = 'order_push' AND j.args->>'order_id' = p.order_id::text
					AND j.state IN `+live+`)
			ORDER BY p.updated_at LIMIT $2`, stale.Milliseconds(), strandedLimit)
		if err != nil {
			return err
		}
		orders, err := pgx.CollectRows(rows, pgx.RowToStructByPos[jobs.OrderPush])
		if err != nil {
			return err
		}
		for _, o := range orders {
			if _, err := db.jobs.InsertTx(ctx, tx, o, nil); err != nil {
				return fmt.Errorf("insert order push job: %w", err)
			}
		}
		rows, err = tx.Query(ctx, `SELECT d.connection_id::text, d.quote_id::text FROM deal_creations d
			WHERE d.state IN ('pending', 'account', 'deal') AND d.updated_at < now() - $1 * interval '1 millisecond'
				AND (d.lease_until IS NULL OR d.lease_until < now())
				AND NOT EXISTS (SELECT 1 FROM river_job j WHERE j.kind = 'deal_create' AND j.args->>'quote_id' = d.quote_id::text
					AND j.state IN `+live+`)
			ORDER BY d.updated_at LIMIT $2`, stale.Milliseconds(), strandedLimit)
		if err != nil {
			return err
		}
		deals, err := pgx.CollectRows(rows, pgx.RowToStructByPos[jobs.DealCreate])
		if err != nil {
			return err
		}
		for _, d := range deals {
			if _, err := db.jobs.InsertTx(ctx, tx, d, nil); err != nil {
				return fmt.Errorf("insert deal job: %w", err)
			}
		}
		n = len(orders) + len(deals)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: requeue stranded writes: %w", err)
	}
	return n, nil
}
