-- Sync runs: a back-fill of existing quotes or a "Sync now", with progress.
CREATE TABLE sync_runs (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    connection_id  uuid NOT NULL REFERENCES connections(id),
    workspace_id   uuid NOT NULL REFERENCES workspaces(id),
    kind           text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
