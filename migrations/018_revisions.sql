-- Revisions and expiry (issue 16).
--
-- quote_versions holds each sent revision of a quote, frozen: the exact
-- canonical JSON of qwoty.Snapshot (what the customer was offered) and its
-- hex SHA-256, so that the hash can be checked again against the bytes at
-- any time. A revision is frozen once, when it is first sent (the primary
-- key refuses a second copy), and never changes: the trigger below refuses
-- every UPDATE and DELETE, whoever runs it. Quotes are soft-deleted
-- (quotes.deleted_at), workspaces and connections are never deleted, so a
-- frozen version never has to go; the foreign keys have no ON DELETE
-- CASCADE, and a hard delete of a quote that has versions is refused too.
CREATE TABLE quote_versions (
    quote_id       uuid NOT NULL REFERENCES quotes(id),
    revision       integer NOT NULL CHECK (revision >= 1),
    workspace_id   uuid NOT NULL REFERENCES workspaces(id),
    connection_id  uuid NOT NULL REFERENCES connections(id),
    snapshot       bytea NOT NULL,
    sha256         text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    -- The total as offered, in the quote's currency, for listings.
    currency       char(3) NOT NULL,
    total          numeric(20,4) NOT NULL,
    frozen_by      text NOT NULL DEFAULT '',
    frozen_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (quote_id, revision),
    -- The hash is the snapshot's: checked on insert by the database too.
    CHECK (sha256 = encode(sha256(snapshot), 'hex'))
);
-- Versions are read by quote within the scope (the primary key serves it:
-- every query names the quote and filters workspace and connection).

CREATE FUNCTION quote_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'quote_versions: a frozen version cannot be changed or deleted (% of quote %, revision %)',
        TG_OP, OLD.quote_id, OLD.revision
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER quote_versions_immutable BEFORE UPDATE OR DELETE ON quote_versions
    FOR EACH ROW EXECUTE FUNCTION quote_versions_immutable();

CREATE FUNCTION quote_versions_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'quote_versions: frozen versions cannot be truncated' USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER quote_versions_no_truncate BEFORE TRUNCATE ON quote_versions
    FOR EACH STATEMENT EXECUTE FUNCTION quote_versions_no_truncate();

-- The expiry job finds the live sent or viewed quotes whose validity has
-- run out, oldest first.
CREATE INDEX quotes_expiring ON quotes (valid_until, id)
    WHERE status IN ('sent', 'viewed') AND deleted_at IS NULL AND valid_until IS NOT NULL;
