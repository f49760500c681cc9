package store_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

var catalogT0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

// product is a pulled catalogue product with its prices ("USD:12.50").
func product(id, sku, name string, active bool, prices ...string) crm.Pulled {
	p := &crm.PulledProduct{SKU: sku, Name: name, Active: active}
	for _, pr := range prices {
		p.Prices = append(p.Prices, crm.PulledPrice{Currency: pr[:3], UnitPrice: decimal.RequireFromString(pr[4:]), Active: true})
	}
	return crm.Pulled{Kind: crm.KindProduct, ID: id, Modified: catalogT0, Product: p}
}

func skus(items []qwoty.CatalogItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.SKU
	}
	return out
}

// The search ranks SKU prefixes, then name prefixes, then a word of the
// name, then any substring; it lists only the connection's own products,
// active, not deleted, with an active price in the quote's currency.
func TestSearchCatalog(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	b := addOrg(t, db, "B", "00D00000000000BBBB")
	if _, err := db.StorePulled(ctx, a.WorkspaceID, a.ID, []crm.Pulled{
		product("01t1", "WID-100", "Blue gadget", true, "USD:12.50", "EUR:11"),
		product("01t2", "GAD-1", "Gadget pro", true, "USD:99"),
		product("01t3", "X-9", "Super gadget case", true, "USD:5"),
		product("01t4", "Y-1", "Megagadget", true, "USD:7"),
		product("01t5", "GAD-OLD", "Gadget retired", false, "USD:1"), // inactive
		product("01t6", "GAD-DEL", "Gadget deleted", true, "USD:1"),  // deleted below
		product("01t7", "GAD-EUR", "Gadget in euros", true, "EUR:3"), // no USD price
		product("01t8", "50%_OFF", "Promo", true, "USD:0"),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.StorePulled(ctx, a.WorkspaceID, a.ID, []crm.Pulled{{Kind: crm.KindProduct, ID: "01t6", Modified: catalogT0.Add(time.Minute), Deleted: true}}); err != nil {
		t.Fatal(err)
	}
	// The other connection's gadget must never show in a's search.
	if _, err := db.StorePulled(ctx, b.WorkspaceID, b.ID, []crm.Pulled{product("01t1", "GAD-B", "Gadget of B", true, "USD:1")}); err != nil {
		t.Fatal(err)
	}
	sa := store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID}
	got, err := db.SearchCatalog(ctx, sa, "USD", "gad", 20)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"GAD-1", "WID-100", "X-9", "Y-1"} // SKU prefix, name word, name word, substring
	if fmt.Sprint(skus(got)) != fmt.Sprint(want) {
		t.Fatalf("gad: %v, want %v", skus(got), want)
	}
	if got[0].ProductID != "01t2" || !got[0].UnitPrice.Equal(decimal.NewFromInt(99)) || got[0].Currency != "USD" {
		t.Fatalf("first: %+v", got[0])
	}
	// A name prefix beats a word inside a name.
	got, _ = db.SearchCatalog(ctx, sa, "usd", "blue", 20)
	if fmt.Sprint(skus(got)) != "[WID-100]" {
		t.Fatalf("blue: %v", skus(got))
	}
	got, _ = db.SearchCatalog(ctx, sa, "USD", "super", 20)
	if fmt.Sprint(skus(got)) != "[X-9]" {
		t.Fatalf("super: %v", skus(got))
	}
	// The currency decides the price, and which products are there.
	got, _ = db.SearchCatalog(ctx, sa, "EUR", "gad", 20)
	if fmt.Sprint(skus(got)) != "[GAD-EUR WID-100]" || !got[1].UnitPrice.Equal(decimal.NewFromInt(11)) {
		t.Fatalf("gad in EUR: %v %+v", skus(got), got)
	}
	// The limit holds; LIKE's wildcards are matched as themselves.
	if got, _ = db.SearchCatalog(ctx, sa, "USD", "gad", 2); len(got) != 2 {
		t.Fatalf("limit 2: %v", skus(got))
	}
	if got, _ = db.SearchCatalog(ctx, sa, "USD", "%", 20); fmt.Sprint(skus(got)) != "[50%_OFF]" {
		t.Fatalf("%%: %v", skus(got))
	}
	if got, _ = db.SearchCatalog(ctx, sa, "USD", "_", 20); fmt.Sprint(skus(got)) != "[50%_OFF]" {
		t.Fatalf("_: %v", skus(got))
	}
	// b sees only its own product, under the same CRM id as a's.
	got, _ = db.SearchCatalog(ctx, store.Scope{WorkspaceID: b.WorkspaceID, ConnectionID: b.ID}, "USD", "gad", 20)
	if fmt.Sprint(skus(got)) != "[GAD-B]" {
		t.Fatalf("b: %v", skus(got))
	}
	// A scope mixing one workspace with another's connection finds nothing.
	if got, _ = db.SearchCatalog(ctx, store.Scope{WorkspaceID: b.WorkspaceID, ConnectionID: a.ID}, "USD", "gad", 20); len(got) != 0 {
		t.Fatalf("b's workspace, a's connection: %v", skus(got))
	}
	if got, _ = db.SearchCatalog(ctx, sa, "USD", "", 20); len(got) != 0 {
		t.Fatalf("empty query: %v", skus(got))
	}
}

