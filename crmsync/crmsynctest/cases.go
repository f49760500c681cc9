package crmsynctest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// CRM is one real CRM under a whole-system sync test (the crash test, the
// budget test, the benchmark): its adapter bound to its emulator, what a
// child `qwoty serve` needs to reach the emulator, records to quote on,
// and the check of what the emulator holds.
type CRM struct {
	Name string
	// The emulator, by CRM: one of these is set.
	Salesforce *sftest.Server
	HubSpot    *hstest.Server
	Pipedrive  *pdtest.Server
	// Adapter is bound to the emulator; Redirect is the callback its app
	// accepts.
	Adapter  crm.Adapter
	Redirect string
	// Env are a child qwoty serve's settings that point its app at the
	// emulator.
	Env []string
	// Records are the CRM records (deals) quotes may be made on, in
	// Currency.
	Records  []string
	Currency string
	// Drop makes the emulator drop the answer of its next sync write after
	// committing it.
	Drop func()
	// Calls counts the API requests the emulator answered so far.
	Calls func() int
	// Base is the emulator's base: faults, ledger, request count.
	Base *emulator.Base
	// BadStage is a stage value the CRM refuses (a stage map set to it
	// makes a status change fail with the CRM's own message).
	BadStage string
	// AddHandLine adds a line to record as a person does in the CRM;
	// HandLines counts the record's lines Qwoty does not own.
	AddHandLine func(record string)
	HandLines   func(record string) int
	// Prepare, when set, readies the connection once it is made (a
	// company's plan, which no API tells).
	Prepare func(db *store.DB, connectionID string)
	// FileRoute is the route the CRM uploads a document on (a fault's
	// Route); Files lists the files on record; RemoveRecord deletes the
	// record, as a person does in the CRM (crm.Archiver's tests).
	FileRoute    string
	Files        func(record string) []ArchivedFile
	RemoveRecord func(record string)
	// Orders lists the orders the CRM holds on record (crm.OrderSyncer's
	// tests); nil when its emulator holds none yet. PrepareOrders readies
	// record for an order, as a person would in the CRM (a Salesforce
	// opportunity's account).
	Orders        func(record string) []CRMOrder
	PrepareOrders func(record string)
	// Deals made from Qwoty (crm.DealMaker's tests), nil when its
	// adapter makes none: MadeAccounts and MadeDeals list the accounts
	// and deals carrying a Qwoty reference; AddAccount puts an account a
	// person made (name, domain: "" for none) and returns its id;
	// AccountRoute and DealRoute are the routes the CRM creates them on
	// (a fault's Route).
	MadeAccounts            func() []CRMMade
	MadeDeals               func() []CRMMade
	AddAccount              func(name, domain string) string
	AccountRoute, DealRoute string
	// DropOrder makes the emulator drop the answer of its next order
	// create after committing it. OneOrder says a record holds one order,
	// the last written (a Pipedrive deal's order field), not one per
	// Qwoty order.
	DropOrder func()
	OneOrder  bool
	// Verify says what differs between the emulator and the records'
	// final state (store.SyncSnapshots), one message per difference.
	Verify func(snaps []store.SyncSnapshot) []string
}

// Options shape a CRM under test.
type Options struct {
	// AppURL is the base URL of the child server (its OAuth callback).
	AppURL string
	// Records is how many deals to make.
	Records int
	// Unlimited turns the emulator's rate limits off (the crash test:
	// limits are the budget test's and the benchmark's subject).
	Unlimited bool
	// BigPlan gives an account whose daily allocation a thousand quotes do
	// not exhaust, its short-window limits on (the benchmark).
	BigPlan bool
}

// CRMs are the three shipped CRMs' constructors, by name.
var CRMs = map[string]func(t testing.TB, o Options) *CRM{}

// Want is what a record's CRM deal must show after sync: its primary
// quote's total and lines (nil when it has none), and all its quotes.
type Want struct {
	RecordID string
	Primary  *qwoty.Quote
	Quotes   []qwoty.Quote
}

// Wants reads the records' final state.
func Wants(snaps []store.SyncSnapshot) []Want {
	out := make([]Want, 0, len(snaps))
	for _, s := range snaps {
		w := Want{RecordID: s.RecordID, Quotes: s.Quotes}
		for i := range s.Quotes {
			if q := &s.Quotes[i]; q.Primary && !q.Deleted {
				w.Primary = q
			}
		}
		out = append(out, w)
	}
	return out
}

// LineWant is a line as a CRM must hold it, by its reference.
type LineWant struct {
	Ref      string
	Quantity decimal.Decimal
	Price    decimal.Decimal
}

// LinesOf lists q's lines by reference (none for nil).
func LinesOf(q *qwoty.Quote) map[string]LineWant {
	out := map[string]LineWant{}
	if q == nil {
		return out
	}
	for _, l := range q.Lines {
		ref := crm.Ref(crm.RefLine, l.ID)
		out[ref] = LineWant{Ref: ref, Quantity: l.Quantity, Price: l.UnitPrice}
	}
	return out
}

// CompareLines checks that got (each CRM line owned by Qwoty: its ref, its
// quantity and unit price) is exactly want: each once, none missing, none
// more, the same values. It returns the differences.
func CompareLines(record string, got []LineWant, want map[string]LineWant) []string {
	var diffs []string
	seen := map[string]int{}
	for _, g := range got {
		seen[g.Ref]++
		w, ok := want[g.Ref]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: line %s is in the CRM but not on the primary quote", record, g.Ref))
		case !g.Quantity.Equal(w.Quantity) || !g.Price.Round(2).Equal(w.Price.Round(2)):
			diffs = append(diffs, fmt.Sprintf("%s: line %s holds %s × %s, want %s × %s", record, g.Ref, g.Quantity, g.Price, w.Quantity, w.Price))
		}
	}
	for ref, n := range seen {
		if n > 1 {
			diffs = append(diffs, fmt.Sprintf("%s: line %s is in the CRM %d times", record, ref, n))
		}
	}
	for ref := range want {
		if seen[ref] == 0 {
			diffs = append(diffs, fmt.Sprintf("%s: line %s of the primary quote is missing", record, ref))
		}
	}
	return diffs
}

// IsQwotyRef reports whether s carries a Qwoty reference.
func IsQwotyRef(s string) bool { return strings.Contains(s, "qwoty:") }
