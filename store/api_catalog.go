package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/qwoty"
)

// The public API's catalogue: the connection's products (catalog_products)
// and their prices per currency (catalog_prices), as the pull keeps them.
// A product or price the API writes gets the CRM modification time of
// 1970, so whatever the CRM says of the same product later wins.

// CatalogFilter selects an API listing of catalogue items, by id pages.
type CatalogFilter struct {
	SKU         string
	ExternalRef string
	Active      *bool
	// After is the id of the last item of the previous page.
	After string
	Limit int
}

const productColumns = `crm_id, sku, name, description, active, external_ref, crm_deleted_at IS NOT NULL`

// APICatalogItems lists the products of scope s's connection that f
// selects, by id, with their prices; whether more follow.
func (db *DB) APICatalogItems(ctx context.Context, s Scope, f CatalogFilter) ([]qwoty.CatalogProduct, bool, error) {
	args := []any{s.WorkspaceID, s.ConnectionID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	where := `workspace_id = $1 AND connection_id = $2`
	if f.SKU != "" {
		where += ` AND sku = ` + arg(f.SKU)
	}
	if f.ExternalRef != "" {
		where += ` AND external_ref = ` + arg(f.ExternalRef)
	}
	if f.Active != nil {
		where += ` AND active = ` + arg(*f.Active)
	}
	if f.After != "" {
		where += ` AND crm_id > ` + arg(f.After)
	}
	ps, err := db.products(ctx, db.pool, s, `SELECT `+productColumns+` FROM catalog_products WHERE `+where+
		` ORDER BY crm_id LIMIT `+arg(f.Limit+1), args...)
	if err != nil {
		return nil, false, fmt.Errorf("store: api catalogue: %w", err)
	}
	more := len(ps) > f.Limit
	if more {
		ps = ps[:f.Limit]
	}
	return ps, more, nil
}

// products reads products with a statement of productColumns, and their
// prices.
func (db *DB) products(ctx context.Context, q querier, s Scope, sql string, args ...any) ([]qwoty.CatalogProduct, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (qwoty.CatalogProduct, error) {
		var p qwoty.CatalogProduct
		err := r.Scan(&p.ID, &p.SKU, &p.Name, &p.Description, &p.Active, &p.ExternalRef, &p.Deleted)
		p.Prices = []qwoty.CatalogPrice{}
		return p, err
	})
	if err != nil || len(ps) == 0 {
		return ps, err
	}
	ids := make([]string, len(ps))
	at := make(map[string]int, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
		at[p.ID] = i
	}
	rows, err = q.Query(ctx, `SELECT product_crm_id, currency, unit_price, active FROM catalog_prices
		WHERE connection_id = $1 AND product_crm_id = ANY($2) ORDER BY product_crm_id, currency`, s.ConnectionID, ids)
	if err != nil {
		return nil, err
	}
	var pid string
	var pr qwoty.CatalogPrice
	_, err = pgx.ForEachRow(rows, []any{&pid, &pr.Currency, &pr.UnitPrice, &pr.Active}, func() error {
		ps[at[pid]].Prices = append(ps[at[pid]].Prices, pr)
		return nil
	})
	return ps, err
}

// APICatalogItem returns product id of scope s's connection.
func (db *DB) APICatalogItem(ctx context.Context, s Scope, id string) (*qwoty.CatalogProduct, error) {
	p, err := db.catalogItem(ctx, db.pool, s, id)
	if err != nil {
		return nil, fmt.Errorf("store: api catalogue item %s: %w", id, err)
	}
	return p, nil
}

