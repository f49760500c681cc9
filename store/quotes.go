package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
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
	q.subtotal, q.discount, q.tax, q.total, q.version, q.created_by, q.created_at, q.updated_at,
	q.is_primary, q.deleted_at IS NOT NULL, q.external_ref,
	q.revision, q.valid_until, q.terms, q.quote_discount_kind, q.quote_discount_value, q.quote_discount, q.tax_mode, q.rounding, ` + syncViewColumns

// quoteFrom joins what a quote is shown with: its customer, and its
// record's outbox row (its sync state).
const quoteFrom = ` FROM quotes q LEFT JOIN customers cu ON cu.id = q.customer_id
	LEFT JOIN sync_records sr ON sr.connection_id = q.connection_id AND sr.crm_record_id = q.crm_record_id`

func scanQuote(row pgx.CollectableRow) (qwoty.Quote, error) {
	var q qwoty.Quote
	err := row.Scan(quoteDest(&q)...)
	return q, err
}

// quoteDest is where quoteColumns are scanned to.
func quoteDest(q *qwoty.Quote) []any {
	return []any{&q.ID, &q.WorkspaceID, &q.ConnectionID, &q.CustomerID, &q.CustomerName,
		&q.CRMRecordID, &q.Number, &q.Title, &q.Status, &q.Currency, &q.TaxRate,
		&q.Totals.Subtotal, &q.Totals.Discount, &q.Totals.Tax, &q.Totals.Total, &q.Version, &q.CreatedBy, &q.CreatedAt, &q.UpdatedAt,
		&q.Primary, &q.Deleted, &q.ExternalRef,
		&q.Revision, &q.ValidUntil, &q.Terms, &q.Discount.Kind, &q.Discount.Value, &q.Totals.QuoteDiscount, &q.TaxMode, &q.Rounding,
		&q.Sync.State, &q.Sync.At, &q.Sync.Code, &q.Sync.Error, &q.Sync.Warning}
}

func notFound(id string) error {
	return &qwoty.Error{Code: qwoty.CodeNotFound, Message: fmt.Sprintf("quote %s was not found on this record", id),
		Hint: "It may have been deleted; reload the card.", Err: qwoty.ErrNotFound}
}

// ListQuotes returns the live quotes of the scope's record, newest first.
func (db *DB) ListQuotes(ctx context.Context, s Scope) ([]qwoty.Quote, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+quoteColumns+quoteFrom+`
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

// GetQuoteHeader returns one quote of the scope without its lines: for a
// read that needs the quote's terms, or to know it is there (a large
// quote's 2,000 lines are not read for it).
func (db *DB) GetQuoteHeader(ctx context.Context, s Scope, id string) (*qwoty.Quote, error) {
	q, err := getQuoteHeader(ctx, db.pool, s, id, false)
	if err != nil {
		return nil, fmt.Errorf("store: get quote %s: %w", id, err)
	}
	return q, nil
}

// GetQuoteLine returns one quote of the scope with one of its lines only
// (the card opening a line of a large quote for editing), or not_found.
func (db *DB) GetQuoteLine(ctx context.Context, s Scope, id, lineID string) (*qwoty.Quote, qwoty.LineItem, error) {
	q, err := getQuoteHeader(ctx, db.pool, s, id, false)
	if err != nil {
		return nil, qwoty.LineItem{}, fmt.Errorf("store: get quote %s: %w", id, err)
	}
	if !validID(lineID) {
		return nil, qwoty.LineItem{}, qwoty.LineNotFound(lineID)
	}
	rows, err := db.pool.Query(ctx, `SELECT `+lineColumns+` FROM quote_line_items WHERE quote_id = $1 AND id = $2`, id, lineID)
	if err != nil {
		return nil, qwoty.LineItem{}, fmt.Errorf("store: get line %s: %w", lineID, err)
	}
	l, err := pgx.CollectExactlyOneRow(rows, scanLine)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, qwoty.LineItem{}, qwoty.LineNotFound(lineID)
	}
	if err != nil {
		return nil, qwoty.LineItem{}, fmt.Errorf("store: get line %s: %w", lineID, err)
	}
	return q, l, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func getQuote(ctx context.Context, db querier, s Scope, id string, forUpdate bool) (*qwoty.Quote, error) {
	q, err := getQuoteHeader(ctx, db, s, id, forUpdate)
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, `SELECT `+lineColumns+` FROM quote_line_items WHERE quote_id = $1 ORDER BY position, created_at`, id)
	if err != nil {
		return nil, err
	}
	q.Lines, err = pgx.CollectRows(rows, scanLine)
	if err != nil {
		return nil, err
	}
	return q, nil
}

