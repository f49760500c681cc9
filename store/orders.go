package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/qwoty"
)

// Orders (issue 18, docs/orders.md): accepting a quote generates its order
// here, in the transaction of the acceptance, whichever path accepted it
// (updateQuote: the customer's page, the card, the API; writeStatusFromCRM:
// a stage pulled from the CRM).

const orderColumns = `o.id, o.workspace_id, o.connection_id, o.crm_record_id, o.number, o.origin,
	coalesce(o.quote_id::text, ''), o.quote_number, o.revision, o.status,
	coalesce(o.customer_id::text, ''), o.customer_name, o.currency,
	o.subtotal, o.discount, o.quote_discount, o.tax, o.total, o.crm_order_id, o.version, o.created_at, o.updated_at`

func scanOrder(row pgx.CollectableRow) (qwoty.Order, error) {
	var o qwoty.Order
	err := row.Scan(&o.ID, &o.WorkspaceID, &o.ConnectionID, &o.CRMRecordID, &o.Number, &o.Origin,
		&o.QuoteID, &o.QuoteNumber, &o.Revision, &o.Status, &o.CustomerID, &o.CustomerName, &o.Currency,
		&o.Totals.Subtotal, &o.Totals.Discount, &o.Totals.QuoteDiscount, &o.Totals.Tax, &o.Totals.Total,
		&o.CRMOrderID, &o.Version, &o.CreatedAt, &o.UpdatedAt)
	return o, err
}

func orderNotFound(id string) error {
	return &qwoty.Error{Code: qwoty.CodeNotFound, Message: fmt.Sprintf("order %s was not found", quotedID(id)),
		Hint: "Check the order's id; orders are listed in the console's Orders page and by GET /api/v1/orders.", Err: qwoty.ErrNotFound}
}

