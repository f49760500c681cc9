package hstest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// Orders, HubSpot's commerce object, as the orders API guide describes it:
// POST /crm/objects/2026-03/order (the v3 path /crm/v3/objects/order; the
// object type is also named "orders" and 0-123) creates an order from its
// properties and associations, given inline with the create (order to deal
// 512, order to line item 513, HUBSPOT_DEFINED); PATCH .../order/{id}
// updates one; reads are the objects API's (GET by id, batch/read,
// search) and the associations' batch read from orders to deals and to
// line items (pulling's, pull.go). An order's stage is hs_pipeline_stage, a stage of the order
// pipeline hs_pipeline: every account has the default order pipeline
// (OrderPipeline) with the stages Open, Processed, Shipped, Delivered and
// Cancelled (OrderStages), by their internal ids. Its line items are line
// item records whose parent is the order: a line item belongs to one
// parent, so one already under a deal or another order is refused. Scopes:
// crm.objects.orders.read to read, crm.objects.orders.write to create and
// update; reading a deal's orders (the associations API v4) takes the
// deals' read scope and the orders'.
//
// Assumed where the guide is silent: hs_order_name and hs_pipeline_stage
// are required on create (a stage-tracked object has one, as tickets'
// hs_pipeline_stage), hs_pipeline defaults to the default order pipeline;
// hs_currency_code must be one of the account's currencies; the wording
// and categories of the 400s; an account without the orders object
// (Portal.NoOrders, an account whose commerce objects are not available)
// answers every order call as for an unknown object type, 404 "Unable to
// infer object type from: order"; no limit on the number of inline
// associations of a create.

// The orders' scopes, pipeline and association types.
const (
	OrderReadScope  = "crm.objects.orders.read"
	OrderWriteScope = "crm.objects.orders.write"
	// OrderPipeline is the default order pipeline's id.
	OrderPipeline = "14a2e10e-5471-408a-906e-c51f3b04369e"
	// OrderToDeal, OrderToLineItem and DealToOrder are HUBSPOT_DEFINED
	// association types.
	OrderToDeal     = 512
	OrderToLineItem = 513
	DealToOrder     = 511
)

// OrderStage is a stage of the default order pipeline.
type OrderStage struct{ ID, Label string }

// OrderStages are the default order pipeline's stages, in their order.
var OrderStages = []OrderStage{
	{"4b27b500-f031-4927-9811-68a0b525cbae", "Open"},
	{"937ea84d-0a4f-4dcf-9028-3f9c2aafbf03", "Processed"},
	{"aa99e8d0-c1d5-4071-b915-d240bbb1aed9", "Shipped"},
	{"3725360f-519b-4b18-a593-494d60a29c9f", "Delivered"},
	{"3c85a297-e9ce-400b-b42e-9f16853d69d6", "Cancelled"},
}

// Order is an order record: its properties as HubSpot stores them, the
// deals and line items it is associated with.
type Order struct {
	ID          string
	Properties  map[string]string
	DealIDs     []string
	LineItemIDs []string
}

// orderProps are the order properties the emulator knows: writable ones,
// and calculated ones (read-only).
var orderProps = map[string]bool{
	"hs_order_name": true, "hs_currency_code": true, "hs_total_price": true, "hs_subtotal_price": true,
	"hs_tax": true, "hs_shipping_cost": true, "hs_order_discount": true, "hs_pipeline": true, "hs_pipeline_stage": true,
	"hs_external_order_id": true, "hs_source_store": true, "hs_fulfillment_status": true, "hs_order_note": true,
	"hs_external_created_date": true, "hs_payment_status": true,
	"hs_object_id": false, "createdate": false, "hs_lastmodifieddate": false, "hs_homecurrency_amount": false,
}

var orderNumberProps = map[string]bool{"hs_total_price": true, "hs_subtotal_price": true, "hs_tax": true,
	"hs_shipping_cost": true, "hs_order_discount": true}

// orderType names an object type the way the orders API takes it ("order",
// "orders", "0-123") as "orders"; any other type as it is.
func orderType(t string) string {
	switch t {
	case "order", "orders", "0-123":
		return "orders"
	}
	return t
}

// noOrders answers a type HubSpot does not know (or an account without
// orders).
func noOrders(w http.ResponseWriter, typ string) {
	apiError(w, http.StatusNotFound, "", "Unable to infer object type from: "+typ)
}

