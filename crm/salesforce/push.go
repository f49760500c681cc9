package salesforce

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// A push: the org's facts (cached), one read of the deals' records, then
// all-or-none writes, isolating a deal the org refuses so that the others
// are written.

// The objects and fields sync writes; the package's fields carry its
// namespace.
const (
	objOpportunity = "Opportunity"
	objLine        = "OpportunityLineItem"
	objQuote       = "Quote"
	objQuoteLine   = "QuoteLineItem"
	objProduct     = "Product2"
	objEntry       = "PricebookEntry"
	refField       = "Qwoty__Ref__c"
	deletedField   = "Qwoty__Deleted__c"
)

// push is one Push call's work.
type push struct {
	s      *syncer
	sess   crm.Session
	budget crm.Budget
	links  crm.Links
	conn   *qwoty.Connection
	limits limits

	deals []crm.Deal
	ids   []string // each deal's opportunity id, 18 characters
	out   []crm.Outcome
	done  []bool
	calls int

	facts facts
	// knownProducts are the products the links know (ref → id), before
	// the read adds those it found.
	knownProducts map[string]string
	state         *state
	cat           *catalog
	ctxs          []*dealCtx
	// linkMap is what the links hold of the deals' records, by object
	// and ref.
	linkMap map[string]map[string]crm.RefLink
}

func newPush(s *syncer, sess crm.Session, b crm.Budget, links crm.Links, deals []crm.Deal) *push {
	conn := sess.Connection()
	p := &push{s: s, sess: sess, budget: b, links: links, conn: conn, limits: connLimits(conn.ID), deals: deals,
		ids: make([]string, len(deals)), out: make([]crm.Outcome, len(deals)), done: make([]bool, len(deals)),
		ctxs: make([]*dealCtx, len(deals))}
	for i, d := range deals {
		p.out[i].RecordID = d.RecordID
	}
	return p
}

func (p *push) report() crm.Report { return crm.Report{Outcomes: p.out, Calls: p.calls} }

// finish sets a deal's outcome once.
func (p *push) finish(i int, err error) {
	if !p.done[i] {
		p.out[i].Err = err
		p.done[i] = true
	}
}

// failRest fails every deal not finished yet.
func (p *push) failRest(err error) {
	for i := range p.deals {
		p.finish(i, err)
	}
}

func (p *push) run(ctx context.Context) {
	var todo []int
	for i, d := range p.deals {
		id, err := NormalizeID(d.RecordID)
		if err != nil || !strings.HasPrefix(id, "006") {
			p.finish(i, crm.Rejected(fmt.Errorf("%q is not the id of a Salesforce opportunity", d.RecordID)))
			continue
		}
		p.ids[i] = id
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return
	}
	if err := p.loadFacts(ctx); err != nil {
		p.failRest(p.callError(ctx, err))
		return
	}
	if err := p.read(ctx, todo); err != nil {
		p.failRest(p.callError(ctx, err))
		return
	}
	var ready []int
	for _, i := range todo {
		dc, err := p.prepare(i)
		if err != nil {
			p.finish(i, err)
			continue
		}
		p.ctxs[i] = dc
		ready = append(ready, i)
	}
	ready = p.prepareFields(ctx, ready)
	if err := p.loadCatalog(ctx, ready); err != nil {
		for _, i := range ready {
			p.finish(i, p.callError(ctx, err))
		}
		return
	}
	p.write(ctx, ready)
}

// upgradeHint is what to do when the org lacks a field of the package's or
// hides it from the connected user.
const upgradeHint = "the org's Qwoty package has no field sync writes (Qwoty__Ref__c, Qwoty__Deleted__c), or the user who connected " +
	"Qwoty cannot edit it: upgrade the Qwoty package in Salesforce (Setup → Installed Packages, or the install link in Qwoty's " +
	"Integrations page) and give that user the Qwoty Admin permission set, then retry"

// missingField says whether an error of Salesforce's is about a package
// field it does not know or will not let the user write.
func missingField(code, message string) bool {
	switch code {
	case "INVALID_FIELD", "NOT_FOUND", "INVALID_FIELD_FOR_INSERT_UPDATE", "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY":
		return strings.Contains(message, "Qwoty__")
	}
	return false
}

// callError classifies the failure of a whole call: a field of the
// package missing is permanent; Quotes turned off since the facts were
// cached makes them be read again.
func (p *push) callError(ctx context.Context, err error) error {
	var apiErr *crm.APIError
	if !errors.As(err, &apiErr) {
		return err
	}
	switch {
	case missingField(apiErr.Code, apiErr.Message):
		return crm.Rejected(fmt.Errorf("%s (Salesforce: %s: %s)", upgradeHint, apiErr.Code, apiErr.Message))
	case apiErr.Code == "INVALID_TYPE" && strings.Contains(apiErr.Message, objQuote):
		p.forgetFacts(ctx)
		return fmt.Errorf("%w (Quotes seem to be turned off in the org: sync looks again on the next try)", err)
	}
	return err
}

