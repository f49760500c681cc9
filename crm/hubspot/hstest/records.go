package hstest

import (
	"maps"
	"slices"
	"strconv"
)

// What tests read and seed of a portal's records, without the API.

// LineItems returns the live line items of a deal, by id, with their
// properties (the calculated amount included).
func (s *Server) LineItems(portalID int64, dealID string) []LineItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal(portalID)
	var out []LineItem
	for _, id := range sortedIDs(p.lineItems) {
		if li := p.lineItems[id]; !li.archived && li.deal == dealID {
			out = append(out, li.public())
		}
	}
	return out
}

// LiveLineItems returns every live line item of a portal, whatever its
// parent (a deal, an order, or none), by id.
func (s *Server) LiveLineItems(portalID int64) []LineItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal(portalID)
	var out []LineItem
	for _, id := range sortedIDs(p.lineItems) {
		if li := p.lineItems[id]; !li.archived {
			out = append(out, li.public())
		}
	}
	return out
}

// LineItem returns a line item, live or archived (archived reports which).
func (s *Server) LineItem(portalID int64, id string) (li LineItem, archived, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored := s.mustPortal(portalID).lineItems[id]
	if stored == nil {
		return LineItem{}, false, false
	}
	return stored.public(), stored.archived, true
}

// CountLineItems counts the live line items whose property prop is value
// (a duplicate made by a retried create shows as 2).
func (s *Server) CountLineItems(portalID int64, prop, value string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, li := range s.mustPortal(portalID).lineItems {
		if !li.archived && li.props[prop] == value {
			n++
		}
	}
	return n
}

// LineItemsCreated counts every line item a portal ever held, archived ones
// included.
func (s *Server) LineItemsCreated(portalID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mustPortal(portalID).lineItems)
}

// PutLineItem adds a line item under a deal, as a person would in HubSpot;
// its id is assigned and returned.
func (s *Server) PutLineItem(portalID int64, dealID string, properties map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal(portalID)
	now := s.Now()
	li := &lineItem{id: p.newID(), props: maps.Clone(properties), deal: dealID, created: now, updated: now}
	p.lineItems[li.id] = li
	return li.id
}

// DealProperties returns a deal's properties as the objects API reads them
// (dealname, amount, dealstage, pipeline, deal_currency_code and those set
// by updates); nil when the portal has no such deal.
func (s *Server) DealProperties(portalID int64, dealID string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	props, _, ok := s.record(s.mustPortal(portalID), "deals", dealID)
	if !ok {
		return nil
	}
	return props
}

// BatchCalls counts the batch requests of an object type and operation
// ("line_items", "create"), refused ones included.
func (s *Server) BatchCalls(objectType, op string) int {
	return s.calls.Get("batch:" + objectType + ":" + op)
}

// dealLineItems lists a deal's line items as the objects API lists
// associations. s.mu is held.
func (p *portal) dealLineItems(dealID string) []map[string]string {
	var out []map[string]string
	for _, id := range sortedIDs(p.lineItems) {
		if li := p.lineItems[id]; !li.archived && li.deal == dealID {
			out = append(out, map[string]string{"id": id, "type": "deal_to_line_item"})
		}
	}
	return out
}

func (li *lineItem) public() LineItem {
	props := maps.Clone(li.props)
	props["amount"] = lineAmount(li.props)
	return LineItem{ID: li.id, Properties: props, DealID: li.deal, OrderID: li.order}
}

// sortedIDs sorts decimal ids by value.
func sortedIDs[V any](m map[string]V) []string {
	ids := slices.Collect(maps.Keys(m))
	slices.SortFunc(ids, func(a, b string) int {
		x, _ := strconv.ParseInt(a, 10, 64)
		y, _ := strconv.ParseInt(b, 10, 64)
		return int(x - y)
	})
	return ids
}

// SetDealProperty sets a deal's property as a person would in HubSpot
// (a custom property, or a built-in one Deal has no field for); the deal
// is modified now.
func (s *Server) SetDealProperty(portalID int64, dealID, name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal(portalID)
	if p.dealExtra == nil {
		p.dealExtra = map[string]map[string]string{}
	}
	if p.dealExtra[dealID] == nil {
		p.dealExtra[dealID] = map[string]string{}
	}
	p.dealExtra[dealID][name] = value
	p.touch("deals", dealID, s.Now())
}
