package pipedrive

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Orders (issue 18, docs/sync-pipedrive.md "Orders"). Pipedrive has no
// orders: Qwoty's order marks its deal won and is written, as text, into
// the deal's custom field OrderFieldName: its number, its status once it is
// no longer open, and its link in Qwoty ("O-00042 · https://…",
// "O-00042 · cancelled · https://…"). A cancelled order leaves the deal's
// status as it is (won, unless someone changed it): cancelling an order
// does not lose the sale in Pipedrive's sense, and what to do of the deal is
// the rep's call; the field says it is cancelled.
//
// The field is found among the company's deal fields by its name (Fields
// API v2, Cost 10) on every order call, or made once (POST /api/v1/dealFields,
// a varchar field): a field made by an attempt whose answer was lost is
// found by its name the next time. An order's CRM id is the deal's id, the
// field's code and the order's number, "<deal id>:<field code>:<number>":
// the orders of one deal share its field, and each must still be one CRM
// order of its own (Qwoty holds one order per CRM id). FindOrder reads the
// deal (Cost 1) and finds the order when the field holds its number.

var _ crm.OrderSyncer = (*Adapter)(nil)

// OrderFieldName is the name of the deal field Qwoty's orders are written
// in.
const OrderFieldName = "Qwoty order"

// Token costs of the order calls: "Get one deal" (v2) is 1; v1's "Add a
// new deal field" is taken at the rate-limiting table's 10 for a v1 write
// (assumed).
const (
	costGetDeal  = 1
	costAddField = 10
)

// orderFieldSep separates the parts of the field's value.
const orderFieldSep = " · "

// OrdersReady: an order writes a deal and its fields, which deals:full
// covers, as sync's.
func (a *Adapter) OrdersReady(conn *qwoty.Connection) error { return a.Sync().Ready(conn) }

// OrderFieldValue is what the deal's order field holds of o: its number,
// its status unless open, its link (left out when the whole would pass
// the field's 255 characters).
func OrderFieldValue(o crm.OrderPush) string {
	parts := []string{o.Number}
	if o.Status != qwoty.OrderOpen {
		parts = append(parts, string(o.Status))
	}
	v := strings.Join(parts, orderFieldSep)
	if o.Link != "" && len([]rune(v+orderFieldSep+o.Link)) <= 255 {
		v += orderFieldSep + o.Link
	}
	return v
}

// orderField finds the deal field OrderFieldName and returns its code; ""
// when there is none and create is false, else it makes it (textField).
func (p *pusher) orderField(ctx context.Context, create bool) (string, error) {
	return p.textField(ctx, fieldPaths["deal"], "/api/v1/dealFields", "deal", OrderFieldName, "writes its orders", create)
}

// dealID reads a Pipedrive deal id.
func dealID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, crm.Rejected(fmt.Errorf("%q is not a Pipedrive deal id", s))
	}
	return id, nil
}

// FindOrder reads the deal's order field: o is there when it holds o's
// number.
func (a *Adapter) FindOrder(ctx context.Context, s crm.Session, b crm.Budget, o crm.OrderPush) (string, error) {
	id, err := dealID(o.RecordID)
	if err != nil {
		return "", err
	}
	p := a.filer(s, b)
	code, err := p.orderField(ctx, false)
	if err != nil || code == "" {
		return "", orderError(id, err)
	}
	var deal struct {
		Custom map[string]any `json:"custom_fields"`
	}
	if err := p.do(ctx, request{method: http.MethodGet, path: "/api/v2/deals/" + strconv.FormatInt(id, 10), cost: costGetDeal}, &deal); err != nil {
		return "", orderError(id, err)
	}
	v, _ := deal.Custom[code].(string)
	if number, _, _ := strings.Cut(v, orderFieldSep); v != "" && number == o.Number {
		return orderCRMID(id, code, o.Number), nil
	}
	return "", nil
}

func orderCRMID(deal int64, code, number string) string {
	return strconv.FormatInt(deal, 10) + ":" + code + ":" + number
}

// PushOrder marks the deal won (an open or fulfilled order) and writes the
// order's number, status and link into its order field.
func (a *Adapter) PushOrder(ctx context.Context, s crm.Session, b crm.Budget, o crm.OrderPush) (string, error) {
	id, err := dealID(o.RecordID)
	if err != nil {
		return "", err
	}
	p := a.filer(s, b)
	code := ""
	if o.CRMID != "" {
		// "<deal id>:<field code>:<number>" (an id of the deal and the
		// field alone is read as well).
		parts := strings.SplitN(o.CRMID, ":", 3)
		if len(parts) < 2 || parts[0] != o.RecordID || !customCode.MatchString(parts[1]) {
			return "", crm.Rejected(fmt.Errorf("%q is not the CRM id of an order on Pipedrive deal %d", o.CRMID, id))
		}
		code = parts[1]
	}
	for try := 0; ; try++ {
		if code == "" {
			if code, err = p.orderField(ctx, true); err != nil {
				return "", orderError(id, err)
			}
		}
		body := map[string]any{"custom_fields": map[string]any{code: OrderFieldValue(o)}}
		if o.Status != qwoty.OrderCancelled {
			body["status"] = StageWon
		}
		err = p.do(ctx, request{method: http.MethodPatch, path: "/api/v2/deals/" + strconv.FormatInt(id, 10), body: body, cost: costUpdate}, nil)
		if err == nil {
			return orderCRMID(id, code, o.Number), nil
		}
		var ae *crm.APIError
		if try == 0 && errors.As(err, &ae) && ae.Status == http.StatusBadRequest && strings.Contains(ae.Message, code) {
			// The field is gone (deleted in Pipedrive): find or make it
			// again, once.
			code = ""
			continue
		}
		return "", orderError(id, err)
	}
}

// orderError classifies an order call's error as the push's: a deal gone
// is permanent, with what it means.
func orderError(deal int64, err error) error {
	if missing(err, "Deal not found") {
		return crm.Rejected(fmt.Errorf("deal %d is not in Pipedrive (deleted, or hidden from the connected user): %w", deal, err))
	}
	return classify(err)
}
