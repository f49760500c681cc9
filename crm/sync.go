package crm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
)

// Syncer is a CRM's outbound half of sync: it writes the state of deals
// (the CRM records quotes are made on) into the CRM. The sync engine
// (package crmsync) decides what to push and when, holds the records'
// leases, counts retries and keeps the log; a Syncer only knows its CRM's
// objects, batch endpoints, limits and errors. Adapter.Sync returns nil for
// a CRM that does not sync.
//
// The ownership rule every Syncer keeps: it changes only records it made,
// which carry a Qwoty external reference (Ref); lines people added in the
// CRM by hand are never edited or deleted.
type Syncer interface {
	// Ready says whether conn may be pushed to: nil, or an error coded
	// sync_reconnect when the connection was made before sync needed more
	// scopes (its Scopes lack a write scope), which the admin fixes by
	// connecting again.
	Ready(conn *qwoty.Connection) error

	// DefaultStages maps quote statuses to the CRM's stage values for a
	// new connection; a status absent or mapped to "" leaves the stage as
	// it is. The admin may change the map (sync settings).
	DefaultStages() map[qwoty.Status]string

	// Buckets is the shape of the CRM's rate limits for conn: the buckets
	// Push takes from (Budget.Take), with their starting capacity. share is
	// the part of a daily allocation the admin lets sync use (0 < share <= 1).
	Buckets(conn *qwoty.Connection, share float64) []Bucket

	// MaxBatch is how many deals one Push call may carry (the engine
	// leases at most that many records at once).
	MaxBatch() int

	// Push writes deals to the CRM through s, taking from b before each
	// call and keeping what it wrote in links. It returns one Outcome per
	// deal, in any order, and the API calls it made. A deal whose write
	// failed has Err set; Push itself does not return an error: a failure
	// of everything (the CRM unreachable, no token) is every deal's Err.
	//
	// Every write is idempotent: an upsert by the record's Ref where the
	// CRM has one, else a create recorded first as an intent (Links.Intend)
	// and adopted on retry from what the CRM already holds. Push may be
	// called again with the same deals at any point (a crash, a lease
	// taken over) and must converge to the same CRM state without
	// duplicates.
	Push(ctx context.Context, s Session, b Budget, links Links, deals []Deal) Report
}

// Deal is the state of one CRM record to write: its primary quote's total,
// stage and lines, and every quote of the record for a CRM that mirrors
// quotes (Salesforce's Quote object).
type Deal struct {
	// RecordID is the CRM record (Opportunity, deal) the quotes are on.
	RecordID string
	// Version is the outbox version this snapshot was taken at.
	Version int64
	// Primary is the record's primary quote; nil when it has no live
	// quote (then Qwoty's lines are removed from the record and its amount
	// and stage are left as they are).
	Primary *QuoteState
	// Stage is the CRM stage the primary quote's status maps to; "" leaves
	// the stage as it is.
	Stage string
	// Quotes are all the record's quotes, the primary among them, deleted
	// ones included (Deleted set) so that their mirror is marked.
	Quotes []QuoteState
	// Fields are the admin's field mappings that push (qwoty.Mapping), as
	// the values to write on the deal record by the CRM field's API name,
	// already formatted for the field's type (a date "2026-11-29", a
	// number "1200.50", a picklist value through the mapping's value map).
	// A Syncer writes them with the deal's own update; none when the
	// record has no primary quote.
	Fields map[string]string
}

// QuoteState is one quote as it is written to the CRM.
type QuoteState struct {
	ID       string
	Ref      string // Ref(RefQuote, ID)
	Number   string
	Title    string
	Status   qwoty.Status
	Currency string
	Totals   qwoty.Totals
	// Rounding is the quote's rounding policy: what it is pushed with
	// when the CRM holds fewer decimals than the currency (Figures).
	Rounding qwoty.Rounding
	Primary  bool
	Deleted  bool
	Lines    []LineState
}

