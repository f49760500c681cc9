//go:build browser

package e2e

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// pushAs does what the sync engine does after pushing the connection's
// due records: each leased, its version read, res recorded for it
// (store.LeaseSync, SyncSnapshots, RecordSync). The tests here run no
// engine: they set the states a push leaves, through the store's API.
func pushAs(t *testing.T, db *store.DB, conn *qwoty.Connection, res store.SyncResult) {
	t.Helper()
	ctx := context.Background()
	token, recs, err := db.LeaseSync(ctx, conn.ID, 500, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.RecordID
	}
	snaps, err := db.SyncSnapshots(ctx, conn.ID, ids)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]store.SyncResult, len(snaps))
	for i, s := range snaps {
		out[i] = res
		out[i].RecordID, out[i].Seq = s.RecordID, s.Seq
	}
	if err := db.RecordSync(ctx, conn.WorkspaceID, conn.ID, token, out); err != nil {
		t.Fatal(err)
	}
}

// syncAtOnce turns off the connection's coalescing delay, so that what a
// test changes is due at once.
func syncAtOnce(t *testing.T, db *store.DB, conn *qwoty.Connection) {
	t.Helper()
	ctx := context.Background()
	set, err := db.SyncSettingsOf(ctx, conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	set.Coalesce = 0
	if err := db.SaveSyncSettings(ctx, conn.WorkspaceID, conn.ID, set, "e2e"); err != nil {
		t.Fatal(err)
	}
}

// waitSized waits until the host has sized the card's frame to the card's
// content (its resize message applied) and no request of the card is
// under way. A mouse click is aimed at where its element is when the click
// starts; a card that just grew (a disclosure opened) is scrolled inside a
// frame still too short for it, and a host's resize landing between the
// aim and the press would move the element from under it. (A guard: this
// is one way TestCardSyncStates could miss Delete, which it did in 2 of 5
// runs of the whole suite, never alone; it was not reproduced here.)
func waitSized(ctx context.Context, t *testing.T, what string) {
	t.Helper()
	waitFor(ctx, t, what+" in a frame of its size", func() bool {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		content, err := frameEval[float64](c, t, `document.querySelector(".htmx-request") ? -1 : Math.ceil(document.documentElement.getBoundingClientRect().height)`)
		if err != nil || content < 0 {
			return false
		}
		framed, err := chromedp.Run(c, chromedp.Evaluate[float64](`document.getElementById("qwoty-frame").getBoundingClientRect().height`))
		return err == nil && math.Abs(framed-content) < 1
	})
}

const rejected = "FIELD_CUSTOM_VALIDATION_EXCEPTION: Close Date must be in the future for an Opportunity in Proposal"

// In the sidebar and on a wide screen, the card shows each quote's place
// in the CRM: the primary one's badge, "Synced to Salesforce … ago", a
// failed one's message with Retry, Make primary on the others. Nothing
// overflows; Retry, Make primary and Delete (confirmed in the card) work
// in the frame.
func TestCardSyncStates(t *testing.T) {
	s := startSidebar(t)
	ctx, logs := browser(t)
	syncAtOnce(t, s.db, s.conn)
	primary := s.quote(t, "USD", fiveLines[:2]...)
	synced := s.quote(t, "USD", fiveLines[2:3]...)
	pushAs(t, s.db, s.conn, store.SyncResult{Outcome: store.SyncedOutcome, CRMObject: "Opportunity", CRMID: sidebarRecord, Calls: 3})
	failed := s.quote(t, "USD", fiveLines[3:]...)
	pushAs(t, s.db, s.conn, store.SyncResult{Outcome: store.FailedOutcome, Code: qwoty.CodeSyncRejected, Message: rejected, Calls: 1})

	for _, w := range []int64{360, 1280} {
		s.open(ctx, t, w, s.embedURL(t, "en_US", "USD", ""))
		waitFrame(ctx, t, "the list", `document.querySelectorAll("#quote-list li").length === 3`)
		if bad := mustFrameEval[[]string](ctx, t, overflowJS); len(bad) > 0 {
			shoot(ctx, t, fmt.Sprintf("failed-sync-list-%d", w))
			t.Fatalf("list at %d px: %s", w, strings.Join(bad, "; "))
		}
		state := mustFrameEval[map[string]string](ctx, t, `(() => {
		  const out = {};
		  for (const li of document.querySelectorAll("#quote-list li")) {
		    const id = li.dataset.quoteId;
		    out[id] = (li.querySelector(".primary-badge") ? "primary " : "") + (li.querySelector(".sync") || {}).textContent +
		      (li.querySelector("#retry-" + id) ? " [Retry]" : "") + (li.querySelector("#make-primary-" + id) ? " [Make primary]" : "");
		  }
		  return out;
		})()`)
		want := map[string]string{
			primary.ID: "primary Synced to Salesforce just now",
			synced.ID:  "Synced to Salesforce just now [Make primary]",
			failed.ID:  "Sync failed: " + rejected + " [Retry] [Make primary]",
		}
		for id, w := range want {
			if state[id] != w {
				t.Fatalf("quote %s reads %q, want %q (all: %v)", id, state[id], w, state)
			}
		}
		shoot(ctx, t, fmt.Sprintf("sync-list-%d", w))
	}

	// Retry: the failed quote is queued again (Syncing…), and the rep
	// stays on it.
	f := frame(ctx, t)
	if err := bounded(ctx, chromedp.Click(chromedp.CSS("#retry-"+failed.ID), in(f))); err != nil {
		t.Fatal(err)
	}
	if err := waitText(ctx, f, "#sync-"+failed.ID, "Syncing…"); err != nil {
		t.Fatal(err)
	}
	waitFrame(ctx, t, "the focus on the retried quote", `document.activeElement && document.activeElement.id === "open-`+failed.ID+`"`)

	// Make primary from the list.
	if err := bounded(ctx, chromedp.Click(chromedp.CSS("#make-primary-"+synced.ID), in(frame(ctx, t)))); err != nil {
		t.Fatal(err)
	}
	waitFrame(ctx, t, "the badge moves", `!!document.getElementById("primary-`+synced.ID+`") && !!document.getElementById("make-primary-`+primary.ID+`")`)

	// The failed quote's page at 360 px: its message in full, then Delete,
	// asked first inside the card.
	pushAs(t, s.db, s.conn, store.SyncResult{Outcome: store.FailedOutcome, Code: qwoty.CodeSyncRejected, Message: rejected, Calls: 1})
	s.open(ctx, t, 360, s.embedURL(t, "en_US", "USD", failed.ID))
	waitFrame(ctx, t, "the editor", `!!document.getElementById("retry-sync")`)
	if bad := mustFrameEval[[]string](ctx, t, overflowJS); len(bad) > 0 {
		shoot(ctx, t, "failed-sync-editor-360")
		t.Fatalf("editor at 360 px: %s", strings.Join(bad, "; "))
	}
	shoot(ctx, t, "sync-editor-360")
	f = frame(ctx, t)
	waitSized(ctx, t, "the editor")
	if err := bounded(ctx, chromedp.Click(chromedp.CSS("#delete-open"), in(f)), chromedp.WaitVisible(chromedp.CSS("#delete-quote"), in(f))); err != nil {
		t.Fatal(err)
	}
	if bad := mustFrameEval[[]string](ctx, t, overflowJS); len(bad) > 0 {
		shoot(ctx, t, "failed-sync-delete-360")
		t.Fatalf("delete confirmation at 360 px: %s", strings.Join(bad, "; "))
	}
	shoot(ctx, t, "sync-delete-360")
	// The card grew with the confirmation: the click waits for the host to
	// size the frame to it (see waitSized).
	waitSized(ctx, t, "the confirmation")
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		shoot(ctx, t, "failed-sync-delete-list")
		shows, err := frameEval[string](ctx, t, `JSON.stringify({main: document.getElementById("main").innerText.slice(0, 200),
		  flash: document.getElementById("flash").innerText, confirm: !!document.querySelector("#delete[open]")})`)
		_, read := s.db.GetQuote(context.Background(), s.scope, failed.ID)
		t.Logf("after Delete the card shows %s (%v); the quote reads back: %v", shows, err, read)
	})
	if err := bounded(ctx, chromedp.Click(chromedp.CSS("#delete-quote"), in(f))); err != nil {
		t.Fatal(err)
	}
	waitFrame(ctx, t, "the list without the deleted quote", `document.querySelectorAll("#quote-list li").length === 2 && !document.getElementById("open-`+failed.ID+`")`)
	if _, err := s.db.GetQuote(context.Background(), s.scope, failed.ID); qwoty.ErrorCode(err) != qwoty.CodeNotFound {
		t.Fatalf("the deleted quote reads back: %v", err)
	}
	for _, bad := range []string{"htmx:", "postMessage", "evalDisallowed"} {
		if logs.has(bad) {
			t.Fatalf("the console has %q: %v", bad, logs.lines)
		}
	}
}