// opp is an opportunity as the read found it.
type opp struct {
	id, pricebook, currency, stage string
	amount                         decimal.Decimal
	hasLines                       bool
}

// record is a line or a quote Qwoty wrote (or a line someone added by
// hand, ref ""), as the read found it.
type record struct {
	id, parent, entry, ref, pricebook string
	deleted                           bool
}

// state is what the read found of a push's opportunities.
type state struct {
	opps       map[string]*opp
	lines      map[string][]record // opportunity id → its products
	quotes     map[string]record   // ref → quote
	quoteLines map[string][]record // quote id → its lines Qwoty wrote
}

// read queries the deals' opportunities, their products, and (with
// Quotes) their quotes and quote lines Qwoty wrote, with the price book
// entries of products Qwoty has not seen yet: one Composite request of up
// to 5 queries, counted as one call.
func (p *push) read(ctx context.Context, todo []int) error {
	oppIDs := make([]string, 0, len(todo))
	seen := map[string]bool{}
	for _, i := range todo {
		if !seen[p.ids[i]] {
			seen[p.ids[i]] = true
			oppIDs = append(oppIDs, p.ids[i])
		}
	}
	in := soqlList(oppIDs)
	oppFields := "Id, Name, StageName, Pricebook2Id, Amount, HasOpportunityLineItem"
	if p.facts.multi {
		oppFields += ", CurrencyIsoCode"
	}
	queries := []namedQuery{
		{"opps", "SELECT " + oppFields + " FROM Opportunity WHERE Id IN " + in},
		{"lines", "SELECT Id, OpportunityId, PricebookEntryId, " + refField + " FROM OpportunityLineItem WHERE OpportunityId IN " + in},
	}
	if p.facts.quotes {
		queries = append(queries,
			namedQuery{"quotes", "SELECT Id, OpportunityId, Pricebook2Id, " + refField + ", " + deletedField +
				" FROM Quote WHERE OpportunityId IN " + in + " AND " + refField + " != null"},
			namedQuery{"qlines", "SELECT Id, QuoteId, PricebookEntryId, " + refField +
				" FROM QuoteLineItem WHERE Quote.OpportunityId IN " + in + " AND " + refField + " != null"})
	}
	entryQueries, err := p.unknownProductQueries(ctx, todo)
	if err != nil {
		return err
	}
	queries = append(queries, entryQueries...)
	results, err := p.queries(ctx, queries)
	if err != nil {
		return err
	}
	st := &state{opps: map[string]*opp{}, lines: map[string][]record{}, quotes: map[string]record{}, quoteLines: map[string][]record{}}
	for _, r := range results["opps"] {
		o := &opp{id: r.str("Id"), pricebook: r.str("Pricebook2Id"), currency: r.str("CurrencyIsoCode"), stage: r.str("StageName"),
			amount: r.dec("Amount"), hasLines: r.boolean("HasOpportunityLineItem")}
		st.opps[o.id] = o
	}
	for _, r := range results["lines"] {
		st.lines[r.str("OpportunityId")] = append(st.lines[r.str("OpportunityId")],
			record{id: r.str("Id"), parent: r.str("OpportunityId"), entry: r.str("PricebookEntryId"), ref: r.str(refField)})
	}
	for _, r := range results["quotes"] {
		st.quotes[r.str(refField)] = record{id: r.str("Id"), parent: r.str("OpportunityId"), pricebook: r.str("Pricebook2Id"),
			ref: r.str(refField), deleted: r.boolean(deletedField)}
	}
	for _, r := range results["qlines"] {
		st.quoteLines[r.str("QuoteId")] = append(st.quoteLines[r.str("QuoteId")],
			record{id: r.str("Id"), parent: r.str("QuoteId"), entry: r.str("PricebookEntryId"), ref: r.str(refField)})
	}
	p.state = st
	p.cat = &catalog{std: p.facts.std, products: p.knownProducts, entries: map[entryKey]entry{}}
	for name, rows := range results {
		if strings.HasPrefix(name, "entries") {
			p.cat.addEntries(rows, p.facts)
		}
	}
	return nil
}

// namedQuery is a query and the referenceId its answer comes back under.
type namedQuery struct{ name, soql string }

// queries runs queries in Composite requests of up to 5 (usually one) and
// returns each one's rows, every page read.
func (p *push) queries(ctx context.Context, qs []namedQuery) (map[string][]row, error) {
	out := map[string][]row{}
	for start := 0; start < len(qs); start += 5 {
		batch := qs[start:min(start+5, len(qs))]
		subs := make([]subrequest, len(batch))
		for i, q := range batch {
			subs[i] = subrequest{Method: "GET", URL: queryURL(q.soql), ReferenceID: q.name}
		}
		res, err := p.composite(ctx, false, subs)
		if err != nil {
			return nil, err
		}
		for _, q := range batch {
			rows, err := p.rows(ctx, res[q.name])
			if err != nil {
				return nil, err
			}
			out[q.name] = rows
		}
	}
	return out, nil
}