// Figures are the quote's total, tax and lines' nets as a CRM whose
// amounts hold scale decimals receives them (qwoty.ForCRM, docs/money.md):
// every adapter writes an amount through it, so that the CRM's total is
// the quote's.
func (q *QuoteState) Figures(scale int32) qwoty.CRMFigures {
	nets := make([]decimal.Decimal, len(q.Lines))
	for i, l := range q.Lines {
		nets[i] = l.Net
	}
	return qwoty.ForCRM(q.Totals, nets, q.Currency, q.Rounding, scale)
}

// LineState is one line of a quote as it is written to the CRM.
type LineState struct {
	ID       string
	Ref      string // Ref(RefLine, ID)
	Position int
	// ProductID is the CRM product the line was taken from (the
	// catalogue), "" for a free line: a Syncer links the CRM line to it.
	ProductID   string
	SKU         string
	Description string
	Quantity    decimal.Decimal
	// UnitPrice is the list price; Discount the line's discount percent;
	// Net what the line costs after it (Quantity × UnitPrice − discount).
	UnitPrice       decimal.Decimal
	DiscountPercent decimal.Decimal
	Net             decimal.Decimal
}

// Reference types: what a Ref names.
const (
	RefQuote   = "quote"
	RefLine    = "line"
	RefProduct = "product"
)

// Ref is the stable external reference of a record Qwoty writes:
// "qwoty:<type>:<id>". It goes into an External ID field (Salesforce), a
// unique property (HubSpot) or a marker (Pipedrive), so that Qwoty finds
// its own records again and touches no other.
func Ref(typ, id string) string { return "qwoty:" + typ + ":" + id }

// Report is what one Push did.
type Report struct {
	Outcomes []Outcome
	// Calls is the API calls Push made (HTTP requests; for Pipedrive,
	// Tokens is the token cost they were charged).
	Calls  int
	Tokens int
}

// Outcome is what became of one deal.
type Outcome struct {
	RecordID string
	// Err is nil when the deal is written. Otherwise it is classified with
	// errors.Is / errors.As: *WaitError (a limit: try again later, no
	// retry used), ErrRejected (permanent: the CRM refused the data, with
	// its own message), ErrForbidden (permanent: a missing permission or
	// scope), a coded qwoty.Error (refresh_rejected: the connection is in
	// error), anything else transient (retried).
	Err error
	// Written lists the CRM records written, for the sync log.
	Written []Written
	// Warning is a difference the CRM made that the quote does not show
	// (an Opportunity Amount computed from other lines), "" when none.
	Warning string
}

// Written is one CRM record a push wrote.
type Written struct {
	Object string `json:"object"`        // the CRM's object: "Opportunity", "line_items", "deal_product"
	ID     string `json:"id,omitempty"`  // the CRM's id, "" when unknown
	Ref    string `json:"ref,omitempty"` // the Qwoty reference, "" for a record Qwoty does not own (a deal)
	Action string `json:"action"`        // "created", "updated", "deleted", "marked deleted", "adopted"
}

// Written actions.
const (
	ActionCreated = "created"
	ActionUpdated = "updated"
	ActionDeleted = "deleted"
	ActionMarked  = "marked deleted"
	ActionAdopted = "adopted"
)

// ErrRejected: the CRM refused the data itself (validation, a required
// field, a bad value, a missing field of the package): sending it again
// cannot help, so the push fails at once with the CRM's message.
var ErrRejected = errors.New("crm: the CRM rejected the data")

// Rejected wraps err, whose text is the CRM's own message, as ErrRejected.
func Rejected(err error) error { return tagged{err, ErrRejected} }

// WaitError says that a call must wait: the budget is spent until Until,
// or the CRM answered 429 / REQUEST_LIMIT_EXCEEDED. The engine snoozes the
// record until then; no retry is used up.
type WaitError struct {
	Until  time.Time
	Reason string // "budget", or the CRM's words
	// Budget is set when the connection's own budget said wait (Budget.Take),
	// not the CRM: the sync log does not list such waits.
	Budget bool
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("rate limited until %s: %s", e.Until.UTC().Format(time.RFC3339), e.Reason)
}

