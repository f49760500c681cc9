package hubspot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Orders (issue 18, docs/sync-hubspot.md "Orders"). Qwoty's order is a
// HubSpot order (the commerce object of the orders API, object type
// "orders", 0-123) associated with the deal (type 512, order to deal), its
// lines line items whose parent is the order (type 513, order to line
// item), its status the order's stage in the default order pipeline. A
// create is two calls or more:
//
//  1. the lines are upserted by qwoty_ref (batch/upsert, 100 a call), each
//     line's reference made of the deal, the order's number and the line's
//     place: a retry after a lost answer finds the same line items instead
//     of making others;
//  2. the order is created with its associations inline, the deal and every
//     line item, so that it never exists without its lines: an order whose
//     create's answer was lost is found by FindOrder with them.
//
// Line items made by a create that then fails for good (the order or a line
// refused, an account without orders) would stay under no parent, since a
// failed order is not sent again: the ones this attempt made are archived.
//
// A status change is one PATCH of the order's stage. FindOrder reads the
// deal's orders through the associations API (consistent at once, where
// the search index lags a little behind a create) and then their
// hs_external_order_id, which holds Qwoty's order number.

var _ crm.OrderSyncer = (*Adapter)(nil)

// OrderScopes are the scopes writing orders needs beside SyncScopes (the
// line items): crm.objects.orders.write to create and update an order,
// crm.objects.orders.read to find one again.
var OrderScopes = []string{"crm.objects.orders.read", "crm.objects.orders.write"}

// OrderPipeline is the default order pipeline every account has, by its
// internal id.
const OrderPipeline = "14a2e10e-5471-408a-906e-c51f3b04369e"

// OrderStages map an order's status to a stage of the default order
// pipeline (internal ids): open is "Open", fulfilled "Delivered", cancelled
// "Cancelled". The pipeline's "Processed" and "Shipped" are left to people
// and other apps.
var OrderStages = map[qwoty.OrderStatus]string{
	qwoty.OrderOpen:      "4b27b500-f031-4927-9811-68a0b525cbae",
	qwoty.OrderFulfilled: "3725360f-519b-4b18-a593-494d60a29c9f",
	qwoty.OrderCancelled: "3c85a297-e9ce-400b-b42e-9f16853d69d6",
}

// The orders' paths and association types.
const (
	ordersPath          = "/crm/objects/2026-03/orders"
	dealOrdersPath      = "/crm/v4/objects/deals/%s/associations/orders?limit=500"
	orderToDeal         = 512
	orderToLineItem     = 513
	orderNumberProperty = "hs_external_order_id"
	orderSourceStore    = "Qwoty"
	refOrderLine        = "orderline"
)

