package pipedrive

import (
	"context"
	"time"

	"github.com/qwoty/companion/crm"
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
	y := &Syncer{}
	b := &dbBudget{db: db, conn: conn.ID, shapes: map[string]store.BudgetBucket{}}
	for _, k := range y.Buckets(conn, set.BudgetShare) {
		burst, refill := k.TokenBucket()
		b.shapes[k.Name] = store.BudgetBucket{Name: k.Name, Capacity: burst, RefillPerSec: refill}
	}
	return a.InstallWebhooks(ctx, session.New(db, a, conn), db, b, appURL)
}

// dbBudget is the connection's budget in the database for a few calls made
// outside sync, taken as the sync engine takes it (store.ReserveBudget): a
// short wait is a reservation the call sleeps out, a longer one is
// answered.
type dbBudget struct {
	db     *store.DB
	conn   string
	shapes map[string]store.BudgetBucket
}

// shortBudgetWait is the longest wait Take sleeps.
const shortBudgetWait = 2 * time.Second

func (b *dbBudget) Take(ctx context.Context, name string, cost float64) error {
	for {
		wait, taken, err := b.db.ReserveBudget(ctx, b.conn, b.shapes[name], cost, 0, 0, shortBudgetWait)
		if err != nil {
			return err
		}
		if !taken && wait > shortBudgetWait {
			return &crm.WaitError{Until: time.Now().Add(wait), Reason: "the " + name + " API budget is spent", Budget: true}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		if taken {
			return nil
		}
	}
}

func (b *dbBudget) Observe(ctx context.Context, name string, left, _ float64) error {
	return b.db.ObserveBudget(ctx, b.conn, b.shapes[name], left)
}

func (b *dbBudget) Block(ctx context.Context, until time.Time) error {
	return b.db.BlockBudget(ctx, b.conn, until)
}

// Disconnecting runs before a Pipedrive connection's token is revoked (the
// console's disconnect): it deletes the connection's webhooks, best effort
// (a delivery that still comes is answered 200 and dropped).
func (a *Adapter) Disconnecting(ctx context.Context, db *store.DB, conn *qwoty.Connection) error {
	b := &dbBudget{db: db, conn: conn.ID, shapes: map[string]store.BudgetBucket{}}
	for _, k := range (&Syncer{}).Buckets(conn, 1) {
		burst, refill := k.TokenBucket()
		b.shapes[k.Name] = store.BudgetBucket{Name: k.Name, Capacity: burst, RefillPerSec: refill}
	}
	return a.RemoveWebhooks(ctx, session.New(db, a, conn), db, b)
}
