package salesforce_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/crm/synctest"
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

// loseWrites makes Salesforce lose its answer to every write (the
// all-or-none Composite request) after saving it, until beforeSend is
// unset: the push tries again at once, and fails.
func (e *syncEnv) loseWrites() {
	e.beforeSend = func(_ *http.Request, body []byte) {
		if strings.Contains(string(body), `"allOrNone":true`) {
			if err := e.emu.Inject(emulator.Fault{Route: "POST /services/data/v63.0/composite", Times: 1, Drop: true}); err != nil {
				e.t.Fatal(err)
			}
		}
	}
}

// A write whose answer was lost is not taken as written: when the deal
// then comes back to what was last confirmed (a line's quantity, a status
// and its stage), the records are written again, not skipped as unchanged
// while Salesforce holds the lost write's values.
func TestLostWriteThenBackToTheConfirmedState(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	opp := e.opportunity("Acme")
	v1 := deal(opp, "Proposal/Price Quote", 0, quote("q1", qwoty.StatusSent, line("l1", "A", "1", "10", "0")))
	e.pushOK(v1)

	e.loseWrites()
	v2 := deal(opp, "Closed Lost", 0, quote("q1", qwoty.StatusRejected, line("l1", "A", "2", "10", "0")))
	if r := e.push(v2); r.Outcomes[0].Err == nil {
		t.Fatal("a write whose answer was lost succeeded")
	}
	e.beforeSend = nil

	v1 = deal(opp, "Proposal/Price Quote", 0, quote("q1", qwoty.StatusSent, line("l1", "A", "1", "10", "0")))
	e.pushOK(v1)
	if s := e.emu.Record(org, "Opportunity", opp).String("StageName"); s != "Proposal/Price Quote" {
		t.Errorf("stage %s; want Proposal/Price Quote", s)
	}
	q := e.emu.Quotes(org, opp)[0]
	if s := q.String("Status"); s != "Presented" {
		t.Errorf("quote status %s; want Presented", s)
	}
	if l := e.emu.LineItems(org, opp); len(l) != 1 || !l[0].Decimal("Quantity").Equal(dec("1")) {
		t.Errorf("products %v; want l1 × 1", l)
	}
	if l := e.emu.QuoteLineItems(org, q.String("Id")); len(l) != 1 || !l[0].Decimal("Quantity").Equal(dec("1")) {
		t.Errorf("quote lines %v; want l1 × 1", l)
	}
}

// The write's answer is lost after Salesforce saved it, so the links know
// none of its records; then a line is removed from the quote. The next
// push finds the removed line on the opportunity and on the mirror from
// what Salesforce holds, and deletes it from both.
func TestLostWriteThenLineRemoved(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	opp := e.opportunity("Acme")
	a := quote("qa", qwoty.StatusDraft, line("a1", "A", "1", "10", "0"), line("a2", "B", "2", "20", "0"))
	b := quote("qb", qwoty.StatusDraft, line("b1", "C", "1", "30", "0"), line("b2", "D", "4", "40", "0"))
	e.loseWrites()
	if r := e.push(deal(opp, "", 0, a, b)); r.Outcomes[0].Err == nil {
		t.Fatal("a write whose answer was lost succeeded")
	}
	e.beforeSend = nil
	for _, l := range e.links.All() {
		if l.Object == "QuoteLineItem" || l.Object == "OpportunityLineItem" {
			t.Fatalf("the links know %s %s after a lost answer", l.Object, l.Ref)
		}
	}
	if n := len(e.emu.LineItems(org, opp)); n != 2 {
		t.Fatalf("the lost write saved %d products; want 2", n)
	}

	a = quote("qa", qwoty.StatusDraft, line("a1", "A", "1", "10", "0"))
	b = quote("qb", qwoty.StatusDraft, line("b2", "D", "4", "40", "0"))
	e.pushOK(deal(opp, "", 0, a, b))
	if got := strings.Join(refs(e.emu.LineItems(org, opp)), " "); got != "qwoty:line:a1" {
		t.Errorf("products %s; want a1", got)
	}
	for _, c := range []struct {
		q    crm.QuoteState
		want string
	}{{a, "qwoty:line:a1"}, {b, "qwoty:line:b2"}} {
		if got, _ := e.mirrorLines(opp, c.q.Ref); got != c.want {
			t.Errorf("mirror of %s: lines %s; want %s", c.q.Ref, got, c.want)
		}
	}
}

