package salesforce

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// The writes: one all-or-none Composite request per group of deals. When
// Salesforce refuses it, nothing was saved; the deals its errors name fail
// with Salesforce's words and the others are sent again, and a refusal
// that names no deal is retried deal by deal, so that one bad deal never
// fails the rest.

// loadLinks reads what the links remember of the deals' records: their
// ids and the hashes of what was last written.
func (p *push) loadLinks(ctx context.Context, ready []int) error {
	refs := map[string]map[string]bool{objOpportunity: {}, objLine: {}, objQuote: {}, objQuoteLine: {}}
	for _, i := range ready {
		dc := p.ctxs[i]
		refs[objOpportunity][p.ids[i]] = true
		if dc.primary != nil {
			for _, l := range dc.primary.Lines {
				refs[objLine][l.Ref] = true
			}
		}
		for _, q := range dc.quotes {
			refs[objQuote][q.Ref] = true
			for _, l := range q.Lines {
				refs[objQuoteLine][l.Ref] = true
			}
		}
	}
	p.linkMap = map[string]map[string]crm.RefLink{}
	for _, object := range slices.Sorted(maps.Keys(refs)) {
		if len(refs[object]) == 0 {
			continue
		}
		found, err := p.links.Find(ctx, object, slices.Sorted(maps.Keys(refs[object])))
		if err != nil {
			return err
		}
		p.linkMap[object] = found
	}
	return nil
}

// link is the link of a record, if the links have one with an id.
func (p *push) link(object, ref string) (crm.RefLink, bool) {
	l, ok := p.linkMap[object][ref]
	return l, ok && l.CRMID != ""
}

func (p *push) write(ctx context.Context, ready []int) {
	if err := p.loadLinks(ctx, ready); err != nil {
		for _, i := range ready {
			p.finish(i, err)
		}
		return
	}
	queue := [][]int{ready}
	for len(queue) > 0 {
		var deals []int
		for _, i := range queue[0] {
			if !p.done[i] {
				deals = append(deals, i)
			}
		}
		queue = queue[1:]
		if len(deals) == 0 {
			continue
		}
		pl, err := p.plan(deals)
		switch {
		case errors.Is(err, errTooLarge) && len(deals) > 1:
			half := len(deals) / 2
			queue = append([][]int{deals[:half], deals[half:]}, queue...)
			continue
		case err != nil:
			p.finish(deals[0], crm.Rejected(fmt.Errorf("the deal's quotes have more lines than one Salesforce request carries (%d records in %d collections at most)",
				maxCollection*(maxSubrequests-1), maxSubrequests-1)))
			continue
		}
		if !pl.writes() {
			p.commit(ctx, pl, nil)
			continue
		}
		if err := p.unconfirm(ctx, pl); err != nil {
			for _, i := range deals {
				p.finish(i, err)
			}
			continue
		}
		subs, _ := pl.subrequests()
		res, err := p.composite(ctx, true, subs)
		if err != nil {
			err = p.callError(ctx, err)
			var wait *crm.WaitError
			if errors.As(err, &wait) {
				p.failRest(err)
				return
			}
			for _, i := range deals {
				p.finish(i, err)
			}
			continue
		}
		if succeeded(pl, res) {
			p.commit(ctx, pl, res)
			continue
		}
		culprits, general := p.attribute(ctx, pl, res)
		switch {
		case len(culprits) > 0:
			var rest []int
			for _, i := range deals {
				if err, ok := culprits[i]; ok {
					p.finish(i, err)
				} else {
					rest = append(rest, i)
				}
			}
			if len(rest) > 0 {
				queue = append([][]int{rest}, queue...)
			}
		case len(deals) > 1:
			singles := make([][]int, len(deals))
			for k, i := range deals {
				singles[k] = []int{i}
			}
			queue = append(singles, queue...)
		default:
			p.finish(deals[0], cmp.Or(general, error(errors.New("salesforce: the write failed without an error"))))
		}
	}
}

// unconfirm forgets the hashes of the linked records a plan is about to
// write, before it is sent: until its answer is read, Salesforce may hold
// the new values (the answer lost after the save) or the old ones. A hash
// kept through a lost answer would make a later push that comes back to
// the last confirmed values (a status back to what it was, a line edited
// back) skip the record as unchanged, while Salesforce holds the lost
// write's values. The answer's commit saves the new hashes.
func (p *push) unconfirm(ctx context.Context, pl *plan) error {
	var stale []crm.RefLink
	for _, c := range pl.chunks() {
		for _, it := range c.items {
			if it.hash == "" {
				continue
			}
			if l, ok := p.linkMap[it.object][it.ref]; ok && l.Hash != "" {
				l.Hash = ""
				p.linkMap[it.object][it.ref] = l
				stale = append(stale, l)
			}
		}
	}
	if len(stale) == 0 {
		return nil
	}
	return p.links.Save(ctx, stale)
}

