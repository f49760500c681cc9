-- Sync, outbound half: quotes pushed to the CRM record they are made on.
-- River's own tables are created by River's migrator, right after these
-- (store.Migrate).

-- The scopes the CRM granted at the last sign-in; NULL for a connection
-- made before sync (the card's read scopes only): "reconnect to enable sync".
ALTER TABLE connections ADD COLUMN scopes text[];

-- Each CRM record has at most one primary quote: its total, status and
-- lines are the record's amount, stage and products.
ALTER TABLE quotes ADD COLUMN is_primary boolean NOT NULL DEFAULT false;
-- The outbox version of the quote's last change (sync_seq): the quote is
-- synced once its record's synced_seq reaches it.
ALTER TABLE quotes ADD COLUMN sync_seq bigint NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX quotes_one_primary ON quotes (connection_id, crm_record_id)
    WHERE is_primary AND deleted_at IS NULL;
-- The live quotes made before this change: the newest of each record is
-- its primary.
UPDATE quotes q SET is_primary = true
FROM (SELECT DISTINCT ON (connection_id, crm_record_id) id FROM quotes
      WHERE deleted_at IS NULL ORDER BY connection_id, crm_record_id, created_at DESC, id) p
WHERE q.id = p.id;

-- One increasing counter for every change bound for a CRM, so that a newer
-- change always has a larger version, whichever quote of the record it is.
CREATE SEQUENCE sync_seq;

-- The transactional outbox, one row per CRM record: written in the
-- transaction of the quote change that causes it (latest version wins, so
-- ten edits make one push), leased by one worker at a time.
CREATE TABLE sync_records (
    connection_id    uuid NOT NULL REFERENCES connections(id),
    crm_record_id    text NOT NULL,
    workspace_id     uuid NOT NULL REFERENCES workspaces(id),
    desired_seq      bigint NOT NULL,
    synced_seq       bigint NOT NULL DEFAULT 0,
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'in_flight', 'synced', 'failed')),
    -- When it may be pushed: now for a status change, a little later for
    -- other edits (coalesced), later still after a transient failure or
    -- while the budget is spent.
    due_at           timestamptz NOT NULL DEFAULT now(),
    -- The lease: the worker holding it (a random token) and until when,
    -- both set and compared on the database's clock.
    lease_token      uuid,
    lease_until      timestamptz,
    -- Transient failures since the last success (3 retries after the first).
    attempts         integer NOT NULL DEFAULT 0,
    last_error_code  text NOT NULL DEFAULT '',
    last_error       text NOT NULL DEFAULT '',
    warning          text NOT NULL DEFAULT '',
    synced_at        timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, crm_record_id)
);
CREATE INDEX sync_records_due ON sync_records (connection_id, due_at) WHERE state IN ('pending', 'in_flight');
CREATE INDEX sync_records_failed ON sync_records (connection_id, updated_at DESC) WHERE state = 'failed';

-- What Qwoty wrote in a connection's CRM account, by external reference
-- (qwoty:<type>:<uuid>): its CRM id, the record it hangs under, the hash of
-- what was written. A row without crm_id is an intent: a create sent (or
-- about to be) to a CRM without upsert, adopted on retry.
CREATE TABLE crm_links (
    connection_id  uuid NOT NULL REFERENCES connections(id),
    crm_object     text NOT NULL,
    ref            text NOT NULL,
    parent         text NOT NULL DEFAULT '',
    crm_id         text,
    hash           text NOT NULL DEFAULT '',
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, crm_object, ref)
);
CREATE INDEX crm_links_parent ON crm_links (connection_id, crm_object, parent);

-- Per-connection sync settings; a connection without a row has the defaults.
CREATE TABLE sync_settings (
    connection_id   uuid PRIMARY KEY REFERENCES connections(id),
    -- Which changes are pushed: created, status, primary, edit.
    triggers        text[] NOT NULL DEFAULT '{created,status,primary,edit}',
    -- Quote status → CRM stage; a status absent uses the CRM's default.
    stage_map       jsonb NOT NULL DEFAULT '{}',
    -- The share of a daily API allocation sync may use (Salesforce's org
    -- allocation, Pipedrive's token budget).
    budget_share    numeric(4,3) NOT NULL DEFAULT 0.5 CHECK (budget_share > 0 AND budget_share <= 1),
    -- How long an edit waits for the next one before it is pushed.
    coalesce_ms     integer NOT NULL DEFAULT 5000 CHECK (coalesce_ms BETWEEN 0 AND 3600000),
    alert_emails    text[] NOT NULL DEFAULT '{}',
    slack_webhook_enc bytea,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- A connection's API budget, shared by every instance, on the database's
-- clock: tokens refill at capacity per period; blocked_until stops every
-- call (a 429's Retry-After).
CREATE TABLE api_budget (
    connection_id  uuid NOT NULL REFERENCES connections(id),
    bucket         text NOT NULL,
    tokens         double precision NOT NULL,
    capacity       double precision NOT NULL CHECK (capacity >= 0),
    refill_per_s   double precision NOT NULL CHECK (refill_per_s >= 0),
    refilled_at    timestamptz NOT NULL DEFAULT now(),
    blocked_until  timestamptz,
    PRIMARY KEY (connection_id, bucket)
);

-- Every push: when, which record, what was written, the outcome, the CRM's
-- error and the API calls it used. Kept 90 days (a daily job deletes older
-- rows in batches).
CREATE TABLE sync_log (
    id             bigserial PRIMARY KEY,
    created_at     timestamptz NOT NULL DEFAULT now(),
    workspace_id   uuid NOT NULL,
    connection_id  uuid NOT NULL,
    crm_record_id  text NOT NULL,
    quote_id       uuid,
    crm_object     text NOT NULL DEFAULT '',
    crm_id         text NOT NULL DEFAULT '',
    outcome        text NOT NULL CHECK (outcome IN ('synced', 'retrying', 'failed', 'waiting', 'skipped')),
    error_code     text NOT NULL DEFAULT '',
    message        text NOT NULL DEFAULT '',
    written        jsonb NOT NULL DEFAULT '[]',
    api_calls      integer NOT NULL DEFAULT 0,
    seq            bigint NOT NULL DEFAULT 0
);
CREATE INDEX sync_log_connection ON sync_log (connection_id, created_at DESC);
CREATE INDEX sync_log_record ON sync_log (connection_id, crm_record_id, created_at DESC);
CREATE INDEX sync_log_created ON sync_log (created_at);

-- Alerts sent: at most one per connection and kind per hour.
CREATE TABLE sync_alerts (
    connection_id  uuid NOT NULL REFERENCES connections(id),
    kind           text NOT NULL,
    sent_at        timestamptz NOT NULL,
    detail         text NOT NULL DEFAULT '',
    PRIMARY KEY (connection_id, kind)
);
