package salesforce_test

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// The calls a full pull of a catalogue takes: N products with a standard
// price each (2,100 by default; QWOTY_PULL_PRODUCTS=50000 gives the
// figure in docs/sync-salesforce.md). A page is 2,000 rows and one call;
// a listing ends with a page that is not full.
func TestPullCatalogueCalls(t *testing.T) {
	n := 2100
	if v, err := strconv.Atoi(os.Getenv("QWOTY_PULL_PRODUCTS")); err == nil && v > 0 {
		n = v
	}
	w := newPullWorld(t, 0)
	products := make([]map[string]any, n)
	for i := range products {
		products[i] = map[string]any{"Name": fmt.Sprintf("Product %d", i), "ProductCode": fmt.Sprintf("SKU-%05d", i), "IsActive": true}
	}
	ids, err := w.emu.InsertMany(w.org, "Product2", products)
	if err != nil {
		t.Fatal(err)
	}
	std := w.emu.StandardPricebook(w.org)
	entries := make([]map[string]any, n)
	for i, id := range ids {
		entries[i] = map[string]any{"Pricebook2Id": std, "Product2Id": id, "UnitPrice": 10 + i%90, "IsActive": true}
	}
	if _, err := w.emu.InsertMany(w.org, "PricebookEntry", entries); err != nil {
		t.Fatal(err)
	}
	before := w.emu.Requests()
	rep := w.pull(t)
	calls := int(w.emu.Requests() - before)
	pages := n/2000 + 1
	// The org's facts (2), one page of customers and of deals, then the
	// products' and the prices' pages.
	if want := 2 + 1 + 1 + 2*pages; calls != want || rep.Calls != want {
		t.Errorf("a full pull of %d products and prices made %d requests (report %d), want %d", n, calls, rep.Calls, want)
	}
	var stored int
	w.scalar(t, &stored, `SELECT count(*) FROM catalog_prices WHERE connection_id = $1`)
	if stored != n {
		t.Errorf("%d prices stored, want %d", stored, n)
	}
	t.Logf("full pull of %d products and their prices: %d calls", n, calls)
}
