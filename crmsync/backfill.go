package crmsync

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// backfillWorker carries a back-fill run: each run of the job captures the
// next chunk of the connection's never-pushed quotes into the outbox (when
// the run's earlier chunks are mostly pushed), counts the run's progress
// and snoozes a tick. A snooze uses no attempt, so one job carries the
// whole run; the run's cursor is saved with each chunk, so a restart
// resumes where it was. The push jobs do the pushing: back-fill records are
// leased after real-time ones and spend only the budget's upper half.
type backfillWorker struct {
	river.WorkerDefaults[jobs.SyncBackfill]
	e *Engine
}

// Back-fill pacing defaults (Options.BackfillChunk, BackfillTick).
const (
	defaultBackfillChunk = 200
	defaultBackfillTick  = time.Second
)

// backfillAhead is how many chunks of a run may wait in the outbox at once:
// enough that the push jobs never run dry, few enough that a cancel has
// little to remove and the outbox does not swell.
const backfillAhead = 2

func (w *backfillWorker) Work(ctx context.Context, job *river.Job[jobs.SyncBackfill]) error {
	e := w.e
	run, err := e.db.SyncRunByID(ctx, job.Args.RunID)
	if errors.Is(err, qwoty.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	switch run.Status {
	case store.RunCancelling:
		n, err := e.db.FinishCancelledRun(ctx, run.ID)
		if err != nil {
			return err
		}
		e.log.Info("sync back-fill cancelled", "connection", run.ConnectionID, "run", run.ID, "removed", n)
		return nil
	case store.RunRunning:
	default:
		return nil
	}
	conn, err := e.db.ConnectionByID(ctx, run.ConnectionID)
	if errors.Is(err, qwoty.ErrNotFound) || err == nil && conn.Status == qwoty.ConnectionDisconnected {
		return e.db.FailRun(ctx, run.ID, "the connection was disconnected")
	}
	if err != nil {
		return err
	}
	a, ok := e.crms.Get(conn.Provider)
	if !ok || a.Sync() == nil {
		return e.db.FailRun(ctx, run.ID, conn.Provider.Title()+" does not sync on this server")
	}
	// A connection in error pushes nothing: the run waits (its progress
	// still counted) for the reconnect.
	if !run.Walked && conn.Status == qwoty.ConnectionActive {
		waiting, err := e.db.RunOutstanding(ctx, run.ID)
		if err != nil {
			return err
		}
		if waiting < backfillAhead*e.opt.BackfillChunk {
			if _, err := e.db.CaptureBackfill(ctx, run.ID, e.opt.BackfillChunk); err != nil {
				return err
			}
		}
	}
	capRate, err := w.budgetRate(ctx, run, conn, a.Sync())
	if err != nil {
		return err
	}
	run, err = e.db.UpdateRunProgress(ctx, run.ID, capRate)
	if err != nil {
		return err
	}
	if run.Status == store.RunDone {
		e.log.Info("sync back-fill done", "connection", run.ConnectionID, "run", run.ID, "quotes", run.Total, "failed", run.Failed)
		return nil
	}
	if ctx.Err() != nil {
		return river.JobSnooze(0)
	}
	return river.JobSnooze(nextTick(run, e.opt.BackfillTick, time.Now()))
}

// backfillLastTick is the shortest wait between two counts of a run, as
// it nears its end.
const backfillLastTick = 100 * time.Millisecond

// nextTick is how long the job waits before it counts run again: a tick,
// or less when the estimated finish is nearer than a tick, so that a run
// is seen done soon after its last quote is pushed rather than up to a
// tick later (a whole tick in a minute's run is 2% of it).
func nextTick(run *store.SyncRun, tick time.Duration, now time.Time) time.Duration {
	if run.ETA.IsZero() || !run.Walked {
		return tick
	}
	return min(tick, max(backfillLastTick, run.ETA.Sub(now)))
}

// budgetRate is the quotes a second the connection's budget allows a
// back-fill: the slowest bucket's refill over the API calls the run's
// pushes used per quote so far (0 while nothing is pushed yet: unknown).
func (w *backfillWorker) budgetRate(ctx context.Context, run *store.SyncRun, conn *qwoty.Connection, syncer crm.Syncer) (float64, error) {
	if run.Done == 0 {
		return 0, nil
	}
	calls, err := w.e.db.RunCalls(ctx, run.ID)
	if err != nil || calls == 0 {
		return 0, err
	}
	set, err := w.e.db.SyncSettingsOf(ctx, conn.ID)
	if err != nil {
		return 0, err
	}
	refill := 0.0
	for _, b := range syncer.Buckets(conn, set.BudgetShare) {
		if _, r := b.TokenBucket(); r > 0 && (refill == 0 || r < refill) {
			refill = r
		}
	}
	return refill / (float64(calls) / float64(run.Done)), nil
}
