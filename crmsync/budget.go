package crmsync

import (
	"context"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/store"
)

// newBudget is a connection's budget (crm/session.Budget).
var newBudget = session.NewBudget

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
