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

	"github.com/qwoty/companion/crm/emulator"
)

// The CRM objects' batch endpoints (create, read, update, upsert, archive),
// as HubSpot's API reference has them, under the date-versioned path
// (/crm/objects/2026-03/{objectType}/batch/...) and the v3 one. Line items
// are stored whole; deals take updates of their properties.

// MaxBatchInputs: "batch create/update/upsert ... up to 100 inputs"; more is
// a 400 for the whole request.
const MaxBatchInputs = 100

// DealStages are the internal ids of the stages of the default deal pipeline
// ("default") every account starts with.
var DealStages = []string{
	"appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
	"decisionmakerboughtin", "contractsent", "closedwon", "closedlost",
}

// LineItemToDeal is the HUBSPOT_DEFINED association type from a line item to
// a deal.
const LineItemToDeal = 20

// LineItem is a line item record: its properties as HubSpot stores them
// (strings) and the deal or the order it belongs to ("" for none).
type LineItem struct {
	ID         string
	Properties map[string]string
	DealID     string
	OrderID    string
}

// lineItemProps are the line item properties the emulator knows: writable
// ones, and calculated ones (read-only) that it fills itself.
var lineItemProps = map[string]bool{
	"name": true, "description": true, "quantity": true, "price": true, "hs_sku": true,
	"hs_discount_percentage": true, "discount": true, "hs_product_id": true,
	"hs_line_item_currency_code": true, "hs_recurring_billing_period": true,
	"recurringbillingfrequency": true, "hs_tax_rate_group_id": true,
	// Calculated.
	"amount": false, "hs_object_id": false, "createdate": false, "hs_lastmodifieddate": false,
}

// numberProps must hold numbers.
var numberProps = map[string]bool{"quantity": true, "price": true, "hs_discount_percentage": true, "discount": true, "amount": true}

// lineItem is a stored line item. s.mu guards it.
type lineItem struct {
	id    string
	props map[string]string
	deal  string
	// order is the order it belongs to ("" for none): a line item has one
	// parent, a deal or an order (orders.go).
	order    string
	archived bool
	created  time.Time
	updated  time.Time
}

// batchInput is one input of any batch endpoint: the fields each takes.
type batchInput struct {
	ID                 string            `json:"id"`
	IDProperty         string            `json:"idProperty"`
	Properties         map[string]any    `json:"properties"`
	ObjectWriteTraceID string            `json:"objectWriteTraceId"`
	Associations       []inputAssociated `json:"associations"`
}

type inputAssociated struct {
	To struct {
		ID string `json:"id"`
	} `json:"to"`
	Types []struct {
		AssociationCategory string `json:"associationCategory"`
		AssociationTypeID   int    `json:"associationTypeId"`
	} `json:"types"`
}

// inputError is one input's refusal: in a multi-status answer it is listed
// under errors; otherwise it fails the whole request.
type inputError struct {
	status   int
	category string
	message  string
	trace    string
	// whole: the refusal is of the request, not of the input (a bad
	// idProperty).
	whole bool
}

// propertyError is the message HubSpot gives invalid property values
// ("Property values were not valid: [...]", the error-handling guide's
// example), one entry per property.
func propertyError(name, code, msg string) *inputError {
	entry, _ := json.Marshal([]map[string]any{{
		"isValid": false, "message": msg, "error": code, "name": name, "localizedErrorMessage": msg,
	}})
	return &inputError{status: http.StatusBadRequest, category: "VALIDATION_ERROR",
		message: "Property values were not valid: " + string(entry)}
}

