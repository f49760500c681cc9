package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
)

// Orders to the CRM (order_pushes, migration 025): an order Qwoty
// generated is written to its CRM once, then kept at its status. The row
// is made, with its job, in the transaction that generates the order; the
// job (crmsync) claims it for a lease, marks it pushing before it sends
// the order and done after, so that a retry after a lost answer looks for
// the order in the CRM before it sends it again. A status change moves a
// done row back to pending, with a job, and the CRM's order follows.

// Order push states.
const (
	OrderPushPending = "pending"
	OrderPushPushing = "pushing"
	OrderPushDone    = WriteDone
	OrderPushFailed  = WriteFailed
)

// OrderPush is where one order stands with its CRM.
type OrderPush struct {
	OrderID      string
	WorkspaceID  string
	ConnectionID string
	RecordID     string
	State        string
	CRMOrderID   string
	// PushedStatus is the status the CRM's order holds, "" before it is
	// made.
	PushedStatus qwoty.OrderStatus
	Attempts     int
	Code         qwoty.Code
	Error        string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	DoneAt       time.Time
}

// SetOrderSyncing says which CRMs take orders (their adapter is a
// crm.OrderSyncer): an order on another's connection queues nothing. The
// sync engine sets it from its registry; unset, no CRM is taken to.
func (db *DB) SetOrderSyncing(takes func(qwoty.Provider) bool) { db.orderSyncers.Store(&takes) }

func (db *DB) orderSyncing(p qwoty.Provider) bool {
	f := db.orderSyncers.Load()
	return f != nil && *f != nil && (*f)(p)
}

// ordersOn reports, in tx, whether connection connectionID of workspace
// workspaceID sends orders: its CRM takes them and its sync settings have
// the order trigger (off until an admin turns it on).
func (db *DB) ordersOn(ctx context.Context, tx pgx.Tx, workspaceID, connectionID string) (bool, error) {
	var provider qwoty.Provider
	var on bool
	err := tx.QueryRow(ctx, `SELECT c.provider, EXISTS (SELECT 1 FROM sync_settings ss
			WHERE ss.connection_id = c.id AND $3 = ANY(ss.triggers))
		FROM connections c WHERE c.id = $1 AND c.workspace_id = $2`,
		connectionID, workspaceID, qwoty.TriggerOrder).Scan(&provider, &on)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("order push: %w", err)
	}
	return on && db.orderSyncing(provider), nil
}

