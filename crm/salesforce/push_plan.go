package salesforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// A plan is one all-or-none Composite request for a group of deals: its
// records in sObject Collections of up to 200, in an order where each write
// finds what it needs written before it (products, then entries, then the
// lines that use them), and what each record is, so that the answer can be
// read back into outcomes and links, or a failure into the deal it is of.

// item is one record of a plan.
type item struct {
	// deals are the deals the record is written for (a product or an entry
	// may serve several).
	deals  []int
	object string
	ref    string
	// id is the record's id when it is known before the write (an update,
	// a delete).
	id string
	// parent is the opportunity id of a product or a quote, the quote's
	// ref for a quote line.
	parent string
	hash   string
	// action is the Written action; "" for an upsert, whose answer says
	// created or updated.
	action string
	// key is the entry an entry record makes or activates.
	key entryKey
	// cachedEntry: the line uses an entry id the links remembered.
	cachedEntry bool
	// create: the upsert makes a record the read did not find, with the
	// fields only a create sets (its parent, its entry).
	create bool
}

// group is one kind of write: its records, or the ids it deletes.
type group struct {
	records []any
	ids     []string
	items   []*item
}

// groupSpec is a kind of write, in the order the plan sends them.
type groupSpec struct{ name, method, url string }

var groupOrder = []groupSpec{
	{"prod", http.MethodPatch, dataPath + "/composite/sobjects/" + objProduct + "/" + refField},
	{"std", http.MethodPost, dataPath + "/composite/sobjects"},
	{"cus", http.MethodPost, dataPath + "/composite/sobjects"},
	{"on", http.MethodPatch, dataPath + "/composite/sobjects"},
	{"odel", http.MethodDelete, dataPath + "/composite/sobjects"},
	{"qdel", http.MethodDelete, dataPath + "/composite/sobjects"},
	{"opp", http.MethodPatch, dataPath + "/composite/sobjects"},
	{"oli", http.MethodPatch, dataPath + "/composite/sobjects/" + objLine + "/" + refField},
	{"quote", http.MethodPatch, dataPath + "/composite/sobjects/" + objQuote + "/" + refField},
	{"qli", http.MethodPatch, dataPath + "/composite/sobjects/" + objQuoteLine + "/" + refField},
}

// The Composite request's limits.
const (
	maxCollection  = 200
	maxSubrequests = 25
)

// errTooLarge: the deals' writes do not fit one Composite request.
var errTooLarge = errors.New("the writes do not fit one Composite request")

type plan struct {
	deals  []int
	groups map[string]*group
	// products and entries made by this plan, as references to their
	// results, and their items.
	products  map[string]string
	entries   map[entryKey]string
	shared    map[string]*item // "prod:<ref>", "entry:<key>"
	activated map[entryKey]bool
	// back are the opportunities whose Amount is read back after the
	// writes, in the same transaction.
	back []string
	// linksOnly are links saved without a write (a stage Qwoty's side
	// changed to what Salesforce already has).
	linksOnly []crm.RefLink
}

func newPlan(deals []int) *plan {
	pl := &plan{deals: deals, groups: map[string]*group{}, products: map[string]string{}, entries: map[entryKey]string{},
		shared: map[string]*item{}, activated: map[entryKey]bool{}}
	for _, g := range groupOrder {
		pl.groups[g.name] = &group{}
	}
	return pl
}

// add adds a record to a group and returns the reference to its id in the
// Composite answer.
func (pl *plan) add(name string, object string, rec map[string]any, it *item) string {
	g := pl.groups[name]
	rec["attributes"] = map[string]string{"type": object}
	n := len(g.records)
	g.records = append(g.records, rec)
	g.items = append(g.items, it)
	return fmt.Sprintf("@{%s%d[%d].id}", name, n/maxCollection, n%maxCollection)
}

func (pl *plan) del(name string, it *item) {
	g := pl.groups[name]
	g.ids = append(g.ids, it.id)
	g.items = append(g.items, it)
}

// writes says whether the plan writes anything.
func (pl *plan) writes() bool {
	for _, g := range pl.groups {
		if len(g.items) > 0 {
			return true
		}
	}
	return false
}

// chunk is one subrequest's part of a group.
type chunk struct {
	spec  groupSpec
	ref   string
	start int
	items []*item
}

func (pl *plan) chunks() []chunk {
	var out []chunk
	for _, spec := range groupOrder {
		g := pl.groups[spec.name]
		for start := 0; start < len(g.items); start += maxCollection {
			end := min(start+maxCollection, len(g.items))
			out = append(out, chunk{spec: spec, ref: fmt.Sprintf("%s%d", spec.name, start/maxCollection), start: start, items: g.items[start:end]})
		}
	}
	return out
}

