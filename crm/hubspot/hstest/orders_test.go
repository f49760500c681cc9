package hstest_test

import (
	"encoding/json"
	"net/http"
	"strconv"
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

// What pulling reads of orders: the search by hs_lastmodifieddate, an
// order's deals and line items through the associations' batch read (the
// line items only those whose parent it is), the archived orders' list,
// and the account without orders answering those as for an unknown type.
func TestOrdersSearchAndAssociations(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	at := tokens(t, srv)["access_token"].(string)
	id := srv.PutOrder(hstest.DefaultPortalID, map[string]string{"hs_order_name": "Web order", "hs_pipeline_stage": hstest.OrderStages[0].ID},
		[]string{hstest.DefaultDealID}, map[string]string{"name": "A", "quantity": "2", "price": "5"}, map[string]string{"name": "B", "quantity": "1", "price": "1"})
	srv.PutLineItem(hstest.DefaultPortalID, hstest.DefaultDealID, map[string]string{"name": "on the deal", "quantity": "1", "price": "1"})

	status, _, ans := postJSON(t, srv, "/crm/objects/2026-03/orders/search", at, map[string]any{
		"filterGroups": []any{map[string]any{"filters": []any{map[string]string{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "0"}}}},
		"sorts":        []any{map[string]string{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}},
		"properties":   []string{"hs_order_name", "hs_pipeline_stage"}, "limit": 10})
	res, _ := ans["results"].([]any)
	if status != http.StatusOK || len(res) != 1 || res[0].(map[string]any)["id"] != id {
		t.Fatalf("search of orders: %d %v, want the order %s", status, ans, id)
	}

	assoc := func(to string) (int, []any) {
		t.Helper()
		status, _, ans := postJSON(t, srv, "/crm/associations/2026-03/orders/"+to+"/batch/read", at, map[string]any{"inputs": []any{map[string]string{"id": id}}})
		res, _ := ans["results"].([]any)
		if len(res) != 1 {
			return status, nil
		}
		list, _ := res[0].(map[string]any)["to"].([]any)
		return status, list
	}
	if status, deals := assoc("deals"); status != http.StatusOK || len(deals) != 1 {
		t.Errorf("the order's deals: %d %v, want the deal", status, deals)
	}
	lines := srv.OrderLineItems(hstest.DefaultPortalID, id)
	status, got := assoc("line_items")
	if status != http.StatusOK || len(got) != 2 || len(lines) != 2 {
		t.Fatalf("the order's line items: %d %v, want its 2 (of %v)", status, got, lines)
	}
	for i, x := range got {
		m := x.(map[string]any)
		types := m["associationTypes"].([]any)
		if m["toObjectId"] != float64(mustAtoi(lines[i].ID)) ||
			types[0].(map[string]any)["typeId"] != float64(hstest.OrderToLineItem) {
			t.Errorf("line item association %d: %v, want %s of type %d", i, m, lines[i].ID, hstest.OrderToLineItem)
		}
	}

	// Archived, the order leaves the live reads for the recycle bin's list.
	if !srv.Archive(hstest.DefaultPortalID, "orders", id) {
		t.Fatalf("order %s not archived", id)
	}
	status, bin := get(t, srv, "/crm/objects/2026-03/orders?archived=true", at)
	if res, _ := bin["results"].([]any); status != http.StatusOK || len(res) != 1 || res[0].(map[string]any)["archivedAt"] == nil {
		t.Errorf("archived orders: %d %v, want the order with its archivedAt", status, bin)
	}
	if status, deals := assoc("deals"); status != http.StatusOK || len(deals) != 0 {
		t.Errorf("the archived order's deals: %d %v, want none", status, deals)
	}

	srv.SetNoOrders(hstest.DefaultPortalID, true)
	if status, _ := assoc("deals"); status != http.StatusNotFound {
		t.Errorf("associations of orders in an account without them: %d, want 404", status)
	}
}

func mustAtoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
