package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/qwoty"
)

// CardRequest is what the signed-callout path asks of the database once the
// signature is verified.
type CardRequest struct {
	ConnectionID string
	WorkspaceID  string
	Nonce        string
	NonceExpires time.Time
	// AccountID and AccountName upsert the record's customer (both optional).
	AccountID   string
	AccountName string
	RecordID    string
	// Limit caps the quotes returned (the card shows the newest).
	Limit int
}

// CardResult is what the database says of a card request.
type CardResult struct {
	// Status is the connection's current status, read in the same statement
	// as the nonce claim, so a disconnect applies to the very next callout.
	Status qwoty.ConnectionStatus
	// Claimed is false when the nonce was used before (a replay) or the
	// connection is disconnected; then nothing was written.
	Claimed bool
	// Quotes are the record's live quotes, newest first, with the fields the
	// CRM lists (no lines).
	Quotes []qwoty.Quote
}

// claimSQL claims a nonce for an active connection; $1 connection, $2 nonce,
// $3 expiry.
const claimSQL = `
	WITH st AS (
		SELECT status FROM connections WHERE id = $1
	), n AS (
		INSERT INTO seen_nonces (connection_id, nonce, expires_at)
		SELECT $1, $2, $3 WHERE (SELECT status FROM st) <> 'disconnected'
		ON CONFLICT DO NOTHING
		RETURNING 1
	)`

// ClaimAndList is the whole database side of a card request, in one round
// trip: it claims the nonce (only for a connection that is not
// disconnected), upserts the customer when the record names a new one or a
// new name (an unchanged customer is not written, not even locked), and
// lists the record's quotes.
func (db *DB) ClaimAndList(ctx context.Context, r CardRequest) (res CardResult, err error) {
	limit := r.Limit
	if limit <= 0 {
		limit = 50
	}
	b := &pgx.Batch{}
	b.Queue(claimSQL+`, c AS (
			INSERT INTO customers (workspace_id, crm_account_id, name)
			SELECT $4, $5, $6
			WHERE $5 <> '' AND EXISTS (SELECT 1 FROM n)
			  AND NOT EXISTS (SELECT 1 FROM customers WHERE workspace_id = $4 AND crm_account_id = $5 AND (name = $6 OR $6 = ''))
			ON CONFLICT (workspace_id, crm_account_id) DO UPDATE SET name = EXCLUDED.name, updated_at = now()
			WHERE EXCLUDED.name <> '' AND customers.name IS DISTINCT FROM EXCLUDED.name
			RETURNING 1
		)
		SELECT coalesce((SELECT status FROM st), ''), EXISTS (SELECT 1 FROM n), (SELECT count(*) FROM c)`,
		r.ConnectionID, r.Nonce, r.NonceExpires, r.WorkspaceID, r.AccountID, r.AccountName)
	b.Queue(`SELECT id, number, title, status, currency, total, updated_at FROM quotes
		WHERE workspace_id = $1 AND crm_record_id = $2 AND deleted_at IS NULL
		ORDER BY updated_at DESC LIMIT $3`, r.WorkspaceID, r.RecordID, limit)

	br := db.pool.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("store: card request for record %s: %w", r.RecordID, cerr)
		}
	}()
	var touched int
	if err := br.QueryRow().Scan(&res.Status, &res.Claimed, &touched); err != nil {
		return res, fmt.Errorf("store: claim nonce for connection %s: %w", r.ConnectionID, err)
	}
	rows, err := br.Query()
	if err != nil {
		return res, fmt.Errorf("store: list quotes of record %s: %w", r.RecordID, err)
	}
	quotes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (qwoty.Quote, error) {
		var q qwoty.Quote
		err := row.Scan(&q.ID, &q.Number, &q.Title, &q.Status, &q.Currency, &q.Totals.Total, &q.UpdatedAt)
		return q, err
	})
	if err != nil {
		return res, fmt.Errorf("store: list quotes of record %s: %w", r.RecordID, err)
	}
	if res.Claimed {
		res.Quotes = quotes
	}
	return res, nil
}

// ClaimNonce records a single-use nonce for a connection that is not
// disconnected, until expires. It returns the connection's status and
// whether the nonce was new.
func (db *DB) ClaimNonce(ctx context.Context, connectionID, nonce string, expires time.Time) (qwoty.ConnectionStatus, bool, error) {
	var status qwoty.ConnectionStatus
	var claimed bool
	err := db.pool.QueryRow(ctx, claimSQL+` SELECT coalesce((SELECT status FROM st), ''), EXISTS (SELECT 1 FROM n)`,
		connectionID, nonce, expires).Scan(&status, &claimed)
	if err != nil {
		return "", false, fmt.Errorf("store: claim nonce for connection %s: %w", connectionID, err)
	}
	return status, claimed, nil
}

// DeleteExpiredNonces removes nonces past their expiry, a bounded batch at a
// time so a large backlog never holds locks for long. Safe on every instance.
func (db *DB) DeleteExpiredNonces(ctx context.Context) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM seen_nonces WHERE ctid = ANY (ARRAY(
		SELECT ctid FROM seen_nonces WHERE expires_at < $1 LIMIT 10000))`, db.now())
	if err != nil {
		return 0, fmt.Errorf("store: delete expired nonces: %w", err)
	}
	return tag.RowsAffected(), nil
}