// generateOrder makes the order of quote id, just accepted in tx (the
// caller moved it), unless it has one: the quote's lines and totals as
// stored, numbered next in the workspace, with its order.created event.
// It returns the order, nil when the quote had one already.
func (db *DB) generateOrder(ctx context.Context, tx pgx.Tx, s Scope, id, by string) (*qwoty.Order, error) {
	q, err := getQuote(ctx, tx, s, id, false)
	if err != nil {
		return nil, err
	}
	if q.Status != qwoty.StatusAccepted {
		return nil, fmt.Errorf("generate order: quote %s is %s, not accepted", q.Number, q.Status)
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM orders WHERE quote_id = $1)`, q.ID).Scan(&exists); err != nil {
		return nil, fmt.Errorf("generate order: %w", err)
	}
	if exists {
		return nil, nil
	}
	var seq int64
	if err := tx.QueryRow(ctx, `UPDATE workspaces SET next_order_number = next_order_number + 1 WHERE id = $1
		RETURNING next_order_number - 1`, s.WorkspaceID).Scan(&seq); err != nil {
		return nil, fmt.Errorf("next order number: %w", err)
	}
	o := qwoty.OrderOf(q, qwoty.FormatOrderNumber(seq))
	o.ID = newID()
	var customer any
	if o.CustomerID != "" {
		customer = o.CustomerID
	}
	if err := tx.QueryRow(ctx, `INSERT INTO orders (id, workspace_id, connection_id, crm_record_id, number, origin, quote_id, quote_number,
			revision, status, customer_id, customer_name, currency, subtotal, discount, quote_discount, tax, total)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
		RETURNING version, created_at, updated_at`,
		o.ID, o.WorkspaceID, o.ConnectionID, o.CRMRecordID, o.Number, o.Origin, o.QuoteID, o.QuoteNumber,
		o.Revision, o.Status, customer, o.CustomerName, o.Currency,
		o.Totals.Subtotal, o.Totals.Discount, o.Totals.QuoteDiscount, o.Totals.Tax, o.Totals.Total).
		Scan(&o.Version, &o.CreatedAt, &o.UpdatedAt); err != nil {
		return nil, fmt.Errorf("generate order: %w", err)
	}
	if len(o.Lines) > 0 {
		rows := make([][]any, len(o.Lines))
		for i, l := range o.Lines {
			rows[i] = []any{o.ID, l.Position, l.ProductID, l.SKU, l.Description, l.Quantity, l.UnitPrice, l.DiscountPercent,
				l.Amount, l.Discount, l.Tax, l.Net}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"order_lines"}, []string{"order_id", "position", "product_crm_id", "sku",
			"description", "quantity", "unit_price", "discount_percent", "amount", "discount", "tax", "net"},
			pgx.CopyFromRows(rows)); err != nil {
			return nil, fmt.Errorf("generate order lines: %w", err)
		}
	}
	if err := audit(ctx, tx, o.WorkspaceID, o.ConnectionID, by, "order.created",
		map[string]any{"order": o.Number, "quote": o.QuoteNumber, "revision": o.Revision}); err != nil {
		return nil, err
	}
	// Written to the CRM when the connection sends orders (order_pushes.go).
	if err := db.queueOrderPush(ctx, tx, &o); err != nil {
		return nil, err
	}
	return &o, db.emitEvent(ctx, tx, orderEvent(qwoty.EventOrderCreated, &o))
}

// orderLines reads the lines of order id.
func orderLines(ctx context.Context, db querier, id string) ([]qwoty.OrderLine, error) {
	rows, err := db.Query(ctx, `SELECT position, product_crm_id, sku, description, quantity, unit_price, discount_percent,
		amount, discount, tax, net FROM order_lines WHERE order_id = $1 ORDER BY position`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (qwoty.OrderLine, error) {
		var l qwoty.OrderLine
		err := r.Scan(&l.Position, &l.ProductID, &l.SKU, &l.Description, &l.Quantity, &l.UnitPrice, &l.DiscountPercent,
			&l.Amount, &l.Discount, &l.Tax, &l.Net)
		return l, err
	})
}

// RecordOrders lists the orders of a scope's record, newest first, without
// their lines.
func (db *DB) RecordOrders(ctx context.Context, s Scope) ([]qwoty.Order, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+orderColumns+` FROM orders o
		WHERE o.workspace_id = $1 AND o.connection_id = $2 AND o.crm_record_id = $3 ORDER BY o.created_at DESC, o.number DESC`,
		s.WorkspaceID, s.ConnectionID, s.RecordID)
	if err != nil {
		return nil, fmt.Errorf("store: record orders: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanOrder)
	if err != nil {
		return nil, fmt.Errorf("store: record orders: %w", err)
	}
	return out, nil
}

// QuoteOrder returns the order quote id of scope s generated, with its
// lines, or nil when it has none.
func (db *DB) QuoteOrder(ctx context.Context, s Scope, quoteID string) (*qwoty.Order, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+orderColumns+` FROM orders o
		WHERE o.quote_id = $4 AND o.workspace_id = $1 AND o.connection_id = $2 AND o.crm_record_id = $3`,
		s.WorkspaceID, s.ConnectionID, s.RecordID, quoteID)
	if err != nil {
		return nil, fmt.Errorf("store: quote order: %w", err)
	}
	o, err := pgx.CollectExactlyOneRow(rows, scanOrder)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: quote order: %w", err)
	}
	if o.Lines, err = orderLines(ctx, db.pool, o.ID); err != nil {
		return nil, fmt.Errorf("store: quote order lines: %w", err)
	}
	return &o, nil
}

// ConnectionOrder returns order id of a workspace's connection, with its
// lines (the API's and the console's read: scoped to the workspace and the
// CRM account, not to a record).
func (db *DB) ConnectionOrder(ctx context.Context, workspaceID, connectionID, id string) (*qwoty.Order, error) {
	return connectionOrder(ctx, db.pool, workspaceID, connectionID, id, false)
}

func connectionOrder(ctx context.Context, db querier, workspaceID, connectionID, id string, forUpdate bool) (*qwoty.Order, error) {
	if !validID(id) {
		return nil, orderNotFound(id)
	}
	lock := ""
	if forUpdate {
		lock = " FOR UPDATE"
	}
	rows, err := db.Query(ctx, `SELECT `+orderColumns+` FROM orders o WHERE o.id = $3 AND o.workspace_id = $1 AND o.connection_id = $2`+lock,
		workspaceID, connectionID, id)
	if err != nil {
		return nil, fmt.Errorf("store: order %s: %w", id, err)
	}
	o, err := pgx.CollectExactlyOneRow(rows, scanOrder)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, orderNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: order %s: %w", id, err)
	}
	if o.Lines, err = orderLines(ctx, db, o.ID); err != nil {
		return nil, fmt.Errorf("store: order %s lines: %w", id, err)
	}
	return &o, nil
}

// SetOrderStatus moves order id of a workspace's connection to next
// (qwoty.Order.Transition: an order the CRM owns is refused), under its
// row lock; version is the version the caller read (0 skips the check).
// The move is audited under by and makes an order.updated event.
func (db *DB) SetOrderStatus(ctx context.Context, workspaceID, connectionID, id string, version int, next qwoty.OrderStatus, by string) (*qwoty.Order, error) {
	var out *qwoty.Order
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		o, err := connectionOrder(ctx, tx, workspaceID, connectionID, id, true)
		if err != nil {
			return err
		}
		if version != 0 && version != o.Version {
			return qwoty.Errorf(qwoty.CodeVersionConflict, "Reload the order and try again.",
				"order %s changed since it was read (version %d, now %d)", o.Number, version, o.Version)
		}
		was := o.Status
		if err := o.Transition(next); err != nil {
			return err
		}
		if was == o.Status {
			out = o
			return nil
		}
		if err := tx.QueryRow(ctx, `UPDATE orders SET status = $2, version = version + 1, updated_at = now() WHERE id = $1
			RETURNING version, updated_at`, o.ID, o.Status).Scan(&o.Version, &o.UpdatedAt); err != nil {
			return err
		}
		if err := audit(ctx, tx, o.WorkspaceID, o.ConnectionID, by, "order.status_changed",
			map[string]any{"order": o.Number, "from": was, "to": o.Status}); err != nil {
			return err
		}
		// The CRM's order follows (order_pushes.go).
		if err := db.queueOrderStatus(ctx, tx, o); err != nil {
			return err
		}
		out = o
		return db.emitEvent(ctx, tx, orderEvent(qwoty.EventOrderUpdated, o))
	})
	if err != nil {
		return nil, fmt.Errorf("store: order %s status: %w", id, err)
	}
	return out, nil
}

// OrderEventData is the data of an order's events.
type OrderEventData struct {
	ID          string            `json:"id"`
	Number      string            `json:"number"`
	Status      qwoty.OrderStatus `json:"status"`
	Origin      qwoty.OrderOrigin `json:"origin"`
	QuoteID     string            `json:"quoteId,omitempty"`
	QuoteNumber string            `json:"quoteNumber,omitempty"`
	Revision    int               `json:"revision,omitempty"`
	Currency    string            `json:"currency"`
	Subtotal    string            `json:"subtotal"`
	Discount    string            `json:"discount"`
	Tax         string            `json:"tax"`
	Total       string            `json:"total"`
	CustomerID  string            `json:"customerId,omitempty"`
	CRMRecordID string            `json:"crmRecordId"`
	CRMOrderID  string            `json:"crmOrderId,omitempty"`
	Version     int               `json:"version"`
	CreatedAt   time.Time         `json:"createdAt"`
	UpdatedAt   time.Time         `json:"updatedAt"`
}

// orderEvent is the event t of order o. Subscriptions' status filters are
// about quotes: an order's event passes them (Status "").
func orderEvent(t qwoty.EventType, o *qwoty.Order) Event {
	return Event{WorkspaceID: o.WorkspaceID, ConnectionID: o.ConnectionID, Type: t, Subject: o.ID, CustomerID: o.CustomerID,
		Data: OrderEventData{ID: o.ID, Number: o.Number, Status: o.Status, Origin: o.Origin, QuoteID: o.QuoteID,
			QuoteNumber: o.QuoteNumber, Revision: o.Revision, Currency: o.Currency, Subtotal: o.Totals.Subtotal.String(),
			Discount: o.Totals.Discount.String(), Tax: o.Totals.Tax.String(), Total: o.Totals.Total.String(),
			CustomerID: o.CustomerID, CRMRecordID: o.CRMRecordID, CRMOrderID: o.CRMOrderID, Version: o.Version,
			CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}}
}
