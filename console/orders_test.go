package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// acceptQuote makes a quote of one line on record, sent then accepted,
// and returns its order.
func acceptQuote(t *testing.T, db *store.DB, conn *qwoty.Connection, record, customer string) *qwoty.Order {
	t.Helper()
	ctx := context.Background()
	s := store.Scope{WorkspaceID: conn.WorkspaceID, ConnectionID: conn.ID, RecordID: record}
	acct := "acct-" + strings.ReplaceAll(customer, " ", "-")
	if err := db.UpsertCustomer(ctx, conn.WorkspaceID, conn.ID, acct, customer); err != nil {
		t.Fatal(err)
	}
	q, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "EUR", Title: "Offer " + record, AccountID: acct, CreatedBy: "rep-a"})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []qwoty.Status{qwoty.StatusSent, qwoty.StatusAccepted} {
		if _, err := db.UpdateQuote(ctx, s, q.ID, 0, "rep-a", func(q *qwoty.Quote) error {
			if len(q.Lines) == 0 {
				if err := q.AddLine(qwoty.LineItem{SKU: "D-1", Description: "Desk", Quantity: decimal.RequireFromString("2"), UnitPrice: decimal.RequireFromString("10")}); err != nil {
					return err
				}
				q.Reprice()
			}
			return q.Transition(st)
		}); err != nil {
			t.Fatal(err)
		}
	}
	o, err := db.QuoteOrder(ctx, s, q.ID)
	if err != nil || o == nil {
		t.Fatalf("the order of %s: %v %v", q.Number, o, err)
	}
	return o
}