// subrequests is the Composite request's body.
func (pl *plan) subrequests() ([]subrequest, error) {
	var subs []subrequest
	for _, c := range pl.chunks() {
		g, end := pl.groups[c.spec.name], c.start+len(c.items)
		sr := subrequest{Method: c.spec.method, URL: c.spec.url, ReferenceID: c.ref}
		if c.spec.method == http.MethodDelete {
			sr.URL += "?allOrNone=true&ids=" + strings.Join(g.ids[c.start:end], ",")
		} else {
			sr.Body = map[string]any{"allOrNone": true, "records": g.records[c.start:end]}
		}
		subs = append(subs, sr)
	}
	if len(pl.back) > 0 {
		subs = append(subs, subrequest{Method: http.MethodGet, ReferenceID: "back",
			URL: queryURL("SELECT Id, Amount FROM Opportunity WHERE Id IN " + soqlList(pl.back))})
	}
	if len(subs) > maxSubrequests {
		return nil, errTooLarge
	}
	return subs, nil
}

// number is a decimal as a JSON number, rounded to scale places: Salesforce
// keeps currency fields to 2 (18,2) and rounds a longer value itself,
// which would make Qwoty's and Salesforce's figures differ silently.
func number(d decimal.Decimal, scale int32) json.Number { return json.Number(d.Round(scale).String()) }

// lineFields are what an opportunity product or a quote line is written
// with, beyond its parent and entry.
func lineFields(l crm.LineState) map[string]any {
	return map[string]any{
		refField:      l.Ref,
		"Quantity":    number(l.Quantity, 2),
		"UnitPrice":   number(l.UnitPrice, 2),
		"Discount":    number(l.DiscountPercent, 2),
		"Description": truncate(l.Description, 255),
	}
}

func lineHash(key entryKey, l crm.LineState) string {
	return hashOf(key.ref(), l.Quantity.Round(2).String(), l.UnitPrice.Round(2).String(), l.DiscountPercent.Round(2).String(),
		truncate(l.Description, 255))
}

// product returns the id of a product, or the reference to the upsert
// that makes it.
func (pl *plan) product(p *push, ref string, l crm.LineState, deal int) string {
	if id := p.cat.products[ref]; id != "" {
		return id
	}
	if r, ok := pl.products[ref]; ok {
		pl.share("prod:"+ref, deal)
		return r
	}
	name := l.SKU
	if name == "" {
		name = "Qwoty line"
	}
	it := &item{deals: []int{deal}, object: objProduct, ref: ref}
	pl.shared["prod:"+ref] = it
	pl.products[ref] = pl.add("prod", objProduct, map[string]any{refField: ref, "Name": truncate(name, 255),
		"ProductCode": truncate(l.SKU, 255), "IsActive": true}, it)
	return pl.products[ref]
}

// share counts a deal among the users of a shared record.
func (pl *plan) share(key string, deal int) {
	it := pl.shared[key]
	if !slices.Contains(it.deals, deal) {
		it.deals = append(it.deals, deal)
	}
}

// entry returns the id of the entry a line uses, or the reference to the
// write that makes it, and whether the id came from the links. A missing
// entry of a custom price book is made after the standard one.
func (pl *plan) entry(p *push, key entryKey, l crm.LineState, deal int) (string, bool) {
	if e, ok := p.cat.entries[key]; ok {
		if !e.active && !pl.activated[key] {
			// Qwoty's product's entry, deactivated in Salesforce: a line
			// needs an active one.
			pl.activated[key] = true
			pl.add("on", objEntry, map[string]any{"id": e.id, "IsActive": true},
				&item{deals: []int{deal}, object: objEntry, id: e.id, key: key, action: crm.ActionUpdated})
		}
		return e.id, e.cached
	}
	if _, ok := pl.entries[key]; !ok {
		prod := pl.product(p, key.product, l, deal)
		std := entryKey{p.cat.std, key.currency, key.product}
		if _, ok := p.cat.entries[std]; !ok && key != std {
			pl.makeEntry(p, "std", std, prod, l, deal)
		}
		name := "cus"
		if key == std {
			name = "std"
		}
		pl.makeEntry(p, name, key, prod, l, deal)
	}
	pl.share("entry:"+key.ref(), deal)
	return pl.entries[key], false
}

