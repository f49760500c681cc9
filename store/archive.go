package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
)

// The archive of sent versions (quote_archives, migration 021): each
// version of a quote that is sent has its PDF filed on its CRM record once.
// The row is made, with its job, in the transaction of the move to sent;
// the job (crmsync) marks it uploading before it sends the file and done
// after, so that a retry after a lost answer looks for the file before it
// sends it again.

// Archive states.
const (
	ArchivePending   = "pending"
	ArchiveUploading = "uploading"
	ArchiveDone      = WriteDone
	ArchiveFailed    = WriteFailed
)

// Archive is one version's filing on the CRM record.
type Archive struct {
	ID           string
	WorkspaceID  string
	ConnectionID string
	QuoteID      string
	Revision     int
	RecordID     string
	State        string
	FileName     string
	CRMFileID    string
	Attempts     int
	Code         qwoty.Code
	Error        string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	DoneAt       time.Time
}

// SetArchiving says which CRMs file PDFs (their adapter is a
// crm.Archiver): a quote sent on another's connection queues nothing. The
// sync engine sets it from its registry; unset, every CRM is taken to.
func (db *DB) SetArchiving(files func(qwoty.Provider) bool) { db.archives.Store(&files) }

func (db *DB) archiving(p qwoty.Provider) bool {
	f := db.archives.Load()
	return f == nil || *f == nil || (*f)(p)
}

// queueArchive records, in tx, that revision q.Revision of q was just sent:
// when q is on a CRM record, its connection's CRM files PDFs and its sync
// settings keep the archive trigger on (the default), a quote_archives row
// and its job are inserted, once per (quote, revision) whatever calls this
// again.
//
// The PDF is rendered by the job from the quote as stored; once sent
// versions are frozen (quote_versions), the job renders the frozen one.
func (db *DB) queueArchive(ctx context.Context, tx pgx.Tx, s Scope, q *qwoty.Quote) error {
	if q.CRMRecordID == "" {
		return nil
	}
	var provider qwoty.Provider
	var on bool
	err := tx.QueryRow(ctx, `SELECT c.provider, NOT EXISTS (SELECT 1 FROM sync_settings ss
			WHERE ss.connection_id = c.id AND NOT $3 = ANY(ss.triggers))
		FROM connections c WHERE c.id = $1 AND c.workspace_id = $2`,
		s.ConnectionID, s.WorkspaceID, qwoty.TriggerArchive).Scan(&provider, &on)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	if !on || !db.archiving(provider) {
		return nil
	}
	tag, err := tx.Exec(ctx, `INSERT INTO quote_archives (workspace_id, connection_id, quote_id, revision, crm_record_id)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (quote_id, revision) DO NOTHING`,
		s.WorkspaceID, s.ConnectionID, q.ID, q.Revision, q.CRMRecordID)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil // this version was queued before (sent, reopened, sent again)
	}
	if _, err := db.jobs.InsertTx(ctx, tx, jobs.QuoteArchive{ConnectionID: s.ConnectionID, QuoteID: q.ID, Revision: q.Revision}, nil); err != nil {
		return fmt.Errorf("insert archive job: %w", err)
	}
	return nil
}

const archiveColumns = `id::text, workspace_id::text, connection_id::text, quote_id::text, revision, crm_record_id, state, file_name,
	crm_file_id, attempts, last_error_code, last_error, created_at, updated_at, coalesce(done_at, 'epoch')`

func scanArchive(row pgx.Row) (*Archive, error) {
	a := &Archive{}
	var code string
	err := row.Scan(&a.ID, &a.WorkspaceID, &a.ConnectionID, &a.QuoteID, &a.Revision, &a.RecordID, &a.State, &a.FileName,
		&a.CRMFileID, &a.Attempts, &code, &a.Error, &a.CreatedAt, &a.UpdatedAt, &a.DoneAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, qwoty.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: archive: %w", err)
	}
	a.Code = qwoty.Code(code)
	if a.DoneAt.Unix() == 0 {
		a.DoneAt = time.Time{}
	}
	return a, nil
}