// OrdersReady refuses a connection not granted the orders' scopes (nor
// sync's, which the order's line items need). The orders' are optional
// (OptionalScopes): an account without the orders object installs the app
// without them, and its orders wait for a reconnection that grants them.
func (a *Adapter) OrdersReady(conn *qwoty.Connection) error {
	var missing []string
	for _, sc := range slices.Concat(SyncScopes, OrderScopes) {
		if !slices.Contains(conn.Scopes, sc) {
			missing = append(missing, sc)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return qwoty.E(qwoty.CodeSyncReconnect, "the HubSpot connection was not granted %s, which Qwoty needs to write orders: "+
		"reconnect HubSpot and grant them (an account without HubSpot's orders object cannot: turn the order trigger off)",
		strings.Join(missing, ", "))
}

// FindOrder looks among the deal's orders for the one whose
// hs_external_order_id is o's number.
func (a *Adapter) FindOrder(ctx context.Context, s crm.Session, b crm.Budget, o crm.OrderPush) (string, error) {
	if !objectID(o.RecordID) {
		return "", crm.Rejected(fmt.Errorf("%q is not a HubSpot deal id", o.RecordID))
	}
	p := a.filer(s, b)
	var assoc struct {
		Results []struct {
			ID int64 `json:"toObjectId"`
		} `json:"results"`
	}
	if err := p.call(ctx, http.MethodGet, fmt.Sprintf(dealOrdersPath, url.PathEscape(o.RecordID)), nil, &assoc); err != nil {
		return "", orderError(ctx, b, err)
	}
	ids := assoc.Results
	slices.Reverse(ids) // newest first
	for _, batch := range chunks(ids) {
		req := struct {
			Properties []string    `json:"properties"`
			Inputs     []objectRef `json:"inputs"`
		}{Properties: []string{orderNumberProperty}}
		for _, r := range batch {
			req.Inputs = append(req.Inputs, objectRef{strconv.FormatInt(r.ID, 10)})
		}
		var ans batchAnswer
		if err := p.call(ctx, http.MethodPost, ordersPath+"/batch/read", req, &ans); err != nil {
			return "", orderError(ctx, b, err)
		}
		for _, r := range ans.Results {
			if v := r.Properties[orderNumberProperty]; v != nil && *v == o.Number {
				return r.ID, nil
			}
		}
	}
	return "", nil
}

// PushOrder creates o (its line items, then the order with its
// associations) or, when o.CRMID is set, moves the order to o's stage.
func (a *Adapter) PushOrder(ctx context.Context, s crm.Session, b crm.Budget, o crm.OrderPush) (string, error) {
	stage, ok := OrderStages[o.Status]
	if !ok {
		return "", crm.Rejected(fmt.Errorf("order %s has the status %q, which has no HubSpot stage", o.Number, o.Status))
	}
	p := a.filer(s, b)
	if o.CRMID != "" {
		if !objectID(o.CRMID) {
			return "", crm.Rejected(fmt.Errorf("%q is not a HubSpot order id", o.CRMID))
		}
		body := map[string]any{"properties": map[string]string{"hs_pipeline": OrderPipeline, "hs_pipeline_stage": stage}}
		if err := p.call(ctx, http.MethodPatch, ordersPath+"/"+o.CRMID, body, nil); err != nil {
			return "", orderError(ctx, b, err)
		}
		return o.CRMID, nil
	}
	if !objectID(o.RecordID) {
		return "", crm.Rejected(fmt.Errorf("%q is not a HubSpot deal id", o.RecordID))
	}
	lines, made, err := p.orderLines(ctx, o)
	if err != nil {
		return "", p.unmake(ctx, made, orderError(ctx, b, err))
	}
	assocs := []inlineAssoc{{To: objectRef{o.RecordID}, Types: []assocType{{Category: "HUBSPOT_DEFINED", TypeID: orderToDeal}}}}
	for _, id := range lines {
		assocs = append(assocs, inlineAssoc{To: objectRef{id}, Types: []assocType{{Category: "HUBSPOT_DEFINED", TypeID: orderToLineItem}}})
	}
	body := map[string]any{"properties": orderProperties(o, stage), "associations": assocs}
	var out struct {
		ID string `json:"id"`
	}
	if err := p.call(ctx, http.MethodPost, ordersPath, body, &out); err != nil {
		return "", p.unmake(ctx, made, orderError(ctx, b, err))
	}
	if out.ID == "" {
		return "", errNotAnswered("the order it created")
	}
	return out.ID, nil
}

// orderProperties are what the order holds of o: its number as its name
// and as hs_external_order_id (FindOrder's key), its currency, total and
// stage.
func orderProperties(o crm.OrderPush, stage string) map[string]string {
	name := o.Number
	if o.QuoteNumber != "" {
		name += " (quote " + o.QuoteNumber + ")"
	}
	return map[string]string{
		"hs_order_name":     crm.Clip(name, 255),
		orderNumberProperty: o.Number,
		"hs_currency_code":  o.Currency,
		"hs_total_price":    o.Total.String(),
		"hs_pipeline":       OrderPipeline,
		"hs_pipeline_stage": stage,
		"hs_source_store":   orderSourceStore,
	}
}

// orderLineRef is the qwoty_ref of an order's line i (from 1): unique in
// the portal, since a deal's order numbers are.
func orderLineRef(o crm.OrderPush, i int) string {
	return crm.Ref(refOrderLine, o.RecordID+":"+o.Number+":"+strconv.Itoa(i))
}

// orderLineProperties are what a line item of an order holds: the line's
// net unit price (discounts taken), so that HubSpot's amount is its net.
func orderLineProperties(o crm.OrderPush, i int, l crm.OrderPushLine) map[string]string {
	name, _, _ := strings.Cut(strings.TrimSpace(l.Description), "\n")
	name = cmp.Or(strings.TrimSpace(name), l.SKU, "Line "+strconv.Itoa(i))
	props := map[string]string{
		"name":                       crm.Clip(name, 255),
		"description":                l.Description,
		"quantity":                   l.Quantity.String(),
		"price":                      l.UnitPrice.String(),
		"hs_sku":                     l.SKU,
		"hs_line_item_currency_code": o.Currency,
		RefProperty:                  orderLineRef(o, i),
	}
	if objectID(l.ProductID) {
		props["hs_product_id"] = l.ProductID
	}
	return props
}

// orderLines upserts the order's lines by qwoty_ref and returns their line
// items' ids in the lines' order, and, even when it fails, the ids of those
// its upserts made (rather than found). The qwoty_ref property is made first
// when the portal does not have it yet (its refusal of the idProperty names
// it).
func (p *push) orderLines(ctx context.Context, o crm.OrderPush) (ids []string, made []string, err error) {
	refs := make([]string, len(o.Lines))
	var inputs []upsertInput
	for i, l := range o.Lines {
		props := orderLineProperties(o, i+1, l)
		refs[i] = props[RefProperty]
		inputs = append(inputs, upsertInput{ID: refs[i], IDProperty: RefProperty, Properties: props, ObjectWriteTraceID: refs[i]})
	}
	byRef := map[string]string{}
	madeRef := false
	for _, batch := range chunks(inputs) {
		var ans batchAnswer
		err := p.call(ctx, http.MethodPost, lineItemsBatchPath+"upsert", batchRequest[upsertInput]{Inputs: batch}, &ans)
		if ae, whole := refused(err); whole && !madeRef && mentions(ae, RefProperty) {
			if err := p.makeRefProperty(ctx); err != nil {
				return nil, made, err
			}
			madeRef = true
			ans = batchAnswer{}
			err = p.call(ctx, http.MethodPost, lineItemsBatchPath+"upsert", batchRequest[upsertInput]{Inputs: batch}, &ans)
		}
		if err != nil {
			return nil, made, err
		}
		// A 207 made the inputs it did not refuse.
		for _, r := range ans.Results {
			byRef[refOf(r.Properties)] = r.ID
			if r.New {
				made = append(made, r.ID)
			}
		}
		if len(ans.Errors) > 0 {
			return nil, made, ans.Errors[0].err("order " + o.Number + "'s line item")
		}
	}
	ids = make([]string, len(refs))
	for i, ref := range refs {
		if ids[i] = byRef[ref]; ids[i] == "" {
			return nil, made, errNotAnswered("the line item of " + ref)
		}
	}
	return ids, made, nil
}

// unmake archives the line items made (made by this attempt's upserts, so
// under no parent) when err, the create's failure, is for good: the order
// will not be sent again to take them. A transient failure keeps them for
// the retry's upsert to find. A line item an earlier attempt made (found,
// not made, by this one's upsert) is left: it could be under an order
// FindOrder did not see. The archive is best effort: err stays the
// outcome.
func (p *push) unmake(ctx context.Context, made []string, err error) error {
	if len(made) == 0 || !(errors.Is(err, crm.ErrRejected) || errors.Is(err, crm.ErrForbidden) || errors.Is(err, crm.ErrNotFound)) {
		return err
	}
	for _, batch := range chunks(made) {
		req := batchRequest[objectRef]{}
		for _, id := range batch {
			req.Inputs = append(req.Inputs, objectRef{id})
		}
		if aerr := p.call(ctx, http.MethodPost, lineItemsBatchPath+"archive", req, nil); aerr != nil {
			return fmt.Errorf("%w (its line items made stay under no parent: archive them: %v)", err, aerr)
		}
	}
	return err
}

// makeRefProperty makes the line item property qwoty_ref (refPropertyDef);
// one already there (409) will do: the upsert that follows says otherwise.
func (p *push) makeRefProperty(ctx context.Context) error {
	err := p.call(ctx, http.MethodPost, lineItemPropertiesPath, refPropertyDef(), nil)
	var ae *crm.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusConflict {
		return nil
	}
	if err != nil {
		return fmt.Errorf("make the line item property %s: %w", RefProperty, err)
	}
	return nil
}

// orderError classifies an order call's error as crm.OrderSyncer says: an
// account without the orders object is a rejection that says so; a refusal
// of the data one with HubSpot's words; the rest as the file calls'.
func orderError(ctx context.Context, b crm.Budget, err error) error {
	var ae *crm.APIError
	if errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusBadRequest) &&
		strings.Contains(ae.Message, "Unable to infer object type") {
		return crm.Rejected(fmt.Errorf("this HubSpot account has no orders object (HubSpot's commerce objects), so Qwoty cannot write its orders there (HubSpot: %s)", ae.Message))
	}
	if ae, ok := refused(err); ok {
		return crm.Rejected(errors.New(readable(ae.Message)))
	}
	return crm.ClassifyArchive(ctx, b, err)
}
