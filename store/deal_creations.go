package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
)

// Deals created from Qwoty (deal_creations, migration 026, docs/deals.md):
// a quote made outside a CRM record has crm_record_id ''. The transaction
// that brings it to its connection's deal status inserts its row and its
// job (queueDeals); the job (crmsync) claims the row for a lease, finds or
// makes the customer's account, then the deal, marking the row before each
// create so that a retry after a lost answer looks for what an earlier run
// made before it makes it again; RecordDeal then moves the quote onto the
// deal, in one transaction with the row's end.

// Deal creation states.
const (
	DealPending = "pending"
	DealAccount = "account"
	DealDeal    = "deal"
	DealDone    = WriteDone
	DealFailed  = WriteFailed
)

// How a deal's account was found (deal_creations.account_action).
const (
	AccountLinked  = "linked"  // the customer's link
	AccountMatched = "matched" // by name or domain
)

// DealCreation is where the making of one quote's deal stands.
type DealCreation struct {
	QuoteID      string
	WorkspaceID  string
	ConnectionID string
	State        string
	// CRMAccountID is the account the deal goes on, once known, and
	// AccountAction how it was found (linked, matched, created, adopted).
	CRMAccountID  string
	AccountAction string
	CRMRecordID   string
	Attempts      int
	Code          qwoty.Code
	Error         string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	DoneAt        time.Time
}

// SetDealMaking says which CRMs take deals made by Qwoty (their adapter is
// a crm.DealMaker): a quote without a record on another's connection
// queues nothing. The sync engine sets it from its registry.
func (db *DB) SetDealMaking(makes func(qwoty.Provider) bool) { db.dealMakers.Store(&makes) }

func (db *DB) dealMaking(p qwoty.Provider) bool {
	f := db.dealMakers.Load()
	return f != nil && *f != nil && (*f)(p)
}

