package store

import "time"

// NonceSweepLockKey lets the tests hold the sweep's advisory lock as another
// instance would.
const NonceSweepLockKey = nonceSweepLockKey

// SetDialFailedAt records a failed dial at t, as the pools' dialer does.
func (db *DB) SetDialFailedAt(t time.Time) { db.dialFailedAt.Store(t.UnixNano()) }
