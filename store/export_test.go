package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/qwoty/companion/qwoty"
)

// Pool is the DB's own pool, for the tests of this package to read and
// write what the API does not (other packages use storetest.Pool).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// NonceSweepLockKey lets the tests hold the sweep's advisory lock as another
// instance would.
const NonceSweepLockKey = nonceSweepLockKey

// SetDialFailedAt records a failed dial at t, as the pools' dialer does.
func (db *DB) SetDialFailedAt(t time.Time) { db.dialFailedAt.Store(t.UnixNano()) }

// EmitAndRollBack emits e in a transaction that is then rolled back, as a
// change that fails after its event does.
func (db *DB) EmitAndRollBack(ctx context.Context, e Event) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	return db.emitEvent(ctx, tx, e)
}

// Emit emits e in a transaction of its own, committed.
func (db *DB) Emit(ctx context.Context, e Event) error {
	return db.inTx(ctx, func(tx pgx.Tx) error { return db.emitEvent(ctx, tx, e) })
}

// KeptLines are the lines kept for quote id at version and time at
// (quote_lines_cache.go), or false.
func (db *DB) KeptLines(id string, version int, at time.Time) ([]qwoty.LineItem, bool) {
	return db.lines.get(id, version, at)
}
