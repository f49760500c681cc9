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

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

const recordB = "006000000000002AAA"

// syncNow makes the connection push every change without coalescing, so
// that a test can lease what it just changed (the sync settings' API).
func syncNow(t *testing.T, db *store.DB, conn *qwoty.Connection) {
	t.Helper()
	ctx := context.Background()
	set, err := db.SyncSettingsOf(ctx, conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	set.Coalesce = 0
	if err := db.SaveSyncSettings(ctx, conn.WorkspaceID, conn.ID, set, "test"); err != nil {
		t.Fatal(err)
	}
}

// push does what the sync engine does after pushing record: its outbox
// row leased, the record's version read as the push would, and res
// recorded (store.LeaseSync, SyncSnapshots, RecordSync). Other due
// records go back untouched.
func push(t *testing.T, db *store.DB, conn *qwoty.Connection, record string, res store.SyncResult) {
	t.Helper()
	ctx := context.Background()
	token, recs, err := db.LeaseSync(ctx, conn.ID, 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := db.ReleaseSync(ctx, conn.ID, token); err != nil {
			t.Fatal(err)
		}
	}()
	leased := false
	for _, r := range recs {
		leased = leased || r.RecordID == record
	}
	if !leased {
		t.Fatalf("record %s is not due: leased %+v", record, recs)
	}
	snaps, err := db.SyncSnapshots(ctx, conn.ID, []string{record})
	if err != nil || len(snaps) != 1 {
		t.Fatalf("snapshot of %s: %v %+v", record, err, snaps)
	}
	res.RecordID, res.Seq = record, snaps[0].Seq
	if err := db.RecordSync(ctx, conn.WorkspaceID, conn.ID, token, []store.SyncResult{res}); err != nil {
		t.Fatal(err)
	}
}

// cardOn opens the card of record in conn's org and returns the page token.
func cardOn(t *testing.T, a *testApp, conn *qwoty.Connection, record string) string {
	t.Helper()
	r, tok := a.page(do(t, a.request(callout{org: conn.ExternalID, secret: conn.Secret, body: body(record, accountA, "Acme", "USD")})).answer(t).EmbedURL)
	if tok == "" {
		t.Fatalf("card of %s: %d %s", record, r.status, r.body)
	}
	return tok
}

// newQuote creates a quote from the card and returns its id.
func newQuote(t *testing.T, a *testApp, tok string) string {
	t.Helper()
	r := a.action(http.MethodPost, "/embed/api/quotes", tok, nil)
	m := quoteIDPattern.FindSubmatch(r.body)
	if r.status != http.StatusCreated || m == nil {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	return string(m[1])
}

// answerQuote is the card answer's quote id, as the CRM gets it.
func answerQuote(t *testing.T, a *testApp, conn *qwoty.Connection, record, id string) wireQuote {
	t.Helper()
	for _, q := range do(t, a.request(callout{org: conn.ExternalID, secret: conn.Secret, body: body(record, accountA, "Acme", "USD")})).answer(t).Quotes {
		if q.ID == id {
			return q
		}
	}
	t.Fatalf("the card answer does not list quote %s", id)
	return wireQuote{}
}

// The first quote of a record is its primary one; Make primary moves the
// role (from the list, answered with the list; from the editor, with the
// editor), the CRM's card answer says which is primary, and the action is
// scoped like every card action: another record's or another workspace's
// quote is not found, and keeps its role.
func TestCardMakePrimary(t *testing.T) {
	a := newApp(t, "", nil)
	conn := a.connect("Acme", orgID(t, "00D00000000000A"), "acme")
	tok := cardOn(t, a, conn, recordA)
	first, second := newQuote(t, a, tok), newQuote(t, a, tok)

	list := a.action(http.MethodGet, "/embed/api/quotes", tok, nil)
	for _, want := range []string{`id="primary-` + first + `"`, `id="make-primary-` + second + `"`} {
		if !bytes.Contains(list.body, []byte(want)) {
			t.Fatalf("the list lacks %s:\n%s", want, list.body)
		}
	}
	if bytes.Contains(list.body, []byte(`id="make-primary-`+first+`"`)) || bytes.Contains(list.body, []byte(`id="primary-`+second+`"`)) {
		t.Fatalf("the list shows the first quote as not primary, or the second as primary:\n%s", list.body)
	}
	if !answerQuote(t, a, conn, recordA, first).Primary || answerQuote(t, a, conn, recordA, second).Primary {
		t.Fatal("the card answer does not mark the first quote, alone, primary")
	}

	r := a.send(http.MethodPost, "/embed/api/quotes/"+second+"/primary", tok, url.Values{"view": {"list"}}, true)
	if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`id="primary-`+second+`"`)) ||
		!bytes.Contains(r.body, []byte(`id="make-primary-`+first+`"`)) || !bytes.Contains(r.body, []byte(`id="quote-list"`)) {
		t.Fatalf("make the second primary from the list: %d\n%s", r.status, r.body)
	}
	if answerQuote(t, a, conn, recordA, first).Primary || !answerQuote(t, a, conn, recordA, second).Primary {
		t.Fatal("the card answer does not follow the new primary quote")
	}
	r = a.send(http.MethodPost, "/embed/api/quotes/"+first+"/primary", tok, nil, true)
	if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`id="primary-badge"`)) || !bytes.Contains(r.body, []byte(`data-quote-id="`+first+`"`)) {
		t.Fatalf("make the first primary from the editor: %d\n%s", r.status, r.body)
	}

	// Another record's quote, in the same org, and another workspace's.
	other := newQuote(t, a, cardOn(t, a, conn, recordB))
	newQuote(t, a, cardOn(t, a, conn, recordB))
	otherConn := a.connect("Globex", orgID(t, "00D00000000000G"), "globex")
	foreign := newQuote(t, a, cardOn(t, a, otherConn, recordA))
	newQuote(t, a, cardOn(t, a, otherConn, recordA))
	for _, id := range []string{other, foreign} {
		a.send(http.MethodPost, "/embed/api/quotes/"+id+"/primary", tok, url.Values{"view": {"list"}}, false).wantError(t, http.StatusNotFound, qwoty.CodeNotFound)
	}
	if !answerQuote(t, a, conn, recordB, other).Primary || !answerQuote(t, a, otherConn, recordA, foreign).Primary {
		t.Fatal("a refused Make primary changed another record's primary quote")
	}
	if !answerQuote(t, a, conn, recordA, first).Primary {
		t.Fatal("a refused Make primary changed this record's primary quote")
	}
}