// An admin reads the connection's sync on Integrations (a warning: a record
// failed) and its sync log, filters it, and retries the failed record.
func TestConsoleSyncHealthAndLog(t *testing.T) {
	e := startConsole(t, "console", nil)
	db, conn, appURL, b, step := e.db, e.conn, e.appURL, e.b, e.step
	// Forty opportunities pushed, then three of them changed: one refused.
	syncAtOnce(t, db, conn)
	for i := range 40 {
		s := store.Scope{WorkspaceID: conn.WorkspaceID, ConnectionID: conn.ID, RecordID: fmt.Sprintf("0065g00000Opp%03dAA", i)}
		if _, err := db.CreateQuote(context.Background(), s, store.NewQuote{Currency: "USD", Title: "Renewal"}); err != nil {
			t.Fatal(err)
		}
	}
	pushAs(t, db, conn, store.SyncResult{Outcome: store.SyncedOutcome, CRMObject: "Opportunity", Calls: 2,
		Written: []map[string]string{{"object": "Opportunity", "action": "updated"}, {"object": "OpportunityLineItem", "action": "created"}}})
	for i := range 3 {
		s := store.Scope{WorkspaceID: conn.WorkspaceID, ConnectionID: conn.ID, RecordID: fmt.Sprintf("0065g00000Opp%03dAA", i)}
		if _, err := db.CreateQuote(context.Background(), s, store.NewQuote{Currency: "USD", Title: "Upsell"}); err != nil {
			t.Fatal(err)
		}
		res := store.SyncResult{Outcome: store.SyncedOutcome, CRMObject: "Opportunity", Calls: 3}
		if i == 1 {
			res = store.SyncResult{Outcome: store.FailedOutcome, Code: qwoty.CodeSyncRejected, Message: rejected, Calls: 1}
		}
		pushAs(t, db, conn, res)
	}

	step("integrations", chromedp.Navigate(appURL+"/settings/integrations"), chromedp.WaitVisible(chromedp.CSS("#sync-salesforce")))
	health, err := chromedp.Run(b, chromedp.Text(chromedp.CSS("#sync-health-salesforce")))
	if err != nil || strings.TrimSpace(health) != "WARNING" {
		t.Fatalf("sync health reads %q (%v), want WARNING", health, err)
	}
	screenshot(b, t, "console-sync-health")
	step("sync log", chromedp.Click(chromedp.CSS("#sync-log-salesforce")), chromedp.WaitVisible(chromedp.CSS("#sync-log")))
	screenshot(b, t, "console-sync-log")
	step("filter failed",
		chromedp.SetValue(chromedp.CSS("#outcome"), "failed"),
		chromedp.Click(chromedp.CSS("#filter")),
		chromedp.WaitVisible(chromedp.CSS("#clear-filter")),
	)
	rows, err := chromedp.Run(b, chromedp.Evaluate[int](`document.querySelectorAll("#sync-log tbody tr").length`))
	if err != nil || rows != 1 {
		t.Fatalf("%d failed entries (%v), want 1", rows, err)
	}
	screenshot(b, t, "console-sync-log-failed")
	step("retry", chromedp.Click(chromedp.CSS("#sync-log tbody button")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	notice, _ := chromedp.Run(b, chromedp.Text(chromedp.CSS("#notice")))
	if !strings.Contains(notice, "1 record is queued again") {
		t.Fatalf("after Retry: %q", notice)
	}
	if h, err := db.SyncHealthOf(context.Background(), conn.WorkspaceID, conn.ID); err != nil || h.Failed != 0 {
		t.Fatalf("after Retry: %+v %v", h, err)
	}
	step("sync settings", chromedp.Navigate(appURL+"/settings/integrations/salesforce/sync-settings"), chromedp.WaitVisible(chromedp.CSS("#sync-settings")))
	screenshot(b, t, "console-sync-settings")
	step("sync settings at 360 px", chromedp.EmulateViewport(360, 800), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#sync-settings")))
	screenshot(b, t, "console-sync-settings-360")
	step("integrations at 360 px", chromedp.Navigate(appURL+"/settings/integrations"), chromedp.WaitVisible(chromedp.CSS("#sync-salesforce")))
	screenshot(b, t, "console-sync-health-360")
	step("sync log at 360 px", chromedp.Navigate(appURL+"/settings/integrations/salesforce/sync-log"), chromedp.WaitVisible(chromedp.CSS("#sync-log")))
	screenshot(b, t, "console-sync-log-360")
	// The log's table scrolls inside its box; the page itself never does.
	wide, err := chromedp.Run(b, chromedp.Evaluate[string](`(() => {
	  const de = document.documentElement;
	  if (de.scrollWidth <= de.clientWidth) return "";
	  const out = [];
	  for (const el of document.querySelectorAll("body *")) {
	    const r = el.getBoundingClientRect();
	    if (r.right > de.clientWidth + 0.5 && !el.parentElement.closest(".table-scroll")) out.push(el.tagName + "#" + el.id + "." + el.className + " " + Math.round(r.right));
	  }
	  return de.scrollWidth + " > " + de.clientWidth + ": " + out.slice(0, 8).join(", ");
	})()`))
	if err != nil || wide != "" {
		t.Fatalf("the sync log scrolls sideways at 360 px: %s %v", wide, err)
	}
}