func (pl *plan) makeEntry(p *push, group string, key entryKey, product string, l crm.LineState, deal int) {
	if _, ok := pl.entries[key]; ok {
		pl.share("entry:"+key.ref(), deal)
		return
	}
	rec := map[string]any{"Pricebook2Id": key.pricebook, "Product2Id": product, "UnitPrice": number(l.UnitPrice, 2), "IsActive": true}
	if p.facts.multi {
		rec["CurrencyIsoCode"] = key.currency
	}
	it := &item{deals: []int{deal}, object: objEntry, ref: key.product, key: key, action: crm.ActionCreated}
	pl.shared["entry:"+key.ref()] = it
	pl.entries[key] = pl.add(group, objEntry, rec, it)
}

// plan builds the writes of a group of deals.
func (p *push) plan(deals []int) (*plan, error) {
	pl := newPlan(deals)
	for _, i := range deals {
		p.planLines(pl, i)
		p.planOpportunity(pl, i)
		p.planQuotes(pl, i)
		if p.ctxs[i].primary != nil {
			pl.back = append(pl.back, p.ids[i])
		}
	}
	if _, err := pl.subrequests(); err != nil {
		return nil, err
	}
	return pl, nil
}

// planLines writes the primary quote's lines as the opportunity's products
// and deletes the products Qwoty wrote that are no longer among them (a
// line removed, another quote made primary). Products people added are
// left alone.
func (p *push) planLines(pl *plan, i int) {
	dc, oppID := p.ctxs[i], p.ids[i]
	ours := map[string]record{}
	for _, r := range p.state.lines[oppID] {
		if owned(r.ref) {
			ours[r.ref] = r
		}
	}
	want := map[string]bool{}
	if dc.primary != nil {
		for _, l := range dc.primary.Lines {
			want[l.Ref] = true
			key := entryKey{dc.pricebook, dc.currency, lineProduct(l)}
			entryID, cached := pl.entry(p, key, l, i)
			p.planLine(pl, i, "odel", "oli", objLine, oppID, ours, key, entryID, cached, l, func(rec map[string]any) {
				rec["OpportunityId"] = oppID
			})
		}
	}
	for _, ref := range slices.Sorted(maps.Keys(ours)) {
		if !want[ref] {
			pl.del("odel", &item{deals: []int{i}, object: objLine, ref: ref, id: ours[ref].id, action: crm.ActionDeleted})
		}
	}
}

// planLine writes one line (an opportunity product or a quote line)
// unless Salesforce holds it as it was last written. A line whose product
// changed is deleted and made again: its entry is fixed once it is saved.
func (p *push) planLine(pl *plan, i int, delGroup, group, object, parent string, existing map[string]record, key entryKey, entryID string,
	cached bool, l crm.LineState, parentField func(map[string]any)) {
	ex, exists := existing[l.Ref]
	h := lineHash(key, l)
	link, linked := p.link(object, l.Ref)
	if exists && ex.entry == entryID && linked && link.Hash == h {
		return
	}
	it := &item{deals: []int{i}, object: object, ref: l.Ref, parent: parent, hash: h, cachedEntry: cached}
	if exists && ex.entry != entryID {
		pl.del(delGroup, &item{deals: []int{i}, object: object, ref: l.Ref, id: ex.id, action: crm.ActionDeleted})
		exists = false
	}
	rec := lineFields(l)
	if !exists {
		// The parent and the entry are set when the line is made, never
		// after.
		parentField(rec)
		rec["PricebookEntryId"] = entryID
		it.create = true
	} else if !linked {
		it.action = crm.ActionAdopted
	}
	pl.add(group, object, rec, it)
}

// planOpportunity writes the stage, and the Amount while the opportunity
// has no products (with products Salesforce computes it and ignores a
// write). A value Qwoty wrote before is not written again, so that a
// change made in Salesforce stays until Qwoty's side changes.
func (p *push) planOpportunity(pl *plan, i int) {
	dc, d, oppID := p.ctxs[i], p.deals[i], p.ids[i]
	var amount string
	var total decimal.Decimal
	writable := dc.primary != nil && len(dc.primary.Lines) == 0 && dc.handMade == 0
	if writable {
		total = dc.primary.Figures(qwoty.SalesforceScale).Total
		amount = total.String()
	}
	h := hashOf(append([]string{d.Stage, amount}, fieldsHash(d)...)...)
	link, _ := p.link(objOpportunity, oppID)
	fields := map[string]any{}
	if link.Hash != h {
		// The mapped fields, with the deal's update (push_fields.go).
		maps.Copy(fields, dc.fields)
		if d.Stage != "" && d.Stage != dc.opp.stage {
			fields["StageName"] = d.Stage
		}
		if writable && (!dc.opp.amount.Equal(total) || dc.opp.hasLines) {
			fields["Amount"] = json.Number(total.String())
		}
	}
	if dc.setCurrency {
		fields["CurrencyIsoCode"] = dc.currency
	}
	if dc.setPricebook {
		fields["Pricebook2Id"] = dc.pricebook
	}
	if len(fields) == 0 {
		if link.Hash != h {
			pl.linksOnly = append(pl.linksOnly, crm.RefLink{Object: objOpportunity, Ref: oppID, CRMID: oppID, Hash: h})
		}
		return
	}
	fields["id"] = oppID
	pl.add("opp", objOpportunity, fields, &item{deals: []int{i}, object: objOpportunity, ref: oppID, id: oppID, hash: h, action: crm.ActionUpdated})
}