var syncTextPattern = regexp.MustCompile(`<span class="sync ([a-z]+)" id="sync-([0-9a-f-]{36})"[^>]*>([^<]*)</span>`)

// syncTexts are the list's sync lines by quote id: "class: text".
func syncTexts(body []byte) map[string]string {
	out := map[string]string{}
	for _, m := range syncTextPattern.FindAllSubmatch(body, -1) {
		out[string(m[2])] = string(m[1]) + ": " + string(m[3])
	}
	return out
}

// Each quote says where it stands with the CRM, in the card and in the
// CRM's card answer: synced (how long ago, by the server's clock), syncing,
// failed with the CRM's reason and Retry, or waiting for an admin to
// reconnect (no Retry: a rep cannot fix it). Retry queues the record again
// and is audited; it is scoped like every card action.
func TestCardSyncStateAndRetry(t *testing.T) {
	a := newApp(t, "", nil)
	conn := a.connect("Acme", orgID(t, "00D00000000000A"), "acme")
	syncNow(t, a.db, conn)
	tok := cardOn(t, a, conn, recordA)
	synced, failed := newQuote(t, a, tok), newQuote(t, a, tok)

	list := a.action(http.MethodGet, "/embed/api/quotes", tok, nil)
	if got := syncTexts(list.body); got[synced] != "pending: Syncing…" || got[failed] != "pending: Syncing…" {
		t.Fatalf("new quotes: %v", got)
	}
	if q := answerQuote(t, a, conn, recordA, synced); q.Sync.State != "pending" || !q.Sync.At.IsZero() {
		t.Fatalf("a new quote's answer: %+v", q.Sync)
	}

	push(t, a.db, conn, recordA, store.SyncResult{Outcome: store.SyncedOutcome, CRMObject: "Opportunity", CRMID: recordA, Calls: 2})
	a.clock.Add(2*time.Minute + 10*time.Second)
	list = a.action(http.MethodGet, "/embed/api/quotes", tok, nil)
	if got := syncTexts(list.body); got[synced] != "synced: Synced to Salesforce 2 min ago" || got[failed] != got[synced] {
		t.Fatalf("after a push, 2 minutes later: %v", got)
	}
	if q := answerQuote(t, a, conn, recordA, synced); q.Sync.State != "synced" || q.Sync.At.IsZero() || q.Sync.Code != "" {
		t.Fatalf("a synced quote's answer: %+v", q.Sync)
	}

	// The second quote changes; its push is refused for good.
	r := a.action(http.MethodPut, "/embed/api/quotes/"+failed+"/terms", tok, map[string]string{"title": "Renewal", "tax_rate": "0"})
	if r.status != http.StatusOK {
		t.Fatalf("edit: %d %s", r.status, r.body)
	}
	const reason = "REQUIRED_FIELD_MISSING: Required fields are missing: [CloseDate]"
	push(t, a.db, conn, recordA, store.SyncResult{Outcome: store.FailedOutcome, Code: qwoty.CodeSyncRejected, Message: reason, Calls: 1})
	list = a.action(http.MethodGet, "/embed/api/quotes", tok, nil)
	got := syncTexts(list.body)
	if got[synced] != "synced: Synced to Salesforce 2 min ago" || got[failed] != "failed: Sync failed: "+htmlText(reason) {
		t.Fatalf("after a failed push of the edit: %v", got)
	}
	// The list cuts a long message to two lines; all of it is in the title.
	if !bytes.Contains(list.body, []byte(`id="sync-`+failed+`" title="Sync failed: `+htmlText(reason)+`"`)) {
		t.Fatalf("the failed quote's line does not carry the whole message:\n%s", list.body)
	}
	if !bytes.Contains(list.body, []byte(`id="retry-`+failed+`"`)) || bytes.Contains(list.body, []byte(`id="retry-`+synced+`"`)) {
		t.Fatalf("Retry is not offered on the failed quote alone:\n%s", list.body)
	}
	if q := answerQuote(t, a, conn, recordA, failed); q.Sync.State != "failed" || q.Sync.Code != qwoty.CodeSyncRejected || q.Sync.Message != reason {
		t.Fatalf("a failed quote's answer: %+v", q.Sync)
	}
	editor := a.action(http.MethodGet, "/embed/api/quotes/"+failed, tok, nil)
	if !bytes.Contains(editor.body, []byte(`id="sync-state">Sync failed: `+htmlText(reason))) || !bytes.Contains(editor.body, []byte(`id="retry-sync"`)) {
		t.Fatalf("the editor of the failed quote:\n%s", editor.body)
	}

	// Another record's failed quote: not this card's to retry.
	tokB := cardOn(t, a, conn, recordB)
	otherFailed := newQuote(t, a, tokB)
	push(t, a.db, conn, recordB, store.SyncResult{Outcome: store.FailedOutcome, Code: qwoty.CodeSyncFailed, Message: "the CRM is down", Calls: 1})
	a.send(http.MethodPost, "/embed/api/quotes/"+otherFailed+"/sync/retry", tok, url.Values{"view": {"list"}}, false).wantError(t, http.StatusNotFound, qwoty.CodeNotFound)
	if q := answerQuote(t, a, conn, recordA, failed); q.Sync.State != "failed" {
		t.Fatalf("a refused Retry retried this card's record: %+v", q.Sync)
	}

	r = a.send(http.MethodPost, "/embed/api/quotes/"+failed+"/sync/retry", tok, url.Values{"view": {"list"}}, true)
	if got := syncTexts(r.body); r.status != http.StatusOK || got[failed] != "pending: Syncing…" || bytes.Contains(r.body, []byte(`id="retry-`)) {
		t.Fatalf("after Retry: %d %v\n%s", r.status, got, r.body)
	}
	if q := answerQuote(t, a, conn, recordB, otherFailed); q.Sync.State != "failed" {
		t.Fatalf("Retry on record A retried record B: %+v", q.Sync)
	}
	entries, err := a.db.AuditLog(context.Background(), conn.WorkspaceID, 50)
	if err != nil {
		t.Fatal(err)
	}
	retried := 0
	for _, e := range entries {
		if e.Action == "sync.retried" {
			retried++
			if e.Detail["record"] != recordA {
				t.Fatalf("the retry's audit entry: %+v", e)
			}
		}
	}
	if retried != 1 {
		t.Fatalf("%d sync.retried audit entries, want 1", retried)
	}

	// A connection made before sync: the record waits for a reconnect.
	push(t, a.db, conn, recordA, store.SyncResult{Outcome: store.WaitingOutcome, Due: time.Now().Add(time.Hour), Code: qwoty.CodeSyncReconnect,
		Message: "this connection lacks the write permissions sync needs"})
	list = a.action(http.MethodGet, "/embed/api/quotes", tok, nil)
	if got := syncTexts(list.body); got[failed] != "waiting: Waiting: reconnect to enable sync" || bytes.Contains(list.body, []byte(`id="retry-`)) {
		t.Fatalf("waiting for a reconnect: %v\n%s", got, list.body)
	}
	editor = a.action(http.MethodGet, "/embed/api/quotes/"+failed, tok, nil)
	if !bytes.Contains(editor.body, []byte("must reconnect Salesforce")) || bytes.Contains(editor.body, []byte(`id="retry-sync"`)) {
		t.Fatalf("the editor of a quote waiting for a reconnect:\n%s", editor.body)
	}
	if q := answerQuote(t, a, conn, recordA, failed); q.Sync.State != "pending" || q.Sync.Code != qwoty.CodeSyncReconnect {
		t.Fatalf("a waiting quote's answer: %+v", q.Sync)
	}
}