// lockQuote is getQuote for update: the quote's row locked and read, and
// its lines, taken from the lines kept for its version when there are
// (quote_lines_cache.go), else read. kept is the kept slice (never to be
// changed), nil when the lines were read; q.Lines is q's own either way.
func (db *DB) lockQuote(ctx context.Context, tx pgx.Tx, s Scope, id string) (q *qwoty.Quote, kept []qwoty.LineItem, err error) {
	q, err = getQuoteHeader(ctx, tx, s, id, true)
	if err != nil {
		return nil, nil, err
	}
	if lines, ok := db.lines.get(q.ID, q.Version, q.UpdatedAt); ok {
		q.Lines = slices.Clone(lines)
		return q, lines, nil
	}
	rows, err := tx.Query(ctx, `SELECT `+lineColumns+` FROM quote_line_items WHERE quote_id = $1 ORDER BY position, created_at`, id)
	if err != nil {
		return nil, nil, err
	}
	if q.Lines, err = pgx.CollectRows(rows, scanLine); err != nil {
		return nil, nil, err
	}
	return q, nil, nil
}

// getQuoteHeader is getQuote without the lines.
func getQuoteHeader(ctx context.Context, db querier, s Scope, id string, forUpdate bool) (*qwoty.Quote, error) {
	if !validID(id) {
		return nil, notFound(id)
	}
	sql := `SELECT ` + quoteColumns + quoteFrom + `
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
	return &q, nil
}

const lineColumns = `id, quote_id, coalesce(parent_id::text, ''), position, product_crm_id, sku, description,
	quantity, unit_price, discount_percent, amount, discount, net, tax_rate, tax`

func scanLine(r pgx.CollectableRow) (qwoty.LineItem, error) {
	var l qwoty.LineItem
	err := r.Scan(&l.ID, &l.QuoteID, &l.ParentID, &l.Position, &l.ProductID, &l.SKU, &l.Description,
		numeric{&l.Quantity}, numeric{&l.UnitPrice}, numeric{&l.DiscountPercent}, numeric{&l.Amount}, numeric{&l.Discount},
		numeric{&l.Net}, nullNumeric{&l.TaxRate}, numeric{&l.Tax})
	return l, err
}

// numeric scans a numeric column into a decimal straight from PostgreSQL's
// binary form. A *decimal.Decimal is an sql.Scanner, which pgx scans
// through text (the numeric written out, then parsed): six figures of each
// of a quote's 2,000 lines made that most of a line edit's time.
type numeric struct{ d *decimal.Decimal }

func (n numeric) ScanNumeric(v pgtype.Numeric) error {
	if !v.Valid || v.NaN || v.InfinityModifier != pgtype.Finite {
		return fmt.Errorf("numeric %v is not a number", v)
	}
	*n.d = decimalOf(v)
	return nil
}

// nullNumeric is numeric for a column that may be NULL.
type nullNumeric struct{ d *decimal.NullDecimal }

func (n nullNumeric) ScanNumeric(v pgtype.Numeric) error {
	if !v.Valid {
		*n.d = decimal.NullDecimal{}
		return nil
	}
	if v.NaN || v.InfinityModifier != pgtype.Finite {
		return fmt.Errorf("numeric %v is not a number", v)
	}
	*n.d = decimal.NewNullDecimal(decimalOf(v))
	return nil
}

func decimalOf(v pgtype.Numeric) decimal.Decimal {
	if v.Int == nil {
		return decimal.Zero
	}
	return decimal.NewFromBigInt(v.Int, v.Exp)
}

// NewQuote is a new quote: from the card, prefilled from the CRM record,
// or from the API, perhaps with its lines.
type NewQuote struct {
	AccountID string // the record's account: the quote's customer, when known
	// CustomerID is the quote's customer, by Qwoty's id, when AccountID
	// is "" (a quote made for a customer, without a CRM record).
	CustomerID string
	Title      string
	Currency   string
	TaxRate    decimal.Decimal
	CreatedBy  string // CRM user id, or the API key's name
	// Lines are the quote's first lines (the API creates a quote with its
	// lines in one call), as the domain takes them (qwoty.Quote.AddLine).
	Lines []qwoty.LineItem
	// ExternalRef is another system's reference of the quote
	// (qwoty.ParseExternalRef), "" for none.
	ExternalRef string
	// TaxMode ("" is one rate for the quote) and Discount (nil: none) are
	// set as qwoty.Quote.SetTerms sets them.
	TaxMode  qwoty.TaxMode
	Discount *qwoty.QuoteDiscount
}

// CreateQuote creates a draft quote on the scope's record, in the scope's
// connection, with the next number of the workspace (numbers go on across
// the CRM accounts a workspace has had). Its customer is the record's
// account as this connection knows it. What a new quote may be is the
// domain's to say (qwoty.NewDraft).
func (db *DB) CreateQuote(ctx context.Context, s Scope, n NewQuote) (*qwoty.Quote, error) {
	var q *qwoty.Quote
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		q, err = db.createQuote(ctx, tx, s, n)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: create quote on record %s: %w", s.RecordID, err)
	}
	return q, nil
}

// createQuote is CreateQuote in tx, with the quote.created event (every
// way a quote is made, the card's and the API's, passes here).
func (db *DB) createQuote(ctx context.Context, tx pgx.Tx, s Scope, n NewQuote) (*qwoty.Quote, error) {
	d, err := qwoty.NewDraft(n.Title, n.Currency, n.TaxRate)
	if err != nil {
		return nil, err
	}
	// A new quote starts with the workspace's terms and is priced with
	// its rounding policy.
	defaults, err := quoteDefaults(ctx, tx, s.WorkspaceID)
	if err != nil {
		return nil, fmt.Errorf("quote defaults: %w", err)
	}
	d.Terms, d.Rounding = defaults.Terms, defaults.Rounding
	for _, l := range n.Lines {
		if err := d.AddLine(l); err != nil {
			return nil, err
		}
	}
	// The quote's number. Its rounding policy (set above) is the
	// workspace's as it is now, stated on the quote for good: a later
	// change of the workspace's policy leaves existing quotes as they are.
	var seq int64
	if err := tx.QueryRow(ctx, `UPDATE workspaces SET next_quote_number = next_quote_number + 1 WHERE id = $1
		RETURNING next_quote_number - 1`, s.WorkspaceID).Scan(&seq); err != nil {
		return nil, fmt.Errorf("next quote number: %w", err)
	}
	if n.TaxMode != "" || n.Discount != nil {
		if err := d.SetTerms(qwoty.Terms{Title: d.Title, Currency: d.Currency, TaxRate: d.TaxRate, TaxMode: n.TaxMode, Discount: n.Discount}); err != nil {
			return nil, err
		}
	}
	d.Reprice()
	if err := checkProducts(ctx, tx, s, &qwoty.Quote{}, d); err != nil {
		return nil, err
	}
	id := newID()
	// The record's first live quote is its primary one.
	_, err = tx.Exec(ctx, `INSERT INTO quotes (id, workspace_id, connection_id, customer_id, crm_record_id, number, title, status, currency, tax_rate, created_by, is_primary,
			subtotal, discount, tax, total, external_ref,
			revision, valid_until, terms, quote_discount_kind, quote_discount_value, quote_discount, tax_mode, rounding)
		VALUES ($1, $2, $3, coalesce((SELECT id FROM customers WHERE workspace_id = $2 AND connection_id = $3 AND crm_account_id = $4 AND $4 <> ''),
				(SELECT id FROM customers WHERE workspace_id = $2 AND connection_id = $3 AND id::text = $25)), $5, $6, $7, $8, $9, $10, $11,
			$5 <> '' AND NOT EXISTS (SELECT 1 FROM quotes WHERE workspace_id = $2 AND connection_id = $3 AND crm_record_id = $5 AND is_primary AND deleted_at IS NULL),
			$12, $13, $14, $15, $16,
			$17, $18, $19, $20, $21, $22, $23, $24)`,
		id, s.WorkspaceID, s.ConnectionID, n.AccountID, s.RecordID, qwoty.FormatNumber(seq), d.Title, d.Status, d.Currency, d.TaxRate, n.CreatedBy,
		d.Totals.Subtotal, d.Totals.Discount, d.Totals.Tax, d.Totals.Total, n.ExternalRef,
		d.Revision, d.ValidUntil, d.Terms, d.Discount.Kind, d.Discount.Value, d.Totals.QuoteDiscount, d.TaxMode, d.Rounding, n.CustomerID)
	if err != nil {
		return nil, fmt.Errorf("insert quote: %w", err)
	}
	if len(d.Lines) > 0 {
		b := &pgx.Batch{}
		for i := range d.Lines {
			queueLineInsert(b, id, &d.Lines[i])
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return nil, fmt.Errorf("insert lines: %w", err)
		}
	}
	if err := db.captureSync(ctx, tx, s, qwoty.TriggerCreated, id); err != nil {
		return nil, err
	}
	q, err := getQuote(ctx, tx, s, id, false)
	if err != nil {
		return nil, err
	}
	return q, db.emitQuoteEvents(ctx, tx, nil, q)
}

// queueLineInsert queues the insert of l, a new line of quote quoteID,
// giving it its id.
func queueLineInsert(b *pgx.Batch, quoteID string, l *qwoty.LineItem) {
	l.ID = newID()
	b.Queue(`INSERT INTO quote_line_items (id, quote_id, position, sku, description, quantity, unit_price, discount_percent, amount, discount, net, product_crm_id,
			tax_rate, tax)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		l.ID, quoteID, l.Position, l.SKU, l.Description, l.Quantity, l.UnitPrice, l.DiscountPercent, l.Amount, l.Discount, l.Net, l.ProductID,
		l.TaxRate, l.Tax)
}

