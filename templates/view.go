package templates

import (
	"fmt"

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
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"selfRequestsOnly":true,` +
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

func money(q *qwoty.Quote, v interface{ StringFixed(int32) string }) string {
	return v.StringFixed(qwoty.CurrencyExponent(q.Currency))
}

func amount(q qwoty.Quote) string {
	return qwoty.DisplayAmount(q.Totals.Total, q.Currency)
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
		return "Revise (back to draft)"
	}
	return string(s)
}

func titleOr(q qwoty.Quote) string {
	if q.Title != "" {
		return q.Title
	}
	return "Untitled quote"
}
