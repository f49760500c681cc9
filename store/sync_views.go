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

// SyncSettings are a connection's sync settings (defaults when it has no
// row).
type SyncSettings struct {
	Triggers    []string
	StageMap    map[qwoty.Status]string
	BudgetShare float64
	Coalesce    time.Duration
	AlertEmails []string
	// SlackWebhook is the incoming webhook URL alerts are posted to ("":
	// none). Sealed at rest.
	SlackWebhook string
}

// SyncSettingsOf returns a connection's sync settings.
func (db *DB) SyncSettingsOf(ctx context.Context, connectionID string) (*SyncSettings, error) {
	s := &SyncSettings{Triggers: append([]string(nil), qwoty.SyncTriggers...), StageMap: map[qwoty.Status]string{},
		BudgetShare: 0.5, Coalesce: defaultCoalesceMS * time.Millisecond}
	var stages []byte
	var ms int
	var slack []byte
	err := db.pool.QueryRow(ctx, `SELECT triggers, stage_map, budget_share::float8, coalesce_ms, alert_emails, slack_webhook_enc
		FROM sync_settings WHERE connection_id = $1`, connectionID).Scan(&s.Triggers, &stages, &s.BudgetShare, &ms, &s.AlertEmails, &slack)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("store: sync settings: %w", err)
	}
	s.Coalesce = time.Duration(ms) * time.Millisecond
	if err := json.Unmarshal(stages, &s.StageMap); err != nil {
		return nil, fmt.Errorf("store: sync settings: stage map: %w", err)
	}
	if slack != nil {
		plain, err := db.keys.Open(slack, aad(connectionID, "slack_webhook"))
		if err != nil {
			return nil, fmt.Errorf("store: sync settings: open the Slack webhook: %w", err)
		}
		s.SlackWebhook = string(plain)
	}
	return s, nil
}

// SaveSyncSettings writes a connection's sync settings (the caller has
// checked them) and audits the change.
func (db *DB) SaveSyncSettings(ctx context.Context, workspaceID, connectionID string, s *SyncSettings, actor string) error {
	stages, err := json.Marshal(s.StageMap)
	if err != nil {
		return err
	}
	var slack []byte
	if s.SlackWebhook != "" {
		if slack, err = db.keys.Seal([]byte(s.SlackWebhook), aad(connectionID, "slack_webhook")); err != nil {
			return err
		}
	}
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO sync_settings (connection_id, triggers, stage_map, budget_share, coalesce_ms, alert_emails, slack_webhook_enc)
			SELECT $1, coalesce($3::text[], '{}'), $4, $5, $6, coalesce($7::text[], '{}'), $8 FROM connections WHERE id = $1 AND workspace_id = $2
			ON CONFLICT (connection_id) DO UPDATE SET triggers = EXCLUDED.triggers, stage_map = EXCLUDED.stage_map,
				budget_share = EXCLUDED.budget_share, coalesce_ms = EXCLUDED.coalesce_ms, alert_emails = EXCLUDED.alert_emails,
				slack_webhook_enc = EXCLUDED.slack_webhook_enc, updated_at = now()`,
			connectionID, workspaceID, s.Triggers, stages, s.BudgetShare, s.Coalesce.Milliseconds(), s.AlertEmails, slack)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return qwoty.ErrNotFound
		}
		return audit(ctx, tx, workspaceID, connectionID, actor, "sync.settings_changed", map[string]any{
			"triggers": s.Triggers, "budgetShare": s.BudgetShare, "slack": s.SlackWebhook != ""})
	})
	if err != nil {
		return fmt.Errorf("store: save sync settings: %w", err)
	}
	return nil
}

// SyncHealth is a connection's sync at a glance (Integrations).
type SyncHealth struct {
	Pending, InFlight, Failed, Synced int
	// OldestPending is the due time of the longest-waiting record.
	OldestPending time.Time
	LastSyncedAt  time.Time
	// LastError is the latest failed or waiting record's error.
	LastErrorCode qwoty.Code
	LastError     string
	BlockedUntil  time.Time
	// Pull is how the connection's pulls stand (store/pull_log.go).
	Pull PullHealth
}

// SyncHealthOf sums up a connection's outbox.
func (db *DB) SyncHealthOf(ctx context.Context, workspaceID, connectionID string) (*SyncHealth, error) {
	var h SyncHealth
	err := db.pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'in_flight'),
			count(*) FILTER (WHERE state = 'failed'), count(*) FILTER (WHERE state = 'synced'),
			coalesce(min(due_at) FILTER (WHERE state IN ('pending', 'in_flight')), 'epoch'),
			coalesce(max(synced_at), 'epoch'),
			coalesce((SELECT last_error_code FROM sync_records WHERE connection_id = $2 AND last_error_code <> '' AND state <> 'synced'
				ORDER BY updated_at DESC LIMIT 1), ''),
			coalesce((SELECT last_error FROM sync_records WHERE connection_id = $2 AND last_error_code <> '' AND state <> 'synced'
				ORDER BY updated_at DESC LIMIT 1), ''),
			coalesce((SELECT max(blocked_until) FROM api_budget WHERE connection_id = $2 AND blocked_until > now()), 'epoch')
		FROM sync_records WHERE workspace_id = $1 AND connection_id = $2`, workspaceID, connectionID).Scan(
		&h.Pending, &h.InFlight, &h.Failed, &h.Synced, &h.OldestPending, &h.LastSyncedAt, &h.LastErrorCode, &h.LastError, &h.BlockedUntil)
	if err != nil {
		return nil, fmt.Errorf("store: sync health: %w", err)
	}
	if h.Pull, err = db.pullHealth(ctx, workspaceID, connectionID); err != nil {
		return nil, err
	}
	return &h, nil
}