// queueOrderPush records, in tx, that order o was just generated: when it
// is Qwoty's (an order pulled from the CRM is the CRM's) and its
// connection sends orders, an order_pushes row and its job are inserted,
// once per order.
func (db *DB) queueOrderPush(ctx context.Context, tx pgx.Tx, o *qwoty.Order) error {
	if o.Origin != qwoty.OrderFromQuote || o.CRMRecordID == "" {
		return nil
	}
	on, err := db.ordersOn(ctx, tx, o.WorkspaceID, o.ConnectionID)
	if err != nil || !on {
		return err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO order_pushes (order_id, workspace_id, connection_id, crm_record_id)
		VALUES ($1, $2, $3, $4) ON CONFLICT (order_id) DO NOTHING`, o.ID, o.WorkspaceID, o.ConnectionID, o.CRMRecordID)
	if err != nil {
		return fmt.Errorf("order push: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil
	}
	if _, err := db.jobs.InsertTx(ctx, tx, jobs.OrderPush{ConnectionID: o.ConnectionID, OrderID: o.ID}, nil); err != nil {
		return fmt.Errorf("insert order push job: %w", err)
	}
	return nil
}

// queueOrderStatus records, in tx, that order o's status changed: an
// order on its way to the CRM, or in it, is written again (a done row
// goes back to pending, with a job); one that failed, or was never
// queued, is left as it is; nothing goes out once the order trigger is
// off.
func (db *DB) queueOrderStatus(ctx context.Context, tx pgx.Tx, o *qwoty.Order) error {
	if o.Origin != qwoty.OrderFromQuote {
		return nil
	}
	on, err := db.ordersOn(ctx, tx, o.WorkspaceID, o.ConnectionID)
	if err != nil || !on {
		return err
	}
	tag, err := tx.Exec(ctx, `UPDATE order_pushes SET state = CASE WHEN state = 'done' THEN 'pending' ELSE state END,
			done_at = NULL, updated_at = now()
		WHERE order_id = $1 AND connection_id = $2 AND state <> 'failed'`, o.ID, o.ConnectionID)
	if err != nil {
		return fmt.Errorf("order push: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil
	}
	if _, err := db.jobs.InsertTx(ctx, tx, jobs.OrderPush{ConnectionID: o.ConnectionID, OrderID: o.ID}, nil); err != nil {
		return fmt.Errorf("insert order push job: %w", err)
	}
	return nil
}

const orderPushColumns = `order_id::text, workspace_id::text, connection_id::text, crm_record_id, state, crm_order_id, pushed_status,
	attempts, last_error_code, last_error, created_at, updated_at, coalesce(done_at, 'epoch')`

func scanOrderPush(row pgx.Row) (*OrderPush, error) {
	p := &OrderPush{}
	var code, status string
	err := row.Scan(&p.OrderID, &p.WorkspaceID, &p.ConnectionID, &p.RecordID, &p.State, &p.CRMOrderID, &status,
		&p.Attempts, &code, &p.Error, &p.CreatedAt, &p.UpdatedAt, &p.DoneAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, qwoty.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: order push: %w", err)
	}
	p.Code, p.PushedStatus = qwoty.Code(code), qwoty.OrderStatus(status)
	if p.DoneAt.Unix() == 0 {
		p.DoneAt = time.Time{}
	}
	return p, nil
}

// OrderPushOf returns where order orderID of connection connectionID
// stands with the CRM (qwoty.ErrNotFound when it was never queued).
func (db *DB) OrderPushOf(ctx context.Context, connectionID, orderID string) (*OrderPush, error) {
	if !validID(orderID) {
		return nil, qwoty.ErrNotFound
	}
	return scanOrderPush(db.pool.QueryRow(ctx, `SELECT `+orderPushColumns+` FROM order_pushes
		WHERE connection_id = $1 AND order_id = $2`, connectionID, orderID))
}

// ClaimOrderPush leases p to one run for lease: true when this run holds
// it; false, with when the holder's lease ends, when another run does.
// It fails with qwoty.ErrNotFound when p is no longer pending or pushing.
func (db *DB) ClaimOrderPush(ctx context.Context, p *OrderPush, lease time.Duration) (bool, time.Time, error) {
	var until *time.Time
	var mine bool
	err := db.pool.QueryRow(ctx, `WITH claimed AS (
			UPDATE order_pushes SET lease_until = now() + $3 * interval '1 millisecond'
			WHERE order_id = $1 AND connection_id = $2 AND state IN ('pending', 'pushing')
				AND (lease_until IS NULL OR lease_until < now())
			RETURNING lease_until)
		SELECT coalesce((SELECT lease_until FROM claimed), (SELECT lease_until FROM order_pushes
			WHERE order_id = $1 AND connection_id = $2 AND state IN ('pending', 'pushing'))),
			EXISTS (SELECT 1 FROM claimed)`,
		p.OrderID, p.ConnectionID, lease.Milliseconds()).Scan(&until, &mine)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("store: claim order push: %w", err)
	}
	if until == nil {
		return false, time.Time{}, qwoty.ErrNotFound
	}
	return mine, *until, nil
}

// StartOrderPush marks p about to create its order in the CRM. It is
// written, and committed, before the call: a retry that finds p pushing
// looks for the order in the CRM first. It fails with qwoty.ErrNotFound
// when p is no longer pending or pushing.
func (db *DB) StartOrderPush(ctx context.Context, p *OrderPush) error {
	tag, err := db.pool.Exec(ctx, `UPDATE order_pushes SET state = 'pushing', updated_at = now()
		WHERE order_id = $1 AND connection_id = $2 AND state IN ('pending', 'pushing')`, p.OrderID, p.ConnectionID)
	if err != nil {
		return fmt.Errorf("store: start order push: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return qwoty.ErrNotFound
	}
	p.State = OrderPushPushing
	return nil
}

// RecordOrderPush writes what became of a run of p (its CRMID the CRM's
// order, its Status the order's status that order holds), releases its
// lease, and writes its row in the sync log (object crmObject, on the
// order's record): the CRM's id and action when done, the CRM's words
// when failed or retried. A done push whose order changed status
// meanwhile goes back to pending: the state it returns says so (the
// caller runs it again).
func (db *DB) RecordOrderPush(ctx context.Context, p *OrderPush, crmObject string, r WriteResult) (string, error) {
	attempts := r.attempts(p.Attempts)
	state := r.State
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		// The order's row lock orders this after, or before, a status
		// change (SetOrderStatus holds it while it queues the change).
		var status qwoty.OrderStatus
		var quoteID string
		err := tx.QueryRow(ctx, `SELECT status, coalesce(quote_id::text, '') FROM orders WHERE id = $1 AND connection_id = $2 FOR UPDATE`,
			p.OrderID, p.ConnectionID).Scan(&status, &quoteID)
		if errors.Is(err, pgx.ErrNoRows) {
			return qwoty.ErrNotFound
		}
		if err != nil {
			return err
		}
		if state == OrderPushDone && status != r.Status {
			state = OrderPushPending
		}
		pushed := string(p.PushedStatus)
		if r.State == OrderPushDone {
			pushed = string(r.Status)
		}
		tag, err := tx.Exec(ctx, `UPDATE order_pushes SET state = $3, crm_order_id = CASE WHEN $4 = '' THEN crm_order_id ELSE $4 END,
				pushed_status = $5, attempts = $6, last_error_code = $7, last_error = $8, lease_until = NULL, updated_at = now(),
				done_at = CASE WHEN $3 IN ('done', 'failed') THEN now() END
			WHERE order_id = $1 AND connection_id = $2 AND state IN ('pending', 'pushing')`,
			p.OrderID, p.ConnectionID, state, r.CRMID, pushed, attempts, string(r.Code), r.Message)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return qwoty.ErrNotFound
		}
		if r.CRMID != "" {
			// The order shows its CRM twin (not a change of the order's
			// own: its version stays).
			if _, err := tx.Exec(ctx, `UPDATE orders SET crm_order_id = $3 WHERE id = $1 AND connection_id = $2 AND crm_order_id = ''`,
				p.OrderID, p.ConnectionID, r.CRMID); err != nil {
				return err
			}
		}
		return db.logWrite(ctx, tx, writeRun{WorkspaceID: p.WorkspaceID, ConnectionID: p.ConnectionID, RecordID: p.RecordID,
			QuoteID: quoteID, Object: crmObject, WriteResult: r})
	})
	if err != nil {
		return "", fmt.Errorf("store: record order push: %w", err)
	}
	p.Attempts, p.State = attempts, state
	if r.CRMID != "" {
		p.CRMOrderID = r.CRMID
	}
	if r.State == OrderPushDone {
		p.PushedStatus = r.Status
	}
	return state, nil
}

// FailedOrderPushes lists connection connectionID's orders that could not
// be written to the CRM in the last day, newest first (at most limit), as
// the alert lists them: their record, and a message naming the order.
func (db *DB) FailedOrderPushes(ctx context.Context, connectionID string, limit int) ([]FailedRecord, error) {
	rows, err := db.pool.Query(ctx, `SELECT p.crm_record_id, p.last_error_code, 'order ' || o.number || ' was not written: ' || p.last_error, p.updated_at
		FROM order_pushes p JOIN orders o ON o.id = p.order_id
		WHERE p.connection_id = $1 AND p.state = 'failed' AND p.updated_at > now() - interval '1 day'
		ORDER BY p.updated_at DESC LIMIT $2`, connectionID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: failed order pushes: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FailedRecord, error) {
		var f FailedRecord
		return f, r.Scan(&f.RecordID, &f.Code, &f.Message, &f.At)
	})
	if err != nil {
		return nil, fmt.Errorf("store: failed order pushes: %w", err)
	}
	return out, nil
}
