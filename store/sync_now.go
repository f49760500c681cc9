package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
)

// SyncRecordNow is a rep's "Sync now" on scope s's record, in one
// transaction: a fetch of the record from the CRM is queued (a deal, read
// as it is there now), and the record's pending change, if it has one, is
// made due at once with a push job, instead of waiting out the
// connection's coalescing delay. A record that failed for good is left to
// Retry (it says why it failed); one waiting for an admin to reconnect
// stays waiting. It returns whether a push was queued. Both jobs are
// unique for a second, so a rep pressing the button repeatedly queues
// little. The request is audited under by.
func (db *DB) SyncRecordNow(ctx context.Context, s Scope, by string) (bool, error) {
	if !validID(s.WorkspaceID) || !validID(s.ConnectionID) || s.RecordID == "" {
		return false, fmt.Errorf("store: sync now: %w", qwoty.ErrNotFound)
	}
	var pushed bool
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE sync_records SET due_at = now(), updated_at = now()
			WHERE workspace_id = $1 AND connection_id = $2 AND crm_record_id = $3 AND state = 'pending'
				AND NOT (last_error_code = ANY($4))`,
			s.WorkspaceID, s.ConnectionID, s.RecordID, qwoty.AdminWaitCodes)
		if err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		if pushed = tag.RowsAffected() > 0; pushed {
			if err := db.insertPush(ctx, tx, s.ConnectionID, true, time.Time{}); err != nil {
				return err
			}
		}
		if _, err := db.jobs.InsertTx(ctx, tx, jobs.SyncPull{ConnectionID: s.ConnectionID, RecordKind: crm.KindDeal, IDs: []string{s.RecordID}}, nil); err != nil {
			return fmt.Errorf("insert pull job: %w", err)
		}
		return audit(ctx, tx, s.WorkspaceID, s.ConnectionID, by, "sync.requested", map[string]any{"record": s.RecordID, "push": pushed})
	})
	if err != nil {
		return false, fmt.Errorf("store: sync now %s: %w", s.RecordID, err)
	}
	return pushed, nil
}
