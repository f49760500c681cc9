package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
)

// Scope is what an embed session may touch: one CRM record's quotes, made
// in one CRM account (the connection), in one workspace. Every quote query
// filters on all three: the workspace keeps tenants apart, the connection
// keeps apart the CRM accounts a workspace has had (record ids repeat across
// CRMs and between an org and its sandboxes; a reconnected account is the
// same connection, so its quotes come back with it), and the record keeps
// one record's session from another's quotes.
type Scope struct {
	WorkspaceID  string
	ConnectionID string
	RecordID     string
}

const quoteColumns = `q.id, q.workspace_id, q.connection_id, coalesce(q.customer_id::text, ''), coalesce(cu.name, ''),
	q.crm_record_id, q.number, q.title, q.status, q.currency, q.tax_rate,
	q.subtotal, q.discount, q.tax, q.total, q.version, q.created_by, q.created_at, q.updated_at`

func scanQuote(row pgx.CollectableRow) (qwoty.Quote, error) {
	var q qwoty.Quote
	err := row.Scan(&q.ID, &q.WorkspaceID, &q.ConnectionID, &q.CustomerID, &q.CustomerName,
		&q.CRMRecordID, &q.Number, &q.Title, &q.Status, &q.Currency, &q.TaxRate,
		&q.Totals.Subtotal, &q.Totals.Discount, &q.Totals.Tax, &q.Totals.Total, &q.Version, &q.CreatedBy, &q.CreatedAt, &q.UpdatedAt)
	return q, err
}

func notFound(id string) error {
	return &qwoty.Error{Code: qwoty.CodeNotFound, Message: fmt.Sprintf("quote %s was not found on this record", id),
		Hint: "It may have been deleted; reload the card.", Err: qwoty.ErrNotFound}
}

// ListQuotes returns the live quotes of the scope's record, newest first.
func (db *DB) ListQuotes(ctx context.Context, s Scope) ([]qwoty.Quote, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+quoteColumns+` FROM quotes q LEFT JOIN customers cu ON cu.id = q.customer_id
		WHERE q.workspace_id = $1 AND q.connection_id = $2 AND q.crm_record_id = $3 AND q.deleted_at IS NULL
		ORDER BY q.updated_at DESC LIMIT 200`, s.WorkspaceID, s.ConnectionID, s.RecordID)
	if err != nil {
		return nil, fmt.Errorf("store: list quotes of record %s: %w", s.RecordID, err)
	}
	qs, err := pgx.CollectRows(rows, scanQuote)
	if err != nil {
		return nil, fmt.Errorf("store: list quotes of record %s: %w", s.RecordID, err)
	}
	return qs, nil
}

// GetQuote returns one quote of the scope with its lines.
func (db *DB) GetQuote(ctx context.Context, s Scope, id string) (*qwoty.Quote, error) {
	q, err := getQuote(ctx, db.pool, s, id, false)
	if err != nil {
		return nil, fmt.Errorf("store: get quote %s: %w", id, err)
	}
	return q, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func getQuote(ctx context.Context, db querier, s Scope, id string, forUpdate bool) (*qwoty.Quote, error) {
	if !validID(id) {
		return nil, notFound(id)
	}
	sql := `SELECT ` + quoteColumns + ` FROM quotes q LEFT JOIN customers cu ON cu.id = q.customer_id
		WHERE q.id = $1 AND q.workspace_id = $2 AND q.connection_id = $3 AND q.crm_record_id = $4 AND q.deleted_at IS NULL`
	if forUpdate {
		sql += ` FOR UPDATE OF q`
	}
	rows, err := db.Query(ctx, sql, id, s.WorkspaceID, s.ConnectionID, s.RecordID)
	if err != nil {
		return nil, err
	}
	q, err := pgx.CollectExactlyOneRow(rows, scanQuote)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, err
	}
	rows, err = db.Query(ctx, `SELECT id, quote_id, coalesce(parent_id::text, ''), position, sku, description,
		quantity, unit_price, discount_percent, amount, discount, net
		FROM quote_line_items WHERE quote_id = $1 ORDER BY position, created_at`, id)
	if err != nil {
		return nil, err
	}
	q.Lines, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (qwoty.LineItem, error) {
		var l qwoty.LineItem
		err := r.Scan(&l.ID, &l.QuoteID, &l.ParentID, &l.Position, &l.SKU, &l.Description,
			&l.Quantity, &l.UnitPrice, &l.DiscountPercent, &l.Amount, &l.Discount, &l.Net)
		return l, err
	})
	if err != nil {
		return nil, err
	}
	return &q, nil
}

