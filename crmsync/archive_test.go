package crmsync_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// The PDF of each sent version filed on the deal, through the test CRM:
// once, whatever the retries; a limit waits; a refusal fails the filing
// alone.

const fileRoute = "POST /api/deals/{id}/files"

func sendQuote(w *crmsynctest.World, record string) *qwoty.Quote {
	q := w.Quote(record, crmsynctest.Line{SKU: "LIC", Quantity: 3, Price: "49.90"})
	return w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
}

func TestArchiveSentVersionOnce(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())

	q := sendQuote(w, deal)
	arc := w.WaitArchive(q, store.ArchiveDone, 10*time.Second)
	files := emu.Files(deal)
	if len(files) != 1 {
		t.Fatalf("%d files on the deal, want 1", len(files))
	}
	f := files[0]
	if f.ID != arc.CRMFileID || f.Name != crmsync.ArchiveTitle(q.Number, 1)+".pdf" || f.ContentType != "application/pdf" {
		t.Fatalf("file %+v, filing %+v", f, arc)
	}
	crmsynctest.CheckPDF(t, f.Data, q.Number)
	log := w.FileLog()
	if len(log) != 1 || log[0].Outcome != store.SyncedOutcome || log[0].CRMID != f.ID || log[0].RecordID != deal ||
		!strings.Contains(string(log[0].Written), `"created"`) {
		t.Fatalf("sync log: %+v", log)
	}
	// Revised (back to draft makes revision 2), then sent: the new version
	// is filed beside the first, once; the first is not filed again.
	q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusDraft) })
	q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
	if q.Revision != 2 {
		t.Fatalf("revision %d after revising and sending, want 2", q.Revision)
	}
	w.WaitArchive(q, store.ArchiveDone, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	files = emu.Files(deal)
	names := map[string]int{}
	for _, f := range files {
		names[f.Name]++
	}
	v1, v2 := crmsync.ArchiveTitle(q.Number, 1)+".pdf", crmsync.ArchiveTitle(q.Number, 2)+".pdf"
	if len(files) != 2 || names[v1] != 1 || names[v2] != 1 {
		t.Fatalf("files after sending revision 2: %v; want %s and %s once each", names, v1, v2)
	}
}

// The CRM files the PDF and the answer is lost: the retry finds the file
// on the deal and adopts it rather than filing it twice.
func TestArchiveLostAnswerAdopts(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	if err := emu.Inject(emulator.Fault{Route: fileRoute, Times: 1, Drop: true}); err != nil {
		t.Fatal(err)
	}
	q := sendQuote(w, deal)
	arc := w.WaitArchive(q, store.ArchiveDone, 10*time.Second)
	files := emu.Files(deal)
	if len(files) != 1 || files[0].ID != arc.CRMFileID {
		t.Fatalf("files on the deal: %d (want 1), filing %+v", len(files), arc)
	}
	if arc.Attempts != 1 {
		t.Fatalf("attempts %d, want the 1 the lost answer used", arc.Attempts)
	}
	log := w.FileLog()
	if len(log) != 2 || log[0].Outcome != store.SyncedOutcome || !strings.Contains(string(log[0].Written), `"adopted"`) ||
		log[1].Outcome != store.RetryingOutcome {
		t.Fatalf("sync log: %+v", log)
	}
}

