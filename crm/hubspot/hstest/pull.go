package hstest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// What pulling reads: products and contacts besides deals and companies,
// each record's modification time (hs_lastmodifieddate, which every change
// moves), archiving (HubSpot's delete: the record leaves every live read
// and waits 90 days in the recycle bin, restorable), the objects' batch
// read, the archived listing, the associations' batch read and the
// account's currencies. The Search API is search.go's; webhooks
// webhooks.go's.

// Product is a product record: its properties as HubSpot stores them
// (name, hs_sku, description, price, hs_price_<currency>).
type Product struct {
	ID         string
	Properties map[string]string
}

// Contact is a contact record (email, firstname, lastname, phone).
type Contact struct {
	ID         string
	Properties map[string]string
}

// pulledTypes are the object types pulling reads, with their read scope.
var pulledTypes = map[string]string{
	"companies": "crm.objects.companies.read",
	"deals":     "crm.objects.deals.read",
	"products":  "crm.objects.products.read",
	"contacts":  "crm.objects.contacts.read",
}

// ArchiveRetention: an archived record can be restored for 90 days, after
// which HubSpot deletes it for good.
const ArchiveRetention = 90 * 24 * time.Hour

// archivedRecord is a record in the recycle bin. s.mu guards it.
type archivedRecord struct {
	typ, id string
	at      time.Time
	deal    Deal
	extra   map[string]string
	company Company
	product Product
	contact Contact
	order   *Order
}

var epoch, _ = time.Parse(time.RFC3339, createdStamp)

// touch dates a record's change. s.mu is held.
func (p *portal) touch(typ, id string, now time.Time) {
	if p.modified == nil {
		p.modified = map[string]time.Time{}
	}
	p.modified[typ+"/"+id] = now
}

// modifiedOf is a record's hs_lastmodifieddate: its last change, or the
// emulator's creation stamp for a record seeded by Options. s.mu is held.
func (p *portal) modifiedOf(typ, id string) time.Time {
	if t, ok := p.modified[typ+"/"+id]; ok {
		return t
	}
	return epoch
}

// live lists a type's live record ids, in id order. s.mu is held.
func (p *portal) live(typ string) []string {
	var ids []string
	switch typ {
	case "deals":
		ids = slices.Collect(maps.Keys(p.deals))
	case "companies":
		ids = slices.Collect(maps.Keys(p.companies))
	case "products":
		ids = slices.Collect(maps.Keys(p.products))
	case "contacts":
		ids = slices.Collect(maps.Keys(p.contacts))
	case "orders":
		ids = slices.Collect(maps.Keys(p.orders))
	}
	slices.SortFunc(ids, compareIDs)
	return ids
}

func compareIDs(a, b string) int {
	x, _ := strconv.ParseInt(a, 10, 64)
	y, _ := strconv.ParseInt(b, 10, 64)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// objectJSON is a live record as search and batch read answer it: the
// properties asked for (unset ones as null) and the three every answer
// carries. s.mu is held.
func (s *Server) objectJSON(p *portal, typ, id string, asked []string) (map[string]any, bool) {
	stored, _, ok := s.record(p, typ, id)
	if !ok {
		return nil, false
	}
	mod := p.modifiedOf(typ, id)
	props := map[string]any{}
	for _, name := range asked {
		if v := stored[name]; v != "" {
			props[name] = v
		} else {
			props[name] = nil
		}
	}
	props["hs_object_id"], props["createdate"], props["hs_lastmodifieddate"] = id, createdStamp, stamp(mod)
	return map[string]any{"id": id, "properties": props, "createdAt": createdStamp, "updatedAt": stamp(mod), "archived": false}, true
}

// PutProduct adds or replaces a product, modified now.
func (s *Server) PutProduct(portalID int64, pr Product) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal(portalID)
	p.products[pr.ID] = Product{ID: pr.ID, Properties: maps.Clone(pr.Properties)}
	p.touch("products", pr.ID, s.Now())
}

// PutContact adds or replaces a contact, modified now.
func (s *Server) PutContact(portalID int64, c Contact) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal(portalID)
	p.contacts[c.ID] = Contact{ID: c.ID, Properties: maps.Clone(c.Properties)}
	p.touch("contacts", c.ID, s.Now())
}

