package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
)

// Sync runs (sync_runs): a back-fill, which pushes a connection's quotes
// made before sync (or never pushed) in the background with its progress,
// and a "Sync now", which polls the CRM and makes every pending record due.

// Run kinds and statuses.
const (
	RunBackfill = "backfill"
	RunSyncNow  = "sync_now"

	RunRunning    = "running"
	RunCancelling = "cancelling"
	RunCancelled  = "cancelled"
	RunDone       = "done"
	RunFailed     = "failed"
)

// SyncRun is a run and its progress, in quotes.
type SyncRun struct {
	ID, ConnectionID, WorkspaceID string
	Kind, Status                  string
	// Total is the quotes to sync (counted at the start, then the walk's
	// own count once it has seen every quote); Done were pushed; Failed
	// failed for good.
	Total, Done, Failed int
	// Walked is set once every quote is in the outbox.
	Walked bool
	// RatePerSec is the observed rate (quotes a second, smoothed); ETA the
	// estimated end (zero while unknown).
	RatePerSec float64
	ETA        time.Time
	Error      string
	CreatedBy  string
	StartedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt time.Time
}

// Active reports whether the run is still under way.
func (r *SyncRun) Active() bool { return r.Status == RunRunning || r.Status == RunCancelling }

// Percent is the run's progress, 0 to 100.
func (r *SyncRun) Percent() int {
	if r.Total <= 0 {
		if r.Status == RunDone {
			return 100
		}
		return 0
	}
	return min(100, (r.Done+r.Failed)*100/r.Total)
}

const runColumns = `id::text, connection_id::text, workspace_id::text, kind, status, total, done, failed, walked,
	rate_per_s, coalesce(eta_at, 'epoch'), error, created_by, started_at, updated_at, coalesce(finished_at, 'epoch')`

func scanRun(r pgx.Row) (*SyncRun, error) {
	var s SyncRun
	err := r.Scan(&s.ID, &s.ConnectionID, &s.WorkspaceID, &s.Kind, &s.Status, &s.Total, &s.Done, &s.Failed, &s.Walked,
		&s.RatePerSec, &s.ETA, &s.Error, &s.CreatedBy, &s.StartedAt, &s.UpdatedAt, &s.FinishedAt)
	if err != nil {
		return nil, err
	}
	if s.ETA.Unix() == 0 {
		s.ETA = time.Time{}
	}
	if s.FinishedAt.Unix() == 0 {
		s.FinishedAt = time.Time{}
	}
	return &s, nil
}

// backfillWhere picks, with $1 the connection and $2 the workspace, the live
// quotes a back-fill pushes: never captured into the outbox (made before
// sync, or while their trigger was off), or whose record has no outbox row.
const backfillWhere = `q.connection_id = $1 AND q.workspace_id = $2 AND q.deleted_at IS NULL
	AND (q.sync_seq = 0 OR NOT EXISTS (SELECT 1 FROM sync_records sr
		WHERE sr.connection_id = q.connection_id AND sr.crm_record_id = q.crm_record_id))`

// BackfillCount counts the quotes of a connection of the workspace that a
// back-fill would push now.
func (db *DB) BackfillCount(ctx context.Context, workspaceID, connectionID string) (int, error) {
	if !validID(connectionID) {
		return 0, fmt.Errorf("store: back-fill count: %w", qwoty.ErrNotFound)
	}
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM quotes q WHERE `+backfillWhere, connectionID, workspaceID).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: back-fill count: %w", err)
	}
	return n, nil
}

// errRunActive is a second back-fill of a connection while one runs.
var errRunActive = &qwoty.Error{Code: qwoty.CodeValidation, Message: "a back-fill of this connection is already running",
	Hint: "Watch its progress on Integrations, or cancel it before starting another."}

// StartBackfill starts a back-fill of a connection of the workspace, by an
// admin: the run (at most one running per connection) and its job, in one
// transaction, audited.
func (db *DB) StartBackfill(ctx context.Context, workspaceID, connectionID, by string) (*SyncRun, error) {
	if !validID(connectionID) {
		return nil, fmt.Errorf("store: start back-fill: %w", qwoty.ErrNotFound)
	}
	var run *SyncRun
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM connections WHERE id = $1 AND workspace_id = $2 AND status <> 'disconnected')`,
			connectionID, workspaceID).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return qwoty.ErrNotFound
		}
		var err error
		run, err = scanRun(tx.QueryRow(ctx, `INSERT INTO sync_runs (connection_id, workspace_id, kind, total, created_by)
			VALUES ($1, $2, 'backfill', (SELECT count(*) FROM quotes q WHERE `+backfillWhere+`), $3)
			RETURNING `+runColumns, connectionID, workspaceID, by))
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "sync_runs_one_backfill" {
			return errRunActive
		}
		if err != nil {
			return err
		}
		if err := audit(ctx, tx, workspaceID, connectionID, by, "sync.backfill_started", map[string]any{"run": run.ID, "quotes": run.Total}); err != nil {
			return err
		}
		if _, err := db.jobs.InsertTx(ctx, tx, jobs.SyncBackfill{RunID: run.ID, ConnectionID: connectionID}, nil); err != nil {
			return fmt.Errorf("insert back-fill job: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: start back-fill: %w", err)
	}
	return run, nil
}