// batch is POST /crm/objects/{version}/{objectType}/batch/{operation}.
func (s *Server) batch(w http.ResponseWriter, r *http.Request) {
	typ, op := r.PathValue("type"), r.PathValue("op")
	if _, ok := pulledTypes[typ]; ok && op == "read" {
		s.batchRead(w, r, typ)
		return
	}
	s.calls.Add("batch:" + typ + ":" + op)
	a, ok := s.bearer(w, r)
	if !ok {
		return
	}
	p := a.Grant.user.portal
	if !s.limit(w, p) {
		return
	}
	typ = orderType(typ)
	if typ == "orders" && p.NoOrders {
		noOrders(w, r.PathValue("type"))
		return
	}
	scopes := map[string]string{"line_items": "crm.objects.line_items.write", "deals": "crm.objects.deals.write"}
	if op == "read" {
		scopes = map[string]string{"line_items": "crm.objects.line_items.read", "deals": "crm.objects.deals.read", "orders": OrderReadScope}
	}
	scope, known := scopes[typ]
	if !known || (typ == "deals" && op != "update" && op != "read") || (typ == "orders" && op != "read") {
		apiError(w, http.StatusNotFound, "", fmt.Sprintf("Unable to infer object type from: %s, or %s is not served by this emulator", typ, op))
		return
	}
	if !slices.Contains(a.Grant.scopes, scope) {
		missingScopes(w, scope)
		return
	}
	var body struct {
		Inputs     []batchInput `json:"inputs"`
		Properties []string     `json:"properties"`
		IDProperty string       `json:"idProperty"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<20)).Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON on line 1: "+err.Error())
		return
	}
	switch n := len(body.Inputs); {
	case n == 0:
		// Assumed wording.
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "inputs must not be empty")
		return
	case n > MaxBatchInputs:
		// The limit is documented; the wording is assumed.
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR",
			fmt.Sprintf("Too many inputs: %d. The maximum is %d inputs per batch.", n, MaxBatchInputs))
		return
	}
	// Multi-status (207) with per-input errors is what HubSpot answers when
	// every input carries an objectWriteTraceId (documented for batch
	// create; assumed for update and upsert, whose inputs take the same
	// field, unless MultiStatusCreateOnly); otherwise one bad input fails
	// the request and nothing is written.
	multi := op == "create" || !s.opts.MultiStatusCreateOnly
	for _, in := range body.Inputs {
		multi = multi && in.ObjectWriteTraceID != ""
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	// Inputs are applied in order, each seeing the ones before (two inputs
	// claiming one unique value conflict); a refusal of the whole request
	// puts everything back.
	before := p.snapshot()
	var results []map[string]any
	var errs []*inputError
	// missing are the ids a read did not find: listed together, as the
	// pulled types' batch read lists them (pull.go).
	var missing []string
	for _, in := range body.Inputs {
		var res map[string]any
		var ie *inputError
		switch {
		case typ == "deals" && op == "update":
			res, ie = s.updateDeal(p, in, now)
		case typ == "deals":
			res, ie = s.readDeal(p, in, body.Properties)
		case typ == "orders":
			res, ie = p.readOrder(in.ID, body.Properties)
		case op == "create":
			res, ie = s.createLineItem(p, in, now)
		case op == "update":
			res, ie = s.updateLineItem(p, in, body.IDProperty, now)
		case op == "upsert":
			res, ie = s.upsertLineItem(p, in, body.IDProperty, now)
		case op == "archive":
			p.archiveLineItem(in.ID)
		case op == "read":
			res, ie = s.readLineItem(p, in, body.IDProperty, body.Properties)
		default:
			p.restore(before)
			apiError(w, http.StatusNotFound, "", "no such batch operation: "+op)
			return
		}
		if ie != nil && typ == "line_items" && op == "read" && ie.category == "OBJECT_NOT_FOUND" {
			missing = append(missing, in.ID)
			continue
		}
		if ie != nil {
			ie.trace = in.ObjectWriteTraceID
			if !multi || ie.whole {
				p.restore(before)
				apiError(w, ie.status, ie.category, ie.message)
				return
			}
			errs = append(errs, ie)
			continue
		}
		if res != nil {
			results = append(results, res)
		}
	}
	if op == "archive" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	status := http.StatusOK
	if op == "create" {
		status = http.StatusCreated
	}
	stamp := now.UTC().Format("2006-01-02T15:04:05.000Z")
	out := map[string]any{"status": "COMPLETE", "results": nonNil(results), "startedAt": stamp, "completedAt": stamp}
	if len(errs) > 0 || len(missing) > 0 {
		status = http.StatusMultiStatus
		list := make([]map[string]any, 0, len(errs)+1)
		for _, e := range errs {
			list = append(list, map[string]any{"status": "error", "category": e.category, "message": e.message,
				"context": map[string][]string{"objectWriteTraceId": {e.trace}}})
		}
		if len(missing) > 0 {
			list = append(list, map[string]any{"status": "error", "category": "OBJECT_NOT_FOUND",
				"message": "Could not get some " + typ + " objects, they may be deleted or not exist. Check that ids are valid.",
				"context": map[string][]string{"ids": missing}})
		}
		out["numErrors"], out["errors"] = len(list), list
	}
	writeJSON(w, status, out)
}

func nonNil(v []map[string]any) []map[string]any {
	if v == nil {
		return []map[string]any{}
	}
	return v
}

// props reads an input's properties as HubSpot stores them: strings, with
// numbers and booleans written as text.
func props(in map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range in {
		switch x := v.(type) {
		case nil:
			out[k] = ""
		case string:
			out[k] = x
		case float64:
			out[k] = strconv.FormatFloat(x, 'f', -1, 64)
		case bool:
			out[k] = strconv.FormatBool(x)
		default:
			b, _ := json.Marshal(x)
			out[k] = string(b)
		}
	}
	return out
}

// checkLineItemProps validates the values of a line item input. s.mu is held.
func (s *Server) checkLineItemProps(p *portal, values map[string]string) *inputError {
	for _, name := range slices.Sorted(maps.Keys(values)) {
		v := values[name]
		writable, builtin := lineItemProps[name]
		_, custom := p.properties["line_items"][name]
		switch {
		case !builtin && !custom:
			return propertyError(name, "PROPERTY_DOESNT_EXIST", fmt.Sprintf("Property \"%s\" does not exist", name))
		case builtin && !writable:
			// Assumed wording: calculated properties are read-only.
			return propertyError(name, "READ_ONLY_VALUE", fmt.Sprintf("%s is a read only property; its value cannot be set.", name))
		case name == "hs_product_id" && v != "":
			if _, ok := p.products[v]; !ok {
				// Assumed wording: a line item is based on a live product.
				return propertyError(name, "INVALID_OBJECT_ID", fmt.Sprintf("No product with ID %s exists", v))
			}
		case numberProps[name] && v != "":
			d, err := decimal.NewFromString(v)
			if err != nil {
				return propertyError(name, "INVALID_FLOAT", fmt.Sprintf("%s was not a valid number", v))
			}
			// "The price specified within the properties field cannot be
			// negative" (line items guide); the wording is assumed.
			if name == "price" && d.IsNegative() {
				return propertyError(name, "INVALID_FLOAT", fmt.Sprintf("Price cannot be negative: %s", v))
			}
		}
	}
	return nil
}

// uniqueOwner returns the live line item holding value in a unique
// property, "" when none does. s.mu is held.
func (p *portal) uniqueOwner(prop, value string) string {
	if value == "" {
		return ""
	}
	for id, li := range p.lineItems {
		if !li.archived && li.props[prop] == value {
			return id
		}
	}
	return ""
}

// uniqueConflict refuses values that another live line item holds in a
// hasUniqueValue property. The category and wording are assumed. s.mu is
// held.
func (p *portal) uniqueConflict(self string, values map[string]string) *inputError {
	for name, def := range p.properties["line_items"] {
		if !def.HasUniqueValue {
			continue
		}
		if owner := p.uniqueOwner(name, values[name]); owner != "" && owner != self {
			return &inputError{status: http.StatusConflict, category: "CONFLICT",
				message: fmt.Sprintf("A line_items record with %s=%s already exists. Existing ID: %s", name, values[name], owner)}
		}
	}
	return nil
}

// dealOf reads the deal an input's associations name: line items belong to
// one single parent object (line items guide), so two deals are refused.
// s.mu is held.
func (p *portal) dealOf(in batchInput) (string, *inputError) {
	deal := ""
	for _, as := range in.Associations {
		for _, t := range as.Types {
			if t.AssociationTypeID != LineItemToDeal || (t.AssociationCategory != "" && t.AssociationCategory != "HUBSPOT_DEFINED") {
				return "", &inputError{status: http.StatusBadRequest, category: "VALIDATION_ERROR",
					message: fmt.Sprintf("association type %d (%s) is not served by this emulator", t.AssociationTypeID, t.AssociationCategory)}
			}
		}
		if _, ok := p.deals[as.To.ID]; !ok {
			return "", &inputError{status: http.StatusBadRequest, category: "VALIDATION_ERROR",
				message: fmt.Sprintf("No deal with ID %s exists to associate with", as.To.ID)}
		}
		if deal != "" && deal != as.To.ID {
			return "", &inputError{status: http.StatusBadRequest, category: "VALIDATION_ERROR",
				message: "A line item can only be associated with one parent object"}
		}
		deal = as.To.ID
	}
	return deal, nil
}

func (s *Server) createLineItem(p *portal, in batchInput, now time.Time) (map[string]any, *inputError) {
	values := props(in.Properties)
	if ie := s.checkLineItemProps(p, values); ie != nil {
		return nil, ie
	}
	if ie := p.uniqueConflict("", values); ie != nil {
		return nil, ie
	}
	deal, ie := p.dealOf(in)
	if ie != nil {
		return nil, ie
	}
	p.baseOnProduct(values)
	li := &lineItem{id: p.newID(), props: values, deal: deal, created: now, updated: now}
	p.lineItems[li.id] = li
	return li.json(nil), nil
}

func (s *Server) updateLineItem(p *portal, in batchInput, idProperty string, now time.Time) (map[string]any, *inputError) {
	id := in.ID
	if prop := cmpOr(in.IDProperty, idProperty); prop != "" && prop != "hs_object_id" {
		if ie := p.checkIDProperty(prop); ie != nil {
			return nil, ie
		}
		id = p.uniqueOwner(prop, in.ID)
	}
	li := p.lineItems[id]
	if li == nil || li.archived {
		return nil, &inputError{status: http.StatusNotFound, category: "OBJECT_NOT_FOUND", message: "resource not found"}
	}
	values := props(in.Properties)
	if ie := s.checkLineItemProps(p, values); ie != nil {
		return nil, ie
	}
	if ie := p.uniqueConflict(li.id, values); ie != nil {
		return nil, ie
	}
	merged := maps.Clone(li.props)
	maps.Copy(merged, values)
	// The stored record is replaced, not changed, so that a snapshot taken
	// before keeps the old one.
	p.lineItems[li.id] = &lineItem{id: li.id, props: merged, deal: li.deal, order: li.order, created: li.created, updated: now}
	return p.lineItems[li.id].json(nil), nil
}

// upsertLineItem is one input of batch/upsert: "Create or update records
// identified by a unique property value as specified by the idProperty",
// which must be a property whose values are unique. Its inputs take no
// associations: a record it creates belongs to no deal.
func (s *Server) upsertLineItem(p *portal, in batchInput, idProperty string, now time.Time) (map[string]any, *inputError) {
	prop := cmpOr(in.IDProperty, idProperty)
	if ie := p.checkIDProperty(prop); ie != nil {
		return nil, ie
	}
	if in.ID == "" {
		return nil, &inputError{status: http.StatusBadRequest, category: "VALIDATION_ERROR", message: "id is required"}
	}
	if owner := p.uniqueOwner(prop, in.ID); owner != "" {
		res, ie := s.updateLineItem(p, batchInput{ID: owner, Properties: in.Properties}, "", now)
		if res != nil {
			res["new"] = false
		}
		return res, ie
	}
	values := props(in.Properties)
	if v, ok := values[prop]; ok && v != in.ID {
		return nil, propertyError(prop, "INVALID_OPTION", fmt.Sprintf("%s is %q in the properties and %q as the id", prop, v, in.ID))
	}
	values[prop] = in.ID
	if ie := s.checkLineItemProps(p, values); ie != nil {
		return nil, ie
	}
	if ie := p.uniqueConflict("", values); ie != nil {
		return nil, ie
	}
	li := &lineItem{id: p.newID(), props: values, created: now, updated: now}
	p.lineItems[li.id] = li
	res := li.json(nil)
	res["new"] = true
	return res, nil
}

// checkIDProperty: idProperty must name a property with unique values
// (hs_object_id aside); another is a 400 for the whole request (assumed
// wording). s.mu is held.
func (p *portal) checkIDProperty(prop string) *inputError {
	def, ok := p.properties["line_items"][prop]
	msg := ""
	switch {
	case prop == "":
		msg = "idProperty is required"
	case !ok:
		msg = fmt.Sprintf("Unable to find property %s to use as idProperty", prop)
	case !def.HasUniqueValue:
		msg = fmt.Sprintf("Property %s cannot be used as idProperty: its values are not unique (hasUniqueValue is false)", prop)
	default:
		return nil
	}
	return &inputError{status: http.StatusBadRequest, category: "VALIDATION_ERROR", message: msg, whole: true}
}

// archiveLineItem: "This method will return a 204 No Content response on
// success regardless of the initial state of the object (e.g. active,
// already archived, non-existent)". An archived line item leaves its deal
// and frees its unique values (assumed). s.mu is held.
func (p *portal) archiveLineItem(id string) {
	if li := p.lineItems[id]; li != nil && !li.archived {
		p.lineItems[id] = &lineItem{id: li.id, props: li.props, archived: true, created: li.created, updated: li.updated}
	}
}

// readLineItem is one input of batch/read: by id, or by a value of
// idProperty, which must be a property with unique values ("Retrieve
// records by record ID or include the idProperty parameter to retrieve
// records by a custom unique value property"). A line item it does not find
// (archived, never made) is listed among the answer's errors.
func (s *Server) readLineItem(p *portal, in batchInput, idProperty string, asked []string) (map[string]any, *inputError) {
	id := in.ID
	if idProperty != "" && idProperty != "hs_object_id" {
		if ie := p.checkIDProperty(idProperty); ie != nil {
			return nil, ie
		}
		id = p.uniqueOwner(idProperty, in.ID)
	}
	li := p.lineItems[id]
	if li == nil || li.archived {
		return nil, &inputError{status: http.StatusNotFound, category: "OBJECT_NOT_FOUND", message: "resource not found: " + in.ID}
	}
	return li.json(asked), nil
}

// json is the record as the objects API answers it; asked limits the
// properties (nil: all).
func (li *lineItem) json(asked []string) map[string]any {
	values := maps.Clone(li.props)
	values["amount"] = lineAmount(li.props)
	values["hs_object_id"] = li.id
	values["createdate"] = stamp(li.created)
	values["hs_lastmodifieddate"] = stamp(li.updated)
	out := map[string]any{}
	for k, v := range values {
		if asked == nil || slices.Contains(asked, k) || k == "hs_object_id" || k == "createdate" || k == "hs_lastmodifieddate" {
			out[k] = v
		}
	}
	return map[string]any{"id": li.id, "properties": out, "createdAt": stamp(li.created), "updatedAt": stamp(li.updated), "archived": false}
}

// lineAmount is the calculated amount: quantity × price, less the
// percentage discount and the unit discount.
func lineAmount(p map[string]string) string {
	num := func(k string) decimal.Decimal {
		d, _ := decimal.NewFromString(p[k])
		return d
	}
	q := num("quantity")
	gross := q.Mul(num("price"))
	net := gross.Sub(gross.Mul(num("hs_discount_percentage")).Div(decimal.NewFromInt(100))).Sub(q.Mul(num("discount")))
	return net.String()
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// newID numbers records as HubSpot's ids look: decimal. s.mu is held.
func (p *portal) newID() string {
	p.lastID++
	return strconv.FormatInt(p.lastID, 10)
}

// updateDeal is one input of the deals' batch/update. s.mu is held.
func (s *Server) updateDeal(p *portal, in batchInput, now time.Time) (map[string]any, *inputError) {
	d, ok := p.deals[in.ID]
	if !ok {
		return nil, &inputError{status: http.StatusNotFound, category: "OBJECT_NOT_FOUND", message: "resource not found: deal " + in.ID}
	}
	values := props(in.Properties)
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if ie := p.checkValue("deals", name, values[name]); ie != nil {
			return nil, ie
		}
	}
	extra := maps.Clone(p.dealExtra[d.ID])
	if extra == nil {
		extra = map[string]string{}
	}
	for name, v := range values {
		switch name {
		case "dealname":
			d.Name = v
		case "amount":
			d.Amount = v
		case "dealstage":
			d.Stage = v
		case "deal_currency_code":
			d.Currency = v
		default:
			extra[name] = v
		}
	}
	p.deals[d.ID], p.dealExtra[d.ID] = d, extra
	p.touch("deals", d.ID, now)
	stored, _, _ := s.record(p, "deals", d.ID)
	return map[string]any{"id": d.ID, "properties": stored, "archived": false, "updatedAt": stamp(now)}, nil
}

func (s *Server) readDeal(p *portal, in batchInput, asked []string) (map[string]any, *inputError) {
	if _, ok := p.deals[in.ID]; !ok {
		return nil, &inputError{status: http.StatusNotFound, category: "OBJECT_NOT_FOUND", message: "resource not found: deal " + in.ID}
	}
	stored, _, _ := s.record(p, "deals", in.ID)
	return map[string]any{"id": in.ID, "properties": selectProperties(stored, asked, objectTypes["deals"].defaults, in.ID), "archived": false}, nil
}

// missingScopes answers HubSpot's 403 for a scope the app was not granted.
func missingScopes(w http.ResponseWriter, scopes ...string) {
	writeJSON(w, http.StatusForbidden, map[string]any{
		"status":        "error",
		"message":       "This app hasn't been granted all required scopes to make this call.",
		"correlationId": emulator.UUID(),
		"errors": []any{map[string]any{
			"message": "One or more of the following scopes are required.",
			"context": map[string][]string{"requiredGranularScopes": scopes},
		}},
		"category": "MISSING_SCOPES",
	})
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
