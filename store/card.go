package store

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
)

// CardRequest is what the signed-callout path asks of the database once the
// signature is verified.
type CardRequest struct {
	ConnectionID string
	WorkspaceID  string
	// Nonce is claimed once, until NonceExpires; "" for a request that is
	// not single-use (HubSpot's, Pipedrive's), which writes no nonce and is
	// claimed whenever its connection serves cards.
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
	// connection is unknown or disconnected; then nothing was written.
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
	// Primary marks the record's primary quote (its total, status and
	// lines are the CRM record's).
	Primary bool
	// Sync is where the quote stands with the CRM.
	Sync qwoty.SyncView
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

// The nonce sweep walks seen_nonces' heap in ranges of nonceSweepPages
// pages, each range one short DELETE (a TID range scan), so a sweep reads
// each page once whatever the backlog, and finishes: it removes every nonce
// expired when it started, however fast the card path inserted. A batch
// "the first N expired rows" would rescan from the start each time, past the
// rows the previous batches left dead, and take quadratic time on a backlog.
// An index on expires_at would cost every callout a second index insert.
const (
	// nonceSweepPages is the range one statement covers: 8 MB, about 100,000
	// rows, a few tens of milliseconds.
	nonceSweepPages = 1024
	// nonceSweepMinPause is the least rest between two statements; the rest
	// is at least as long as the statement took, so the sweep uses at most
	// half of one backend's time and never queues the card path behind it.
	nonceSweepMinPause = 5 * time.Millisecond
	// nonceSweepLockKey is the session advisory lock that lets one instance
	// sweep at a time ("qwoty" and 1; the migrations' lock is tern's own).
	nonceSweepLockKey int64 = 0x71776f7479_0001
)

// DeleteExpiredNonces removes every nonce expired when it starts and returns
// how many it removed. It runs until done, a bounded range of the table per
// statement with a rest between them, so the table stays bounded at any
// insert rate the card path sustains. When another instance is already
// sweeping it returns 0 at once: one sweeper is enough.
func (db *DB) DeleteExpiredNonces(ctx context.Context) (deleted int64, err error) {
	c, err := db.pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: delete expired nonces: %w", err)
	}
	var locked bool
	if err := c.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, nonceSweepLockKey).Scan(&locked); err != nil || !locked {
		c.Release()
		if err != nil {
			return 0, fmt.Errorf("store: delete expired nonces: lock: %w", err)
		}
		return 0, nil
	}
	defer func() {
		// The lock belongs to the session: a connection that could not give
		// it back must not return to the pool, or no instance would sweep.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, uerr := c.Exec(uctx, `SELECT pg_advisory_unlock($1)`, nonceSweepLockKey); uerr != nil {
			_ = c.Conn().Close(uctx)
		}
		c.Release()
	}()

	cutoff := db.now()
	// Rows added to pages past this size, or into pages already swept, were
	// inserted after the sweep started: none of them has expired by cutoff.
	var pages int64
	if err := c.QueryRow(ctx, `SELECT pg_relation_size('seen_nonces') / current_setting('block_size')::bigint`).Scan(&pages); err != nil {
		return 0, fmt.Errorf("store: delete expired nonces: table size: %w", err)
	}
	for first := int64(0); first < pages; first += nonceSweepPages {
		began := time.Now()
		tag, err := c.Exec(ctx, `DELETE FROM seen_nonces WHERE ctid >= $1 AND ctid < $2 AND expires_at < $3`,
			pageTID(first), pageTID(first+nonceSweepPages), cutoff)
		if err != nil {
			return deleted, fmt.Errorf("store: delete expired nonces in pages %d-%d: %w", first, first+nonceSweepPages-1, err)
		}
		deleted += tag.RowsAffected()
		if first+nonceSweepPages >= pages {
			break
		}
		rest := max(time.Since(began), nonceSweepMinPause)
		select {
		case <-ctx.Done():
			return deleted, fmt.Errorf("store: delete expired nonces: %w", ctx.Err())
		case <-time.After(rest):
		}
	}
	return deleted, nil
}

// pageTID is the first tuple id of a heap page.
func pageTID(page int64) pgtype.TID {
	return pgtype.TID{BlockNumber: uint32(min(page, math.MaxUint32)), Valid: true}
}

// UpsertCustomer records an account of the connection's CRM as a customer,
// or renames it; an unchanged one is not written. Customers are per
// connection: the same account id in another CRM account is another
// customer.
func (db *DB) UpsertCustomer(ctx context.Context, workspaceID, connectionID, accountID, name string) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO customers (workspace_id, connection_id, crm_account_id, name) VALUES ($1, $2, $3, $4)
		ON CONFLICT (workspace_id, connection_id, crm_account_id) WHERE crm_account_id <> '' DO UPDATE SET name = EXCLUDED.name, updated_at = now()
		WHERE EXCLUDED.name <> '' AND customers.name IS DISTINCT FROM EXCLUDED.name`, workspaceID, connectionID, accountID, name)
	if err != nil {
		return fmt.Errorf("store: upsert customer %s: %w", accountID, err)
	}
	return nil
}
