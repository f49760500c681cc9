package crmsync

import (
	"context"
	"fmt"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/store"
)

// budget is a connection's crm.Budget, kept in PostgreSQL (store's
// api_budget) so that every instance spends the same one.
type budget struct {
	db     *store.DB
	conn   string
	defs   map[string]crm.Bucket
	shapes map[string]store.BudgetBucket
	// floor is the share of each bucket's capacity a take must leave in it
	// (0 for real-time pushes; backfillFloor for a batch of back-fill
	// records only, so that a back-fill spends only the upper half and a
	// rep's change always finds the lower half there).
	floor float64
}

var _ crm.Budget = (*budget)(nil)

func newBudget(db *store.DB, conn string, buckets []crm.Bucket) *budget {
	b := &budget{db: db, conn: conn, defs: map[string]crm.Bucket{}, shapes: map[string]store.BudgetBucket{}}
	for _, k := range buckets {
		b.defs[k.Name], b.shapes[k.Name] = k, shape(k)
	}
	return b
}

// shape is k as the store keeps it (crm.Bucket.TokenBucket).
func shape(k crm.Bucket) store.BudgetBucket {
	burst, refill := k.TokenBucket()
	return store.BudgetBucket{Name: k.Name, Capacity: burst, RefillPerSec: refill}
}

func (b *budget) shape(name string) (store.BudgetBucket, error) {
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
// most backfillReserve of its refill.
func (b *budget) Take(ctx context.Context, name string, cost float64) error {
	s, err := b.shape(name)
	if err != nil {
		return err
	}
	var keepShare, keepMax float64
	if b.floor > 0 {
		keepShare, keepMax = b.floor, s.RefillPerSec*backfillReserve.Seconds()
		if s.RefillPerSec <= 0 {
			keepMax = b.floor * s.Capacity
		}
	}
	for {
		wait, taken, err := b.db.ReserveBudget(ctx, b.conn, s, cost, keepShare, keepMax, shortWait)
		if err != nil {
			return err
		}
		if !taken && wait > shortWait {
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
func (b *budget) Observe(ctx context.Context, name string, left, capacity float64) error {
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
func (b *budget) Block(ctx context.Context, until time.Time) error {
	return b.db.BlockBudget(ctx, b.conn, until)
}

// links is a connection's crm.Links, kept in PostgreSQL (crm_links).
type links struct {
	db   *store.DB
	conn string
}

var _ crm.Links = (*links)(nil)

func toRef(l store.Link) crm.RefLink {
	return crm.RefLink{Object: l.Object, Ref: l.Ref, Parent: l.Parent, CRMID: l.CRMID, Hash: l.Hash}
}

func fromRefs(ls []crm.RefLink) []store.Link {
	out := make([]store.Link, len(ls))
	for i, l := range ls {
		out[i] = store.Link{Object: l.Object, Ref: l.Ref, Parent: l.Parent, CRMID: l.CRMID, Hash: l.Hash}
	}
	return out
}

// Find implements crm.Links.
func (l *links) Find(ctx context.Context, object string, refs []string) (map[string]crm.RefLink, error) {
	found, err := l.db.FindLinks(ctx, l.conn, object, refs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]crm.RefLink, len(found))
	for _, f := range found {
		out[f.Ref] = toRef(f)
	}
	return out, nil
}

// Owned implements crm.Links.
func (l *links) Owned(ctx context.Context, object, parent string) ([]crm.RefLink, error) {
	found, err := l.db.OwnedLinks(ctx, l.conn, object, parent)
	if err != nil {
		return nil, err
	}
	out := make([]crm.RefLink, len(found))
	for i, f := range found {
		out[i] = toRef(f)
	}
	return out, nil
}

// Intend implements crm.Links.
func (l *links) Intend(ctx context.Context, ls []crm.RefLink) error {
	return l.db.IntendLinks(ctx, l.conn, fromRefs(ls))
}

// Save implements crm.Links.
func (l *links) Save(ctx context.Context, ls []crm.RefLink) error {
	return l.db.SaveLinks(ctx, l.conn, fromRefs(ls))
}

// Drop implements crm.Links.
func (l *links) Drop(ctx context.Context, object string, refs []string) error {
	return l.db.DropLinks(ctx, l.conn, object, refs)
}

// backfillFloor is the share of a bucket a back-fill leaves to real-time
// pushes: it takes tokens only while the bucket is more than half full.
const backfillFloor = 0.5

// backfillReserve bounds the reserve a back-fill leaves: ten seconds of the
// bucket's refill.
const backfillReserve = 10 * time.Second
