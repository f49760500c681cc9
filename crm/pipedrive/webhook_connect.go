package pipedrive

import (
	"context"

	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Connected runs once a Pipedrive connection is stored (the console's
// OAuth callback): it makes the connection's webhooks, taking their calls
// from the connection's API budget in the database, as sync's calls do.
// Its error is a warning: the connection works without webhooks, polled.
func (a *Adapter) Connected(ctx context.Context, db *store.DB, conn *qwoty.Connection, appURL string) error {
	set, err := db.SyncSettingsOf(ctx, conn.ID)
	if err != nil {
		return err
	}
	b := session.NewBudget(db, conn.ID, (&Syncer{}).Buckets(conn, set.BudgetShare))
	return a.InstallWebhooks(ctx, session.New(db, a, conn), db, b, appURL)
}

// Disconnecting runs before a Pipedrive connection's token is revoked (the
// console's disconnect): it deletes the connection's webhooks, best effort
// (a delivery that still comes is answered 200 and dropped).
func (a *Adapter) Disconnecting(ctx context.Context, db *store.DB, conn *qwoty.Connection) error {
	b := session.NewBudget(db, conn.ID, (&Syncer{}).Buckets(conn, 1))
	return a.RemoveWebhooks(ctx, session.New(db, a, conn), db, b)
}
