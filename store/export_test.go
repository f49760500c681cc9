package store

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Pool is the DB's own pool, for the tests of this package to read and
// write what the API does not (other packages use storetest.Pool).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// NonceSweepLockKey lets the tests hold the sweep's advisory lock as another
// instance would.
const NonceSweepLockKey = nonceSweepLockKey

// SetDialFailedAt records a failed dial at t, as the pools' dialer does.
func (db *DB) SetDialFailedAt(t time.Time) { db.dialFailedAt.Store(t.UnixNano()) }
