-- Issue 18, orders to the CRM: an order Qwoty generated is written to its
-- CRM (a Salesforce Order with its products, a test CRM order...) when the
-- connection's adapter takes orders and its sync settings have the
-- "order" trigger (off by default), exactly once (docs/sync.md, "Orders in
-- the CRM").
--
-- A row is made, with its order_push job, in the transaction that
-- generates the order (store.queueOrderPush). The job moves it to
-- 'pushing' before it sends the order (a retry that finds it there looks
-- for the order in the CRM by its number before it sends it again) and to
-- 'done' with the CRM's id and the status written. A status change of the
-- order after it moves a done row back to 'pending' with a new job, which
-- updates the CRM's order. A permanent failure ends it 'failed' (its sync
-- log row says why).
CREATE TABLE order_pushes (
    order_id         uuid PRIMARY KEY REFERENCES orders(id) ON DELETE CASCADE,
    workspace_id     uuid NOT NULL REFERENCES workspaces(id),
    connection_id    uuid NOT NULL REFERENCES connections(id),
    crm_record_id    text NOT NULL,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'pushing', 'done', 'failed')),
    crm_order_id     text NOT NULL DEFAULT '',
    -- The order's status as the CRM's order holds it ('' before it is made).
    pushed_status    text NOT NULL DEFAULT '',
    -- A run holds the row until lease_until (store.ClaimOrderPush): two
    -- jobs of one order never write it to the CRM at once.
    lease_until      timestamptz,
    attempts         integer NOT NULL DEFAULT 0,
    last_error_code  text NOT NULL DEFAULT '',
    last_error       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    done_at          timestamptz
);
CREATE INDEX order_pushes_connection ON order_pushes (connection_id, state);

-- Orders made in the CRM on deals Qwoty knows are pulled in (origin
-- 'crm', read-only): the CRM's own number, its last-modification time (an
-- older version never overwrites a newer one) and its deletion (the copy
-- is marked, never deleted).
ALTER TABLE orders ADD COLUMN crm_number text NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN crm_modified timestamptz;
ALTER TABLE orders ADD COLUMN crm_deleted boolean NOT NULL DEFAULT false;
