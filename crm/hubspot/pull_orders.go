package hubspot

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Orders made in HubSpot (docs/sync-hubspot.md, "Orders made in HubSpot"):
// the orders object listed as the other objects are (the Search API by
// hs_lastmodifieddate, pull_search.go), each with its deal and its line
// items read for the whole page through the associations API. The store
// keeps those on a deal Qwoty knows and drops Qwoty's own: an order Qwoty
// wrote carries its number in hs_external_order_id (order.go), which is the
// pulled order's Reference. The orders archived in HubSpot (its delete)
// are listed as the other objects' are (archivedPage): the store marks
// their copies.
//
// The listings run only for a connection granted the orders' read scope
// (one made before orders has deals, not orders, until an admin
// reconnects), and an account without the orders object (HubSpot's
// commerce objects are not available to every account) lists none rather
// than failing: such a portal goes on pulling its deals.
//
// A change to an order's line items alone is assumed not to move the
// order's hs_lastmodifieddate: the lines are read again with the order's
// next change.

// The orders' streams: the live listing, and the orders archived (deleted
// in HubSpot), whose copies the store marks.
const (
	streamOrder         = crm.KindOrder
	streamOrderArchived = crm.KindOrder + "_archived"
)

// orderReadScope is the scope the orders' listing needs.
const orderReadScope = "crm.objects.orders.read"

var (
	orderPullProperties = []string{"hs_order_name", orderNumberProperty, "hs_currency_code", "hs_total_price", "hs_pipeline",
		"hs_pipeline_stage", "hs_lastmodifieddate"}
	pulledLineProperties = []string{"name", "description", "hs_sku", "hs_product_id", "quantity", "price", "amount"}
)

// ordersListed says whether conn's pull lists orders: a connection not
// granted the orders' read scope has no order stream.
func ordersListed(conn *qwoty.Connection) bool {
	return conn == nil || slices.Contains(conn.Scopes, orderReadScope)
}

// noOrdersObject is HubSpot's answer for an account without the orders
// object: the type is unknown to it.
func noOrdersObject(err error) bool {
	var ae *crm.APIError
	return errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusBadRequest) &&
		strings.Contains(ae.Message, "Unable to infer object type")
}

// orderPage reads one page of an orders' listing; an account without
// orders, or a token the orders' read is refused to (403), has none.
func (p *puller) orderPage(ctx context.Context, c *caller, stream string, from crm.PullFrom) (crm.PullPage, error) {
	var page crm.PullPage
	var err error
	if stream == streamOrderArchived {
		page, err = p.archivedPage(ctx, c, crm.KindOrder, from)
	} else {
		page, err = p.searchPage(ctx, c, crm.KindOrder, from)
	}
	if noOrdersObject(err) || errors.Is(err, crm.ErrForbidden) {
		return crm.PullPage{}, nil
	}
	return page, err
}

// orderStatus is the status of an order in stage: the stages Qwoty writes
// (OrderStages) say theirs; any other (Processed, Shipped, a stage of
// another order pipeline) is an order still open.
func orderStatus(stage string) qwoty.OrderStatus {
	for st, id := range OrderStages {
		if id == stage {
			return st
		}
	}
	return qwoty.OrderOpen
}

// pulledOrder is what an order's own properties say; its deal and lines
// are orderLinks'.
func pulledOrder(o *searchObject) *crm.PulledOrder {
	out := &crm.PulledOrder{Number: o.prop("hs_order_name"), Reference: o.prop(orderNumberProperty),
		Status: orderStatus(o.prop("hs_pipeline_stage")), Currency: strings.ToUpper(o.prop("hs_currency_code"))}
	if !qwoty.ValidCurrency(out.Currency) {
		out.Currency = ""
	}
	out.Total, _ = decimal.NewFromString(o.prop("hs_total_price"))
	return out
}

// orderLinks fills the orders' deal (the one of type order to deal, else
// the first) and lines for the whole page: the orders' deals, their line
// items, and the line items' batch read, 100 a call each. An order's
// lines are in the order the associations list them.
func (p *puller) orderLinks(ctx context.Context, c *caller, orders []crm.Pulled) error {
	ids := make([]string, 0, len(orders))
	for _, o := range orders {
		ids = append(ids, o.ID)
	}
	deals, err := c.associations(ctx, "orders", "deals", ids, orderToDeal)
	if err != nil {
		return err
	}
	lineIDs, err := c.associations(ctx, "orders", "line_items", ids, 0)
	if err != nil {
		return err
	}
	var all []string
	for _, id := range ids {
		all = append(all, lineIDs[id]...)
	}
	byID := map[string]crm.PulledOrderLine{}
	for _, batch := range chunks(all) {
		objs, err := c.batchRead(ctx, "line_items", batch, pulledLineProperties, false)
		if err != nil {
			return err
		}
		for _, o := range objs {
			num := func(name string) decimal.Decimal {
				d, _ := decimal.NewFromString(o.prop(name))
				return d
			}
			l := crm.PulledOrderLine{SKU: o.prop("hs_sku"), Description: o.prop("description"), Quantity: num("quantity"),
				UnitPrice: num("price"), Net: num("amount")}
			if l.Description == "" {
				l.Description = o.prop("name")
			}
			if pid := o.prop("hs_product_id"); objectID(pid) {
				l.ProductID = pid
			}
			byID[o.ID] = l
		}
	}
	for i := range orders {
		o := orders[i].Order
		if ds := deals[orders[i].ID]; len(ds) > 0 {
			o.RecordID = ds[0]
		}
		for _, id := range lineIDs[orders[i].ID] {
			if l, ok := byID[id]; ok {
				o.Lines = append(o.Lines, l)
			}
		}
	}
	return nil
}
