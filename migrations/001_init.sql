-- The first cut of the schema: tenants, CRM connections, quotes and the
-- replay-protection and audit tables. Money is NUMERIC, never float.

CREATE TABLE workspaces (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name               text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    next_quote_number  bigint NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id  uuid NOT NULL REFERENCES workspaces(id),
    email         text NOT NULL,
    name          text NOT NULL DEFAULT '',
    role          text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, email)
);

CREATE TABLE connections (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id          uuid NOT NULL REFERENCES workspaces(id),
    provider              text NOT NULL CHECK (provider IN ('salesforce', 'hubspot', 'pipedrive')),
    external_id           text NOT NULL,
    my_domain             text NOT NULL DEFAULT '',
    sandbox               boolean NOT NULL DEFAULT false,
    instance_url          text NOT NULL DEFAULT '',
    -- Origins allowed to frame the card besides the CRM's own (an Experience
    -- Cloud site, the dev playground). Never '*': checked on write.
    frame_origins         text[] NOT NULL DEFAULT '{}',
    status                text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disconnected', 'error')),
    -- AES-GCM sealed (nonce || ciphertext), never plaintext.
    secret_enc            bytea,
    previous_secret_enc   bytea,
    previous_expires_at   timestamptz,
    access_token_enc      bytea,
    refresh_token_enc     bytea,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, external_id)
);
CREATE INDEX connections_workspace ON connections (workspace_id);

CREATE TABLE customers (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id    uuid NOT NULL REFERENCES workspaces(id),
    crm_account_id  text NOT NULL,
    name            text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, crm_account_id)
);

CREATE TABLE quotes (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id   uuid NOT NULL REFERENCES workspaces(id),
    connection_id  uuid NOT NULL REFERENCES connections(id),
    customer_id    uuid REFERENCES customers(id),
    crm_record_id  text NOT NULL,
    number         text NOT NULL,
    title          text NOT NULL DEFAULT '',
    status         text NOT NULL DEFAULT 'draft'
                   CHECK (status IN ('draft', 'sent', 'viewed', 'accepted', 'rejected', 'expired')),
    currency       char(3) NOT NULL,
    tax_rate       numeric(7,4) NOT NULL DEFAULT 0 CHECK (tax_rate >= 0 AND tax_rate <= 100),
    subtotal       numeric(20,4) NOT NULL DEFAULT 0,
    discount       numeric(20,4) NOT NULL DEFAULT 0,
    tax            numeric(20,4) NOT NULL DEFAULT 0,
    total          numeric(20,4) NOT NULL DEFAULT 0,
    version        integer NOT NULL DEFAULT 1,
    created_by     text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz,
    UNIQUE (workspace_id, number)
);
-- The card lists a record's live quotes, newest first: one index serves it.
CREATE INDEX quotes_record ON quotes (workspace_id, crm_record_id, updated_at DESC) WHERE deleted_at IS NULL;

CREATE TABLE quote_line_items (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    quote_id          uuid NOT NULL REFERENCES quotes(id) ON DELETE CASCADE,
    parent_id         uuid REFERENCES quote_line_items(id) ON DELETE CASCADE,
    position          integer NOT NULL,
    sku               text NOT NULL DEFAULT '',
    description       text NOT NULL DEFAULT '',
    quantity          numeric(16,4) NOT NULL CHECK (quantity > 0),
    unit_price        numeric(20,4) NOT NULL CHECK (unit_price >= 0),
    discount_percent  numeric(7,4) NOT NULL DEFAULT 0 CHECK (discount_percent >= 0 AND discount_percent <= 100),
    amount            numeric(20,4) NOT NULL DEFAULT 0,
    discount          numeric(20,4) NOT NULL DEFAULT 0,
    net               numeric(20,4) NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quote_line_items_quote ON quote_line_items (quote_id, position);

CREATE TABLE catalog_items (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id  uuid NOT NULL REFERENCES workspaces(id),
    sku           text NOT NULL,
    name          text NOT NULL,
    unit_price    numeric(20,4) NOT NULL CHECK (unit_price >= 0),
    currency      char(3) NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    UNIQUE (workspace_id, sku, currency)
);

-- Replay protection shared by every instance: a nonce is accepted once per
-- connection until it expires (the signature window plus margin). UNLOGGED:
-- every signed callout writes one row, and an unlogged insert writes no WAL,
-- so the hot path's commit never waits for a disk flush. The price, accepted
-- and documented (docs/callout-contract.md): after a PostgreSQL crash or a
-- failover the table starts empty, so a request captured before the crash
-- could be replayed once, until its timestamp is 300 s old.
CREATE UNLOGGED TABLE seen_nonces (
    connection_id  uuid NOT NULL,
    nonce          text NOT NULL,
    expires_at     timestamptz NOT NULL,
    PRIMARY KEY (connection_id, nonce)
);

CREATE TABLE audit_log (
    id             bigserial PRIMARY KEY,
    workspace_id   uuid REFERENCES workspaces(id),
    connection_id  uuid REFERENCES connections(id),
    actor          text NOT NULL DEFAULT '',
    action         text NOT NULL,
    detail         jsonb NOT NULL DEFAULT '{}',
    request_id     text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_workspace ON audit_log (workspace_id, created_at DESC);
