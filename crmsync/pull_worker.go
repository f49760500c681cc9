package crmsync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// pullWorker reads a connection's changes from its CRM: a poll (no ids)
// runs every stream from its mark for up to RunFor and snoozes to go on
// where it stopped, so a long first pull does not hold a worker; a
// targeted fetch (a webhook's records, a "Sync now" on one record) reads
// those records and stores them. A limit's wait snoozes the job, which uses
// no attempt.
type pullWorker struct {
	river.WorkerDefaults[jobs.SyncPull]
	e *Engine
}

func (w *pullWorker) Work(ctx context.Context, job *river.Job[jobs.SyncPull]) error {
	e := w.e
	conn, err := e.db.ConnectionByID(ctx, job.Args.ConnectionID)
	if errors.Is(err, qwoty.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	// A disconnected connection, or one in error, is not read: reconnecting
	// it queues a poll (store.SaveOAuthConnection).
	if conn.Status != qwoty.ConnectionActive {
		return nil
	}
	a, ok := e.crms.Get(conn.Provider)
	if !ok || a.Pull() == nil || a.Sync() == nil {
		return nil
	}
	if len(job.Args.IDs) > 0 {
		return w.fetch(ctx, a, conn, job.Args.RecordKind, job.Args.IDs)
	}
	var started time.Time
	if job.AttemptedAt != nil {
		started = *job.AttemptedAt
	}
	return w.poll(ctx, a, conn, started)
}

// poll runs the connection's streams until they are complete or the run's
// time is up. started is when this run of the job began: an admin's "Sync
// now" pressed since then found this poll queued or running (a poll is
// unique while it is) and was folded into it, so a poll that ends goes
// round once more rather than leave a change made after its last page to
// the next poll, 15 minutes later.
func (w *pullWorker) poll(ctx context.Context, a crm.Adapter, conn *qwoty.Connection, started time.Time) error {
	e := w.e
	rep, err := PullOnce(ctx, e.db, a, conn, time.Now().Add(e.opt.RunFor))
	if err != nil {
		return err
	}
	for _, sr := range rep.Streams {
		if err := w.logStream(context.WithoutCancel(ctx), conn, sr); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return river.JobSnooze(0)
	}
	for _, sr := range rep.Streams {
		if connectionLost(sr.Err) {
			// The grant was refused (the session put the connection in
			// error): one alert, as a push's; a reconnect polls again.
			return e.db.QueueAlert(context.WithoutCancel(ctx), conn.ID, jobs.AlertConnection)
		}
	}
	var wait time.Time
	more := false
	for _, sr := range rep.Streams {
		var we *crm.WaitError
		if errors.As(sr.Err, &we) {
			wait = we.Until
		}
		more = more || (!sr.Complete && sr.Err == nil)
	}
	if !wait.IsZero() {
		// A limit said wait: go on then, where the listings stopped.
		return river.JobSnooze(max(time.Until(wait), 0))
	}
	if more {
		// The run's time is up with listings under way (their cursors
		// are stored): go on at once, behind the jobs queued meanwhile.
		return river.JobSnooze(0)
	}
	// Done, or a stream failed (its cursor keeps why, for health; the
	// next poll tries again).
	if !started.IsZero() {
		run, err := e.db.LatestSyncRun(ctx, conn.WorkspaceID, conn.ID, store.RunSyncNow)
		if err != nil {
			return err
		}
		if run != nil && run.StartedAt.After(started) {
			return river.JobSnooze(0)
		}
	}
	return nil
}

// logStream writes a stream's row in the sync log when its listing stored
// something or failed (a budget's wait that stored nothing is not news).
func (w *pullWorker) logStream(ctx context.Context, conn *qwoty.Connection, sr StreamReport) error {
	var wait *crm.WaitError
	waited := errors.As(sr.Err, &wait)
	stored := sr.Applied+sr.Deleted > 0
	if !stored && (sr.Err == nil || (waited && wait.Budget) || errors.Is(sr.Err, context.Canceled)) {
		return nil
	}
	e := store.PullLog{Object: sr.Stream, Outcome: store.SyncedOutcome, Calls: sr.Calls, Message: counts(sr)}
	switch {
	case waited:
		e.Outcome, e.Code = store.WaitingOutcome, qwoty.CodeRateLimited
		e.Message += "; waiting: " + wait.Reason
	case sr.Err != nil && !errors.Is(sr.Err, context.Canceled):
		e.Outcome, e.Code = store.FailedOutcome, qwoty.ErrorCode(sr.Err)
		e.Message += "; failed: " + message(sr.Err)
	case !sr.Complete:
		e.Message += "; the listing goes on"
	}
	return w.e.db.RecordPull(ctx, conn.WorkspaceID, conn.ID, e)
}

// counts is what a pull stored, as the sync log says it.
func counts(sr StreamReport) string {
	s := fmt.Sprintf("%d applied, %d deleted, %d skipped, %d echoes", sr.Applied, sr.Deleted, sr.Skipped, sr.Echoes)
	if sr.Pages > 0 {
		s += fmt.Sprintf(" in %d pages", sr.Pages)
	}
	if sr.Moved > 0 {
		s += fmt.Sprintf("; %d quotes took the CRM's stage", sr.Moved)
	}
	if sr.Taken > 0 {
		s += fmt.Sprintf("; %d mapped values taken from the CRM", sr.Taken)
	}
	if sr.Conflicts > 0 {
		s += fmt.Sprintf("; %d conflicts wait for an admin under Conflicts", sr.Conflicts)
	}
	return s
}

// fetch reads ids of kind now and stores what is newer than Qwoty's copy.
func (w *pullWorker) fetch(ctx context.Context, a crm.Adapter, conn *qwoty.Connection, kind string, ids []string) error {
	e := w.e
	set, err := e.db.SyncSettingsOf(ctx, conn.ID)
	if err != nil {
		return err
	}
	fields, err := pulledFields(ctx, e.db, conn)
	if err != nil {
		return err
	}
	b := newBudget(e.db, conn.ID, a.Sync().Buckets(conn, set.BudgetShare))
	recs, err := a.Pull().Fetch(ctx, session.New(e.db, a, conn), b, kind, ids, fields[kind])
	var wait *crm.WaitError
	if errors.As(err, &wait) {
		return river.JobSnooze(max(time.Until(wait.Until), 0))
	}
	if ctx.Err() != nil {
		return river.JobSnooze(0)
	}
	entry := store.PullLog{Object: kind, CRMID: strings.Join(ids, ","), Outcome: store.SyncedOutcome}
	if connectionLost(err) {
		return e.db.QueueAlert(context.WithoutCancel(ctx), conn.ID, jobs.AlertConnection)
	}
	if err != nil {
		// River retries it with backoff; the next poll reads the same
		// records anyway.
		entry.Outcome, entry.Code, entry.Message = store.FailedOutcome, qwoty.ErrorCode(err), "fetch failed: "+message(err)
		if lerr := e.db.RecordPull(context.WithoutCancel(ctx), conn.WorkspaceID, conn.ID, entry); lerr != nil {
			return lerr
		}
		return err
	}
	got, err := e.db.StorePulled(ctx, conn.WorkspaceID, conn.ID, recs)
	if err != nil {
		return err
	}
	entry.Message = counts(StreamReport{PullApplied: got})
	return e.db.RecordPull(context.WithoutCancel(ctx), conn.WorkspaceID, conn.ID, entry)
}
