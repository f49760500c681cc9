package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/qwoty"
)

// The console's Orders page (docs/orders.md): every order of a workspace,
// across its CRM accounts, filtered and searched, a page at a time; one
// order with its lines, its CRM state and its history.

// WorkspaceOrderFilter narrows the console's order list; the zero value
// lists all.
type WorkspaceOrderFilter struct {
	Status qwoty.OrderStatus
	// Record is the CRM record (deal, opportunity) id.
	Record string
	// From and To bound the creation day (UTC), To included; zero: open.
	From, To time.Time
	// Search matches the order's number, its quote's number or the
	// customer's name (case-insensitive, a substring).
	Search string
	// After continues a page: the last row's created_at and id.
	AfterAt time.Time
	AfterID string
	// Limit is the page's size (1..100, 50).
	Limit int
}

// OrderRow is one order of the console, with its CRM account and how many
// lines it has.
type OrderRow struct {
	qwoty.Order
	Provider  qwoty.Provider
	AccountID string
	LineCount int
}

// WorkspaceOrders lists a workspace's orders, newest first, and whether
// more follow.
func (db *DB) WorkspaceOrders(ctx context.Context, workspaceID string, f WorkspaceOrderFilter) ([]OrderRow, bool, error) {
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
	rows, err := db.pool.Query(ctx, `SELECT `+orderColumns+`, c.provider, c.external_id,
			(SELECT count(*) FROM order_lines l WHERE l.order_id = o.id)
		FROM orders o JOIN connections c ON c.id = o.connection_id AND c.workspace_id = o.workspace_id
		WHERE o.workspace_id = $1
			AND ($2 = '' OR o.status = $2) AND ($3 = '' OR o.crm_record_id = $3)
			AND ($4::timestamptz IS NULL OR o.created_at >= $4) AND ($5::timestamptz IS NULL OR o.created_at < $5)
			AND ($6 = '' OR o.number ILIKE $6 OR o.quote_number ILIKE $6 OR o.customer_name ILIKE $6)
			AND ($7::timestamptz IS NULL OR (o.created_at, o.id) < ($7, $8::uuid))
		ORDER BY o.created_at DESC, o.id DESC LIMIT $9`,
		workspaceID, string(f.Status), f.Record, from, to, search, afterAt, nullID(f.AfterID), f.Limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("store: orders of workspace %s: %w", workspaceID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OrderRow, error) {
		var o OrderRow
		err := r.Scan(&o.ID, &o.WorkspaceID, &o.ConnectionID, &o.CRMRecordID, &o.Number, &o.Origin,
			&o.QuoteID, &o.QuoteNumber, &o.Revision, &o.Status, &o.CustomerID, &o.CustomerName, &o.Currency,
			&o.Totals.Subtotal, &o.Totals.Discount, &o.Totals.QuoteDiscount, &o.Totals.Tax, &o.Totals.Total,
			&o.CRMOrderID, &o.Version, &o.CreatedAt, &o.UpdatedAt, &o.Provider, &o.AccountID, &o.LineCount)
		return o, err
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: orders of workspace %s: %w", workspaceID, err)
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	return out, more, nil
}

// WorkspaceOrder is one order of the workspace with its lines and CRM
// account, whatever its record: the console's order page.
func (db *DB) WorkspaceOrder(ctx context.Context, workspaceID, id string) (*OrderRow, error) {
	if !validID(id) {
		return nil, orderNotFound(id)
	}
	var connectionID string
	err := db.pool.QueryRow(ctx, `SELECT connection_id FROM orders WHERE id = $1 AND workspace_id = $2`, id, workspaceID).Scan(&connectionID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, orderNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: order %s: %w", id, err)
	}
	o, err := db.ConnectionOrder(ctx, workspaceID, connectionID, id)
	if err != nil {
		return nil, err
	}
	row := &OrderRow{Order: *o, LineCount: len(o.Lines)}
	if err := db.pool.QueryRow(ctx, `SELECT provider, external_id FROM connections WHERE id = $1 AND workspace_id = $2`,
		connectionID, workspaceID).Scan(&row.Provider, &row.AccountID); err != nil {
		return nil, fmt.Errorf("store: order %s: its connection: %w", id, err)
	}
	return row, nil
}

// OrderAudit is the audit log's entries of one order (by its number),
// oldest first, at most limit.
func (db *DB) OrderAudit(ctx context.Context, workspaceID, number string, limit int) ([]AuditEntry, error) {
	rows, err := db.pool.Query(ctx, `SELECT action, actor, detail, created_at FROM audit_log
		WHERE workspace_id = $1 AND detail->>'order' = $2 ORDER BY id LIMIT $3`, workspaceID, number, limit)
	if err != nil {
		return nil, fmt.Errorf("store: history of order %s: %w", number, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		return e, r.Scan(&e.Action, &e.Actor, &e.Detail, &e.CreatedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("store: history of order %s: %w", number, err)
	}
	return out, nil
}

// OrderSyncState is where an order stands with the CRM, as the sync log
// last recorded it.
type OrderSyncState struct {
	// Outcome is the last attempt's (synced, retrying, failed, waiting,
	// skipped); "" when the order was never sent.
	Outcome string
	At      time.Time
	Code    string
	Message string
}

// OrderSync is the sync log's last entry about order o (the order object,
// on its record, for its quote or its CRM id); zero when there is none.
func (db *DB) OrderSync(ctx context.Context, o *qwoty.Order) (OrderSyncState, error) {
	var s OrderSyncState
	err := db.pool.QueryRow(ctx, `SELECT outcome, created_at, error_code, message FROM sync_log
		WHERE workspace_id = $1 AND connection_id = $2 AND crm_record_id = $3 AND crm_object = 'order'
			AND (($4::uuid IS NOT NULL AND quote_id = $4::uuid) OR ($5 <> '' AND crm_id = $5))
		ORDER BY id DESC LIMIT 1`, o.WorkspaceID, o.ConnectionID, o.CRMRecordID, nullID(o.QuoteID), o.CRMOrderID).
		Scan(&s.Outcome, &s.At, &s.Code, &s.Message)
	if errors.Is(err, pgx.ErrNoRows) {
		return OrderSyncState{}, nil
	}
	if err != nil {
		return s, fmt.Errorf("store: sync of order %s: %w", o.Number, err)
	}
	return s, nil
}
