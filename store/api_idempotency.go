package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Idempotency-Key (docs/api.md, Idempotency): the first request with a
// key claims it (a row not done), runs, and stores its answer; a later
// request with the same key and the same request replays that answer, one
// with another request is refused, and one arriving while the first still
// runs waits for it. The claim is one INSERT on the primary key, so of
// requests sent at once exactly one runs, on whichever instance.

// IdempotencyTTL is how long an answer is kept for replay.
const IdempotencyTTL = 24 * time.Hour

// IdemOutcome is what a claim found.
type IdemOutcome int

// Claim outcomes.
const (
	// IdemClaimed: this request runs, then Finish or Release.
	IdemClaimed IdemOutcome = iota
	// IdemReplay: the key's answer is stored; replay it.
	IdemReplay
	// IdemInProgress: the first request with the key is still running.
	IdemInProgress
	// IdemMismatch: the key was used for another request.
	IdemMismatch
)

// IdemAnswer is a stored answer.
type IdemAnswer struct {
	Status      int
	ContentType string
	Location    string
	Body        []byte
}

// ClaimIdempotency claims key for API key keyID and the request whose
// hash is hash, for lease (after which a claim never finished, its
// instance gone, may be taken over by the same request). A key past its
// 24 hours is claimed anew.
func (db *DB) ClaimIdempotency(ctx context.Context, keyID, key string, hash []byte, lease time.Duration) (IdemOutcome, *IdemAnswer, error) {
	var claimed bool
	err := db.pool.QueryRow(ctx, `
		INSERT INTO api_idempotency AS i (api_key_id, key, request_hash, locked_until, expires_at)
		VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond', now() + $5 * interval '1 millisecond')
		ON CONFLICT (api_key_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, done = false,
			locked_until = EXCLUDED.locked_until, status = 0, content_type = '', location = '', body = '',
			created_at = now(), expires_at = EXCLUDED.expires_at
		WHERE i.expires_at <= now() OR (NOT i.done AND i.locked_until <= now() AND i.request_hash = EXCLUDED.request_hash)
		RETURNING true`, keyID, key, hash, lease.Milliseconds(), IdempotencyTTL.Milliseconds()).Scan(&claimed)
	if err == nil {
		return IdemClaimed, nil, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, fmt.Errorf("store: claim idempotency key: %w", err)
	}
	var stored []byte
	var done bool
	var a IdemAnswer
	err = db.pool.QueryRow(ctx, `SELECT request_hash, done, status, content_type, location, body FROM api_idempotency
		WHERE api_key_id = $1 AND key = $2`, keyID, key).Scan(&stored, &done, &a.Status, &a.ContentType, &a.Location, &a.Body)
	if errors.Is(err, pgx.ErrNoRows) {
		// Released between the two statements (its write failed): the
		// caller tries again.
		return IdemInProgress, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("store: read idempotency key: %w", err)
	}
	switch {
	case !bytes.Equal(stored, hash):
		return IdemMismatch, nil, nil
	case !done:
		return IdemInProgress, nil, nil
	}
	return IdemReplay, &a, nil
}

// FinishIdempotency stores the answer of a claimed key.
func (db *DB) FinishIdempotency(ctx context.Context, keyID, key string, a IdemAnswer) error {
	_, err := db.pool.Exec(ctx, `UPDATE api_idempotency SET done = true, status = $3, content_type = $4, location = $5, body = $6
		WHERE api_key_id = $1 AND key = $2`, keyID, key, a.Status, a.ContentType, a.Location, a.Body)
	if err != nil {
		return fmt.Errorf("store: finish idempotency key: %w", err)
	}
	return nil
}

// ReleaseIdempotency gives up a claimed key whose request failed on our
// side, so that a retry runs it again.
func (db *DB) ReleaseIdempotency(ctx context.Context, keyID, key string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM api_idempotency WHERE api_key_id = $1 AND key = $2 AND NOT done`, keyID, key)
	if err != nil {
		return fmt.Errorf("store: release idempotency key: %w", err)
	}
	return nil
}

// PruneIdempotency deletes the answers past their 24 hours, at most
// limit of them; it returns how many.
func (db *DB) PruneIdempotency(ctx context.Context, limit int) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM api_idempotency WHERE ctid = ANY(ARRAY(
		SELECT ctid FROM api_idempotency WHERE expires_at < now() LIMIT $1))`, limit)
	if err != nil {
		return 0, fmt.Errorf("store: prune idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