// SyncLogEntry is one row of the sync log.
type SyncLogEntry struct {
	ID        int64
	At        time.Time
	RecordID  string
	CRMObject string
	CRMID     string
	Outcome   string
	Code      qwoty.Code
	Message   string
	Written   json.RawMessage
	Calls     int
}

// SyncLogFilter selects log rows; the zero value is the newest of all.
type SyncLogFilter struct {
	Outcome  string // "" for any
	RecordID string // "" for any
	Before   int64  // rows older than this id (paging); 0 for the newest
	Limit    int    // 1..500, default 100
}

// SyncLog lists a connection's sync log, newest first.
func (db *DB) SyncLog(ctx context.Context, workspaceID, connectionID string, f SyncLogFilter) ([]SyncLogEntry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	rows, err := db.pool.Query(ctx, `SELECT id, created_at, crm_record_id, crm_object, crm_id, outcome, error_code, message, written, api_calls
		FROM sync_log WHERE workspace_id = $1 AND connection_id = $2 AND ($3 = '' OR outcome = $3) AND ($4 = '' OR crm_record_id = $4)
			AND ($5 = 0 OR id < $5)
		ORDER BY created_at DESC, id DESC LIMIT $6`, workspaceID, connectionID, f.Outcome, f.RecordID, f.Before, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: sync log: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SyncLogEntry, error) {
		var e SyncLogEntry
		return e, r.Scan(&e.ID, &e.At, &e.RecordID, &e.CRMObject, &e.CRMID, &e.Outcome, &e.Code, &e.Message, &e.Written, &e.Calls)
	})
	if err != nil {
		return nil, fmt.Errorf("store: sync log: %w", err)
	}
	return out, nil
}

// ClaimAlert claims the right to send a connection's alert of kind: true
// at most once an hour per connection and kind. A send that fails calls
// UnclaimAlert, so the next try may send.
func (db *DB) ClaimAlert(ctx context.Context, connectionID, kind, detail string) (claimed bool, previous time.Time, err error) {
	var prev *time.Time
	err = db.pool.QueryRow(ctx, `
		WITH old AS (SELECT sent_at FROM sync_alerts WHERE connection_id = $1 AND kind = $2)
		INSERT INTO sync_alerts AS a (connection_id, kind, sent_at, detail) VALUES ($1, $2, now(), $3)
		ON CONFLICT (connection_id, kind) DO UPDATE SET sent_at = now(), detail = EXCLUDED.detail
		WHERE a.sent_at <= now() - interval '1 hour'
		RETURNING (SELECT sent_at FROM old)`, connectionID, kind, detail).Scan(&prev)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, time.Time{}, nil
	}
	if err != nil {
		return false, time.Time{}, fmt.Errorf("store: claim alert: %w", err)
	}
	if prev != nil {
		previous = *prev
	}
	return true, previous, nil
}

// UnclaimAlert gives back a claim whose sending failed: previous is what
// ClaimAlert returned (zero: the alert had never been sent).
func (db *DB) UnclaimAlert(ctx context.Context, connectionID, kind string, previous time.Time) error {
	var err error
	if previous.IsZero() {
		_, err = db.pool.Exec(ctx, `DELETE FROM sync_alerts WHERE connection_id = $1 AND kind = $2`, connectionID, kind)
	} else {
		_, err = db.pool.Exec(ctx, `UPDATE sync_alerts SET sent_at = $3 WHERE connection_id = $1 AND kind = $2`, connectionID, kind, previous)
	}
	if err != nil {
		return fmt.Errorf("store: unclaim alert: %w", err)
	}
	return nil
}

// FailedRecords lists a connection's records that failed for good, newest
// first (at most limit), with their error.
func (db *DB) FailedRecords(ctx context.Context, connectionID string, limit int) ([]FailedRecord, error) {
	rows, err := db.pool.Query(ctx, `SELECT crm_record_id, last_error_code, last_error, updated_at FROM sync_records
		WHERE connection_id = $1 AND state = 'failed' ORDER BY updated_at DESC LIMIT $2`, connectionID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: failed records: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FailedRecord, error) {
		var f FailedRecord
		return f, r.Scan(&f.RecordID, &f.Code, &f.Message, &f.At)
	})
	if err != nil {
		return nil, fmt.Errorf("store: failed records: %w", err)
	}
	return out, nil
}

// FailedRecord is a record whose push failed for good.
type FailedRecord struct {
	RecordID string
	Code     qwoty.Code
	Message  string
	At       time.Time
}

// AdminEmails lists the emails of a workspace's admins (alerts go there).
func (db *DB) AdminEmails(ctx context.Context, workspaceID string) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT email FROM users WHERE workspace_id = $1 AND role = 'admin' ORDER BY email`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("store: admin emails: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: admin emails: %w", err)
	}
	return out, nil
}
