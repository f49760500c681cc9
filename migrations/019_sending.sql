-- Sending a quote, the customer's page and the customer's answer (issue 16,
-- docs/customer-page.md).

-- A customer link: the page /q/{token}. Only the SHA-256 of the token is
-- kept (the token is 32 random bytes, base64url, and exists only in the
-- email). A link is scoped to its workspace, connection and quote, and
-- names the quote's record so that the page reaches the quote through the
-- same scoped store path as the card. It expires at the later of the
-- quote's valid-until date (end of that day, UTC) and 90 days after the send.
CREATE TABLE quote_links (
    id              uuid PRIMARY KEY,
    workspace_id    uuid NOT NULL REFERENCES workspaces(id),
    connection_id   uuid NOT NULL REFERENCES connections(id),
    quote_id        uuid NOT NULL REFERENCES quotes(id) ON DELETE CASCADE,
    crm_record_id   text NOT NULL,
    token_hash      bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    revision        int NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL
);
CREATE INDEX quote_links_quote ON quote_links (quote_id);

-- One send of a quote from the card: who sent which revision to whom, with
-- what words, and what the mail server made of it (the email goes out
-- from a job after the send's transaction commits).
CREATE TABLE quote_sends (
    id              uuid PRIMARY KEY,
    workspace_id    uuid NOT NULL REFERENCES workspaces(id),
    connection_id   uuid NOT NULL REFERENCES connections(id),
    quote_id        uuid NOT NULL REFERENCES quotes(id) ON DELETE CASCADE,
    link_id         uuid NOT NULL REFERENCES quote_links(id) ON DELETE CASCADE,
    revision        int NOT NULL,
    recipients      text[] NOT NULL CHECK (cardinality(recipients) BETWEEN 1 AND 20),
    subject         text NOT NULL CHECK (length(subject) <= 200),
    message         text NOT NULL CHECK (length(message) <= 5000),
    sent_by         text NOT NULL,
    sent_at         timestamptz NOT NULL DEFAULT now(),
    mail_state      text NOT NULL DEFAULT 'queued' CHECK (mail_state IN ('queued', 'sent', 'partial', 'failed')),
    mail_error      text NOT NULL DEFAULT '',
    mailed_at       timestamptz
);
CREATE INDEX quote_sends_quote ON quote_sends (quote_id, sent_at);

-- The first real view of each link: the page's own script reported it
-- (a GET alone never counts: link previews and prefetchers fetch pages).
CREATE TABLE quote_views (
    link_id         uuid PRIMARY KEY REFERENCES quote_links(id) ON DELETE CASCADE,
    workspace_id    uuid NOT NULL REFERENCES workspaces(id),
    connection_id   uuid NOT NULL REFERENCES connections(id),
    quote_id        uuid NOT NULL REFERENCES quotes(id) ON DELETE CASCADE,
    viewed_at       timestamptz NOT NULL DEFAULT now(),
    ip              text NOT NULL DEFAULT '',
    user_agent      text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 512)
);
CREATE INDEX quote_views_quote ON quote_views (quote_id);

-- The customer's answer to one revision: accepted (with the typed full
-- name and the consent given) or rejected (with an optional reason), and
-- the hash of the exact version answered (qwoty.VersionHash).
CREATE TABLE quote_decisions (
    id              uuid PRIMARY KEY,
    workspace_id    uuid NOT NULL REFERENCES workspaces(id),
    connection_id   uuid NOT NULL REFERENCES connections(id),
    quote_id        uuid NOT NULL REFERENCES quotes(id) ON DELETE CASCADE,
    link_id         uuid NOT NULL REFERENCES quote_links(id) ON DELETE CASCADE,
    decision        text NOT NULL CHECK (decision IN ('accepted', 'rejected')),
    revision        int NOT NULL,
    version_hash    text NOT NULL CHECK (version_hash ~ '^[0-9a-f]{64}$'),
    full_name       text NOT NULL DEFAULT '' CHECK (length(full_name) <= 200),
    consent         boolean NOT NULL DEFAULT false,
    reason          text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    decided_at      timestamptz NOT NULL DEFAULT now(),
    ip              text NOT NULL DEFAULT '',
    user_agent      text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 512),
    CHECK (decision <> 'accepted' OR (consent AND full_name <> ''))
);
CREATE INDEX quote_decisions_quote ON quote_decisions (quote_id, decided_at);

-- The workspace's logo, shown on the customer's page and in the PDF: a PNG
-- or JPEG of at most 256 KB, uploaded by an admin in the console.
CREATE TABLE workspace_logos (
    workspace_id    uuid PRIMARY KEY REFERENCES workspaces(id),
    content_type    text NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg')),
    data            bytea NOT NULL CHECK (length(data) BETWEEN 1 AND 262144),
    updated_by      text NOT NULL DEFAULT '',
    updated_at      timestamptz NOT NULL DEFAULT now()
);
