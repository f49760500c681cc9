package crmsync

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/qwoty/companion/jobs"
)

// sweepWorker gives a push job to every connection with due records and
// none queued: a retry's backoff over, a budget refilled, a job lost. The
// leader runs it every SweepEvery; unique jobs make it a no-op for the
// connections already queued.
type sweepWorker struct {
	river.WorkerDefaults[jobs.SyncSweep]
	e *Engine
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[jobs.SyncSweep]) error {
	ids, err := w.e.db.DueSyncConnections(ctx)
	if err != nil {
		return err
	}
	return w.e.db.InsertPushJobs(ctx, ids)
}

// pruneWorker deletes sync log rows past their retention, in batches so
// that no statement runs long.
type pruneWorker struct {
	river.WorkerDefaults[jobs.SyncPrune]
	e *Engine
}

const pruneBatch = 5000

func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[jobs.SyncPrune]) error {
	before := time.Now().Add(-jobs.LogRetention)
	for {
		n, err := w.e.db.PruneSyncLog(ctx, before, pruneBatch)
		if err != nil || n < pruneBatch {
			return err
		}
	}
}
