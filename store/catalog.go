package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/qwoty"
)

// SearchCatalog finds the products of scope s's connection (the workspace
// and the CRM account: another connection's catalogue never shows) whose
// SKU or name holds query, priced in currency: active, not deleted in the
// CRM, with an active price in that currency (a product without one cannot
// go on the quote at its price). query is what qwoty.ParseCatalogQuery
// returns (lower-cased, at most 100 characters); an empty one finds
// nothing. Products whose SKU starts with it come first, then those whose
// name does, then those where a word of the name does, then the rest; by
// name within each. limit is capped at qwoty.MaxCatalogResults.
//
// The match is a LIKE on the generated search column (lower(sku || ' ' ||
// name)), which its trigram index answers for three characters or more;
// shorter searches scan the connection's products (see docs/performance.md).
func (db *DB) SearchCatalog(ctx context.Context, s Scope, currency, query string, limit int) ([]qwoty.CatalogItem, error) {
	if query == "" || !validID(s.WorkspaceID) || !validID(s.ConnectionID) {
		return []qwoty.CatalogItem{}, nil
	}
	if limit <= 0 || limit > qwoty.MaxCatalogResults {
		limit = qwoty.MaxCatalogResults
	}
	esc := likeEscape(query)
	rows, err := db.pool.Query(ctx, catalogSearchSQL, s.WorkspaceID, s.ConnectionID, strings.ToUpper(currency), esc, limit)
	if err != nil {
		return nil, fmt.Errorf("store: search catalogue: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (qwoty.CatalogItem, error) {
		var it qwoty.CatalogItem
		err := r.Scan(&it.ProductID, &it.SKU, &it.Name, &it.Description, &it.Currency, &it.UnitPrice)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: search catalogue: %w", err)
	}
	return items, nil
}

// catalogSearchSQL is SearchCatalog's statement: $1 workspace, $2
// connection, $3 currency, $4 the query as a LIKE pattern, $5 the limit.
// The search column is lower(sku || ' ' || name), so a pattern at its start
// is a SKU prefix.
//
// It ranks at most 700 candidates: a search as broad as "ca" in a
// catalogue of 50,000 matches thousands, and sorting them all for 20 costs
// more than the rep's next keystroke, which narrows it. The first 200 SKU
// prefixes are always among them (their own branch); the other 500 are
// the first matches the index finds.
const catalogSearchSQL = `
	WITH c AS (
		(SELECT p.crm_id, p.sku, p.name, p.description, pr.currency, pr.unit_price ` + catalogFrom + `
			AND p.search LIKE $4 || '%' LIMIT 200)
		UNION
		(SELECT p.crm_id, p.sku, p.name, p.description, pr.currency, pr.unit_price ` + catalogFrom + `
			AND p.search LIKE '%' || $4 || '%' LIMIT 500)
	)
	SELECT crm_id, sku, name, description, currency, unit_price FROM c
	ORDER BY CASE WHEN lower(sku) LIKE $4 || '%' THEN 0
			WHEN lower(name) LIKE $4 || '%' THEN 1
			WHEN lower(name) LIKE '% ' || $4 || '%' THEN 2
			ELSE 3 END,
		name, sku, crm_id
	LIMIT $5`

// catalogFrom is the products of the scope that the search may list:
// active, not deleted, with an active price in the currency.
const catalogFrom = `FROM catalog_products p
	JOIN catalog_prices pr ON pr.connection_id = p.connection_id AND pr.product_crm_id = p.crm_id
		AND pr.currency = $3 AND pr.active
	WHERE p.workspace_id = $1 AND p.connection_id = $2 AND p.active AND p.crm_deleted_at IS NULL`

// likeEscape makes s match itself in a LIKE pattern (backslash is
// PostgreSQL's default escape character).
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// checkProducts refuses, in tx, lines of q that name a product the scope's
// connection does not have in its catalogue (or has deleted): a line is
// pushed linked to its product, so an id from another CRM account, or
// made up, would fail in the CRM, or link the wrong product. Only lines
// whose product is new or changed are checked (a product deleted in the
// CRM later does not lock the quote's other edits).
func checkProducts(ctx context.Context, tx pgx.Tx, s Scope, was, q *qwoty.Quote) error {
	before := make(map[string]string, len(was.Lines))
	for _, l := range was.Lines {
		before[l.ID] = l.ProductID
	}
	var ids []string
	for _, l := range q.Lines {
		if l.ProductID == "" || (l.ID != "" && before[l.ID] == l.ProductID) || slices.Contains(ids, l.ProductID) {
			continue
		}
		ids = append(ids, l.ProductID)
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT crm_id FROM catalog_products
		WHERE workspace_id = $1 AND connection_id = $2 AND crm_id = ANY($3) AND crm_deleted_at IS NULL`,
		s.WorkspaceID, s.ConnectionID, ids)
	if err != nil {
		return fmt.Errorf("catalogue products: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("catalogue products: %w", err)
	}
	for _, id := range ids {
		if !slices.Contains(found, id) {
			return &qwoty.Error{Code: qwoty.CodeValidation, Field: "product_id",
				Message: fmt.Sprintf("product %s is not in this CRM account's catalogue", quotedID(id)),
				Hint:    "Pick the product from the catalogue search again (it may have been deleted in the CRM), or clear it for a free line."}
		}
	}
	return nil
}

// quotedID quotes an id a client sent, for a message, cut short.
func quotedID(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Sprintf("%q", s)
}
