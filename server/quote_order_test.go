package server

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/qwoty/companion/store/storetest"
)

var orderVersionPattern = regexp.MustCompile(`&#34;fulfilled&#34;,&#34;version&#34;:&#34;(\d+)&#34;`)

// On the card: an accepted quote loads its order panel (number, status,
// total, lines, when it was made); the rep marks it fulfilled with the
// order's version (a stale one is refused), after which it offers no move.
// The order is found through the card's record: a card on another record
// does not reach it. An order the CRM made offers no move, and a forged
// move is refused with order_read_only.
func TestCardOrder(t *testing.T) {
	a := newApp(t, "", nil)
	org := orgID(t, "00D00000000000A")
	conn := a.connect("Acme", org, "acme")
	tok := cardOn(t, a, conn, recordA)
	version := func(r response) string { return string(versionPattern.FindSubmatch(r.body)[1]) }

	id := newQuote(t, a, tok)
	base := "/embed/api/quotes/" + id
	r := a.action(http.MethodGet, base, tok, nil)
	r = a.action(http.MethodPost, base+"/lines", tok, map[string]string{"version": version(r), "sku": "LIC", "description": "Licence", "quantity": "3", "unit_price": "10"})
	r = a.action(http.MethodPost, base+"/lines", tok, map[string]string{"version": version(r), "sku": "SUP", "description": "Support", "quantity": "1", "unit_price": "100"})
	r = a.action(http.MethodPost, base+"/status", tok, map[string]string{"version": version(r), "status": "sent"})
	if strings.Contains(string(r.body), `id="order"`) {
		t.Fatalf("a sent quote shows an order slot:\n%s", r.body)
	}
	if none := a.action(http.MethodGet, base+"/order", tok, nil); none.status != 200 || !strings.Contains(string(none.body), `id="no-order"`) {
		t.Fatalf("the order of a sent quote: %d\n%s", none.status, none.body)
	}
	r = a.action(http.MethodPost, base+"/status", tok, map[string]string{"version": version(r), "status": "accepted"})
	if !strings.Contains(string(r.body), `hx-get="`+base+`/order"`) {
		t.Fatalf("an accepted quote: no order slot:\n%s", r.body)
	}
	r = a.action(http.MethodGet, base+"/order", tok, nil)
	body := string(r.body)
	for _, want := range []string{`id="order-number">O-00001`, `data-status="open"`, "130.00</dd>", `id="order-lines">2 lines`,
		`id="order-made">`, `id="order-fulfilled"`, `id="order-cancelled"`, `hx-post="` + base + `/order/status"`} {
		if !strings.Contains(body, want) {
			t.Fatalf("the order panel: no %q in\n%s", want, body)
		}
	}
	ov := string(orderVersionPattern.FindSubmatch(r.body)[1])

	// Another record's card does not reach it.
	other := cardOn(t, a, conn, recordB)
	a.action(http.MethodGet, base+"/order", other, nil).wantError(t, 404, "not_found")
	a.action(http.MethodPost, base+"/order/status", other, map[string]string{"version": ov, "status": "cancelled"}).wantError(t, 404, "not_found")

	a.action(http.MethodPost, base+"/order/status", tok, map[string]string{"version": "9", "status": "fulfilled"}).wantError(t, 409, "version_conflict")
	a.action(http.MethodPost, base+"/order/status", tok, map[string]string{"version": ov, "status": "open"}).wantError(t, 422, "validation_failed")
	r = a.action(http.MethodPost, base+"/order/status", tok, map[string]string{"version": ov, "status": "fulfilled"})
	body = string(r.body)
	if r.status != 200 || !strings.Contains(body, `data-status="fulfilled"`) || strings.Contains(body, `id="order-actions"`) {
		t.Fatalf("fulfilled: %d\n%s", r.status, body)
	}
	a.action(http.MethodPost, base+"/order/status", tok, map[string]string{"version": "2", "status": "cancelled"}).wantError(t, 409, "invalid_status_transition")

	// An order the CRM owns.
	if _, err := storetest.Pool(t, a.db).Exec(context.Background(), `UPDATE orders SET origin = 'crm', status = 'open' WHERE quote_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	r = a.action(http.MethodGet, base+"/order", tok, nil)
	if body := string(r.body); !strings.Contains(body, `id="order-crm"`) || strings.Contains(body, `id="order-actions"`) {
		t.Fatalf("a CRM order's panel:\n%s", body)
	}
	a.action(http.MethodPost, base+"/order/status", tok, map[string]string{"version": "2", "status": "cancelled"}).wantError(t, 409, "order_read_only")
}
