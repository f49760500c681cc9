package pdtest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Deal products through API v2 (DealProducts reference and the changelog
// "Introducing new Deal Products bulk operations API", October 2025):
//
//   - GET /api/v2/deals/{id}/products: the deal's products, cursor-paged,
//     limit 100 by default and at most 500, sorted by id;
//   - POST /api/v2/deals/{id}/products: one product (NewDealProductRequest
//     Body: product_id, item_price and quantity required; tax, comments,
//     discount, discount_type percentage|amount, is_enabled optional);
//   - POST /api/v2/deals/{id}/products/bulk: {"data": [...]} of such
//     products, "maximum of 100 products allowed per request", 201 with the
//     created ones in order;
//   - PATCH and DELETE /api/v2/deals/{id}/products/{product_attachment_id};
//   - DELETE /api/v2/deals/{id}/products?ids=1,2: "a maximum of 100 product
//     IDs"; without ids "all deal products will be deleted up to 100 items",
//     answering data.ids and additional_data.more_items_in_collection.
//
// Scopes: listing needs products:read or products:full, writing
// products:full ("add products to deals"). A bulk add is all or nothing,
// and ids of another deal in a bulk delete are skipped (both assumed). A
// deal product's sum is quantity × item_price less its discount, tax left
// out (assumed: Qwoty sends no tax); its currency is the deal's.

// DealProduct is a product attached to a deal.
type DealProduct struct {
	ID        int64
	DealID    int64
	ProductID int64
	// Name is the product's name, as Pipedrive shows it (read only).
	Name      string
	ItemPrice decimal.Decimal
	Quantity  decimal.Decimal
	Discount  decimal.Decimal
	// DiscountType is "percentage" (when empty) or "amount".
	DiscountType string
	Tax          decimal.Decimal
	Comments     string
	// Disabled products are kept out of the deal's value.
	Disabled bool
}

// Sum is what the deal product adds to its deal's value.
func (p DealProduct) Sum() decimal.Decimal {
	gross := p.Quantity.Mul(p.ItemPrice)
	if p.DiscountType == "amount" {
		return gross.Sub(p.Discount)
	}
	return gross.Sub(gross.Mul(p.Discount).Div(decimal.NewFromInt(100)))
}

// maxBulk is the documented maximum of products per bulk request.
const maxBulk = 100

// DealProducts returns the products attached to a deal of a company, in
// the order they were added.
func (s *Server) DealProducts(companyID, dealID int64) []DealProduct {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []DealProduct
	for _, p := range s.mustCompany(companyID).dealProducts[dealID] {
		out = append(out, *p)
	}
	return out
}

// PutDealProduct attaches a product to a deal as a person does in
// Pipedrive, and returns its id. The deal's value follows.
func (s *Server) PutDealProduct(companyID, dealID int64, p DealProduct) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustCompany(companyID)
	prod, ok := c.products[p.ProductID]
	if _, deal := c.deals[dealID]; !deal || !ok {
		panic("pdtest: PutDealProduct: no such deal or product")
	}
	s.nextID++
	p.ID, p.DealID, p.Name = s.nextID, dealID, prod.Name
	c.dealProducts[dealID] = append(c.dealProducts[dealID], &p)
	s.revalue(c, dealID)
	return p.ID
}

// revalue makes a deal's value the sum of its enabled products, as a
// change of its products does in Pipedrive. s.mu is held.
func (s *Server) revalue(c *company, dealID int64) {
	d, ok := c.deals[dealID]
	if !ok {
		return
	}
	sum, some := decimal.Zero, false
	for _, p := range c.dealProducts[dealID] {
		if !p.Disabled {
			sum, some = sum.Add(p.Sum()), true
		}
	}
	if some {
		d.Value = sum.String()
		c.deals[dealID] = d
	}
}

