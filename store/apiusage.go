package store

import (
	"context"
	"fmt"
)

// API keys' rate limits and usage (migration 016): a token bucket per key
// shared by every instance, and requests per key and UTC day.

// APIRate is a key's bucket: it holds at most Burst requests and refills
// PerSecond.
type APIRate struct {
	Burst     float64
	PerSecond float64
}

// APITake is a request's answer from the key's bucket.
type APITake struct {
	// Allowed: the request may go on (a token was taken).
	Allowed bool
	// Tokens are what the bucket holds after the request (below 1 when
	// the next request would be refused now).
	Tokens float64
}

// usageDays is how many UTC days of a key's usage are kept.
const usageDays = 35

// TakeAPIRequest takes one request from a key's bucket, in one statement
// that also counts the request (accepted or refused) in the key's UTC day
// and stamps the key's last use: a request costs one write, whatever
// instance serves it. The bucket is made full at the key's first request.
// At a key's first request of a day its days older than usageDays go, so
// a key holds at most usageDays+1 rows of usage.
//
// Its commit does not wait for the disk (synchronous_commit off, for this
// statement's own transaction only): the rows it writes are counters, and
// a crash of PostgreSQL may forget the last fraction of a second of them,
// never a key. A key's requests queue on its rows for the commit, so this
// is what a busy key's requests wait for.
func (db *DB) TakeAPIRequest(ctx context.Context, keyID string, rate APIRate) (APITake, error) {
	var t APITake
	// A statement whose now() is earlier than the bucket's (it began
	// before another instance's committed) refills nothing and leaves
	// refilled_at where it is.
	err := db.pool.QueryRow(ctx, `
		WITH b AS (
			INSERT INTO api_key_buckets AS b (key_id, tokens, refilled_at, allowed)
			VALUES ($1::uuid, $2::float8 - 1, now(), true)
			ON CONFLICT (key_id) DO UPDATE SET
				tokens = least($2::float8, b.tokens + greatest(0, extract(epoch FROM now() - b.refilled_at)) * $3::float8)
					- CASE WHEN least($2::float8, b.tokens + greatest(0, extract(epoch FROM now() - b.refilled_at)) * $3::float8) >= 1 THEN 1 ELSE 0 END,
				allowed = least($2::float8, b.tokens + greatest(0, extract(epoch FROM now() - b.refilled_at)) * $3::float8) >= 1,
				refilled_at = greatest(b.refilled_at, now())
			RETURNING b.tokens, b.allowed
		), day AS (
			SELECT (now() AT TIME ZONE 'UTC')::date AS today
		), counted AS (
			INSERT INTO api_key_usage AS u (key_id, day, accepted, refused)
			SELECT $1::uuid, day.today, b.allowed::int, (NOT b.allowed)::int FROM b, day
			ON CONFLICT (key_id, day) DO UPDATE SET accepted = u.accepted + excluded.accepted, refused = u.refused + excluded.refused
		), used AS (
			UPDATE api_keys SET last_used_at = now() WHERE id = $1::uuid AND (last_used_at IS NULL OR last_used_at < now())
		), pruned AS (
			DELETE FROM api_key_usage o USING day WHERE o.key_id = $1::uuid AND o.day < day.today - $4::int
				AND NOT EXISTS (SELECT 1 FROM api_key_usage t WHERE t.key_id = $1::uuid AND t.day = day.today)
		)
		SELECT tokens, allowed, set_config('synchronous_commit', 'off', true) FROM b`, keyID, rate.Burst, rate.PerSecond, usageDays).Scan(&t.Tokens, &t.Allowed, nil)
	if err != nil {
		return APITake{}, fmt.Errorf("store: take api request: %w", err)
	}
	return t, nil
}

// APIKeyUsage is a key's requests: today (UTC) and over the last 7 days
// (today and the 6 before).
type APIKeyUsage struct {
	Today        int64
	RefusedToday int64
	Week         int64
	RefusedWeek  int64
}

// APIKeysUsage returns the usage of a connection's keys by key id (a key
// never used has none).
func (db *DB) APIKeysUsage(ctx context.Context, workspaceID, connectionID string) (map[string]APIKeyUsage, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT k.id::text,
			coalesce(sum(u.accepted) FILTER (WHERE u.day = (now() AT TIME ZONE 'UTC')::date), 0)::int8,
			coalesce(sum(u.refused) FILTER (WHERE u.day = (now() AT TIME ZONE 'UTC')::date), 0)::int8,
			coalesce(sum(u.accepted), 0)::int8, coalesce(sum(u.refused), 0)::int8
		FROM api_keys k JOIN api_key_usage u ON u.key_id = k.id AND u.day > (now() AT TIME ZONE 'UTC')::date - 7
		WHERE k.workspace_id = $1 AND k.connection_id = $2
		GROUP BY k.id`, workspaceID, connectionID)
	if err != nil {
		return nil, fmt.Errorf("store: api keys usage: %w", err)
	}
	defer rows.Close()
	out := map[string]APIKeyUsage{}
	for rows.Next() {
		var id string
		var u APIKeyUsage
		if err := rows.Scan(&id, &u.Today, &u.RefusedToday, &u.Week, &u.RefusedWeek); err != nil {
			return nil, fmt.Errorf("store: api keys usage: %w", err)
		}
		out[id] = u
	}
	return out, rows.Err()
}
