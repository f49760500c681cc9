package store

// NonceSweepLockKey lets the tests hold the sweep's advisory lock as another
// instance would.
const NonceSweepLockKey = nonceSweepLockKey
