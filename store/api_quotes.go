package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/qwoty"
)

// The public API's quotes (api/quotes*.go): a connection's quotes across
// its records, listed by keyset pages; created, changed and moved through
// the card's own store functions (createQuote, updateQuote), each write
// with its event in the same transaction.

// Cursor is a keyset position: the sort value and the id of the last row
// of a page (T is zero for a listing sorted by id alone).
type Cursor struct {
	T  time.Time
	ID string
}

// QuoteFilter selects and orders an API listing of quotes. Zero fields
// select everything.
type QuoteFilter struct {
	Status   qwoty.Status
	RecordID string
	// WithoutRecord selects the quotes without a CRM record (made for a
	// customer, their deal not made yet: docs/deals.md).
	WithoutRecord bool
	CustomerID    string
	ExternalRef   string
	CreatedAfter  time.Time
	// UpdatedAfter, when set, orders the listing by last change (updated
	// at, id) rather than by creation (created at, id).
	UpdatedAfter time.Time
	ByUpdated    bool
	After        *Cursor
	// Limit is the page size; one row more is read to tell whether
	// another page follows.
	Limit int
}

// APIQuotes lists the live quotes of scope s's connection (every record)
// that f selects, oldest first by creation (or by last change when
// f.ByUpdated), after f.After; at most f.Limit, and whether more follow.
// Lines are not read: a listing shows totals, a get shows lines.
func (db *DB) APIQuotes(ctx context.Context, s Scope, f QuoteFilter) ([]qwoty.Quote, bool, error) {
	col := "q.created_at"
	if f.ByUpdated {
		col = "q.updated_at"
	}
	args := []any{s.WorkspaceID, s.ConnectionID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	where := `q.workspace_id = $1 AND q.connection_id = $2 AND q.deleted_at IS NULL`
	if f.Status != "" {
		where += ` AND q.status = ` + arg(string(f.Status))
	}
	if f.RecordID != "" {
		where += ` AND q.crm_record_id = ` + arg(f.RecordID)
	}
	if f.WithoutRecord {
		where += ` AND q.crm_record_id = ''`
	}
	if f.CustomerID != "" {
		if !validID(f.CustomerID) {
			return []qwoty.Quote{}, false, nil
		}
		where += ` AND q.customer_id = ` + arg(f.CustomerID) + `::uuid`
	}
	if f.ExternalRef != "" {
		where += ` AND q.external_ref = ` + arg(f.ExternalRef)
	}
	if !f.CreatedAfter.IsZero() {
		where += ` AND q.created_at > ` + arg(f.CreatedAfter)
	}
	if !f.UpdatedAfter.IsZero() {
		where += ` AND q.updated_at > ` + arg(f.UpdatedAfter)
	}
	if f.After != nil {
		if !validID(f.After.ID) {
			return nil, false, fmt.Errorf("store: api quotes: cursor id %q is not an id", f.After.ID)
		}
		where += ` AND (` + col + `, q.id) > (` + arg(f.After.T) + `, ` + arg(f.After.ID) + `::uuid)`
	}
	rows, err := db.pool.Query(ctx, `SELECT `+quoteColumns+quoteFrom+` WHERE `+where+
		` ORDER BY `+col+`, q.id LIMIT `+arg(f.Limit+1), args...)
	if err != nil {
		return nil, false, fmt.Errorf("store: api quotes: %w", err)
	}
	qs, err := pgx.CollectRows(rows, scanQuote)
	if err != nil {
		return nil, false, fmt.Errorf("store: api quotes: %w", err)
	}
	more := len(qs) > f.Limit
	if more {
		qs = qs[:f.Limit]
	}
	return qs, more, nil
}

// recordOf completes s, a scope without a record, with the record of
// quote id: the card's functions scope a quote by its record too. A
// quote of another workspace or connection, or deleted, is not found.
func recordOf(ctx context.Context, q querier, s Scope, id string) (Scope, error) {
	if !validID(id) {
		return s, notFoundInAPI(id)
	}
	err := q.QueryRow(ctx, `SELECT crm_record_id FROM quotes WHERE id = $1 AND workspace_id = $2 AND connection_id = $3 AND deleted_at IS NULL`,
		id, s.WorkspaceID, s.ConnectionID).Scan(&s.RecordID)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, notFoundInAPI(id)
	}
	return s, err
}