// planQuotes mirrors the deal's quotes as Salesforce quotes with their
// lines; a quote deleted in Qwoty is marked Qwoty__Deleted__c, never
// deleted, and its mirror keeps the quote's last lines (an edit pushed
// together with the deletion included). A quote deleted before it was ever
// mirrored gets no mirror.
func (p *push) planQuotes(pl *plan, i int) {
	dc, oppID := p.ctxs[i], p.ids[i]
	for _, q := range dc.quotes {
		ex, exists := p.state.quotes[q.Ref]
		link, linked := p.link(objQuote, q.Ref)
		if q.Deleted {
			if !exists {
				continue
			}
			if h := hashOf("deleted"); !ex.deleted || !linked || link.Hash != h {
				action := crm.ActionMarked
				if ex.deleted {
					action = crm.ActionUpdated
				}
				pl.add("quote", objQuote, map[string]any{refField: q.Ref, deletedField: true},
					&item{deals: []int{i}, object: objQuote, ref: q.Ref, parent: oppID, hash: h, action: action})
			}
		} else {
			p.planQuote(pl, i, q, ex, exists, link, linked)
		}
		if p.writesLines(dc, q) {
			p.planQuoteLines(pl, i, q, ex, exists)
		}
	}
}

// planQuote writes a live quote's mirror unless Salesforce holds it as it
// was last written.
func (p *push) planQuote(pl *plan, i int, q *crm.QuoteState, ex record, exists bool, link crm.RefLink, linked bool) {
	oppID := p.ids[i]
	pb := p.quotePricebook(p.ctxs[i], q)
	tax := q.Figures(qwoty.SalesforceScale).Tax
	h := hashOf(quoteName(q), quoteStatuses[q.Status], tax.String(), pb)
	if exists && !ex.deleted && linked && link.Hash == h {
		return
	}
	rec := map[string]any{refField: q.Ref, "Name": quoteName(q), "Status": quoteStatuses[q.Status],
		"Tax": json.Number(tax.String()), deletedField: false}
	it := &item{deals: []int{i}, object: objQuote, ref: q.Ref, parent: oppID, hash: h}
	switch {
	case !exists:
		rec["OpportunityId"], rec["Pricebook2Id"] = oppID, pb
		it.create = true
	case ex.pricebook == "":
		rec["Pricebook2Id"] = pb
	}
	if exists && !linked {
		it.action = crm.ActionAdopted
	}
	pl.add("quote", objQuote, rec, it)
}

// planQuoteLines makes a mirror's lines its quote's: each line written
// unless Salesforce holds it as it was last written, and every line of
// Qwoty's that Salesforce holds on the mirror and the quote no longer has
// deleted (found by the read, not the links: a write whose answer was lost
// left lines the links do not know).
func (p *push) planQuoteLines(pl *plan, i int, q *crm.QuoteState, ex record, exists bool) {
	dc := p.ctxs[i]
	pb := p.quotePricebook(dc, q)
	lines := map[string]record{}
	if exists {
		for _, r := range p.state.quoteLines[ex.id] {
			lines[r.ref] = r
		}
	}
	want := map[string]bool{}
	for _, l := range q.Lines {
		want[l.Ref] = true
		key := entryKey{pb, dc.currency, lineProduct(l)}
		entryID, cached := pl.entry(p, key, l, i)
		p.planLine(pl, i, "qdel", "qli", objQuoteLine, q.Ref, lines, key, entryID, cached, l, func(rec map[string]any) {
			// The quote by its External ID: it may be made by this
			// same request.
			rec["Quote"] = map[string]any{refField: q.Ref}
		})
	}
	for _, ref := range slices.Sorted(maps.Keys(lines)) {
		if !want[ref] {
			pl.del("qdel", &item{deals: []int{i}, object: objQuoteLine, ref: ref, id: lines[ref].id, action: crm.ActionDeleted})
		}
	}
}