// associations lists an order's associations as a read shows them.
func (o *Order) associations() map[string][]map[string]string {
	out := map[string][]map[string]string{}
	for _, id := range o.DealIDs {
		out["deals"] = append(out["deals"], map[string]string{"id": id, "type": "order_to_deal"})
	}
	for _, id := range o.LineItemIDs {
		out["line_items"] = append(out["line_items"], map[string]string{"id": id, "type": "order_to_line_item"})
	}
	return out
}

// orderPortal authenticates an order call and answers its refusals:
// the type, the limit, an account without orders, the scope.
func (s *Server) orderPortal(w http.ResponseWriter, r *http.Request, scope string) (*portal, bool) {
	typ := r.PathValue("type")
	a, ok := s.bearer(w, r)
	if !ok {
		return nil, false
	}
	p := a.Grant.user.portal
	if !s.limit(w, p) {
		return nil, false
	}
	if orderType(typ) != "orders" || p.NoOrders {
		noOrders(w, typ)
		return nil, false
	}
	if !scoped(w, a.Grant.scopes, scope) {
		return nil, false
	}
	return p, true
}

// checkOrderProps validates the properties written to an order; merged is
// the order's properties once written. s.mu is held.
func (p *portal) checkOrderProps(values, merged map[string]string) *inputError {
	for _, name := range slices.Sorted(maps.Keys(values)) {
		v := values[name]
		writable, builtin := orderProps[name]
		_, custom := p.properties["orders"][name]
		switch {
		case !builtin && !custom:
			return propertyError(name, "PROPERTY_DOESNT_EXIST", fmt.Sprintf("Property \"%s\" does not exist", name))
		case builtin && !writable:
			return propertyError(name, "READ_ONLY_VALUE", fmt.Sprintf("%s is a read only property; its value cannot be set.", name))
		case orderNumberProps[name] && v != "":
			if _, err := decimal.NewFromString(v); err != nil {
				return propertyError(name, "INVALID_FLOAT", fmt.Sprintf("%s was not a valid number", v))
			}
		case name == "hs_currency_code" && v != "" && !slices.Contains(p.currencies, v):
			return propertyError(name, "INVALID_OPTION", fmt.Sprintf("%s is not one of the account's currencies", v))
		}
	}
	for _, name := range []string{"hs_order_name", "hs_pipeline_stage"} {
		if merged[name] == "" {
			return propertyError(name, "REQUIRED_FIELD", name+" is required")
		}
	}
	if merged["hs_pipeline"] != OrderPipeline {
		return propertyError("hs_pipeline", "INVALID_OPTION", fmt.Sprintf("%s is not an order pipeline", merged["hs_pipeline"]))
	}
	if !slices.ContainsFunc(OrderStages, func(st OrderStage) bool { return st.ID == merged["hs_pipeline_stage"] }) {
		return propertyError("hs_pipeline_stage", "INVALID_OPTION",
			fmt.Sprintf("%s is not a stage of the pipeline %s", merged["hs_pipeline_stage"], merged["hs_pipeline"]))
	}
	return nil
}

