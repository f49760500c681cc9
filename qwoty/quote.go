package qwoty

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Status is the lifecycle state of a quote.
type Status string

// Quote statuses.
const (
	StatusDraft    Status = "draft"
	StatusSent     Status = "sent"
	StatusViewed   Status = "viewed"
	StatusAccepted Status = "accepted"
	StatusRejected Status = "rejected"
	StatusExpired  Status = "expired"
)

// Statuses lists every status in display order.
var Statuses = []Status{StatusDraft, StatusSent, StatusViewed, StatusAccepted, StatusRejected, StatusExpired}

// transitions is the whole status machine: a quote may only move along these
// edges. Accepted is final. Every edge back to draft is a revision
// ((*Quote).Revise): the quote becomes the draft of its next revision, the
// one sent stays frozen.
var transitions = map[Status][]Status{
	StatusDraft:    {StatusSent},
	StatusSent:     {StatusViewed, StatusAccepted, StatusRejected, StatusExpired, StatusDraft},
	StatusViewed:   {StatusAccepted, StatusRejected, StatusExpired, StatusDraft},
	StatusAccepted: nil,
	StatusRejected: {StatusDraft},
	StatusExpired:  {StatusDraft},
}

// ParseStatus returns the status named s, or false when s names none.
func ParseStatus(s string) (Status, bool) {
	st := Status(s)
	_, ok := transitions[st]
	return st, ok
}

// Next returns the statuses a quote in s may move to.
func (s Status) Next() []Status { return transitions[s] }

// CanMoveTo reports whether a quote in s may move to next.
func (s Status) CanMoveTo(next Status) bool {
	for _, n := range transitions[s] {
		if n == next {
			return true
		}
	}
	return false
}

// Editable reports whether line items and terms may change in this status:
// only drafts, so that what a customer saw is what they accept.
func (s Status) Editable() bool { return s == StatusDraft }

// CheckEditable refuses a change to quote number's lines or terms unless
// its status is editable, saying what can be done instead: an accepted
// quote is final; the others go back to draft first.
func (s Status) CheckEditable(number string) error {
	switch {
	case s.Editable():
		return nil
	case s.CanMoveTo(StatusDraft):
		return E(CodeQuoteLocked, "quote %s is %s; only draft quotes can be edited", number, s)
	default:
		return Errorf(CodeQuoteLocked, "An accepted quote is final: create a new quote for other terms.",
			"quote %s is %s; only draft quotes can be edited", number, s)
	}
}

// Label is the status as shown to people.
func (s Status) Label() string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// Quote is a priced offer attached to one CRM record.
type Quote struct {
	ID           string
	WorkspaceID  string
	ConnectionID string
	CustomerID   string // empty when the record has no account
	CustomerName string
	CRMRecordID  string
	Number       string // per workspace, like Q-00042
	Title        string
	Status       Status
	Currency     string
	TaxRate      decimal.Decimal // percent, 0..100
	Totals       Totals
	Version      int // the row's version, one more per write (optimistic locking)
	// Revision is the quote's version as the customer knows it: a sent
	// revision is frozen, revising makes the next one a draft.
	Revision int
	// ValidUntil is the last day the quote can be accepted (nil: not set).
	ValidUntil *time.Time
	// Terms are the terms the customer reads on the page and the PDF.
	Terms string
	// Discount is the quote-level discount (Totals.QuoteDiscount is what
	// it came to).
	Discount QuoteDiscount
	TaxMode  TaxMode
	Rounding Rounding
	// Primary marks the record's primary quote: its total, status and
	// lines are the CRM record's amount, stage and products.
	Primary bool
	// Deleted is set on a deleted quote (sync still marks its CRM mirror).
	Deleted bool
	// Sync is where the quote stands with the CRM.
	Sync SyncView
	// ExternalRef links the quote to another system's record
	// (ParseExternalRef); "" for none.
	ExternalRef string
	CreatedBy   string // CRM user id
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Lines       []LineItem
}

// LineItem is one priced line of a quote.
type LineItem struct {
	ID       string
	QuoteID  string
	ParentID string // bundle parent, empty for top-level lines
	Position int
	// ProductID is the CRM product the line was picked from (the
	// connection's catalogue), "" for a free line.
	ProductID       string
	SKU             string
	Description     string
	Quantity        decimal.Decimal
	UnitPrice       decimal.Decimal
	DiscountPercent decimal.Decimal // 0..100
	Amount          decimal.Decimal // quantity × unit price, rounded to the currency
	Discount        decimal.Decimal // amount × discount percent, rounded
	Net             decimal.Decimal // amount − discount
	// TaxRate is the line's own rate, percent (TaxPerLine; not Valid: the
	// quote's); Tax is the tax it came to.
	TaxRate decimal.NullDecimal
	Tax     decimal.Decimal
}

// FormatNumber formats a per-workspace sequence number as a quote number.
func FormatNumber(n int64) string {
	s := decimal.NewFromInt(n).String()
	for len(s) < 5 {
		s = "0" + s
	}
	return "Q-" + s
}
