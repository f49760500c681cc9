package hubspot

import (
	"context"
	"errors"
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
// Every line item Qwoty may have made is remembered under its deal before
// HubSpot can make it, so that it is never lost however a push ends: a
// create's links are intended (no id) before it is sent; an upsert's lose
// their hash before it is sent (it may make the line item anew), and keep
// the id it answers, still without a hash, until the association is done.
// A link gets its hash only once its line item is under its deal: the next
// push files one that is not (it is upserted and associated again), or
// archives it when the quote no longer has its line, finding it by
// qwoty_ref first (the link's id, if any, may not be HubSpot's).

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
		intents := make([]crm.RefLink, 0, len(batch))
		for _, l := range batch {
			req.Inputs = append(req.Inputs, createInput{Properties: l.props, ObjectWriteTraceID: l.line.Ref,
				Associations: []inlineAssoc{{To: objectRef{l.d.deal.RecordID},
					Types: []assocType{{Category: "HUBSPOT_DEFINED", TypeID: lineItemToDeal}}}}})
			intents = append(intents, crm.RefLink{Object: linkLineItem, Ref: l.line.Ref, Parent: l.d.deal.RecordID})
		}
		// The intents are durable before HubSpot can make the line items: a
		// create whose answer is lost, and whose line then leaves the
		// quote, is still archived.
		if err := p.links.Intend(ctx, intents); err != nil {
			return fmt.Errorf("record the line items about to be made: %w", err)
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
		var unconfirmed []crm.RefLink
		for _, l := range batch {
			req.Inputs = append(req.Inputs, upsertInput{ID: l.line.Ref, IDProperty: RefProperty, Properties: l.props, ObjectWriteTraceID: l.line.Ref})
			if l.linked && !l.unfiled {
				unconfirmed = append(unconfirmed, crm.RefLink{Object: linkLineItem, Ref: l.line.Ref, Parent: l.d.deal.RecordID, CRMID: l.known})
			}
		}
		// The upsert makes the line item anew when someone deleted it in
		// HubSpot: until the answer says which, its link loses its hash
		// (a push that dies meanwhile leaves it to be found by qwoty_ref).
		// A create's fallback has its intent already.
		if err := p.links.Save(ctx, unconfirmed); err != nil {
			return fmt.Errorf("record the line items about to be upserted: %w", err)
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
			case l.fallback || r.ID != l.known:
				// Made by an earlier attempt whose answer was lost (a
				// create, or an upsert after someone deleted Qwoty's): its
				// association may be missing too (associating again is
				// harmless).
				l.associate, l.action = true, crm.ActionAdopted
			case l.unfiled:
				// The line item Qwoty knows, whose association was never
				// confirmed: it is associated again.
				l.associate, l.action = true, crm.ActionUpdated
			default:
				l.action = crm.ActionUpdated
			}
			link := l.link()
			if l.associate {
				// Its id is kept before the association is sent, without
				// a hash until the association is done (see above).
				link.Hash = ""
			}
			links = append(links, link)
			deals = append(deals, l.d)
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
// archive repeated after a lost answer is harmless. A link not confirmed
// under its deal (an intent, or an id without a hash) may not hold the line
// item HubSpot has: that one is found by qwoty_ref first.
func (p *push) archiveLines(ctx context.Context) {
	var todo, unsure []gone
	for _, d := range p.deals {
		for _, l := range d.remove {
			switch {
			case !d.ok():
			case l.CRMID == "" || l.Hash == "":
				unsure = append(unsure, gone{d, l})
			default:
				todo = append(todo, gone{d, l})
			}
		}
	}
	todo = append(todo, p.findByRef(ctx, unsure)...)
	perDeal(todo, goneDeal, func(batch []gone) error {
		req := batchRequest[objectRef]{}
		for _, g := range batch {
			req.Inputs = append(req.Inputs, objectRef{g.link.CRMID})
		}
		if err := p.call(ctx, http.MethodPost, lineItemsBatchPath+"archive", req, nil); err != nil {
			return err
		}
		for _, group := range groupBy(batch, goneDeal) {
			if p.forget(ctx, group) {
				d := group[0].d
				for _, g := range group {
					d.written = append(d.written, crm.Written{Object: linkLineItem, ID: g.link.CRMID, Ref: g.link.Ref, Action: crm.ActionDeleted})
				}
			}
		}
		return nil
	})
}

// gone is a line item to archive.
type gone struct {
	d    *dealPush
	link crm.RefLink
}

func goneDeal(g gone) *dealPush { return g.d }

// findByRef reads by qwoty_ref the line items of links not confirmed under
// their deal (batch/read with idProperty, 100 a call) and returns those
// HubSpot holds, with their ids; the links of the others (never made, or
// archived since) are forgotten.
func (p *push) findByRef(ctx context.Context, unsure []gone) []gone {
	var found []gone
	perDeal(unsure, goneDeal, func(batch []gone) error {
		req := struct {
			batchRequest[objectRef]
			IDProperty string   `json:"idProperty"`
			Properties []string `json:"properties"`
		}{IDProperty: RefProperty, Properties: []string{RefProperty}}
		for _, g := range batch {
			req.Inputs = append(req.Inputs, objectRef{g.link.Ref})
		}
		// Those HubSpot does not hold are listed among the answer's errors
		// (a 207), not refused; a 404 OBJECT_NOT_FOUND of the whole read,
		// which HubSpot is reported to answer when it holds none of them,
		// says the same.
		var ans batchAnswer
		err := p.call(ctx, http.MethodPost, lineItemsBatchPath+"read", req, &ans)
		var ae *crm.APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound && ae.Code == "OBJECT_NOT_FOUND" {
			ans, err = batchAnswer{}, nil
		}
		if err != nil {
			return err
		}
		ids := map[string]string{}
		for _, r := range ans.Results {
			ids[refOf(r.Properties)] = r.ID
		}
		var none []gone
		for _, g := range batch {
			if id := ids[g.link.Ref]; id != "" {
				g.link.CRMID = id
				found = append(found, g)
			} else {
				none = append(none, g)
			}
		}
		for _, group := range groupBy(none, goneDeal) {
			p.forget(ctx, group)
		}
		return nil
	})
	return found
}

// forget drops the links of a deal's line items gone from HubSpot, failing
// the deal when it cannot.
func (p *push) forget(ctx context.Context, group []gone) bool {
	refs := make([]string, 0, len(group))
	for _, g := range group {
		refs = append(refs, g.link.Ref)
	}
	if err := p.links.Drop(ctx, linkLineItem, refs); err != nil {
		group[0].d.fail(fmt.Errorf("forget the archived line items: %w", err))
		return false
	}
	return true
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