// SyncNow is an admin's "Sync now" for a connection of the workspace: a
// poll of the CRM is queued, every pending record of the connection is
// due now, and a push job is queued, recorded as a run of kind sync_now
// (done at once: its total is the records made due).
func (db *DB) SyncNow(ctx context.Context, workspaceID, connectionID, by string) (*SyncRun, error) {
	if !validID(connectionID) {
		return nil, fmt.Errorf("store: sync now: %w", qwoty.ErrNotFound)
	}
	var run *SyncRun
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM connections WHERE id = $1 AND workspace_id = $2 AND status <> 'disconnected')`,
			connectionID, workspaceID).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return qwoty.ErrNotFound
		}
		tag, err := tx.Exec(ctx, `UPDATE sync_records SET due_at = now()
			WHERE workspace_id = $1 AND connection_id = $2 AND state = 'pending' AND due_at > now()`, workspaceID, connectionID)
		if err != nil {
			return err
		}
		var waiting int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM sync_records WHERE workspace_id = $1 AND connection_id = $2 AND state IN ('pending', 'in_flight')`,
			workspaceID, connectionID).Scan(&waiting); err != nil {
			return err
		}
		run, err = scanRun(tx.QueryRow(ctx, `INSERT INTO sync_runs (connection_id, workspace_id, kind, status, total, created_by, finished_at)
			VALUES ($1, $2, 'sync_now', 'done', $3, $4, now()) RETURNING `+runColumns, connectionID, workspaceID, waiting, by))
		if err != nil {
			return err
		}
		if err := audit(ctx, tx, workspaceID, connectionID, by, "sync.sync_now", map[string]any{"run": run.ID, "made_due": tag.RowsAffected(), "waiting": waiting}); err != nil {
			return err
		}
		if _, err := db.jobs.InsertTx(ctx, tx, jobs.SyncPull{ConnectionID: connectionID}, nil); err != nil {
			return fmt.Errorf("insert pull job: %w", err)
		}
		if waiting > 0 {
			return db.insertPush(ctx, tx, connectionID, true, time.Time{})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: sync now: %w", err)
	}
	return run, nil
}

// SyncRunOf returns a run of a connection of the workspace.
func (db *DB) SyncRunOf(ctx context.Context, workspaceID, connectionID, id string) (*SyncRun, error) {
	if !validID(id) || !validID(connectionID) {
		return nil, fmt.Errorf("store: sync run: %w", qwoty.ErrNotFound)
	}
	run, err := scanRun(db.pool.QueryRow(ctx, `SELECT `+runColumns+` FROM sync_runs WHERE id = $1 AND workspace_id = $2 AND connection_id = $3`,
		id, workspaceID, connectionID))
	if errors.Is(err, pgx.ErrNoRows) {
		err = qwoty.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: sync run: %w", err)
	}
	return run, nil
}

// LatestSyncRun returns the connection's latest run of kind (nil when it
// has none).
func (db *DB) LatestSyncRun(ctx context.Context, workspaceID, connectionID, kind string) (*SyncRun, error) {
	if !validID(connectionID) {
		return nil, nil
	}
	run, err := scanRun(db.pool.QueryRow(ctx, `SELECT `+runColumns+` FROM sync_runs WHERE workspace_id = $1 AND connection_id = $2 AND kind = $3
		ORDER BY started_at DESC, id LIMIT 1`, workspaceID, connectionID, kind))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: latest sync run: %w", err)
	}
	return run, nil
}

