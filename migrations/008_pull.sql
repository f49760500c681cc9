-- Sync, inbound half: what Qwoty reads from the CRM (accounts, deals and
-- their contact people, products and their prices), the high-water marks
-- of each listing, and webhook deliveries already taken. Every row is
-- scoped to its workspace and connection (one CRM account). Records deleted
-- in the CRM are marked (crm_deleted_at), never deleted here.

-- Customers are the CRM's accounts / companies / organizations.
ALTER TABLE customers
    ADD COLUMN email          text NOT NULL DEFAULT '',
    ADD COLUMN phone          text NOT NULL DEFAULT '',
    ADD COLUMN street         text NOT NULL DEFAULT '',
    ADD COLUMN city           text NOT NULL DEFAULT '',
    ADD COLUMN postal_code    text NOT NULL DEFAULT '',
    ADD COLUMN region         text NOT NULL DEFAULT '',
    ADD COLUMN country        text NOT NULL DEFAULT '',
    -- The CRM's own last-modified time of the record as last pulled (never
    -- our clock): an older version of it is never applied over a newer one.
    ADD COLUMN crm_modified   timestamptz,
    ADD COLUMN crm_deleted_at timestamptz,
    ADD COLUMN fields         jsonb NOT NULL DEFAULT '{}';

-- The CRM records quotes are made on (Opportunity, deal), as last pulled.
CREATE TABLE crm_deals (
    connection_id   uuid NOT NULL REFERENCES connections(id),
    crm_id          text NOT NULL,
    workspace_id    uuid NOT NULL REFERENCES workspaces(id),
    name            text NOT NULL DEFAULT '',
    amount          numeric(20,4),
    currency        text NOT NULL DEFAULT '',
    stage           text NOT NULL DEFAULT '',
    close_date      date,
    account_crm_id  text NOT NULL DEFAULT '',
    crm_modified    timestamptz NOT NULL,
    crm_deleted_at  timestamptz,
    -- Set when the last change pulled was Qwoty's own write coming back.
    echo            boolean NOT NULL DEFAULT false,
    fields          jsonb NOT NULL DEFAULT '{}',
    pulled_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, crm_id)
);

-- The contact people of the CRM account, one per email (an upsert by
-- email: pulling twice changes nothing), and which deals they are on.
CREATE TABLE crm_contacts (
    connection_id  uuid NOT NULL REFERENCES connections(id),
    email          text NOT NULL CHECK (email = lower(email) AND email <> ''),
    workspace_id   uuid NOT NULL REFERENCES workspaces(id),
    crm_id         text NOT NULL DEFAULT '',
    name           text NOT NULL DEFAULT '',
    phone          text NOT NULL DEFAULT '',
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, email)
);
CREATE TABLE crm_deal_contacts (
    connection_id  uuid NOT NULL REFERENCES connections(id),
    deal_crm_id    text NOT NULL,
    email          text NOT NULL,
    role           text NOT NULL DEFAULT '',
    PRIMARY KEY (connection_id, deal_crm_id, email)
);

-- The catalogue: the CRM's products and their price in each currency (a
-- Salesforce price book entry, a HubSpot product's price, a Pipedrive
-- product price). The unused first-cut table goes.
DROP TABLE catalog_items;
CREATE TABLE catalog_products (
    connection_id   uuid NOT NULL REFERENCES connections(id),
    crm_id          text NOT NULL,
    workspace_id    uuid NOT NULL REFERENCES workspaces(id),
    sku             text NOT NULL DEFAULT '',
    name            text NOT NULL DEFAULT '',
    description     text NOT NULL DEFAULT '',
    active          boolean NOT NULL DEFAULT true,
    crm_modified    timestamptz NOT NULL,
    crm_deleted_at  timestamptz,
    -- lower(sku || ' ' || name), for the card's search as the rep types.
    search          text GENERATED ALWAYS AS (lower(sku || ' ' || name)) STORED,
    PRIMARY KEY (connection_id, crm_id)
);
CREATE TABLE catalog_prices (
    connection_id   uuid NOT NULL REFERENCES connections(id),
    product_crm_id  text NOT NULL,
    currency        char(3) NOT NULL,
    unit_price      numeric(20,4) NOT NULL CHECK (unit_price >= 0),
    -- The CRM's id of the price itself (a PricebookEntry), '' when the
    -- price is a field of the product.
    entry_id        text NOT NULL DEFAULT '',
    active          boolean NOT NULL DEFAULT true,
    crm_modified    timestamptz NOT NULL,
    PRIMARY KEY (connection_id, product_crm_id, currency)
);
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX catalog_products_search ON catalog_products USING gin (search gin_trgm_ops);

-- A quote line taken from the catalogue keeps its CRM product, so that it
-- is pushed linked to it.
ALTER TABLE quote_line_items ADD COLUMN product_crm_id text NOT NULL DEFAULT '';

-- One row per listing a connection pulls (a stream: "deal", "customer",
-- "product", "price", "deal_deleted", ...): the high-water mark is the
-- CRM's own modification time of the newest record of the last complete
-- listing; a listing under way keeps its start, its page cursor and the
-- newest time seen so far, and the mark moves only once it is complete.
CREATE TABLE pull_cursors (
    connection_id    uuid NOT NULL REFERENCES connections(id),
    stream           text NOT NULL,
    hwm              timestamptz,
    listing_since    timestamptz,
    listing_cursor   text NOT NULL DEFAULT '',
    listing_max      timestamptz,
    listing_started  timestamptz,
    records          bigint NOT NULL DEFAULT 0,
    last_complete_at timestamptz,
    last_error       text NOT NULL DEFAULT '',
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, stream)
);

-- Webhook deliveries taken, by the CRM's event id: a duplicate delivery
-- finds its row and is dropped. Kept 7 days.
CREATE TABLE webhook_deliveries (
    provider       text NOT NULL,
    event_id       text NOT NULL,
    connection_id  uuid REFERENCES connections(id),
    received_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at);

-- Per-connection webhook credentials (Pipedrive's HTTP basic password,
-- sealed like every secret) and the CRM's ids of the webhooks made.
ALTER TABLE connections ADD COLUMN webhook_secret_enc bytea;
ALTER TABLE connections ADD COLUMN webhook_ids text[] NOT NULL DEFAULT '{}';

-- The sync log holds pulls as well as pushes, and the run (a back-fill, a
-- "Sync now") a row belongs to.
ALTER TABLE sync_log ADD COLUMN direction text NOT NULL DEFAULT 'push' CHECK (direction IN ('push', 'pull'));
ALTER TABLE sync_log ADD COLUMN run_id uuid;
