package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Orders (docs/sync-salesforce.md, "Orders"): an order Qwoty generated is
// an Order on the Opportunity's account and price book, with one
// OrderItem per line (a line whose net is no unit price of 2 decimals
// times its quantity is two: crm.SplitLine), made in one all-or-none
// Composite request: the Order (Status Draft, as a new order must be),
// its products (sObject Collections), and, for a fulfilled order, its
// activation. Qwoty's number goes in the standard OrderReferenceNumber,
// by which FindOrder finds it again after a lost answer.
//
// Statuses: open is Draft (activating locks the products and starts an
// org's fulfilment and billing automation, which Qwoty's "accepted, to
// fulfil" must not), fulfilled is Activated, and cancelled stays Draft
// with "Cancelled in Qwoty" in its Description and name: the org's
// status picklist has no other category than Draft and Activated by
// default (OrderStatus), and a value it lacks would be refused.

var _ crm.OrderSyncer = (*Adapter)(nil)

const (
	objOrder     = "Order"
	objOrderItem = "OrderItem"
	// maxOrderLines is what one Composite request carries: 25
	// subrequests, the order and its activation taken, of 200 records.
	maxOrderLines = 23 * maxCollectionSize
	// maxCollectionSize is an sObject Collections request's records.
	maxCollectionSize = 200
)

// OrdersReady: the api scope every connection has covers orders.
func (a *Adapter) OrdersReady(*qwoty.Connection) error { return nil }

// OrderScale implements crm.OrderScaler: currency fields hold 2 decimals.
func (a *Adapter) OrderScale() int32 { return qwoty.SalesforceScale }

// orderStatus is the Order's Status of a Qwoty status.
func orderStatus(s qwoty.OrderStatus) string {
	if s == qwoty.OrderFulfilled {
		return "Activated"
	}
	return "Draft"
}

// orderName and orderDescription say which Qwoty order an Order is, and
// what Qwoty holds that Salesforce's order does not (the tax and the
// quote's discount, which are not products).
func orderName(o crm.OrderPush) string {
	if o.Status == qwoty.OrderCancelled {
		return o.Number + " (cancelled)"
	}
	return o.Number
}

func orderDescription(o crm.OrderPush) string {
	var b strings.Builder
	if o.Status == qwoty.OrderCancelled {
		b.WriteString("Cancelled in Qwoty. ")
	}
	fmt.Fprintf(&b, "Qwoty order %s, from quote %s. Total in Qwoty: %s %s (tax and quote discount included).", o.Number, o.QuoteNumber,
		o.Total.StringFixed(qwoty.Places(o.Currency, qwoty.SalesforceScale)), o.Currency)
	if o.Link != "" {
		b.WriteString(" " + o.Link)
	}
	return b.String()
}

func (a *Adapter) orderer(s crm.Session, b crm.Budget) *push {
	return newPush(a.Sync().(*syncer), s, b, nil, nil)
}

// FindOrder queries the opportunity's orders by Qwoty's number.
func (a *Adapter) FindOrder(ctx context.Context, s crm.Session, b crm.Budget, o crm.OrderPush) (string, error) {
	opp, err := NormalizeID(o.RecordID)
	if err != nil {
		return "", crm.Rejected(fmt.Errorf("%q is not the id of a Salesforce opportunity", o.RecordID))
	}
	var out struct {
		Records []struct {
			ID string `json:"Id"`
		} `json:"records"`
	}
	q := "SELECT Id FROM Order WHERE OpportunityId = " + soqlString(opp) + " AND OrderReferenceNumber = " + soqlString(o.Number)
	if err := a.orderer(s, b).call(ctx, http.MethodGet, queryURL(q), nil, &out); err != nil {
		return "", crm.ClassifyOrder(ctx, b, err)
	}
	if len(out.Records) == 0 {
		return "", nil
	}
	return out.Records[0].ID, nil
}

// PushOrder makes the order with its products, or brings the Order
// o.CRMID to o's status.
func (a *Adapter) PushOrder(ctx context.Context, s crm.Session, b crm.Budget, o crm.OrderPush) (string, error) {
	p := a.orderer(s, b)
	if o.CRMID != "" {
		body := map[string]any{"Status": orderStatus(o.Status), "Name": orderName(o), "Description": orderDescription(o)}
		if err := p.call(ctx, http.MethodPatch, dataPath+"/sobjects/Order/"+url.PathEscape(o.CRMID), body, nil); err != nil {
			return "", crm.ClassifyOrder(ctx, b, err)
		}
		return o.CRMID, nil
	}
	id, err := a.createOrder(ctx, p, o)
	if err != nil {
		return "", crm.ClassifyOrder(ctx, b, err)
	}
	return id, nil
}

// lineEntry is how a line's price book entry is found: the entry itself
// (01u), the catalogue's product (01t), else Qwoty's product for its SKU
// (the one the opportunity's sync made).
func lineEntry(l crm.OrderPushLine) (field, value string) {
	if id, err := NormalizeID(l.ProductID); err == nil {
		switch {
		case strings.HasPrefix(id, "01u"):
			return "Id", id
		case strings.HasPrefix(id, "01t"):
			return "Product2Id", id
		}
	}
	return "Product2.Qwoty__Ref__c", productRef(l.SKU)
}

