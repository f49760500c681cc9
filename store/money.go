package store

import (
	"context"

	"github.com/qwoty/companion/qwoty"
)

// SetRounding sets the rounding policy the workspace's new quotes are
// priced with (docs/money.md), keeping its other quote defaults: quotes
// already made keep the one they state. The change is in the audit log
// under by (as every change of the defaults, SetQuoteDefaults).
func (db *DB) SetRounding(ctx context.Context, workspaceID string, r qwoty.Rounding, by string) error {
	d, err := db.QuoteDefaults(ctx, workspaceID)
	if err != nil {
		return err
	}
	d.Rounding = r
	return db.SetQuoteDefaults(ctx, workspaceID, by, d)
}
