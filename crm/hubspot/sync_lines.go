package hubspot

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/qwoty/companion/crm"
)

// A line item is written in one of two ways, each idempotent:
//
//   - A line Qwoty never wrote is created with its deal association inline
//     (batch/create, 100 a call): one call makes and files it. Its
//     qwoty_ref is unique, so a create repeated after a lost answer is
//     refused rather than duplicated; a refused create falls back to the
//     upsert, then an association.
//   - A line Qwoty wrote before is upserted by qwoty_ref (batch/upsert), which
//     takes no associations: a line item it creates anew (someone deleted
//     it in HubSpot) is then associated with its deal.
//
// A line item's link is saved only once it is under its deal, so that a
// push cut short in between is finished by the next one.

func (p *push) lineItems(pick func(*linePush) bool) []*linePush {
	var out []*linePush
	for _, d := range p.deals {
		if !d.ok() {
			continue
		}
		for _, l := range d.lines {
			if pick(l) {
				out = append(out, l)
			}
		}
	}
	return out
}

func lineDeal(l *linePush) *dealPush { return l.d }

// createLines creates the lines Qwoty never wrote, each under its deal.
func (p *push) createLines(ctx context.Context) {
	todo := p.lineItems(func(l *linePush) bool { return !l.linked })
	perDeal(todo, lineDeal, func(batch []*linePush) error {
		req := batchRequest[createInput]{}
		for _, l := range batch {
			req.Inputs = append(req.Inputs, createInput{Properties: l.props, ObjectWriteTraceID: l.line.Ref,
				Associations: []inlineAssoc{{To: objectRef{l.d.deal.RecordID},
					Types: []assocType{{Category: "HUBSPOT_DEFINED", TypeID: lineItemToDeal}}}}})
		}
		var ans batchAnswer
		err := p.call(ctx, http.MethodPost, lineItemsBatchPath+"create", req, &ans)
		if _, whole := refused(err); whole {
			// Refused as a whole: the upsert finds out line by line.
			for _, l := range batch {
				l.fallback = true
			}
			return nil
		}
		if err != nil {
			return err
		}
		byRef := map[string]*linePush{}
		for _, l := range batch {
			byRef[l.line.Ref] = l
		}
		for _, e := range ans.Errors {
			for _, ref := range e.traces("objectWriteTraceId") {
				if l := byRef[ref]; l != nil {
					l.fallback = true
				}
			}
		}
		var links []crm.RefLink
		var deals []*dealPush
		for _, r := range ans.Results {
			l := byRef[refOf(r.Properties)]
			if l == nil || l.fallback {
				continue
			}
			l.id, l.action = r.ID, crm.ActionCreated
			links = append(links, l.link())
			deals = append(deals, l.d)
		}
		if p.save(ctx, links, deals...) {
			for _, l := range batch {
				if l.id != "" {
					l.d.wrote(l)
				}
			}
		}
		// A line the answer does not account for is retried by the next
		// push (it has no link yet).
		for _, l := range batch {
			if l.id == "" && !l.fallback {
				l.d.fail(fmt.Errorf("HubSpot's answer to the create does not name the line item of %s", l.line.Ref))
			}
		}
		return nil
	})
}

// upsertLines upserts by qwoty_ref the lines Qwoty wrote before and those
// whose create was refused.
func (p *push) upsertLines(ctx context.Context) {
	todo := p.lineItems(func(l *linePush) bool { return l.linked || l.fallback })
	perDeal(todo, lineDeal, func(batch []*linePush) error {
		req := batchRequest[upsertInput]{}
		for _, l := range batch {
			req.Inputs = append(req.Inputs, upsertInput{ID: l.line.Ref, IDProperty: RefProperty, Properties: l.props, ObjectWriteTraceID: l.line.Ref})
		}
		var ans batchAnswer
		if err := p.call(ctx, http.MethodPost, lineItemsBatchPath+"upsert", req, &ans); err != nil {
			if ae, whole := refused(err); whole && mentions(ae, RefProperty) {
				// The property may have gone from the portal: make it again
				// on the next push.
				_ = p.links.Drop(ctx, linkSchema, []string{refPropertyKey})
			}
			return err
		}
		byRef := map[string]*linePush{}
		for _, l := range batch {
			byRef[l.line.Ref] = l
		}
		for _, e := range ans.Errors {
			for _, ref := range e.traces("objectWriteTraceId") {
				if l := byRef[ref]; l != nil {
					l.d.fail(e.err(fmt.Sprintf("line item %q", l.props["name"])))
				}
			}
		}
		var links []crm.RefLink
		var deals []*dealPush
		for _, r := range ans.Results {
			l := byRef[refOf(r.Properties)]
			if l == nil || !l.d.ok() {
				continue
			}
			l.id = r.ID
			switch {
			case r.New:
				// Made by the upsert: it belongs to no deal yet.
				l.associate, l.action = true, crm.ActionCreated
			case l.fallback:
				// Made by an earlier attempt whose answer was lost: its
				// association may be missing too (associating again is
				// harmless).
				l.associate, l.action = true, crm.ActionAdopted
			default:
				l.action = crm.ActionUpdated
				links = append(links, l.link())
				deals = append(deals, l.d)
			}
		}
		if p.save(ctx, links, deals...) {
			for _, l := range batch {
				if l.id != "" && !l.associate && l.d.ok() {
					l.d.wrote(l)
				}
			}
		}
		for _, l := range batch {
			if l.id == "" && l.d.ok() {
				l.d.fail(fmt.Errorf("HubSpot's answer to the upsert does not name the line item of %s", l.line.Ref))
			}
		}
		return nil
	})
}