func (a *Adapter) createOrder(ctx context.Context, p *push, o crm.OrderPush) (string, error) {
	opp, err := NormalizeID(o.RecordID)
	if err != nil {
		return "", crm.Rejected(fmt.Errorf("%q is not the id of a Salesforce opportunity", o.RecordID))
	}
	if len(o.Lines) > maxOrderLines {
		return "", crm.Rejected(fmt.Errorf("order %s has %d lines, more than one Salesforce request carries (%d)", o.Number, len(o.Lines), maxOrderLines))
	}
	// One call reads the opportunity's account and price book, and the
	// entries the lines may use.
	byField := map[string][]string{}
	for _, l := range o.Lines {
		f, v := lineEntry(l)
		byField[f] = append(byField[f], v)
	}
	var conds []string
	for _, f := range []string{"Id", "Product2Id", "Product2.Qwoty__Ref__c"} {
		if len(byField[f]) > 0 {
			conds = append(conds, f+" IN "+soqlList(byField[f]))
		}
	}
	subs := []subrequest{{Method: http.MethodGet, ReferenceID: "opp",
		URL: queryURL("SELECT Id, AccountId, Pricebook2Id FROM Opportunity WHERE Id = " + soqlString(opp))}}
	if len(conds) > 0 {
		subs = append(subs, subrequest{Method: http.MethodGet, ReferenceID: "entries",
			URL: queryURL("SELECT Id, Pricebook2Id, Product2Id, Product2.Qwoty__Ref__c, IsActive FROM PricebookEntry WHERE " + strings.Join(conds, " OR "))})
	}
	res, err := p.composite(ctx, false, subs)
	if err != nil {
		return "", err
	}
	opps, err := p.rows(ctx, res["opp"])
	if err != nil {
		return "", err
	}
	if len(opps) == 0 {
		return "", crm.Rejected(fmt.Errorf("the opportunity %s is not in Salesforce: it was deleted, or the user who connected Qwoty cannot see it", opp))
	}
	account, book := opps[0].str("AccountId"), opps[0].str("Pricebook2Id")
	switch {
	case account == "":
		return "", crm.Rejected(fmt.Errorf("the opportunity %s has no account, and a Salesforce order needs one: set the opportunity's account, then retry", opp))
	case book == "" && len(o.Lines) > 0:
		return "", crm.Rejected(fmt.Errorf("the opportunity %s has no price book, whose entries an order's products need: let the quote's products sync to it, then retry", opp))
	}
	var entries []row
	if len(conds) > 0 {
		if entries, err = p.rows(ctx, res["entries"]); err != nil {
			return "", err
		}
	}
	var items []map[string]any
	for i, l := range o.Lines {
		f, v := lineEntry(l)
		entry := ""
		for _, e := range entries {
			match := e.str(f) == v
			if f == "Product2.Qwoty__Ref__c" {
				match = e.sub("Product2").str(refField) == v
			}
			if match && e.str("Pricebook2Id") == book && e.boolean("IsActive") {
				entry = e.str("Id")
				break
			}
		}
		if entry == "" {
			// Refused, not skipped: an order without one of its lines would
			// not be the order the customer accepted.
			return "", crm.Rejected(fmt.Errorf("line %d (%s) has no active price book entry in the opportunity's price book %s, which a Salesforce order product needs: "+
				"add the product to that price book (or let the quote's products sync), then retry", i+1, lineLabel(l), book))
		}
		for _, part := range crm.SplitLine(l) {
			items = append(items, map[string]any{"attributes": map[string]string{"type": objOrderItem}, "OrderId": "@{order.id}",
				"PricebookEntryId": entry, "Quantity": json.Number(part.Quantity.String()),
				"UnitPrice":   json.Number(part.UnitPrice.StringFixed(qwoty.Places(o.Currency, qwoty.SalesforceScale))),
				"Description": truncate(l.Description, 255)})
		}
	}
	order := map[string]any{"AccountId": account, "OpportunityId": opp, "EffectiveDate": o.EffectiveDate, "Status": "Draft",
		"Name": orderName(o), "OrderReferenceNumber": o.Number, "Description": orderDescription(o)}
	if book != "" {
		order["Pricebook2Id"] = book
	}
	subs = []subrequest{{Method: http.MethodPost, URL: dataPath + "/sobjects/Order", ReferenceID: "order", Body: order}}
	for i := 0; i < len(items); i += maxCollectionSize {
		subs = append(subs, subrequest{Method: http.MethodPost, URL: dataPath + "/composite/sobjects", ReferenceID: fmt.Sprintf("items%d", i/maxCollectionSize),
			Body: map[string]any{"allOrNone": true, "records": items[i:min(i+maxCollectionSize, len(items))]}})
	}
	if o.Status == qwoty.OrderFulfilled {
		subs = append(subs, subrequest{Method: http.MethodPatch, URL: dataPath + "/sobjects/Order/@{order.id}", ReferenceID: "activate",
			Body: map[string]any{"Status": orderStatus(o.Status)}})
	}
	if res, err = p.composite(ctx, true, subs); err != nil {
		return "", err
	}
	for _, s := range subs {
		r := res[s.ReferenceID]
		items, errs := readBody(r.Body)
		for _, it := range items {
			for _, e := range it.Errors {
				if e.code() != rolledBack {
					return "", orderError(o, e)
				}
			}
		}
		for _, e := range errs {
			if e.code() != halted {
				return "", orderError(o, e)
			}
		}
	}
	var created struct {
		ID string `json:"id"`
	}
	if r := res["order"]; r.Status >= 300 || decodeJSON(r.Body, &created) != nil || created.ID == "" {
		return "", fmt.Errorf("salesforce: the order's create answered %d without an id", r.Status)
	}
	return created.ID, nil
}

// orderError is Salesforce's refusal of an order, in its own words:
// permanent unless its code says otherwise.
func orderError(o crm.OrderPush, e sfError) error {
	err := fmt.Errorf("Salesforce refused order %s: %s", o.Number, e)
	if transientCodes[e.code()] {
		return err
	}
	return crm.Rejected(err)
}

func lineLabel(l crm.OrderPushLine) string {
	if l.SKU != "" {
		return l.SKU
	}
	return truncate(l.Description, 40)
}