// NewQuote is a quote created from the card, prefilled from the CRM record.
type NewQuote struct {
	AccountID string // the record's account: the quote's customer, when known
	Title     string
	Currency  string
	TaxRate   decimal.Decimal
	CreatedBy string // CRM user id
}

// CreateQuote creates a draft quote on the scope's record, in the scope's
// connection, with the next number of the workspace (numbers go on across
// the CRM accounts a workspace has had). Its customer is the record's
// account as this connection knows it.
func (db *DB) CreateQuote(ctx context.Context, s Scope, n NewQuote) (*qwoty.Quote, error) {
	if !qwoty.ValidCurrency(n.Currency) {
		return nil, qwoty.ErrCurrency(n.Currency)
	}
	title, err := qwoty.ParseTitle(n.Title)
	if err != nil {
		return nil, err
	}
	var q *qwoty.Quote
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var seq int64
		if err := tx.QueryRow(ctx, `UPDATE workspaces SET next_quote_number = next_quote_number + 1 WHERE id = $1
			RETURNING next_quote_number - 1`, s.WorkspaceID).Scan(&seq); err != nil {
			return fmt.Errorf("next quote number: %w", err)
		}
		id := newID()
		_, err := tx.Exec(ctx, `INSERT INTO quotes (id, workspace_id, connection_id, customer_id, crm_record_id, number, title, currency, tax_rate, created_by)
			VALUES ($1, $2, $3, (SELECT id FROM customers WHERE workspace_id = $2 AND connection_id = $3 AND crm_account_id = $4 AND $4 <> ''), $5, $6, $7, $8, $9, $10)`,
			id, s.WorkspaceID, s.ConnectionID, n.AccountID, s.RecordID, qwoty.FormatNumber(seq), title, n.Currency, n.TaxRate, n.CreatedBy)
		if err != nil {
			return fmt.Errorf("insert quote: %w", err)
		}
		q, err = getQuote(ctx, tx, s, id, false)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: create quote on record %s: %w", s.RecordID, err)
	}
	return q, nil
}

// Change is one edit of a quote, applied under the quote's row lock. q was
// read in the caller's scope (workspace, connection, record) in the same
// transaction, so a Change writes by q.ID, the rows of that quote only.
type Change func(ctx context.Context, tx pgx.Tx, q *qwoty.Quote) error

// UpdateQuote applies change to a quote of the scope and recomputes its
// totals, all in one transaction. version is the version the user edited
// (0 skips the check); a stale one is refused with version_conflict so that
// two reps editing the same quote never silently overwrite each other.
func (db *DB) UpdateQuote(ctx context.Context, s Scope, id string, version int, change Change) (*qwoty.Quote, error) {
	var out *qwoty.Quote
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		q, err := getQuote(ctx, tx, s, id, true)
		if err != nil {
			return err
		}
		if version != 0 && q.Version != version {
			return qwoty.E(qwoty.CodeVersionConflict,
				"quote %s was changed by someone else (version %d, you edited %d)", q.Number, q.Version, version)
		}
		if err := change(ctx, tx, q); err != nil {
			return err
		}
		if out, err = db.reprice(ctx, tx, s, id); err != nil {
			return fmt.Errorf("reprice: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: update quote %s: %w", id, err)
	}
	return out, nil
}

// reprice recomputes every line and the quote's totals from the stored
// lines, renumbers positions, and bumps the version.
func (db *DB) reprice(ctx context.Context, tx pgx.Tx, s Scope, id string) (*qwoty.Quote, error) {
	q, err := getQuote(ctx, tx, s, id, false)
	if err != nil {
		return nil, err
	}
	q.Totals = qwoty.ComputeTotals(q.Lines, q.TaxRate, q.Currency)
	b := &pgx.Batch{}
	for i := range q.Lines {
		l := &q.Lines[i]
		l.Position = i + 1
		b.Queue(`UPDATE quote_line_items SET position = $2, amount = $3, discount = $4, net = $5 WHERE id = $1`,
			l.ID, l.Position, l.Amount, l.Discount, l.Net)
	}
	b.Queue(`UPDATE quotes SET subtotal = $2, discount = $3, tax = $4, total = $5, version = version + 1, updated_at = now()
		WHERE id = $1 AND workspace_id = $6 AND connection_id = $7 AND crm_record_id = $8 RETURNING version, updated_at`,
		id, q.Totals.Subtotal, q.Totals.Discount, q.Totals.Tax, q.Totals.Total, s.WorkspaceID, s.ConnectionID, s.RecordID)
	br := tx.SendBatch(ctx, b)
	for range q.Lines {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return nil, err
		}
	}
	if err := br.QueryRow().Scan(&q.Version, &q.UpdatedAt); err != nil {
		br.Close()
		return nil, err
	}
	return q, br.Close()
}