func (db *DB) catalogItem(ctx context.Context, q querier, s Scope, id string) (*qwoty.CatalogProduct, error) {
	ps, err := db.products(ctx, q, s, `SELECT `+productColumns+` FROM catalog_products
		WHERE workspace_id = $1 AND connection_id = $2 AND crm_id = $3`, s.WorkspaceID, s.ConnectionID, id)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, &qwoty.Error{Code: qwoty.CodeNotFound, Message: fmt.Sprintf("catalogue item %s was not found", quotedID(id)),
			Hint: "Check the id; list the catalogue (GET /api/v1/catalog/items) to find it.", Err: qwoty.ErrNotFound}
	}
	return &ps[0], nil
}

// CatalogInput is a product written through the API; a nil field keeps
// what the product has (on a create: empty, or active). Prices are
// upserted per currency; currencies not named keep their price.
type CatalogInput struct {
	SKU, Name, Description, ExternalRef *string
	Active                              *bool
	Prices                              []qwoty.CatalogPrice
}

// CreateAPICatalogItem adds product id to scope s's connection; an id the
// connection has already is refused (update it instead).
func (db *DB) CreateAPICatalogItem(ctx context.Context, s Scope, id string, in CatalogInput) (*qwoty.CatalogProduct, error) {
	var out *qwoty.CatalogProduct
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO catalog_products (connection_id, crm_id, workspace_id, sku, name, description, active, external_ref, crm_modified)
			VALUES ($1, $2, $3, coalesce($4, ''), coalesce($5, ''), coalesce($6, ''), coalesce($7, true), coalesce($8, ''), 'epoch')
			ON CONFLICT (connection_id, crm_id) DO NOTHING`,
			s.ConnectionID, id, s.WorkspaceID, in.SKU, in.Name, in.Description, in.Active, in.ExternalRef)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return &qwoty.Error{Code: qwoty.CodeValidation, Field: "id", Message: fmt.Sprintf("catalogue item %s exists already", quotedID(id)),
				Hint: "Change it with PATCH /api/v1/catalog/items/{id}, or give another id."}
		}
		if err := upsertPrices(ctx, tx, s, id, in.Prices); err != nil {
			return err
		}
		out, err = db.catalogItem(ctx, tx, s, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: api create catalogue item: %w", err)
	}
	return out, nil
}

// UpdateAPICatalogItem changes product id of scope s's connection.
func (db *DB) UpdateAPICatalogItem(ctx context.Context, s Scope, id string, in CatalogInput) (*qwoty.CatalogProduct, error) {
	var out *qwoty.CatalogProduct
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE catalog_products p SET sku = coalesce($4, p.sku), name = coalesce($5, p.name),
				description = coalesce($6, p.description), active = coalesce($7, p.active), external_ref = coalesce($8, p.external_ref)
			WHERE workspace_id = $1 AND connection_id = $2 AND crm_id = $3`,
			s.WorkspaceID, s.ConnectionID, id, in.SKU, in.Name, in.Description, in.Active, in.ExternalRef)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			_, err := db.catalogItem(ctx, tx, s, id)
			return err
		}
		if err := upsertPrices(ctx, tx, s, id, in.Prices); err != nil {
			return err
		}
		out, err = db.catalogItem(ctx, tx, s, id)
		return err
	})
	if err != nil {
		var qe *qwoty.Error
		if errors.As(err, &qe) {
			return nil, err
		}
		return nil, fmt.Errorf("store: api update catalogue item %s: %w", id, err)
	}
	return out, nil
}

// upsertPrices writes a product's prices per currency.
func upsertPrices(ctx context.Context, tx pgx.Tx, s Scope, id string, prices []qwoty.CatalogPrice) error {
	b := &pgx.Batch{}
	for _, p := range prices {
		b.Queue(`INSERT INTO catalog_prices AS pr (connection_id, product_crm_id, currency, unit_price, active, crm_modified)
			VALUES ($1, $2, $3, $4, $5, 'epoch')
			ON CONFLICT (connection_id, product_crm_id, currency) DO UPDATE SET unit_price = EXCLUDED.unit_price, active = EXCLUDED.active`,
			s.ConnectionID, id, p.Currency, p.UnitPrice, p.Active)
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}