// listDealProducts is GET /api/v2/deals/{id}/products.
func (s *Server) listDealProducts(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "products:read", "products:full") {
		return
	}
	q := r.URL.Query()
	limit := 100
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			apiError(w, http.StatusBadRequest, "query/limit must be <= 500")
			return
		}
		limit = n
	}
	after := int64(0)
	if cur := q.Get("cursor"); cur != "" {
		b, err := base64.RawURLEncoding.DecodeString(cur)
		id, perr := strconv.ParseInt(strings.TrimPrefix(string(b), "id:"), 10, 64)
		if err != nil || perr != nil {
			apiError(w, http.StatusBadRequest, "Invalid cursor")
			return
		}
		after = id
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.findDeal(u, r.PathValue("id"))
	if !ok {
		apiError(w, http.StatusNotFound, "Deal not found")
		return
	}
	list := slices.Clone(u.company.dealProducts[d.ID])
	slices.SortFunc(list, func(a, b *DealProduct) int { return int(a.ID - b.ID) })
	data := []any{}
	var next any
	for _, p := range list {
		if p.ID <= after {
			continue
		}
		if len(data) == limit {
			next = base64.RawURLEncoding.EncodeToString([]byte("id:" + strconv.FormatInt(p.ID-1, 10)))
			break
		}
		data = append(data, dealProductJSON(d, p))
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": data, "additional_data": map[string]any{"next_cursor": next}})
}

// readDealProduct checks one deal product of a request body; a new one
// needs product_id, item_price and quantity. It sets the fields given.
func readDealProduct(c *checker, obj map[string]json.RawMessage, p *DealProduct, isNew bool) {
	if v, ok := c.integer(obj, "product_id", isNew); ok {
		p.ProductID = v
	}
	if v, ok := c.number(obj, "item_price", isNew); ok {
		p.ItemPrice = v
	}
	if v, ok := c.number(obj, "quantity", isNew); ok {
		p.Quantity = v
	}
	if v, ok := c.number(obj, "discount", false); ok {
		p.Discount = v
	}
	if v, ok := c.oneOf(obj, "discount_type", "percentage", "amount"); ok {
		p.DiscountType = v
	}
	if v, ok := c.number(obj, "tax", false); ok {
		p.Tax = v
	}
	if v, ok := c.text(obj, "comments", false); ok {
		p.Comments = v
	}
	if v, ok := c.boolean(obj, "is_enabled"); ok {
		p.Disabled = !v
	}
	c.oneOf(obj, "tax_method", "exclusive", "inclusive", "none")
}

// attach adds checked products to a deal and answers them. s.mu is held.
func (s *Server) attach(w http.ResponseWriter, u *user, d Deal, ps []*DealProduct) ([]any, bool) {
	c := u.company
	for _, p := range ps {
		prod, ok := c.products[p.ProductID]
		if !ok || prod.Deleted {
			// Assumed status and wording.
			apiError(w, http.StatusNotFound, "Product not found")
			return nil, false
		}
		p.Name = prod.Name
	}
	out := make([]any, 0, len(ps))
	for _, p := range ps {
		s.nextID++
		p.ID, p.DealID = s.nextID, d.ID
		c.dealProducts[d.ID] = append(c.dealProducts[d.ID], p)
	}
	s.revalue(c, d.ID)
	d = c.deals[d.ID]
	for _, p := range ps {
		out = append(out, dealProductJSON(d, p))
	}
	return out, true
}

// addDealProduct is POST /api/v2/deals/{id}/products.
func (s *Server) addDealProduct(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "products:full") {
		return
	}
	obj, ok := object(w, r)
	if !ok {
		return
	}
	p := &DealProduct{}
	c := &checker{path: "body"}
	readDealProduct(c, obj, p, true)
	if c.refused(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.findDeal(u, r.PathValue("id"))
	if !ok {
		apiError(w, http.StatusNotFound, "Deal not found")
		return
	}
	if out, ok := s.attach(w, u, d, []*DealProduct{p}); ok {
		successCreated(w, out[0])
	}
}

// addDealProducts is POST /api/v2/deals/{id}/products/bulk.
func (s *Server) addDealProducts(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "products:full") {
		return
	}
	obj, ok := object(w, r)
	if !ok {
		return
	}
	c := &checker{path: "body"}
	raw, _ := c.get(obj, "data", true)
	var items []map[string]json.RawMessage
	if c.err == "" && json.Unmarshal(raw, &items) != nil {
		c.fail("body/data must be array")
	}
	switch {
	case c.err != "":
	case len(items) > maxBulk:
		c.fail("body/data must NOT have more than %d items", maxBulk)
	case len(items) == 0:
		c.fail("body/data must NOT have fewer than 1 items")
	}
	ps := make([]*DealProduct, len(items))
	for i, it := range items {
		ps[i] = &DealProduct{}
		ic := &checker{path: "body/data/" + strconv.Itoa(i)}
		if it == nil {
			ic.fail("%s must be object", ic.path)
		} else {
			readDealProduct(ic, it, ps[i], true)
		}
		if ic.err != "" {
			c.fail("%s", ic.err)
		}
	}
	if c.refused(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.findDeal(u, r.PathValue("id"))
	if !ok {
		apiError(w, http.StatusNotFound, "Deal not found")
		return
	}
	if out, ok := s.attach(w, u, d, ps); ok {
		successCreated(w, out)
	}
}

// findDealProduct finds the deal and its product of the path. s.mu is held.
func (s *Server) findDealProduct(w http.ResponseWriter, r *http.Request, u *user) (Deal, int, bool) {
	d, ok := s.findDeal(u, r.PathValue("id"))
	if !ok {
		apiError(w, http.StatusNotFound, "Deal not found")
		return Deal{}, 0, false
	}
	id, err := strconv.ParseInt(r.PathValue("attachment"), 10, 64)
	i := slices.IndexFunc(u.company.dealProducts[d.ID], func(p *DealProduct) bool { return p.ID == id })
	if err != nil || i < 0 {
		// Assumed wording.
		apiError(w, http.StatusNotFound, "Deal product not found")
		return Deal{}, 0, false
	}
	return d, i, true
}

// updateDealProduct is PATCH /api/v2/deals/{id}/products/{attachment}.
func (s *Server) updateDealProduct(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "products:full") {
		return
	}
	obj, ok := object(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, i, ok := s.findDealProduct(w, r, u)
	if !ok {
		return
	}
	cur := u.company.dealProducts[d.ID][i]
	next := *cur
	c := &checker{path: "body"}
	readDealProduct(c, obj, &next, false)
	if c.refused(w) {
		return
	}
	prod, ok := u.company.products[next.ProductID]
	if !ok || prod.Deleted {
		apiError(w, http.StatusNotFound, "Product not found")
		return
	}
	next.Name = prod.Name
	*cur = next
	s.revalue(u.company, d.ID)
	success(w, dealProductJSON(u.company.deals[d.ID], cur))
}

// deleteDealProduct is DELETE /api/v2/deals/{id}/products/{attachment}.
func (s *Server) deleteDealProduct(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "products:full") {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, i, ok := s.findDealProduct(w, r, u)
	if !ok {
		return
	}
	list := u.company.dealProducts[d.ID]
	id := list[i].ID
	u.company.dealProducts[d.ID] = slices.Delete(slices.Clone(list), i, i+1)
	s.revalue(u.company, d.ID)
	success(w, map[string]any{"id": id})
}

// deleteDealProducts is DELETE /api/v2/deals/{id}/products.
func (s *Server) deleteDealProducts(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "products:full") {
		return
	}
	var ids []int64
	if raw := r.URL.Query().Get("ids"); raw != "" {
		for _, part := range strings.Split(raw, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil {
				apiError(w, http.StatusBadRequest, "query/ids must be a comma-separated list of integers")
				return
			}
			ids = append(ids, id)
		}
		if len(ids) > maxBulk {
			apiError(w, http.StatusBadRequest, "query/ids must NOT have more than 100 items")
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.findDeal(u, r.PathValue("id"))
	if !ok {
		apiError(w, http.StatusNotFound, "Deal not found")
		return
	}
	list := u.company.dealProducts[d.ID]
	var kept []*DealProduct
	deleted := []int64{}
	for _, p := range list {
		gone := slices.Contains(ids, p.ID)
		if ids == nil { // the documented default: up to 100 of the deal's products
			gone = len(deleted) < maxBulk
		}
		if gone {
			deleted = append(deleted, p.ID)
		} else {
			kept = append(kept, p)
		}
	}
	u.company.dealProducts[d.ID] = kept
	s.revalue(u.company, d.ID)
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": map[string]any{"ids": deleted},
		"additional_data": map[string]any{"more_items_in_collection": ids == nil && len(kept) > 0}})
}

// dealProductJSON is a deal product as v2 shows it (BaseDealProduct).
func dealProductJSON(d Deal, p *DealProduct) map[string]any {
	dt := p.DiscountType
	if dt == "" {
		dt = "percentage"
	}
	return map[string]any{
		"id": p.ID, "sum": number(p.Sum()), "tax": number(p.Tax), "deal_id": p.DealID, "name": p.Name,
		"product_id": p.ProductID, "product_variation_id": nil,
		"add_time": created.Format(time.RFC3339), "update_time": created.Format(time.RFC3339),
		"comments": p.Comments, "currency": d.Currency, "discount": number(p.Discount), "discount_type": dt,
		"quantity": number(p.Quantity), "item_price": number(p.ItemPrice), "tax_method": "none",
		"is_enabled": !p.Disabled, "billing_frequency": "one-time", "billing_frequency_cycles": nil, "billing_start_date": nil,
	}
}
