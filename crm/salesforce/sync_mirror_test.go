package salesforce_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/qwoty"
)

// The mirrors' lines under edits the same push also deletes, answers lost
// after Salesforce saved them, and pushes that restart.

// mirrorLines are the refs of the lines of the mirror of quoteRef, sorted,
// and whether it is marked deleted.
func (e *syncEnv) mirrorLines(opp, quoteRef string) (string, bool) {
	e.t.Helper()
	var found []sftest.Record
	for _, q := range e.emu.Quotes(org, opp) {
		if q.String("Qwoty__Ref__c") == quoteRef {
			found = append(found, q)
		}
	}
	if len(found) != 1 {
		e.t.Fatalf("%d mirrors of %s; want 1", len(found), quoteRef)
	}
	got := refs(e.emu.QuoteLineItems(org, found[0].String("Id")))
	slices.Sort(got)
	return strings.Join(got, " "), found[0].Bool("Qwoty__Deleted__c")
}

// A quote edited and then deleted before the next push: its mirror is
// marked and holds the quote's last lines (a line removed goes, a line
// added comes), as every mirror holds its quote's lines. A quote deleted
// before it was ever pushed gets no mirror.
func TestDeletedQuoteMirrorHoldsItsLastLines(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	opp := e.opportunity("Acme")
	a := quote("qa", qwoty.StatusSent, line("a1", "A", "1", "10", "0"))
	b := quote("qb", qwoty.StatusDraft, line("b1", "B", "1", "20", "0"), line("b2", "C", "2", "30", "0"))
	e.pushOK(deal(opp, "", 0, a, b))

	b = quote("qb", qwoty.StatusDraft, line("b1", "B", "1", "20", "0"), line("b3", "D", "3", "40", "0"))
	b.Deleted = true
	never := quote("qn", qwoty.StatusDraft, line("n1", "A", "1", "10", "0"))
	never.Deleted = true
	e.pushOK(deal(opp, "", 0, a, b, never))
	got, marked := e.mirrorLines(opp, b.Ref)
	if !marked || got != "qwoty:line:b1 qwoty:line:b3" {
		t.Errorf("deleted quote's mirror: marked %v, lines %s; want marked with b1 b3", marked, got)
	}
	if n := e.emu.CountByRef(org, "Quote", never.Ref); n != 0 {
		t.Errorf("a quote deleted before it was pushed has %d mirrors; want none", n)
	}
	if again := e.pushOK(deal(opp, "", 0, a, b, never)); len(again.Outcomes[0].Written) != 0 {
		t.Errorf("an unchanged push wrote %s", actions(again.Outcomes[0].Written))
	}
}