func requireEditable(q *qwoty.Quote) error { return q.Status.CheckEditable(q.Number) }

// AddLine appends a line to a draft quote.
func AddLine(l qwoty.LineItem) Change {
	return func(ctx context.Context, tx pgx.Tx, q *qwoty.Quote) error {
		if err := requireEditable(q); err != nil {
			return err
		}
		if err := qwoty.CheckLineCount(len(q.Lines) + 1); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO quote_line_items (quote_id, position, sku, description, quantity, unit_price, discount_percent)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, q.ID, len(q.Lines)+1, l.SKU, l.Description, l.Quantity, l.UnitPrice, l.DiscountPercent)
		return err
	}
}

// UpdateLine replaces the editable fields of one line of a draft quote.
func UpdateLine(lineID string, l qwoty.LineItem) Change {
	return func(ctx context.Context, tx pgx.Tx, q *qwoty.Quote) error {
		if err := requireEditable(q); err != nil {
			return err
		}
		if !hasLine(q, lineID) {
			return lineNotFound(lineID)
		}
		_, err := tx.Exec(ctx, `UPDATE quote_line_items SET sku = $3, description = $4, quantity = $5, unit_price = $6, discount_percent = $7
			WHERE id = $1 AND quote_id = $2`, lineID, q.ID, l.SKU, l.Description, l.Quantity, l.UnitPrice, l.DiscountPercent)
		return err
	}
}

// RemoveLine deletes one line of a draft quote.
func RemoveLine(lineID string) Change {
	return func(ctx context.Context, tx pgx.Tx, q *qwoty.Quote) error {
		if err := requireEditable(q); err != nil {
			return err
		}
		if !hasLine(q, lineID) {
			return lineNotFound(lineID)
		}
		_, err := tx.Exec(ctx, `DELETE FROM quote_line_items WHERE id = $1 AND quote_id = $2`, lineID, q.ID)
		return err
	}
}

// Terms are a quote's editable header fields.
type Terms struct {
	Title    string
	Currency string
	TaxRate  decimal.Decimal
}

// SetTerms changes a draft quote's title, currency and tax rate.
func SetTerms(t Terms) Change {
	return func(ctx context.Context, tx pgx.Tx, q *qwoty.Quote) error {
		if err := requireEditable(q); err != nil {
			return err
		}
		if !qwoty.ValidCurrency(t.Currency) {
			return qwoty.ErrCurrency(t.Currency)
		}
		_, err := tx.Exec(ctx, `UPDATE quotes SET title = $2, currency = $3, tax_rate = $4 WHERE id = $1`, q.ID, t.Title, t.Currency, t.TaxRate)
		return err
	}
}

// SetStatus moves a quote along an allowed transition.
func SetStatus(next qwoty.Status, actor string) Change {
	return func(ctx context.Context, tx pgx.Tx, q *qwoty.Quote) error {
		if !q.Status.CanMoveTo(next) {
			return qwoty.Errorf(qwoty.CodeInvalidTransition, allowedHint(q.Status),
				"quote %s cannot move from %s to %s", q.Number, q.Status, next)
		}
		if next == qwoty.StatusSent && len(q.Lines) == 0 {
			return qwoty.Errorf(qwoty.CodeValidation, "Add at least one line before sending.", "quote %s has no lines", q.Number)
		}
		if _, err := tx.Exec(ctx, `UPDATE quotes SET status = $2 WHERE id = $1`, q.ID, next); err != nil {
			return err
		}
		return audit(ctx, tx, q.WorkspaceID, q.ConnectionID, actor, "quote.status_changed",
			map[string]any{"quote": q.Number, "from": q.Status, "to": next})
	}
}

func allowedHint(s qwoty.Status) string {
	next := s.Next()
	if len(next) == 0 {
		return fmt.Sprintf("Quote status %s is final.", s)
	}
	h := "From " + string(s) + " it can move to "
	for i, n := range next {
		if i > 0 {
			h += ", "
		}
		h += string(n)
	}
	return h + "."
}

func hasLine(q *qwoty.Quote, id string) bool {
	for _, l := range q.Lines {
		if l.ID == id {
			return true
		}
	}
	return false
}

func lineNotFound(id string) error {
	return &qwoty.Error{Code: qwoty.CodeNotFound, Message: fmt.Sprintf("line %s is not on this quote", id),
		Hint: "It may have been removed; reload the quote.", Err: qwoty.ErrNotFound}
}
