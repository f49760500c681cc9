package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// BudgetBucket is the shape of one of a connection's rate-limit buckets: a
// token bucket holding at most Capacity units, refilled RefillPerSec.
type BudgetBucket struct {
	Name         string
	Capacity     float64
	RefillPerSec float64
}

// blockBucket is the api_budget row that only carries a connection-wide
// block (blocked_until), whatever its buckets.
const blockBucket = "_block"

// ObserveBudget corrects a bucket from the CRM's own count: it never holds
// more than left units (other integrations spend the same allocation), and
// takes shape's capacity and refill when the CRM's allocation changed. A
// bucket not made yet is made.
func (db *DB) ObserveBudget(ctx context.Context, connectionID string, shape BudgetBucket, left float64) error {
	_, err := db.pool.Exec(ctx, `
		INSERT INTO api_budget AS a (connection_id, bucket, tokens, capacity, refill_per_s)
		VALUES ($1, $2, least($3::float8, $4::float8), $4::float8, $5::float8)
		ON CONFLICT (connection_id, bucket) DO UPDATE SET
			tokens = least($3::float8, a.capacity, a.tokens + extract(epoch FROM now() - a.refilled_at) * a.refill_per_s),
			capacity = $4::float8, refill_per_s = $5::float8, refilled_at = now()`,
		connectionID, shape.Name, left, shape.Capacity, shape.RefillPerSec)
	if err != nil {
		return fmt.Errorf("store: observe budget %s: %w", shape.Name, err)
	}
	return nil
}

// BlockBudget stops every call of the connection until until (a later
// block wins).
func (db *DB) BlockBudget(ctx context.Context, connectionID string, until time.Time) error {
	_, err := db.pool.Exec(ctx, `
		INSERT INTO api_budget AS a (connection_id, bucket, tokens, capacity, refill_per_s, blocked_until)
		VALUES ($1, $2, 0, 0, 0, $3)
		ON CONFLICT (connection_id, bucket) DO UPDATE SET blocked_until = greatest(coalesce(a.blocked_until, '-infinity'), $3)`,
		connectionID, blockBucket, until)
	if err != nil {
		return fmt.Errorf("store: block budget: %w", err)
	}
	return nil
}

// BudgetState is a bucket as it stands, for health and tests.
type BudgetState struct {
	Bucket       string
	Tokens       float64
	Capacity     float64
	BlockedUntil time.Time
}

