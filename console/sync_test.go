package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/testcrm"
	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/web/webtest"
)

// syncEnv is a console whose workspace connected the test CRM (the CRM
// with a Syncer of its own) through its sign-in, its emulator granting
// scope.
type syncEnv struct {
	*testApp
	emu  *tctest.Server
	b    *webtest.Browser
	conn *qwoty.Connection
}

func newSyncEnv(t *testing.T, scope string) *syncEnv {
	t.Helper()
	var emu *tctest.Server
	a := newAppWith(t, "", func(appURL string, d *Deps) {
		emu = tctest.New(t, tctest.Options{RedirectURLs: []string{appURL + crm.CallbackPath(testcrm.Provider)}, Scope: scope})
		d.CRMs = withFourthCRM(d.Config, emu)
	})
	b := a.setupAdmin(t)
	b.Post(a.url()+"/settings/integrations/testcrm/connect", url.Values{"csrf": {b.CSRF()}}).Want(200, "/settings/integrations", "TestCRM is connected.")
	conn, err := a.db.ConnectionByExternalID(context.Background(), testcrm.Provider, tctest.DefaultAccountID)
	if err != nil {
		t.Fatal(err)
	}
	set, err := a.db.SyncSettingsOf(context.Background(), conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	set.Coalesce = 0 // every change is due at once, for the pushes below to lease it
	if err := a.db.SaveSyncSettings(context.Background(), conn.WorkspaceID, conn.ID, set, adminEmail); err != nil {
		t.Fatal(err)
	}
	return &syncEnv{testApp: a, emu: emu, b: b, conn: conn}
}

// quotes makes a quote on each record.
func (e *syncEnv) quotes(t *testing.T, records ...string) {
	t.Helper()
	for _, r := range records {
		s := store.Scope{WorkspaceID: e.conn.WorkspaceID, ConnectionID: e.conn.ID, RecordID: r}
		if _, err := e.db.CreateQuote(context.Background(), s, store.NewQuote{Currency: "USD", Title: "Deal " + r}); err != nil {
			t.Fatal(err)
		}
	}
}

// push does what the sync engine does after a push of every due record:
// each leased, its version read, its outcome recorded (res, the same for
// all) in the log and the outbox (store.LeaseSync, SyncSnapshots,
// RecordSync).
func (e *syncEnv) push(t *testing.T, res store.SyncResult) int {
	t.Helper()
	ctx := context.Background()
	token, recs, err := e.db.LeaseSync(ctx, e.conn.ID, 500, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.RecordID
	}
	snaps, err := e.db.SyncSnapshots(ctx, e.conn.ID, ids)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]store.SyncResult, len(snaps))
	for i, s := range snaps {
		out[i] = res
		out[i].RecordID, out[i].Seq = s.RecordID, s.Seq
		if res.Outcome == store.SyncedOutcome {
			out[i].CRMObject, out[i].CRMID = "deal", "crm-"+s.RecordID
		}
	}
	if err := e.db.RecordSync(ctx, e.conn.WorkspaceID, e.conn.ID, token, out); err != nil {
		t.Fatal(err)
	}
	return len(out)
}

// user adds a user of role to the workspace and returns their browser,
// logged in.
func (e *syncEnv) user(t *testing.T, role string) *webtest.Browser {
	t.Helper()
	webtest.Join(t, e.db, e.url(), role+"@acme.example", qwoty.Role(role))
	b := webtest.NewBrowser(t)
	b.Post(e.url()+"/login", url.Values{"email": {role + "@acme.example"}, "password": {"a long enough password"}}).Want(200, "/settings/integrations")
	return b
}

var syncHealthPattern = regexp.MustCompile(`<section class="sync-health" id="sync-testcrm" data-health="([a-z_]*)">`)

// syncHealthOf reads Integrations: the test CRM's sync health and the page.
func (e *syncEnv) syncHealthOf(t *testing.T) (string, string) {
	t.Helper()
	e.b.Get(e.url() + "/settings/integrations")
	body := string(e.b.Body)
	m := syncHealthPattern.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("Integrations shows no sync for the test CRM:\n%s", body)
	}
	return m[1], body
}

