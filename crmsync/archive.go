package crmsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/quotepdf"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// archiveWorker files the PDF of a sent version on its CRM record through
// the connection's crm.Archiver, exactly once per (quote, revision): its
// quote_archives row is marked uploading (committed) before the upload and
// done after, and a run that finds it uploading looks for the file on the
// record (FindFile) before it sends it again. Limits wait without using a
// retry; transient failures retry with the engine's backoff, counted on
// the row; a permanent one ends the row failed, with its sync log row and
// an alert. The quote's own sync state is never touched.
type archiveWorker struct {
	river.WorkerDefaults[jobs.QuoteArchive]
	e *Engine
}

// provides reports whether a provider's adapter syncs and implements T
// (crm.Archiver: its CRM files documents; crm.OrderSyncer: it takes
// orders).
func provides[T any](crms *crm.Registry) func(qwoty.Provider) bool {
	return func(p qwoty.Provider) bool {
		a, ok := crms.Get(p)
		if !ok || a.Sync() == nil {
			return false
		}
		_, ok = a.(T)
		return ok
	}
}

func (w *archiveWorker) Work(ctx context.Context, job *river.Job[jobs.QuoteArchive]) error {
	e := w.e
	args := job.Args
	a, err := e.db.ArchiveOf(ctx, args.ConnectionID, args.QuoteID, args.Revision)
	if errors.Is(err, qwoty.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if a.State == store.ArchiveDone || a.State == store.ArchiveFailed {
		return nil // filed already, or given up: exactly once
	}
	conn, err := e.db.ConnectionByID(ctx, a.ConnectionID)
	if errors.Is(err, qwoty.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if conn.Status != qwoty.ConnectionActive {
		// Disconnected or in error: look again later (a reconnect does
		// not hurry it; the next look files it).
		return river.JobSnooze(waitConnection)
	}
	r := &archiveRun{e: e, a: a, conn: conn}
	res := r.run(ctx)
	if ctx.Err() != nil {
		return river.JobSnooze(0) // stopping: the row says where it stands
	}
	e.log.Debug("sync archive", "connection", conn.ID, "quote", a.QuoteID, "revision", a.Revision, "state", res.State, "code", string(res.Code))
	if err := e.db.RecordArchive(context.WithoutCancel(ctx), a, crm.ArchiveObject, res); err != nil {
		return err
	}
	if res.Ended() {
		return nil
	}
	return river.JobSnooze(max(time.Until(r.due), 0))
}

// archiveRun is one run of one filing.
type archiveRun struct {
	e    *Engine
	a    *store.Archive
	conn *qwoty.Connection
	// due is when a run that did not end the filing runs again.
	due time.Time
}

// run files the version, or says why not and when to look again.
func (r *archiveRun) run(ctx context.Context) store.WriteResult {
	e, a, conn := r.e, r.a, r.conn
	adapter, ok := e.crms.Get(conn.Provider)
	arch, isArch := adapter.(crm.Archiver)
	if !ok || !isArch || adapter.Sync() == nil {
		return failedWrite(qwoty.CodeSyncRejected, fmt.Sprintf("%s does not hold files from Qwoty", conn.Provider.Title()), 0)
	}
	if err := arch.ArchiveReady(conn); err != nil {
		// A grant short of the scopes filing needs: wait for an admin to
		// reconnect (the next look after it files the PDF).
		return r.classify(err, 0)
	}
	f, err := r.document(ctx)
	if err != nil {
		if qwoty.ErrorCode(err) != "" || errors.Is(err, qwoty.ErrNotFound) {
			return failedWrite(qwoty.CodeSyncRejected, message(err), 0)
		}
		return r.classify(err, 0)
	}
	if limit := arch.MaxFileSize(); int64(len(f.Data)) > limit {
		return failedWrite(qwoty.CodeSyncRejected, fmt.Sprintf("the PDF is %d bytes, over the %d bytes %s takes", len(f.Data), limit, adapter.Info().Name), 0)
	}
	set, err := e.db.SyncSettingsOf(ctx, conn.ID)
	if err != nil {
		return r.classify(err, 0)
	}
	b := &countingBudget{Budget: newBudget(e.db, conn.ID, adapter.Sync().Buckets(conn, set.BudgetShare))}
	sess := session.New(e.db, adapter, conn)
	action, id := crm.ActionAdopted, ""
	if a.State == store.ArchiveUploading {
		// An earlier run sent the file and may have lost the answer: the
		// CRM may hold it already.
		if id, err = arch.FindFile(ctx, sess, b, f); err != nil {
			return r.classify(err, b.calls)
		}
	}
	if id == "" {
		if err := e.db.StartArchive(ctx, a, f.Name); err != nil {
			return r.classify(err, b.calls)
		}
		action = crm.ActionCreated
		if id, err = arch.Archive(ctx, sess, b, f); err != nil {
			return r.classify(err, b.calls)
		}
	}
	return store.WriteResult{State: store.ArchiveDone, CRMID: id, Action: action, Calls: b.calls}
}

// document renders the version's PDF and names it.
func (r *archiveRun) document(ctx context.Context) (crm.File, error) {
	a := r.a
	s := store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ConnectionID, RecordID: a.RecordID}
	q, err := r.e.db.GetQuote(ctx, s, a.QuoteID)
	if err != nil {
		return crm.File{}, err
	}
	// Frozen versions: once sent versions are kept immutable
	// (quote_versions), revision a.Revision is rendered from its frozen
	// snapshot here, whatever the quote became since. Until then the
	// quote as stored is rendered, which is the version sent unless it
	// was revised before this ran.
	if q.Revision != a.Revision {
		return crm.File{}, qwoty.E(qwoty.CodeSyncRejected, "version %d of quote %s was revised before its PDF could be filed", a.Revision, q.Number)
	}
	ws, err := r.e.db.WorkspaceName(ctx, a.WorkspaceID)
	if err != nil {
		return crm.File{}, err
	}
	var buf bytes.Buffer
	if err := quotepdf.Render(&buf, quotepdf.FromQuote(ws, nil, q)); err != nil {
		return crm.File{}, err
	}
	title := ArchiveTitle(q.Number, a.Revision)
	return crm.File{RecordID: a.RecordID, Name: title + ".pdf", Title: title, ContentType: "application/pdf", Data: buf.Bytes()}, nil
}

// ArchiveTitle is the title of the file of revision rev of quote number
// ("Q-00042 v2"), its name with ".pdf": unique on the record, so that a
// retry finds it again.
func ArchiveTitle(number string, rev int) string { return fmt.Sprintf("%s v%d", number, rev) }

// classify says what becomes of the filing after err (judgeWrite).
func (r *archiveRun) classify(err error, calls int) store.WriteResult {
	res, due := r.e.judgeWrite(err, calls, r.a.State, r.a.Attempts, r.a.Code)
	r.due = due
	return res
}
