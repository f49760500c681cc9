package store

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

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
	// Quotes are the record's live quotes made in this connection, newest
	// first.
	Quotes []ListedQuote
}

// ListedQuote is a quote with the fields a CRM lists on the record.
type ListedQuote struct {
	ID, Number, Title string
	Status            qwoty.Status
	Currency          string
	Total             decimal.Decimal
	UpdatedAt         time.Time
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
// trip shared with the requests arriving at the same moment (cardbatch.go):
// it claims the nonce (only for a connection that is not disconnected),
// upserts the customer when the record names a new one or a new name (an
// unchanged customer is not written, not even locked), and lists the
// record's quotes, newest first.
func (db *DB) ClaimAndList(ctx context.Context, r CardRequest) (CardResult, error) {
	res, err := db.cards.do(ctx, r)
	if err != nil {
		return res, fmt.Errorf("store: card request for record %s: %w", r.RecordID, err)
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

// UpsertCustomer records an account of the connection's CRM as a customer,
// or renames it; an unchanged one is not written. Customers are per
// connection: the same account id in another CRM account is another
// customer.
func (db *DB) UpsertCustomer(ctx context.Context, workspaceID, connectionID, accountID, name string) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO customers (workspace_id, connection_id, crm_account_id, name) VALUES ($1, $2, $3, $4)
		ON CONFLICT (workspace_id, connection_id, crm_account_id) DO UPDATE SET name = EXCLUDED.name, updated_at = now()
		WHERE EXCLUDED.name <> '' AND customers.name IS DISTINCT FROM EXCLUDED.name`, workspaceID, connectionID, accountID, name)
	if err != nil {
		return fmt.Errorf("store: upsert customer %s: %w", accountID, err)
	}
	return nil
}
