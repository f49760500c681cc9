package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Orders made in the CRM (crm.KindOrder), pulled in as orders of origin
// 'crm' on the deal they are on, read-only in Qwoty: only on a deal Qwoty
// knows (a quote is on it, or it was pulled), never one Qwoty made itself
// (known by its CRM id, or by its number in the CRM's reference field
// before the push recorded the id), an older version never over a newer
// one, a deletion marking the copy.

// applyOrder writes the pulled order r of connection conn.
func (db *DB) applyOrder(ctx context.Context, tx pgx.Tx, ws, conn string, r crm.Pulled) (PullApplied, error) {
	var id string
	var origin qwoty.OrderOrigin
	var modified *time.Time
	err := tx.QueryRow(ctx, `SELECT id::text, origin, crm_modified FROM orders WHERE connection_id = $1 AND crm_order_id = $2 FOR UPDATE`,
		conn, r.ID).Scan(&id, &origin, &modified)
	found := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return PullApplied{}, err
	}
	switch {
	case found && origin == qwoty.OrderFromQuote:
		return counted(r, false), nil // Qwoty's own, which the order push keeps
	case found && modified != nil && !r.Modified.After(*modified):
		return counted(r, false), nil // an older, or the same, version
	case r.Deleted:
		if !found {
			return counted(r, false), nil
		}
		if _, err := tx.Exec(ctx, `UPDATE orders SET crm_deleted = true, crm_modified = $2, version = version + 1, updated_at = now()
			WHERE id = $1`, id, r.Modified); err != nil {
			return PullApplied{}, err
		}
		return db.orderPulled(ctx, tx, ws, conn, id, qwoty.EventOrderUpdated, r)
	}
	o := r.Order
	if o == nil {
		return PullApplied{}, fmt.Errorf("kind %q without its data", r.Kind)
	}
	if !found {
		var skip bool
		if err := tx.QueryRow(ctx, `SELECT
				($3 <> '' AND EXISTS (SELECT 1 FROM orders WHERE workspace_id = $1 AND connection_id = $2 AND origin = 'qwoty' AND number = $3))
				OR NOT ($4 <> '' AND (EXISTS (SELECT 1 FROM quotes WHERE workspace_id = $1 AND connection_id = $2 AND crm_record_id = $4)
					OR EXISTS (SELECT 1 FROM crm_deals WHERE connection_id = $2 AND crm_id = $4)))`,
			ws, conn, o.Reference, o.RecordID).Scan(&skip); err != nil {
			return PullApplied{}, err
		}
		if skip {
			return counted(r, false), nil
		}
	}
	event := qwoty.EventOrderUpdated
	if found {
		if _, err := tx.Exec(ctx, `UPDATE orders SET status = $2, currency = $3, subtotal = $4, total = $4, crm_number = $5,
				crm_modified = $6, crm_deleted = false, crm_record_id = $7, version = version + 1, updated_at = now()
			WHERE id = $1`, id, o.Status, o.Currency, o.Total, o.Number, r.Modified, o.RecordID); err != nil {
			return PullApplied{}, err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM order_lines WHERE order_id = $1`, id); err != nil {
			return PullApplied{}, err
		}
	} else {
		var seq int64
		if err := tx.QueryRow(ctx, `UPDATE workspaces SET next_order_number = next_order_number + 1 WHERE id = $1
			RETURNING next_order_number - 1`, ws).Scan(&seq); err != nil {
			return PullApplied{}, fmt.Errorf("next order number: %w", err)
		}
		id, event = newID(), qwoty.EventOrderCreated
		if _, err := tx.Exec(ctx, `INSERT INTO orders (id, workspace_id, connection_id, crm_record_id, number, origin, status, currency,
				subtotal, total, crm_order_id, crm_number, crm_modified)
			VALUES ($1, $2, $3, $4, $5, 'crm', $6, $7, $8, $8, $9, $10, $11)`,
			id, ws, conn, o.RecordID, qwoty.FormatOrderNumber(seq), o.Status, o.Currency, o.Total, r.ID, o.Number, r.Modified); err != nil {
			return PullApplied{}, err
		}
	}
	if len(o.Lines) > 0 {
		rows := make([][]any, len(o.Lines))
		for i, l := range o.Lines {
			rows[i] = []any{id, i + 1, l.ProductID, l.SKU, l.Description, l.Quantity, l.UnitPrice, l.Quantity.Mul(l.UnitPrice), l.Net}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"order_lines"}, []string{"order_id", "position", "product_crm_id", "sku", "description",
			"quantity", "unit_price", "amount", "net"}, pgx.CopyFromRows(rows)); err != nil {
			return PullApplied{}, fmt.Errorf("order lines: %w", err)
		}
	}
	return db.orderPulled(ctx, tx, ws, conn, id, event, r)
}

// orderPulled emits the event of pulled order id.
func (db *DB) orderPulled(ctx context.Context, tx pgx.Tx, ws, conn, id string, t qwoty.EventType, r crm.Pulled) (PullApplied, error) {
	o, err := connectionOrder(ctx, tx, ws, conn, id, false)
	if err != nil {
		return PullApplied{}, err
	}
	if err := db.emitEvent(ctx, tx, orderEvent(t, o)); err != nil {
		return PullApplied{}, err
	}
	return counted(r, true), nil
}
