package console

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Quotes made in the console for a customer (docs/deals.md, "From the
// console").

var formRefPattern = regexp.MustCompile(`name="ref" value="([0-9a-f]{32})"`)

// newQuoteForm opens New quote in b and returns the form with its
// reference and the CSRF token, the CRM and the lines' rows filled.
func newQuoteForm(t *testing.T, b interface {
	CSRF() string
}, body []byte, kv ...string) url.Values {
	t.Helper()
	m := formRefPattern.FindSubmatch(body)
	if m == nil {
		t.Fatalf("the New quote form has no reference:\n%s", body)
	}
	f := url.Values{"csrf": {b.CSRF()}, "ref": {string(m[1])}, "crm": {"testcrm"}, "currency": {"eur"}, "tax_rate": {"20"},
		// Three rows: a line, an empty row, a line.
		"sku": {"LIC", "", ""}, "description": {"Licence", "", "Setup"}, "quantity": {"2", "", ""},
		"unit_price": {"100", "", "50"}, "discount": {"10", "", ""}, "product_id": {"", "", ""}, "line_tax": {"", "", ""}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// A member makes a quote for a new customer, once however often the form
// is sent; a line typed wrong is refused naming its row, with what was
// typed back; the draft is edited (a stale form is refused), sent by
// email, which queues its deal, then revised. A viewer reads only; a
// quote on a record and another workspace's quote are not the console's
// to change.
func TestConsoleQuoteForCustomer(t *testing.T) {
	e := newSyncEnv(t, "")
	ctx := context.Background()
	e.db.SetDealMaking(func(qwoty.Provider) bool { return true })
	member := e.user(t, "member")
	viewer := e.user(t, "viewer")

	member.Get(e.url()+"/quotes").Want(200, "", `id="new-quote"`)
	viewer.Get(e.url()+"/quotes").Want(200, "")
	if strings.Contains(string(viewer.Body), `id="new-quote"`) {
		t.Fatal("a viewer is offered New quote")
	}
	viewer.Get(e.url()+"/quotes/new").Want(http.StatusForbidden, "")

	member.Get(e.url()+"/quotes/new").Want(200, "", `id="quote-form"`, `name="new_name"`, `value="USD"`)
	form := newQuoteForm(t, member, member.Body, "new_name", "Acme Corp", "new_email", "Buyer@Acme.example", "new_domain", "https://www.acme.example/about",
		"discount_kind", "percent", "discount_value", "5")

	// A row typed wrong: refused, naming the row, the form as typed.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = append([]string(nil), v...)
	}
	bad["quantity"] = []string{"2", "", "lots"}
	member.Post(e.url()+"/quotes/new", bad).Want(http.StatusUnprocessableEntity, "/quotes/new", "Line 3:", `value="lots"`, `value="Acme Corp"`)
	// More lines: the same form with more empty rows, nothing made.
	more := url.Values{}
	for k, v := range form {
		more[k] = v
	}
	more.Set("more", "1")
	member.Post(e.url()+"/quotes/new", more).Want(200, "/quotes/new", `value="Setup"`)
	if n := strings.Count(string(member.Body), `name="sku"`); n != 8 {
		t.Fatalf("More lines shows %d rows, want 8 (3 typed, 5 more)", n)
	}
	if n := countQuotes(t, e); n != 0 {
		t.Fatalf("%d quotes made by refused forms", n)
	}

	member.Post(e.url()+"/quotes/new", form).Want(200, "", "The quote is made", "Acme Corp", `id="quote-edit"`, `id="quote-send"`, "No CRM deal yet")
	qid := strings.TrimPrefix(member.Last.Request.URL.Path, "/quotes/")
	// Sent again (a double click, a reload): the same quote.
	member.Post(e.url()+"/quotes/new", form).Want(200, "/quotes/"+qid, "The quote is made")
	if n := countQuotes(t, e); n != 1 {
		t.Fatalf("%d quotes without a record, want 1", n)
	}
	s := store.Scope{WorkspaceID: e.conn.WorkspaceID, ConnectionID: e.conn.ID}
	q, err := e.db.GetQuote(ctx, s, qid)
	if err != nil {
		t.Fatal(err)
	}
	if q.Title != "Acme Corp" || q.Currency != "EUR" || len(q.Lines) != 2 || q.Totals.Total.StringFixed(2) != "262.20" || q.CreatedBy != "console:member@acme.example" {
		t.Fatalf("quote %q %s, %d lines, total %s, by %q; want Acme Corp, EUR, 2 lines, 262.20 ((180 + 50) less 5 %%, × 1.2), by the member",
			q.Title, q.Currency, len(q.Lines), q.Totals.Total, q.CreatedBy)
	}
	cu, err := e.db.APICustomer(ctx, s, q.CustomerID)
	if err != nil || cu.Name != "Acme Corp" || cu.Email != "Buyer@Acme.example" || cu.Domain != "acme.example" || cu.CRMAccountID != "" {
		t.Fatalf("customer %+v %v", cu, err)
	}

	// Another form picks that customer from the list.
	member.Get(e.url()+"/quotes/new?customer_q=acme").Want(200, "", `<option value="`+cu.ID+`">Acme Corp · Buyer@Acme.example</option>`)
	other := newQuoteForm(t, member, member.Body, "customer_id", cu.ID, "title", "Second offer")
	member.Post(e.url()+"/quotes/new", other).Want(200, "", "Second offer")
	// A customer of another workspace is not one to choose.
	ows, err := e.db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Globex", Provider: qwoty.ProviderHubSpot, ExternalID: "999"})
	if err != nil {
		t.Fatal(err)
	}
	os := store.Scope{WorkspaceID: ows.WorkspaceID, ConnectionID: ows.ID}
	ref := "erp:customer:1"
	theirCustomer, _, err := e.db.UpsertAPICustomer(ctx, os, store.CustomerInput{Name: ptr("Initech"), ExternalRef: &ref})
	if err != nil {
		t.Fatal(err)
	}
	member.Get(e.url() + "/quotes/new")
	member.Post(e.url()+"/quotes/new", newQuoteForm(t, member, member.Body, "customer_id", theirCustomer.ID)).Want(http.StatusUnprocessableEntity, "",
		"That customer is not one of this CRM account&#39;s.")
	member.Get(e.url() + "/quotes/new")
	member.Post(e.url()+"/quotes/new", newQuoteForm(t, member, member.Body)).Want(http.StatusUnprocessableEntity, "", "The quote needs a customer.")
	member.Get(e.url() + "/quotes/new")
	member.Post(e.url()+"/quotes/new", newQuoteForm(t, member, member.Body, "customer_id", cu.ID, "new_name", "Acme Two")).Want(http.StatusUnprocessableEntity, "",
		"The form names a customer twice", `value="Acme Two"`, `<option value="`+cu.ID+`" selected>`)

	// Edit: the lines as stored, a price changed; the same form again is
	// stale.
	member.Get(e.url()+"/quotes/"+qid+"/edit").Want(200, "", `value="Licence"`, `value="Setup"`, `name="version" value="`,
		`<option value="percent" selected>`, `id="discount_value" name="discount_value" value="5"`)
	edit := url.Values{"csrf": {member.CSRF()}, "version": {strconv.Itoa(q.Version)}, "title": {"Acme offer"}, "currency": {"EUR"}, "tax_rate": {"0"},
		"sku": {"LIC"}, "description": {"Licence"}, "quantity": {"3"}, "unit_price": {"100"}, "discount": {""}, "product_id": {""}, "line_tax": {""}}
	member.Post(e.url()+"/quotes/"+qid+"/edit", edit).Want(200, "/quotes/"+qid, "The quote is saved.", "Acme offer")
	if q, err = e.db.GetQuote(ctx, s, qid); err != nil || len(q.Lines) != 1 || q.Totals.Total.StringFixed(2) != "300.00" {
		t.Fatalf("after the edit: %v lines, total %v, %v", len(q.Lines), q.Totals.Total, err)
	}
	// A discount larger than the lines: refused by the domain, the form as typed.
	more = url.Values{}
	for k, v := range edit {
		more[k] = v
	}
	more.Set("version", strconv.Itoa(q.Version))
	more.Set("discount_kind", "amount")
	more.Set("discount_value", "400")
	member.Get(e.url() + "/quotes/" + qid + "/edit")
	more.Set("csrf", member.CSRF())
	member.Post(e.url()+"/quotes/"+qid+"/edit", more).Want(http.StatusUnprocessableEntity, "", `value="400"`, `<option value="amount" selected>`)
	edit.Set("title", "Stale")
	member.Post(e.url()+"/quotes/"+qid+"/edit", edit).Want(http.StatusConflict, "", `value="Stale"`)

	// Send: to the customer's email by default; the quote is sent and its
	// deal queued.
	member.Get(e.url()+"/quotes/"+qid+"/send").Want(200, "", `value="Buyer@Acme.example"`, "Here is our quote "+q.Number)
	send := url.Values{"csrf": {member.CSRF()}, "version": {strconv.Itoa(q.Version)}, "to": {"buyer@acme.example, not an address"},
		"subject": {"Your quote"}, "message": {"Hello"}}
	member.Post(e.url()+"/quotes/"+qid+"/send", send).Want(http.StatusUnprocessableEntity, "", "“not” is not a valid email address.")
	send.Set("to", "buyer@acme.example, cfo@acme.example")
	member.Post(e.url()+"/quotes/"+qid+"/send", send).Want(200, "/quotes/"+qid, "The quote is sent", `id="quote-status">Sent`, "Deal being made")
	if h, err := e.db.QuoteHistory(ctx, s, qid); err != nil || len(h.Sends) != 1 ||
		strings.Join(h.Sends[0].Recipients, ",") != "buyer@acme.example,cfo@acme.example" {
		t.Fatalf("the sends: %+v %v, want one to both", h, err)
	}
	d, err := e.db.DealCreationOf(ctx, e.conn.ID, qid)
	if err != nil || d.State != store.DealPending {
		t.Fatalf("the sent quote's deal: %+v %v", d, err)
	}
	// Its making waits (a reconnection): the page says why.
	if _, _, err := e.db.ClaimDealCreation(ctx, d, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := e.db.RecordDeal(ctx, d, store.WriteResult{State: store.DealPending, Wait: true, Code: qwoty.CodeSyncReconnect,
		Message: "TestCRM refused Qwoty's access: reconnect it"}); err != nil {
		t.Fatal(err)
	}
	member.Get(e.url()+"/quotes/"+qid).Want(200, "", `data-deal="making">Deal being made, waiting: TestCRM refused Qwoty&#39;s access: reconnect it`)
	// Sent: not editable; revised, a draft again of the next revision.
	member.Get(e.url()+"/quotes/"+qid+"/edit").Want(http.StatusConflict, "")
	member.Get(e.url()+"/quotes/"+qid+"/delete").Want(http.StatusConflict, "")
	member.Get(e.url()+"/quotes/"+qid).Want(200, "", `id="quote-revise"`, "Quote "+q.Number+", revision 1, emailed to the customer (2 recipients)")
	member.Post(e.url()+"/quotes/"+qid+"/revise", url.Values{"csrf": {member.CSRF()}, "version": {strconv.Itoa(q.Version + 1)}}).Want(200, "/quotes/"+qid+"/edit", `value="Licence"`)
	if q, err = e.db.GetQuote(ctx, s, qid); err != nil || q.Status != qwoty.StatusDraft || q.Revision != 2 {
		t.Fatalf("after Revise: %v revision %d, %v", q.Status, q.Revision, err)
	}

	// A viewer reads the quote, without its actions, and cannot post them.
	viewer.Get(e.url()+"/quotes/"+qid).Want(200, "", "Acme offer")
	if strings.Contains(string(viewer.Body), `id="quote-actions"`) {
		t.Fatal("a viewer is offered the quote's actions")
	}
	viewer.Post(e.url()+"/quotes/"+qid+"/edit", edit).Want(http.StatusForbidden, "")

	// A quote on a record is its card's: refused, saying so.
	e.quotes(t, "deal-1")
	rows, _, err := e.db.WorkspaceQuotes(ctx, e.conn.WorkspaceID, store.WorkspaceQuoteFilter{Record: "deal-1"})
	if err != nil || len(rows) != 1 {
		t.Fatalf("the record's quotes: %d, %v", len(rows), err)
	}
	onRecord := rows[0].ID
	member.Get(e.url()+"/quotes/"+onRecord+"/edit").Want(http.StatusConflict, "", "quote_on_record")
	member.Get(e.url()+"/quotes/"+onRecord).Want(200, "")
	if strings.Contains(string(member.Body), `id="quote-actions"`) {
		t.Fatal("a quote on a record offers the console's actions")
	}
	// Another workspace's quote: not found.
	theirs, err := e.db.CreateQuote(ctx, os, store.NewQuote{Currency: "EUR", CustomerID: theirCustomer.ID, Title: "Theirs"})
	if err != nil {
		t.Fatal(err)
	}
	member.Get(e.url()+"/quotes/"+theirs.ID+"/edit").Want(http.StatusNotFound, "")
	member.Get(e.url() + "/quotes/" + qid + "/edit")
	member.Post(e.url()+"/quotes/"+theirs.ID+"/send", send).Want(http.StatusNotFound, "")
	// Without the CSRF token: refused.
	member.Post(e.url()+"/quotes/"+qid+"/revise", url.Values{}).Want(http.StatusForbidden, "")
}

// countQuotes counts the workspace's live quotes without a record.
func countQuotes(t *testing.T, e *syncEnv) int {
	t.Helper()
	rows, _, err := e.db.WorkspaceQuotes(context.Background(), e.conn.WorkspaceID, store.WorkspaceQuoteFilter{WithoutRecord: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(rows)
}

// A draft made for a customer is deleted after a confirmation; its deal,
// queued (the deal status is "as soon as made") but not started, goes
// with it; one under way keeps the quote until it is made; a sent quote is
// not deleted here.
func TestConsoleDeleteDraft(t *testing.T) {
	e := newSyncEnv(t, "")
	ctx := context.Background()
	e.db.SetDealMaking(func(qwoty.Provider) bool { return true })
	set, err := e.db.SyncSettingsOf(ctx, e.conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	set.DealStatus = qwoty.DealOnDraft
	if err := e.db.SaveSyncSettings(ctx, e.conn.WorkspaceID, e.conn.ID, set, adminEmail); err != nil {
		t.Fatal(err)
	}
	newDraft := func(name string) string {
		t.Helper()
		e.b.Get(e.url() + "/quotes/new")
		e.b.Post(e.url()+"/quotes/new", newQuoteForm(t, e.b, e.b.Body, "new_name", name)).Want(200, "", "The quote is made", `id="quote-delete"`)
		return strings.TrimPrefix(e.b.Last.Request.URL.Path, "/quotes/")
	}
	s := store.Scope{WorkspaceID: e.conn.WorkspaceID, ConnectionID: e.conn.ID}

	gone := newDraft("Initech")
	if d, err := e.db.DealCreationOf(ctx, e.conn.ID, gone); err != nil || d.State != store.DealPending {
		t.Fatalf("the draft's deal (as soon as made): %+v %v", d, err)
	}
	e.b.Get(e.url()+"/quotes/"+gone+"/delete").Want(200, "", "The draft and its lines are deleted; its customer, Initech, stays.")
	e.b.Post(e.url()+"/quotes/"+gone+"/delete", url.Values{"csrf": {e.b.CSRF()}, "version": {"1"}}).Want(200, "/quotes", "The draft is deleted.")
	if _, err := e.db.GetQuote(ctx, s, gone); qwoty.ErrorCode(err) != qwoty.CodeNotFound {
		t.Fatalf("the deleted draft: %v", err)
	}
	if _, err := e.db.DealCreationOf(ctx, e.conn.ID, gone); err == nil {
		t.Fatal("the deleted draft's deal is still queued")
	}

	// A deal under way: the quote stays.
	busy := newDraft("Umbrella")
	d, err := e.db.DealCreationOf(ctx, e.conn.ID, busy)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.db.ClaimDealCreation(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.db.StartDealStep(ctx, d, store.DealAccount, "", ""); err != nil {
		t.Fatal(err)
	}
	e.b.Get(e.url() + "/quotes/" + busy + "/delete")
	e.b.Post(e.url()+"/quotes/"+busy+"/delete", url.Values{"csrf": {e.b.CSRF()}, "version": {"1"}}).Want(http.StatusConflict, "", "CRM deal is being made")
	if _, err := e.db.GetQuote(ctx, s, busy); err != nil {
		t.Fatalf("a quote whose deal is under way was deleted: %v", err)
	}
	// A viewer cannot delete.
	viewer := e.user(t, "viewer")
	viewer.Get(e.url() + "/quotes")
	viewer.Post(e.url()+"/quotes/"+busy+"/delete", url.Values{"csrf": {viewer.CSRF()}, "version": {"1"}}).Want(http.StatusForbidden, "")
}

// A SKU of the CRM's catalogue takes its product: linked, its name and its
// price in the quote's currency where the row leaves them empty; a price
// typed wins; a product without a price in the currency needs one typed; a
// SKU two products share, or another connection's, stays a free line's.
func TestConsoleQuoteFromCatalogue(t *testing.T) {
	e := newSyncEnv(t, "")
	ctx := context.Background()
	s := store.Scope{WorkspaceID: e.conn.WorkspaceID, ConnectionID: e.conn.ID}
	product := func(s store.Scope, id, sku, name string, prices ...qwoty.CatalogPrice) {
		t.Helper()
		if _, err := e.db.CreateAPICatalogItem(ctx, s, id, store.CatalogInput{SKU: &sku, Name: &name, Prices: prices}); err != nil {
			t.Fatal(err)
		}
	}
	eur := func(p int64) qwoty.CatalogPrice {
		return qwoty.CatalogPrice{Currency: "EUR", UnitPrice: decimal.NewFromInt(p), Active: true}
	}
	product(s, "P-LIC", "LIC-ENT", "Enterprise licence", eur(90))
	product(s, "P-USD", "SUP-USD", "Support (USD only)", qwoty.CatalogPrice{Currency: "USD", UnitPrice: decimal.NewFromInt(40), Active: true})
	product(s, "P-A", "DUP", "Twin A", eur(1))
	product(s, "P-B", "dup", "Twin B", eur(2))
	other, err := e.db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Globex", Provider: qwoty.ProviderHubSpot, ExternalID: "999"})
	if err != nil {
		t.Fatal(err)
	}
	product(store.Scope{WorkspaceID: other.WorkspaceID, ConnectionID: other.ID}, "P-THEIRS", "THEIRS", "Their product", eur(500))

	e.b.Get(e.url()+"/quotes/new").Want(200, "", `<option value="LIC-ENT">Enterprise licence</option>`)
	if strings.Contains(string(e.b.Body), "THEIRS") {
		t.Fatal("the form suggests another workspace's product")
	}
	rows := func(f url.Values, sku, desc, price []string) url.Values {
		f["sku"], f["description"], f["unit_price"] = sku, desc, price
		n := len(sku)
		f["quantity"], f["discount"], f["product_id"], f["line_tax"] = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		return f
	}
	// No EUR price and none typed: refused, naming the row.
	f := rows(newQuoteForm(t, e.b, e.b.Body, "new_name", "Initech"), []string{"lic-ent", "SUP-USD"}, []string{"", ""}, []string{"", ""})
	e.b.Post(e.url()+"/quotes/new", f).Want(http.StatusUnprocessableEntity, "", "Line 2: &#34;SUP-USD&#34; has no EUR price in the catalogue.")
	f = rows(f, []string{"lic-ent", "SUP-USD", "DUP", "THEIRS"}, []string{"", "", "Twin", "Other"}, []string{"", "35", "3", "7"})
	f.Set("csrf", e.b.CSRF())
	e.b.Post(e.url()+"/quotes/new", f).Want(200, "", "The quote is made", "Enterprise licence")
	q, err := e.db.GetQuote(ctx, s, strings.TrimPrefix(e.b.Last.Request.URL.Path, "/quotes/"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range q.Lines {
		got = append(got, l.SKU+"|"+l.Description+"|"+l.UnitPrice.StringFixed(2)+"|"+l.ProductID)
	}
	want := []string{"lic-ent|Enterprise licence|90.00|P-LIC", "SUP-USD|Support (USD only)|35.00|P-USD", "DUP|Twin|3.00|", "THEIRS|Other|7.00|"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("lines\n %s\nwant\n %s", strings.Join(got, "; "), strings.Join(want, "; "))
	}
	// The edit keeps each line's product.
	e.b.Get(e.url()+"/quotes/"+q.ID+"/edit").Want(200, "", `name="product_id" value="P-LIC"`)
}
