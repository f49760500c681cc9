package console

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// The workspace's Quotes page: every role reads it; filters by status,
// owner and record, a search by number, title or customer, pages of 50; a
// bad filter is a 400 with its code; another workspace's quotes are
// neither listed nor shown.
func TestQuotesPage(t *testing.T) {
	e := newSyncEnv(t, "")
	ctx := context.Background()
	var made []*qwoty.Quote
	for i := range 55 {
		s := store.Scope{WorkspaceID: e.conn.WorkspaceID, ConnectionID: e.conn.ID, RecordID: fmt.Sprintf("deal-%02d", i%5)}
		owner := "rep-a"
		if i%2 == 1 {
			owner = "rep-b"
		}
		q, err := e.db.CreateQuote(ctx, s, store.NewQuote{Currency: "EUR", Title: fmt.Sprintf("Offer %02d_x", i), CreatedBy: owner})
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, q)
	}
	if _, err := e.db.UpdateQuote(ctx, store.Scope{WorkspaceID: e.conn.WorkspaceID, ConnectionID: e.conn.ID, RecordID: made[3].CRMRecordID},
		made[3].ID, 0, "rep-b", func(q *qwoty.Quote) error {
			if err := q.AddLine(qwoty.LineItem{SKU: "A", Description: "Desk", Quantity: decimal.RequireFromString("2"), UnitPrice: decimal.RequireFromString("10")}); err != nil {
				return err
			}
			q.Reprice()
			return q.Transition(qwoty.StatusSent)
		}); err != nil {
		t.Fatal(err)
	}
	other, err := e.db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Globex", Provider: qwoty.ProviderHubSpot, ExternalID: "999"})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := e.db.CreateQuote(ctx, store.Scope{WorkspaceID: other.WorkspaceID, ConnectionID: other.ID, RecordID: "deal-00"},
		store.NewQuote{Currency: "EUR", Title: "Globex secret offer"})
	if err != nil {
		t.Fatal(err)
	}

	rows := func(body []byte) int { return strings.Count(string(body), `<tr id="quote-`) }
	viewer := e.user(t, "viewer")
	viewer.Get(e.url()+"/quotes").Want(200, "/quotes", `id="quotes"`, `id="older"`)
	if n := rows(viewer.Body); n != 50 {
		t.Fatalf("first page: %d rows, want 50", n)
	}
	if strings.Contains(string(viewer.Body), "Globex secret offer") {
		t.Fatal("another workspace's quote is listed")
	}
	older := strings.ReplaceAll(quotesOlder(t, viewer.Body), "&amp;", "&")
	viewer.Get(e.url()+older).Want(200, "", `id="newest"`)
	if n := rows(viewer.Body); n != 5 {
		t.Fatalf("second page: %d rows, want 5", n)
	}

	b := e.b
	b.Get(e.url()+"/quotes?status=sent").Want(200, "", `id="quote-`+made[3].ID+`"`, "Sent")
	if n := rows(b.Body); n != 1 {
		t.Fatalf("status sent: %d rows, want 1", n)
	}
	b.Get(e.url() + "/quotes?owner=rep-b&record=deal-01")
	if n := rows(b.Body); n != 6 { // i = 1, 11, 21, 31, 41, 51
		t.Fatalf("owner rep-b on deal-01: %d rows, want 6", n)
	}
	b.Get(e.url() + "/quotes?q=offer+07_")
	if n := rows(b.Body); n != 1 || !strings.Contains(string(b.Body), made[7].Number) {
		t.Fatalf("search \"offer 07_\": %d rows, want quote %s alone", rows(b.Body), made[7].Number)
	}
	b.Get(e.url() + "/quotes?q=" + made[12].Number)
	if n := rows(b.Body); n != 1 {
		t.Fatalf("search by number: %d rows, want 1", n)
	}
	// "_" and "%" are matched as themselves, not as wildcards.
	b.Get(e.url()+"/quotes?q=%25").Want(200, "", `id="no-quotes"`, "No quote matches this filter.")
	today := time.Now().UTC().Format(time.DateOnly)
	b.Get(e.url() + "/quotes?from=" + today + "&to=" + today)
	if n := rows(b.Body); n != 50 {
		t.Fatalf("created today: %d rows on the first page, want 50", n)
	}
	b.Get(e.url()+"/quotes?from=2020-01-01&to=2020-01-02").Want(200, "", "No quote matches this filter.")

	for q, field := range map[string]string{"status=won": "status", "from=yesterday": "from", "from=2026-02-02&to=2026-02-01": "to",
		"after=nonsense": "after", "q=" + strings.Repeat("x", 256): "q"} {
		b.Get(e.url() + "/quotes?" + q)
		if b.Last.StatusCode != http.StatusBadRequest || !strings.Contains(string(b.Body), string(qwoty.CodeFilterInvalid)) {
			t.Errorf("%s: %d; want 400 %s naming %s\n%s", q, b.Last.StatusCode, qwoty.CodeFilterInvalid, field, b.Body)
		}
	}

	// One quote: its lines, totals, sync state and history.
	viewer.Get(e.url()+"/quotes/"+made[3].ID).Want(200, "", made[3].Number, `id="lines"`, "Desk", `id="total"`, `id="history"`,
		`data-action="quote.status_changed"`, `id="version-1"`, `id="no-sends"`)
	viewer.Get(e.url()+"/quotes/"+made[4].ID).Want(200, "", `id="no-versions"`)
	viewer.Get(e.url()+"/quotes/"+theirs.ID).Want(http.StatusNotFound, "")
	viewer.Get(e.url()+"/quotes/not-an-id").Want(http.StatusNotFound, "")
}

// quotesOlder is the list's Older link.
func quotesOlder(t *testing.T, body []byte) string {
	t.Helper()
	s := string(body)
	i := strings.Index(s, `href="/quotes?`)
	if i < 0 {
		t.Fatalf("no Older link:\n%s", s)
	}
	s = s[i+len(`href="`):]
	return s[:strings.Index(s, `"`)]
}