// The workspace's Orders page: every role reads it; filters by status,
// record and dates, a search by order or quote number or customer; one
// order shows its lines, totals, quote, CRM state and history. A member
// marks an open order fulfilled (with the version it read: a stale one is
// refused); a viewer cannot; an order the CRM owns offers no move and
// refuses one; another workspace's orders are neither listed nor shown
// nor changed.
func TestOrdersPage(t *testing.T) {
	e := newSyncEnv(t, "")
	ctx := context.Background()
	var made []*qwoty.Order
	for i := range 53 {
		made = append(made, acceptQuote(t, e.db, e.conn, fmt.Sprintf("deal-%02d", i%5), fmt.Sprintf("Customer %02d_x", i)))
	}
	other, err := e.db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Globex", Provider: qwoty.ProviderHubSpot, ExternalID: "999"})
	if err != nil {
		t.Fatal(err)
	}
	theirs := acceptQuote(t, e.db, other, "deal-00", "Globex secret customer")

	rows := func(body []byte) int { return strings.Count(string(body), `<tr id="order-`) }
	viewer := e.user(t, "viewer")
	viewer.Get(e.url()+"/orders").Want(200, "/orders", `id="orders"`, `id="older"`, `href="/orders">Orders</a>`)
	if n := rows(viewer.Body); n != 50 {
		t.Fatalf("first page: %d rows, want 50", n)
	}
	if strings.Contains(string(viewer.Body), "Globex secret customer") {
		t.Fatal("another workspace's order is listed")
	}
	older := strings.ReplaceAll(pageLink(t, viewer.Body, `href="/orders?`), "&amp;", "&")
	viewer.Get(e.url()+older).Want(200, "", `id="newest"`)
	if n := rows(viewer.Body); n != 3 {
		t.Fatalf("second page: %d rows, want 3", n)
	}

	b := e.b
	b.Get(e.url() + "/orders?record=deal-01")
	if n := rows(b.Body); n != 11 { // i = 1, 6, …, 51
		t.Fatalf("record deal-01: %d rows, want 11", n)
	}
	b.Get(e.url() + "/orders?q=customer+07_")
	if n := rows(b.Body); n != 1 || !strings.Contains(string(b.Body), made[7].Number) {
		t.Fatalf("search \"customer 07_\": %d rows, want order %s alone", rows(b.Body), made[7].Number)
	}
	for _, q := range []string{made[12].Number, made[12].QuoteNumber} {
		b.Get(e.url() + "/orders?q=" + q)
		if n := rows(b.Body); n != 1 || !strings.Contains(string(b.Body), `id="order-`+made[12].ID+`"`) {
			t.Fatalf("search %s: %d rows, want order %s", q, n, made[12].Number)
		}
	}
	today := time.Now().UTC().Format(time.DateOnly)
	b.Get(e.url() + "/orders?from=" + today + "&to=" + today)
	if n := rows(b.Body); n != 50 {
		t.Fatalf("made today: %d rows on the first page, want 50", n)
	}
	b.Get(e.url()+"/orders?from=2020-01-01&to=2020-01-02").Want(200, "", `id="no-orders"`, "No order matches this filter.")
	for q := range map[string]bool{"status=won": true, "from=yesterday": true, "from=2026-02-02&to=2026-02-01": true, "after=nonsense": true,
		"q=" + strings.Repeat("x", 256): true} {
		b.Get(e.url() + "/orders?" + q)
		if b.Last.StatusCode != http.StatusBadRequest || !strings.Contains(string(b.Body), string(qwoty.CodeFilterInvalid)) {
			t.Errorf("%s: %d; want 400 %s\n%s", q, b.Last.StatusCode, qwoty.CodeFilterInvalid, b.Body)
		}
	}

	// One order, as a viewer: everything, no move.
	o := made[3]
	viewer.Get(e.url()+"/orders/"+o.ID).Want(200, "", o.Number, `id="lines"`, "Desk", `id="total"`, `href="/quotes/`+o.QuoteID+`"`,
		o.QuoteNumber+"</a>, revision 1", `id="order-sync"`, "Not sent to the CRM", `id="history"`, `data-action="order.created"`,
		`id="order-read-only"`)
	if strings.Contains(string(viewer.Body), `id="order-actions"`) {
		t.Fatal("a viewer is offered the order's moves")
	}
	viewer.Post(e.url()+"/orders/"+o.ID+"/status", url.Values{"csrf": {viewer.CSRF()}, "status": {"fulfilled"}, "version": {"1"}}).Want(http.StatusForbidden, "")
	viewer.Get(e.url()+"/quotes/"+o.QuoteID).Want(200, "", `id="quote-order"><a href="/orders/`+o.ID+`">`+o.Number+`</a>`)
	viewer.Get(e.url()+"/orders/"+theirs.ID).Want(http.StatusNotFound, "")
	viewer.Get(e.url()+"/orders/not-an-id").Want(http.StatusNotFound, "")

	// As a member: a stale version is refused; then fulfilled, with its
	// history; no move is offered after.
	member := e.user(t, "member")
	member.Get(e.url()+"/orders/"+o.ID).Want(200, "", `id="order-actions"`, `id="order-fulfilled"`, `id="order-cancelled"`)
	member.Post(e.url()+"/orders/"+o.ID+"/status", url.Values{"csrf": {member.CSRF()}, "status": {"fulfilled"}, "version": {"5"}}).
		Want(http.StatusConflict, "", "version_conflict")
	member.Post(e.url()+"/orders/"+o.ID+"/status", url.Values{"status": {"fulfilled"}, "version": {"1"}}).Want(http.StatusForbidden, "", "csrf_failed")
	member.Get(e.url() + "/orders/" + o.ID)
	member.Post(e.url()+"/orders/"+o.ID+"/status", url.Values{"csrf": {member.CSRF()}, "status": {"fulfilled"}, "version": {"1"}}).
		Want(200, "/orders/"+o.ID, "The order is marked fulfilled.", `data-status="fulfilled"`, `data-action="order.status_changed"`,
			"moved from open to fulfilled", "member@acme.example")
	if strings.Contains(string(member.Body), `id="order-actions"`) {
		t.Fatal("a fulfilled order offers moves")
	}
	member.Get(e.url()+"/orders?status=fulfilled").Want(200, "", `id="order-`+o.ID+`"`)
	if n := rows(member.Body); n != 1 {
		t.Fatalf("status fulfilled: %d rows, want 1", n)
	}
	member.Post(e.url()+"/orders/"+theirs.ID+"/status", url.Values{"csrf": {member.CSRF()}, "status": {"cancelled"}, "version": {"1"}}).
		Want(http.StatusNotFound, "")
	got, err := e.db.ConnectionOrder(ctx, other.WorkspaceID, other.ID, theirs.ID)
	if err != nil || got.Status != qwoty.OrderOpen {
		t.Fatalf("another workspace's order after the attempt: %+v %v", got, err)
	}

	// An order the CRM owns, with its CRM id and a synced push.
	crmOrder := made[4]
	pool := storetest.Pool(t, e.db)
	if _, err := pool.Exec(ctx, `UPDATE orders SET origin = 'crm', crm_order_id = '8010000000001' WHERE id = $1`, crmOrder.ID); err != nil {
		t.Fatal(err)
	}
	member.Get(e.url()+"/orders/"+crmOrder.ID).Want(200, "", `id="crm-order">8010000000001`, "Made in the CRM: read-only here")
	if strings.Contains(string(member.Body), `id="order-actions"`) {
		t.Fatal("a CRM order offers moves")
	}
	member.Post(e.url()+"/orders/"+crmOrder.ID+"/status", url.Values{"csrf": {member.CSRF()}, "status": {"cancelled"}, "version": {"1"}}).
		Want(http.StatusConflict, "", "order_read_only")
	synced := made[5]
	if _, err := pool.Exec(ctx, `INSERT INTO sync_log (workspace_id, connection_id, crm_record_id, quote_id, crm_object, crm_id, outcome)
		VALUES ($1, $2, $3, $4, 'order', '8010000000002', 'synced')`, e.conn.WorkspaceID, e.conn.ID, synced.CRMRecordID, synced.QuoteID); err != nil {
		t.Fatal(err)
	}
	member.Get(e.url()+"/orders/"+synced.ID).Want(200, "", `id="order-sync">Synced `)
}

// pageLink is the first link of body that starts with prefix.
func pageLink(t *testing.T, body []byte, prefix string) string {
	t.Helper()
	s := string(body)
	i := strings.Index(s, prefix)
	if i < 0 {
		t.Fatalf("no %s link:\n%s", prefix, s)
	}
	s = s[i+len(`href="`):]
	return s[:strings.Index(s, `"`)]
}