// htmlText is s as templ escapes it in text.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// Delete asks first, in the card itself (no window.confirm, which a CRM's
// frame may block); a stale version is refused as a conflict; a deleted
// primary quote hands the role on; the quote leaves the card and the CRM's
// answer. Another record's or workspace's quote is not found.
func TestCardDeleteQuote(t *testing.T) {
	a := newApp(t, "", nil)
	conn := a.connect("Acme", orgID(t, "00D00000000000A"), "acme")
	tok := cardOn(t, a, conn, recordA)
	primary, other := newQuote(t, a, tok), newQuote(t, a, tok)

	editor := a.action(http.MethodGet, "/embed/api/quotes/"+primary, tok, nil)
	if !bytes.Contains(editor.body, []byte(`<details class="delete" id="delete">`)) ||
		!bytes.Contains(editor.body, []byte(`hx-delete="/embed/api/quotes/`+primary+`"`)) || bytes.Contains(editor.body, []byte("hx-confirm")) {
		t.Fatalf("the editor's delete:\n%s", editor.body)
	}
	stale := editorVersion(t, editor)
	a.action(http.MethodPut, "/embed/api/quotes/"+primary+"/terms", tok, map[string]string{"title": "Changed meanwhile"})
	a.send(http.MethodDelete, "/embed/api/quotes/"+primary+"?version="+stale, tok, nil, false).wantError(t, http.StatusConflict, qwoty.CodeVersionConflict)
	answerQuote(t, a, conn, recordA, primary) // still listed

	otherConn := a.connect("Globex", orgID(t, "00D00000000000G"), "globex")
	foreign := newQuote(t, a, cardOn(t, a, otherConn, recordA))
	otherRecord := newQuote(t, a, cardOn(t, a, conn, recordB))
	for _, id := range []string{foreign, otherRecord} {
		a.send(http.MethodDelete, "/embed/api/quotes/"+id, tok, nil, false).wantError(t, http.StatusNotFound, qwoty.CodeNotFound)
	}
	answerQuote(t, a, otherConn, recordA, foreign)
	answerQuote(t, a, conn, recordB, otherRecord)

	editor = a.action(http.MethodGet, "/embed/api/quotes/"+primary, tok, nil)
	r := a.send(http.MethodDelete, "/embed/api/quotes/"+primary+"?version="+editorVersion(t, editor), tok, nil, true)
	if r.status != http.StatusOK || bytes.Contains(r.body, []byte(primary)) || !bytes.Contains(r.body, []byte(`id="primary-`+other+`"`)) {
		t.Fatalf("delete the primary quote: %d\n%s", r.status, r.body)
	}
	ans := do(t, a.request(callout{org: conn.ExternalID, secret: conn.Secret, body: body(recordA, accountA, "Acme", "USD")})).answer(t)
	if len(ans.Quotes) != 1 || ans.Quotes[0].ID != other || !ans.Quotes[0].Primary {
		t.Fatalf("the card answer after the delete: %+v", ans.Quotes)
	}
	a.action(http.MethodGet, "/embed/api/quotes/"+primary, tok, nil).wantError(t, http.StatusNotFound, qwoty.CodeNotFound)
}
