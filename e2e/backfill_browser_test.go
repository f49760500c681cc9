//go:build browser

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// An admin starts "Sync existing quotes" from Integrations (the
// confirmation counts the quotes) and watches the progress bar, polled by
// the page, reach 100% without reloading; "Sync now" is recorded. The test
// runs no engine: what the back-fill job and the pushes do is done here
// through the store's API, a chunk at a time.
func TestConsoleBackfillProgress(t *testing.T) {
	const quotes = 60
	e := startConsole(t, "backfill", nil)
	db, conn, appURL, b, step, logs := e.db, e.conn, e.appURL, e.b, e.step, e.logs
	ctx := context.Background()
	// Quotes made before sync: never captured, no outbox row.
	for i := range quotes {
		s := store.Scope{WorkspaceID: conn.WorkspaceID, ConnectionID: conn.ID, RecordID: fmt.Sprintf("0065g00000Opp%03dAA", i)}
		if _, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "USD", Title: "Before sync"}); err != nil {
			t.Fatal(err)
		}
	}
	pool := storetest.Pool(t, db)
	if _, err := pool.Exec(ctx, `UPDATE quotes SET sync_seq = 0`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM sync_records`); err != nil {
		t.Fatal(err)
	}

	step("integrations", chromedp.Navigate(appURL+"/settings/integrations"), chromedp.WaitVisible(chromedp.CSS("#backfill-salesforce")))
	step("confirm", chromedp.Click(chromedp.CSS("#backfill-salesforce")), chromedp.WaitVisible(chromedp.CSS("#backfill-start")))
	count, _ := chromedp.Run(b, chromedp.Text(chromedp.CSS("#backfill-count")))
	if !strings.Contains(count, "60 quotes") {
		t.Fatalf("the confirmation reads %q, want the 60 quotes", count)
	}
	step("start", chromedp.Click(chromedp.CSS("#backfill-start")), chromedp.WaitVisible(chromedp.CSS("#backfill-bar-salesforce")))
	run, err := db.LatestSyncRun(ctx, conn.WorkspaceID, conn.ID, store.RunBackfill)
	if err != nil || run == nil || run.Total != quotes {
		t.Fatalf("the run: %+v, %v", run, err)
	}

	// The engine's part: a chunk of 10 captured and pushed every second (the page polls every 2 s: it sees the bar between 0 and 100%, even on a loaded machine).
	pushed := make(chan error, 1)
	go func() {
		for {
			if _, err := db.CaptureBackfill(ctx, run.ID, 10); err != nil {
				pushed <- err
				return
			}
			pushAs(t, db, conn, store.SyncResult{Outcome: store.SyncedOutcome, CRMObject: "Opportunity", Calls: 2})
			r, err := db.UpdateRunProgress(ctx, run.ID, 0)
			if err != nil || r.Status == store.RunDone {
				pushed <- err
				return
			}
			time.Sleep(time.Second)
		}
	}()

	// The page polls: the bar moves, then reads 100% and stops polling.
	seen := map[string]bool{}
	shot := false
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, err := chromedp.Run(b, chromedp.Evaluate[string](`(() => {
		  const bar = document.querySelector("#backfill-bar-salesforce");
		  const box = document.querySelector("#backfill-progress-salesforce");
		  return bar ? bar.getAttribute("value") + "|" + box.dataset.status + "|" + bar.getAttribute("aria-valuetext") : "";
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.SplitN(v, "|", 3)
		if len(parts) == 3 {
			seen[parts[0]] = true
			if !shot && parts[0] != "0" && parts[1] == "running" {
				screenshot(b, t, "console-backfill-running")
				shot = true
			}
			if parts[0] == "100" && parts[1] == "done" {
				if !strings.Contains(parts[2], "60 of 60 quotes") {
					t.Fatalf("the bar's aria-valuetext at the end: %q", parts[2])
				}
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bar never reached 100%%: last %q, seen %v", v, seen)
		}
		time.Sleep(150 * time.Millisecond)
	}
	if err := <-pushed; err != nil {
		t.Fatal(err)
	}
	between := 0
	for v := range seen {
		if v != "0" && v != "100" {
			between++
		}
	}
	if between < 1 {
		t.Fatalf("the bar jumped without showing progress: %v", seen)
	}
	text, _ := chromedp.Run(b, chromedp.Text(chromedp.CSS("#backfill-count-salesforce")))
	if !strings.Contains(text, "60 / 60 quotes") {
		t.Fatalf("the figures read %q", text)
	}
	screenshot(b, t, "console-backfill-done")

	step("sync now", chromedp.Click(chromedp.CSS("#sync-now-salesforce")))
	// The page still shows the back-fill's notice until Sync now's answer
	// replaces it: wait for the new one.
	var notice string
	for end := time.Now().Add(10 * time.Second); !strings.Contains(notice, "Sync now") && time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		notice, _ = chromedp.Run(b, chromedp.Text(chromedp.CSS("#notice")))
	}
	if !strings.Contains(notice, "Sync now") {
		t.Fatalf("after Sync now: %q", notice)
	}
	if r, _ := db.LatestSyncRun(ctx, conn.WorkspaceID, conn.ID, store.RunSyncNow); r == nil {
		t.Fatal("Sync now left no run")
	}
	screenshot(b, t, "console-integrations-sync-runs")
	for _, bad := range []string{"Content Security Policy", "Refused", "htmx:"} {
		if logs.has(bad) {
			t.Fatalf("the console has %q: %v", bad, logs.lines)
		}
	}
}
