package hubspot_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/qwoty"
)

// actions lists an outcome's writes as "object:action", for messages and
// comparisons.
func actions(o crm.Outcome) []string {
	var out []string
	for _, w := range o.Written {
		out = append(out, w.Object+":"+w.Action)
	}
	slices.Sort(out)
	return out
}

// A first push makes the qwoty_ref property, creates the lines under the
// deal in one call and writes the amount and stage; the same state pushed
// again costs nothing.
func TestSyncCreate(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	id := e.deal(1)
	q := quote("q1", qwoty.StatusSent,
		line("l1", "SKU-1", "Licence\nper seat, yearly", "10", "120", "10"),
		line("l2", "", "Onboarding", "1", "500.50", "0"))
	r := e.pushOK(e.dealOf(id, q))
	if r.Calls != 3 {
		t.Errorf("first push: %d calls, want 3 (property, create with associations, deal update)", r.Calls)
	}
	if got, want := actions(r.Outcomes[0]), []string{"deals:updated", "line_items:created", "line_items:created"}; !slices.Equal(got, want) {
		t.Errorf("written %v, want %v", got, want)
	}
	if def, ok := e.hs.CustomProperty(hstest.DefaultPortalID, "line_items", hubspot.RefProperty); !ok || !def.HasUniqueValue || def.Type != "string" {
		t.Errorf("qwoty_ref property = %+v (%v), want a string with unique values", def, ok)
	}
	items := e.lineItems(id)
	l1, l2 := items[crm.Ref(crm.RefLine, "l1")], items[crm.Ref(crm.RefLine, "l2")]
	if len(items) != 2 || l1.ID == "" || l2.ID == "" {
		t.Fatalf("line items of the deal: %+v, want l1 and l2", items)
	}
	if p := l1.Properties; p["name"] != "Licence" || p["quantity"] != "10" || p["price"] != "120" || p["hs_discount_percentage"] != "10" ||
		p["hs_sku"] != "SKU-1" || p["amount"] != "1080" || p["description"] != "Licence\nper seat, yearly" {
		t.Errorf("l1 = %v", p)
	}
	if p := l2.Properties; p["name"] != "Onboarding" || p["price"] != "500.5" || p["amount"] != "500.5" {
		t.Errorf("l2 = %v", p)
	}
	if d := e.dealProps(id); d["amount"] != "1580.5" || d["dealstage"] != "contractsent" {
		t.Errorf("deal = %v, want amount 1580.5 at contractsent", d)
	}

	before := e.writes()
	r = e.pushOK(e.dealOf(id, q))
	if r.Calls != 0 || len(r.Outcomes[0].Written) != 0 || e.writes() != before {
		t.Errorf("the same state again: %d calls, written %v; want nothing", r.Calls, actions(r.Outcomes[0]))
	}
}

// An edit updates the changed line in place (same line item), creates the
// new one and leaves the unchanged one alone.
func TestSyncEdit(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	id := e.deal(1)
	l1, l2 := line("l1", "A", "Alpha", "1", "100", "0"), line("l2", "B", "Beta", "2", "50", "0")
	e.pushOK(e.dealOf(id, quote("q1", qwoty.StatusDraft, l1, l2)))
	first := e.lineItems(id)

	l2 = line("l2", "B", "Beta", "3", "50", "5")
	l3 := line("l3", "C", "Gamma", "1", "9.99", "0")
	r := e.pushOK(e.dealOf(id, quote("q1", qwoty.StatusDraft, l1, l2, l3)))
	if r.Calls != 3 {
		t.Errorf("edit: %d calls, want 3 (create, upsert, deal update)", r.Calls)
	}
	if got, want := actions(r.Outcomes[0]), []string{"deals:updated", "line_items:created", "line_items:updated"}; !slices.Equal(got, want) {
		t.Errorf("written %v, want %v", got, want)
	}
	items := e.lineItems(id)
	if len(items) != 3 {
		t.Fatalf("%d line items, want 3", len(items))
	}
	if got := items[l2.Ref]; got.ID != first[l2.Ref].ID || got.Properties["quantity"] != "3" || got.Properties["amount"] != "142.5" {
		t.Errorf("l2 after the edit = %s %v, want line item %s with quantity 3 and amount 142.5", got.ID, got.Properties, first[l2.Ref].ID)
	}
	if items[l1.Ref].ID != first[l1.Ref].ID {
		t.Error("the unchanged line item was replaced")
	}
	if d := e.dealProps(id); d["amount"] != "252.49" || d["dealstage"] != "appointmentscheduled" {
		t.Errorf("deal = %v, want amount 252.49 and its stage as it was (a draft sets none)", d)
	}
}

