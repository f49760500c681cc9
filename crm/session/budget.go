package session

import (
	"context"
	"fmt"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/store"
)

// Budget is a connection's crm.Budget, kept in PostgreSQL (store's
// api_budget) so that every instance spends the same one: the sync
// engine's calls and an adapter's few calls outside sync (Pipedrive's
// webhooks at connect) take from it alike.
type Budget struct {
	db     *store.DB
	conn   string
	defs   map[string]crm.Bucket
	shapes map[string]store.BudgetBucket
	// floor is the share of each bucket's capacity a take must leave in it,
	// at most keepFor of its refill (0: none; see Keep).
	floor   float64
	keepFor time.Duration
}

// Keep makes every later take leave share of each bucket's capacity in it,
// at most keepFor of its refill (share 0: none): a back-fill's batch
// spends only the upper part, and a rep's change always finds the rest.
func (b *Budget) Keep(share float64, keepFor time.Duration) { b.floor, b.keepFor = share, keepFor }

var _ crm.Budget = (*Budget)(nil)

// NewBudget is conn's budget of buckets (its Syncer's Buckets).
func NewBudget(db *store.DB, conn string, buckets []crm.Bucket) *Budget {
	b := &Budget{db: db, conn: conn, defs: map[string]crm.Bucket{}, shapes: map[string]store.BudgetBucket{}}
	for _, k := range buckets {
		b.defs[k.Name], b.shapes[k.Name] = k, shape(k)
	}
	return b
}

// ShortWait is the longest wait for a limit a take sleeps out rather than
// answering a *crm.WaitError.
const ShortWait = time.Second

// shape is k as the store keeps it (crm.Bucket.TokenBucket).
func shape(k crm.Bucket) store.BudgetBucket {
	burst, refill := k.TokenBucket()
	return store.BudgetBucket{Name: k.Name, Capacity: burst, RefillPerSec: refill}
}

func (b *Budget) shape(name string) (store.BudgetBucket, error) {
	s, ok := b.shapes[name]
	if !ok {
		return s, fmt.Errorf("crmsync: no budget bucket %q for this CRM (its Syncer's Buckets lacks it)", name)
	}
	return s, nil
}

// Take implements crm.Budget: it waits a short wait out, and answers a
// *crm.WaitError for a longer one. A short wait is a reservation
// (store.ReserveBudget): the units are taken at once and the call waits
// until the bucket would have held them, so a backlog draining at the
// limit asks the database once per call. A back-fill's batch (floor) takes
// only what leaves the reserve for real-time pushes: half the bucket, at
// most its keepFor of refill (Keep).
func (b *Budget) Take(ctx context.Context, name string, cost float64) error {
	s, err := b.shape(name)
	if err != nil {
		return err
	}
	var keepShare, keepMax float64
	if b.floor > 0 {
		keepShare, keepMax = b.floor, s.RefillPerSec*b.keepFor.Seconds()
		if s.RefillPerSec <= 0 {
			keepMax = b.floor * s.Capacity
		}
	}
	for {
		wait, taken, err := b.db.ReserveBudget(ctx, b.conn, s, cost, keepShare, keepMax, ShortWait)
		if err != nil {
			return err
		}
		if !taken && wait > ShortWait {
			reason := "the " + name + " API budget is spent"
			if b.floor > 0 {
				reason = "a back-fill waits while the " + name + " API budget is under its reserve for real-time pushes"
			}
			return &crm.WaitError{Until: time.Now().Add(wait), Reason: reason, Budget: true}
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		if taken {
			return nil
		}
	}
}

// Observe implements crm.Budget.
func (b *Budget) Observe(ctx context.Context, name string, left, capacity float64) error {
	s, err := b.shape(name)
	if err != nil {
		return err
	}
	if d := b.defs[name]; capacity > 0 && capacity != d.Capacity {
		d.Capacity = capacity
		b.defs[name], s = d, shape(d)
		b.shapes[name] = s
	}
	return b.db.ObserveBudget(ctx, b.conn, s, left)
}

// Block implements crm.Budget.
func (b *Budget) Block(ctx context.Context, until time.Time) error {
	return b.db.BlockBudget(ctx, b.conn, until)
}