// Change is one edit of a quote, made through the domain's methods
// ((*qwoty.Quote).AddLine, SetTerms, Transition, ...) on the quote as
// UpdateQuote loaded it. It changes the quote in memory only, and is given
// no connection: it runs while the quote's row is locked, so whatever can
// be done before (reading and checking a form) is done before, and it can
// reach no row but those UpdateQuote writes, the quote's own.
type Change func(q *qwoty.Quote) error

// UpdateQuote applies change to a quote of the scope, under the quote's row
// lock, and writes the result: its lines, terms and status, with every
// figure recomputed (qwoty.Quote.Reprice) and the version bumped. version is
// the version the user edited (0 skips the check); a stale one is refused
// with version_conflict (qwoty.Quote.CheckVersion). by is who edits (a CRM
// user id): a status change is recorded in the audit log under that name,
// in the same transaction.
func (db *DB) UpdateQuote(ctx context.Context, s Scope, id string, version int, by string, change Change) (*qwoty.Quote, error) {
	var out *qwoty.Quote
	var stored []qwoty.LineItem
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		_, out, stored, err = db.updateQuoteStored(ctx, tx, s, id, version, by, change)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: update quote %s: %w", id, err)
	}
	db.lines.put(out, stored) // committed: these are the version's lines
	return out, nil
}