// A status change is one call: the deal's stage.
func TestSyncStatusChange(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	id := e.deal(1)
	lines := []crm.LineState{line("l1", "A", "Alpha", "1", "100", "0")}
	e.pushOK(e.dealOf(id, quote("q1", qwoty.StatusSent, lines...)))
	r := e.pushOK(e.dealOf(id, quote("q1", qwoty.StatusAccepted, lines...)))
	if r.Calls != 1 {
		t.Errorf("status change: %d calls, want 1", r.Calls)
	}
	if got := actions(r.Outcomes[0]); !slices.Equal(got, []string{"deals:updated"}) {
		t.Errorf("written %v, want the deal only", got)
	}
	if d := e.dealProps(id); d["dealstage"] != "closedwon" {
		t.Errorf("stage %q, want closedwon", d["dealstage"])
	}
}

// Switching the primary quote replaces Qwoty's line items and nothing else:
// a line item someone added in HubSpot stays.
func TestSyncPrimarySwitchKeepsHandMadeLines(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	id := e.deal(1)
	hand := e.hs.PutLineItem(hstest.DefaultPortalID, id, map[string]string{"name": "Added by a rep", "quantity": "1", "price": "5"})
	a := quote("qa", qwoty.StatusSent, line("a1", "A", "Alpha", "1", "100", "0"), line("a2", "B", "Beta", "1", "200", "0"))
	e.pushOK(e.dealOf(id, a))
	old := e.lineItems(id)

	b := quote("qb", qwoty.StatusDraft, line("b1", "C", "Gamma", "2", "70", "0"))
	r := e.pushOK(e.dealOf(id, b))
	if got, want := actions(r.Outcomes[0]), []string{"deals:updated", "line_items:created", "line_items:deleted", "line_items:deleted"}; !slices.Equal(got, want) {
		t.Errorf("written %v, want %v", got, want)
	}
	items := e.lineItems(id)
	if len(items) != 2 || items[""].ID != hand || items[crm.Ref(crm.RefLine, "b1")].ID == "" {
		t.Fatalf("line items after the switch: %v, want the hand-made one and b1", items)
	}
	for _, ref := range []string{crm.Ref(crm.RefLine, "a1"), crm.Ref(crm.RefLine, "a2")} {
		if _, archived, _ := e.hs.LineItem(hstest.DefaultPortalID, old[ref].ID); !archived {
			t.Errorf("%s's line item was not archived", ref)
		}
	}
	if d := e.dealProps(id); d["amount"] != "140" {
		t.Errorf("amount %s, want the new primary's 140", d["amount"])
	}
	if got := e.links.All(); len(got) != 3 { // b1, the deal, the property
		t.Errorf("links %v, want b1's, the deal's and the property's", got)
	}
}

// A line removed from the quote is archived in HubSpot; the others are not
// touched.
func TestSyncLineRemoval(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	id := e.deal(1)
	l1, l2 := line("l1", "A", "Alpha", "1", "100", "0"), line("l2", "B", "Beta", "1", "20", "0")
	e.pushOK(e.dealOf(id, quote("q1", qwoty.StatusDraft, l1, l2)))
	r := e.pushOK(e.dealOf(id, quote("q1", qwoty.StatusDraft, l1)))
	if r.Calls != 2 {
		t.Errorf("line removal: %d calls, want 2 (archive, deal amount)", r.Calls)
	}
	items := e.lineItems(id)
	if len(items) != 1 || items[l1.Ref].ID == "" {
		t.Errorf("line items %v, want l1 alone", items)
	}
	if d := e.dealProps(id); d["amount"] != "100" {
		t.Errorf("amount %s, want 100", d["amount"])
	}
}