// createOrder is POST /crm/objects/2026-03/order.
func (s *Server) createOrder(w http.ResponseWriter, r *http.Request) {
	s.calls.Add("create:" + orderType(r.PathValue("type")))
	p, ok := s.orderPortal(w, r, OrderWriteScope)
	if !ok {
		return
	}
	var body struct {
		Properties   map[string]any    `json:"properties"`
		Associations []inputAssociated `json:"associations"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<20)).Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON on line 1: "+err.Error())
		return
	}
	values := props(body.Properties)
	merged := maps.Clone(values)
	if merged["hs_pipeline"] == "" {
		merged["hs_pipeline"] = OrderPipeline
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ie := p.checkOrderProps(values, merged); ie != nil {
		apiError(w, ie.status, ie.category, ie.message)
		return
	}
	o := &Order{Properties: merged}
	for _, as := range body.Associations {
		for _, t := range as.Types {
			id := as.To.ID
			switch {
			case t.AssociationCategory != "HUBSPOT_DEFINED":
				apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("association category %q is not served by this emulator", t.AssociationCategory))
				return
			case t.AssociationTypeID == OrderToDeal:
				if _, ok := p.deals[id]; !ok {
					apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "One or more associations are invalid: deal "+id+" was not found")
					return
				}
				o.DealIDs = append(o.DealIDs, id)
			case t.AssociationTypeID == OrderToLineItem:
				li := p.lineItems[id]
				switch {
				case li == nil || li.archived:
					apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "One or more associations are invalid: line item "+id+" was not found")
					return
				case li.deal != "" || li.order != "" || slices.Contains(o.LineItemIDs, id):
					apiError(w, http.StatusBadRequest, "VALIDATION_ERROR",
						"Line item "+id+" already has a parent object; a line item can only be associated with one parent object")
					return
				}
				o.LineItemIDs = append(o.LineItemIDs, id)
			default:
				apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("association type %d is not served by this emulator", t.AssociationTypeID))
				return
			}
		}
	}
	now := s.Now()
	o.ID = p.newID()
	for _, id := range o.LineItemIDs {
		li := p.lineItems[id]
		p.lineItems[id] = &lineItem{id: li.id, props: li.props, order: o.ID, created: li.created, updated: now}
	}
	if p.orders == nil {
		p.orders = map[string]*Order{}
	}
	p.orders[o.ID] = o
	p.touch("orders", o.ID, now)
	writeJSON(w, http.StatusCreated, orderJSON(o, nil, now))
}

// updateOrder is PATCH /crm/objects/2026-03/order/{id}.
func (s *Server) updateOrder(w http.ResponseWriter, r *http.Request) {
	s.calls.Add("update:" + orderType(r.PathValue("type")))
	p, ok := s.orderPortal(w, r, OrderWriteScope)
	if !ok {
		return
	}
	var body struct {
		Properties map[string]any `json:"properties"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON on line 1: "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := p.orders[r.PathValue("id")]
	if o == nil {
		apiError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found")
		return
	}
	values := props(body.Properties)
	merged := maps.Clone(o.Properties)
	maps.Copy(merged, values)
	if ie := p.checkOrderProps(values, merged); ie != nil {
		apiError(w, ie.status, ie.category, ie.message)
		return
	}
	// Replaced, not changed in place.
	up := &Order{ID: o.ID, Properties: merged, DealIDs: o.DealIDs, LineItemIDs: o.LineItemIDs}
	p.orders[o.ID] = up
	now := s.Now()
	p.touch("orders", o.ID, now)
	writeJSON(w, http.StatusOK, orderJSON(up, nil, now))
}

// readOrder is one input of the orders' batch/read. s.mu is held.
func (p *portal) readOrder(id string, asked []string) (map[string]any, *inputError) {
	o := p.orders[id]
	if o == nil {
		return nil, &inputError{status: http.StatusNotFound, category: "OBJECT_NOT_FOUND", message: "resource not found: order " + id}
	}
	return map[string]any{"id": id, "properties": selectProperties(o.Properties, asked, objectTypes["orders"].defaults, id), "archived": false}, nil
}

// orderJSON is an order as the objects API answers a write.
func orderJSON(o *Order, asked []string, now time.Time) map[string]any {
	return map[string]any{"id": o.ID, "properties": selectProperties(o.Properties, asked, objectTypes["orders"].defaults, o.ID),
		"createdAt": createdStamp, "updatedAt": stamp(now), "archived": false}
}

// dealOrders is GET /crm/v4/objects/deals/{id}/associations/orders: the
// deal's orders, oldest first.
func (s *Server) dealOrders(w http.ResponseWriter, r *http.Request) {
	a, ok := s.bearer(w, r)
	if !ok {
		return
	}
	p := a.Grant.user.portal
	if !s.limit(w, p) {
		return
	}
	if p.NoOrders {
		noOrders(w, "orders")
		return
	}
	if !scoped(w, a.Grant.scopes, "crm.objects.deals.read") || !scoped(w, a.Grant.scopes, OrderReadScope) {
		return
	}
	deal := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := p.deals[deal]; !ok {
		apiError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found: deal "+deal)
		return
	}
	results := []map[string]any{}
	for _, id := range sortedIDs(p.orders) {
		if slices.Contains(p.orders[id].DealIDs, deal) {
			n, _ := strconv.ParseInt(id, 10, 64)
			results = append(results, map[string]any{"toObjectId": n,
				"associationTypes": []map[string]any{{"category": "HUBSPOT_DEFINED", "typeId": DealToOrder, "label": nil}}})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

// orderReadAccess authenticates a read of orders (typ as the path names
// them) and counts it against the account's limit; it answers and returns
// nil when refused: an account without orders, the orders' read scope.
func (s *Server) orderReadAccess(w http.ResponseWriter, r *http.Request, typ string) (*portal, []string) {
	a, ok := s.bearer(w, r)
	if !ok {
		return nil, nil
	}
	p := a.Grant.user.portal
	if !s.limit(w, p) {
		return nil, nil
	}
	if p.NoOrders {
		noOrders(w, typ)
		return nil, nil
	}
	if !scoped(w, a.Grant.scopes, OrderReadScope) {
		return nil, nil
	}
	return p, a.Grant.scopes
}

// orderAssociations are an order's live deals (order to deal) or line
// items (order to line item) as the associations' batch read lists them,
// in id order. s.mu is held.
func (p *portal) orderAssociations(id, to string) []map[string]any {
	o := p.orders[id]
	if o == nil {
		return nil
	}
	var ids []string
	typeID := OrderToDeal
	if to == "deals" {
		for _, d := range o.DealIDs {
			if _, live := p.deals[d]; live {
				ids = append(ids, d)
			}
		}
	} else {
		typeID = OrderToLineItem
		for _, l := range o.LineItemIDs {
			if li := p.lineItems[l]; li != nil && !li.archived && li.order == id {
				ids = append(ids, l)
			}
		}
	}
	slices.SortFunc(ids, compareIDs)
	var out []map[string]any
	for _, x := range ids {
		n, _ := strconv.ParseInt(x, 10, 64)
		out = append(out, map[string]any{"toObjectId": n,
			"associationTypes": []map[string]any{{"category": "HUBSPOT_DEFINED", "typeId": typeID, "label": nil}}})
	}
	return out
}

// PutOrder makes an order as a person (or another app) does in HubSpot:
// props as given (hs_pipeline defaulting to the default order pipeline),
// associated with dealIDs, with one line item under it for each of lines;
// modified now. It returns the order's id.
func (s *Server) PutOrder(portalID int64, props map[string]string, dealIDs []string, lines ...map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal(portalID)
	now := s.Now()
	o := &Order{ID: p.newID(), Properties: maps.Clone(props), DealIDs: slices.Clone(dealIDs)}
	if o.Properties["hs_pipeline"] == "" {
		o.Properties["hs_pipeline"] = OrderPipeline
	}
	for _, l := range lines {
		li := &lineItem{id: p.newID(), props: maps.Clone(l), order: o.ID, created: now, updated: now}
		p.lineItems[li.id] = li
		o.LineItemIDs = append(o.LineItemIDs, li.id)
	}
	if p.orders == nil {
		p.orders = map[string]*Order{}
	}
	p.orders[o.ID] = o
	p.touch("orders", o.ID, now)
	return o.ID
}

// SetOrderProperties changes an order's properties as an edit in HubSpot
// does (hs_pipeline_stage: moving it along its pipeline); modified now.
func (s *Server) SetOrderProperties(portalID int64, id string, props map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal(portalID)
	o := p.orders[id]
	if o == nil {
		panic("hstest: no order " + id)
	}
	merged := maps.Clone(o.Properties)
	maps.Copy(merged, props)
	p.orders[id] = &Order{ID: o.ID, Properties: merged, DealIDs: o.DealIDs, LineItemIDs: o.LineItemIDs}
	p.touch("orders", id, s.Now())
}

// Orders returns the orders associated with a deal, oldest first.
func (s *Server) Orders(portalID int64, dealID string) []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal(portalID)
	var out []Order
	for _, id := range sortedIDs(p.orders) {
		if o := p.orders[id]; slices.Contains(o.DealIDs, dealID) {
			out = append(out, Order{ID: o.ID, Properties: maps.Clone(o.Properties), DealIDs: slices.Clone(o.DealIDs),
				LineItemIDs: slices.Clone(o.LineItemIDs)})
		}
	}
	return out
}

// OrderLineItems returns the live line items whose parent is the order.
func (s *Server) OrderLineItems(portalID int64, orderID string) []LineItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal(portalID)
	var out []LineItem
	for _, id := range sortedIDs(p.lineItems) {
		if li := p.lineItems[id]; !li.archived && li.order == orderID {
			out = append(out, li.public())
		}
	}
	return out
}

// OrdersCreated counts every order a portal ever held.
func (s *Server) OrdersCreated(portalID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mustPortal(portalID).orders)
}

// SetNoOrders makes a portal one without the orders object (no: true) or
// with it.
func (s *Server) SetNoOrders(portalID int64, no bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustPortal(portalID).NoOrders = no
}