// updateQuote is UpdateQuote in tx, with the change's events; it returns
// the quote as it was before the change too.
func (db *DB) updateQuote(ctx context.Context, tx pgx.Tx, s Scope, id string, version int, by string, change Change) (was, out *qwoty.Quote, err error) {
	was, out, _, err = db.updateQuoteStored(ctx, tx, s, id, version, by, change)
	return was, out, err
}

// updateQuoteStored is updateQuote, with the quote's lines as they are now
// stored (as scanLine would read them back), for the lines kept per
// version.
func (db *DB) updateQuoteStored(ctx context.Context, tx pgx.Tx, s Scope, id string, version int, by string, change Change) (was, out *qwoty.Quote, stored []qwoty.LineItem, err error) {
	q, kept, err := db.lockQuote(ctx, tx, s, id)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := q.CheckVersion(version); err != nil {
		return nil, nil, nil, err
	}
	before := *q
	if kept != nil {
		before.Lines = kept // never changed: the change gets its own copy
	} else {
		before.Lines = slices.Clone(q.Lines)
	}
	if err := change(q); err != nil {
		return nil, nil, nil, err
	}
	sent := q.Status == qwoty.StatusSent && before.Status != qwoty.StatusSent
	if sent {
		// A quote sent without a date is valid the workspace's days.
		defaults, err := quoteDefaults(ctx, tx, s.WorkspaceID)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("quote defaults: %w", err)
		}
		q.SetValidity(db.now(), defaults.ValidDays)
	}
	q.Reprice()
	if err := checkProducts(ctx, tx, s, &before, q); err != nil {
		return nil, nil, nil, err
	}
	if stored, err = writeQuote(ctx, tx, s, &before, q, by); err != nil {
		return nil, nil, nil, fmt.Errorf("write: %w", err)
	}
	trigger := qwoty.TriggerEdit
	if q.Status != before.Status {
		trigger = qwoty.TriggerStatus
	}
	if err := db.captureSync(ctx, tx, s, trigger, id); err != nil {
		return nil, nil, nil, err
	}
	// The header as stored (version, sync state, times); the lines are the
	// ones just written, as they were written: reading 2,000 of them back
	// would double a large quote's edit.
	if out, err = getQuoteHeader(ctx, tx, s, id, false); err != nil {
		return nil, nil, nil, err
	}
	out.Lines = q.Lines
	if sent {
		// The revision sent is frozen as the customer gets it, in the
		// transaction that sends it, and filed on the CRM record.
		if err := freezeVersion(ctx, tx, out, by); err != nil {
			return nil, nil, nil, err
		}
		if err := db.queueArchive(ctx, tx, s, out); err != nil {
			return nil, nil, nil, err
		}
	}
	if out.Status == qwoty.StatusAccepted && before.Status != qwoty.StatusAccepted {
		// Accepting generates the order, in the same transaction.
		if _, err := db.generateOrder(ctx, tx, s, id, by); err != nil {
			return nil, nil, nil, err
		}
	}
	return &before, out, stored, db.emitQuoteEvents(ctx, tx, &before, out)
}