// Another push of the same deal (a worker whose lease ran out while its
// write was on its way) saves the deal's records between this push's read
// and its write: Salesforce refuses the fields only a create sets
// (PricebookEntryId, the parent). The push fails for now, not for good,
// and the next one updates what is there: one record each.
func TestRecordsMadeMeanwhileByAnotherPush(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	opp := e.opportunity("Acme")
	d := deal(opp, "", 0, quote("q1", qwoty.StatusDraft, line("l1", "A", "1", "10", "0")))
	// Product A and its price exist: only the deal's own records are made
	// meanwhile.
	e.pushOK(deal(e.opportunity("Globex"), "", 0, quote("q0", qwoty.StatusDraft, line("l0", "A", "1", "10", "0"))))
	other := e.sy
	done := false
	e.beforeSend = func(_ *http.Request, body []byte) {
		if done || !strings.Contains(string(body), `"allOrNone":true`) {
			return
		}
		done = true
		// The other push: the same deal, written in full.
		if r := other.Push(context.Background(), e.sess, e.budget, &synctest.Links{}, []crm.Deal{d}); r.Outcomes[0].Err != nil {
			e.t.Fatalf("the other push: %v", r.Outcomes[0].Err)
		}
	}
	r := e.push(d)
	if err := r.Outcomes[0].Err; err == nil || errors.Is(err, crm.ErrRejected) {
		t.Fatalf("records made meanwhile: %v; want a transient error", err)
	}
	e.pushOK(d)
	for _, c := range []struct{ object, ref string }{{"OpportunityLineItem", "qwoty:line:l1"}, {"Quote", "qwoty:quote:q1"},
		{"QuoteLineItem", "qwoty:line:l1"}} {
		if n := e.emu.CountByRef(org, c.object, c.ref); n != 1 {
			t.Errorf("%d %s %s; want 1", n, c.object, c.ref)
		}
	}
}

// An answer lost on the way back, of the read and then of the write: the
// push pushes the deal again at once, and it is written once, without
// waiting for the engine's next try.
func TestLostAnswersArePushedAgainAtOnce(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	opp := e.opportunity("Acme")
	d := deal(opp, "Proposal/Price Quote", 0, quote("q1", qwoty.StatusSent, line("l1", "A", "1", "10", "0"), line("l2", "B", "1", "20", "0")))
	e.pushOK(deal(e.opportunity("Globex"), "", -1)) // the org's facts
	lost := map[string]bool{}
	e.beforeSend = func(_ *http.Request, body []byte) {
		kind := "read"
		if strings.Contains(string(body), `"allOrNone":true`) {
			kind = "write"
		}
		if !strings.Contains(string(body), "compositeRequest") || lost[kind] {
			return
		}
		lost[kind] = true
		if err := e.emu.Inject(emulator.Fault{Route: "POST /services/data/v63.0/composite", Times: 1, Drop: true}); err != nil {
			e.t.Fatal(err)
		}
	}
	r := e.pushOK(d)
	if !lost["read"] || !lost["write"] {
		t.Fatalf("answers lost: %v; want the read's and the write's", lost)
	}
	if r.Calls != 5 {
		t.Errorf("%d calls; want 5 (a read lost, a read and a write lost, a read and a write)", r.Calls)
	}
	for _, c := range []struct{ object, ref string }{{"OpportunityLineItem", "qwoty:line:l1"}, {"OpportunityLineItem", "qwoty:line:l2"},
		{"Quote", "qwoty:quote:q1"}, {"QuoteLineItem", "qwoty:line:l1"}, {"QuoteLineItem", "qwoty:line:l2"}} {
		if n := e.emu.CountByRef(org, c.object, c.ref); n != 1 {
			t.Errorf("%d %s %s; want 1", n, c.object, c.ref)
		}
	}
	if got := actions(r.Outcomes[0].Written); strings.Contains(got, "created") {
		t.Errorf("written %s; want what the lost write saved adopted, nothing created", got)
	}
}