func notFoundInAPI(id string) error {
	return &qwoty.Error{Code: qwoty.CodeNotFound, Message: fmt.Sprintf("quote %s was not found", quotedID(id)),
		Hint: "Check the id; list the quotes (GET /api/v1/quotes) to find it.", Err: qwoty.ErrNotFound}
}

// APIQuote returns quote id of scope s's connection (any record), with
// its lines.
func (db *DB) APIQuote(ctx context.Context, s Scope, id string) (*qwoty.Quote, error) {
	s, err := recordOf(ctx, db.pool, s, id)
	if err != nil {
		return nil, fmt.Errorf("store: api quote %s: %w", id, err)
	}
	q, err := getQuote(ctx, db.pool, s, id, false)
	if err != nil {
		return nil, fmt.Errorf("store: api quote %s: %w", id, err)
	}
	return q, nil
}

// RecordDefaults is what a CRM record, as last pulled, prefills a new
// quote with.
type RecordDefaults struct {
	Name      string
	Currency  string
	AccountID string
}

// RecordDefaultsOf returns the record's defaults, and false when the
// connection has not pulled it (or it was deleted in the CRM).
func (db *DB) RecordDefaultsOf(ctx context.Context, s Scope) (RecordDefaults, bool, error) {
	var d RecordDefaults
	err := db.pool.QueryRow(ctx, `SELECT name, currency, account_crm_id FROM crm_deals
		WHERE workspace_id = $1 AND connection_id = $2 AND crm_id = $3 AND crm_deleted_at IS NULL`,
		s.WorkspaceID, s.ConnectionID, s.RecordID).Scan(&d.Name, &d.Currency, &d.AccountID)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, false, nil
	}
	if err != nil {
		return d, false, fmt.Errorf("store: record %s: %w", s.RecordID, err)
	}
	return d, true, nil
}

// CustomerAccount returns the CRM account id of customer id of scope s's
// connection; a customer of another connection is not found.
func (db *DB) CustomerAccount(ctx context.Context, s Scope, id string) (string, error) {
	var acct string
	err := errNoCustomer(id)
	if validID(id) {
		err = db.pool.QueryRow(ctx, `SELECT crm_account_id FROM customers WHERE id = $1 AND workspace_id = $2 AND connection_id = $3`,
			id, s.WorkspaceID, s.ConnectionID).Scan(&acct)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		err = errNoCustomer(id)
	}
	if err != nil {
		return "", fmt.Errorf("store: customer %s: %w", id, err)
	}
	return acct, nil
}

func errNoCustomer(id string) error {
	return &qwoty.Error{Code: qwoty.CodeValidation, Field: "customerId", Message: fmt.Sprintf("customer %s was not found", quotedID(id)),
		Hint: "Give the id of a customer of this CRM account (GET /api/v1/customers), or leave it out to take the record's account."}
}

// UpdateAPIQuote changes quote id of scope s's connection (any record):
// externalRef, when not nil, is set first; then change, when not nil, goes
// through the card's updateQuote (the domain's rules, the version check,
// the sync, the events, which carry the new reference). A change of the
// reference alone makes no new version and nothing for the CRM, only
// quote.updated.
func (db *DB) UpdateAPIQuote(ctx context.Context, s Scope, id string, version int, by string, change Change, externalRef *string) (*qwoty.Quote, error) {
	var out *qwoty.Quote
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		s, err := recordOf(ctx, tx, s, id)
		if err != nil {
			return err
		}
		refChanged := false
		if externalRef != nil {
			tag, err := tx.Exec(ctx, `UPDATE quotes SET external_ref = $5, updated_at = now()
				WHERE id = $1 AND workspace_id = $2 AND connection_id = $3 AND crm_record_id = $4 AND external_ref <> $5`,
				id, s.WorkspaceID, s.ConnectionID, s.RecordID, *externalRef)
			if err != nil {
				return err
			}
			refChanged = tag.RowsAffected() > 0
		}
		if change != nil {
			_, out, err = db.updateQuote(ctx, tx, s, id, version, by, change)
			return err
		}
		if out, err = getQuote(ctx, tx, s, id, true); err != nil {
			return err
		}
		if err := out.CheckVersion(version); err != nil {
			return err
		}
		if !refChanged {
			return nil // nothing changed: no event
		}
		return db.emitEvent(ctx, tx, quoteEvent(qwoty.EventQuoteUpdated, out))
	})
	if err != nil {
		return nil, fmt.Errorf("store: api update quote %s: %w", id, err)
	}
	return out, nil
}