// ArchiveOf returns connection connectionID's filing of revision rev of
// quote quoteID (qwoty.ErrNotFound when none was queued).
func (db *DB) ArchiveOf(ctx context.Context, connectionID, quoteID string, rev int) (*Archive, error) {
	return scanArchive(db.pool.QueryRow(ctx, `SELECT `+archiveColumns+` FROM quote_archives
		WHERE connection_id = $1 AND quote_id = $2 AND revision = $3`, connectionID, quoteID, rev))
}

// QuoteArchives lists the filings of quote quoteID's versions in scope s,
// oldest version first.
func (db *DB) QuoteArchives(ctx context.Context, s Scope, quoteID string) ([]Archive, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+archiveColumns+` FROM quote_archives
		WHERE workspace_id = $1 AND connection_id = $2 AND quote_id = $3 ORDER BY revision`, s.WorkspaceID, s.ConnectionID, quoteID)
	if err != nil {
		return nil, fmt.Errorf("store: archives: %w", err)
	}
	defer rows.Close()
	var out []Archive
	for rows.Next() {
		a, err := scanArchive(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

// StartArchive marks the filing a about to send its file, named name. It
// is written, and committed, before the upload: a retry that finds the
// row uploading looks for the file on the record first. It fails with
// qwoty.ErrNotFound when a is no longer pending or uploading.
func (db *DB) StartArchive(ctx context.Context, a *Archive, name string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE quote_archives SET state = 'uploading', file_name = $3, updated_at = now()
		WHERE id = $1 AND connection_id = $2 AND state IN ('pending', 'uploading')`, a.ID, a.ConnectionID, name)
	if err != nil {
		return fmt.Errorf("store: start archive: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return qwoty.ErrNotFound
	}
	a.State, a.FileName = ArchiveUploading, name
	return nil
}

// RecordArchive writes what became of a run of filing a (its CRMID the
// file's), and its row in the sync log (object crmObject, on the quote's
// record): the file's id and action when done, the CRM's words when
// failed or retried.
func (db *DB) RecordArchive(ctx context.Context, a *Archive, crmObject string, r WriteResult) error {
	attempts := r.attempts(a.Attempts)
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE quote_archives SET state = $3, crm_file_id = CASE WHEN $4 = '' THEN crm_file_id ELSE $4 END,
				attempts = $5, last_error_code = $6, last_error = $7, updated_at = now(),
				done_at = CASE WHEN $3 IN ('done', 'failed') THEN now() END
			WHERE id = $1 AND connection_id = $2 AND state IN ('pending', 'uploading')`,
			a.ID, a.ConnectionID, r.State, r.CRMID, attempts, string(r.Code), r.Message)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return qwoty.ErrNotFound
		}
		return db.logWrite(ctx, tx, writeRun{WorkspaceID: a.WorkspaceID, ConnectionID: a.ConnectionID, RecordID: a.RecordID,
			QuoteID: a.QuoteID, Object: crmObject, WriteResult: r})
	})
	if err != nil {
		return fmt.Errorf("store: record archive: %w", err)
	}
	a.Attempts, a.State = attempts, r.State
	if r.CRMID != "" {
		a.CRMFileID = r.CRMID
	}
	return nil
}

// WorkspaceName returns workspace id's name (what its documents are
// headed with).
func (db *DB) WorkspaceName(ctx context.Context, id string) (string, error) {
	var name string
	err := db.pool.QueryRow(ctx, `SELECT name FROM workspaces WHERE id = $1`, id).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", qwoty.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: workspace: %w", err)
	}
	return name, nil
}

// FailedArchives lists connection connectionID's filings that failed for
// good in the last day, newest first (at most limit), as the alert lists
// them: their record, and a message naming the file.
func (db *DB) FailedArchives(ctx context.Context, connectionID string, limit int) ([]FailedRecord, error) {
	rows, err := db.pool.Query(ctx, `SELECT crm_record_id, last_error_code, 'the PDF ' || file_name || ' was not filed: ' || last_error, updated_at
		FROM quote_archives WHERE connection_id = $1 AND state = 'failed' AND updated_at > now() - interval '1 day'
		ORDER BY updated_at DESC LIMIT $2`, connectionID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: failed archives: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FailedRecord, error) {
		var f FailedRecord
		return f, r.Scan(&f.RecordID, &f.Code, &f.Message, &f.At)
	})
	if err != nil {
		return nil, fmt.Errorf("store: failed archives: %w", err)
	}
	return out, nil
}
