package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
)

// A quote's sent revisions, frozen (migration 018): each is the exact
// canonical JSON of qwoty.Snapshot as it was sent, with its SHA-256. The
// database refuses to change or delete one.

// QuoteVersion is one frozen revision of a quote.
type QuoteVersion struct {
	QuoteID  string
	Revision int
	// JSON is the snapshot's canonical JSON, the bytes that were hashed;
	// Snapshot is it decoded.
	JSON     []byte
	Snapshot qwoty.VersionSnapshot
	// SHA256 is the hash recorded when the version was frozen; Intact
	// says whether JSON still hashes to it (checked on every read).
	SHA256   string
	Intact   bool
	Currency string
	Total    decimal.Decimal
	FrozenBy string
	FrozenAt time.Time
}

// freezeVersion freezes q's current revision in tx (q as stored, read back
// in the same transaction), unless that revision is frozen already: a
// revision is frozen once, the first time it is sent.
func freezeVersion(ctx context.Context, tx pgx.Tx, q *qwoty.Quote, by string) error {
	v := qwoty.Snapshot(q)
	body := v.JSON()
	_, err := tx.Exec(ctx, `INSERT INTO quote_versions (quote_id, revision, workspace_id, connection_id, snapshot, sha256, currency, total, frozen_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (quote_id, revision) DO NOTHING`,
		q.ID, q.Revision, q.WorkspaceID, q.ConnectionID, body, v.Hash(), q.Currency, q.Totals.Total, by)
	if err != nil {
		return fmt.Errorf("freeze revision %d: %w", q.Revision, err)
	}
	return nil
}

// writeStatusFromCRM moves quote id of scope s from status from to to, for
// a move the CRM made (a pulled stage, a conflict resolved the CRM's way;
// the caller locked the row and checked the move): with what every move
// carries, as updateQuote does for a rep's. Back to draft is a revision
// (revision + 1, validity cleared); sent sets the validity when it has
// none (the workspace's days) and freezes the revision sent.
func (db *DB) writeStatusFromCRM(ctx context.Context, tx pgx.Tx, s Scope, id string, from, to qwoty.Status, by string) error {
	now := db.now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if _, err := tx.Exec(ctx, `UPDATE quotes q SET status = $2, version = version + 1, updated_at = now(),
			revision = revision + CASE WHEN $2 = 'draft' AND q.status <> 'draft' THEN 1 ELSE 0 END,
			valid_until = CASE WHEN $2 = 'draft' AND q.status <> 'draft' THEN NULL
				WHEN $2 = 'sent' AND valid_until IS NULL THEN $3::date + (SELECT w.quote_valid_days FROM workspaces w WHERE w.id = q.workspace_id)
				ELSE valid_until END
		WHERE id = $1`, id, to, today); err != nil {
		return err
	}
	if to == qwoty.StatusAccepted && from != qwoty.StatusAccepted {
		// A deal won in the CRM accepts the quote: its order is made.
		_, err := db.generateOrder(ctx, tx, s, id, by)
		return err
	}
	if to != qwoty.StatusSent || from == qwoty.StatusSent {
		return nil
	}
	q, err := getQuote(ctx, tx, s, id, false)
	if err != nil {
		return err
	}
	return freezeVersion(ctx, tx, q, by)
}

const versionColumns = `quote_id::text, revision, snapshot, sha256, currency, total, frozen_by, frozen_at`

func scanVersion(r pgx.CollectableRow) (QuoteVersion, error) {
	var v QuoteVersion
	if err := r.Scan(&v.QuoteID, &v.Revision, &v.JSON, &v.SHA256, &v.Currency, &v.Total, &v.FrozenBy, &v.FrozenAt); err != nil {
		return v, err
	}
	sum := sha256.Sum256(v.JSON)
	v.Intact = hex.EncodeToString(sum[:]) == v.SHA256
	if err := json.Unmarshal(v.JSON, &v.Snapshot); err != nil {
		return v, fmt.Errorf("version %d of quote %s: %w", v.Revision, v.QuoteID, err)
	}
	return v, nil
}

// QuoteVersions returns the frozen revisions of quote id of the scope's
// record, oldest first.
func (db *DB) QuoteVersions(ctx context.Context, s Scope, id string) ([]QuoteVersion, error) {
	vs, err := quoteVersions(ctx, db.pool, s, id, 0)
	if err != nil {
		return nil, fmt.Errorf("store: versions of quote %s: %w", id, err)
	}
	return vs, nil
}