// A deal whose quotes are gone loses Qwoty's line items; its amount and
// stage, and the hand-made line, stay.
func TestSyncDealWithoutQuotes(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	id := e.deal(1)
	hand := e.hs.PutLineItem(hstest.DefaultPortalID, id, map[string]string{"name": "Hand", "quantity": "1", "price": "5"})
	e.pushOK(e.dealOf(id, quote("q1", qwoty.StatusSent, line("l1", "A", "Alpha", "1", "100", "0"))))
	r := e.pushOK(e.dealOf(id, nil))
	if got := actions(r.Outcomes[0]); !slices.Equal(got, []string{"line_items:deleted"}) || r.Calls != 1 {
		t.Errorf("written %v in %d calls, want the line item archived in 1", got, r.Calls)
	}
	items := e.lineItems(id)
	if len(items) != 1 || items[""].ID != hand {
		t.Errorf("line items %v, want the hand-made one only", items)
	}
	if d := e.dealProps(id); d["amount"] != "100" || d["dealstage"] != "contractsent" {
		t.Errorf("deal %v, want amount and stage as the last push left them", d)
	}
	// A deal that never had a quote costs nothing.
	other := e.deal(2)
	if r := e.pushOK(e.dealOf(other, nil)); r.Calls != 0 {
		t.Errorf("a deal without quotes: %d calls, want 0", r.Calls)
	}
}

// HubSpot refusing one deal's data fails that deal only, with HubSpot's
// own words; the deals around it are written.
func TestSyncValidationErrorFailsThatDealOnly(t *testing.T) {
	// Whether or not HubSpot lists the refused inputs of an update or an
	// upsert one by one (documented for create only), the refusal lands on
	// its own deal; without the list it costs a call per deal of the batch.
	for name, c := range map[string]struct {
		opts  hstest.Options
		calls int
	}{
		// The property, the create, b1's upsert, the deals' update.
		"multi-status everywhere": {hstest.Options{}, 4},
		// And the deals' update again for a and c alone.
		"multi-status on create only": {hstest.Options{MultiStatusCreateOnly: true}, 6},
	} {
		t.Run(name, func(t *testing.T) { validationErrorFailsThatDealOnly(t, c.opts, c.calls) })
	}
}

func validationErrorFailsThatDealOnly(t *testing.T, opts hstest.Options, calls int) {
	e := newSyncEnv(t, opts)
	a, b, c := e.deal(1), e.deal(2), e.deal(3)
	// HubSpot refuses a negative line item price (line items guide).
	badLine := e.dealOf(b, quote("qb", qwoty.StatusSent, line("b1", "B", "Rebate", "1", "-50", "0"), line("b2", "B2", "Ok", "1", "10", "0")))
	// And a stage the deal's pipeline does not have.
	badStage := e.dealOf(c, quote("qc", qwoty.StatusSent, line("c1", "C", "Gamma", "1", "30", "0")))
	badStage.Stage = "negotiation"
	r := e.push(e.dealOf(a, quote("qa", qwoty.StatusSent, line("a1", "A", "Alpha", "1", "10", "0"))), badLine, badStage)

	if r.Outcomes[0].Err != nil {
		t.Errorf("deal a: %v, want it written", r.Outcomes[0].Err)
	}
	if r.Calls != calls {
		t.Errorf("%d calls, want %d", r.Calls, calls)
	}
	for i, want := range []string{"Price cannot be negative: -50", "negotiation was not one of the allowed options"} {
		err := r.Outcomes[i+1].Err
		if !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), want) {
			t.Errorf("deal %s: %v; want it rejected with HubSpot's message %q", r.Outcomes[i+1].RecordID, err, want)
		}
	}
	if d := e.dealProps(a); d["amount"] != "10" || d["dealstage"] != "contractsent" {
		t.Errorf("deal a = %v, want written", d)
	}
	if d := e.dealProps(b); d["amount"] != "10" || d["dealstage"] != "appointmentscheduled" {
		t.Errorf("deal b = %v, want untouched (its lines were refused)", d)
	}
	if d := e.dealProps(c); d["dealstage"] != "appointmentscheduled" {
		t.Errorf("deal c = %v, want its stage untouched", d)
	}
	if n := len(e.lineItems(c)); n != 1 {
		t.Errorf("deal c has %d line items, want its line (written before the stage was refused)", n)
	}
}

