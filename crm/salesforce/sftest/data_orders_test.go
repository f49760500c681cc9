package sftest_test

import (
	"strings"
	"testing"

	"github.com/qwoty/companion/crm/salesforce/sftest"
)

// Orders on the wire: the fields an order needs, Draft at creation,
// activation only with products, products of the order's price book only,
// an activated order's products locked, the contract the org may need.
func TestOrderRules(t *testing.T) {
	r := newREST(t, sftest.Org{})
	org := sftest.DefaultOrgID
	std := r.srv.StandardPricebook(org)
	acc, _ := r.srv.Insert(org, "Account", map[string]any{"Name": "Acme"})
	entry := r.product("Widget", 10)

	status, body, _ := r.do("POST", api+"/sobjects/Order", map[string]any{"Status": "Draft"})
	if status != 400 || !strings.Contains(toJSON(body), "REQUIRED_FIELD_MISSING") || !strings.Contains(toJSON(body), "AccountId") ||
		!strings.Contains(toJSON(body), "EffectiveDate") {
		t.Fatalf("an order without its required fields = %d %v", status, body)
	}
	order := map[string]any{"AccountId": acc, "EffectiveDate": "2026-11-29", "Pricebook2Id": std, "OrderReferenceNumber": "O-00001"}
	order["Status"] = "Activated"
	if status, body, _ = r.do("POST", api+"/sobjects/Order", order); status != 400 || !strings.Contains(toJSON(body), "FIELD_INTEGRITY_EXCEPTION") {
		t.Fatalf("a new order activated = %d %v", status, body)
	}
	order["Status"] = "Shipped"
	if status, body, _ = r.do("POST", api+"/sobjects/Order", order); status != 400 || !strings.Contains(toJSON(body), "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST") {
		t.Fatalf("a status the org lacks = %d %v", status, body)
	}
	order["Status"] = "Draft"
	status, body, _ = r.do("POST", api+"/sobjects/Order", order)
	if status != 201 {
		t.Fatalf("a draft order = %d %v", status, body)
	}
	id := body.(map[string]any)["id"].(string)
	if status, body, _ = r.do("PATCH", api+"/sobjects/Order/"+id, map[string]any{"Status": "Activated"}); status != 400 || !strings.Contains(toJSON(body), "without products") {
		t.Fatalf("activating an order without products = %d %v", status, body)
	}

	// A product of another price book is refused, in the org's words.
	p, _ := r.srv.Insert(org, "Product2", map[string]any{"Name": "Gadget", "IsActive": true})
	custom, _ := r.srv.Insert(org, "Pricebook2", map[string]any{"Name": "Partners", "IsActive": true})
	if _, err := r.srv.Insert(org, "PricebookEntry", map[string]any{"Pricebook2Id": std, "Product2Id": p, "UnitPrice": 6, "IsActive": true}); err != nil {
		t.Fatal(err)
	}
	other, err := r.srv.Insert(org, "PricebookEntry", map[string]any{"Pricebook2Id": custom, "Product2Id": p, "UnitPrice": 5, "IsActive": true})
	if err != nil {
		t.Fatal(err)
	}
	status, body, _ = r.do("POST", api+"/sobjects/OrderItem", map[string]any{"OrderId": id, "PricebookEntryId": other, "Quantity": 1, "UnitPrice": 5})
	if status != 400 || !strings.Contains(toJSON(body), "Order Products must have a Price Book Entry that belongs to the Price Book related to the parent Order.") {
		t.Fatalf("a product of another price book = %d %v", status, body)
	}
	if status, body, _ = r.do("POST", api+"/sobjects/OrderItem", map[string]any{"OrderId": id, "PricebookEntryId": entry, "Quantity": 3}); status != 400 ||
		!strings.Contains(toJSON(body), "UnitPrice") {
		t.Fatalf("a product without its unit price = %d %v", status, body)
	}
	status, body, _ = r.do("POST", api+"/sobjects/OrderItem", map[string]any{"OrderId": id, "PricebookEntryId": entry, "Quantity": 3, "UnitPrice": 6.67})
	if status != 201 {
		t.Fatalf("a product = %d %v", status, body)
	}
	item := body.(map[string]any)["id"].(string)
	rec := r.srv.Record(org, "Order", id)
	if rec.Decimal("TotalAmount").String() != "20.01" {
		t.Fatalf("TotalAmount %s, want 3 × 6.67", rec.Decimal("TotalAmount"))
	}

	// Activated: its products are locked, its price book too.
	if status, body, _ = r.do("PATCH", api+"/sobjects/Order/"+id, map[string]any{"Status": "Activated"}); status != 204 {
		t.Fatalf("activating = %d %v", status, body)
	}
	if status, body, _ = r.do("PATCH", api+"/sobjects/OrderItem/"+item, map[string]any{"Quantity": 4}); status != 400 {
		t.Fatalf("changing an activated order's product = %d %v", status, body)
	}
	if status, body, _ = r.do("DELETE", api+"/sobjects/OrderItem/"+item, nil); status != 400 {
		t.Fatalf("deleting an activated order's product = %d %v", status, body)
	}
	if status, body, _ = r.do("PATCH", api+"/sobjects/Order/"+id, map[string]any{"Pricebook2Id": custom}); status != 400 {
		t.Fatalf("changing an activated order's price book = %d %v", status, body)
	}
	rows := r.query("SELECT Id, Status FROM Order WHERE OrderReferenceNumber = 'O-00001'")
	if len(rows) != 1 || rows[0].(map[string]any)["Status"] != "Activated" {
		t.Fatalf("the order by its reference: %v", rows)
	}

	// "Enable orders without contracts" off: a contract is required.
	r.srv.SetOrdersNeedContract(org, true)
	delete(order, "OrderReferenceNumber")
	if status, body, _ = r.do("POST", api+"/sobjects/Order", order); status != 400 || !strings.Contains(toJSON(body), "[ContractId]") {
		t.Fatalf("an order without a contract = %d %v", status, body)
	}
	contract, err := r.srv.Insert(org, "Contract", map[string]any{"AccountId": acc, "StartDate": "2026-01-01", "ContractTerm": 12})
	if err != nil {
		t.Fatal(err)
	}
	order["ContractId"] = contract
	if status, body, _ = r.do("POST", api+"/sobjects/Order", order); status != 201 {
		t.Fatalf("an order with its contract = %d %v", status, body)
	}
}
