package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/qwoty"
)

// Quotes made in the console for a customer, without a CRM record
// (docs/deals.md): the customers to choose from, and a creation that a
// form sent twice does not make twice.

// ConsoleCustomers lists the customers of scope s's connection, not
// deleted in the CRM, whose name, email or domain holds search (any case;
// "" for all), by name, at most limit.
func (db *DB) ConsoleCustomers(ctx context.Context, s Scope, search string, limit int) ([]qwoty.Customer, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+customerColumns+` FROM customers
		WHERE workspace_id = $1 AND connection_id = $2 AND crm_deleted_at IS NULL
			AND ($3 = '' OR name ILIKE $4 OR email ILIKE $4 OR domain ILIKE $4)
		ORDER BY lower(name), id LIMIT $5`, s.WorkspaceID, s.ConnectionID, search, likePattern(search), limit)
	if err != nil {
		return nil, fmt.Errorf("store: console customers: %w", err)
	}
	cs, err := pgx.CollectRows(rows, scanCustomer)
	if err != nil {
		return nil, fmt.Errorf("store: console customers: %w", err)
	}
	return cs, nil
}

// CreateQuoteOnce is CreateQuote for a quote with a reference of its own
// (n.ExternalRef, required): when the connection has a live quote with
// that reference already, made by an earlier sending of the same form,
// that quote is returned and created is false. Two sendings at once are
// serialised on the reference, so only one makes a quote.
func (db *DB) CreateQuoteOnce(ctx context.Context, s Scope, n NewQuote) (q *qwoty.Quote, created bool, err error) {
	if n.ExternalRef == "" {
		return nil, false, errors.New("store: create quote once: no reference")
	}
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1 || ' ' || $2, 0))`, s.ConnectionID, n.ExternalRef); err != nil {
			return err
		}
		var id, record string
		err := tx.QueryRow(ctx, `SELECT id::text, crm_record_id FROM quotes
			WHERE workspace_id = $1 AND connection_id = $2 AND external_ref = $3 AND deleted_at IS NULL`,
			s.WorkspaceID, s.ConnectionID, n.ExternalRef).Scan(&id, &record)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			created = true
			q, err = db.createQuote(ctx, tx, s, n)
			return err
		case err != nil:
			return err
		}
		// Made already; perhaps on its deal since.
		s.RecordID = record
		q, err = getQuote(ctx, tx, s, id, false)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: create quote %s: %w", n.ExternalRef, err)
	}
	return q, created, nil
}