// APIQuoteVersions is QuoteVersions for the API: quote id of the scope's
// connection, any record. revision > 0 returns that revision only
// (not_found when it was never sent).
func (db *DB) APIQuoteVersions(ctx context.Context, s Scope, id string, revision int) ([]QuoteVersion, error) {
	s, err := recordOf(ctx, db.pool, s, id)
	if err != nil {
		return nil, fmt.Errorf("store: versions of quote %s: %w", id, err)
	}
	vs, err := quoteVersions(ctx, db.pool, s, id, revision)
	if err == nil && revision > 0 && len(vs) == 0 {
		err = &qwoty.Error{Code: qwoty.CodeNotFound, Message: fmt.Sprintf("quote %s has no sent revision %d", id, revision),
			Hint: "Only sent revisions are kept; list them (GET /api/v1/quotes/{id}/versions).", Err: qwoty.ErrNotFound}
	}
	if err != nil {
		return nil, fmt.Errorf("store: versions of quote %s: %w", id, err)
	}
	return vs, nil
}

// quoteVersions reads the versions of quote id, a live quote of scope s
// (not_found otherwise): all of them, or revision's alone.
func quoteVersions(ctx context.Context, db querier, s Scope, id string, revision int) ([]QuoteVersion, error) {
	if !validID(id) {
		return nil, notFound(id)
	}
	var live bool
	if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM quotes WHERE id = $1 AND workspace_id = $2 AND connection_id = $3
		AND crm_record_id = $4 AND deleted_at IS NULL)`, id, s.WorkspaceID, s.ConnectionID, s.RecordID).Scan(&live); err != nil {
		return nil, err
	}
	if !live {
		return nil, notFound(id)
	}
	rows, err := db.Query(ctx, `SELECT `+versionColumns+` FROM quote_versions
		WHERE quote_id = $1 AND workspace_id = $2 AND connection_id = $3 AND ($4 = 0 OR revision = $4)
		ORDER BY revision LIMIT 1000`, id, s.WorkspaceID, s.ConnectionID, revision)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanVersion)
}

// QuoteDefaults are a workspace's defaults for its quotes (migration 017):
// how many days a sent quote is valid, the rounding policy new quotes are
// priced with, and the terms new quotes start with.
type QuoteDefaults struct {
	ValidDays int
	Rounding  qwoty.Rounding
	Terms     string
}

// QuoteDefaults returns the workspace's quote defaults.
func (db *DB) QuoteDefaults(ctx context.Context, workspaceID string) (QuoteDefaults, error) {
	d, err := quoteDefaults(ctx, db.pool, workspaceID)
	if err != nil {
		return d, fmt.Errorf("store: quote defaults of %s: %w", workspaceID, err)
	}
	return d, nil
}

func quoteDefaults(ctx context.Context, db querier, workspaceID string) (QuoteDefaults, error) {
	var d QuoteDefaults
	err := db.QueryRow(ctx, `SELECT quote_valid_days, rounding, quote_terms FROM workspaces WHERE id = $1`, workspaceID).
		Scan(&d.ValidDays, &d.Rounding, &d.Terms)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, qwoty.ErrNotFound
	}
	return d, err
}

// SetQuoteDefaults stores the workspace's quote defaults, checked
// (qwoty.ParseQuoteDefaults), with an audit entry by by.
func (db *DB) SetQuoteDefaults(ctx context.Context, workspaceID, by string, d QuoteDefaults) error {
	if err := qwoty.CheckQuoteDefaults(d.ValidDays, d.Rounding, d.Terms); err != nil {
		return err
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE workspaces SET quote_valid_days = $2, rounding = $3, quote_terms = $4 WHERE id = $1`,
			workspaceID, d.ValidDays, d.Rounding, d.Terms)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return qwoty.ErrNotFound
		}
		return audit(ctx, tx, workspaceID, "", by, "workspace.quote_defaults_set",
			map[string]any{"valid_days": d.ValidDays, "rounding": d.Rounding, "terms_length": len(d.Terms)})
	})
	if err != nil {
		return fmt.Errorf("store: set quote defaults of %s: %w", workspaceID, err)
	}
	return nil
}
