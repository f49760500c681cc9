package server

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store/storetest"
)

var linePattern = regexp.MustCompile(`id="line-([0-9a-f-]{36})"`)

// pullProducts stores catalogue products pulled from conn's CRM, each
// priced in USD.
func pullProducts(t *testing.T, a *testApp, conn *qwoty.Connection, prods ...[3]string) {
	t.Helper()
	var recs []crm.Pulled
	for _, p := range prods {
		recs = append(recs, crm.Pulled{Kind: crm.KindProduct, ID: p[0], Modified: time.Now(), Product: &crm.PulledProduct{
			SKU: p[1], Name: p[2], Active: true,
			Prices: []crm.PulledPrice{{Currency: "USD", UnitPrice: decimal.RequireFromString("99.5"), Active: true}}}})
	}
	if _, err := a.db.StorePulled(context.Background(), conn.WorkspaceID, conn.ID, recs); err != nil {
		t.Fatal(err)
	}
}

// The add-line form's catalogue search lists the session's CRM account's
// products in the quote's currency, bounded; a line picked from it keeps
// its product; a product of another account is refused; and every call is
// scoped like the card's other actions.
func TestCardCatalogSearchAndPick(t *testing.T) {
	a := newApp(t, "", nil)
	conn := a.connect("Acme", orgID(t, "00D00000000000A"), "acme")
	other := a.connect("Globex", orgID(t, "00D00000000000G"), "globex")
	pullProducts(t, a, conn, [3]string{"01tA00000000001AAA", "GAD-1", "Gadget"}, [3]string{"01tA00000000002AAA", "WID-1", "Widget"})
	pullProducts(t, a, other, [3]string{"01tG00000000001AAA", "GAD-G", "Gadget of Globex"})
	tok := cardOn(t, a, conn, recordA)
	id := newQuote(t, a, tok)
	base := "/embed/api/quotes/" + id

	r := a.action(http.MethodGet, base+"/catalog?q=GAD", tok, nil)
	if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`data-product="01tA00000000001AAA"`)) ||
		!bytes.Contains(r.body, []byte(`data-price="99.50"`)) || bytes.Contains(r.body, []byte("Globex")) || bytes.Contains(r.body, []byte("WID-1")) {
		t.Fatalf("search gad: %d\n%s", r.status, r.body)
	}
	if r := a.action(http.MethodGet, base+"/catalog?q=nothing", tok, nil); r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`id="catalog-none"`)) {
		t.Fatalf("search with no match: %d\n%s", r.status, r.body)
	}
	// Bounds: a search over 100 characters, a limit out of 1..20.
	for _, q := range []string{"q=" + strings.Repeat("a", 101), "q=gad&limit=0", "q=gad&limit=21", "q=gad&limit=x"} {
		a.action(http.MethodGet, base+"/catalog?"+q, tok, nil).wantError(t, http.StatusUnprocessableEntity, qwoty.CodeValidation)
	}
	// Another record's quote, or another workspace's, is not found.
	foreign := newQuote(t, a, cardOn(t, a, other, recordA))
	elsewhere := newQuote(t, a, cardOn(t, a, conn, recordB))
	for _, q := range []string{foreign, elsewhere} {
		a.action(http.MethodGet, "/embed/api/quotes/"+q+"/catalog?q=gad", tok, nil).wantError(t, http.StatusNotFound, qwoty.CodeNotFound)
	}

	// Picking fills the form; the line keeps its product into the push.
	editor := a.action(http.MethodGet, base, tok, nil)
	if !bytes.Contains(editor.body, []byte(`id="catalog-q"`)) || !bytes.Contains(editor.body, []byte(`hx-trigger="input changed delay:200ms, search"`)) ||
		!bytes.Contains(editor.body, []byte(`name="product_id"`)) {
		t.Fatalf("the editor lacks the catalogue search:\n%s", editor.body)
	}
	add := url.Values{"sku": {"GAD-1"}, "description": {"Gadget"}, "quantity": {"2"}, "unit_price": {"99.50"}, "product_id": {"01tA00000000001AAA"}}
	if r := a.send(http.MethodPost, base+"/lines", tok, add, true); r.status != http.StatusOK {
		t.Fatalf("add a catalogue line: %d %s", r.status, r.body)
	}
	snaps, err := a.db.SyncSnapshots(context.Background(), conn.ID, []string{recordA})
	if err != nil || len(snaps) != 1 || len(snaps[0].Quotes[0].Lines) != 1 || snaps[0].Quotes[0].Lines[0].ProductID != "01tA00000000001AAA" {
		t.Fatalf("snapshot: %+v, %v", snaps, err)
	}
	// Editing the line's quantity (its form carries its product) keeps it.
	lineID := string(linePattern.FindSubmatch(a.action(http.MethodGet, base, tok, nil).body)[1])
	edit := url.Values{"sku": {"GAD-1"}, "description": {"Gadget"}, "quantity": {"3"}, "unit_price": {"99.50"}, "product_id": {"01tA00000000001AAA"}}
	if r := a.send(http.MethodPut, base+"/lines/"+lineID, tok, edit, true); r.status != http.StatusOK ||
		!bytes.Contains(r.body, []byte(`name="product_id" value="01tA00000000001AAA"`)) {
		t.Fatalf("edit the catalogue line: %d %s", r.status, r.body)
	}
	// Globex's product, or one too long to be an id, is refused.
	add.Set("product_id", "01tG00000000001AAA")
	if e := a.send(http.MethodPost, base+"/lines", tok, add, false).wantError(t, http.StatusUnprocessableEntity, qwoty.CodeValidation); !strings.Contains(e.Message, "catalogue") {
		t.Fatalf("another account's product: %q", e.Message)
	}
	add.Set("product_id", strings.Repeat("x", 65))
	a.send(http.MethodPost, base+"/lines", tok, add, false).wantError(t, http.StatusUnprocessableEntity, qwoty.CodeValidation)
	// A free line is still a line.
	add.Del("product_id")
	if r := a.send(http.MethodPost, base+"/lines", tok, add, true); r.status != http.StatusOK {
		t.Fatalf("add a free line: %d %s", r.status, r.body)
	}
}

