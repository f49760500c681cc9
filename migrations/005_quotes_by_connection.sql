-- A quote belongs to the CRM account it was made in (its connection), not
-- only to the workspace: a workspace that moves to another CRM account, whose
-- record ids may be the same (HubSpot and Pipedrive deal ids are small
-- integers, a sandbox copies its production org's ids), must not see or edit
-- the first account's quotes, and gets them back when that account returns.
-- Customers are the CRM's accounts, so they are per connection too.

-- Customers: one per (connection, CRM account id). A customer row that
-- quotes of several connections share (the leak this closes) is split, one
-- copy per connection; a customer no quote uses is dropped, since it is only
-- the CRM's name for an account, written again by that account's next card
-- request.
ALTER TABLE customers ADD COLUMN connection_id uuid REFERENCES connections(id);
ALTER TABLE customers DROP CONSTRAINT customers_workspace_id_crm_account_id_key;

CREATE TEMPORARY TABLE customer_owners ON COMMIT DROP AS
SELECT customer_id, connection_id,
       CASE WHEN n = 1 THEN customer_id ELSE gen_random_uuid() END AS new_id, n
FROM (
    SELECT customer_id, connection_id, row_number() OVER (PARTITION BY customer_id ORDER BY connection_id) AS n
    FROM (SELECT DISTINCT customer_id, connection_id FROM quotes WHERE customer_id IS NOT NULL) used
) numbered;

INSERT INTO customers (id, workspace_id, connection_id, crm_account_id, name, created_at, updated_at)
SELECT o.new_id, cu.workspace_id, o.connection_id, cu.crm_account_id, cu.name, cu.created_at, cu.updated_at
FROM customer_owners o JOIN customers cu ON cu.id = o.customer_id
WHERE o.n > 1;

UPDATE quotes q SET customer_id = o.new_id
FROM customer_owners o
WHERE o.n > 1 AND q.customer_id = o.customer_id AND q.connection_id = o.connection_id;

UPDATE customers cu SET connection_id = o.connection_id
FROM customer_owners o
WHERE o.n = 1 AND cu.id = o.customer_id;

DELETE FROM customers WHERE connection_id IS NULL;

ALTER TABLE customers ALTER COLUMN connection_id SET NOT NULL;
ALTER TABLE customers ADD CONSTRAINT customers_connection_account UNIQUE (workspace_id, connection_id, crm_account_id);
-- A quote's customer is one of its own connection's.
ALTER TABLE customers ADD CONSTRAINT customers_id_connection UNIQUE (id, connection_id);
ALTER TABLE quotes ADD CONSTRAINT quotes_customer_of_connection
    FOREIGN KEY (customer_id, connection_id) REFERENCES customers (id, connection_id);

-- The card lists a record's live quotes of one connection, newest first.
CREATE INDEX quotes_connection_record ON quotes (workspace_id, connection_id, crm_record_id, updated_at DESC) WHERE deleted_at IS NULL;
DROP INDEX quotes_record;
