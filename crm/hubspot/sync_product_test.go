package hubspot_test

import (
	"testing"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/qwoty"
)

// A line taken from the catalogue is created linked to its HubSpot product
// (hs_product_id), with the line's own price; a free line is not linked.
func TestSyncLineLinkedToProduct(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	e.hs.PutProduct(hstest.DefaultPortalID, hstest.Product{ID: "701", Properties: map[string]string{"name": "Licence", "price": "99", "hs_sku": "LIC"}})
	id := e.deal(1)
	catalogue := line("l1", "LIC", "Licence", "2", "80", "0")
	catalogue.ProductID = "701"
	free := line("l2", "", "Onboarding", "1", "500", "0")
	e.pushOK(e.dealOf(id, quote("q1", qwoty.StatusDraft, catalogue, free)))
	items := e.lineItems(id)
	l1, l2 := items[crm.Ref(crm.RefLine, "l1")], items[crm.Ref(crm.RefLine, "l2")]
	if got := e.hs.ProductOf(hstest.DefaultPortalID, l1.ID); got != "701" {
		t.Errorf("l1's hs_product_id = %q, want 701", got)
	}
	if l1.Properties["price"] != "80" {
		t.Errorf("l1's price = %q, want the line's own 80", l1.Properties["price"])
	}
	if got := e.hs.ProductOf(hstest.DefaultPortalID, l2.ID); got != "" {
		t.Errorf("the free line is linked to product %q", got)
	}
}
