package hstest_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/qwoty/companion/crm/hubspot/hstest"
)

// The orders API refuses what an order may not be (no name, no stage, a
// stage outside the pipeline, a line item that already has a parent, an
// unknown property), answers under each name of the type, moves a stage,
// and lists the deal's orders.
func TestOrdersCreateUpdateAndRefusals(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	at := tokens(t, srv)["access_token"].(string)
	open, delivered := hstest.OrderStages[0].ID, hstest.OrderStages[3].ID
	lineUnderDeal := srv.PutLineItem(hstest.DefaultPortalID, hstest.DefaultDealID, map[string]string{"name": "x", "quantity": "1", "price": "1"})
	toDeal := map[string]any{"to": map[string]string{"id": hstest.DefaultDealID},
		"types": []map[string]any{{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": hstest.OrderToDeal}}}
	toLine := map[string]any{"to": map[string]string{"id": lineUnderDeal},
		"types": []map[string]any{{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": hstest.OrderToLineItem}}}
	create := func(path string, props map[string]string, assocs ...any) (int, map[string]any) {
		b, _ := json.Marshal(map[string]any{"properties": props, "associations": assocs})
		return send(t, srv, http.MethodPost, path, at, "application/json", b)
	}
	for name, c := range map[string]struct {
		props  map[string]string
		assocs []any
	}{
		"no name":          {map[string]string{"hs_pipeline_stage": open}, nil},
		"no stage":         {map[string]string{"hs_order_name": "O-1"}, nil},
		"foreign stage":    {map[string]string{"hs_order_name": "O-1", "hs_pipeline_stage": "closedwon"}, nil},
		"unknown property": {map[string]string{"hs_order_name": "O-1", "hs_pipeline_stage": open, "colour": "red"}, nil},
		"bad total":        {map[string]string{"hs_order_name": "O-1", "hs_pipeline_stage": open, "hs_total_price": "ten"}, nil},
		"line with parent": {map[string]string{"hs_order_name": "O-1", "hs_pipeline_stage": open}, []any{toLine}},
	} {
		if status, _ := create("/crm/objects/2026-03/orders", c.props, c.assocs...); status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, status)
		}
	}
	status, body := create("/crm/v3/objects/order", map[string]string{"hs_order_name": "O-1", "hs_pipeline_stage": open, "hs_total_price": "10"}, toDeal)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, body)
	}
	id := body["id"].(string)
	b, _ := json.Marshal(map[string]any{"properties": map[string]string{"hs_pipeline_stage": delivered}})
	if status, body := send(t, srv, http.MethodPatch, "/crm/objects/2026-03/0-123/"+id, at, "application/json", b); status != http.StatusOK {
		t.Fatalf("update: %d %v", status, body)
	}
	orders := srv.Orders(hstest.DefaultPortalID, hstest.DefaultDealID)
	if len(orders) != 1 || orders[0].Properties["hs_pipeline_stage"] != delivered || orders[0].Properties["hs_pipeline"] != hstest.OrderPipeline {
		t.Errorf("deal's orders %+v, want one, delivered, in the default pipeline", orders)
	}
	status, list := get(t, srv, "/crm/v4/objects/deals/"+hstest.DefaultDealID+"/associations/orders", at)
	if res, _ := list["results"].([]any); status != http.StatusOK || len(res) != 1 {
		t.Errorf("deal's order associations: %d %v", status, list)
	}
	if status, _ := send(t, srv, http.MethodPatch, "/crm/objects/2026-03/orders/999999", at, "application/json", b); status != http.StatusNotFound {
		t.Errorf("update of no order: %d, want 404", status)
	}

	srv.SetNoOrders(hstest.DefaultPortalID, true)
	status, body = create("/crm/objects/2026-03/orders", map[string]string{"hs_order_name": "O-2", "hs_pipeline_stage": open}, toDeal)
	if status != http.StatusNotFound || body["message"] != "Unable to infer object type from: orders" {
		t.Errorf("account without orders: %d %v, want 404 as for an unknown type", status, body)
	}
}
