package hubspot_test

import (
	"slices"
	"testing"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/qwoty"
)

// A line item HubSpot made whose answer, or whose association to the deal,
// was lost is still Qwoty's: when its line leaves the quote, or another
// quote becomes primary, the next push archives it; when its line stays,
// the next push files it under the deal. No Qwoty line item is left alive
// outside the deal's primary quote (the crash test's orphans).

const associateRoute = "POST /crm/associations/2026-03/{from}/{to}/batch/associate/default"

// The create was applied (its line items are under the deal) but its answer
// lost; then a line leaves the quote.
func TestSyncLostCreateThenLineRemovedArchivesIt(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	id := e.deal(1)
	l1, l2 := line("l1", "A", "Alpha", "1", "100", "0"), line("l2", "B", "Beta", "2", "5", "0")
	if err := e.hs.Inject(emulator.Fault{Route: "POST /crm/objects/2026-03/line_items/batch/create", Times: 1, Drop: true}); err != nil {
		t.Fatal(err)
	}
	if r := e.push(e.dealOf(id, quote("q1", qwoty.StatusSent, l1, l2))); r.Outcomes[0].Err == nil {
		t.Fatal("push whose create answer was dropped succeeded")
	}
	q := quote("q1", qwoty.StatusSent, l1)
	e.pushOK(e.dealOf(id, q))
	e.onlyQuoteLines(id, q)
	// Nothing is left to do.
	if r := e.pushOK(e.dealOf(id, q)); r.Calls != 0 {
		t.Errorf("after the clean-up: %d calls, want 0", r.Calls)
	}
}

// The create was applied but its answer lost; then another quote becomes
// primary: the first quote's line items go, though Qwoty never learnt their
// ids.
func TestSyncLostCreateThenPrimarySwitchArchivesIt(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	id := e.deal(1)
	if err := e.hs.Inject(emulator.Fault{Route: "POST /crm/objects/2026-03/line_items/batch/create", Times: 1, Drop: true}); err != nil {
		t.Fatal(err)
	}
	q1 := quote("q1", qwoty.StatusSent, line("a1", "A", "Alpha", "1", "100", "0"), line("a2", "B", "Beta", "2", "5", "0"))
	if r := e.push(e.dealOf(id, q1)); r.Outcomes[0].Err == nil {
		t.Fatal("push whose create answer was dropped succeeded")
	}
	q2 := quote("q2", qwoty.StatusSent, line("b1", "C", "Gamma", "3", "7", "0"))
	r := e.pushOK(e.dealOf(id, q2))
	if got, want := actions(r.Outcomes[0]), []string{"deals:updated", "line_items:created", "line_items:deleted", "line_items:deleted"}; !slices.Equal(got, want) {
		t.Errorf("written %v, want %v", got, want)
	}
	e.onlyQuoteLines(id, q2)
}

// The create's answer was lost and the quote lost every line before the
// next push, one of them never made (its create refused): the line item
// HubSpot holds is archived, and the intent of the other forgotten.
func TestSyncLostCreateThenQuoteGoneForgetsWhatWasNeverMade(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	id := e.deal(1)
	if err := e.hs.Inject(emulator.Fault{Route: "POST /crm/objects/2026-03/line_items/batch/create", Times: 1, Drop: true}); err != nil {
		t.Fatal(err)
	}
	// a2's price is refused: HubSpot makes a1 only.
	q1 := quote("q1", qwoty.StatusSent, line("a1", "A", "Alpha", "1", "100", "0"), line("a2", "B", "Beta", "1", "-5", "0"))
	if r := e.push(e.dealOf(id, q1)); r.Outcomes[0].Err == nil {
		t.Fatal("push whose create answer was dropped succeeded")
	}
	if n := len(e.hs.LiveLineItems(hstest.DefaultPortalID)); n != 1 {
		t.Fatalf("HubSpot holds %d line items, want a1's", n)
	}
	e.pushOK(crm.Deal{RecordID: id})
	e.onlyQuoteLines(id, nil)
	for _, l := range e.links.All() {
		if l.Object == "line_items" {
			t.Errorf("link %+v left after the quote went", l)
		}
	}
}

// An upsert made the line item anew (someone deleted Qwoty's in HubSpot)
// and the push died before its association: the line item is under no
// deal. When its line then leaves the quote, it is archived.
func TestSyncUnfiledLineItemThenLineRemovedArchivesIt(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	id := e.deal(1)
	l1, l2 := line("l1", "A", "Alpha", "1", "100", "0"), line("l2", "B", "Beta", "2", "5", "0")
	e.unfile(id, l1, l2)
	q := quote("q1", qwoty.StatusDraft, l2)
	e.pushOK(e.dealOf(id, q))
	e.onlyQuoteLines(id, q)
}

// The same, another quote made primary.
func TestSyncUnfiledLineItemThenPrimarySwitchArchivesIt(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	id := e.deal(1)
	l1, l2 := line("l1", "A", "Alpha", "1", "100", "0"), line("l2", "B", "Beta", "2", "5", "0")
	e.unfile(id, l1, l2)
	q := quote("q2", qwoty.StatusDraft, line("m1", "C", "Gamma", "1", "1", "0"))
	e.pushOK(e.dealOf(id, q))
	e.onlyQuoteLines(id, q)
}

