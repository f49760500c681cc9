package console

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/web/webtest"
)

// The quote defaults page: an admin saves validity, rounding and terms
// (audited, new quotes take the terms); a value out of bounds is refused
// with validation_failed naming its field, the form as typed, nothing
// saved; members and viewers read the values, without a form to send, and
// are refused a save; a save without the CSRF token is refused.
func TestQuoteDefaultsPage(t *testing.T) {
	ctx := context.Background()
	e := newConsoleEnv(t, "", nil)
	admin := e.setupAdmin(t)
	page := e.url() + "/settings/quotes"
	admin.Get(page).Want(200, "/settings/quotes", "<h1>Quote defaults</h1>", `id="valid_days"`, `value="30"`, `id="save-quote-defaults"`,
		`<option value="line-half-up" selected>`)
	form := func(days, rounding, terms string) url.Values {
		return url.Values{"csrf": {admin.CSRF()}, "valid_days": {days}, "rounding": {rounding}, "terms": {terms}}
	}
	admin.Post(page, form("14", "document-half-even", "Net 30.\r\nPrices in EUR.")).
		Want(200, "/settings/quotes", "The quote defaults are saved", `value="14"`, `<option value="document-half-even" selected>`, "Net 30.\nPrices in EUR.")
	ws := adminWorkspace(t, e)
	d, err := e.db.QuoteDefaults(ctx, ws)
	if err != nil || d.ValidDays != 14 || d.Rounding != qwoty.RoundDocumentHalfEven || d.Terms != "Net 30.\nPrices in EUR." {
		t.Fatalf("saved %+v, %v", d, err)
	}
	entries, _ := e.db.AuditLog(ctx, ws, 10)
	if len(entries) == 0 || entries[0].Action != "workspace.quote_defaults_set" || entries[0].Actor != webtest.AdminEmail {
		t.Fatalf("audit %+v", entries)
	}

	for _, c := range []struct{ days, rounding, terms, field, says string }{
		{"0", "line-half-up", "", "valid_days", "from 1 to 365"},
		{"366", "line-half-up", "", "valid_days", "from 1 to 365"},
		{"two weeks", "line-half-up", "", "valid_days", "from 1 to 365"},
		{"30", "line-half-down", "", "rounding", webtest.Escaped(`rounding "line-half-down" is not a policy`)},
		{"30", "line-half-up", strings.Repeat("x", qwoty.MaxTermsLen+1), "terms", "at most 10000 are kept"},
	} {
		admin.Post(page, form(c.days, c.rounding, c.terms)).Want(422, "/settings/quotes", `data-code="validation_failed"`,
			`data-field="`+c.field+`"`, c.says, `value="`+c.days+`"`)
	}
	if d2, _ := e.db.QuoteDefaults(ctx, ws); d2 != d {
		t.Fatalf("refused forms changed the defaults: %+v", d2)
	}
	admin.Post(page, url.Values{"valid_days": {"7"}, "rounding": {"line-half-up"}}).Want(403, "", "csrf_failed")

	for _, role := range []string{"member", "viewer"} {
		webtest.Join(t, e.db, e.url(), role+"@acme.example", qwoty.Role(role))
		b := webtest.NewBrowser(t)
		b.Post(e.url()+"/login", url.Values{"email": {role + "@acme.example"}, "password": {webtest.MemberPassword}}).Want(200, "/settings/integrations")
		b.Get(page).Want(200, "/settings/quotes", `id="read-only"`, `value="14"`, "disabled")
		if strings.Contains(string(b.Body), `id="save-quote-defaults"`) {
			t.Errorf("%s: the page offers Save", role)
		}
		b.Post(page, url.Values{"csrf": {b.CSRF()}, "valid_days": {"7"}, "rounding": {"line-half-up"}}).Want(403, "", "forbidden")
	}
	if d2, _ := e.db.QuoteDefaults(ctx, ws); d2 != d {
		t.Fatalf("a member's or viewer's post changed the defaults: %+v", d2)
	}
}
