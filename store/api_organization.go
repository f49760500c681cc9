package store

import (
	"context"
	"fmt"

	"github.com/qwoty/companion/qwoty"
)

// Organization is what an API key's workspace and CRM account say of
// themselves (GET /api/v1/organization).
type Organization struct {
	WorkspaceName string
	Provider      qwoty.Provider
	// AccountID is the CRM account's id (org, portal, company).
	AccountID string
	Status    qwoty.ConnectionStatus
	// Currencies are those the connection's catalogue has active prices
	// in, sorted.
	Currencies []string
	// Rounding is the policy the workspace's new quotes are priced with.
	Rounding qwoty.Rounding
}

// OrganizationOf returns scope s's organization.
func (db *DB) OrganizationOf(ctx context.Context, s Scope) (*Organization, error) {
	var o Organization
	err := db.pool.QueryRow(ctx, `SELECT w.name, w.rounding, c.provider, c.external_id, c.status,
			coalesce((SELECT array_agg(DISTINCT pr.currency::text ORDER BY pr.currency::text) FROM catalog_prices pr
				WHERE pr.connection_id = c.id AND pr.active), '{}')
		FROM connections c JOIN workspaces w ON w.id = c.workspace_id WHERE c.id = $1 AND c.workspace_id = $2`,
		s.ConnectionID, s.WorkspaceID).Scan(&o.WorkspaceName, &o.Rounding, &o.Provider, &o.AccountID, &o.Status, &o.Currencies)
	if err != nil {
		return nil, fmt.Errorf("store: organization of connection %s: %w", s.ConnectionID, err)
	}
	return &o, nil
}