// succeeded says whether every subrequest and record of a plan's answer
// succeeded.
func succeeded(pl *plan, res map[string]subresult) bool {
	for _, r := range res {
		if r.Status >= 300 {
			return false
		}
	}
	for _, c := range pl.chunks() {
		items, _ := readBody(res[c.ref].Body)
		if len(items) != len(c.items) {
			return false
		}
		for _, it := range items {
			if !it.Success {
				return false
			}
		}
	}
	return true
}

// The errors a record or a request meets that are not about the data:
// another try may pass (a record locked by another save, a server busy,
// a record deleted since the read, which the next read sees).
var transientCodes = map[string]bool{
	"UNABLE_TO_LOCK_ROW": true, "SERVER_UNAVAILABLE": true, "REQUEST_RUNNING_TOO_LONG": true, "QUERY_TIMEOUT": true,
	"UNKNOWN_EXCEPTION": true, "ENTITY_IS_DELETED": true,
}

// Codes of an all-or-none request's records and subrequests that failed
// only because another did.
const (
	rolledBack = "ALL_OR_NONE_OPERATION_ROLLED_BACK"
	halted     = "PROCESSING_HALTED"
)

// attribute reads a failed answer: the deals whose records Salesforce
// refused, each with its error, and the first error that names no record.
func (p *push) attribute(ctx context.Context, pl *plan, res map[string]subresult) (map[int]error, error) {
	culprits := map[int]error{}
	var general error
	for _, c := range pl.chunks() {
		items, errs := readBody(res[c.ref].Body)
		if len(items) == len(c.items) {
			for k, ir := range items {
				for _, e := range ir.Errors {
					if e.code() == rolledBack {
						continue
					}
					err := p.recordError(ctx, e, c.items[k])
					for _, d := range c.items[k].deals {
						if _, seen := culprits[d]; !seen {
							culprits[d] = err
						}
					}
					break
				}
			}
		}
		for _, e := range errs {
			if e.code() != halted && general == nil {
				general = p.requestError(e)
			}
		}
	}
	if back, ok := res["back"]; ok && back.Status >= 300 {
		_, errs := readBody(back.Body)
		for _, e := range errs {
			if e.code() != halted && general == nil {
				general = p.requestError(e)
			}
		}
	}
	return culprits, general
}

// recordError classifies a record's refusal: Salesforce's own words,
// permanent unless the code says otherwise.
func (p *push) recordError(ctx context.Context, e sfError, it *item) error {
	err := fmt.Errorf("Salesforce refused %s %s: %s", it.object, cmp.Or(it.ref, it.id), e)
	if it.object == objOpportunity && fieldRefusals[e.code()] {
		// A mapped field is not what the cached describe said: read it
		// again on the next try.
		forgetTypes(p.conn.ID)
	}
	switch {
	// Sync writes no package field on an opportunity: a refused one there
	// is a mapped field, whose error says so itself.
	case missingField(e.code(), e.Message) && it.object != objOpportunity:
		return crm.Rejected(fmt.Errorf("%s (Salesforce: %s)", upgradeHint, e))
	case it.cachedEntry && (slices.Contains(e.Fields, "PricebookEntryId") || e.code() == "INVALID_CROSS_REFERENCE_KEY"):
		// The entry Qwoty remembered was deleted or deactivated: forget
		// it, and look it up again on the next try.
		for _, d := range it.deals {
			p.forgetEntries(ctx, d)
		}
		return fmt.Errorf("%w (the price book entry Qwoty remembered changed in Salesforce: it is looked up again on the next try)", err)
	case transientCodes[e.code()]:
		return err
	case it.create && e.code() == "INVALID_FIELD_FOR_INSERT_UPDATE" && createOnly(e):
		// The upsert found the record it was to make: another push of the
		// deal (a worker whose lease ran out while its write was on its
		// way) saved it since the read, and Salesforce refuses to change
		// the fields only a create sets. The next read finds it.
		return fmt.Errorf("%w (made meanwhile by another push: it is updated on the next try)", err)
	case (it.object == objEntry || it.object == objProduct) && (e.code() == "DUPLICATE_VALUE" || e.code() == "DUPLICATE_EXTERNAL_ID"):
		// Another push of the connection (another instance) made the same
		// product or price since the read: the next read finds it.
		return fmt.Errorf("%w (made meanwhile by another push: it is used on the next try)", err)
	}
	return crm.Rejected(err)
}

// createOnlyFields are the fields of the records sync makes that a create
// sets and an update may not change: the Object Reference gives them the
// Create property, not Update (OpportunityLineItem's OpportunityId and
// PricebookEntryId, QuoteLineItem's QuoteId, Quote's OpportunityId;
// developer.salesforce.com/docs/platform/object-reference, standard
// objects).
var createOnlyFields = []string{"OpportunityId", "QuoteId", "PricebookEntryId", "Product2Id"}

