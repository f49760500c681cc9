package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// Sync existing quotes and Sync now on Integrations: admins confirm (the
// count shown), start, cancel and sync now, each form with its CSRF token;
// a second back-fill is refused with a clear 4xx; viewers see the progress
// bar (the polled fragment included) but no button.
func TestBackfillAndSyncNowForms(t *testing.T) {
	e := newSyncEnv(t, "")
	ctx := context.Background()
	e.quotes(t, "deal-1", "deal-2", "deal-3")
	pool := storetest.Pool(t, e.db)
	if _, err := pool.Exec(ctx, `UPDATE quotes SET sync_seq = 0`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM sync_records`); err != nil {
		t.Fatal(err)
	}
	viewer := e.user(t, "viewer")
	base := e.url() + "/settings/integrations/testcrm"

	e.b.Get(e.url()+"/settings/integrations").Want(200, "", "3 quotes made before sync", `id="backfill-testcrm"`, `id="sync-now-testcrm"`)
	e.b.Get(base+"/backfill").Want(200, "", "3 quotes of this workspace", `name="confirm" value="backfill"`)
	// Without the confirmation's field, a post goes to the confirmation.
	e.b.Post(base+"/backfill", url.Values{"csrf": {e.b.CSRF()}}).Want(200, "/settings/integrations/testcrm/backfill", "Sync 3 quotes")
	// Without the CSRF token, nothing starts.
	e.b.Post(base+"/backfill", url.Values{"confirm": {"backfill"}})
	if e.b.Last.StatusCode != http.StatusForbidden {
		t.Fatalf("a post without its CSRF token answered %d", e.b.Last.StatusCode)
	}
	viewer.Get(e.url() + "/settings/integrations")
	viewer.Post(base+"/backfill", url.Values{"csrf": {viewer.CSRF()}, "confirm": {"backfill"}})
	if viewer.Last.StatusCode != http.StatusForbidden {
		t.Fatalf("a viewer's back-fill answered %d", viewer.Last.StatusCode)
	}
	if r, _ := e.db.LatestSyncRun(ctx, e.conn.WorkspaceID, e.conn.ID, store.RunBackfill); r != nil {
		t.Fatalf("a run started: %+v", r)
	}

	e.b.Get(base + "/backfill")
	e.b.Post(base+"/backfill", url.Values{"csrf": {e.b.CSRF()}, "confirm": {"backfill"}}).Want(200, "/settings/integrations",
		"has started", `<progress id="backfill-bar-testcrm" max="100" value="0"`, `hx-trigger="every 2s"`, `id="backfill-cancel-testcrm"`)
	e.b.Get(base + "/backfill")
	e.b.Post(base+"/backfill", url.Values{"csrf": {e.b.CSRF()}, "confirm": {"backfill"}}).Want(422, "", "already running")

	// A viewer watches: the page and the fragment, without Cancel.
	viewer.Get(e.url()+"/settings/integrations").Want(200, "", `id="backfill-bar-testcrm"`)
	if strings.Contains(string(viewer.Body), "backfill-cancel-testcrm") || strings.Contains(string(viewer.Body), "sync-now-testcrm") {
		t.Fatal("a viewer is offered Cancel or Sync now")
	}
	viewer.Get(base+"/backfill/progress").Want(200, "", `aria-valuetext="0%: 0 of 3 quotes"`, `hx-get="/settings/integrations/testcrm/backfill/progress"`)

	run, err := e.db.LatestSyncRun(ctx, e.conn.WorkspaceID, e.conn.ID, store.RunBackfill)
	if err != nil || run == nil {
		t.Fatal(run, err)
	}
	viewer.Get(e.url() + "/settings/integrations")
	viewer.Post(base+"/backfill/cancel", url.Values{"csrf": {viewer.CSRF()}, "run": {run.ID}})
	if viewer.Last.StatusCode != http.StatusForbidden {
		t.Fatalf("a viewer's cancel answered %d", viewer.Last.StatusCode)
	}
	e.b.Get(e.url() + "/settings/integrations")
	e.b.Post(base+"/backfill/cancel", url.Values{"csrf": {e.b.CSRF()}, "run": {"not-a-run"}}).Want(404, "")
	e.b.Get(e.url() + "/settings/integrations")
	e.b.Post(base+"/backfill/cancel", url.Values{"csrf": {e.b.CSRF()}, "run": {run.ID}}).Want(200, "/settings/integrations", "being cancelled", "Cancelling the sync")
	e.b.Post(base+"/sync-now", url.Values{"csrf": {e.b.CSRF()}}).Want(200, "/settings/integrations", "Sync now: TestCRM", "Last “Sync now”")
}