// CancelSyncRun asks a running back-fill of a connection of the workspace
// to stop (its job does, and removes what it queued that was not pushed).
func (db *DB) CancelSyncRun(ctx context.Context, workspaceID, connectionID, id, by string) (*SyncRun, error) {
	if !validID(id) || !validID(connectionID) {
		return nil, fmt.Errorf("store: cancel sync run: %w", qwoty.ErrNotFound)
	}
	var run *SyncRun
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		run, err = scanRun(tx.QueryRow(ctx, `UPDATE sync_runs SET status = CASE WHEN status = 'running' THEN 'cancelling' ELSE status END, updated_at = now()
			WHERE id = $1 AND workspace_id = $2 AND connection_id = $3 AND kind = 'backfill' RETURNING `+runColumns, id, workspaceID, connectionID))
		if errors.Is(err, pgx.ErrNoRows) {
			return qwoty.ErrNotFound
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, workspaceID, connectionID, by, "sync.backfill_cancelled", map[string]any{"run": id})
	})
	if err != nil {
		return nil, fmt.Errorf("store: cancel sync run: %w", err)
	}
	return run, nil
}

// runByID is a run, whatever its workspace (the engine's view).
func (db *DB) runByID(ctx context.Context, q pgx.Row) (*SyncRun, error) {
	run, err := scanRun(q)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, qwoty.ErrNotFound
	}
	return run, err
}

