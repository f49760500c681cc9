package pipedrive_test

import (
	"strconv"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm/pipedrive/pdtest"
)

// A line taken from Pipedrive's catalogue (its ProductID set, a pulled
// product) is attached with that product: no search, no product of
// Qwoty's own; a line without one still gets Qwoty's.
func TestPushUsesPulledProduct(t *testing.T) {
	e := newSyncEnv(t, pdtest.Options{NoBurst: true})
	pid := e.pd.PutProduct(company, pdtest.Product{Name: "Catalogue widget", Code: "CAT-1",
		Prices: map[string]decimal.Decimal{"EUR": decimal.NewFromInt(40)}})
	fromCatalog := line(1, "CAT-1", "Catalogue widget", "2", "40", "0")
	fromCatalog.ProductID = strconv.FormatInt(pid, 10)
	free := line(2, "FREE-1", "Free line", "1", "5", "0")
	before := len(e.pd.Products(company))

	e.pushOK(t, dealOf(pdtest.DefaultDealID, pquote("00000000-0000-4000-8000-0000000000a1", fromCatalog, free), ""))

	got := e.products(t, pdtest.DefaultDealID)
	if ps := got[fromCatalog.Ref]; len(ps) != 1 || ps[0].ProductID != pid {
		t.Errorf("the catalogue line's deal products %+v, want one of product %d", ps, pid)
	}
	if ps := got[free.Ref]; len(ps) != 1 || ps[0].ProductID == pid {
		t.Errorf("the free line's deal products %+v, want one of a product of its own", ps)
	}
	// Only the free line's product was looked up and made.
	if n := len(e.pd.Products(company)); n != before+1 {
		t.Errorf("%d products made, want 1 (the free line's)", n-before)
	}
	if n := e.pd.APICalls("/api/v2/products/search"); n != 1 {
		t.Errorf("%d product searches, want 1 (the free line's)", n)
	}
}
