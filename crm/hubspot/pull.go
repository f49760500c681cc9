package hubspot

import (
	"context"
	"fmt"
	"slices"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Pull is HubSpot's inbound sync (docs/sync-hubspot.md, "Pulling"):
// companies as customers, deals with their company and contact people,
// products with their price in each of the account's currencies, orders
// made in HubSpot with their deal and line items (pull_orders.go), and the
// records of each that were archived (HubSpot's delete), each listing read
// through the CRM Search API by hs_lastmodifieddate (pull_search.go).
func (a *Adapter) Pull() crm.Puller { return &puller{a: a} }

type puller struct{ a *Adapter }

var _ crm.Puller = (*puller)(nil)

// PullScopes are the scopes pulling reads with beyond DefaultScopes' reads
// of deals and companies: the deals' contact people and the products.
var PullScopes = []string{"crm.objects.contacts.read", "crm.objects.products.read"}

// Stream names. A "_archived" stream lists the records of its kind that
// were archived, each with Deleted set and archivedAt as its time.
const (
	streamCustomer         = crm.KindCustomer
	streamDeal             = crm.KindDeal
	streamProduct          = crm.KindProduct
	streamCustomerArchived = crm.KindCustomer + "_archived"
	streamDealArchived     = crm.KindDeal + "_archived"
	streamProductArchived  = crm.KindProduct + "_archived"
)

// objectOf is the CRM object type a kind of record is read from.
var objectOf = map[string]string{
	crm.KindCustomer: "companies",
	crm.KindDeal:     "deals",
	crm.KindProduct:  "products",
	crm.KindOrder:    "orders",
}

// Streams: companies before the deals that name them; products, then the
// orders on the deals; the archived listings after the live ones. A
// connection not granted products' (or orders') read scope has no product
// (order) streams: it was made before pulling needed the scope;
// reconnecting adds them.
func (p *puller) Streams(conn *qwoty.Connection) []crm.Stream {
	out := []crm.Stream{
		{Name: streamCustomer, Kind: crm.KindCustomer, Bucket: searchBucket},
		{Name: streamDeal, Kind: crm.KindDeal, Bucket: searchBucket},
	}
	products := conn == nil || slices.Contains(conn.Scopes, "crm.objects.products.read")
	if products {
		out = append(out, crm.Stream{Name: streamProduct, Kind: crm.KindProduct, Bucket: searchBucket})
	}
	if ordersListed(conn) {
		out = append(out, crm.Stream{Name: streamOrder, Kind: crm.KindOrder, Bucket: searchBucket})
	}
	out = append(out,
		crm.Stream{Name: streamCustomerArchived, Kind: crm.KindCustomer, Bucket: burstBucket},
		crm.Stream{Name: streamDealArchived, Kind: crm.KindDeal, Bucket: burstBucket})
	if products {
		out = append(out, crm.Stream{Name: streamProductArchived, Kind: crm.KindProduct, Bucket: burstBucket})
	}
	if ordersListed(conn) {
		out = append(out, crm.Stream{Name: streamOrderArchived, Kind: crm.KindOrder, Bucket: burstBucket})
	}
	return out
}

// Pull reads one page of a stream.
func (p *puller) Pull(ctx context.Context, s crm.Session, b crm.Budget, stream string, from crm.PullFrom) (crm.PullPage, error) {
	c := p.caller(s, b)
	var page crm.PullPage
	var err error
	switch stream {
	case streamCustomer, streamDeal, streamProduct:
		page, err = p.searchPage(ctx, c, stream, from)
	case streamOrder, streamOrderArchived:
		page, err = p.orderPage(ctx, c, stream, from)
	case streamCustomerArchived, streamDealArchived, streamProductArchived:
		page, err = p.archivedPage(ctx, c, stream[:len(stream)-len("_archived")], from)
	default:
		return page, fmt.Errorf("hubspot: no stream %q", stream)
	}
	page.Calls = c.calls
	return page, err
}

// Fetch reads records of kind by id with the batch read endpoint (100 ids
// a call). An id HubSpot does not return live is looked for among the
// archived records, which gives its archivedAt; one it has forgotten (past
// the 90 days, or purged) comes back Deleted as of now.
func (p *puller) Fetch(ctx context.Context, s crm.Session, b crm.Budget, kind string, ids []string, fields []string) ([]crm.Pulled, error) {
	object, ok := objectOf[kind]
	if !ok {
		return nil, fmt.Errorf("hubspot: cannot fetch records of kind %q", kind)
	}
	extra, err := extraProperties(kind, fields)
	if err != nil {
		return nil, err
	}
	var valid []string
	for _, id := range ids {
		if objectID(id) && !slices.Contains(valid, id) {
			valid = append(valid, id)
		}
	}
	c := p.caller(s, b)
	var cur []string
	if kind == crm.KindProduct && len(valid) > 0 {
		var err error
		if cur, err = p.currencies(ctx, c); err != nil {
			return nil, err
		}
	}
	var out []crm.Pulled
	for _, batch := range chunks(valid) {
		live, err := c.batchRead(ctx, object, batch, propertiesOf(kind, cur, extra), false)
		if err != nil {
			return nil, err
		}
		recs, err := p.records(ctx, c, kind, live, cur)
		if err != nil {
			return nil, err
		}
		crm.Asked(recs, extra)
		out = append(out, recs...)
		var missing []string
		for _, id := range batch {
			if !slices.ContainsFunc(live, func(o searchObject) bool { return o.ID == id }) {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 {
			continue
		}
		gone, err := c.batchRead(ctx, object, missing, []string{"hs_lastmodifieddate"}, true)
		if err != nil {
			return nil, err
		}
		for _, id := range missing {
			when := p.a.now()
			if i := slices.IndexFunc(gone, func(o searchObject) bool { return o.ID == id }); i >= 0 && !gone[i].ArchivedAt.IsZero() {
				when = gone[i].ArchivedAt
			}
			out = append(out, crm.Pulled{Kind: kind, ID: id, Modified: when, Deleted: true})
		}
	}
	return out, nil
}