// SyncRunByID returns a run for its job.
func (db *DB) SyncRunByID(ctx context.Context, id string) (*SyncRun, error) {
	if !validID(id) {
		return nil, fmt.Errorf("store: sync run: %w", qwoty.ErrNotFound)
	}
	run, err := db.runByID(ctx, db.pool.QueryRow(ctx, `SELECT `+runColumns+` FROM sync_runs WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: sync run: %w", err)
	}
	return run, nil
}

// CaptureBackfill captures the run's next chunk of at most limit quotes,
// walked by keyset (created_at, id) from the run's cursor, into the outbox
// in one transaction with the cursor's move, so that a job that stops
// anywhere resumes where the last chunk ended. Each record gets a new
// version marked with the run (back-fill priority: leased after real-time
// rows) carrying the number of the run's quotes it holds. A record already
// waiting for a real-time push keeps its row (its quotes go out with it,
// outside the run's count); a record the run captured in an earlier chunk
// counts the chunk's quotes too. It returns the quotes the chunk walked;
// fewer than limit means the walk is over (the run is marked walked and
// its total becomes what it captured).
func (db *DB) CaptureBackfill(ctx context.Context, runID string, limit int) (int, error) {
	var walked int
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var conn, ws, status string
		var curAt *time.Time
		var curID *string
		if err := tx.QueryRow(ctx, `SELECT connection_id::text, workspace_id::text, status, cursor_at, cursor_id::text FROM sync_runs
			WHERE id = $1 AND kind = 'backfill' FOR UPDATE`, runID).Scan(&conn, &ws, &status, &curAt, &curID); err != nil {
			return err
		}
		if status != RunRunning {
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT q.id::text, q.crm_record_id, q.created_at FROM quotes q WHERE `+backfillWhere+`
			AND ($3::timestamptz IS NULL OR (q.created_at, q.id) > ($3, $4::uuid))
			ORDER BY q.created_at, q.id LIMIT $5`, conn, ws, curAt, curID, limit)
		if err != nil {
			return err
		}
		var ids []string
		perRecord := map[string]int{}
		var order []string
		var lastAt time.Time
		for rows.Next() {
			var id, rec string
			if err := rows.Scan(&id, &rec, &lastAt); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
			if perRecord[rec] == 0 {
				order = append(order, rec)
			}
			perRecord[rec]++
		}
		if err := rows.Err(); err != nil {
			return err
		}
		walked = len(ids)
		if walked > 0 {
			counts := make([]int32, len(order))
			for i, r := range order {
				counts[i] = int32(perRecord[r])
			}
			// A record's row: new (the run's), the run's already (its
			// count grows), or synced/failed outside the run (a new
			// version, the run's). A pending or in-flight row of a
			// real-time change is left alone (WHERE of the update).
			if _, err := tx.Exec(ctx, `
				INSERT INTO sync_records AS r (connection_id, crm_record_id, workspace_id, desired_seq, due_at, run_id, run_seq, run_quotes)
				SELECT $1, u.rec, $2, u.seq, now(), $3, u.seq, u.n
				FROM (SELECT rec, n, nextval('sync_seq') AS seq FROM unnest($4::text[], $5::int[]) AS x(rec, n)) u
				ON CONFLICT (connection_id, crm_record_id) DO UPDATE SET
					run_quotes = CASE WHEN r.run_id = EXCLUDED.run_id THEN r.run_quotes + EXCLUDED.run_quotes ELSE EXCLUDED.run_quotes END,
					desired_seq = CASE WHEN r.run_id = EXCLUDED.run_id THEN r.desired_seq ELSE EXCLUDED.desired_seq END,
					run_seq = CASE WHEN r.run_id = EXCLUDED.run_id THEN r.run_seq ELSE EXCLUDED.run_seq END,
					state = CASE WHEN r.run_id = EXCLUDED.run_id THEN r.state ELSE 'pending' END,
					attempts = CASE WHEN r.run_id = EXCLUDED.run_id THEN r.attempts ELSE 0 END,
					due_at = CASE WHEN r.run_id = EXCLUDED.run_id THEN r.due_at ELSE now() END,
					run_id = EXCLUDED.run_id, updated_at = now()
				WHERE r.run_id = EXCLUDED.run_id OR r.state IN ('synced', 'failed')`,
				conn, ws, runID, order, counts); err != nil {
				return fmt.Errorf("outbox: %w", err)
			}
			// Each quote remembers its record's version, so that it shows
			// synced once that version is pushed (and is not walked again).
			if _, err := tx.Exec(ctx, `UPDATE quotes q SET sync_seq = sr.desired_seq FROM sync_records sr
				WHERE q.id = ANY($1::uuid[]) AND sr.connection_id = q.connection_id AND sr.crm_record_id = q.crm_record_id`, ids); err != nil {
				return fmt.Errorf("outbox: %w", err)
			}
			if _, err := tx.Exec(ctx, `UPDATE sync_runs SET cursor_at = $2, cursor_id = $3, updated_at = now() WHERE id = $1`,
				runID, lastAt, ids[len(ids)-1]); err != nil {
				return err
			}
			if err := db.insertPush(ctx, tx, conn, false, time.Time{}); err != nil {
				return err
			}
		}
		if walked < limit {
			_, err := tx.Exec(ctx, `UPDATE sync_runs SET walked = true, updated_at = now(),
				total = (SELECT coalesce(sum(run_quotes), 0) FROM sync_records WHERE connection_id = $2 AND run_id = $1) WHERE id = $1`, runID, conn)
			return err
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: capture back-fill: %w", err)
	}
	return walked, nil
}

// RunOutstanding counts the run's records still waiting to be pushed.
func (db *DB) RunOutstanding(ctx context.Context, runID string) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM sync_records r JOIN sync_runs s ON s.id = r.run_id AND s.connection_id = r.connection_id
		WHERE r.run_id = $1 AND r.state IN ('pending', 'in_flight') AND r.synced_seq < r.run_seq`, runID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: run outstanding: %w", err)
	}
	return n, nil
}

// RunCalls is the API calls the run's pushes used so far (its log rows).
func (db *DB) RunCalls(ctx context.Context, runID string) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT coalesce(sum(l.api_calls), 0) FROM sync_log l JOIN sync_runs s ON s.id = l.run_id AND s.connection_id = l.connection_id
		WHERE l.run_id = $1`, runID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: run calls: %w", err)
	}
	return n, nil
}