// A create HubSpot applied whose answer was lost leaves the push failed
// (retried); pushing again adopts the line items by qwoty_ref: no
// duplicate, every line under its deal.
func TestSyncDropAfterCommitThenRepushMakesNoDuplicate(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	id := e.deal(1)
	q := quote("q1", qwoty.StatusSent, line("l1", "A", "Alpha", "1", "100", "0"), line("l2", "B", "Beta", "2", "5", "0"))
	if err := e.hs.Inject(emulator.Fault{Route: "POST /crm/objects/2026-03/line_items/batch/create", Times: 1, Drop: true}); err != nil {
		t.Fatal(err)
	}
	r := e.push(e.dealOf(id, q))
	err := r.Outcomes[0].Err
	var wait *crm.WaitError
	if err == nil || errors.Is(err, crm.ErrRejected) || errors.As(err, &wait) {
		t.Fatalf("push whose answer was dropped: %v, want a transient error", err)
	}
	if n := len(e.lineItems(id)); n != 2 {
		t.Fatalf("HubSpot holds %d line items after the dropped answer, want the 2 it made", n)
	}

	r = e.pushOK(e.dealOf(id, q))
	if got, want := actions(r.Outcomes[0]), []string{"deals:updated", "line_items:adopted", "line_items:adopted"}; !slices.Equal(got, want) {
		t.Errorf("written %v, want %v", got, want)
	}
	for _, ref := range []string{crm.Ref(crm.RefLine, "l1"), crm.Ref(crm.RefLine, "l2")} {
		if n := e.hs.CountLineItems(hstest.DefaultPortalID, hubspot.RefProperty, ref); n != 1 {
			t.Errorf("%d line items carry %s, want 1", n, ref)
		}
	}
	if n := len(e.lineItems(id)); n != 2 || e.hs.LineItemsCreated(hstest.DefaultPortalID) != 2 {
		t.Errorf("deal has %d line items (%d ever made), want 2", n, e.hs.LineItemsCreated(hstest.DefaultPortalID))
	}
	// And from now on the lines are known: an unchanged push is free.
	if r := e.pushOK(e.dealOf(id, q)); r.Calls != 0 {
		t.Errorf("after adoption: %d calls, want 0", r.Calls)
	}
}

// An upsert that made a line item anew (someone deleted Qwoty's in HubSpot)
// and whose association answer was lost is finished by the next push.
func TestSyncLostAssociationIsRedone(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	id := e.deal(1)
	l1 := line("l1", "A", "Alpha", "1", "100", "0")
	e.pushOK(e.dealOf(id, quote("q1", qwoty.StatusDraft, l1)))
	// Someone deletes Qwoty's line item in HubSpot; then the line changes.
	if err := e.archiveByHand(e.lineItems(id)[l1.Ref].ID); err != nil {
		t.Fatal(err)
	}
	l1 = line("l1", "A", "Alpha", "2", "100", "0")
	if err := e.hs.Inject(emulator.Fault{Route: "POST /crm/associations/2026-03/{from}/{to}/batch/associate/default", Times: 1, Drop: true}); err != nil {
		t.Fatal(err)
	}
	if r := e.push(e.dealOf(id, quote("q1", qwoty.StatusDraft, l1))); r.Outcomes[0].Err == nil {
		t.Fatal("push whose association answer was dropped succeeded")
	}
	e.pushOK(e.dealOf(id, quote("q1", qwoty.StatusDraft, l1)))
	items := e.lineItems(id)
	if len(items) != 1 || items[l1.Ref].Properties["quantity"] != "2" || e.hs.CountLineItems(hstest.DefaultPortalID, hubspot.RefProperty, l1.Ref) != 1 {
		t.Errorf("line items %v, want l1 once, under the deal, with quantity 2", items)
	}
}

// archiveByHand archives a line item through the API, as a person deleting
// it in HubSpot would.
func (e *syncEnv) archiveByHand(id string) error {
	s := hubspotSession(e)
	return s.Call(context.Background(), func(ctx context.Context, tok string) error {
		return crm.Call(ctx, crm.Request{Provider: qwoty.ProviderHubSpot, Method: "POST", Base: e.hs.URL,
			Path: "/crm/v3/objects/line_items/batch/archive", Token: tok, JSON: map[string]any{"inputs": []map[string]string{{"id": id}}}}, nil)
	})
}

