package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/qwoty"
)

// The console's Quotes page: every live quote of a workspace, across its
// CRM accounts, filtered and searched, a page at a time.

// WorkspaceQuoteFilter narrows the console's quote list; the zero value lists all.
type WorkspaceQuoteFilter struct {
	Status qwoty.Status
	// Owner is the CRM user id that made the quote.
	Owner string
	// Record is the CRM record (deal, opportunity) id.
	Record string
	// WithoutRecord lists only the quotes without a CRM deal yet
	// (docs/deals.md).
	WithoutRecord bool
	// From and To bound the creation day (UTC), To included; zero: open.
	From, To time.Time
	// Search matches the number, the title or the customer's name
	// (case-insensitive, a substring).
	Search string
	// After continues a page: the last row's created_at and id.
	AfterAt time.Time
	AfterID string
	// Limit is the page's size (1..100, 50).
	Limit int
}

// QuoteRow is one quote of the list, with its CRM account.
type QuoteRow struct {
	qwoty.Quote
	Provider  qwoty.Provider
	AccountID string
}

// likePattern is s as a substring pattern of ILIKE, its wildcards escaped.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// WorkspaceQuotes lists a workspace's live quotes, newest first, and
// whether more follow.
func (db *DB) WorkspaceQuotes(ctx context.Context, workspaceID string, f WorkspaceQuoteFilter) ([]QuoteRow, bool, error) {
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 50
	}
	var from, to, afterAt *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		t := f.To.AddDate(0, 0, 1)
		to = &t
	}
	if f.AfterID != "" && validID(f.AfterID) {
		afterAt = &f.AfterAt
	}
	search := ""
	if f.Search != "" {
		search = likePattern(f.Search)
	}
	rows, err := db.pool.Query(ctx, `SELECT `+quoteColumns+`, c.provider, c.external_id`+quoteFrom+`
		JOIN connections c ON c.id = q.connection_id
		WHERE q.workspace_id = $1 AND q.deleted_at IS NULL
			AND ($2 = '' OR q.status = $2) AND ($3 = '' OR q.created_by = $3) AND ($4 = '' OR q.crm_record_id = $4)
			AND ($5::timestamptz IS NULL OR q.created_at >= $5) AND ($6::timestamptz IS NULL OR q.created_at < $6)
			AND ($7 = '' OR q.number ILIKE $7 OR q.title ILIKE $7 OR cu.name ILIKE $7)
			AND ($8::timestamptz IS NULL OR (q.created_at, q.id) < ($8, $9::uuid))
			AND (NOT $11 OR q.crm_record_id = '')
		ORDER BY q.created_at DESC, q.id DESC LIMIT $10`,
		workspaceID, string(f.Status), f.Owner, f.Record, from, to, search, afterAt, nullID(f.AfterID), f.Limit+1, f.WithoutRecord)
	if err != nil {
		return nil, false, fmt.Errorf("store: quotes of workspace %s: %w", workspaceID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (QuoteRow, error) {
		var q QuoteRow
		err := r.Scan(append(quoteDest(&q.Quote), &q.Provider, &q.AccountID)...)
		return q, err
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: quotes of workspace %s: %w", workspaceID, err)
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	return out, more, nil
}

// nullID is id for a uuid parameter, nil when it is not one.
func nullID(id string) *string {
	if !validID(id) {
		return nil
	}
	return &id
}

// WorkspaceQuote is one quote of the workspace with its lines and CRM
// account, whatever its record: the console's quote page.
func (db *DB) WorkspaceQuote(ctx context.Context, workspaceID, id string) (*QuoteRow, error) {
	if !validID(id) {
		return nil, notFound(id)
	}
	var s Scope
	err := db.pool.QueryRow(ctx, `SELECT connection_id, crm_record_id FROM quotes WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL`,
		id, workspaceID).Scan(&s.ConnectionID, &s.RecordID)
	if err == pgx.ErrNoRows {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: quote %s: %w", id, err)
	}
	s.WorkspaceID = workspaceID
	q, err := getQuote(ctx, db.pool, s, id, false)
	if err != nil {
		return nil, err
	}
	row := &QuoteRow{Quote: *q}
	if err := db.pool.QueryRow(ctx, `SELECT provider, external_id FROM connections WHERE id = $1 AND workspace_id = $2`,
		s.ConnectionID, workspaceID).Scan(&row.Provider, &row.AccountID); err != nil {
		return nil, fmt.Errorf("store: quote %s: its connection: %w", id, err)
	}
	return row, nil
}

// QuoteAudit is the audit log's entries of one quote (by its number),
// oldest first, at most limit.
func (db *DB) QuoteAudit(ctx context.Context, workspaceID, number string, limit int) ([]AuditEntry, error) {
	rows, err := db.pool.Query(ctx, `SELECT action, actor, detail, created_at FROM audit_log
		WHERE workspace_id = $1 AND detail->>'quote' = $2 ORDER BY id LIMIT $3`, workspaceID, number, limit)
	if err != nil {
		return nil, fmt.Errorf("store: history of quote %s: %w", number, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		return e, r.Scan(&e.Action, &e.Actor, &e.Detail, &e.CreatedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("store: history of quote %s: %w", number, err)
	}
	return out, nil
}