// UpdateRunProgress counts the run's progress from its outbox rows (a
// record's quotes are done once the record's pushed version reaches the
// run's, failed when it failed for good before), updates the observed
// rate (smoothed) and the estimated end: what remains over the lower of
// the observed rate and capPerSec (the quotes a second the CRM's budget
// allows; 0 when unknown). A walked run whose quotes are all done or
// failed is done.
func (db *DB) UpdateRunProgress(ctx context.Context, runID string, capPerSec float64) (*SyncRun, error) {
	var run *SyncRun
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		old, err := db.runByID(ctx, tx.QueryRow(ctx, `SELECT `+runColumns+` FROM sync_runs WHERE id = $1 FOR UPDATE`, runID))
		if err != nil {
			return err
		}
		var done, failed int
		var now time.Time
		if err := tx.QueryRow(ctx, `SELECT coalesce(sum(run_quotes) FILTER (WHERE synced_seq >= run_seq), 0),
			coalesce(sum(run_quotes) FILTER (WHERE state = 'failed' AND synced_seq < run_seq), 0), now()
			FROM sync_records WHERE connection_id = $2 AND run_id = $1`, runID, old.ConnectionID).Scan(&done, &failed, &now); err != nil {
			return err
		}
		rate := old.RatePerSec
		if dt := now.Sub(old.UpdatedAt).Seconds(); dt > 0.05 {
			inst := float64(done+failed-old.Done-old.Failed) / dt
			if rate == 0 {
				rate = inst
			} else {
				rate = 0.7*rate + 0.3*inst
			}
		}
		total := max(old.Total, done+failed)
		eff := rate
		if capPerSec > 0 && (eff <= 0 || capPerSec < eff) {
			eff = capPerSec
		}
		var eta *time.Time
		if left := total - done - failed; left > 0 && eff > 0 {
			t := now.Add(time.Duration(float64(left) / eff * float64(time.Second)))
			eta = &t
		}
		status, finished := old.Status, (*time.Time)(nil)
		if old.Status == RunRunning && old.Walked && done+failed >= total {
			status, finished, eta = RunDone, &now, nil
		}
		run, err = scanRun(tx.QueryRow(ctx, `UPDATE sync_runs SET done = $2, failed = $3, total = $4, rate_per_s = $5, eta_at = $6,
			status = $7, finished_at = coalesce($8, finished_at), updated_at = now() WHERE id = $1 RETURNING `+runColumns,
			runID, done, failed, total, rate, eta, status, finished))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: run progress: %w", err)
	}
	return run, nil
}

// FinishCancelledRun ends a cancelling run: the outbox rows only the run
// put there and not pushed yet are removed (a row a real-time change gave a
// newer version, or that was ever pushed, stays), their quotes go back to
// never captured, and the run is cancelled. It returns the rows removed.
func (db *DB) FinishCancelledRun(ctx context.Context, runID string) (int, error) {
	var n int
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var conn string
		if err := tx.QueryRow(ctx, `SELECT connection_id::text FROM sync_runs WHERE id = $1 FOR UPDATE`, runID).Scan(&conn); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `DELETE FROM sync_records WHERE connection_id = $1 AND run_id = $2
			AND state = 'pending' AND desired_seq = run_seq AND synced_seq = 0
			RETURNING crm_record_id, run_seq`, conn, runID)
		if err != nil {
			return err
		}
		var recs []string
		var seqs []int64
		for rows.Next() {
			var r string
			var s int64
			if err := rows.Scan(&r, &s); err != nil {
				rows.Close()
				return err
			}
			recs, seqs = append(recs, r), append(seqs, s)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		n = len(recs)
		if _, err := tx.Exec(ctx, `UPDATE quotes q SET sync_seq = 0 FROM unnest($2::text[], $3::bigint[]) AS d(rec, seq)
			WHERE q.connection_id = $1 AND q.crm_record_id = d.rec AND q.sync_seq = d.seq`, conn, recs, seqs); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE sync_runs SET status = 'cancelled', eta_at = NULL, finished_at = now(), updated_at = now() WHERE id = $1`, runID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: finish cancelled run: %w", err)
	}
	return n, nil
}

// FailRun ends a run that cannot go on (its connection gone).
func (db *DB) FailRun(ctx context.Context, runID, why string) error {
	if _, err := db.pool.Exec(ctx, `UPDATE sync_runs SET status = 'failed', error = $2, eta_at = NULL, finished_at = now(), updated_at = now()
		WHERE id = $1 AND status IN ('running', 'cancelling')`, runID, why); err != nil {
		return fmt.Errorf("store: fail run: %w", err)
	}
	return nil
}
