package templates

import (
	"time"

	"github.com/qwoty/companion/qwoty"
)

// CustomerView is the customer's page of a quote (/q/{token}).
type CustomerView struct {
	// Base is the page's own path (/q/{token}); its actions hang below it.
	Base      string
	Workspace string
	HasLogo   bool
	Quote     *qwoty.Quote
	Money     qwoty.Money
	// Expired: past its valid-until day, or expired: no answer is offered.
	Expired bool
	// VersionHash is the hash of the version shown (qwoty.VersionHash):
	// the answer forms carry it.
	VersionHash string
	// FormToken binds the page's posts to its link (signed, short-lived).
	FormToken string
	// Notice is a message above the quote (an answer refused, a thanks).
	Notice     string
	NoticeCode string
	// Decision is the customer's recorded answer, when there is one.
	Decision *CustomerDecision
	// FullName is the name typed before a refusal, typed again for them.
	FullName string
}

// CustomerDecision is a recorded answer, as the page states it.
type CustomerDecision struct {
	Accepted bool
	FullName string
	At       time.Time
}

// Answerable reports whether the page offers accept and reject.
func (v CustomerView) Answerable() bool {
	return !v.Expired && (v.Quote.Status == qwoty.StatusSent || v.Quote.Status == qwoty.StatusViewed)
}

func customerDate(t time.Time) string { return t.UTC().Format("2 January 2006") }

func customerTime(t time.Time) string { return t.UTC().Format("2 January 2006, 15:04 UTC") }

// customerOr is who accepts: the quote's customer, or "your organisation".
func customerOr(q *qwoty.Quote) string {
	if q.CustomerName != "" {
		return q.CustomerName
	}
	return "your organisation"
}

// expiredText says that the quote expired, and when.
func expiredText(v CustomerView) string {
	s := "This quote has expired"
	if v.Quote.ValidUntil != nil {
		s += " (it was valid until " + customerDate(*v.Quote.ValidUntil) + ")"
	}
	return s + ": it can no longer be accepted. Ask " + v.Workspace + " for a new one."
}
