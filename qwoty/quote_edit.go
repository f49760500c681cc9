package qwoty

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Every change a quote accepts is a method of Quote in this file, and each
// one checks the rules that guard it: who stores the quote (store) loads
// it under its row lock, calls one of these, and writes what changed. So a
// rule is written once, here, and holds whoever changes a quote: the card,
// a test or the load tool.

// DefaultCurrency is a quote's currency when its CRM record names none (an
// org without multi-currency); the rep can change it while the quote is a
// draft.
const DefaultCurrency = "USD"

// CurrencyFrom is the currency a quote is prefilled with from its CRM
// record's: that code in capitals when it is one, DefaultCurrency otherwise.
func CurrencyFrom(recordCurrency string) string {
	if cur := strings.ToUpper(recordCurrency); ValidCurrency(cur) {
		return cur
	}
	return DefaultCurrency
}

// NewDraft is a new quote before it is stored: a draft with no lines, its
// title trimmed. It refuses a currency that is not an ISO 4217 code, a
// title too long or that no text column can hold, and a tax rate out of
// 0..100 %: what SetTerms refuses later.
func NewDraft(title, currency string, taxRate decimal.Decimal) (*Quote, error) {
	if !ValidCurrency(currency) {
		return nil, errCurrency(currency)
	}
	title, err := ParseTitle(title)
	if err != nil {
		return nil, err
	}
	if err := checkTaxRate(taxRate); err != nil {
		return nil, err
	}
	return &Quote{Status: StatusDraft, Title: title, Currency: currency, TaxRate: taxRate, Revision: 1,
		Discount: QuoteDiscount{Kind: DiscountNone}, TaxMode: TaxPerQuote, Rounding: RoundLineHalfUp}, nil
}

// CheckVersion refuses an edit made on a stale copy of the quote: edited is
// the version the user's form was rendered with (0 when the caller accepts
// last-write-wins). Two reps editing one quote never silently overwrite
// each other; the second reloads and sees the first one's change.
func (q *Quote) CheckVersion(edited int) error {
	if edited != 0 && q.Version != edited {
		return E(CodeVersionConflict, "quote %s was changed by someone else (version %d, you edited %d)", q.Number, q.Version, edited)
	}
	return nil
}

// CheckEditable refuses a change to the quote's lines or terms unless it is
// a draft (see Status.CheckEditable).
func (q *Quote) CheckEditable() error { return q.Status.CheckEditable(q.Number) }

// Terms are a quote's editable header fields.
type Terms struct {
	Title string
	// Currency is the ISO 4217 code to quote in; empty keeps the quote's,
	// so that a form may leave it out.
	Currency string
	TaxRate  decimal.Decimal // percent, 0..100
	// TaxMode is where tax rates are set; empty keeps the quote's.
	TaxMode TaxMode
	// Discount is the quote-level discount; nil keeps the quote's.
	Discount *QuoteDiscount
}

// SetTerms changes a draft's title, currency and tax rate. The title is
// trimmed; a currency that is not an ISO 4217 code, or a title or tax rate
// NewDraft would refuse, is refused.
func (q *Quote) SetTerms(t Terms) error {
	if err := q.CheckEditable(); err != nil {
		return err
	}
	currency := q.Currency
	if t.Currency != "" {
		if !ValidCurrency(t.Currency) {
			return errCurrency(t.Currency)
		}
		currency = t.Currency
	}
	title, err := ParseTitle(t.Title)
	if err != nil {
		return err
	}
	if err := checkTaxRate(t.TaxRate); err != nil {
		return err
	}
	mode := q.TaxMode
	if t.TaxMode != "" {
		if mode, err = ParseTaxMode(string(t.TaxMode)); err != nil {
			return err
		}
	}
	discount := q.Discount
	if t.Discount != nil {
		discount = *t.Discount
	}
	p := q.Pricing()
	p.Currency, p.TaxRate, p.TaxMode, p.Discount = currency, t.TaxRate, mode, discount
	if err := checkQuoteDiscount(discount, q.Lines, p); err != nil {
		return err
	}
	q.Title, q.Currency, q.TaxRate, q.TaxMode, q.Discount = title, currency, t.TaxRate, mode, discount
	return nil
}

// AddLine appends a line to a draft of fewer than MaxLines lines. The line
// is checked as ParseLine checks what a user types; it is new (no id until
// it is stored) and unpriced until Reprice.
func (q *Quote) AddLine(l LineItem) error {
	if err := q.CheckEditable(); err != nil {
		return err
	}
	if err := checkLineCount(len(q.Lines) + 1); err != nil {
		return err
	}
	if err := checkLine(l); err != nil {
		return err
	}
	q.Lines = append(q.Lines, LineItem{QuoteID: q.ID, ProductID: l.ProductID, SKU: l.SKU, Description: l.Description,
		Quantity: l.Quantity, UnitPrice: l.UnitPrice, DiscountPercent: l.DiscountPercent, TaxRate: l.TaxRate})
	return nil
}

// ReplaceLines replaces every line of a draft with lines, each checked
// as AddLine checks it (the API's PUT …/lines, the console's form).
func (q *Quote) ReplaceLines(lines []LineItem) error {
	if err := q.CheckEditable(); err != nil {
		return err
	}
	q.Lines = q.Lines[:0]
	for _, l := range lines {
		if err := q.AddLine(l); err != nil {
			return err
		}
	}
	return nil
}

