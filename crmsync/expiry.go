package crmsync

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/qwoty/companion/jobs"
)

// expireWorker expires the quotes past their validity (docs/quotes.md,
// "Expiry"): batches of expireBatch, each quote in a transaction of its
// own with its audit entry, its CRM push and its quote.expired event, for
// at most RunFor; what is left waits for the next run.
type expireWorker struct {
	river.WorkerDefaults[jobs.QuoteExpire]
	e *Engine
}

const expireBatch = 200

func (w *expireWorker) Work(ctx context.Context, _ *river.Job[jobs.QuoteExpire]) error {
	until := time.Now().Add(w.e.opt.RunFor)
	total := 0
	defer func() {
		if total > 0 {
			w.e.log.Info("quotes expired", "count", total)
		}
	}()
	for time.Now().Before(until) {
		n, err := w.e.db.ExpireQuotes(ctx, expireBatch)
		total += n
		if err != nil {
			return err
		}
		if n < expireBatch {
			return nil
		}
	}
	return nil
}
