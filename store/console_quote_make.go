package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

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

// CatalogPick is a catalogue product as the console's form takes it by
// its SKU: Priced says whether it has an active price in the currency
// asked (UnitPrice is then that price).
type CatalogPick struct {
	qwoty.CatalogItem
	Priced bool
}

// CatalogBySKU finds the active products of scope s's connection whose
// SKU is one of skus (any case), with their active price in currency. A
// SKU that several products share is left out (which one is meant is not
// known). At most 200 SKUs are looked up.
func (db *DB) CatalogBySKU(ctx context.Context, s Scope, currency string, skus []string) (map[string]CatalogPick, error) {
	out := map[string]CatalogPick{}
	lower := make([]string, 0, len(skus))
	for _, k := range skus {
		if k = strings.ToLower(strings.TrimSpace(k)); k != "" && !slices.Contains(lower, k) && len(lower) < 200 {
			lower = append(lower, k)
		}
	}
	if len(lower) == 0 {
		return out, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT p.crm_id, p.sku, p.name, p.description, coalesce(pr.currency, ''), coalesce(pr.unit_price, 0), pr.unit_price IS NOT NULL
		FROM catalog_products p
		LEFT JOIN catalog_prices pr ON pr.connection_id = p.connection_id AND pr.product_crm_id = p.crm_id AND pr.currency = $3 AND pr.active
		WHERE p.workspace_id = $1 AND p.connection_id = $2 AND p.active AND p.crm_deleted_at IS NULL AND lower(p.sku) = ANY($4)
		ORDER BY p.crm_id`, s.WorkspaceID, s.ConnectionID, strings.ToUpper(currency), lower)
	if err != nil {
		return nil, fmt.Errorf("store: catalogue by sku: %w", err)
	}
	picks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CatalogPick, error) {
		var p CatalogPick
		err := r.Scan(&p.ProductID, &p.SKU, &p.Name, &p.Description, &p.Currency, &p.UnitPrice, &p.Priced)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: catalogue by sku: %w", err)
	}
	shared := map[string]bool{}
	for _, p := range picks {
		k := strings.ToLower(p.SKU)
		if _, twice := out[k]; twice {
			shared[k] = true
		}
		out[k] = p
	}
	for k := range shared {
		delete(out, k)
	}
	return out, nil
}

// CatalogSKUs lists the first limit active products of scope s's
// connection by SKU (those with one), for the form's suggestions.
func (db *DB) CatalogSKUs(ctx context.Context, s Scope, limit int) ([]qwoty.CatalogItem, error) {
	rows, err := db.pool.Query(ctx, `SELECT crm_id, sku, name FROM catalog_products
		WHERE workspace_id = $1 AND connection_id = $2 AND active AND crm_deleted_at IS NULL AND sku <> ''
		ORDER BY lower(sku), crm_id LIMIT $3`, s.WorkspaceID, s.ConnectionID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: catalogue skus: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (qwoty.CatalogItem, error) {
		var it qwoty.CatalogItem
		return it, r.Scan(&it.ProductID, &it.SKU, &it.Name)
	})
	if err != nil {
		return nil, fmt.Errorf("store: catalogue skus: %w", err)
	}
	return items, nil
}
