package salesforce_test

import (
	"testing"

	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/qwoty"
)

// A line taken from the org's catalogue (ProductID, a Product2 id) is
// pushed with that product's standard price book entry: no product of
// Qwoty's is made for its SKU.
func TestPushLineFromTheCatalogue(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	prod, err := e.emu.Insert(org, "Product2", map[string]any{"Name": "Catalogue widget", "ProductCode": "CW", "IsActive": true})
	if err != nil {
		t.Fatal(err)
	}
	entry, err := e.emu.Insert(org, "PricebookEntry", map[string]any{"Pricebook2Id": e.emu.StandardPricebook(org), "Product2Id": prod,
		"UnitPrice": 80, "IsActive": true})
	if err != nil {
		t.Fatal(err)
	}
	opp := e.opportunity("Catalogue deal")
	l := line("l1", "CW", "2", "75", "0")
	l.ProductID = prod[:15]
	own := line("l2", "OWN", "1", "10", "0")
	e.pushOK(deal(opp, "", 0, quote("q1", qwoty.StatusDraft, l, own)))
	items := e.emu.LineItems(org, opp)
	if len(items) != 2 {
		t.Fatalf("%d opportunity products, want 2", len(items))
	}
	for _, li := range items {
		switch li.String("Qwoty__Ref__c") {
		case l.Ref:
			if li.String("PricebookEntryId") != entry || li.String("Product2Id") != prod {
				t.Errorf("the catalogue line uses entry %s of product %s; want %s of %s", li.String("PricebookEntryId"),
					li.String("Product2Id"), entry, prod)
			}
			if !li.Decimal("UnitPrice").Equal(dec("75")) {
				t.Errorf("the catalogue line's price is %s, want the quote's 75", li.Decimal("UnitPrice"))
			}
		case own.Ref:
			if li.String("Product2Id") == prod {
				t.Error("a line without ProductID took the catalogue's product")
			}
		}
	}
	if got := e.emu.Records(org, "Product2", "Qwoty__Ref__c", "qwoty:product:CW"); len(got) != 0 {
		t.Errorf("a Qwoty product was made for the catalogue line's SKU: %v", got)
	}
	if got := e.emu.Records(org, "PricebookEntry", "Product2Id", prod); len(got) != 1 {
		t.Errorf("the catalogue product has %d entries, want its one", len(got))
	}
}
