-- The public REST API's own data (docs/api.md): external references that
-- link Qwoty's records to another system's, the keyset indexes of the
-- API's listings, and the answers kept for idempotent retries.

-- An external reference, system:type:id (qwoty.ParseExternalRef), that an
-- integration sets on what it created or linked; '' for none. Listings
-- filter on it, so each has an index of its own (only rows that have one).
ALTER TABLE quotes ADD COLUMN external_ref text NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN external_ref text NOT NULL DEFAULT '';
ALTER TABLE crm_contacts ADD COLUMN external_ref text NOT NULL DEFAULT '';
ALTER TABLE catalog_products ADD COLUMN external_ref text NOT NULL DEFAULT '';
CREATE INDEX quotes_external_ref ON quotes (connection_id, external_ref) WHERE external_ref <> '' AND deleted_at IS NULL;
CREATE INDEX customers_external_ref ON customers (connection_id, external_ref) WHERE external_ref <> '';
CREATE INDEX crm_contacts_external_ref ON crm_contacts (connection_id, external_ref) WHERE external_ref <> '';
CREATE INDEX catalog_products_external_ref ON catalog_products (connection_id, external_ref) WHERE external_ref <> '';

-- A contact may be linked to the customer (account) it works for.
ALTER TABLE crm_contacts ADD COLUMN customer_id uuid REFERENCES customers(id);
ALTER TABLE crm_contacts ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();

-- The API lists a connection's live quotes by (created_at, id), which
-- quotes_connection_created (009) serves, or by (updated_at, id) for
-- updatedAfter; and a customer's quotes. Customers and contacts page the
-- same way.
CREATE INDEX quotes_connection_updated ON quotes (connection_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX quotes_connection_customer ON quotes (connection_id, customer_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_connection_created ON customers (connection_id, created_at, id);
CREATE INDEX customers_connection_updated ON customers (connection_id, updated_at, id);
CREATE INDEX crm_contacts_connection_updated ON crm_contacts (connection_id, updated_at, email);

-- Idempotency-Key: the answer to a write, kept 24 hours per API key and
-- key, with the hash of the request it answered (method, path, body). A
-- row is inserted before the write runs (done = false), so a concurrent
-- duplicate finds it and waits for the answer instead of writing again;
-- a write that failed on our side (5xx) removes its row, so a retry runs.
CREATE TABLE api_idempotency (
    api_key_id    uuid NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash  bytea NOT NULL,
    done          boolean NOT NULL DEFAULT false,
    -- Until when the instance running the write holds it: a row still not
    -- done after that (its instance died) is taken over by the next retry.
    locked_until  timestamptz NOT NULL,
    status        integer NOT NULL DEFAULT 0,
    content_type  text NOT NULL DEFAULT '',
    location      text NOT NULL DEFAULT '',
    body          bytea NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (api_key_id, key)
);
CREATE INDEX api_idempotency_expires ON api_idempotency (expires_at);