// Touch changes nothing but the record's modification time (now), as an
// edit of a property to the same value does.
func (s *Server) Touch(portalID int64, typ, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustPortal(portalID).touch(typ, id, s.Now())
}

// Archive deletes a record as HubSpot's DELETE does: it goes to the
// recycle bin, archived now. It reports whether the record was live.
func (s *Server) Archive(portalID int64, typ, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal(portalID)
	a := &archivedRecord{typ: typ, id: id, at: s.Now()}
	switch typ {
	case "deals":
		d, ok := p.deals[id]
		if !ok {
			return false
		}
		a.deal, a.extra = d, p.dealExtra[id]
		delete(p.deals, id)
	case "companies":
		c, ok := p.companies[id]
		if !ok {
			return false
		}
		a.company = c
		delete(p.companies, id)
	case "products":
		pr, ok := p.products[id]
		if !ok {
			return false
		}
		a.product = pr
		delete(p.products, id)
	case "contacts":
		c, ok := p.contacts[id]
		if !ok {
			return false
		}
		a.contact = c
		delete(p.contacts, id)
	case "orders":
		o := p.orders[id]
		if o == nil {
			return false
		}
		a.order = o
		delete(p.orders, id)
	default:
		return false
	}
	p.archived[typ+"/"+id] = a
	return true
}

// Restore brings an archived record back from the recycle bin; the restore
// is a change (its modification time is now). It reports whether the
// record was in the bin.
func (s *Server) Restore(portalID int64, typ, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal(portalID)
	a := p.archived[typ+"/"+id]
	if a == nil || s.Now().Sub(a.at) > ArchiveRetention {
		return false
	}
	delete(p.archived, typ+"/"+id)
	switch typ {
	case "deals":
		p.deals[id], p.dealExtra[id] = a.deal, a.extra
	case "companies":
		p.companies[id] = a.company
	case "products":
		p.products[id] = a.product
	case "contacts":
		p.contacts[id] = a.contact
	case "orders":
		p.orders[id] = a.order
	}
	p.touch(typ, id, s.Now())
	return true
}