// A 429 waits for its Retry-After and files the PDF then; the quote's own
// sync is not failed.
func TestArchiveRateLimitedWaits(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	if err := emu.Inject(emulator.Fault{Route: fileRoute, Times: 1, Status: http.StatusTooManyRequests, RetryAfter: time.Second}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	q := sendQuote(w, deal)
	arc := w.WaitArchive(q, store.ArchiveDone, 15*time.Second)
	if waited := time.Since(began); waited < time.Second {
		t.Fatalf("filed after %s, before the Retry-After", waited)
	}
	if arc.Attempts != 0 || len(emu.Files(deal)) != 1 {
		t.Fatalf("filing %+v, %d files", arc, len(emu.Files(deal)))
	}
	if q = w.WaitState(q, qwoty.SyncSynced, 10*time.Second); q.Status != qwoty.StatusSent {
		t.Fatalf("quote %+v", q)
	}
	log := w.FileLog()
	if len(log) != 2 || log[0].Outcome != store.SyncedOutcome || log[1].Outcome != store.WaitingOutcome || log[1].Code != qwoty.CodeRateLimited {
		t.Fatalf("sync log: %+v", log)
	}
}

// A deal gone from the CRM refuses the file: the filing fails at once,
// with the CRM's words in the sync log, and is not tried again.
func TestArchiveRejectedFails(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	emu.RemoveDeal(deal)
	q := sendQuote(w, deal)
	arc := w.WaitArchive(q, store.ArchiveFailed, 10*time.Second)
	if arc.Code != qwoty.CodeSyncRejected || !strings.Contains(arc.Error, "no such deal") {
		t.Fatalf("filing %+v", arc)
	}
	time.Sleep(500 * time.Millisecond)
	log := w.FileLog()
	if len(log) != 1 || log[0].Outcome != store.FailedOutcome || !strings.Contains(log[0].Message, "no such deal") {
		b, _ := json.Marshal(log)
		t.Fatalf("sync log: %s", b)
	}
	if q = w.WaitState(q, qwoty.SyncSynced, 10*time.Second); q.Sync.State != qwoty.SyncSynced {
		t.Fatalf("the quote's sync: %+v", q.Sync)
	}
	// The admins hear of it, once.
	w.WaitFor("the alert", 10*time.Second, func() bool { return w.Alerts.Sent.Load() > 0 })
	if al := w.Alerts.Last.Load(); w.Alerts.Sent.Load() != 1 || !strings.Contains(al.Text, "Q-00001 v1.pdf was not filed") {
		t.Fatalf("%d alerts, the last: %+v", w.Alerts.Sent.Load(), al)
	}
}

// Unticking the archive trigger files nothing.
func TestArchiveTriggerOff(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	set, _ := w.DB.SyncSettingsOf(ctx, w.Conn.ID)
	set.Triggers = []string{qwoty.TriggerCreated, qwoty.TriggerStatus, qwoty.TriggerPrimary, qwoty.TriggerEdit}
	if err := w.DB.SaveSyncSettings(ctx, w.Admin.WorkspaceID, w.Conn.ID, set, "test"); err != nil {
		t.Fatal(err)
	}
	q := sendQuote(w, deal)
	w.WaitState(q, qwoty.SyncSynced, 10*time.Second)
	if _, err := w.DB.ArchiveOf(ctx, w.Conn.ID, q.ID, q.Revision); err == nil {
		t.Fatal("a filing was queued with the trigger off")
	}
	if n := len(emu.Files(deal)); n != 0 {
		t.Fatalf("%d files", n)
	}
}

// Each real CRM against its emulator: the PDF filed once on the right
// record with the version's bytes; a lost answer adopted; a 429 waited
// out; a record gone fails the filing alone.
func TestEveryCRMArchive(t *testing.T) {
	forEachCRM(t, func(t *testing.T, c *crmsynctest.CRM, w *crmsynctest.World) {
		if c.Files == nil {
			t.Skipf("%s's emulator holds no files yet", c.Name)
		}
		const wait = 20 * time.Second
		// Sent: one file on the record, the PDF of the version.
		rec := c.Records[0]
		q := sendQuote(w, rec)
		arc := w.WaitArchive(q, store.ArchiveDone, wait)
		files := c.Files(rec)
		if len(files) != 1 || files[0].ID != arc.CRMFileID || files[0].Name != crmsync.ArchiveTitle(q.Number, 1)+".pdf" {
			t.Fatalf("files on %s: %+v; filing %+v", rec, files, arc)
		}
		crmsynctest.CheckPDF(t, files[0].Data, q.Number)
		for _, other := range c.Records[1:] {
			if n := len(c.Files(other)); n != 0 {
				t.Fatalf("%d files on %s, which had no quote sent", n, other)
			}
		}

		// The answer of the upload lost: the retry adopts the file.
		rec = c.Records[1]
		if err := c.Base.Inject(emulator.Fault{Route: c.FileRoute, Times: 1, Drop: true}); err != nil {
			t.Fatal(err)
		}
		q = sendQuote(w, rec)
		arc = w.WaitArchive(q, store.ArchiveDone, wait)
		if files := c.Files(rec); len(files) != 1 || files[0].ID != arc.CRMFileID || arc.Attempts != 1 {
			t.Fatalf("after a lost answer, files on %s: %d; filing %+v", rec, len(files), arc)
		}

		// A 429: waited out, filed after it.
		rec = c.Records[2]
		if err := c.Base.Inject(emulator.Fault{Route: c.FileRoute, Times: 1, Status: http.StatusTooManyRequests, RetryAfter: time.Second}); err != nil {
			t.Fatal(err)
		}
		q = sendQuote(w, rec)
		arc = w.WaitArchive(q, store.ArchiveDone, wait)
		if files := c.Files(rec); len(files) != 1 || arc.Attempts != 0 {
			t.Fatalf("after a 429, files on %s: %d; filing %+v", rec, len(files), arc)
		}
		if q = w.WaitState(q, qwoty.SyncSynced, wait); q.Status != qwoty.StatusSent {
			t.Fatalf("quote %+v", q)
		}

		// The record deleted in the CRM: the filing fails, logged.
		q = w.Quote(c.Records[0], crmsynctest.Line{SKU: "X", Quantity: 1, Price: "5"})
		w.WaitState(q, qwoty.SyncSynced, wait)
		c.RemoveRecord(c.Records[0])
		q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
		arc = w.WaitArchive(q, store.ArchiveFailed, wait)
		if arc.Code != qwoty.CodeSyncRejected || arc.Error == "" {
			t.Fatalf("filing on a deleted record: %+v", arc)
		}
		t.Logf("%s said: %s", c.Name, arc.Error)
		failed := 0
		for _, e := range w.FileLog() {
			if e.Outcome == store.FailedOutcome && e.RecordID == c.Records[0] {
				failed++
			}
		}
		if failed != 1 {
			t.Fatalf("%d failed file rows in the sync log, want 1", failed)
		}
	})
}

// HubSpot files in two steps: the upload's answer lost, the retry finds
// the uploaded file in the folder and attaches it rather than uploading
// it again.
func TestHubSpotArchiveLostUpload(t *testing.T) {
	c := crmsynctest.CRMs["hubspot"](t, crmsynctest.Options{AppURL: "http://127.0.0.1:8080", Records: 1, Unlimited: true})
	w := crmsynctest.New(t, c.Adapter, c.Redirect, crmsynctest.FastOptions())
	if err := c.Base.Inject(emulator.Fault{Route: "POST /files/v3/files", Times: 1, Drop: true}); err != nil {
		t.Fatal(err)
	}
	rec := c.Records[0]
	q := sendQuote(w, rec)
	arc := w.WaitArchive(q, store.ArchiveDone, 20*time.Second)
	files := c.Files(rec)
	if len(files) != 1 || files[0].ID != arc.CRMFileID || arc.Attempts != 1 {
		t.Fatalf("files on the deal: %+v; filing %+v", files, arc)
	}
	if n := c.HubSpot.AllFiles(hstest.DefaultPortalID); n != 1 {
		t.Fatalf("%d files in the file manager, want the 1 uploaded", n)
	}
	crmsynctest.CheckPDF(t, files[0].Data, q.Number)
}

// A connection whose grant cannot file waits for a reconnect, logged
// once; nothing is filed and the filing is not failed.
func TestArchiveWaitsForReconnect(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{Scope: "deals:read"}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	q := sendQuote(w, deal)
	w.WaitFor("the filing to wait", 10*time.Second, func() bool {
		arc, err := w.DB.ArchiveOf(ctx, w.Conn.ID, q.ID, q.Revision)
		return err == nil && arc.Code == qwoty.CodeSyncReconnect
	})
	if arc := w.Archive(q); arc.State != store.ArchivePending || arc.Attempts != 0 {
		t.Fatalf("filing %+v", arc)
	}
	log := w.FileLog()
	if len(log) != 1 || log[0].Outcome != store.WaitingOutcome || log[0].Code != qwoty.CodeSyncReconnect {
		t.Fatalf("sync log: %+v", log)
	}
	if n := len(emu.Files(deal)); n != 0 {
		t.Fatalf("%d files", n)
	}
}
