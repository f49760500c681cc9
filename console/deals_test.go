package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Deals made from Qwoty in the console (docs/deals.md).

// The sync settings form shows when a quote without a CRM record makes its
// deal and how its customer's account is found, saves both, refuses what
// is not a choice with the typed values back, and keeps both when a form
// without them is posted.
func TestSyncSettingsDealFields(t *testing.T) {
	e := newSyncEnv(t, "")
	ctx := context.Background()
	formURL := e.url() + "/settings/integrations/testcrm/sync-settings"
	e.b.Get(formURL).Want(200, "", `id="deal_status"`, `<option value="sent" selected>When the quote is sent</option>`,
		`id="account_match"`, `<option value="name" selected>`)
	form := func(kv ...string) url.Values {
		f := url.Values{"csrf": {e.b.CSRF()}, "trigger": {"status"}, "coalesce": {"5"}, "share": {"50"}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}

	e.b.Post(formURL, form("deal_status", "accepted", "account_match", "domain")).Want(200, "/settings/integrations")
	set, err := e.db.SyncSettingsOf(ctx, e.conn.ID)
	if err != nil || set.DealStatus != qwoty.DealOnAccepted || set.AccountMatch != qwoty.MatchByDomain {
		t.Fatalf("saved: %+v %v, want deal status accepted, match by domain", set, err)
	}
	e.b.Get(formURL).Want(200, "", `<option value="accepted" selected>`, `<option value="domain" selected>`)

	// Never is a choice of its own ("").
	e.b.Post(formURL, form("deal_status", "", "account_match", "name")).Want(200, "/settings/integrations")
	if set, _ := e.db.SyncSettingsOf(ctx, e.conn.ID); set.DealStatus != qwoty.DealNever || set.AccountMatch != qwoty.MatchByName {
		t.Fatalf("saved never: %+v", set)
	}
	e.b.Get(formURL).Want(200, "", `<option value="" selected>Never`)

	// What is not a choice is refused, naming the field, with what was
	// chosen back, and nothing saved.
	e.b.Get(formURL)
	e.b.Post(formURL, form("deal_status", "draft", "account_match", "phone")).Want(http.StatusUnprocessableEntity, "",
		"find the customer&#39;s account by its name or its domain", `<option value="draft" selected>`, `value="5"`)
	e.b.Get(formURL)
	e.b.Post(formURL, form("deal_status", "won", "account_match", "domain")).Want(http.StatusUnprocessableEntity, "",
		"choose when a quote without a CRM deal makes its deal", `<option value="domain" selected>`)
	if set, _ := e.db.SyncSettingsOf(ctx, e.conn.ID); set.DealStatus != qwoty.DealNever || set.AccountMatch != qwoty.MatchByName {
		t.Fatalf("a refused form changed the deal settings: %+v", set)
	}

	// A form without the fields keeps them.
	e.b.Get(formURL)
	e.b.Post(formURL, form("deal_status", "draft", "account_match", "domain")).Want(200, "/settings/integrations")
	e.b.Get(formURL)
	e.b.Post(formURL, form()).Want(200, "/settings/integrations")
	if set, _ := e.db.SyncSettingsOf(ctx, e.conn.ID); set.DealStatus != qwoty.DealOnDraft || set.AccountMatch != qwoty.MatchByDomain {
		t.Fatalf("a form without the deal fields changed them: %+v", set)
	}
}

// dealQuote makes a quote for customer c of conn's workspace, without a
// record, sent when sent (its deal then queued), its deal then failed
// with message when failed is not "".
func dealQuote(t *testing.T, db *store.DB, s store.Scope, customerID, title string, sent bool, failed string) *qwoty.Quote {
	t.Helper()
	ctx := context.Background()
	q, err := db.CreateQuote(ctx, s, store.NewQuote{CustomerID: customerID, Currency: "EUR", Title: title, CreatedBy: "api-key:ERP"})
	if err != nil {
		t.Fatal(err)
	}
	if !sent {
		return q
	}
	if q, err = db.UpdateQuote(ctx, s, q.ID, 0, "api-key:ERP", func(q *qwoty.Quote) error {
		if err := q.AddLine(qwoty.LineItem{SKU: "LIC", Description: "Licence", Quantity: decimal.NewFromInt(1), UnitPrice: decimal.NewFromInt(90)}); err != nil {
			return err
		}
		q.Reprice()
		return q.Transition(qwoty.StatusSent)
	}); err != nil {
		t.Fatal(err)
	}
	if failed == "" {
		return q
	}
	d, err := db.DealCreationOf(ctx, s.ConnectionID, q.ID)
	if err != nil {
		t.Fatalf("the sent quote's deal was not queued: %v", err)
	}
	if mine, _, err := db.ClaimDealCreation(ctx, d, time.Minute); err != nil || !mine {
		t.Fatalf("claim: %v %v", mine, err)
	}
	if err := db.RecordDeal(ctx, d, store.WriteResult{State: store.DealFailed, Code: qwoty.CodeSyncRejected, Message: failed}); err != nil {
		t.Fatal(err)
	}
	return q
}

// The Quotes page shows where the deal of each quote without a CRM record
// stands (none yet, being made, failed with the CRM's words), lists them
// alone under "Without a CRM deal", and offers admins Retry on a failed
// one: the deal is queued again and audited; another workspace's quote is
// not found, and its deal stays failed.
func TestQuotesWithoutDeal(t *testing.T) {
	e := newSyncEnv(t, "")
	ctx := context.Background()
	e.db.SetDealMaking(func(qwoty.Provider) bool { return true })
	s := store.Scope{WorkspaceID: e.conn.WorkspaceID, ConnectionID: e.conn.ID}
	ref := "erp:customer:7"
	c, _, err := e.db.UpsertAPICustomer(ctx, s, store.CustomerInput{Name: ptr("Globex"), ExternalRef: &ref})
	if err != nil {
		t.Fatal(err)
	}
	waiting := dealQuote(t, e.db, s, c.ID, "Waiting offer", false, "")
	making := dealQuote(t, e.db, s, c.ID, "Making offer", true, "")
	failed := dealQuote(t, e.db, s, c.ID, "Failed offer", true, "Company domain is invalid")
	e.quotes(t, "deal-1")

	other, err := e.db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Globex", Provider: qwoty.ProviderHubSpot, ExternalID: "999"})
	if err != nil {
		t.Fatal(err)
	}
	os := store.Scope{WorkspaceID: other.WorkspaceID, ConnectionID: other.ID}
	oc, _, err := e.db.UpsertAPICustomer(ctx, os, store.CustomerInput{Name: ptr("Initech"), ExternalRef: &ref})
	if err != nil {
		t.Fatal(err)
	}
	theirs := dealQuote(t, e.db, os, oc.ID, "Their offer", true, "Their CRM said no")

	e.b.Get(e.url()+"/quotes").Want(200, "/quotes",
		`id="deal-`+waiting.ID+`" data-deal="none">No CRM deal yet`,
		`id="deal-`+making.ID+`" data-deal="making">Deal being made`,
		`id="deal-`+failed.ID+`" data-deal="failed">Deal failed: Company domain is invalid`,
		`id="retry-deal-`+failed.ID+`"`, ">deal-1<")
	if n := strings.Count(string(e.b.Body), `id="retry-deal-`); n != 1 {
		t.Fatalf("%d Retry buttons, want 1 (the failed deal's)", n)
	}
	e.b.Get(e.url()+"/quotes?without_deal=true").Want(200, "", `id="without_deal" name="without_deal" value="true" checked`)
	if n := strings.Count(string(e.b.Body), `<tr id="quote-`); n != 3 || strings.Contains(string(e.b.Body), ">deal-1<") {
		t.Fatalf("without a CRM deal: %d rows, want the 3 quotes without a record", n)
	}
	// The quote's own page says the same.
	e.b.Get(e.url()+"/quotes/"+failed.ID).Want(200, "", "Deal failed: Company domain is invalid", `id="retry-deal-`+failed.ID+`"`)

	// A viewer sees the states, not the button; a member cannot retry.
	viewer := e.user(t, "viewer")
	viewer.Get(e.url()+"/quotes").Want(200, "", "Deal failed: Company domain is invalid")
	if strings.Contains(string(viewer.Body), `id="retry-deal-`) {
		t.Fatal("a viewer is offered Retry")
	}
	member := e.user(t, "member")
	member.Get(e.url() + "/quotes")
	member.Post(e.url()+"/quotes/"+failed.ID+"/retry-deal", url.Values{"csrf": {member.CSRF()}}).Want(http.StatusForbidden, "")

	// Another workspace's quote: not found, its deal untouched.
	e.b.Get(e.url() + "/quotes")
	e.b.Post(e.url()+"/quotes/"+theirs.ID+"/retry-deal", url.Values{"csrf": {e.b.CSRF()}}).Want(http.StatusNotFound, "")
	if d, err := e.db.DealCreationOf(ctx, other.ID, theirs.ID); err != nil || d.State != store.DealFailed {
		t.Fatalf("another workspace's deal after a Retry of it: %+v %v, want failed still", d, err)
	}
	if states, err := e.db.DealStatesOf(ctx, e.conn.WorkspaceID, []string{theirs.ID, failed.ID}); err != nil || len(states) != 1 || states[failed.ID] == nil {
		t.Fatalf("deal states read from this workspace: %v %v, want this workspace's quote's alone", states, err)
	}
	// Without the CSRF token: refused.
	e.b.Post(e.url()+"/quotes/"+failed.ID+"/retry-deal", url.Values{}).Want(http.StatusForbidden, "")

	e.b.Get(e.url() + "/quotes")
	e.b.Post(e.url()+"/quotes/"+failed.ID+"/retry-deal", url.Values{"csrf": {e.b.CSRF()}}).Want(200, "/quotes/"+failed.ID,
		"The quote&#39;s CRM deal is being made again.", `data-deal="making">Deal being made`)
	if d, err := e.db.DealCreationOf(ctx, e.conn.ID, failed.ID); err != nil || d.State == store.DealFailed || d.Error != "" {
		t.Fatalf("the deal after Retry: %+v %v, want it queued again", d, err)
	}
	entries, err := e.db.AuditLog(ctx, e.conn.WorkspaceID, 5)
	if err != nil || entries[0].Action != "deal.retried" || entries[0].Actor != adminEmail {
		t.Fatalf("the audit log's newest entry: %+v %v, want deal.retried by %s", entries, err, adminEmail)
	}
	// Again: nothing to retry.
	e.b.Post(e.url()+"/quotes/"+failed.ID+"/retry-deal", url.Values{"csrf": {e.b.CSRF()}}).Want(200, "/quotes/"+failed.ID, "Nothing to retry")

	// Made: the quote is on its deal, its history says how.
	d, err := e.db.DealCreationOf(ctx, e.conn.ID, making.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.db.ClaimDealCreation(ctx, d, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := e.db.StartDealStep(ctx, d, store.DealDeal, "acct-9", store.AccountMatched); err != nil {
		t.Fatal(err)
	}
	if err := e.db.RecordDeal(ctx, d, store.WriteResult{State: store.DealDone, CRMID: "deal-77", Action: "created"}); err != nil {
		t.Fatal(err)
	}
	e.b.Get(e.url()+"/quotes/"+making.ID).Want(200, "", "deal-77",
		"Deal deal-77 made in the CRM for quote "+making.Number+", on account acct-9 (matched)")
	if strings.Contains(string(e.b.Body), `id="deal-`+making.ID+`"`) {
		t.Fatal("a quote on its deal still shows a deal state")
	}
}

func ptr(s string) *string { return &s }
