package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Orders (docs/orders.md): what an accepted quote became, read and moved
// to fulfilled or cancelled. An order the CRM made is read-only here.

// Order is an order as the API shows it.
type Order struct {
	ID          string      `json:"id" doc:"The order's id."`
	Number      string      `json:"number" doc:"Its number in the workspace, like O-00042."`
	Status      string      `json:"status" enum:"open,fulfilled,cancelled" doc:"open, then fulfilled or cancelled (both final)."`
	Origin      string      `json:"origin" enum:"qwoty,crm" doc:"qwoty: made when its quote was accepted; crm: made in the CRM and pulled, read-only here."`
	Version     int         `json:"version" doc:"Goes up by one with every change of its status."`
	QuoteID     string      `json:"quoteId,omitempty" doc:"The quote it was made from (origin qwoty)."`
	QuoteNumber string      `json:"quoteNumber,omitempty"`
	Revision    int         `json:"revision,omitempty" doc:"The quote's revision the customer accepted: the order's lines and totals are that revision's."`
	CRMRecordID string      `json:"crmRecordId" doc:"The CRM record (Opportunity, deal) of the quote."`
	CRMOrderID  string      `json:"crmOrderId,omitempty" doc:"The order's id in the CRM, once pushed (or the pulled order's)."`
	CustomerID  string      `json:"customerId,omitempty"`
	Customer    string      `json:"customerName,omitempty" doc:"The customer's name when the order was made."`
	Currency    string      `json:"currency" doc:"ISO 4217 code."`
	Totals      Totals      `json:"totals"`
	LineCount   int         `json:"lineCount,omitempty" doc:"How many lines it has (a single order's answer only)."`
	Lines       []OrderLine `json:"lines,omitempty" doc:"Its lines, in order (a single order's answer only; listings leave them out)."`
	CreatedAt   time.Time   `json:"createdAt"`
	UpdatedAt   time.Time   `json:"updatedAt"`
	Links       OrderLinks  `json:"links"`
}

// OrderLine is a line of an order, as the accepted revision had it.
type OrderLine struct {
	Position        int    `json:"position"`
	ProductID       string `json:"productId,omitempty" doc:"The CRM's product the line was taken from."`
	SKU             string `json:"sku"`
	Description     string `json:"description"`
	Quantity        string `json:"quantity"`
	UnitPrice       string `json:"unitPrice"`
	DiscountPercent string `json:"discountPercent"`
	Amount          string `json:"amount" doc:"quantity × unitPrice, rounded to the currency."`
	Discount        string `json:"discount"`
	Net             string `json:"net" doc:"amount − discount."`
	Tax             string `json:"tax"`
}

// OrderLinks are an order's related URLs.
type OrderLinks struct {
	Self     string `json:"self"`
	Quote    string `json:"quote,omitempty"`
	Customer string `json:"customer,omitempty"`
}

func orderOut(o *qwoty.Order, withLines bool) Order {
	cur := o.Currency
	out := Order{ID: o.ID, Number: o.Number, Status: string(o.Status), Origin: string(o.Origin), Version: o.Version,
		QuoteID: o.QuoteID, QuoteNumber: o.QuoteNumber, Revision: o.Revision, CRMRecordID: o.CRMRecordID, CRMOrderID: o.CRMOrderID,
		CustomerID: o.CustomerID, Customer: o.CustomerName, Currency: cur,
		Totals: Totals{Subtotal: qwoty.FormatAmount(o.Totals.Subtotal, cur), Discount: qwoty.FormatAmount(o.Totals.Discount, cur),
			QuoteDiscount: qwoty.FormatAmount(o.Totals.QuoteDiscount, cur), Tax: qwoty.FormatAmount(o.Totals.Tax, cur),
			Total: qwoty.FormatAmount(o.Totals.Total, cur)},
		CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(),
		Links: OrderLinks{Self: Base + "/orders/" + o.ID}}
	if o.QuoteID != "" {
		out.Links.Quote = Base + "/quotes/" + o.QuoteID
	}
	if o.CustomerID != "" {
		out.Links.Customer = Base + "/customers/" + o.CustomerID
	}
	if withLines {
		out.LineCount = len(o.Lines)
		out.Lines = make([]OrderLine, len(o.Lines))
		for i, l := range o.Lines {
			out.Lines[i] = OrderLine{Position: l.Position, ProductID: l.ProductID, SKU: l.SKU, Description: l.Description,
				Quantity: l.Quantity.String(), UnitPrice: figure(l.UnitPrice, cur), DiscountPercent: l.DiscountPercent.String(),
				Amount: qwoty.FormatAmount(l.Amount, cur), Discount: qwoty.FormatAmount(l.Discount, cur),
				Net: qwoty.FormatAmount(l.Net, cur), Tax: qwoty.FormatAmount(l.Tax, cur)}
		}
	}
	return out
}

// OrderOutput is the answer of an operation on one order.
type OrderOutput struct {
	Body Order
}