// writeQuote stores q, the quote was after a change: its lines inserted,
// updated or deleted as they differ from was's, its header with its totals,
// a version more, and the audit entry of a status change. Every row is
// found by was's id, loaded in scope s under the lock, whatever the change
// did to q's ids: a line id was did not have is an error, not a write.
// stored are q's lines as the database now holds them (as scanLine reads
// them): was's line where unchanged, else the line as written.
func writeQuote(ctx context.Context, tx pgx.Tx, s Scope, was, q *qwoty.Quote, by string) (stored []qwoty.LineItem, err error) {
	old := make(map[string]qwoty.LineItem, len(was.Lines))
	for _, l := range was.Lines {
		old[l.ID] = l
	}
	b := &pgx.Batch{}
	stored = make([]qwoty.LineItem, len(q.Lines))
	kept := make(map[string]bool, len(q.Lines))
	for i := range q.Lines {
		l := &q.Lines[i]
		if l.ID == "" {
			queueLineInsert(b, was.ID, l)
			kept[l.ID] = true
			stored[i] = asStored(was.ID, *l)
			continue
		}
		o, ok := old[l.ID]
		if !ok || kept[l.ID] {
			return nil, fmt.Errorf("line %s is not on quote %s, or twice", l.ID, was.ID)
		}
		kept[l.ID] = true
		if sameLine(o, *l) {
			stored[i] = o
			continue
		}
		stored[i] = asStored(was.ID, *l)
		b.Queue(`UPDATE quote_line_items SET position = $3, sku = $4, description = $5, quantity = $6, unit_price = $7, discount_percent = $8,
			amount = $9, discount = $10, net = $11, product_crm_id = $12, tax_rate = $13, tax = $14 WHERE id = $1 AND quote_id = $2`,
			l.ID, was.ID, l.Position, l.SKU, l.Description, l.Quantity, l.UnitPrice, l.DiscountPercent, l.Amount, l.Discount, l.Net, l.ProductID,
			l.TaxRate, l.Tax)
	}
	var gone []string
	for _, l := range was.Lines {
		if !kept[l.ID] {
			gone = append(gone, l.ID)
		}
	}
	if len(gone) > 0 {
		b.Queue(`DELETE FROM quote_line_items WHERE quote_id = $1 AND id = ANY($2::uuid[])`, was.ID, gone)
	}
	b.Queue(`UPDATE quotes SET title = $5, currency = $6, tax_rate = $7, status = $8,
		subtotal = $9, discount = $10, tax = $11, total = $12, version = version + 1, updated_at = now(),
		revision = $13, valid_until = $14, terms = $15, quote_discount_kind = $16, quote_discount_value = $17, quote_discount = $18,
		tax_mode = $19, rounding = $20
		WHERE id = $1 AND workspace_id = $2 AND connection_id = $3 AND crm_record_id = $4`,
		was.ID, s.WorkspaceID, s.ConnectionID, s.RecordID, q.Title, q.Currency, q.TaxRate, q.Status,
		q.Totals.Subtotal, q.Totals.Discount, q.Totals.Tax, q.Totals.Total,
		q.Revision, q.ValidUntil, q.Terms, q.Discount.Kind, q.Discount.Value, q.Totals.QuoteDiscount, q.TaxMode, q.Rounding)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	if q.Revision != was.Revision {
		return stored, audit(ctx, tx, was.WorkspaceID, was.ConnectionID, by, "quote.revised",
			map[string]any{"quote": was.Number, "from": was.Status, "to": q.Status, "revision": q.Revision})
	}
	if q.Status != was.Status {
		return stored, audit(ctx, tx, was.WorkspaceID, was.ConnectionID, by, "quote.status_changed",
			map[string]any{"quote": was.Number, "from": was.Status, "to": q.Status})
	}
	return stored, nil
}

