package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qwoty/companion/metrics"
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

// SchemaVersion is the migration the database's schema is at (tern's
// schema_version; 0 before the first).
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int32
	err := db.pool.QueryRow(ctx, `SELECT version FROM public.schema_version`).Scan(&v)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table: never migrated
			return 0, nil
		}
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, nil
		}
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return int(v), nil
}

// SyncHealthByProvider reads sync's state over each CRM's connections (not
// disconnected), at a scrape: metrics.SyncHealth says what each figure is.
func (db *DB) SyncHealthByProvider(ctx context.Context) ([]metrics.SyncHealth, error) {
	rows, err := db.pool.Query(ctx, `
		WITH budget AS (
			SELECT connection_id,
				min(least(capacity, tokens + extract(epoch FROM now() - refilled_at) * refill_per_s) / capacity)
					FILTER (WHERE capacity > 0) AS share,
				coalesce(bool_or(blocked_until > now()), false) AS blocked
			FROM api_budget GROUP BY connection_id
		), lag AS (
			SELECT connection_id, greatest(extract(epoch FROM now() - min(updated_at))::float8, 0) AS age
			FROM sync_records WHERE state IN ('pending', 'in_flight') GROUP BY connection_id
		)
		-- greatest(NULL, 0) is 0 in PostgreSQL: a connection with no
		-- bucket or no record behind must stay NULL, out of the aggregates.
		SELECT c.provider, count(*)::int,
			coalesce(min(CASE WHEN b.share < 0 THEN 0 ELSE b.share END), 1)::float8,
			count(*) FILTER (WHERE b.share < 0.1)::int,
			count(*) FILTER (WHERE b.blocked)::int,
			count(l.age)::int,
			coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY l.age), 0)::float8,
			coalesce(percentile_cont(0.9) WITHIN GROUP (ORDER BY l.age), 0)::float8,
			coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY l.age), 0)::float8,
			coalesce(max(l.age), 0)::float8
		FROM connections c
		LEFT JOIN budget b ON b.connection_id = c.id
		LEFT JOIN lag l ON l.connection_id = c.id
		WHERE c.status <> 'disconnected'
		GROUP BY c.provider ORDER BY c.provider`)
	if err != nil {
		return nil, fmt.Errorf("store: sync health: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (metrics.SyncHealth, error) {
		var h metrics.SyncHealth
		return h, r.Scan(&h.Provider, &h.Connections, &h.LowestBudgetShare, &h.BudgetUnder10, &h.Blocked,
			&h.Behind, &h.LagP50, &h.LagP90, &h.LagP99, &h.OldestPending)
	})
	if err != nil {
		return nil, fmt.Errorf("store: sync health: %w", err)
	}
	return out, nil
}