type orderListInput struct {
	Status        string    `query:"status" enum:"open,fulfilled,cancelled" doc:"Only orders in this status."`
	QuoteID       string    `query:"quoteId" maxLength:"36" doc:"Only the order of this quote."`
	CRMRecordID   string    `query:"crmRecordId" maxLength:"64" doc:"Only orders on this CRM record."`
	CreatedAfter  time.Time `query:"createdAfter" doc:"Only orders made after this time (RFC 3339)."`
	CreatedBefore time.Time `query:"createdBefore" doc:"Only orders made before this time (RFC 3339)."`
	ListParams
}

type orderListOutput struct {
	Body struct {
		Data []Order `json:"data" doc:"The page's orders, without their lines."`
		Page
	}
}

// orderIDInput names an order in the path.
type orderIDInput struct {
	ID string `path:"id" maxLength:"36" doc:"The order's id."`
}

type orderStatusInput struct {
	IdempotencyHeader
	ID   string `path:"id" maxLength:"36" doc:"The order's id."`
	Body struct {
		Status  string `json:"status" enum:"fulfilled,cancelled" doc:"An open order is fulfilled or cancelled; both are final."`
		Version int    `json:"version,omitempty" minimum:"1" doc:"The version you moved; another is 409 version_conflict."`
	}
}

func (a *API) orders() {
	huma.Register(a.h, huma.Operation{OperationID: "listOrders", Method: http.MethodGet, Path: "/orders", Tags: []string{"Orders"},
		Summary:     "List orders",
		Description: "The orders of the key's CRM account (one per accepted quote, and those pulled from the CRM), oldest first by creation, in pages of at most 200.",
		Security:    Secured(qwoty.ScopeOrdersRead)}, a.listOrders)
	huma.Register(a.h, huma.Operation{OperationID: "getOrder", Method: http.MethodGet, Path: "/orders/{id}", Tags: []string{"Orders"},
		Summary: "Get an order", Description: "An order with its lines and totals, frozen from the revision the customer accepted.",
		Security: Secured(qwoty.ScopeOrdersRead)}, a.getOrder)
	huma.Register(a.h, huma.Operation{OperationID: "setOrderStatus", Method: http.MethodPost, Path: "/orders/{id}/status", Tags: []string{"Orders"},
		Summary: "Fulfil or cancel an order",
		Description: "An open order becomes fulfilled or cancelled; both are final (another move is 409 invalid_status_transition; " +
			"asking for the status it has changes nothing). An order made in the CRM (origin crm) is 409 order_read_only: change it there. " +
			"Makes order.updated.",
		Security: Secured(qwoty.ScopeOrdersWrite)}, a.setOrderStatus)
}

func (a *API) listOrders(ctx context.Context, in *orderListInput) (*orderListOutput, error) {
	f := store.OrderFilter{Status: qwoty.OrderStatus(in.Status), QuoteID: in.QuoteID, CreatedAfter: in.CreatedAfter,
		CreatedBefore: in.CreatedBefore, Limit: in.limit()}
	var err error
	if f.RecordID, err = qwoty.ParseField("crmRecordId", in.CRMRecordID, 64); err != nil {
		return nil, err
	}
	if f.After, err = decodeCursor(cursorOrders, in.Cursor); err != nil {
		return nil, err
	}
	os, more, err := a.db.APIOrders(ctx, scope(ctx), f)
	if err != nil {
		return nil, err
	}
	out := &orderListOutput{}
	out.Body.Data = make([]Order, len(os))
	for i := range os {
		out.Body.Data[i] = orderOut(&os[i], false)
	}
	out.Body.HasMore = more
	if more {
		last := os[len(os)-1]
		out.Body.NextCursor = encodeCursor(cursorOrders, last.CreatedAt, last.ID)
	}
	return out, nil
}

func (a *API) getOrder(ctx context.Context, in *orderIDInput) (*OrderOutput, error) {
	s := scope(ctx)
	o, err := a.db.ConnectionOrder(ctx, s.WorkspaceID, s.ConnectionID, in.ID)
	if err != nil {
		return nil, err
	}
	return &OrderOutput{Body: orderOut(o, true)}, nil
}

func (a *API) setOrderStatus(ctx context.Context, in *orderStatusInput) (*OrderOutput, error) {
	next, ok := qwoty.ParseOrderStatus(in.Body.Status)
	if !ok {
		return nil, &qwoty.Error{Code: qwoty.CodeValidation, Field: "status", Message: "status is fulfilled or cancelled",
			Hint: "Send {\"status\":\"fulfilled\"} or {\"status\":\"cancelled\"}."}
	}
	s := scope(ctx)
	o, err := a.db.SetOrderStatus(ctx, s.WorkspaceID, s.ConnectionID, in.ID, in.Body.Version, next, actor(KeyOf(ctx)))
	if err != nil {
		return nil, err
	}
	return &OrderOutput{Body: orderOut(o, true)}, nil
}
