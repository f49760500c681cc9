package crm

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
)

// Puller is a CRM's inbound half of sync: it reads what changed in the CRM
// (accounts, deals and their contact people, products and their prices) so
// that Qwoty keeps a copy. The sync engine (package crmsync) keeps, per
// connection and stream, the high-water mark, the listing under way and
// the records themselves; a Puller only knows how its CRM lists changes.
// Adapter.Pull returns nil for a CRM that does not pull.
//
// Change detection follows one rule for every CRM: a listing asks for the
// records whose modification time in the CRM (never our clock) is at or
// after Since, oldest first; the engine stores each page before it asks for
// the next, and moves the stream's mark to the newest time the listing
// returned only once the listing is complete. The next listing starts an
// overlap (PullOverlap) before the mark, so a record committed late, or
// changed while a listing was being read, is read again rather than
// missed; reading a record twice is harmless (an older version never
// overwrites a newer one).
type Puller interface {
	// Streams are the listings the engine runs for conn, in order (a
	// customer before the deals that name it).
	Streams(conn *qwoty.Connection) []Stream

	// Pull reads one page of stream: records modified at or after
	// from.Since, resuming at from.Cursor ("" for the first page). It
	// takes from b before each call. The page's Next is the cursor of the
	// next page, "" when the listing is complete.
	//
	// A Puller must not miss a record that is changed while the listing
	// is read: a cursor that is an offset into a listing sorted by
	// modification time skips the record that moves, so page by the
	// modification time itself (keyset), by an id, or by the CRM's own
	// stable cursor.
	Pull(ctx context.Context, s Session, b Budget, stream string, from PullFrom) (PullPage, error)

	// Fetch reads the given records of kind now (a webhook said they
	// changed, the rep pressed "Sync now" on a record), with the extra
	// fields as PullFrom.Fields. Records that no longer exist come back
	// with Deleted set.
	Fetch(ctx context.Context, s Session, b Budget, kind string, ids []string, fields []string) ([]Pulled, error)
}

// PullOverlap is how far before a stream's mark the next listing starts.
const PullOverlap = 5 * time.Minute

// Stream is one listing a Puller runs.
type Stream struct {
	// Name is the stream's key, stable across versions: "customer",
	// "deal", "product", "price", or a CRM's own ("deal_deleted").
	Name string
	// Kind is the kind of records it returns (a deletes listing returns
	// records of its kind with Deleted set).
	Kind string
	// Bucket is the budget bucket it takes from (a CRM whose search has a
	// rate of its own names it).
	Bucket string
}

// Kinds of pulled records.
const (
	KindCustomer = "customer"
	KindDeal     = "deal"
	KindProduct  = "product"
	KindPrice    = "price"
	// KindOrder is an order made in the CRM on a deal (crm/order_pull.go).
	KindOrder = "order"
)

// PullFrom is where a page of a listing starts.
type PullFrom struct {
	// Since is the listing's lower bound on the CRM's modification time
	// (zero: the beginning, a full pull).
	Since time.Time
	// Cursor is the previous page's Next, "" for the first page.
	Cursor string
	// Fields are CRM fields of the stream's kind (customer or deal) to
	// read besides the Puller's own, by API name: the fields the admin's
	// mappings pull from. Each comes back in every live record's Fields,
	// "" when the record has no value; a name the CRM could not have is
	// refused (an error), never put into a query. A stream of another
	// kind ignores them.
	Fields []string
}

// PullPage is one page of a listing.
type PullPage struct {
	Records []Pulled
	// Next is the cursor of the next page, "" when the listing is done.
	Next string
	// Calls and Tokens are what the page cost (as in Report).
	Calls  int
	Tokens int
}

// Pulled is one record as the CRM holds it.
type Pulled struct {
	Kind string
	// ID is the CRM's id of the record (for a price: of the price itself,
	// or of its product when the price is a field of the product).
	ID string
	// Modified is the CRM's own last-modification time of the record.
	Modified time.Time
	// Deleted is set for a record deleted (archived, status deleted) in
	// the CRM: Qwoty marks its copy, it never deletes it.
	Deleted bool
	// Echo is set when the CRM says the change was Qwoty's own write (the
	// last modifier is the connection's user or app): it is stored, never
	// treated as an edit made in the CRM.
	Echo bool
	// One of these, by Kind.
	Customer *PulledCustomer
	Deal     *PulledDeal
	Product  *PulledProduct
	Price    *PulledPrice
	Order    *PulledOrder
	// Fields are the record's other fields by the CRM's API name, as text
	// (for the admin's field mappings).
	Fields map[string]string
}

// PulledCustomer is an account / company / organization.
type PulledCustomer struct {
	Name       string
	Email      string
	Phone      string
	Street     string
	City       string
	PostalCode string
	Region     string
	Country    string
}

// PulledDeal is an Opportunity / deal.
type PulledDeal struct {
	Name   string
	Amount *decimal.Decimal // nil: none
	// Currency is the deal's ISO currency code, "" when the CRM has one
	// currency only and does not say it.
	Currency string
	Stage    string
	// CloseDate is "YYYY-MM-DD", "" when none.
	CloseDate string
	// AccountID is the customer's CRM id, "" when none.
	AccountID string
	// Contacts are the deal's contact people with an email (a contact
	// without one cannot be matched and is left out).
	Contacts []PulledContact
}

// PulledContact is a contact person of a deal.
type PulledContact struct {
	ID    string
	Name  string
	Email string
	Phone string
	Role  string
}

// PulledProduct is a catalogue product.
type PulledProduct struct {
	SKU         string
	Name        string
	Description string
	Active      bool
	// Prices are the product's prices when they are fields of the product
	// (HubSpot, Pipedrive); a CRM with price records of their own
	// (Salesforce's price book entries) returns them from a "price" stream.
	Prices []PulledPrice
}

// PulledPrice is a product's price in one currency.
type PulledPrice struct {
	ProductID string
	Currency  string
	UnitPrice decimal.Decimal
	// EntryID is the CRM's id of the price record, "" when the price is a
	// field of the product.
	EntryID string
	Active  bool
}

// Asked gives every live record of kind customer or deal in recs each
// of names (PullFrom.Fields) among its Fields, "" when the CRM returned
// no value, so that an emptied field reads as empty rather than unread.
func Asked(recs []Pulled, names []string) {
	if len(names) == 0 {
		return
	}
	for i := range recs {
		r := &recs[i]
		if r.Deleted || (r.Kind != KindCustomer && r.Kind != KindDeal) {
			continue
		}
		if r.Fields == nil {
			r.Fields = map[string]string{}
		}
		for _, n := range names {
			if _, ok := r.Fields[n]; !ok {
				r.Fields[n] = ""
			}
		}
	}
}
