package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	Action    string
	Actor     string
	Detail    map[string]any
	CreatedAt time.Time
}

// audit records an event in the same transaction as the change it describes,
// so the log never claims what did not happen. Never put a secret in detail.
func audit(ctx context.Context, tx pgx.Tx, workspaceID, connectionID, actor, action string, detail map[string]any) error {
	var conn any
	if connectionID != "" {
		conn = connectionID
	}
	if detail == nil {
		detail = map[string]any{}
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (workspace_id, connection_id, actor, action, detail) VALUES ($1, $2, $3, $4, $5)`,
		workspaceID, conn, actor, action, detail)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// AuditLog returns a workspace's most recent audit entries, newest first.
func (db *DB) AuditLog(ctx context.Context, workspaceID string, limit int) ([]AuditEntry, error) {
	rows, err := db.pool.Query(ctx, `SELECT action, actor, detail, created_at FROM audit_log WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2`, workspaceID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit log of %s: %w", workspaceID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := r.Scan(&e.Action, &e.Actor, &e.Detail, &e.CreatedAt)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: audit log of %s: %w", workspaceID, err)
	}
	return out, nil
}
