package tctest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm/emulator"
)

// The test CRM's orders on deals, as the emulator plays it:
//
//	POST  /api/deals/{id}/orders  {"number", "quote_number", "status", "currency", "total", "lines": [{"sku", "name", "quantity", "price", "net"}]}
//	GET   /api/deals/{id}/orders  [?number=O-00001] {"orders": [{"id", "number", "status", "total", ...}]}
//	PATCH /api/orders/{id}        {"status"}
//
// An order needs a number, a currency and a status: open, fulfilled or
// cancelled; its money (total, price, net) holds at most 2 decimals, and
// each line's net is its quantity × price (422 otherwise). A status moves
// from open to fulfilled or cancelled, never back (422). The CRM keeps no
// uniqueness of its own on the number: posting the same order twice makes
// two (what the integration must never do). The token needs deals:write
// to write (403); a deal that does not exist, or was removed (RemoveDeal),
// is 404; every call counts against the rate limit.

// Order is an order on a deal.
type Order struct {
	ID          string      `json:"id"`
	Number      string      `json:"number"`
	QuoteNumber string      `json:"quote_number"`
	Status      string      `json:"status"`
	Currency    string      `json:"currency"`
	Total       string      `json:"total"`
	Lines       []OrderLine `json:"lines"`
	// Updates counts the status changes it received.
	Updates int `json:"-"`
}

// OrderLine is a line of an order.
type OrderLine struct {
	SKU      string `json:"sku"`
	Name     string `json:"name"`
	Quantity string `json:"quantity"`
	Price    string `json:"price"`
	Net      string `json:"net"`
}

type orderState struct {
	mu     sync.Mutex
	orders map[string][]*Order // deal → orders
	seq    int
}

// Orders returns the orders on deal id, oldest first.
func (s *Server) Orders(id string) []Order {
	s.orders.mu.Lock()
	defer s.orders.mu.Unlock()
	out := make([]Order, 0, len(s.orders.orders[id]))
	for _, o := range s.orders.orders[id] {
		c := *o
		c.Lines = slices.Clone(o.Lines)
		out = append(out, c)
	}
	return out
}

var orderStatuses = []string{"open", "fulfilled", "cancelled"}

// money reads an amount of at most 2 decimals.
func money(s string) (decimal.Decimal, bool) {
	d, err := decimal.NewFromString(s)
	return d, err == nil && d.Exponent() >= -2
}

// postOrder is POST /api/deals/{id}/orders.
func (s *Server) postOrder(w http.ResponseWriter, r *http.Request) {
	_, id, ok := s.fileDeal(w, r)
	if !ok {
		return
	}
	if !slices.Contains(strings.Fields(s.opts.Scope), "deals:write") {
		apiError(w, http.StatusForbidden, "forbidden", "the token may not write deals")
		return
	}
	var o Order
	if err := json.NewDecoder(r.Body).Decode(&o); err != nil {
		apiError(w, http.StatusBadRequest, "bad_request", "the body is not an order: "+err.Error())
		return
	}
	if msg := checkOrder(&o); msg != "" {
		apiError(w, http.StatusUnprocessableEntity, "invalid", msg)
		return
	}
	s.orders.mu.Lock()
	defer s.orders.mu.Unlock()
	if s.orders.orders == nil {
		s.orders.orders = map[string][]*Order{}
	}
	s.orders.seq++
	o.ID = "order-" + strconv.Itoa(s.orders.seq)
	s.orders.orders[id] = append(s.orders.orders[id], &o)
	emulator.JSON(w, contentType, http.StatusCreated, o)
}

// checkOrder says what is wrong with an order to create, "" when nothing.
func checkOrder(o *Order) string {
	switch {
	case o.Number == "":
		return "an order needs a number"
	case len(o.Currency) != 3:
		return "an order needs a currency (ISO 4217)"
	case !slices.Contains(orderStatuses, o.Status):
		return "status must be open, fulfilled or cancelled"
	}
	if _, ok := money(o.Total); !ok {
		return "total must be an amount of at most 2 decimals"
	}
	for i, l := range o.Lines {
		q, err := decimal.NewFromString(l.Quantity)
		price, okPrice := money(l.Price)
		net, okNet := money(l.Net)
		switch {
		case err != nil || !q.IsPositive():
			return "line " + strconv.Itoa(i+1) + ": quantity must be a positive number"
		case !okPrice || !okNet:
			return "line " + strconv.Itoa(i+1) + ": price and net must be amounts of at most 2 decimals"
		case !q.Mul(price).Round(2).Equal(net):
			return "line " + strconv.Itoa(i+1) + ": net " + net.String() + " is not quantity × price (" + q.Mul(price).Round(2).String() + ")"
		}
	}
	return ""
}

// listOrders is GET /api/deals/{id}/orders.
func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) {
	_, id, ok := s.fileDeal(w, r)
	if !ok {
		return
	}
	number := r.URL.Query().Get("number")
	s.orders.mu.Lock()
	defer s.orders.mu.Unlock()
	out := []*Order{}
	for _, o := range s.orders.orders[id] {
		if number == "" || o.Number == number {
			out = append(out, o)
		}
	}
	emulator.JSON(w, contentType, http.StatusOK, map[string]any{"orders": out})
}

// patchOrder is PATCH /api/orders/{id}.
func (s *Server) patchOrder(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.bearer(w, r); !ok || s.overLimit(w) {
		return
	}
	if !slices.Contains(strings.Fields(s.opts.Scope), "deals:write") {
		apiError(w, http.StatusForbidden, "forbidden", "the token may not write deals")
		return
	}
	var body struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || !slices.Contains(orderStatuses, body.Status) {
		apiError(w, http.StatusUnprocessableEntity, "invalid", "status must be open, fulfilled or cancelled")
		return
	}
	s.orders.mu.Lock()
	defer s.orders.mu.Unlock()
	for deal, list := range s.orders.orders {
		for _, o := range list {
			if o.ID != r.PathValue("id") {
				continue
			}
			s.files.mu.Lock()
			gone := s.files.gone[deal]
			s.files.mu.Unlock()
			if gone {
				break
			}
			if o.Status != body.Status {
				if o.Status != "open" {
					apiError(w, http.StatusUnprocessableEntity, "invalid", "order "+o.Number+" is "+o.Status+": it cannot become "+body.Status)
					return
				}
				o.Status = body.Status
				o.Updates++
			}
			emulator.JSON(w, contentType, http.StatusOK, o)
			return
		}
	}
	apiError(w, http.StatusNotFound, "not_found", "no such order")
}