func wantAll(t *testing.T, page string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Fatalf("the page lacks %q:\n%s", w, page)
		}
	}
}

// Integrations shows a connection's sync at a glance: healthy with the
// outbox counted; a warning, with the reason, as soon as a record failed
// or the CRM's limit blocks it; an error past 20 failed records or with
// the connection in error (Reconnect).
func TestIntegrationsSyncHealth(t *testing.T) {
	e := newSyncEnv(t, "")
	health, page := e.syncHealthOf(t)
	if health != "healthy" {
		t.Fatalf("a fresh connection's sync is %s", health)
	}
	wantAll(t, page, `id="sync-pending-testcrm">0`, `id="sync-failed-testcrm">0`, `id="sync-last-testcrm">never`, `id="sync-log-testcrm"`)
	if strings.Contains(page, `id="sync-reconnect"`) {
		t.Fatalf("a connection granted the write scope is offered Reconnect:\n%s", page)
	}

	e.quotes(t, "d-1", "d-2")
	e.push(t, store.SyncResult{Outcome: store.SyncedOutcome, Calls: 1})
	e.quotes(t, "d-3")
	health, page = e.syncHealthOf(t)
	if health != "healthy" {
		t.Fatalf("with quotes synced and waiting: %s", health)
	}
	wantAll(t, page, `id="sync-pending-testcrm">1`, `id="sync-synced-testcrm">2`, `id="sync-failed-testcrm">0`)
	if strings.Contains(page, `id="sync-last-testcrm">never`) {
		t.Fatal("the last push's time is not shown")
	}

	e.push(t, store.SyncResult{Outcome: store.FailedOutcome, Code: qwoty.CodeSyncRejected, Message: "amount: must be positive"})
	health, page = e.syncHealthOf(t)
	if health != "warning" {
		t.Fatalf("with one failed record: %s", health)
	}
	wantAll(t, page, "1 record failed to sync: fix what TestCRM&#39;s message names", "Latest: amount: must be positive", `id="sync-failed-testcrm">1`,
		`href="/settings/integrations/testcrm/sync-log?outcome=failed"`)

	// The CRM named a time to come back: a warning until then.
	if _, err := e.db.RetrySync(context.Background(), e.conn.WorkspaceID, e.conn.ID, "", adminEmail); err != nil {
		t.Fatal(err)
	}
	e.push(t, store.SyncResult{Outcome: store.SyncedOutcome, Calls: 1})
	if err := e.db.BlockBudget(context.Background(), e.conn.ID, time.Now().Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	health, page = e.syncHealthOf(t)
	if health != "warning" || !strings.Contains(page, "API limit is reached: sync waits until") {
		t.Fatalf("with the budget blocked: %s\n%s", health, page)
	}

	// More than 20 records failed: an error.
	var many []string
	for i := range 21 {
		many = append(many, fmt.Sprintf("m-%02d", i))
	}
	e.quotes(t, many...)
	e.push(t, store.SyncResult{Outcome: store.FailedOutcome, Code: qwoty.CodeSyncFailed, Message: "the CRM answered 503"})
	health, page = e.syncHealthOf(t)
	if health != "error" {
		t.Fatalf("with 21 failed records: %s", health)
	}
	wantAll(t, page, "21 records failed to sync", "Latest: the CRM answered 503")

	// The CRM refuses Qwoty's grant: the connection is in error, and sync
	// says nothing is pushed until it is reconnected.
	e.emu.RevokeAll()
	e.b.Post(e.url()+"/settings/integrations/testcrm/test", url.Values{"csrf": {e.b.CSRF()}})
	health, page = e.syncHealthOf(t)
	if health != "error" {
		t.Fatalf("with the connection in error: %s", health)
	}
	wantAll(t, page, "Nothing is pushed while the connection is in error: reconnect TestCRM", `id="sync-reconnect"`)
}

// A connection made before sync (granted read scopes only) says "Reconnect
// to enable sync" with its Reconnect button, to admins; reconnecting with
// the write scope clears it.
func TestIntegrationsSyncReconnect(t *testing.T) {
	e := newSyncEnv(t, "deals:read")
	e.quotes(t, "d-1")
	e.push(t, store.SyncResult{Outcome: store.WaitingOutcome, Due: time.Now().Add(time.Hour), Code: qwoty.CodeSyncReconnect,
		Message: "this TestCRM connection may not write deals: reconnect to enable sync"})
	health, page := e.syncHealthOf(t)
	if health != "warning" {
		t.Fatalf("a read-only connection's sync: %s", health)
	}
	wantAll(t, page, "Reconnect to enable sync: this connection was made before Qwoty wrote to the CRM", `id="sync-reconnect"`,
		`action="/settings/integrations/testcrm/connect"`, `id="sync-pending-testcrm">1`)

	viewer := e.user(t, "viewer")
	viewer.Get(e.url() + "/settings/integrations")
	if body := string(viewer.Body); !strings.Contains(body, "Ask an admin of this workspace to reconnect TestCRM") || strings.Contains(body, `id="sync-reconnect"`) ||
		strings.Contains(body, `id="sync-log-testcrm"`) {
		t.Fatalf("a viewer's Integrations:\n%s", body)
	}
}

var logRowPattern = regexp.MustCompile(`<tr id="log-(\d+)" data-outcome="([a-z]+)" data-record="([^"]*)"[^>]*>`)

// logRows are the sync log page's rows: id, outcome, record.
func logRows(body []byte) [][3]string {
	var out [][3]string
	for _, m := range logRowPattern.FindAllSubmatch(body, -1) {
		out = append(out, [3]string{string(m[1]), string(m[2]), string(m[3])})
	}
	return out
}

// The sync log lists every push, newest first, a page of 50 at a time,
// filtered by outcome and record; a failed record's newest failure offers
// Retry, and Retry all failed queues every one, each audited. Admins and
// members read it (only admins retry), and it shows this workspace's
// connection only.
func TestSyncLogPage(t *testing.T) {
	e := newSyncEnv(t, "")
	logURL := e.url() + "/settings/integrations/testcrm/sync-log"
	e.b.Get(logURL).Want(200, "/settings/integrations/testcrm/sync-log", `id="sync-log-empty"`, "Nothing was synced yet")

	var records []string
	for i := range 55 {
		records = append(records, fmt.Sprintf("r-%02d", i))
	}
	e.quotes(t, records...)
	e.push(t, store.SyncResult{Outcome: store.SyncedOutcome, Calls: 1})
	e.quotes(t, "r-07", "r-08")
	e.push(t, store.SyncResult{Outcome: store.FailedOutcome, Code: qwoty.CodeSyncRejected, Message: "stage: <Closed Won> is not allowed", Calls: 2})

	// Newest first: the two failures, then the 55 pushes; 50 a page.
	e.b.Get(logURL)
	first := logRows(e.b.Body)
	if len(first) != 50 || first[0][1] != "failed" || first[1][1] != "failed" || first[2][1] != "synced" {
		t.Fatalf("the first page: %d rows, starting %v", len(first), first[:min(3, len(first))])
	}
	wantAll(t, string(e.b.Body), "2 records failed", `id="retry-all"`, "stage: &lt;Closed Won&gt; is not allowed", `<code>sync_rejected</code>`,
		`id="retry-`+first[0][0]+`"`, `id="retry-`+first[1][0]+`"`, `id="older"`)
	if strings.Contains(string(e.b.Body), `id="retry-`+first[2][0]+`"`) {
		t.Fatal("a synced entry offers Retry")
	}
	older := regexp.MustCompile(`id="older"|href="([^"]+)" id="older"`).FindSubmatch(e.b.Body)
	if older == nil || len(older[1]) == 0 {
		t.Fatalf("no link to the older page:\n%s", e.b.Body)
	}
	e.b.Get(e.url() + strings.ReplaceAll(string(older[1]), "&amp;", "&"))
	second := logRows(e.b.Body)
	if len(second) != 7 || strings.Contains(string(e.b.Body), `id="older"`) || !strings.Contains(string(e.b.Body), `id="newest"`) {
		t.Fatalf("the second page: %d rows\n%s", len(second), e.b.Body)
	}
	seen := map[string]bool{}
	for _, r := range append(first, second...) {
		if seen[r[0]] {
			t.Fatalf("entry %s on both pages", r[0])
		}
		seen[r[0]] = true
	}

	// Filters: by outcome, by record, both; what no link writes is refused.
	e.b.Get(logURL + "?outcome=failed")
	if rows := logRows(e.b.Body); len(rows) != 2 || rows[0][1] != "failed" || rows[1][1] != "failed" {
		t.Fatalf("failed entries: %v", rows)
	}
	e.b.Get(logURL + "?record=r-08")
	if rows := logRows(e.b.Body); len(rows) != 2 || rows[0][2] != "r-08" || rows[0][1] != "failed" || rows[1][1] != "synced" {
		t.Fatalf("record r-08's entries: %v", rows)
	}
	e.b.Get(logURL + "?record=r-08&outcome=synced")
	if rows := logRows(e.b.Body); len(rows) != 1 || rows[0][1] != "synced" {
		t.Fatalf("record r-08's synced entries: %v", rows)
	}
	e.b.Get(logURL+"?outcome=deleted").Want(http.StatusBadRequest, "")
	e.b.Get(logURL+"?before=x").Want(http.StatusBadRequest, "")

	// Retry one record: queued again, audited under the admin's email; the
	// other stays failed.
	e.b.Post(logURL+"/retry", url.Values{"csrf": {e.b.CSRF()}, "record": {"r-07"}}).
		Want(200, "/settings/integrations/testcrm/sync-log", "1 record is queued again", "1 record failed")
	h, err := e.db.SyncHealthOf(context.Background(), e.conn.WorkspaceID, e.conn.ID)
	if err != nil || h.Failed != 1 || h.Pending != 1 {
		t.Fatalf("after retrying r-07: %+v %v", h, err)
	}
	entries, err := e.db.AuditLog(context.Background(), e.conn.WorkspaceID, 20)
	if err != nil || entries[0].Action != "sync.retried" || entries[0].Actor != adminEmail || entries[0].Detail["record"] != "r-07" {
		t.Fatalf("the audit log's newest entry: %+v %v", entries[0], err)
	}
	e.b.Get(e.url()+"/settings/audit").Want(200, "", "Sync retried for record r-07")
	// A post without the form's token changes nothing.
	e.b.Post(logURL+"/retry", url.Values{"all": {"true"}}).Want(http.StatusForbidden, "")
	e.b.Post(logURL+"/retry", url.Values{"csrf": {e.b.CSRF()}, "all": {"true"}}).
		Want(200, "/settings/integrations/testcrm/sync-log", "1 record is queued again")
	if h, err := e.db.SyncHealthOf(context.Background(), e.conn.WorkspaceID, e.conn.ID); err != nil || h.Failed != 0 || h.Pending != 2 {
		t.Fatalf("after Retry all failed: %+v %v", h, err)
	}
	e.b.Post(logURL+"/retry", url.Values{"csrf": {e.b.CSRF()}, "all": {"true"}}).
		Want(200, "/settings/integrations/testcrm/sync-log", "Nothing to retry")

	// Members read it, without Retry; they may not retry.
	member := e.user(t, "member")
	member.Get(logURL).Want(http.StatusOK, "")
	if strings.Contains(string(member.Body), `id="retry-`) {
		t.Fatal("a member is offered Retry")
	}
	member.Post(logURL+"/retry", url.Values{"csrf": {member.CSRF()}, "all": {"true"}}).Want(http.StatusForbidden, "", "forbidden")
}

// Retry from one workspace's console reaches its own connection's records
// only: another workspace's failed record of the same CRM stays failed.
func TestSyncLogRetryIsScopedToTheWorkspace(t *testing.T) {
	e := newSyncEnv(t, "")
	ctx := context.Background()
	other, err := e.db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Globex", Provider: qwoty.ProviderSalesforce,
		ExternalID: "00D000000000GLXAAA", MyDomain: "globex"})
	if err != nil {
		t.Fatal(err)
	}
	set, err := e.db.SyncSettingsOf(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	set.Coalesce = 0
	if err := e.db.SaveSyncSettings(ctx, other.WorkspaceID, other.ID, set, "test"); err != nil {
		t.Fatal(err)
	}
	s := store.Scope{WorkspaceID: other.WorkspaceID, ConnectionID: other.ID, RecordID: "006000000000001AAA"}
	if _, err := e.db.CreateQuote(ctx, s, store.NewQuote{Currency: "USD"}); err != nil {
		t.Fatal(err)
	}
	// Globex's record fails.
	token, recs, err := e.db.LeaseSync(ctx, other.ID, 10, time.Minute)
	if err != nil || len(recs) != 1 {
		t.Fatalf("lease Globex's record: %v %+v", err, recs)
	}
	snaps, err := e.db.SyncSnapshots(ctx, other.ID, []string{s.RecordID})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.RecordSync(ctx, other.WorkspaceID, other.ID, token, []store.SyncResult{{RecordID: s.RecordID, Seq: snaps[0].Seq,
		Outcome: store.FailedOutcome, Code: qwoty.CodeSyncFailed, Message: "down"}}); err != nil {
		t.Fatal(err)
	}

	logURL := e.url() + "/settings/integrations/testcrm/sync-log"
	e.b.Post(logURL+"/retry", url.Values{"csrf": {e.b.CSRF()}, "record": {s.RecordID}}).Want(200, "", "Nothing to retry")
	e.b.Post(logURL+"/retry", url.Values{"csrf": {e.b.CSRF()}, "all": {"true"}}).Want(200, "", "Nothing to retry")
	if h, err := e.db.SyncHealthOf(ctx, other.WorkspaceID, other.ID); err != nil || h.Failed != 1 {
		t.Fatalf("Globex's record after Acme's retries: %+v %v", h, err)
	}
	e.b.Get(e.url()+"/settings/integrations/salesforce/sync-log").Want(http.StatusNotFound, "")
	e.b.Get(logURL + "?record=" + s.RecordID)
	if rows := logRows(e.b.Body); len(rows) != 0 {
		t.Fatalf("Acme's log shows Globex's entries: %v", rows)
	}
}

