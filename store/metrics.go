package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// PoolStats is the database pool's use, for the metrics (package metrics).
func (db *DB) PoolStats() (acquired, idle, total, max int32) {
	s := db.pool.Stat()
	return s.AcquiredConns(), s.IdleConns(), s.TotalConns(), s.MaxConns()
}

// QueueDepths counts the background jobs (River's) not yet done, by queue
// and state: available, scheduled, retryable and running.
func (db *DB) QueueDepths(ctx context.Context) (map[[2]string]float64, error) {
	rows, err := db.pool.Query(ctx, `SELECT queue, state::text, count(*) FROM river_job
		WHERE state IN ('available', 'scheduled', 'retryable', 'running') GROUP BY queue, state`)
	if err != nil {
		return nil, fmt.Errorf("store: queue depths: %w", err)
	}
	out := map[[2]string]float64{}
	var q, s string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&q, &s, &n}, func() error {
		out[[2]string{q, s}] = float64(n)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: queue depths: %w", err)
	}
	return out, nil
}
