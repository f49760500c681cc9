-- The admin console: people who log in, their sessions, the first-run setup
-- link, OAuth state, and what the console shows of each connection.

-- One account per email across the server: login is by email.
ALTER TABLE users DROP CONSTRAINT users_workspace_id_email_key;
CREATE UNIQUE INDEX users_email ON users (lower(email));
ALTER TABLE users
    ADD COLUMN password_hash  text NOT NULL DEFAULT '',
    ADD COLUMN last_login_at  timestamptz,
    ADD COLUMN disabled       boolean NOT NULL DEFAULT false;

-- A session is a random cookie value; only its SHA-256 is stored, so a copy
-- of this table opens no session. csrf_token is compared on every form post.
CREATE TABLE sessions (
    id_hash     bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- The one-time link that creates the first admin (printed in the log when
-- no user exists).
CREATE TABLE setup_tokens (
    token_hash  bytea PRIMARY KEY,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);

-- OAuth authorisations in flight: the state is bound to the admin's session
-- and single-use; the PKCE verifier is sealed.
CREATE TABLE oauth_states (
    state_hash    bytea PRIMARY KEY,
    session_hash  bytea NOT NULL,
    workspace_id  uuid NOT NULL REFERENCES workspaces(id),
    user_id       uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider      text NOT NULL,
    login_url     text NOT NULL,
    verifier_enc  bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz
);

ALTER TABLE connections
    ADD COLUMN connected_by        uuid REFERENCES users(id) ON DELETE SET NULL,
    ADD COLUMN connected_at        timestamptz,
    ADD COLUMN crm_user_id         text NOT NULL DEFAULT '',
    ADD COLUMN login_url           text NOT NULL DEFAULT '',
    ADD COLUMN token_refreshed_at  timestamptz,
    ADD COLUMN last_error_code     text NOT NULL DEFAULT '',
    ADD COLUMN last_error          text NOT NULL DEFAULT '',
    ADD COLUMN last_error_at       timestamptz,
    ADD COLUMN last_checked_at     timestamptz;

-- One active CRM connection per workspace: connecting a second CRM means
-- disconnecting the first.
CREATE UNIQUE INDEX connections_one_active ON connections (workspace_id) WHERE status <> 'disconnected';
