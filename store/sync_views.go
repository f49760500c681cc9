package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
	// DealStatus is when a quote without a CRM record makes its deal, and
	// AccountMatch how its customer's account is looked for (docs/deals.md).
	DealStatus   qwoty.DealStatus
	AccountMatch qwoty.AccountMatch
}

// DefaultBudgetShare is the share of a daily API allocation sync uses
// until the admin says otherwise (sync_settings.budget_share's default).
const DefaultBudgetShare = 0.5

// SyncSettingsOf returns a connection's sync settings.
func (db *DB) SyncSettingsOf(ctx context.Context, connectionID string) (*SyncSettings, error) {
	s := &SyncSettings{Triggers: append([]string(nil), qwoty.DefaultSyncTriggers...), StageMap: map[qwoty.Status]string{},
		BudgetShare: DefaultBudgetShare, Coalesce: defaultCoalesceMS * time.Millisecond,
		DealStatus: qwoty.DefaultDealStatus, AccountMatch: qwoty.MatchByName}
	var stages []byte
	var ms int
	var slack []byte
	err := db.pool.QueryRow(ctx, `SELECT triggers, stage_map, budget_share::float8, coalesce_ms, alert_emails, slack_webhook_enc,
			deal_status, account_match
		FROM sync_settings WHERE connection_id = $1`, connectionID).Scan(&s.Triggers, &stages, &s.BudgetShare, &ms, &s.AlertEmails, &slack,
		&s.DealStatus, &s.AccountMatch)
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
		var was float64
		if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT budget_share::float8 FROM sync_settings WHERE connection_id = $1), $2)`,
			connectionID, DefaultBudgetShare).Scan(&was); err != nil {
			return err
		}
		if was != s.BudgetShare {
			if err := reshapeBudget(ctx, tx, connectionID); err != nil {
				return err
			}
		}
		match := cmp.Or(s.AccountMatch, qwoty.MatchByName)
		tag, err := tx.Exec(ctx, `INSERT INTO sync_settings (connection_id, triggers, stage_map, budget_share, coalesce_ms, alert_emails, slack_webhook_enc,
				deal_status, account_match)
			SELECT $1, coalesce($3::text[], '{}'), $4, $5, $6, coalesce($7::text[], '{}'), $8, $9, $10 FROM connections WHERE id = $1 AND workspace_id = $2
			ON CONFLICT (connection_id) DO UPDATE SET triggers = EXCLUDED.triggers, stage_map = EXCLUDED.stage_map,
				budget_share = EXCLUDED.budget_share, coalesce_ms = EXCLUDED.coalesce_ms, alert_emails = EXCLUDED.alert_emails,
				slack_webhook_enc = EXCLUDED.slack_webhook_enc, deal_status = EXCLUDED.deal_status,
				account_match = EXCLUDED.account_match, updated_at = now()`,
			connectionID, workspaceID, s.Triggers, stages, s.BudgetShare, s.Coalesce.Milliseconds(), s.AlertEmails, slack,
			string(s.DealStatus), string(match))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return qwoty.ErrNotFound
		}
		return audit(ctx, tx, workspaceID, connectionID, actor, "sync.settings_changed", map[string]any{
			"triggers": s.Triggers, "budgetShare": s.BudgetShare, "slack": s.SlackWebhook != "",
			"dealStatus": s.DealStatus, "accountMatch": match})
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
	// BrokenMapping names a field mapping that stopped working ("CRM
	// field: why"), "" when none; OpenConflicts counts the conflicts
	// waiting for an admin.
	BrokenMapping string
	OpenConflicts int
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
	err = db.pool.QueryRow(ctx, `SELECT
			coalesce((SELECT crm_field || ': ' || broken FROM field_mappings WHERE workspace_id = $1 AND connection_id = $2 AND broken <> ''
				ORDER BY standard DESC, crm_field LIMIT 1), ''),
			(SELECT count(*) FROM sync_conflicts WHERE workspace_id = $1 AND connection_id = $2 AND resolved_at IS NULL)`,
		workspaceID, connectionID).Scan(&h.BrokenMapping, &h.OpenConflicts)
	if err != nil {
		return nil, fmt.Errorf("store: sync health: %w", err)
	}
	return &h, nil
}

// SyncLogEntry is one row of the sync log.
type SyncLogEntry struct {
	ID        int64
	At        time.Time
	Direction string // push or pull
	RunID     string // "" when the row belongs to no run
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
// Every field is ANDed; the caller has checked the values (the console
// refuses what no link of its writes).
type SyncLogFilter struct {
	Outcome   string    // "" for any
	RecordID  string    // "" for any
	CRMObject string    // "" for any
	Direction string    // push, pull, or "" for both
	RunID     string    // a sync run's id, or "" for any
	From      time.Time // created at or after (zero: no bound)
	To        time.Time // created before (zero: no bound)
	// Paging, by a row's id (keyset on created_at, id; never OFFSET):
	// Before lists rows older than that row, After rows newer than it
	// (still returned newest first). 0 for the newest page.
	Before int64
	After  int64
	Limit  int // 1..500, default 100
}

// where is the filter as SQL conditions on sync_log l, with their
// arguments after the workspace's and connection's ($1, $2); every value
// is a parameter.
func (f SyncLogFilter) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args)+2)))
	}
	if f.Outcome != "" {
		add("l.outcome = $?", f.Outcome)
	}
	if f.RecordID != "" {
		add("l.crm_record_id = $?", f.RecordID)
	}
	if f.CRMObject != "" {
		add("l.crm_object = $?", f.CRMObject)
	}
	if f.Direction != "" {
		add("l.direction = $?", f.Direction)
	}
	if f.RunID != "" {
		add("l.run_id = $?::uuid", f.RunID)
	}
	if !f.From.IsZero() {
		add("l.created_at >= $?", f.From)
	}
	if !f.To.IsZero() {
		add("l.created_at < $?", f.To)
	}
	if f.Before != 0 {
		add("(l.created_at, l.id) < (SELECT created_at, id FROM sync_log WHERE id = $? AND connection_id = $2)", f.Before)
	}
	if f.After != 0 {
		add("(l.created_at, l.id) > (SELECT created_at, id FROM sync_log WHERE id = $? AND connection_id = $2)", f.After)
	}
	w := "l.workspace_id = $1 AND l.connection_id = $2"
	for _, c := range conds {
		w += " AND " + c
	}
	return w, args
}

const syncLogColumns = `l.id, l.created_at, l.direction, coalesce(l.run_id::text, ''), l.crm_record_id, l.crm_object, l.crm_id,
	l.outcome, l.error_code, l.message, l.written, l.api_calls`

func scanSyncLog(r pgx.Row) (SyncLogEntry, error) {
	var e SyncLogEntry
	return e, r.Scan(&e.ID, &e.At, &e.Direction, &e.RunID, &e.RecordID, &e.CRMObject, &e.CRMID, &e.Outcome, &e.Code, &e.Message, &e.Written, &e.Calls)
}

// SyncLog lists a connection's sync log, newest first: f.Limit rows
// before f.Before (or after f.After, the newest-first order kept).
func (db *DB) SyncLog(ctx context.Context, workspaceID, connectionID string, f SyncLogFilter) ([]SyncLogEntry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	if !validID(workspaceID) || !validID(connectionID) || (f.RunID != "" && !validID(f.RunID)) {
		return nil, nil
	}
	where, args := f.where()
	// A page after a row reads upwards from it, then is turned over.
	order := "l.created_at DESC, l.id DESC"
	if f.After != 0 && f.Before == 0 {
		order = "l.created_at, l.id"
	}
	args = append([]any{workspaceID, connectionID}, args...)
	rows, err := db.pool.Query(ctx, `SELECT `+syncLogColumns+` FROM sync_log l WHERE `+where+
		` ORDER BY `+order+` LIMIT `+strconv.Itoa(f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("store: sync log: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SyncLogEntry, error) { return scanSyncLog(r) })
	if err != nil {
		return nil, fmt.Errorf("store: sync log: %w", err)
	}
	if f.After != 0 && f.Before == 0 {
		slices.Reverse(out)
	}
	return out, nil
}

// SyncLogPage is one page of the log and whether pages lie either side.
type SyncLogPage struct {
	Entries      []SyncLogEntry
	Older, Newer bool
}

// SyncLogPaged lists a page of size rows under f (f.Limit is ignored),
// and says whether older and newer rows match too (one row more is read
// on the side the page moves to; the other side is known from the
// cursor).
func (db *DB) SyncLogPaged(ctx context.Context, workspaceID, connectionID string, f SyncLogFilter, size int) (*SyncLogPage, error) {
	f.Limit = size + 1
	rows, err := db.SyncLog(ctx, workspaceID, connectionID, f)
	if err != nil {
		return nil, err
	}
	p := &SyncLogPage{}
	if f.After != 0 && f.Before == 0 {
		p.Older = true
		if len(rows) > size {
			p.Newer, rows = true, rows[1:]
		}
	} else {
		p.Newer = f.Before != 0
		if len(rows) > size {
			p.Older, rows = true, rows[:size]
		}
	}
	p.Entries = rows
	return p, nil
}

// CountSyncLog counts the rows under f (paging ignored), up to max: it
// stops reading at max+1, so that an export can refuse a filter that
// matches too many rows without counting them all.
func (db *DB) CountSyncLog(ctx context.Context, workspaceID, connectionID string, f SyncLogFilter, max int) (int, error) {
	if !validID(workspaceID) || !validID(connectionID) || (f.RunID != "" && !validID(f.RunID)) {
		return 0, nil
	}
	f.Before, f.After = 0, 0
	where, args := f.where()
	args = append([]any{workspaceID, connectionID}, args...)
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM sync_log l WHERE `+where+` LIMIT `+strconv.Itoa(max+1)+`) x`,
		args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count sync log: %w", err)
	}
	return n, nil
}