// createOnly says whether a refusal names a field only a create sets.
func createOnly(e sfError) bool {
	for _, f := range createOnlyFields {
		if slices.Contains(e.Fields, f) || strings.Contains(e.Message, "fields: "+f) {
			return true
		}
	}
	return false
}

// requestError classifies a subrequest's refusal that names no record.
func (p *push) requestError(e sfError) error {
	err := fmt.Errorf("Salesforce refused the write: %s", e)
	switch {
	case missingField(e.code(), e.Message):
		return crm.Rejected(fmt.Errorf("%s (Salesforce: %s)", upgradeHint, e))
	case transientCodes[e.code()]:
		return err
	}
	return crm.Rejected(err)
}

// commit records a plan's writes: links with the records' ids and hashes,
// each deal's outcome with what was written, and a warning where the
// opportunity's Amount differs from its primary quote's total.
func (p *push) commit(ctx context.Context, pl *plan, res map[string]subresult) {
	written := map[int][]crm.Written{}
	var saves []crm.RefLink
	drops := map[string][]string{}
	quoteIDs := map[string]string{}
	for ref, q := range p.state.quotes {
		quoteIDs[ref] = q.id
	}
	for _, c := range pl.chunks() {
		items, _ := readBody(res[c.ref].Body)
		for k, it := range c.items {
			id := cmp.Or(items[k].ID, it.id)
			action := it.action
			if action == "" {
				action = crm.ActionUpdated
				if items[k].Created {
					action = crm.ActionCreated
				}
			}
			w := crm.Written{Object: it.object, ID: id, Ref: it.ref, Action: action}
			switch c.spec.name {
			case "prod":
				p.cat.products[it.ref] = id
				saves = append(saves, crm.RefLink{Object: objProduct, Ref: it.ref, CRMID: id})
			case "std", "cus":
				p.cat.entries[it.key] = entry{id: id, active: true}
				saves = append(saves, crm.RefLink{Object: objEntry, Ref: it.key.ref(), Parent: it.key.product, CRMID: id})
				w.Ref = ""
			case "on":
				p.cat.entries[it.key] = entry{id: id, active: true}
				w.Ref = ""
			case "odel", "qdel":
				drops[it.object] = append(drops[it.object], it.ref)
			case "opp":
				saves = append(saves, crm.RefLink{Object: objOpportunity, Ref: it.ref, CRMID: id, Hash: it.hash})
				w.Ref = ""
			case "quote":
				quoteIDs[it.ref] = id
				saves = append(saves, crm.RefLink{Object: objQuote, Ref: it.ref, Parent: it.parent, CRMID: id, Hash: it.hash})
			case "oli":
				saves = append(saves, crm.RefLink{Object: objLine, Ref: it.ref, Parent: it.parent, CRMID: id, Hash: it.hash})
			case "qli":
				saves = append(saves, crm.RefLink{Object: objQuoteLine, Ref: it.ref, Parent: quoteIDs[it.parent], CRMID: id, Hash: it.hash})
			}
			// A product or an entry serves several deals: its write is
			// listed under the first.
			written[it.deals[0]] = append(written[it.deals[0]], w)
		}
	}
	saves = append(saves, pl.linksOnly...)
	var err error
	for _, object := range slices.Sorted(maps.Keys(drops)) {
		err = errors.Join(err, p.links.Drop(ctx, object, drops[object]))
	}
	if len(saves) > 0 {
		err = errors.Join(err, p.links.Save(ctx, saves))
	}
	amounts := map[string]decimal.Decimal{}
	if back, ok := res["back"]; ok {
		rows, rerr := p.rows(ctx, back)
		err = errors.Join(err, rerr)
		for _, r := range rows {
			amounts[r.str("Id")] = r.dec("Amount")
		}
	} else {
		for _, i := range pl.deals {
			amounts[p.ids[i]] = p.ctxs[i].opp.amount
		}
	}
	for _, i := range pl.deals {
		dc := p.ctxs[i]
		p.out[i].Written = written[i]
		warnings := slices.Clone(dc.warnings)
		if dc.primary != nil {
			want := dc.primary.Figures(qwoty.SalesforceScale).Total
			if got, ok := amounts[p.ids[i]]; ok && !got.Equal(want) {
				warnings = append(warnings, fmt.Sprintf("Salesforce computes the opportunity's Amount from its products: %s %s, "+
					"while the quote's total is %s %s (a quote discount, tax, or products added in Salesforce make the difference)",
					got.StringFixed(2), dc.currency, want.StringFixed(2), dc.currency))
			}
		}
		p.out[i].Warning = strings.Join(warnings, "; ")
		// The write is done; a failure to record it makes the engine try
		// again, which converges on what Salesforce already holds.
		p.finish(i, err)
	}
}
