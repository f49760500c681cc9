package salesforce

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Salesforce's inbound sync (docs/sync-salesforce.md, "Pulling"): four
// listings, each a SOQL query through QueryAll, oldest change first, paged
// by the change time itself (keyset) so that a record changed while a
// listing is read is read again, never skipped; QueryAll returns the
// recycle bin's records too, so a deletion comes back in the same listing
// with Deleted set.

// pullPage is a listing page's size: a query answer's largest batch
// (Sforce-Query-Options' batchSize maximum), so that a page is one call.
const pullPage = 2000

// puller is Salesforce's crm.Puller.
type puller struct {
	s *syncer
	// page is the rows a page asks for (pullPage unless Options say).
	page int
}

// Pull is Salesforce's inbound sync.
func (a *Adapter) Pull() crm.Puller {
	page := a.o.PullPageSize
	if page <= 0 || page > pullPage {
		page = pullPage
	}
	return &puller{s: &syncer{a: a, now: time.Now}, page: page}
}

var _ crm.Puller = (*puller)(nil)

// Streams: accounts before the opportunities that name them, products
// before their prices, the orders last (pull_orders.go); every call takes
// from the org's one daily bucket.
func (pl *puller) Streams(*qwoty.Connection) []crm.Stream {
	var out []crm.Stream
	for _, k := range []string{crm.KindCustomer, crm.KindDeal, crm.KindProduct, crm.KindPrice, crm.KindOrder} {
		out = append(out, crm.Stream{Name: k, Kind: k, Bucket: bucketDaily})
	}
	return out
}

// caller is the push's call machinery (budget, Sforce-Limit-Info, 403
// REQUEST_LIMIT_EXCEEDED), for a pull: a push of no deals.
func (pl *puller) caller(sess crm.Session, b crm.Budget) *push {
	return newPush(pl.s, sess, b, nil, nil)
}

// Pull reads one page of stream: one QueryAll call (two more the first
// time a process pulls the connection: the org's facts).
func (pl *puller) Pull(ctx context.Context, sess crm.Session, b crm.Budget, stream string, from crm.PullFrom) (crm.PullPage, error) {
	p := pl.caller(sess, b)
	q, ok := queries[stream]
	if !ok {
		return crm.PullPage{}, fmt.Errorf("salesforce: no stream %q", stream)
	}
	of, err := pl.facts(ctx, p)
	if err != nil {
		return crm.PullPage{Calls: p.calls}, err
	}
	after, err := decodeCursor(from.Cursor)
	if err != nil {
		return crm.PullPage{}, err
	}
	extra, err := pullFields(stream, from.Fields)
	if err != nil {
		return crm.PullPage{Calls: p.calls}, err
	}
	rows, err := queryAll(ctx, p, q.listing(of, from.Since, after, pl.page, extra))
	if err != nil {
		return crm.PullPage{Calls: p.calls}, err
	}
	page := crm.PullPage{Calls: p.calls}
	for _, r := range rows {
		rec, err := q.record(of, r)
		if err != nil {
			return page, err
		}
		page.Records = append(page.Records, rec)
	}
	crm.Asked(page.Records, extra)
	if len(rows) >= pl.page {
		// A full page: there may be more. The next asks for what comes
		// after its last row in (SystemModstamp, Id) order.
		last := page.Records[len(page.Records)-1]
		page.Next = encodeCursor(keyset{at: last.Modified, id: last.ID})
	}
	return page, nil
}

// Fetch reads the given records of kind with one QueryAll per IN list of
// ids: a record in the recycle bin comes back Deleted, and so does an id
// the org no longer knows (emptied from the bin, or never there).
func (pl *puller) Fetch(ctx context.Context, sess crm.Session, b crm.Budget, kind string, ids []string, fields []string) ([]crm.Pulled, error) {
	q, ok := queries[kind]
	if !ok {
		return nil, fmt.Errorf("salesforce: no records of kind %q", kind)
	}
	extra, err := pullFields(kind, fields)
	if err != nil {
		return nil, err
	}
	var norm []string
	for _, id := range ids {
		n, err := NormalizeID(id)
		if err != nil || !strings.HasPrefix(n, q.prefix) {
			return nil, crm.Rejected(fmt.Errorf("%q is not the id of a Salesforce %s", id, q.object))
		}
		if !slices.Contains(norm, n) {
			norm = append(norm, n)
		}
	}
	if len(norm) == 0 {
		return nil, nil
	}
	p := pl.caller(sess, b)
	of, err := pl.facts(ctx, p)
	if err != nil {
		return nil, err
	}
	found := map[string]bool{}
	var out []crm.Pulled
	for _, list := range chunkList(norm) {
		rows, err := queryAll(ctx, p, q.byIDs(of, list, extra))
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			rec, err := q.record(of, r)
			if err != nil {
				return nil, err
			}
			found[rec.ID] = true
			out = append(out, rec)
		}
	}
	now := pl.s.now().UTC()
	for _, id := range norm {
		if !found[id] {
			// Gone for good: no CRM time says when, so now.
			out = append(out, crm.Pulled{Kind: kind, ID: id, Modified: now, Deleted: true})
		}
	}
	crm.Asked(out, extra)
	return out, nil
}
