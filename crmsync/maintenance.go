package crmsync

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
)

// sweepWorker gives a push job to every connection with due records and
// none queued: a retry's backoff over, a budget refilled, a job lost. The
// leader runs it every SweepEvery; unique jobs make it a no-op for the
// connections already queued.
type sweepWorker struct {
	river.WorkerDefaults[jobs.SyncSweep]
	e *Engine
}

// strandedAfter is how long an order push or a deal making under way may
// go without moving, and without a job, before the sweep queues it again.
const strandedAfter = 10 * time.Minute

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[jobs.SyncSweep]) error {
	ids, err := w.e.db.DueSyncConnections(ctx)
	if err != nil {
		return err
	}
	if err := w.e.db.InsertPushJobs(ctx, ids); err != nil {
		return err
	}
	// An order or a deal whose job River gave up on is queued again.
	if n, err := w.e.db.RequeueStrandedWrites(ctx, strandedAfter); err != nil {
		return err
	} else if n > 0 {
		w.e.log.Warn("sync sweep: writes whose job was gone queued again", "writes", n)
	}
	// Every connection of a CRM that pulls is polled every PullEvery.
	var pulling []qwoty.Provider
	for _, a := range w.e.crms.All() {
		if a.Pull() != nil {
			pulling = append(pulling, a.Info().Provider)
		}
	}
	if len(pulling) == 0 {
		return nil
	}
	due, err := w.e.db.PullDueConnections(ctx, w.e.opt.PullEvery, pulling)
	if err != nil {
		return err
	}
	return w.e.db.InsertPullJobs(ctx, due)
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
		if err != nil {
			return err
		}
		if n < pruneBatch {
			break
		}
	}
	// The API's idempotent answers are kept 24 hours.
	for {
		n, err := w.e.db.PruneIdempotency(ctx, pruneBatch)
		if err != nil {
			return err
		}
		if n < pruneBatch {
			break
		}
	}
	// Webhook deliveries are kept to drop a CRM's redeliveries, which
	// come within hours.
	_, err := w.e.db.PruneWebhookDeliveries(ctx, time.Now().Add(-webhookRetention))
	return err
}

// webhookRetention is how long a webhook delivery's event id is kept.
const webhookRetention = 7 * 24 * time.Hour