// Sync now queues a fetch of the record from the CRM and makes its pending
// change due at once; it is scoped like every card action.
func TestCardSyncNow(t *testing.T) {
	a := newApp(t, "", nil)
	conn := a.connect("Acme", orgID(t, "00D00000000000A"), "acme")
	tok := cardOn(t, a, conn, recordA)
	id := newQuote(t, a, tok)
	ctx := context.Background()
	// An edit waits out the coalescing delay (5 s by default).
	if r := a.action(http.MethodPut, "/embed/api/quotes/"+id+"/terms", tok, map[string]string{"title": "Renewal", "tax_rate": "0"}); r.status != http.StatusOK {
		t.Fatalf("edit: %d %s", r.status, r.body)
	}
	var due bool
	if err := storetest.Pool(t, a.db).QueryRow(ctx, `SELECT due_at <= now() FROM sync_records WHERE connection_id = $1 AND crm_record_id = $2`, conn.ID, recordA).Scan(&due); err != nil || due {
		t.Fatalf("due before Sync now: %v %v (want the coalescing delay)", due, err)
	}
	pulls := func(record string) int {
		var n int
		if err := storetest.Pool(t, a.db).QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'sync_pull' AND args->>'connection_id' = $1 AND args->'ids' ? $2`,
			conn.ID, record).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	r := a.send(http.MethodPost, "/embed/api/quotes/"+id+"/sync/now", tok, nil, true)
	if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`id="sync-requested"`)) || !bytes.Contains(r.body, []byte(`id="sync-state"`)) {
		t.Fatalf("sync now: %d\n%s", r.status, r.body)
	}
	if err := storetest.Pool(t, a.db).QueryRow(ctx, `SELECT due_at <= now() FROM sync_records WHERE connection_id = $1 AND crm_record_id = $2`, conn.ID, recordA).Scan(&due); err != nil || !due {
		t.Fatalf("due after Sync now: %v %v", due, err)
	}
	if n := pulls(recordA); n != 1 {
		t.Fatalf("%d pulls of the record queued, want 1", n)
	}
	// Another record's quote is not found, and queues nothing.
	elsewhere := newQuote(t, a, cardOn(t, a, conn, recordB))
	a.send(http.MethodPost, "/embed/api/quotes/"+elsewhere+"/sync/now", tok, nil, false).wantError(t, http.StatusNotFound, qwoty.CodeNotFound)
	if n := pulls(recordB); n != 0 {
		t.Fatalf("%d pulls of another record queued", n)
	}
}