// When its line stays, changed or not, the next push files it under the
// deal.
func TestSyncUnfiledLineItemIsFiledByTheNextPush(t *testing.T) {
	for name, next := range map[string]crm.LineState{
		"unchanged": line("l1", "A", "Alpha", "2", "100", "0"),
		"changed":   line("l1", "A", "Alpha", "3", "100", "0"),
	} {
		t.Run(name, func(t *testing.T) {
			e := newSyncEnv(t, hstest.Options{})
			id := e.deal(1)
			l2 := line("l2", "B", "Beta", "2", "5", "0")
			e.unfile(id, line("l1", "A", "Alpha", "1", "100", "0"), l2)
			q := quote("q1", qwoty.StatusDraft, next, l2)
			e.pushOK(e.dealOf(id, q))
			e.onlyQuoteLines(id, q)
			if got := e.lineItems(id)[next.Ref].Properties["quantity"]; got != next.Quantity.String() {
				t.Errorf("l1's quantity %s, want %s", got, next.Quantity)
			}
			if r := e.pushOK(e.dealOf(id, q)); r.Calls != 0 {
				t.Errorf("once filed: %d calls, want 0", r.Calls)
			}
		})
	}
}

// unfile pushes l1 and l2, deletes l1's line item by hand, and pushes l1
// changed (quantity 2) with its association refused by a 503 (nothing
// applied): HubSpot holds l1's new line item under no deal.
func (e *syncEnv) unfile(id string, l1, l2 crm.LineState) {
	t := e.t
	t.Helper()
	e.pushOK(e.dealOf(id, quote("q1", qwoty.StatusDraft, l1, l2)))
	if err := e.archiveByHand(e.lineItems(id)[l1.Ref].ID); err != nil {
		t.Fatal(err)
	}
	if err := e.hs.Inject(emulator.Fault{Route: associateRoute, Times: 1, Status: 503}); err != nil {
		t.Fatal(err)
	}
	changed := line("l1", "A", "Alpha", "2", "100", "0")
	if r := e.push(e.dealOf(id, quote("q1", qwoty.StatusDraft, changed, l2))); r.Outcomes[0].Err == nil {
		t.Fatal("push whose association failed succeeded")
	}
	unfiled := 0
	for _, li := range e.hs.LiveLineItems(hstest.DefaultPortalID) {
		if li.Properties[hubspot.RefProperty] == l1.Ref && li.DealID == "" {
			unfiled++
		}
	}
	if unfiled != 1 {
		t.Fatalf("%d line items of l1 under no deal, want 1 (the upsert's)", unfiled)
	}
}

// onlyQuoteLines checks that every live line item carrying a qwoty_ref is
// one of q's lines, once, under the deal (q nil: none is left).
func (e *syncEnv) onlyQuoteLines(dealID string, q *crm.QuoteState) {
	t := e.t
	t.Helper()
	want := map[string]bool{}
	if q != nil {
		for _, l := range q.Lines {
			want[l.Ref] = true
		}
	}
	seen := map[string]int{}
	for _, li := range e.hs.LiveLineItems(hstest.DefaultPortalID) {
		ref := li.Properties[hubspot.RefProperty]
		if ref == "" {
			continue
		}
		seen[ref]++
		switch {
		case !want[ref]:
			t.Errorf("line item %s (%s) is alive under deal %q; its line is not the primary quote's", li.ID, ref, li.DealID)
		case li.DealID != dealID:
			t.Errorf("line item %s (%s) is under deal %q, want %s", li.ID, ref, li.DealID, dealID)
		}
	}
	for ref := range want {
		if seen[ref] != 1 {
			t.Errorf("%d live line items carry %s, want 1", seen[ref], ref)
		}
	}
}

// An upsert made the line item anew (someone deleted Qwoty's in HubSpot)
// and its answer was lost: Qwoty never learnt the new id. The next push
// archives it when its line has left the quote, or files it under the deal
// when the line stays.
func TestSyncLostUpsertAnswerLeavesNoOrphan(t *testing.T) {
	l2 := line("l2", "B", "Beta", "2", "5", "0")
	for name, q := range map[string]*crm.QuoteState{
		"line removed":   quote("q1", qwoty.StatusDraft, l2),
		"primary switch": quote("q2", qwoty.StatusDraft, line("m1", "C", "Gamma", "1", "1", "0")),
		"line kept":      quote("q1", qwoty.StatusDraft, line("l1", "A", "Alpha", "2", "100", "0"), l2),
	} {
		t.Run(name, func(t *testing.T) {
			e := newSyncEnv(t, hstest.Options{})
			id := e.deal(1)
			l1 := line("l1", "A", "Alpha", "1", "100", "0")
			e.pushOK(e.dealOf(id, quote("q1", qwoty.StatusDraft, l1, l2)))
			if err := e.archiveByHand(e.lineItems(id)[l1.Ref].ID); err != nil {
				t.Fatal(err)
			}
			if err := e.hs.Inject(emulator.Fault{Route: "POST /crm/objects/2026-03/line_items/batch/upsert", Times: 1, Drop: true}); err != nil {
				t.Fatal(err)
			}
			changed := line("l1", "A", "Alpha", "2", "100", "0")
			if r := e.push(e.dealOf(id, quote("q1", qwoty.StatusDraft, changed, l2))); r.Outcomes[0].Err == nil {
				t.Fatal("push whose upsert answer was dropped succeeded")
			}
			if n := e.hs.CountLineItems(hstest.DefaultPortalID, hubspot.RefProperty, l1.Ref); n != 1 {
				t.Fatalf("%d live line items of l1, want the upsert's", n)
			}
			e.pushOK(e.dealOf(id, q))
			e.onlyQuoteLines(id, q)
		})
	}
}
