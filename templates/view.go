package templates

import (
	"fmt"
	"strconv"

	"github.com/a-h/templ"
	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
)

// CardView is the card page: the record's quotes, or one quote open.
type CardView struct {
	// Provider is the CRM framing the card (it may need its own script).
	Provider    string
	RecordID    string
	RecordName  string
	AccountName string
	PageToken   string
	// ParentOrigins are the origins allowed to frame the page; the page
	// posts its messages to them only.
	ParentOrigins []string
	Quotes        []qwoty.Quote
	Open          *qwoty.Quote
	// Money writes amounts in the rep's locale (the CRM's request names it).
	Money qwoty.Money
}

// ErrorView is a full-page error state.
type ErrorView struct {
	Title     string
	Code      string
	Message   string
	Hint      string
	RequestID string
	// Field, when set, is the form field the error is about (by its name):
	// the card moves the message beside it.
	Field string
	// ParentOrigins, when known, are the origins that may frame the page.
	ParentOrigins []string
	// Provider, when set, is the CRM framing the page (it may need its
	// own script to show the page at all).
	Provider string
}

// htmxConfig keeps htmx within the page's CSP (no eval, no inline styles) and
// swaps 4xx answers (they carry an HX-Retarget to the flash) but not 5xx.
// New content is settled at once (no settle delay: the card has no CSS
// transitions), so its elements answer events as soon as it is in place:
// card.js replays an edit made during a save on them right after the swap.
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"selfRequestsOnly":true,"defaultSettleDelay":0,` +
	`"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"401","swap":false,"error":true},` +
	`{"code":"4..","swap":true,"error":false},{"code":"...","swap":false,"error":true}]}`

func quoteURL(q *qwoty.Quote, suffix string) string {
	return "/embed/api/quotes/" + q.ID + suffix
}

func lineURL(q *qwoty.Quote, l qwoty.LineItem) string {
	return "/embed/api/quotes/" + q.ID + "/lines/" + l.ID
}

func versionVals(q *qwoty.Quote) string {
	return fmt.Sprintf(`{"version":"%d"}`, q.Version)
}

func statusVals(s qwoty.Status) string {
	return fmt.Sprintf(`{"status":"%s"}`, s)
}

// plain renders an input value for a decimal: no trailing zeros ("12.5").
func plain(v interface{ String() string }) string { return v.String() }

func statusAction(s qwoty.Status) string {
	switch s {
	case qwoty.StatusSent:
		return "Mark as sent"
	case qwoty.StatusViewed:
		return "Mark as viewed"
	case qwoty.StatusAccepted:
		return "Mark as accepted"
	case qwoty.StatusRejected:
		return "Mark as rejected"
	case qwoty.StatusExpired:
		return "Mark as expired"
	case qwoty.StatusDraft:
		return "Revise"
	}
	return string(s)
}

// lockedNote says why a quote's lines cannot change, and what can be done
// today: a sent, viewed, rejected or expired quote goes back to draft with
// its Revise button; an accepted one is final.
func lockedNote(s qwoty.Status) string {
	if s == qwoty.StatusAccepted {
		return "This quote was accepted: it is final, and its lines and terms can no longer change."
	}
	if s.CanMoveTo(qwoty.StatusDraft) {
		return "This quote is " + string(s) + ": its lines and terms are locked. To change them, use \"" + statusAction(qwoty.StatusDraft) +
			"\" below: the next revision becomes a draft, and the one sent stays as it was."
	}
	return "This quote is " + string(s) + ": its lines and terms are locked."
}

// quoteCount is the list's heading ("1 quote", "3 quotes").
func quoteCount(n int) string {
	if n == 1 {
		return "1 quote"
	}
	return strconv.Itoa(n) + " quotes"
}

// lineName names a line in a button's label: its SKU, else its description.
func lineName(l qwoty.LineItem) string {
	if l.SKU != "" {
		return l.SKU
	}
	return l.Description
}

// maxLen is the longest a line's text field may be, in characters.
func maxLen(name string) string {
	if name == "description" {
		return "1000"
	}
	return "64"
}

func titleOr(q qwoty.Quote) string {
	if q.Title != "" {
		return q.Title
	}
	return "Untitled quote"
}

// discountKind is the quote-level discount's kind, none when not set.
func discountKind(q *qwoty.Quote) qwoty.DiscountKind {
	if q.Discount.Kind == "" {
		return qwoty.DiscountNone
	}
	return q.Discount.Kind
}

// discountValue is the quote-level discount's value as the field shows it:
// empty for none, a percentage, or an amount with the currency's decimals.
func discountValue(q *qwoty.Quote) string {
	switch discountKind(q) {
	case qwoty.DiscountPercent:
		return q.Discount.Value.String()
	case qwoty.DiscountAmount:
		return qwoty.InputAmount(q.Discount.Value, q.Currency)
	}
	return ""
}

func discountValueLabel(q *qwoty.Quote) string {
	if discountKind(q) == qwoty.DiscountAmount {
		return "Amount"
	}
	return "%"
}

// quoteDiscountLabel names the quote discount in the totals.
func quoteDiscountLabel(q *qwoty.Quote) string {
	if discountKind(q) == qwoty.DiscountPercent {
		return "Quote discount (" + q.Discount.Value.String() + " %)"
	}
	return "Quote discount"
}

// lineTaxRate is a line's own tax rate, "" when it takes the quote's.
func lineTaxRate(l qwoty.LineItem) string {
	if !l.TaxRate.Valid {
		return ""
	}
	return l.TaxRate.Decimal.String()
}

// oobAttrs mark an element swapped out of band (htmx hx-swap-oob) when oob.
func oobAttrs(oob bool) templ.Attributes {
	if !oob {
		return templ.Attributes{}
	}
	return templ.Attributes{"hx-swap-oob": "true"}
}

// orderVals are an order move's values: the status and the order's
// version (they override the editor's quote version).
func orderVals(o *qwoty.Order, s qwoty.OrderStatus) string {
	return fmt.Sprintf(`{"status":"%s","version":"%d"}`, s, o.Version)
}

// lineCount says how many lines there are ("1 line", "3 lines").
func lineCount(n int) string {
	if n == 1 {
		return "1 line"
	}
	return itoa(n) + " lines"
}

// LineShown is what the editor shows of a line's figures (lineForm): a
// partial answer sends again every line whose LineShown an edit changed.
// Showing another figure of a line means adding it here.
type LineShown struct {
	Net decimal.Decimal
}

// LineShownOf is what the editor shows of l's figures.
func LineShownOf(l qwoty.LineItem) LineShown {
	return LineShown{Net: l.Net}
}

// Same reports whether a and b show the same.
func (a LineShown) Same(b LineShown) bool {
	return a.Net.Equal(b.Net)
}

// LargeFrom is the number of lines from which a quote is large: the editor
// shows its lines as rows, each opened for editing on its own (lineRow),
// and a saved line is answered with that line and the totals only.
const LargeFrom = 100

// LargeQuote reports whether q is large (LargeFrom).
func LargeQuote(q *qwoty.Quote) bool { return len(q.Lines) >= LargeFrom }
