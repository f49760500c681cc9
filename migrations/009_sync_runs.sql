-- Sync runs: a back-fill of the quotes made before sync (or never pushed),
-- or a "Sync now", with their progress.
CREATE TABLE sync_runs (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    connection_id  uuid NOT NULL REFERENCES connections(id),
    workspace_id   uuid NOT NULL REFERENCES workspaces(id),
    kind           text NOT NULL CHECK (kind IN ('backfill', 'sync_now')),
    status         text NOT NULL DEFAULT 'running'
                   CHECK (status IN ('running', 'cancelling', 'cancelled', 'done', 'failed')),
    -- Quotes to sync (counted at the start; the walk's own count once it
    -- has seen every quote), synced, failed for good.
    total          integer NOT NULL DEFAULT 0 CHECK (total >= 0),
    done           integer NOT NULL DEFAULT 0 CHECK (done >= 0),
    failed         integer NOT NULL DEFAULT 0 CHECK (failed >= 0),
    -- The keyset walk's position: the last quote captured, by (created_at, id).
    cursor_at      timestamptz,
    cursor_id      uuid,
    -- The walk has captured every quote; the run ends when they are pushed.
    walked         boolean NOT NULL DEFAULT false,
    -- The observed rate (quotes a second, smoothed) and the estimated end.
    rate_per_s     double precision NOT NULL DEFAULT 0,
    eta_at         timestamptz,
    error          text NOT NULL DEFAULT '',
    created_by     text NOT NULL DEFAULT '',
    started_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz
);
-- At most one running back-fill per connection.
CREATE UNIQUE INDEX sync_runs_one_backfill ON sync_runs (connection_id)
    WHERE kind = 'backfill' AND status IN ('running', 'cancelling');
CREATE INDEX sync_runs_connection ON sync_runs (connection_id, started_at DESC);

-- An outbox row a back-fill put there: the run, the version it captured
-- (a later real-time change gives the row a newer version, which makes it
-- real-time again: leased first, never removed by a cancel) and how many
-- of the run's quotes the record carries (its progress, in quotes).
ALTER TABLE sync_records ADD COLUMN run_id uuid;
ALTER TABLE sync_records ADD COLUMN run_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE sync_records ADD COLUMN run_quotes integer NOT NULL DEFAULT 0;
CREATE INDEX sync_records_run ON sync_records (run_id) WHERE run_id IS NOT NULL;

-- The back-fill's keyset walk: a connection's live quotes by (created_at, id).
CREATE INDEX quotes_connection_created ON quotes (connection_id, created_at, id) WHERE deleted_at IS NULL;