// EachSyncLog calls fn with every row under f (paging ignored), newest
// first, at most max of them, streaming from the database (the export):
// rows are never all held in memory.
func (db *DB) EachSyncLog(ctx context.Context, workspaceID, connectionID string, f SyncLogFilter, max int, fn func(SyncLogEntry) error) error {
	if !validID(workspaceID) || !validID(connectionID) || (f.RunID != "" && !validID(f.RunID)) {
		return nil
	}
	f.Before, f.After = 0, 0
	where, args := f.where()
	args = append([]any{workspaceID, connectionID}, args...)
	rows, err := db.pool.Query(ctx, `SELECT `+syncLogColumns+` FROM sync_log l WHERE `+where+
		` ORDER BY l.created_at DESC, l.id DESC LIMIT `+strconv.Itoa(max), args...)
	if err != nil {
		return fmt.Errorf("store: export sync log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanSyncLog(rows)
		if err != nil {
			return fmt.Errorf("store: export sync log: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: export sync log: %w", err)
	}
	return nil
}

// RetryMatching queues again the connection's records that failed for
// good and have a log row under f (paging ignored): at most max records
// per call, newest failures first, in one statement, audited under by.
// A record of another connection or workspace is never touched, nor one
// that is not failed now.
func (db *DB) RetryMatching(ctx context.Context, workspaceID, connectionID string, f SyncLogFilter, max int, by string) (int, error) {
	if !validID(workspaceID) || !validID(connectionID) || (f.RunID != "" && !validID(f.RunID)) {
		return 0, nil
	}
	f.Before, f.After = 0, 0
	where, args := f.where()
	args = append([]any{workspaceID, connectionID}, args...)
	var n int
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `WITH pick AS (
				SELECT r.crm_record_id FROM sync_records r
				WHERE r.workspace_id = $1 AND r.connection_id = $2 AND r.state = 'failed'
					AND EXISTS (SELECT 1 FROM sync_log l WHERE `+where+` AND l.crm_record_id = r.crm_record_id)
				ORDER BY r.updated_at DESC LIMIT `+strconv.Itoa(max)+` FOR UPDATE SKIP LOCKED)
			UPDATE sync_records s SET state = 'pending', attempts = 0, due_at = now(), updated_at = now()
			FROM pick WHERE s.connection_id = $2 AND s.crm_record_id = pick.crm_record_id AND s.state = 'failed'`, args...)
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		if n == 0 {
			return nil
		}
		if err := audit(ctx, tx, workspaceID, connectionID, by, "sync.retried", map[string]any{"filter": f.describe(), "records": n}); err != nil {
			return err
		}
		return db.insertPush(ctx, tx, connectionID, true, time.Time{})
	})
	if err != nil {
		return 0, fmt.Errorf("store: retry matching: %w", err)
	}
	return n, nil
}

// describe is the filter for the audit log.
func (f SyncLogFilter) describe() map[string]string {
	m := map[string]string{}
	for k, v := range map[string]string{"outcome": f.Outcome, "record": f.RecordID, "object": f.CRMObject, "direction": f.Direction, "run": f.RunID} {
		if v != "" {
			m[k] = v
		}
	}
	if !f.From.IsZero() {
		m["from"] = f.From.UTC().Format(time.RFC3339)
	}
	if !f.To.IsZero() {
		m["to"] = f.To.UTC().Format(time.RFC3339)
	}
	return m
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