// A line picked from the catalogue keeps its product through the store
// and into the push snapshot; a product the connection does not have is
// refused with a validation error.
func TestQuoteLineProductRoundTrip(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	b := addOrg(t, db, "B", "00D00000000000BBBB")
	if _, err := db.StorePulled(ctx, a.WorkspaceID, a.ID, []crm.Pulled{product("01tA", "GAD-1", "Gadget", true, "USD:99")}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.StorePulled(ctx, b.WorkspaceID, b.ID, []crm.Pulled{product("01tB", "GAD-B", "Gadget of B", true, "USD:1")}); err != nil {
		t.Fatal(err)
	}
	s := store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID, RecordID: "006000000000001AAA"}
	q, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	items, _ := db.SearchCatalog(ctx, s, "USD", "gad", 20)
	if len(items) != 1 {
		t.Fatalf("search: %v", items)
	}
	q, err = db.UpdateQuote(ctx, s, q.ID, 0, "u", func(q *qwoty.Quote) error { return q.AddLine(items[0].LineFrom()) })
	if err != nil {
		t.Fatal(err)
	}
	if l := q.Lines[0]; l.ProductID != "01tA" || l.SKU != "GAD-1" || !l.UnitPrice.Equal(decimal.NewFromInt(99)) {
		t.Fatalf("line: %+v", l)
	}
	snaps, err := db.SyncSnapshots(ctx, a.ID, []string{s.RecordID})
	if err != nil || len(snaps) != 1 || len(snaps[0].Quotes) != 1 || snaps[0].Quotes[0].Lines[0].ProductID != "01tA" {
		t.Fatalf("snapshot: %+v, %v", snaps, err)
	}
	// b's product, or a made-up one, is refused, and nothing is written.
	for _, id := range []string{"01tB", "01tNOPE"} {
		l, _ := qwoty.ParseLine(qwoty.LineInput{SKU: "X", Quantity: "1", UnitPrice: "1", ProductID: id})
		_, err := db.UpdateQuote(ctx, s, q.ID, 0, "u", func(q *qwoty.Quote) error { return q.AddLine(l) })
		var e *qwoty.Error
		if !errors.As(err, &e) || e.Code != qwoty.CodeValidation || e.Field != "product_id" {
			t.Fatalf("product %s: %v, want a validation error on product_id", id, err)
		}
	}
	got, _ := db.GetQuote(ctx, s, q.ID)
	if len(got.Lines) != 1 {
		t.Fatalf("%d lines after refused adds", len(got.Lines))
	}
	// Changing a line to a free one clears its product; an untouched line
	// whose product was since deleted in the CRM does not block other edits.
	free := got.Lines[0]
	free.ProductID = ""
	if got, err = db.UpdateQuote(ctx, s, q.ID, 0, "u", func(q *qwoty.Quote) error { return q.UpdateLine(free.ID, free) }); err != nil || got.Lines[0].ProductID != "" {
		t.Fatalf("free line: %+v, %v", got, err)
	}
	back := got.Lines[0]
	back.ProductID = "01tA"
	if _, err = db.UpdateQuote(ctx, s, q.ID, 0, "u", func(q *qwoty.Quote) error { return q.UpdateLine(back.ID, back) }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.StorePulled(ctx, a.WorkspaceID, a.ID, []crm.Pulled{{Kind: crm.KindProduct, ID: "01tA", Modified: catalogT0.Add(time.Hour), Deleted: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err = db.UpdateQuote(ctx, s, q.ID, 0, "u", func(q *qwoty.Quote) error { return q.SetTerms(qwoty.Terms{Title: "Renamed"}) }); err != nil {
		t.Fatalf("an edit of a quote whose line's product was deleted: %v", err)
	}
}
