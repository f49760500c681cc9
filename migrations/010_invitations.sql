-- Team invitations: an admin invites someone by email with a role; the
-- invitee opens a single-use link (7 days) and sets a name and password.
-- Only the link token's SHA-256 is stored.
CREATE TABLE invitations (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id   uuid NOT NULL REFERENCES workspaces(id),
    email          text NOT NULL,
    role           text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    token_hash     bytea NOT NULL UNIQUE,
    invited_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    sent_at        timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    accepted_at    timestamptz,
    revoked_at     timestamptz
);
-- At most one open invitation per address and workspace (inviting again
-- resends it).
CREATE UNIQUE INDEX invitations_open_email ON invitations (workspace_id, lower(email))
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
CREATE INDEX invitations_workspace ON invitations (workspace_id, created_at DESC);

-- The sync log's filters, each with the page order (newest first:
-- created_at, then id) so that a page is an index range read, never a
-- sort of the connection's whole log. The record filter keeps
-- sync_log_record (007): one record has few rows.
DROP INDEX sync_log_connection;
CREATE INDEX sync_log_page ON sync_log (connection_id, created_at DESC, id DESC);
CREATE INDEX sync_log_outcome ON sync_log (connection_id, outcome, created_at DESC, id DESC);
CREATE INDEX sync_log_object ON sync_log (connection_id, crm_object, created_at DESC, id DESC);
CREATE INDEX sync_log_direction ON sync_log (connection_id, direction, created_at DESC, id DESC);
CREATE INDEX sync_log_run ON sync_log (connection_id, run_id, created_at DESC, id DESC) WHERE run_id IS NOT NULL;
