package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/qwoty"
)

// SetRounding sets the rounding policy the workspace's new quotes are
// priced with (docs/money.md); quotes already made keep the one they
// state. The change is in the audit log under by.
func (db *DB) SetRounding(ctx context.Context, workspaceID string, r qwoty.Rounding, by string) error {
	if _, ok := qwoty.ParseRounding(string(r)); !ok {
		return qwoty.E(qwoty.CodeValidation, "rounding %q is not a rounding policy", r)
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE workspaces SET rounding = $2 WHERE id = $1`, workspaceID, r)
		if err != nil {
			return fmt.Errorf("store: set rounding: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return qwoty.ErrNotFound
		}
		return audit(ctx, tx, workspaceID, "", by, "workspace.rounding_set", map[string]any{"rounding": r})
	})
}
