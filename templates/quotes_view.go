package templates

import (
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// QuotesQuery is the console's quote list filter as the form shows it.
type QuotesQuery struct {
	Status, Owner, Record, From, To, Search string
	// WithoutDeal lists only the quotes without a CRM deal yet.
	WithoutDeal bool
	Filtered    bool
}

// QuotesView is the console's Quotes page.
type QuotesView struct {
	ConsolePage
	Query QuotesQuery
	Rows  []store.QuoteRow
	// Titles names each CRM ("Salesforce").
	Titles map[qwoty.Provider]string
	// Older and Newest page the list ("" when there is none).
	Older, Newest string
	// Deals is where the deal of each listed quote without a CRM record
	// stands, by quote id (none: not queued yet).
	Deals map[string]*store.DealCreation
}

// QuoteView is one quote in the console.
type QuoteView struct {
	ConsolePage
	Row     store.QuoteRow
	CRMName string
	History []store.AuditEntry
	// Versions are the revisions sent, frozen; Customer what the customer
	// was sent and did (sends, views, the answer).
	Versions []store.QuoteVersion
	Customer store.History
	// Order is the order its acceptance made, nil for none.
	Order *qwoty.Order
	// Deal is where its deal stands when it has no CRM record (nil: not
	// queued yet).
	Deal *store.DealCreation
	// Accounts is what each CRM calls an account, for the history's texts.
	Accounts map[qwoty.Provider]string
}

// consoleMoney formats the console's amounts (en-US; the card uses each
// CRM user's locale).
var consoleMoney = qwoty.MoneyFor("en-US")

// syncText is a quote's sync state in a few words, for the console.
func syncText(v qwoty.SyncView) string {
	switch v.State {
	case qwoty.SyncSynced:
		return "Synced " + when(v.At)
	case qwoty.SyncFailed:
		return "Failed: " + v.Error
	case qwoty.SyncPending:
		return "Pending"
	}
	return "Not synced"
}

// decisionTitle heads a customer's answer.
func decisionTitle(d string) string {
	if d == "accepted" {
		return "Accepted by the customer"
	}
	return "Rejected by the customer"
}

// dealState names where the deal of a quote without a CRM record stands
// (docs/deals.md): none (not queued yet), making, failed, or done (made
// since the page's quote was read).
func dealState(d *store.DealCreation) string {
	switch {
	case d == nil:
		return "none"
	case d.State == store.DealFailed || d.State == store.DealDone:
		return d.State
	}
	return "making"
}

// dealText is that state in a few words, for the console.
func dealText(d *store.DealCreation) string {
	switch dealState(d) {
	case "failed":
		return "Deal failed: " + d.Error
	case "making":
		if d.Error != "" {
			// Waiting for a limit or a reconnection, or retrying after a
			// transient failure: the last reason, as the sync log says it.
			return "Deal being made, waiting: " + d.Error
		}
		return "Deal being made"
	case store.DealDone:
		return "Deal made"
	}
	return "No CRM deal yet"
}