// Budget returns the connection's buckets now (tokens refilled to now).
func (db *DB) Budget(ctx context.Context, connectionID string) ([]BudgetState, error) {
	rows, err := db.pool.Query(ctx, `SELECT bucket,
		least(capacity, tokens + extract(epoch FROM now() - refilled_at) * refill_per_s)::float8, capacity, coalesce(blocked_until, 'epoch')
		FROM api_budget WHERE connection_id = $1 ORDER BY bucket`, connectionID)
	if err != nil {
		return nil, fmt.Errorf("store: budget: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (BudgetState, error) {
		var s BudgetState
		return s, r.Scan(&s.Bucket, &s.Tokens, &s.Capacity, &s.BlockedUntil)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: budget: %w", err)
	}
	return out, nil
}

// reshapeBudget forgets a connection's buckets (not its block) when the
// allowance they were made from changed (the budget share, the plan and
// seats): a bucket keeps the shape it was made with, so the next take
// makes it again with the new one.
func reshapeBudget(ctx context.Context, tx pgx.Tx, connectionID string) error {
	_, err := tx.Exec(ctx, `DELETE FROM api_budget WHERE connection_id = $1 AND bucket <> $2`, connectionID, blockBucket)
	if err != nil {
		return fmt.Errorf("reshape budget: %w", err)
	}
	return nil
}

// ReserveBudget takes cost units of a connection's bucket now or, when the
// bucket will hold them within ahead, reserves them: the bucket goes below
// what it holds and pays the units back as it refills, and the answer says
// how long the caller waits before its call. A reserved call starts no
// earlier than a take at that moment would have, so the limit holds; the
// caller sleeps once instead of asking again (a backlog draining at the
// limit then spends its round trips while the bucket refills, not after).
//
// keepShare and keepMax are a reserve the take must leave in the bucket
// (least(keepShare × capacity, keepMax)): a back-fill leaves room for
// real-time pushes, and reserves no further ahead than that room or
// ReserveLead, whichever is longer (and never more than ahead), so that a
// real-time push waits at most ReserveLead for a back-fill.
//
// It answers (wait, true) when taken (wait 0: at once), and (wait, false)
// when the bucket will not hold the units within ahead, or the connection
// is blocked: wait is then how long until it will (or the block ends).
// ReserveLead is how far ahead a take that keeps a reserve may reserve
// even past the reserve. A bucket whose burst is small (5% of a one-second
// limit is 26 ms of refill) overflows, and its refill is lost, whenever
// every caller is busy between calls for longer than the burst lasts; a
// lead lets the callers' reservations run ahead of such a stall. It is also
// the longest a real-time push may wait behind a back-fill.
const ReserveLead = 250 * time.Millisecond

func (db *DB) ReserveBudget(ctx context.Context, connectionID string, b BudgetBucket, cost, keepShare, keepMax float64, ahead time.Duration) (time.Duration, bool, error) {
	for range 5 {
		var waitS *float64
		var taken bool
		err := db.pool.QueryRow(ctx, `
			WITH blocked AS (
				SELECT max(blocked_until) AS until FROM api_budget WHERE connection_id = $1 AND blocked_until > now()
			), cur AS (
				SELECT a.connection_id, a.bucket, a.refill_per_s AS refill,
					least(a.capacity, a.tokens + extract(epoch FROM now() - a.refilled_at) * a.refill_per_s) AS level,
					least($4::float8 * a.capacity, $5::float8) AS keep
				FROM api_budget a WHERE a.connection_id = $1 AND a.bucket = $2
			), lim AS (
				SELECT cur.*, CASE WHEN cur.refill <= 0 THEN 0
					WHEN cur.keep > 0 THEN least($6::float8, greatest(cur.keep / cur.refill, $7::float8)) ELSE $6::float8 END AS ahead
				FROM cur
			), taken AS (
				UPDATE api_budget a SET
					tokens = least(a.capacity, a.tokens + extract(epoch FROM now() - a.refilled_at) * a.refill_per_s) - $3::float8,
					refilled_at = now()
				FROM lim
				WHERE a.connection_id = lim.connection_id AND a.bucket = lim.bucket AND (SELECT until FROM blocked) IS NULL
					AND least(a.capacity, a.tokens + extract(epoch FROM now() - a.refilled_at) * a.refill_per_s) + lim.ahead * lim.refill
						>= $3::float8 + lim.keep
				RETURNING greatest(0, ($3::float8 + lim.keep - least(a.capacity, a.tokens + $3::float8)) / nullif(lim.refill, 0)) AS wait
			)
			SELECT CASE
				WHEN EXISTS (SELECT 1 FROM taken) THEN coalesce((SELECT wait FROM taken), 0)
				WHEN (SELECT until FROM blocked) IS NOT NULL THEN extract(epoch FROM (SELECT until FROM blocked) - now())
				ELSE (SELECT CASE WHEN lim.refill <= 0 OR $3 + lim.keep > (SELECT capacity FROM api_budget WHERE connection_id = $1 AND bucket = $2) THEN 86400
					ELSE coalesce(nullif(greatest(0, ($3 + lim.keep - lim.level) / lim.refill - lim.ahead), 0), -2) END FROM lim)
			END::float8, EXISTS (SELECT 1 FROM taken)`,
			connectionID, b.Name, cost, keepShare, keepMax, ahead.Seconds(), ReserveLead.Seconds()).Scan(&waitS, &taken)
		if err != nil {
			return 0, false, fmt.Errorf("store: reserve budget %s: %w", b.Name, err)
		}
		if waitS == nil {
			if _, err := db.pool.Exec(ctx, `INSERT INTO api_budget (connection_id, bucket, tokens, capacity, refill_per_s)
				VALUES ($1, $2, $3, $3, $4) ON CONFLICT DO NOTHING`, connectionID, b.Name, b.Capacity, b.RefillPerSec); err != nil {
				return 0, false, fmt.Errorf("store: make budget %s: %w", b.Name, err)
			}
			continue
		}
		if taken {
			return time.Duration(*waitS * float64(time.Second)), true, nil
		}
		if *waitS == -2 {
			continue // refused on a stale view: look again
		}
		return max(time.Millisecond, time.Duration(*waitS*float64(time.Second))), false, nil
	}
	return 10 * time.Millisecond, false, nil
}
