-- API keys of the public REST API (/api/v1, docs/api.md). A key belongs
-- to one workspace and one CRM account (connection) of it: everything it
-- reads or writes is scoped to both, like a rep's card. Only the SHA-256
-- of the token is kept; the console shows the token once, at creation,
-- and afterwards its prefix (the first characters, for recognising it).
CREATE TABLE api_keys (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id  uuid NOT NULL REFERENCES workspaces(id),
    connection_id uuid NOT NULL REFERENCES connections(id),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash    bytea NOT NULL UNIQUE,
    prefix        text NOT NULL,
    scopes        text[] NOT NULL CHECK (cardinality(scopes) > 0),
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz,
    revoked_by    text NOT NULL DEFAULT '',
    last_used_at  timestamptz
);
CREATE INDEX api_keys_connection ON api_keys (workspace_id, connection_id, created_at DESC);