// Bucket is one rate limit of a connection: at most Capacity units in any
// window of Per (HubSpot: 110 requests per 10 s; Pipedrive: its daily
// tokens per 24 h). The engine keeps it in PostgreSQL, shared by every
// instance, as a token bucket that never exceeds it in any window: a small
// burst (BurstShare of Capacity) and the rest spread evenly over Per.
// Declare the CRM's documented limit less a margin for the time a request
// takes to reach the CRM.
type Bucket struct {
	Name     string // "burst", "daily"
	Capacity float64
	Per      time.Duration
}

// BurstShare is the part of a Bucket's capacity that may go at once.
const BurstShare = 0.05

// TokenBucket is the token bucket that keeps within b in every window of
// b.Per: a burst of BurstShare of its capacity (one unit at least), and a
// refill such that the burst and one window's refill make the capacity.
func (b Bucket) TokenBucket() (burst, refillPerSecond float64) {
	burst = max(1, b.Capacity*BurstShare)
	if b.Per > 0 && b.Capacity > burst {
		refillPerSecond = (b.Capacity - burst) / b.Per.Seconds()
	}
	return burst, refillPerSecond
}

// Budget is a connection's API budget, shared by every instance (the sync
// engine keeps it in PostgreSQL, on the database's clock).
type Budget interface {
	// Take takes cost units of bucket before a call. When the bucket has
	// too few, or the connection is blocked, it returns a *WaitError saying
	// until when: the caller stops and reports it as the deals' Err.
	Take(ctx context.Context, bucket string, cost float64) error
	// Observe corrects bucket from what the CRM said of its own count
	// (Sforce-Limit-Info, X-HubSpot-RateLimit-Remaining): the bucket never
	// holds more than left units (other integrations spend the same
	// allocation: a negative left makes calls wait until it is paid back),
	// and when capacity is not 0 it becomes the bucket's Capacity (an
	// allocation learnt from the CRM's answer).
	Observe(ctx context.Context, bucket string, left, capacity float64) error
	// Block stops every call of the connection until until (a 429's
	// Retry-After, a daily reset).
	Block(ctx context.Context, until time.Time) error
}

// Links are the records Qwoty wrote in a connection's CRM account, by
// reference: the memory a Syncer needs to update, delete and adopt its own
// records without searching the CRM. They are kept per connection.
type Links interface {
	// Find returns the links of refs in object (missing refs are absent).
	Find(ctx context.Context, object string, refs []string) (map[string]RefLink, error)
	// Owned returns every link of object under parent (a deal's lines).
	Owned(ctx context.Context, object, parent string) ([]RefLink, error)
	// Intend records links about to be created, without a CRM id, before
	// the create is sent (for a CRM without upsert): a retry that finds
	// them adopts what the CRM already holds instead of creating again.
	Intend(ctx context.Context, links []RefLink) error
	// Save records links with their CRM ids (and clears their intent).
	Save(ctx context.Context, links []RefLink) error
	// Drop forgets links of object (records deleted in the CRM).
	Drop(ctx context.Context, object string, refs []string) error
}

// RefLink is one record Qwoty wrote (or is about to write) in the CRM.
type RefLink struct {
	Object string // the CRM object, in the Syncer's own naming
	Ref    string // the Qwoty reference; for a cache entry, the Syncer's key
	Parent string // the CRM record it hangs under ("" for none)
	CRMID  string // "" while only intended
	// Hash is the hash of what was last written, so an unchanged record
	// is not written again ("" forces a write).
	Hash string
}

// Intended reports whether the link is an intent without a CRM id.
func (l RefLink) Intended() bool { return l.CRMID == "" }
