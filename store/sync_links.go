package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Link is one record Qwoty wrote in a connection's CRM account, by its
// external reference (crm.RefLink, which crmsync maps to and from).
type Link struct {
	Object string
	Ref    string
	Parent string
	CRMID  string // "" while only intended
	Hash   string
}

func scanLink(r pgx.CollectableRow) (Link, error) {
	var l Link
	return l, r.Scan(&l.Object, &l.Ref, &l.Parent, &l.CRMID, &l.Hash)
}

const linkColumns = `crm_object, ref, parent, coalesce(crm_id, ''), hash`

// FindLinks returns the links of refs in object.
func (db *DB) FindLinks(ctx context.Context, connectionID, object string, refs []string) ([]Link, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+linkColumns+` FROM crm_links
		WHERE connection_id = $1 AND crm_object = $2 AND ref = ANY($3)`, connectionID, object, refs)
	if err != nil {
		return nil, fmt.Errorf("store: find links: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanLink)
	if err != nil {
		return nil, fmt.Errorf("store: find links: %w", err)
	}
	return out, nil
}

// OwnedLinks returns the links of object under parent.
func (db *DB) OwnedLinks(ctx context.Context, connectionID, object, parent string) ([]Link, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+linkColumns+` FROM crm_links
		WHERE connection_id = $1 AND crm_object = $2 AND parent = $3 ORDER BY ref`, connectionID, object, parent)
	if err != nil {
		return nil, fmt.Errorf("store: owned links: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanLink)
	if err != nil {
		return nil, fmt.Errorf("store: owned links: %w", err)
	}
	return out, nil
}

// IntendLinks records links about to be created (no CRM id yet), keeping
// those that already have one. It commits before it returns: the intent
// must be durable before the create is sent.
func (db *DB) IntendLinks(ctx context.Context, connectionID string, links []Link) error {
	return db.writeLinks(ctx, connectionID, links, `INSERT INTO crm_links (connection_id, crm_object, ref, parent)
		VALUES ($1, $2, $3, $4) ON CONFLICT (connection_id, crm_object, ref) DO UPDATE SET parent = EXCLUDED.parent, updated_at = now()
		WHERE crm_links.crm_id IS NULL`, false)
}

// SaveLinks records links with their CRM ids and hashes.
func (db *DB) SaveLinks(ctx context.Context, connectionID string, links []Link) error {
	return db.writeLinks(ctx, connectionID, links, `INSERT INTO crm_links (connection_id, crm_object, ref, parent, crm_id, hash)
		VALUES ($1, $2, $3, $4, nullif($5, ''), $6) ON CONFLICT (connection_id, crm_object, ref) DO UPDATE SET
		parent = EXCLUDED.parent, crm_id = EXCLUDED.crm_id, hash = EXCLUDED.hash, updated_at = now()`, true)
}

func (db *DB) writeLinks(ctx context.Context, connectionID string, links []Link, sql string, full bool) error {
	if len(links) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, l := range links {
		if full {
			b.Queue(sql, connectionID, l.Object, l.Ref, l.Parent, l.CRMID, l.Hash)
		} else {
			b.Queue(sql, connectionID, l.Object, l.Ref, l.Parent)
		}
	}
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("store: write links: %w", err)
	}
	return nil
}

// DropLinks forgets links of object.
func (db *DB) DropLinks(ctx context.Context, connectionID, object string, refs []string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM crm_links WHERE connection_id = $1 AND crm_object = $2 AND ref = ANY($3)`,
		connectionID, object, refs); err != nil {
		return fmt.Errorf("store: drop links: %w", err)
	}
	return nil
}