// Sync settings: the form shows the connection's settings; a value out of
// range, an unknown trigger, an address that is not one or a webhook that
// is not Slack's is refused naming the field, with nothing saved and the
// webhook never repeated; a valid form is saved, audited, and keeps the
// webhook unless it is replaced or removed. Admins only.
func TestSyncSettingsForm(t *testing.T) {
	e := newSyncEnv(t, "")
	ctx := context.Background()
	formURL := e.url() + "/settings/integrations/testcrm/sync-settings"
	e.b.Get(formURL).Want(200, "/settings/integrations/testcrm/sync-settings", `id="trigger-created" checked`, `id="trigger-edit" checked`,
		`id="coalesce" name="coalesce" class="num short" value="0"`, `id="share" name="share" class="num short" value="50"`)
	if strings.Contains(string(e.b.Body), `id="slack-set"`) {
		t.Fatal("a webhook is said to be set before any was")
	}
	const hook = "https://hooks.slack.com/services/T0AAA/B0BBB/abcdefSECRET123"
	form := func(kv ...string) url.Values {
		f := url.Values{"csrf": {e.b.CSRF()}, "trigger": {"status", "primary"}, "coalesce": {"10"}, "share": {"30"},
			"alert_emails": {"ops@acme.example\nsales-lead@acme.example, ops@acme.example"}, "slack": {hook}}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				f.Del(kv[i])
			} else {
				f.Set(kv[i], kv[i+1])
			}
		}
		return f
	}
	for _, c := range []struct {
		kv   []string
		want string
	}{
		{[]string{"coalesce", "-1"}, "a whole number of seconds from 0 to 3600"},
		{[]string{"coalesce", "3601"}, "a whole number of seconds from 0 to 3600"},
		{[]string{"share", "0"}, "a whole percentage from 1 to 100"},
		{[]string{"share", "fifty"}, "a whole percentage from 1 to 100"},
		{[]string{"alert_emails", "ops.acme.example"}, "is not valid"},
		{[]string{"slack", "http://hooks.slack.com/services/T0AAA/B0BBB/leaky"}, "must start with https://"},
		{[]string{"slack", "https://evil.example/services/T0AAA/B0BBB/leaky"}, "must be on hooks.slack.com"},
	} {
		e.b.Post(formURL, form(c.kv...)).Want(http.StatusUnprocessableEntity, "/settings/integrations/testcrm/sync-settings", c.want)
		if strings.Contains(string(e.b.Body), "leaky") {
			t.Fatalf("the refusal repeats the webhook URL:\n%s", e.b.Body)
		}
	}
	e.b.Post(formURL, form("trigger", "deleted")).Want(http.StatusBadRequest, "")
	if set, err := e.db.SyncSettingsOf(ctx, e.conn.ID); err != nil || set.SlackWebhook != "" || len(set.Triggers) != len(qwoty.DefaultSyncTriggers) {
		t.Fatalf("a refused form changed the settings: %+v %v", set, err)
	}

	e.b.Get(formURL)
	e.b.Post(formURL, form()).Want(200, "/settings/integrations", "TestCRM&#39;s sync settings are saved.")
	set, err := e.db.SyncSettingsOf(ctx, e.conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(set.Triggers, ",") != "status,primary" || set.Coalesce != 10*time.Second || set.BudgetShare != 0.3 ||
		strings.Join(set.AlertEmails, ",") != "ops@acme.example,sales-lead@acme.example" || set.SlackWebhook != hook {
		t.Fatalf("saved settings: %+v", set)
	}
	entries, err := e.db.AuditLog(ctx, e.conn.WorkspaceID, 5)
	if err != nil || entries[0].Action != "sync.settings_changed" || entries[0].Actor != adminEmail {
		t.Fatalf("the audit log's newest entry: %+v %v", entries[0], err)
	}
	e.b.Get(formURL).Want(200, "", `id="slack-set"`, `id="slack-remove"`, `id="trigger-status" checked`, `value="10"`, `value="30"`)
	if strings.Contains(string(e.b.Body), hook) || strings.Contains(string(e.b.Body), `id="trigger-created" checked`) {
		t.Fatalf("the form shows the webhook, or a trigger turned off:\n%s", e.b.Body)
	}
	// An empty webhook field keeps the webhook; Remove drops it.
	e.b.Post(formURL, form("slack", "")).Want(200, "/settings/integrations")
	if set, _ := e.db.SyncSettingsOf(ctx, e.conn.ID); set.SlackWebhook != hook {
		t.Fatal("saving without a webhook URL dropped the webhook")
	}
	e.b.Get(formURL)
	e.b.Post(formURL, form("slack", "", "slack_remove", "true")).Want(200, "/settings/integrations")
	if set, _ := e.db.SyncSettingsOf(ctx, e.conn.ID); set.SlackWebhook != "" {
		t.Fatal("Remove kept the webhook")
	}

	member := e.user(t, "member")
	member.Get(formURL).Want(http.StatusForbidden, "")
	member.Post(formURL, url.Values{"csrf": {member.CSRF()}, "coalesce": {"1"}, "share": {"1"}}).Want(http.StatusForbidden, "")
}