// associateLines files the line items an upsert made under their deals.
func (p *push) associateLines(ctx context.Context) {
	todo := p.lineItems(func(l *linePush) bool { return l.associate && l.id != "" })
	perDeal(todo, lineDeal, func(batch []*linePush) error {
		type pair struct {
			From objectRef `json:"from"`
			To   objectRef `json:"to"`
		}
		req := batchRequest[pair]{}
		byID := map[string]*linePush{}
		for _, l := range batch {
			req.Inputs = append(req.Inputs, pair{From: objectRef{l.id}, To: objectRef{l.d.deal.RecordID}})
			byID[l.id] = l
		}
		var ans associationAnswer
		if err := p.call(ctx, http.MethodPost, lineItemDealAssociationsPath, req, &ans); err != nil {
			return err
		}
		for _, e := range ans.Errors {
			for _, id := range e.traces("fromObjectId") {
				if l := byID[id]; l != nil {
					l.d.fail(e.err(fmt.Sprintf("line item %q", l.props["name"])))
				}
			}
		}
		done := map[string]bool{}
		for _, r := range ans.Results {
			done[r.From.ID] = true
		}
		var links []crm.RefLink
		var deals []*dealPush
		for _, l := range batch {
			if done[l.id] && l.d.ok() {
				links = append(links, l.link())
				deals = append(deals, l.d)
			}
		}
		if p.save(ctx, links, deals...) {
			for _, l := range batch {
				if done[l.id] && l.d.ok() {
					l.d.wrote(l)
				}
			}
		}
		for _, l := range batch {
			if !done[l.id] && l.d.ok() {
				l.d.fail(fmt.Errorf("HubSpot's answer to the association does not name line item %s", l.id))
			}
		}
		return nil
	})
}

// archiveLines archives the line items Qwoty made that the deal's primary
// quote no longer has (a line removed, another quote made primary, the
// quotes gone). HubSpot answers 204 whatever the line item's state, so an
// archive repeated after a lost answer is harmless.
func (p *push) archiveLines(ctx context.Context) {
	type gone struct {
		d    *dealPush
		link crm.RefLink
	}
	var todo []gone
	for _, d := range p.deals {
		for _, l := range d.remove {
			if d.ok() {
				todo = append(todo, gone{d, l})
			}
		}
	}
	perDeal(todo, func(g gone) *dealPush { return g.d }, func(batch []gone) error {
		req := batchRequest[objectRef]{}
		for _, g := range batch {
			req.Inputs = append(req.Inputs, objectRef{g.link.CRMID})
		}
		if err := p.call(ctx, http.MethodPost, lineItemsBatchPath+"archive", req, nil); err != nil {
			return err
		}
		for _, group := range groupBy(batch, func(g gone) *dealPush { return g.d }) {
			d := group[0].d
			refs := make([]string, 0, len(group))
			for _, g := range group {
				refs = append(refs, g.link.Ref)
			}
			if err := p.links.Drop(ctx, linkLineItem, refs); err != nil {
				d.fail(fmt.Errorf("forget the archived line items: %w", err))
				continue
			}
			for _, g := range group {
				d.written = append(d.written, crm.Written{Object: linkLineItem, ID: g.link.CRMID, Ref: g.link.Ref, Action: crm.ActionDeleted})
			}
		}
		return nil
	})
}

// link is the line item's link once written.
func (l *linePush) link() crm.RefLink {
	return crm.RefLink{Object: linkLineItem, Ref: l.line.Ref, Parent: l.d.deal.RecordID, CRMID: l.id, Hash: l.hash}
}

func (d *dealPush) wrote(l *linePush) {
	d.written = append(d.written, crm.Written{Object: linkLineItem, ID: l.id, Ref: l.line.Ref, Action: l.action})
}

// mentions says whether a refusal names s.
func mentions(ae *crm.APIError, s string) bool {
	return ae != nil && strings.Contains(ae.Message, s)
}