// archivedList lists a type's records in the recycle bin (those archived
// within 90 days), in id order. s.mu is held.
func (s *Server) archivedList(p *portal, typ string) []*archivedRecord {
	var out []*archivedRecord
	for _, a := range p.archived {
		if a.typ == typ && s.Now().Sub(a.at) <= ArchiveRetention {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(x, y *archivedRecord) int { return compareIDs(x.id, y.id) })
	return out
}

func (a *archivedRecord) json() map[string]any {
	return map[string]any{"id": a.id, "properties": map[string]any{"hs_object_id": a.id, "hs_lastmodifieddate": stamp(a.at)},
		"createdAt": createdStamp, "updatedAt": stamp(a.at), "archived": true, "archivedAt": stamp(a.at)}
}

// pulledAccess authenticates a read of typ and counts it against the
// account's limit; it answers and returns nil when refused.
func (s *Server) pulledAccess(w http.ResponseWriter, r *http.Request, typ string) (*portal, []string) {
	a, ok := s.bearer(w, r)
	if !ok {
		return nil, nil
	}
	p := a.Grant.user.portal
	if !s.limit(w, p) {
		return nil, nil
	}
	scope, known := pulledTypes[typ]
	if !known {
		apiError(w, http.StatusNotFound, "", "Unable to infer object type from: "+typ)
		return nil, nil
	}
	if !slices.Contains(a.Grant.scopes, scope) {
		missingScopes(w, scope)
		return nil, nil
	}
	return p, a.Grant.scopes
}

// batchRead is POST /crm/objects/{version}/{type}/batch/read: up to 100
// ids; with ?archived=true it reads the recycle bin instead. Ids it does
// not find are listed in one error of category OBJECT_NOT_FOUND, the
// answer then being a 207.
func (s *Server) batchRead(w http.ResponseWriter, r *http.Request, typ string) {
	s.calls.Add("batch:" + typ + ":read")
	p, _ := s.pulledAccess(w, r, typ)
	if p == nil {
		return
	}
	var body struct {
		Inputs []struct {
			ID string `json:"id"`
		} `json:"inputs"`
		Properties []string `json:"properties"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON on line 1: "+err.Error())
		return
	}
	if n := len(body.Inputs); n == 0 || n > MaxBatchInputs {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("inputs: %d given, from 1 to %d allowed", n, MaxBatchInputs))
		return
	}
	archived := r.URL.Query().Get("archived") == "true"
	s.mu.Lock()
	results := []map[string]any{}
	var missing []string
	for _, in := range body.Inputs {
		if archived {
			if a := p.archived[typ+"/"+in.ID]; a != nil && s.Now().Sub(a.at) <= ArchiveRetention {
				results = append(results, a.json())
				continue
			}
		} else if obj, ok := s.objectJSON(p, typ, in.ID, body.Properties); ok {
			results = append(results, obj)
			continue
		}
		missing = append(missing, in.ID)
	}
	s.mu.Unlock()
	now := stamp(s.Now())
	out := map[string]any{"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
	status := http.StatusOK
	if len(missing) > 0 {
		status = http.StatusMultiStatus
		out["numErrors"] = 1
		out["errors"] = []map[string]any{{"status": "error", "category": "OBJECT_NOT_FOUND",
			"message": "Could not get some " + typ + " objects, they may be deleted or not exist. Check that ids are valid.",
			"context": map[string][]string{"ids": missing}}}
	}
	writeJSON(w, status, out)
}

// listObjects is GET /crm/objects/{version}/{type}: a page of the type's
// records in id order (limit up to 100, default 10), archived ones alone
// with archived=true, paged by an opaque after (here, the last id read).
// Orders are listed too, with the orders' read scope.
func (s *Server) listObjects(w http.ResponseWriter, r *http.Request) {
	typ := orderType(r.PathValue("type"))
	s.calls.Add("list:" + typ)
	var p *portal
	if typ == "orders" {
		p, _ = s.orderReadAccess(w, r, r.PathValue("type"))
	} else {
		p, _ = s.pulledAccess(w, r, typ)
	}
	if p == nil {
		return
	}
	q := r.URL.Query()
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "limit must be between 1 and 100")
			return
		}
		limit = n
	}
	after := q.Get("after")
	s.mu.Lock()
	var page []map[string]any
	more := false
	if q.Get("archived") == "true" {
		for _, a := range s.archivedList(p, typ) {
			if after != "" && compareIDs(a.id, after) <= 0 {
				continue
			}
			if len(page) == limit {
				more = true
				break
			}
			page = append(page, a.json())
		}
	} else {
		for _, id := range p.live(typ) {
			if after != "" && compareIDs(id, after) <= 0 {
				continue
			}
			if len(page) == limit {
				more = true
				break
			}
			obj, _ := s.objectJSON(p, typ, id, splitList(q["properties"]))
			page = append(page, obj)
		}
	}
	s.mu.Unlock()
	out := map[string]any{"results": nonNil(page)}
	if more {
		last := page[len(page)-1]["id"].(string)
		out["paging"] = map[string]any{"next": map[string]any{"after": last}}
	}
	writeJSON(w, http.StatusOK, out)
}

// Association type ids HubSpot defines: a deal to its primary company 5,
// to a company unlabeled 341, to a contact 3.
const (
	DealToPrimaryCompany = 5
	DealToCompany        = 341
	DealToContact        = 3
)

// readAssociations is POST /crm/associations/{version}/{from}/{to}/batch/
// read: each input id's associated records of type to. At most 1,000 ids
// a request (changelog, "Batch read limit for associations API"). The
// emulator serves deals to companies and to contacts, and orders to deals
// and to line items (orders.go); an input with none is left out of the
// results (assumed).
func (s *Server) readAssociations(w http.ResponseWriter, r *http.Request) {
	from, to := orderType(r.PathValue("from")), r.PathValue("to")
	s.calls.Add("associations:read:" + from + ":" + to)
	var p *portal
	var scopes []string
	if from == "orders" {
		p, scopes = s.orderReadAccess(w, r, r.PathValue("from"))
	} else {
		p, scopes = s.pulledAccess(w, r, from)
	}
	if p == nil {
		return
	}
	pair := from + "/" + to
	if pair != "deals/companies" && pair != "deals/contacts" && pair != "orders/deals" && pair != "orders/line_items" {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("associations from %s to %s are not served by this emulator", from, to))
		return
	}
	// Reading associations needs read access to both types (assumed).
	toScope := pulledTypes[to]
	if to == "line_items" {
		toScope = "crm.objects.line_items.read"
	}
	if !slices.Contains(scopes, toScope) {
		missingScopes(w, toScope)
		return
	}
	var body struct {
		Inputs []struct {
			ID string `json:"id"`
		} `json:"inputs"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON on line 1: "+err.Error())
		return
	}
	if n := len(body.Inputs); n == 0 || n > 1000 {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("inputs: %d given, from 1 to 1000 allowed", n))
		return
	}
	s.mu.Lock()
	results := []map[string]any{}
	for _, in := range body.Inputs {
		if from == "orders" {
			if list := p.orderAssociations(in.ID, to); len(list) > 0 {
				results = append(results, map[string]any{"from": map[string]string{"id": in.ID}, "to": list})
			}
			continue
		}
		d, ok := p.deals[in.ID]
		if !ok {
			continue
		}
		var list []map[string]any
		if to == "companies" {
			for i, id := range d.CompanyIDs {
				if _, live := p.companies[id]; !live {
					continue
				}
				types := []map[string]any{{"category": "HUBSPOT_DEFINED", "typeId": DealToCompany, "label": nil}}
				if i == 0 {
					types = append(types, map[string]any{"category": "HUBSPOT_DEFINED", "typeId": DealToPrimaryCompany, "label": "Primary"})
				}
				n, _ := strconv.ParseInt(id, 10, 64)
				list = append(list, map[string]any{"toObjectId": n, "associationTypes": types})
			}
			// Listed in id order: the primary one need not come first.
			slices.SortFunc(list, func(x, y map[string]any) int { return cmpInt(x["toObjectId"].(int64), y["toObjectId"].(int64)) })
		} else {
			for _, id := range d.ContactIDs {
				if _, live := p.contacts[id]; !live {
					continue
				}
				n, _ := strconv.ParseInt(id, 10, 64)
				list = append(list, map[string]any{"toObjectId": n,
					"associationTypes": []map[string]any{{"category": "HUBSPOT_DEFINED", "typeId": DealToContact, "label": nil}}})
			}
		}
		if len(list) > 0 {
			results = append(results, map[string]any{"from": map[string]string{"id": in.ID}, "to": list})
		}
	}
	s.mu.Unlock()
	now := stamp(s.Now())
	writeJSON(w, http.StatusOK, map[string]any{"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now})
}

// accountDetails is GET /account-info/v3/details: the portal's id, time
// zone and currencies.
func (s *Server) accountDetails(w http.ResponseWriter, r *http.Request) {
	s.calls.Add("account-info")
	a, ok := s.bearer(w, r)
	if !ok {
		return
	}
	p := a.Grant.user.portal
	if !s.limit(w, p) {
		return
	}
	s.mu.Lock()
	cur := slices.Clone(p.currencies)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"portalId": p.ID, "accountType": "STANDARD", "timeZone": "US/Eastern",
		"companyCurrency": cur[0], "additionalCurrencies": nonNilStrings(cur[1:]), "utcOffset": "-05:00", "dataHostingLocation": "na1"})
}

func nonNilStrings(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// baseOnProduct: a line item created with hs_product_id is based on that
// product (line items guide): the product's name, price, SKU and
// description fill those the line item does not set. s.mu is held.
func (p *portal) baseOnProduct(values map[string]string) {
	pr, ok := p.products[values["hs_product_id"]]
	if !ok {
		return
	}
	for _, name := range []string{"name", "price", "hs_sku", "description"} {
		if _, set := values[name]; !set && pr.Properties[name] != "" {
			values[name] = pr.Properties[name]
		}
	}
}

// ProductOf returns the product a line item is based on ("" for none).
func (s *Server) ProductOf(portalID int64, lineItemID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if li := s.mustPortal(portalID).lineItems[lineItemID]; li != nil {
		return li.props["hs_product_id"]
	}
	return ""
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
