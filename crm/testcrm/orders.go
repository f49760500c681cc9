package testcrm

import (
	"context"
	"net/http"
	"net/url"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// The test CRM takes orders on a deal: POST /api/deals/{id}/orders,
// listed (by number) by GET /api/deals/{id}/orders, whose status PATCH
// /api/orders/{id} changes. Its lines' nets are quantity × price, 2
// decimals (crm.SplitLine keeps them exact).

var _ crm.OrderSyncer = (*Adapter)(nil)

// OrdersReady: orders need the write scope sync needs.
func (a *Adapter) OrdersReady(conn *qwoty.Connection) error { return syncer{a}.Ready(conn) }

// OrderScale implements crm.OrderScaler.
func (a *Adapter) OrderScale() int32 { return Scale }

type testOrder struct {
	ID     string `json:"id"`
	Number string `json:"number"`
}

type testOrderLine struct {
	SKU      string `json:"sku"`
	Name     string `json:"name"`
	Quantity string `json:"quantity"`
	Price    string `json:"price"`
	Net      string `json:"net"`
}

// FindOrder lists the deal's orders numbered as o.
func (a *Adapter) FindOrder(ctx context.Context, s crm.Session, b crm.Budget, o crm.OrderPush) (string, error) {
	if err := b.Take(ctx, "calls", 1); err != nil {
		return "", err
	}
	var out struct {
		Orders []testOrder `json:"orders"`
	}
	err := s.Call(ctx, func(ctx context.Context, token string) error {
		return crm.Call(ctx, crm.Request{Provider: Provider, Method: http.MethodGet, Base: s.Connection().InstanceURL,
			Path: "/api/deals/" + url.PathEscape(o.RecordID) + "/orders?number=" + url.QueryEscape(o.Number), Token: token,
			Timeout: DefaultTimeout, HTTP: a.o.HTTP, Refused: apiErrors.Answer}, &out)
	})
	if err != nil {
		return "", crm.ClassifyOrder(ctx, b, err)
	}
	for _, x := range out.Orders {
		if x.Number == o.Number {
			return x.ID, nil
		}
	}
	return "", nil
}

// PushOrder posts o to the deal's orders, or sets the status of the order
// o.CRMID.
func (a *Adapter) PushOrder(ctx context.Context, s crm.Session, b crm.Budget, o crm.OrderPush) (string, error) {
	req := crm.Request{Provider: Provider, Base: s.Connection().InstanceURL, Timeout: DefaultTimeout, HTTP: a.o.HTTP, Refused: apiErrors.Answer}
	if o.CRMID != "" {
		req.Method, req.Path, req.JSON = http.MethodPatch, "/api/orders/"+url.PathEscape(o.CRMID), map[string]string{"status": string(o.Status)}
	} else {
		lines := make([]testOrderLine, 0, len(o.Lines))
		for _, l := range o.Lines {
			for _, part := range crm.SplitLine(l) {
				lines = append(lines, testOrderLine{SKU: part.SKU, Name: part.Description, Quantity: part.Quantity.String(),
					Price: part.UnitPrice.StringFixed(Scale), Net: part.Net.StringFixed(Scale)})
			}
		}
		req.Method, req.Path = http.MethodPost, "/api/deals/"+url.PathEscape(o.RecordID)+"/orders"
		req.JSON = map[string]any{"number": o.Number, "quote_number": o.QuoteNumber, "status": o.Status, "currency": o.Currency,
			"total": o.Total.StringFixed(Scale), "lines": lines}
	}
	if err := b.Take(ctx, "calls", 1); err != nil {
		return "", err
	}
	var out testOrder
	err := s.Call(ctx, func(ctx context.Context, token string) error {
		r := req
		r.Token = token
		return crm.Call(ctx, r, &out)
	})
	if err != nil {
		return "", crm.ClassifyOrder(ctx, b, err)
	}
	return out.ID, nil
}