// sameLine reports whether a line's stored columns are unchanged.
func sameLine(a, b qwoty.LineItem) bool {
	return a.Position == b.Position && a.ProductID == b.ProductID && a.SKU == b.SKU && a.Description == b.Description &&
		decEqual(a.Quantity, b.Quantity) && decEqual(a.UnitPrice, b.UnitPrice) && decEqual(a.DiscountPercent, b.DiscountPercent) &&
		decEqual(a.Amount, b.Amount) && decEqual(a.Discount, b.Discount) && decEqual(a.Net, b.Net) &&
		a.TaxRate.Valid == b.TaxRate.Valid && decEqual(a.TaxRate.Decimal, b.TaxRate.Decimal) && decEqual(a.Tax, b.Tax)
}

// decEqual is a.Equal(b) without allocating for the figures of a line
// (coefficients of up to 14 digits, exponents at most 4 apart): a stored
// figure has 4 decimals, a priced one the currency's.
func decEqual(a, b decimal.Decimal) bool {
	ea, eb := a.Exponent(), b.Exponent()
	if ea == eb || a.NumDigits() > 14 || b.NumDigits() > 14 || ea-eb > 4 || eb-ea > 4 {
		return a.Equal(b) // same exponent: Equal does not rescale
	}
	ca, cb := a.CoefficientInt64(), b.CoefficientInt64()
	for ; ea > eb; ea-- {
		ca *= 10
	}
	for ; eb > ea; eb-- {
		cb *= 10
	}
	return ca == cb
}
