package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/qwoty"
)

// The public API's orders (api/order_*.go, docs/orders.md): a connection's
// orders across its records, listed by keyset pages, oldest first.

// OrderFilter selects an API listing of orders. Zero fields select
// everything.
type OrderFilter struct {
	Status   qwoty.OrderStatus
	QuoteID  string
	RecordID string
	// CreatedAfter and CreatedBefore bound the creation time, both
	// excluded.
	CreatedAfter  time.Time
	CreatedBefore time.Time
	After         *Cursor
	// Limit is the page size; one row more is read to tell whether
	// another page follows.
	Limit int
}

// APIOrders lists the orders of scope s's connection (every record) that
// f selects, oldest first by creation, after f.After; at most f.Limit, and
// whether more follow. Lines are not read: a listing shows totals, a get
// shows lines.
func (db *DB) APIOrders(ctx context.Context, s Scope, f OrderFilter) ([]qwoty.Order, bool, error) {
	args := []any{s.WorkspaceID, s.ConnectionID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	where := `o.workspace_id = $1 AND o.connection_id = $2`
	if f.Status != "" {
		where += ` AND o.status = ` + arg(string(f.Status))
	}
	if f.QuoteID != "" {
		if !validID(f.QuoteID) {
			return []qwoty.Order{}, false, nil
		}
		where += ` AND o.quote_id = ` + arg(f.QuoteID) + `::uuid`
	}
	if f.RecordID != "" {
		where += ` AND o.crm_record_id = ` + arg(f.RecordID)
	}
	if !f.CreatedAfter.IsZero() {
		where += ` AND o.created_at > ` + arg(f.CreatedAfter)
	}
	if !f.CreatedBefore.IsZero() {
		where += ` AND o.created_at < ` + arg(f.CreatedBefore)
	}
	if f.After != nil {
		if !validID(f.After.ID) {
			return nil, false, fmt.Errorf("store: api orders: cursor id %q is not an id", f.After.ID)
		}
		where += ` AND (o.created_at, o.id) > (` + arg(f.After.T) + `, ` + arg(f.After.ID) + `::uuid)`
	}
	rows, err := db.pool.Query(ctx, `SELECT `+orderColumns+` FROM orders o WHERE `+where+
		` ORDER BY o.created_at, o.id LIMIT `+arg(f.Limit+1), args...)
	if err != nil {
		return nil, false, fmt.Errorf("store: api orders: %w", err)
	}
	os, err := pgx.CollectRows(rows, scanOrder)
	if err != nil {
		return nil, false, fmt.Errorf("store: api orders: %w", err)
	}
	more := len(os) > f.Limit
	if more {
		os = os[:f.Limit]
	}
	return os, more, nil
}
