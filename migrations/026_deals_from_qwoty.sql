-- Issue 18, deals created from Qwoty (docs/deals.md): a quote made outside
-- a CRM record (through the API, for a customer) has crm_record_id ''. When
-- it reaches the status its connection's admin chose (sync_settings.
-- deal_status; '' never), a deal_creations row and its deal_create job are
-- inserted in the same transaction; the job finds or makes the customer's
-- account in the CRM (by the customer's link, else by name or domain as
-- the admin chose: account_match), then makes the deal on it, exactly once,
-- and the quote becomes a quote of that record.
ALTER TABLE sync_settings
    ADD COLUMN deal_status text NOT NULL DEFAULT 'sent' CHECK (deal_status IN ('', 'draft', 'sent', 'accepted')),
    ADD COLUMN account_match text NOT NULL DEFAULT 'name' CHECK (account_match IN ('name', 'domain'));

-- A customer Qwoty knows before the CRM does has crm_account_id '' (keyed
-- then by its external_ref, when it has one) until a deal of one of its
-- quotes links it. Its domain is what the "domain" match looks for.
ALTER TABLE customers ADD COLUMN domain text NOT NULL DEFAULT '';
ALTER TABLE customers DROP CONSTRAINT customers_connection_account;
CREATE UNIQUE INDEX customers_connection_account ON customers (workspace_id, connection_id, crm_account_id)
    WHERE crm_account_id <> '';
CREATE UNIQUE INDEX customers_unlinked_ref ON customers (connection_id, external_ref)
    WHERE crm_account_id = '' AND external_ref <> '';

-- The quotes still waiting for their deal, by connection (the console's
-- list, and the API's crmRecordId="" filter).
CREATE INDEX quotes_without_record ON quotes (connection_id, created_at) WHERE crm_record_id = '' AND deleted_at IS NULL;

-- One row per quote whose deal Qwoty makes. States:
--   pending   nothing sent yet;
--   account   the account's create call may have been sent (a retry looks
--             for it by its Qwoty reference before it sends it again);
--   deal      the account is known (crm_account_id) and the deal's create
--             call may have been sent (a retry looks for the deal first);
--   done      crm_record_id is the deal; the quote is on it;
--   failed    given up (last_error says why; "Retry" in the console moves
--             it back to pending).
CREATE TABLE deal_creations (
    quote_id         uuid PRIMARY KEY REFERENCES quotes(id) ON DELETE CASCADE,
    workspace_id     uuid NOT NULL REFERENCES workspaces(id),
    connection_id    uuid NOT NULL REFERENCES connections(id),
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'account', 'deal', 'done', 'failed')),
    crm_account_id   text NOT NULL DEFAULT '',
    -- How the account was found: linked, matched (by name or domain),
    -- created, or adopted (made by an earlier run whose answer was lost);
    -- '' when the quote has no customer.
    account_action   text NOT NULL DEFAULT '',
    crm_record_id    text NOT NULL DEFAULT '',
    lease_until      timestamptz,
    attempts         integer NOT NULL DEFAULT 0,
    last_error_code  text NOT NULL DEFAULT '',
    last_error       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    done_at          timestamptz
);
CREATE INDEX deal_creations_connection ON deal_creations (connection_id, state);
