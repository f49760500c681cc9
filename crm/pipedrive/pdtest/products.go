package pdtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// The product catalog through API v2 (ProductsApi of Pipedrive's v2
// reference): POST /api/v2/products (AddProductRequestBody: name, code,
// prices as [{currency, price}], "only one price per product per currency"),
// GET /api/v2/products/{id}, and GET /api/v2/products/search, which
// "searches all products by name, code and/or custom fields", takes term
// ("minimum 2 characters (or 1 if using exact_match)"), fields, exact_match
// ("only full exact matches against the given term are returned. It is not
// case sensitive") and limit (at most 500), and answers data.items[] of
// {result_score, item{id, type, name, code, ...}}. Scopes: products:full to
// create; products:read or products:full to read; search is "a wrapper of
// /v1/itemSearch with a narrower OAuth scope" (products:read, or
// search:read assumed). A search finds a product the moment it exists
// (assumed: the documentation says nothing of an index delay).

// Product is a product of a company's catalog.
type Product struct {
	ID          int64
	Name        string
	Code        string
	Description string
	// Updated is its update_time; zero shows the emulator's creation time.
	Updated time.Time
	// Prices are the product's price in each currency.
	Prices map[string]decimal.Decimal
	// Deleted products are not found, listed nor attached to deals.
	Deleted bool
}

// putProduct stores p, numbering it when its ID is 0. s.mu is held.
func (s *Server) putProduct(c *company, p Product) error {
	if p.ID == 0 {
		s.nextID++
		p.ID = s.nextID
	}
	if p.ID < 0 || strings.TrimSpace(p.Name) == "" {
		return fmt.Errorf("pdtest: product %d needs a positive id and a name", p.ID)
	}
	s.nextID = max(s.nextID, p.ID)
	stored := p
	stored.Prices = map[string]decimal.Decimal{}
	for k, v := range p.Prices {
		stored.Prices[k] = v
	}
	c.products[p.ID] = &stored
	return nil
}

// PutProduct adds or replaces a product of a company's catalog and returns
// its id (a new one when p.ID is 0).
func (s *Server) PutProduct(companyID int64, p Product) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustCompany(companyID)
	if p.ID == 0 {
		s.nextID++
		p.ID = s.nextID
	}
	if err := s.putProduct(c, p); err != nil {
		panic(err)
	}
	return p.ID
}

// Products returns a company's catalog, deleted products included, by id.
func (s *Server) Products(companyID int64) []Product {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Product
	for _, p := range s.mustCompany(companyID).products {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Product) int { return int(a.ID - b.ID) })
	return out
}

// addProduct is POST /api/v2/products.
func (s *Server) addProduct(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "products:full") {
		return
	}
	obj, ok := object(w, r)
	if !ok {
		return
	}
	c := &checker{path: "body"}
	name, _ := c.text(obj, "name", true)
	code, _ := c.text(obj, "code", false)
	prices := map[string]decimal.Decimal{}
	if raw, ok := c.get(obj, "prices", false); ok {
		var list []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			c.fail("body/prices must be array")
		}
		for i, p := range list {
			pc := &checker{path: "body/prices/" + strconv.Itoa(i)}
			cur, _ := pc.text(p, "currency", true)
			price, _ := pc.number(p, "price", true)
			if _, dup := prices[cur]; dup {
				pc.fail("Only one price per currency is allowed")
			}
			if pc.err != "" {
				c.fail("%s", pc.err)
			}
			prices[cur] = price
		}
	}
	if c.err == "" && strings.TrimSpace(name) == "" {
		c.fail("body/name must NOT have fewer than 1 characters")
	}
	if c.refused(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	p := Product{ID: s.nextID, Name: name, Code: code, Prices: prices}
	if err := s.putProduct(u.company, p); err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	successCreated(w, productJSON(u, u.company.products[p.ID]))
}

// product is GET /api/v2/products/{id}.
func (s *Server) product(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "products:read", "products:full") {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := u.company.products[id]
	if err != nil || !ok || p.Deleted {
		apiError(w, http.StatusNotFound, "Product not found")
		return
	}
	success(w, productJSON(u, p))
}

// searchProducts is GET /api/v2/products/search.
func (s *Server) searchProducts(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "products:read", "products:full", "search:read") {
		return
	}
	q := r.URL.Query()
	term := q.Get("term")
	exact := false
	switch q.Get("exact_match") {
	case "", "false":
	case "true":
		exact = true
	default:
		apiError(w, http.StatusBadRequest, "query/exact_match must be boolean")
		return
	}
	switch {
	case !q.Has("term"):
		apiError(w, http.StatusBadRequest, "query must have required property 'term'")
		return
	case exact && len([]rune(term)) < 1, !exact && len([]rune(term)) < 2:
		apiError(w, http.StatusBadRequest, "query/term must NOT have fewer than 2 characters")
		return
	}
	fields := []string{"name", "code"}
	if f := q.Get("fields"); f != "" {
		fields = nil
		for _, name := range strings.Split(f, ",") {
			switch name {
			case "name", "code", "custom_fields":
				fields = append(fields, name)
			default:
				apiError(w, http.StatusBadRequest, "query/fields must be equal to one of the allowed values")
				return
			}
		}
	}
	limit := 100
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			apiError(w, http.StatusBadRequest, "query/limit must be <= 500")
			return
		}
		limit = n
	}
	match := func(v string) bool {
		if v == "" {
			return false
		}
		if exact {
			return strings.EqualFold(v, term)
		}
		return strings.Contains(strings.ToLower(v), strings.ToLower(term))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []any{}
	for _, p := range s.sortedProducts(u.company) {
		if p.Deleted || len(items) == limit {
			continue
		}
		if (slices.Contains(fields, "name") && match(p.Name)) || (slices.Contains(fields, "code") && match(p.Code)) {
			items = append(items, map[string]any{"result_score": 1, "item": map[string]any{
				"id": p.ID, "type": "product", "name": p.Name, "code": p.Code, "visible_to": 3,
				"owner": map[string]any{"id": u.ID}, "custom_fields": []any{}}})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": map[string]any{"items": items},
		"additional_data": map[string]any{"next_cursor": nil}})
}

func (s *Server) sortedProducts(c *company) []*Product {
	out := make([]*Product, 0, len(c.products))
	for _, p := range c.products {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Product) int { return int(a.ID - b.ID) })
	return out
}

// productJSON is a product as v2 shows it.
func productJSON(u *user, p *Product) map[string]any {
	currencies := make([]string, 0, len(p.Prices))
	for c := range p.Prices {
		currencies = append(currencies, c)
	}
	slices.Sort(currencies)
	prices := []any{}
	for _, c := range currencies {
		prices = append(prices, map[string]any{"product_id": p.ID, "price": number(p.Prices[c]), "currency": c,
			"cost": 0, "direct_cost": nil, "notes": ""})
	}
	return map[string]any{
		"id": p.ID, "name": p.Name, "code": p.Code, "description": p.Description, "unit": "", "tax": 0, "category": nil,
		"is_linkable": true, "is_deleted": p.Deleted, "visible_to": 3, "owner_id": u.ID,
		"add_time": created.Format(time.RFC3339), "update_time": stamp(p.Updated),
		"billing_frequency": "one-time", "billing_frequency_cycles": nil, "prices": prices, "custom_fields": map[string]any{},
	}
}
