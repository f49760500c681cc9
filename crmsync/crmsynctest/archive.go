package crmsynctest

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// ArchivedFile is a file a CRM holds on a record, as its emulator tells.
type ArchivedFile struct {
	ID   string
	Name string
	Data []byte
}

// CheckPDF fails t unless data is a PDF whose text (pdftotext, from
// poppler-utils) carries want. Without pdftotext only the header is
// checked, unless QWOTY_REQUIRE_PDFTOTEXT=1 (make test), when it fails.
func CheckPDF(t testing.TB, data []byte, want string) {
	t.Helper()
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		t.Fatalf("the file starts %q, want a PDF", data[:min(len(data), 16)])
	}
	path, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("QWOTY_REQUIRE_PDFTOTEXT") == "1" {
			t.Fatal("pdftotext is not installed (Debian's poppler-utils)")
		}
		t.Log("pdftotext is not installed: the PDF's text is not checked")
		return
	}
	in := t.TempDir() + "/archived.pdf"
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(path, in, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	if !strings.Contains(string(out), want) {
		t.Fatalf("the PDF's text does not carry %q:\n%s", want, out)
	}
}

// Archive is the filing of q's current revision.
func (w *World) Archive(q *qwoty.Quote) *store.Archive {
	w.t.Helper()
	a, err := w.DB.ArchiveOf(ctx, w.Conn.ID, q.ID, q.Revision)
	if err != nil {
		w.t.Fatalf("the filing of %s v%d: %v", q.Number, q.Revision, err)
	}
	return a
}

// WaitArchive waits until the filing of q's current revision is in state.
func (w *World) WaitArchive(q *qwoty.Quote, state string, timeout time.Duration) *store.Archive {
	w.t.Helper()
	var a *store.Archive
	w.WaitFor("the PDF of "+q.Number+" to be "+state, timeout, func() bool {
		var err error
		a, err = w.DB.ArchiveOf(ctx, w.Conn.ID, q.ID, q.Revision)
		return err == nil && a.State == state
	})
	return a
}

// FileLog is the sync log's rows of filed documents, newest first.
func (w *World) FileLog() []store.SyncLogEntry {
	w.t.Helper()
	log, err := w.DB.SyncLog(ctx, w.Admin.WorkspaceID, w.Conn.ID, store.SyncLogFilter{CRMObject: "file"})
	if err != nil {
		w.t.Fatal(err)
	}
	return log
}
