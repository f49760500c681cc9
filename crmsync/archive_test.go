package crmsync_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/emulator"
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
	// Sent again (reopened, then sent): the same version is not filed twice.
	q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusDraft) })
	q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
	w.WaitState(q, qwoty.SyncSynced, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if n := len(emu.Files(deal)); n != 1 {
		t.Fatalf("%d files after sending the same version again, want 1", n)
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