// queueDeals records, in tx, that quotes quoteIDs of scope s, which has no
// CRM record, changed: each live one at or past its connection's deal
// status, whose CRM makes deals, gets its deal_creations row and job, once
// per quote (a failed row stays failed until an admin retries it).
func (db *DB) queueDeals(ctx context.Context, tx pgx.Tx, s Scope, quoteIDs ...string) error {
	var provider qwoty.Provider
	var status qwoty.DealStatus
	err := tx.QueryRow(ctx, `SELECT c.provider, coalesce((SELECT deal_status FROM sync_settings WHERE connection_id = c.id), $3)
		FROM connections c WHERE c.id = $1 AND c.workspace_id = $2`,
		s.ConnectionID, s.WorkspaceID, string(qwoty.DefaultDealStatus)).Scan(&provider, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deal: %w", err)
	}
	if status == qwoty.DealNever || !db.dealMaking(provider) {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT id::text, status FROM quotes
		WHERE id = ANY($1::uuid[]) AND connection_id = $2 AND crm_record_id = '' AND deleted_at IS NULL`, quoteIDs, s.ConnectionID)
	if err != nil {
		return fmt.Errorf("deal: %w", err)
	}
	type quoteStatus struct {
		id     string
		status qwoty.Status
	}
	quotes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (quoteStatus, error) {
		var q quoteStatus
		return q, r.Scan(&q.id, &q.status)
	})
	if err != nil {
		return fmt.Errorf("deal: %w", err)
	}
	for _, q := range quotes {
		if !status.Due(q.status) {
			continue
		}
		tag, err := tx.Exec(ctx, `INSERT INTO deal_creations (quote_id, workspace_id, connection_id)
			VALUES ($1, $2, $3) ON CONFLICT (quote_id) DO NOTHING`, q.id, s.WorkspaceID, s.ConnectionID)
		if err != nil {
			return fmt.Errorf("deal: %w", err)
		}
		if tag.RowsAffected() == 0 {
			continue // queued (or made) by an earlier change
		}
		if _, err := db.jobs.InsertTx(ctx, tx, jobs.DealCreate{ConnectionID: s.ConnectionID, QuoteID: q.id}, nil); err != nil {
			return fmt.Errorf("insert deal job: %w", err)
		}
	}
	return nil
}

const dealCreationColumns = `quote_id::text, workspace_id::text, connection_id::text, state, crm_account_id, account_action, crm_record_id,
	attempts, last_error_code, last_error, created_at, updated_at, coalesce(done_at, 'epoch')`

func scanDealCreation(row pgx.Row) (*DealCreation, error) {
	d := &DealCreation{}
	var code string
	err := row.Scan(&d.QuoteID, &d.WorkspaceID, &d.ConnectionID, &d.State, &d.CRMAccountID, &d.AccountAction, &d.CRMRecordID,
		&d.Attempts, &code, &d.Error, &d.CreatedAt, &d.UpdatedAt, &d.DoneAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, qwoty.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: deal creation: %w", err)
	}
	d.Code = qwoty.Code(code)
	if d.DoneAt.Unix() == 0 {
		d.DoneAt = time.Time{}
	}
	return d, nil
}

// DealCreationOf returns where the deal of quote quoteID of connection
// connectionID stands (qwoty.ErrNotFound when it was never queued).
func (db *DB) DealCreationOf(ctx context.Context, connectionID, quoteID string) (*DealCreation, error) {
	if !validID(quoteID) || !validID(connectionID) {
		return nil, qwoty.ErrNotFound
	}
	return scanDealCreation(db.pool.QueryRow(ctx, `SELECT `+dealCreationColumns+` FROM deal_creations
		WHERE connection_id = $1 AND quote_id = $2`, connectionID, quoteID))
}

// ClaimDealCreation leases d to one run for lease: true when this run
// holds it; false, with when the holder's lease ends, when another run
// does. It fails with qwoty.ErrNotFound when d is done or failed.
func (db *DB) ClaimDealCreation(ctx context.Context, d *DealCreation, lease time.Duration) (bool, time.Time, error) {
	var until *time.Time
	var mine bool
	err := db.pool.QueryRow(ctx, `WITH claimed AS (
			UPDATE deal_creations SET lease_until = now() + $3 * interval '1 millisecond'
			WHERE quote_id = $1 AND connection_id = $2 AND state IN ('pending', 'account', 'deal')
				AND (lease_until IS NULL OR lease_until < now())
			RETURNING lease_until)
		SELECT coalesce((SELECT lease_until FROM claimed), (SELECT lease_until FROM deal_creations
			WHERE quote_id = $1 AND connection_id = $2 AND state IN ('pending', 'account', 'deal'))),
			EXISTS (SELECT 1 FROM claimed)`,
		d.QuoteID, d.ConnectionID, lease.Milliseconds()).Scan(&until, &mine)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("store: claim deal creation: %w", err)
	}
	if until == nil {
		return false, time.Time{}, qwoty.ErrNotFound
	}
	return mine, *until, nil
}

// StartDealStep marks d about to create its account (state DealAccount)
// or its deal (DealDeal, with the account it goes on and how it was
// found: kept on the row, so that a retry does not look again). It is
// written, and committed, before the call. It fails with
// qwoty.ErrNotFound when d is done or failed.
func (db *DB) StartDealStep(ctx context.Context, d *DealCreation, state, accountID, accountAction string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE deal_creations SET state = $3,
			crm_account_id = CASE WHEN $4 = '' THEN crm_account_id ELSE $4 END,
			account_action = CASE WHEN $5 = '' THEN account_action ELSE $5 END, updated_at = now()
		WHERE quote_id = $1 AND connection_id = $2 AND state IN ('pending', 'account', 'deal')`,
		d.QuoteID, d.ConnectionID, state, accountID, accountAction)
	if err != nil {
		return fmt.Errorf("store: start deal step: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return qwoty.ErrNotFound
	}
	d.State = state
	if accountID != "" {
		d.CRMAccountID = accountID
	}
	if accountAction != "" {
		d.AccountAction = accountAction
	}
	return nil
}

// RecordDeal writes what became of a run of d (its CRMID the deal made),
// releases its lease, and writes its row in the sync log. When the deal
// was made, in the same transaction: the quote moves onto it (and is its
// primary quote), the customer takes the account as its link (or, when
// another customer has that link already, the quote moves to that
// customer), an order the quote generated meanwhile follows it to the
// record (and goes to the CRM when orders do), the quote is bound for the
// CRM as a quote of a record is, and quote.updated is emitted.
func (db *DB) RecordDeal(ctx context.Context, d *DealCreation, r WriteResult) error {
	attempts := r.attempts(d.Attempts)
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var record, customerID string
		err := tx.QueryRow(ctx, `SELECT crm_record_id, coalesce(customer_id::text, '') FROM quotes
			WHERE id = $1 AND connection_id = $2 FOR UPDATE`, d.QuoteID, d.ConnectionID).Scan(&record, &customerID)
		if errors.Is(err, pgx.ErrNoRows) {
			return qwoty.ErrNotFound
		}
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE deal_creations SET state = $3, crm_record_id = CASE WHEN $4 = '' THEN crm_record_id ELSE $4 END,
				attempts = $5, last_error_code = $6, last_error = $7, lease_until = NULL, updated_at = now(),
				done_at = CASE WHEN $3 IN ('done', 'failed') THEN now() END
			WHERE quote_id = $1 AND connection_id = $2 AND state IN ('pending', 'account', 'deal')`,
			d.QuoteID, d.ConnectionID, r.State, r.CRMID, attempts, string(r.Code), r.Message)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return qwoty.ErrNotFound
		}
		run := writeRun{WorkspaceID: d.WorkspaceID, ConnectionID: d.ConnectionID, RecordID: r.CRMID, QuoteID: d.QuoteID,
			Object: crm.NewDealObject, WriteResult: r}
		if r.State == DealDone {
			// The log row is about the new deal; what it left is the
			// account it found or made, and the deal.
			if d.CRMAccountID != "" {
				run.Written = append(run.Written, crm.Written{Object: crm.AccountObject, ID: d.CRMAccountID, Action: d.AccountAction})
			}
			run.Written = append(run.Written, crm.Written{Object: crm.DealObject, ID: r.CRMID, Action: r.Action})
		}
		if err := db.logWrite(ctx, tx, run); err != nil {
			return err
		}
		if r.State != DealDone || record != "" {
			return nil
		}
		return db.moveOntoDeal(ctx, tx, d, customerID, r.CRMID)
	})
	if err != nil {
		return fmt.Errorf("store: record deal: %w", err)
	}
	d.Attempts, d.State = attempts, r.State
	if r.CRMID != "" {
		d.CRMRecordID = r.CRMID
	}
	return nil
}

// moveOntoDeal makes, in tx, quote d.QuoteID (locked, without record) a
// quote of the deal just made.
func (db *DB) moveOntoDeal(ctx context.Context, tx pgx.Tx, d *DealCreation, customerID, dealID string) error {
	s := Scope{WorkspaceID: d.WorkspaceID, ConnectionID: d.ConnectionID, RecordID: dealID}
	if _, err := tx.Exec(ctx, `UPDATE quotes SET crm_record_id = $3, updated_at = now(),
			is_primary = NOT EXISTS (SELECT 1 FROM quotes o WHERE o.workspace_id = $4 AND o.connection_id = $2
				AND o.crm_record_id = $3 AND o.is_primary AND o.deleted_at IS NULL)
		WHERE id = $1 AND connection_id = $2 AND crm_record_id = ''`, d.QuoteID, d.ConnectionID, dealID, d.WorkspaceID); err != nil {
		return err
	}
	if customerID != "" && d.CRMAccountID != "" {
		var other string
		err := tx.QueryRow(ctx, `SELECT id::text FROM customers WHERE workspace_id = $1 AND connection_id = $2 AND crm_account_id = $3 AND id <> $4`,
			d.WorkspaceID, d.ConnectionID, d.CRMAccountID, customerID).Scan(&other)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if _, err := tx.Exec(ctx, `UPDATE customers SET crm_account_id = $3, updated_at = now()
				WHERE id = $1 AND connection_id = $2 AND crm_account_id = ''`, customerID, d.ConnectionID, d.CRMAccountID); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			// The account is another customer's link already (pulled
			// from the CRM, or matched for an earlier quote): the quote
			// is that customer's from now on.
			if _, err := tx.Exec(ctx, `UPDATE quotes SET customer_id = $3 WHERE id = $1 AND connection_id = $2`,
				d.QuoteID, d.ConnectionID, other); err != nil {
				return err
			}
		}
	}
	// An order generated while the quote had no record goes where it is.
	rows, err := tx.Query(ctx, `UPDATE orders SET crm_record_id = $3 WHERE quote_id = $1 AND connection_id = $2 AND crm_record_id = ''
		RETURNING id::text`, d.QuoteID, d.ConnectionID, dealID)
	if err != nil {
		return err
	}
	orderIDs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, id := range orderIDs {
		o, err := connectionOrder(ctx, tx, d.WorkspaceID, d.ConnectionID, id, false)
		if err != nil {
			return err
		}
		if err := db.queueOrderPush(ctx, tx, o); err != nil {
			return err
		}
	}
	q, err := getQuoteHeader(ctx, tx, s, d.QuoteID, false)
	if err != nil {
		return err
	}
	if q.Status != qwoty.StatusDraft {
		// The revision the customer was sent while the quote had no
		// record is filed on its deal now (a draft's earlier revisions
		// are not: the next send files the next).
		if err := db.queueArchive(ctx, tx, s, q); err != nil {
			return err
		}
	}
	if err := audit(ctx, tx, d.WorkspaceID, d.ConnectionID, "sync", "quote.deal_created", map[string]any{
		"quote": q.Number, "record": dealID, "account": d.CRMAccountID, "accountAction": d.AccountAction}); err != nil {
		return err
	}
	if err := db.emitEvent(ctx, tx, quoteEvent(qwoty.EventQuoteUpdated, q)); err != nil {
		return err
	}
	return db.captureSync(ctx, tx, s, qwoty.TriggerCreated, d.QuoteID)
}

// RetryDeal moves quote quoteID's failed deal creation back to pending,
// with a job (the console's Retry). It reports whether there was one.
func (db *DB) RetryDeal(ctx context.Context, workspaceID, quoteID, by string) (bool, error) {
	if !validID(quoteID) {
		return false, nil
	}
	var done bool
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var connectionID string
		err := tx.QueryRow(ctx, `UPDATE deal_creations SET state = CASE WHEN crm_account_id = '' THEN 'account' ELSE 'deal' END,
				attempts = 0, last_error_code = '', last_error = '', done_at = NULL, updated_at = now()
			WHERE quote_id = $1 AND workspace_id = $2 AND state = 'failed' RETURNING connection_id::text`,
			quoteID, workspaceID).Scan(&connectionID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		done = true
		if err := audit(ctx, tx, workspaceID, connectionID, by, "deal.retried", map[string]any{"quote": quoteID}); err != nil {
			return err
		}
		_, err = db.jobs.InsertTx(ctx, tx, jobs.DealCreate{ConnectionID: connectionID, QuoteID: quoteID}, nil)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: retry deal: %w", err)
	}
	return done, nil
}

// FailedDeals lists connection connectionID's quotes whose deal could not
// be made in the last day, newest first (at most limit), as the alert
// lists them: no record yet, and a message naming the quote.
func (db *DB) FailedDeals(ctx context.Context, connectionID string, limit int) ([]FailedRecord, error) {
	rows, err := db.pool.Query(ctx, `SELECT d.crm_record_id, d.last_error_code,
			'the CRM deal of quote ' || q.number || ' was not made: ' || d.last_error, d.updated_at
		FROM deal_creations d JOIN quotes q ON q.id = d.quote_id
		WHERE d.connection_id = $1 AND d.state = 'failed' AND d.updated_at > now() - interval '1 day'
		ORDER BY d.updated_at DESC LIMIT $2`, connectionID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: failed deals: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FailedRecord, error) {
		var f FailedRecord
		return f, r.Scan(&f.RecordID, &f.Code, &f.Message, &f.At)
	})
	if err != nil {
		return nil, fmt.Errorf("store: failed deals: %w", err)
	}
	return out, nil
}

// DealStatesOf returns where the deal of each of quoteIDs (quotes of
// workspace workspaceID) stands, by quote id: what the API's and the
// console's quotes without a record show. A quote whose deal was never
// queued (not at its deal status yet) has no entry.
func (db *DB) DealStatesOf(ctx context.Context, workspaceID string, quoteIDs []string) (map[string]*DealCreation, error) {
	out := map[string]*DealCreation{}
	ids := make([]string, 0, len(quoteIDs))
	for _, id := range quoteIDs {
		if validID(id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 || !validID(workspaceID) {
		return out, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT `+dealCreationColumns+` FROM deal_creations
		WHERE workspace_id = $1 AND quote_id = ANY($2::uuid[])`, workspaceID, ids)
	if err != nil {
		return nil, fmt.Errorf("store: deal states: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		d, err := scanDealCreation(rows)
		if err != nil {
			return nil, err
		}
		out[d.QuoteID] = d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: deal states: %w", err)
	}
	return out, nil
}