// HubSpot's own limit answered 429 (the card spent the window, which the
// budget did not see): the push stops with a wait until its Retry-After,
// the connection is blocked until then, and the next push after it
// converges.
func TestSync429WaitsAndBlocks(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{RateLimit: hstest.RateLimit{Max: 3, Interval: 10 * time.Second}})
	id := e.deal(1)
	for range 3 {
		if _, err := e.a.LookupRecord(context.Background(), hubspotSession(e), crm.Record{Type: "deal", ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	q := quote("q1", qwoty.StatusSent, line("l1", "A", "Alpha", "1", "100", "0"))
	r := e.push(e.dealOf(id, q))
	var wait *crm.WaitError
	if !errors.As(r.Outcomes[0].Err, &wait) {
		t.Fatalf("push past HubSpot's limit: %v, want a *crm.WaitError", r.Outcomes[0].Err)
	}
	if want := e.clk.Now().Add(10 * time.Second); !wait.Until.Equal(want) {
		t.Errorf("wait until %s, want %s (Retry-After)", wait.Until, want)
	}
	if e.hs.RateLimited() != 1 || r.Calls != 1 {
		t.Errorf("%d 429s in %d calls, want 1 in 1", e.hs.RateLimited(), r.Calls)
	}
	if err := e.budget.Take(context.Background(), "burst", 1); !errors.As(err, &wait) {
		t.Errorf("budget after the 429: %v, want the connection blocked", err)
	}
	if obs := e.budget.Observed["burst"]; obs != [2]float64{0, 0} {
		t.Errorf("budget observed %v, want HubSpot's remaining 0 (capacity kept)", obs)
	}

	e.clk.Advance(10 * time.Second)
	e.pushOK(e.dealOf(id, q))
	if d := e.dealProps(id); d["amount"] != "100" || e.hs.RateLimited() != 1 {
		t.Errorf("deal %v after the wait (%d 429s), want written without another 429", d, e.hs.RateLimited())
	}
}

// Every answer's X-HubSpot-RateLimit-Remaining corrects the budget: when
// the card spent most of HubSpot's window, the push waits for the budget
// in place instead of meeting a 429.
func TestSyncBudgetFollowsHubSpotsHeaders(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	id := e.deal(1)
	for range 104 {
		if _, err := e.a.LookupRecord(context.Background(), hubspotSession(e), crm.Record{Type: "deal", ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	start := e.clk.Now()
	r := e.pushOK(e.dealOf(id, quote("q1", qwoty.StatusSent, line("l1", "A", "Alpha", "1", "100", "0"))))
	if r.Calls != 3 || e.hs.RateLimited() != 0 {
		t.Errorf("%d calls, %d 429s; want 3 and none", r.Calls, e.hs.RateLimited())
	}
	// 6 left after the card, 5 of them not sync's: 0, -1 and -2 for sync
	// after its calls, each paid back before the next.
	if obs := e.budget.Observed["burst"]; obs != [2]float64{-2, 0} {
		t.Errorf("budget observed %v, want HubSpot's remaining less the 5 sync leaves (-2)", obs)
	}
	if waited := e.clk.Now().Sub(start); waited < 250*time.Millisecond {
		t.Errorf("the push waited %v, want the time the bucket takes to pay back what the card spent", waited)
	}
}

// A backlog pushed flat out at HubSpot's real limit never meets a 429 and
// runs at about 100 calls per 10 s, 91% of HubSpot's bound (each push
// taking 20 ms more on the test's clock).
func TestSyncBacklogAtHubSpotsLimit(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	var deals []crm.Deal
	for i := range 100 {
		deals = append(deals, e.dealOf(e.deal(i), quote("q"+strconv.Itoa(i), qwoty.StatusSent, line("l"+strconv.Itoa(i), "A", "Alpha", "1", "10", "0"))))
	}
	e.pushOK(deals...)
	start, calls := e.clk.Now(), 0
	for i := range 300 {
		for j := range deals {
			deals[j].Stage = []string{"contractsent", "decisionmakerboughtin"}[i%2]
		}
		r := e.push(deals...)
		calls += r.Calls
		for _, o := range r.Outcomes {
			var wait *crm.WaitError
			switch {
			case errors.As(o.Err, &wait):
				e.clk.Advance(max(wait.Until.Sub(e.clk.Now()), 0)) // the engine's snooze
			case o.Err != nil:
				t.Fatalf("push %d: %v", i, o.Err)
			}
		}
		e.clk.Advance(20 * time.Millisecond)
	}
	elapsed := e.clk.Now().Sub(start)
	rate := float64(calls) / elapsed.Seconds() * 10
	if e.hs.RateLimited() != 0 || rate < 99 || rate > 106 {
		t.Errorf("%d calls in %v (%.1f per 10 s), %d 429s; want about 100 per 10 s and no 429", calls, elapsed, rate, e.hs.RateLimited())
	}
}

// The budget's own refusal stops the push before any call.
func TestSyncSpentBudgetMakesNoCall(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	id := e.deal(1)
	if err := e.budget.Block(context.Background(), e.clk.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	r := e.push(e.dealOf(id, quote("q1", qwoty.StatusSent, line("l1", "A", "Alpha", "1", "100", "0"))))
	var wait *crm.WaitError
	if !errors.As(r.Outcomes[0].Err, &wait) || r.Calls != 0 || e.writes() != 0 {
		t.Errorf("push on a blocked connection: %v after %d calls, want a wait and no call", r.Outcomes[0].Err, r.Calls)
	}
}

// A scope HubSpot did not grant (a connection made by an older version of
// the app) is a 403: the push fails as forbidden, for good, not as
// rejected data; Ready names the scope.
func TestSyncMissingScopeIsForbidden(t *testing.T) {
	scopes := slices.DeleteFunc(slices.Clone(hubspot.DefaultScopes), func(s string) bool { return s == "crm.objects.line_items.write" })
	e := newSyncEnv(t, hstest.Options{App: hstest.App{ClientID: hstest.DefaultClientID, ClientSecret: hstest.DefaultClientSecret,
		RequiredScopes: scopes}}, scopes...)
	id := e.deal(1)
	r := e.push(e.dealOf(id, quote("q1", qwoty.StatusSent, line("l1", "A", "Alpha", "1", "100", "0"))))
	err := r.Outcomes[0].Err
	if !errors.Is(err, crm.ErrForbidden) || !errors.Is(err, hubspot.ErrMissingScopes) || errors.Is(err, crm.ErrRejected) {
		t.Errorf("push without the line items scope: %v, want crm.ErrForbidden", err)
	}
	if err := e.sy.Ready(e.conn); qwoty.ErrorCode(err) != qwoty.CodeSyncReconnect || !strings.Contains(err.Error(), "crm.objects.line_items.write") {
		t.Errorf("Ready: %v, want sync_reconnect naming the missing scope", err)
	}
}

// Ready passes a connection made with the app's scopes (Exchange keeps
// what HubSpot granted) and asks one made before sync to reconnect.
func TestSyncReady(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	if want := slices.Concat(hubspot.DefaultScopes, hubspot.OptionalScopes); !slices.Equal(e.conn.Scopes, want) {
		t.Fatalf("connection scopes %v, want what HubSpot granted: %v", e.conn.Scopes, want)
	}
	if err := e.sy.Ready(e.conn); err != nil {
		t.Errorf("Ready of a new connection: %v", err)
	}
	old := *e.conn
	old.Scopes = nil
	err := e.sy.Ready(&old)
	if qwoty.ErrorCode(err) != qwoty.CodeSyncReconnect || qwoty.AsError(err).Hint == "" {
		t.Errorf("Ready of a connection made before sync: %v, want sync_reconnect with its hint", err)
	}
	old.Scopes = []string{"crm.objects.deals.read", "crm.objects.companies.read", "oauth"}
	if qwoty.ErrorCode(e.sy.Ready(&old)) != qwoty.CodeSyncReconnect {
		t.Error("Ready passed a connection with the card's read scopes only")
	}
}

// 100 deals of 5 lines go in 7 calls the first time (the property, 5
// creates of 100 line items with their associations, 1 deal update), and a
// status change of one of them afterwards in 1.
func TestSync100DealsOf5Lines(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	var deals []crm.Deal
	for i := range 100 {
		id := e.deal(i)
		var lines []crm.LineState
		for j := range 5 {
			n := string(rune('a'+j)) + id
			lines = append(lines, line(n, "SKU-"+n, "Line "+n, "2", "10", "0"))
		}
		deals = append(deals, e.dealOf(id, quote("q"+id, qwoty.StatusSent, lines...)))
	}
	r := e.pushOK(deals...)
	if r.Calls > 8 || r.Calls != 7 {
		t.Errorf("100 deals × 5 lines: %d calls, want 7 (at most 8)", r.Calls)
	}
	if w := e.writes(); w != r.Calls {
		t.Errorf("the emulator's ledger holds %d writes, the report %d calls", w, r.Calls)
	}
	if obs := e.budget.Observed["burst"]; obs != [2]float64{103 - 5, 0} {
		t.Errorf("budget observed %v, want HubSpot's remaining less the 5 sync leaves (98)", obs)
	}
	for _, d := range deals {
		if n := len(e.lineItems(d.RecordID)); n != 5 {
			t.Fatalf("deal %s has %d line items, want 5", d.RecordID, n)
		}
		if p := e.dealProps(d.RecordID); p["amount"] != "100" {
			t.Fatalf("deal %s amount %s, want 100", d.RecordID, p["amount"])
		}
	}
	deals[42].Primary.Status, deals[42].Stage = qwoty.StatusAccepted, "closedwon"
	if r := e.pushOK(deals...); r.Calls != 1 {
		t.Errorf("one status change among 100 deals: %d calls, want 1", r.Calls)
	}
	if p := e.dealProps(deals[42].RecordID); p["dealstage"] != "closedwon" {
		t.Errorf("stage %s, want closedwon", p["dealstage"])
	}
}

// A server error is transient (retried by the engine) and the next push
// converges; a grant HubSpot no longer honours stops the push with the
// session's refresh_rejected after the one call that met the dead token.
func TestSyncServerErrorAndDeadGrant(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	a, b := e.deal(1), e.deal(2)
	deals := []crm.Deal{
		e.dealOf(a, quote("qa", qwoty.StatusSent, line("a1", "A", "Alpha", "1", "10", "0"))),
		e.dealOf(b, quote("qb", qwoty.StatusSent, line("b1", "B", "Beta", "1", "20", "0"))),
	}
	if err := e.hs.Inject(emulator.Fault{Route: "POST /crm/objects/2026-03/deals/batch/update", Times: 1, Status: 503}); err != nil {
		t.Fatal(err)
	}
	r := e.push(deals...)
	for _, o := range r.Outcomes {
		var wait *crm.WaitError
		if o.Err == nil || errors.Is(o.Err, crm.ErrRejected) || errors.Is(o.Err, crm.ErrForbidden) || errors.As(o.Err, &wait) {
			t.Errorf("deal %s under a 503: %v, want a transient error", o.RecordID, o.Err)
		}
	}
	r = e.pushOK(deals...)
	if r.Calls != 1 {
		t.Errorf("after the 503: %d calls, want the deals' update alone", r.Calls)
	}

	e.hs.Uninstall(hstest.DefaultPortalID)
	e.hs.ExpireAccessTokens()
	deals[0].Primary.Status, deals[0].Stage = qwoty.StatusAccepted, "closedwon"
	deals[1].Primary.Lines[0] = line("b1", "B", "Beta", "2", "20", "0")
	r = e.push(deals...)
	for _, o := range r.Outcomes {
		if qwoty.ErrorCode(o.Err) != qwoty.CodeRefreshRejected {
			t.Errorf("deal %s after the uninstall: %v, want refresh_rejected", o.RecordID, o.Err)
		}
	}
	if r.Calls != 1 || e.hs.TokenCalls("refresh_token") != 1 {
		t.Errorf("%d calls, %d refreshes; want one of each (the 401, the refused refresh), then nothing", r.Calls, e.hs.TokenCalls("refresh_token"))
	}
}