// UpdateLine replaces what a user edits of one line of a draft (SKU,
// description, quantity, unit price, discount, catalogue product); the line keeps its id and
// place. A line not on the quote is not_found.
func (q *Quote) UpdateLine(lineID string, l LineItem) error {
	if err := q.CheckEditable(); err != nil {
		return err
	}
	i := q.lineIndex(lineID)
	if i < 0 {
		return lineNotFound(lineID)
	}
	if err := checkLine(l); err != nil {
		return err
	}
	m := &q.Lines[i]
	m.SKU, m.Description, m.Quantity, m.UnitPrice, m.DiscountPercent = l.SKU, l.Description, l.Quantity, l.UnitPrice, l.DiscountPercent
	m.ProductID, m.TaxRate = l.ProductID, l.TaxRate
	return nil
}

// RemoveLine deletes one line of a draft. A line not on the quote is
// not_found.
func (q *Quote) RemoveLine(lineID string) error {
	if err := q.CheckEditable(); err != nil {
		return err
	}
	i := q.lineIndex(lineID)
	if i < 0 {
		return lineNotFound(lineID)
	}
	q.Lines = append(q.Lines[:i:i], q.Lines[i+1:]...)
	return nil
}

// Transition moves the quote along an allowed edge of the status machine
// (Status.CanMoveTo). A quote is sent with at least one line: a customer
// is never sent an empty offer. Back to draft is a revision (Revise): the
// one way a quote offered to a customer becomes editable again.
func (q *Quote) Transition(to Status) error {
	if to == StatusDraft {
		return q.Revise()
	}
	if !q.Status.CanMoveTo(to) {
		return Errorf(CodeInvalidTransition, allowedHint(q.Status), "quote %s cannot move from %s to %s", q.Number, q.Status, to)
	}
	if to == StatusSent && len(q.Lines) == 0 {
		return Errorf(CodeValidation, "Add at least one line before sending.", "quote %s has no lines", q.Number)
	}
	q.Status = to
	return nil
}

// Revise makes a sent, viewed, rejected or expired quote a draft again, as
// its next revision: Revision goes up by one, the lines stay as the new
// draft's starting point, and ValidUntil is cleared (the next send sets
// it). The revision that was sent stays as it was frozen (the store keeps
// it in quote_versions). An accepted quote is final, and a draft has
// nothing to revise: both are invalid_status_transition.
func (q *Quote) Revise() error {
	if q.Status == StatusDraft {
		return Errorf(CodeInvalidTransition, "A draft can be edited as it is; revise a quote once it has been sent.",
			"quote %s is a draft: there is nothing to revise", q.Number)
	}
	if !q.Status.CanMoveTo(StatusDraft) {
		return Errorf(CodeInvalidTransition, allowedHint(q.Status), "quote %s is %s and cannot be revised", q.Number, q.Status)
	}
	q.Status = StatusDraft
	q.Revision++
	q.ValidUntil = nil
	return nil
}

// CanRevise reports whether Revise would accept the quote.
func (q *Quote) CanRevise() bool { return q.Status != StatusDraft && q.Status.CanMoveTo(StatusDraft) }

// SetValidity gives a quote being sent its validity when it has none:
// validDays (the workspace's quote_valid_days) after today, a date (UTC).
func (q *Quote) SetValidity(today time.Time, validDays int) {
	if q.ValidUntil != nil || validDays <= 0 {
		return
	}
	y, m, d := today.UTC().Date()
	v := time.Date(y, m, d+validDays, 0, 0, 0, 0, time.UTC)
	q.ValidUntil = &v
}

// Expired reports whether a quote valid until its ValidUntil has run out on
// day today: from the day after ValidUntil, in UTC.
func (q *Quote) Expired(today time.Time) bool {
	if q.ValidUntil == nil {
		return false
	}
	y, m, d := q.ValidUntil.UTC().Date()
	ty, tm, td := today.UTC().Date()
	return time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC).After(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// Reprice numbers the lines from 1 in their order, and computes each line's
// figures and the quote's totals with the money engine (Price) for what the
// quote states: currency, tax rates, quote-level discount and rounding
// policy. It is what is stored after every change, so that totals are never
// taken from a client.
func (q *Quote) Reprice() {
	for i := range q.Lines {
		q.Lines[i].Position = i + 1
	}
	q.Totals = Price(q.Lines, q.Pricing())
}

func (q *Quote) lineIndex(id string) int {
	for i, l := range q.Lines {
		if l.ID != "" && l.ID == id {
			return i
		}
	}
	return -1
}

// allowedHint says where a quote in status s can go from there.
func allowedHint(s Status) string {
	next := s.Next()
	if len(next) == 0 {
		return fmt.Sprintf("Quote status %s is final.", s)
	}
	h := "From " + string(s) + " it can move to "
	for i, n := range next {
		if i > 0 {
			h += ", "
		}
		h += string(n)
	}
	return h + "."
}

func lineNotFound(id string) error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf("line %s is not on this quote", id),
		Hint: "It may have been removed; reload the quote.", Err: ErrNotFound}
}

// LineNotFound is the error for a line id that is not on the quote, as the
// edits give it (for a read of one line).
func LineNotFound(id string) error { return lineNotFound(id) }
