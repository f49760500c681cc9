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

// ClaimAndList is the whole database side of a card request in one round
// trip: it claims the nonce (false: a replay, nothing else is written),
// upserts the customer, and lists the record's quotes, newest first.
func (db *DB) ClaimAndList(ctx context.Context, r CardRequest) (claimed bool, quotes []qwoty.Quote, err error) {
	b := &pgx.Batch{}
	// One statement so the customer is only touched when the nonce is fresh.
	b.Queue(`
		WITH n AS (
			INSERT INTO seen_nonces (connection_id, nonce, expires_at) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING
			RETURNING 1
		), c AS (
			INSERT INTO customers (workspace_id, crm_account_id, name)
			SELECT $4, $5, $6 WHERE $5 <> '' AND EXISTS (SELECT 1 FROM n)
			ON CONFLICT (workspace_id, crm_account_id) DO UPDATE SET name = EXCLUDED.name, updated_at = now()
			WHERE EXCLUDED.name <> '' AND customers.name IS DISTINCT FROM EXCLUDED.name
			RETURNING 1
		)
		SELECT EXISTS (SELECT 1 FROM n), (SELECT count(*) FROM c)`,
		r.ConnectionID, r.Nonce, r.NonceExpires, r.WorkspaceID, r.AccountID, r.AccountName)
	limit := r.Limit
	if limit <= 0 {
		limit = 50
	}
	b.Queue(`SELECT `+quoteColumns+` FROM quotes q LEFT JOIN customers cu ON cu.id = q.customer_id
		WHERE q.workspace_id = $1 AND q.crm_record_id = $2 AND q.deleted_at IS NULL
		ORDER BY q.updated_at DESC LIMIT $3`, r.WorkspaceID, r.RecordID, limit)

	br := db.pool.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("store: card request for record %s: %w", r.RecordID, cerr)
		}
	}()
	var touched int
	if err := br.QueryRow().Scan(&claimed, &touched); err != nil {
		return false, nil, fmt.Errorf("store: claim nonce for connection %s: %w", r.ConnectionID, err)
	}
	rows, err := br.Query()
	if err != nil {
		return false, nil, fmt.Errorf("store: list quotes of record %s: %w", r.RecordID, err)
	}
	quotes, err = pgx.CollectRows(rows, scanQuote)
	if err != nil {
		return false, nil, fmt.Errorf("store: list quotes of record %s: %w", r.RecordID, err)
	}
	if !claimed {
		return false, nil, nil
	}
	return true, quotes, nil
}

// ClaimNonce records a single-use value (a callout nonce, an embed token id)
// for a connection until expires. It returns false when it was already used.
func (db *DB) ClaimNonce(ctx context.Context, connectionID, nonce string, expires time.Time) (bool, error) {
	tag, err := db.pool.Exec(ctx, `INSERT INTO seen_nonces (connection_id, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		connectionID, nonce, expires)
	if err != nil {
		return false, fmt.Errorf("store: claim nonce for connection %s: %w", connectionID, err)
	}
	return tag.RowsAffected() == 1, nil
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
