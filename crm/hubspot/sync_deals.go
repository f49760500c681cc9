package hubspot

import (
	"context"
	"net/http"

	"github.com/qwoty/companion/crm"
)

// updateDeals writes the amount and stage of the deals whose lines went
// through, 100 deals a call (batch/update). A deal HubSpot refuses (a stage
// its pipeline does not have, a deal deleted) fails alone, with HubSpot's
// message; the others are written.
func (p *push) updateDeals(ctx context.Context) {
	var todo []*dealPush
	for _, d := range p.deals {
		if d.ok() && d.props != nil {
			todo = append(todo, d)
		}
	}
	perDeal(todo, func(d *dealPush) *dealPush { return d }, func(batch []*dealPush) error {
		req := batchRequest[upsertInput]{}
		byID := map[string]*dealPush{}
		for _, d := range batch {
			req.Inputs = append(req.Inputs, upsertInput{ID: d.deal.RecordID, Properties: d.props, ObjectWriteTraceID: d.deal.RecordID})
			byID[d.deal.RecordID] = d
		}
		var ans batchAnswer
		if err := p.call(ctx, http.MethodPost, dealsBatchPath+"update", req, &ans); err != nil {
			return err
		}
		for _, e := range ans.Errors {
			for _, id := range e.traces("objectWriteTraceId") {
				if d := byID[id]; d != nil {
					d.fail(e.err("deal " + id))
				}
			}
		}
		done := map[string]bool{}
		for _, r := range ans.Results {
			done[r.ID] = true
		}
		for _, d := range batch {
			if !d.ok() {
				continue
			}
			if !done[d.deal.RecordID] {
				d.fail(errNotAnswered("deal " + d.deal.RecordID))
				continue
			}
			link := crm.RefLink{Object: linkDeal, Ref: d.deal.RecordID, CRMID: d.deal.RecordID, Hash: d.hash}
			if p.save(ctx, []crm.RefLink{link}, d) {
				d.written = append(d.written, crm.Written{Object: "deals", ID: d.deal.RecordID, Action: crm.ActionUpdated})
			}
		}
		return nil
	})
}
