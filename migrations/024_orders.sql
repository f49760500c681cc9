-- Issue 18, orders: accepting a quote generates an order (docs/orders.md),
-- once, in the transaction of the acceptance (store.generateOrder): the
-- lines and totals of the revision accepted, frozen, numbered per
-- workspace. An order the CRM made on a deal Qwoty knows is pulled in with
-- origin 'crm' (read-only in Qwoty).
ALTER TABLE workspaces ADD COLUMN next_order_number bigint NOT NULL DEFAULT 1;

CREATE TABLE orders (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id     uuid NOT NULL REFERENCES workspaces(id),
    connection_id    uuid NOT NULL REFERENCES connections(id),
    crm_record_id    text NOT NULL,
    number           text NOT NULL,
    origin           text NOT NULL DEFAULT 'qwoty' CHECK (origin IN ('qwoty', 'crm')),
    -- The quote and revision it was made from (origin 'qwoty').
    quote_id         uuid REFERENCES quotes(id) ON DELETE SET NULL,
    quote_number     text NOT NULL DEFAULT '',
    revision         integer NOT NULL DEFAULT 0,
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'fulfilled', 'cancelled')),
    customer_id      uuid REFERENCES customers(id) ON DELETE SET NULL,
    customer_name    text NOT NULL DEFAULT '',
    currency         text NOT NULL,
    subtotal         numeric NOT NULL DEFAULT 0,
    discount         numeric NOT NULL DEFAULT 0,
    quote_discount   numeric NOT NULL DEFAULT 0,
    tax              numeric NOT NULL DEFAULT 0,
    total            numeric NOT NULL DEFAULT 0,
    -- The order's id in the CRM once pushed, or the pulled order's.
    crm_order_id     text NOT NULL DEFAULT '',
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (origin = 'crm' OR quote_number <> ''),
    UNIQUE (workspace_id, number)
);
-- One order per quote, whatever the number of times acceptance is tried.
CREATE UNIQUE INDEX orders_quote ON orders (quote_id) WHERE quote_id IS NOT NULL;
-- One Qwoty order per CRM order.
CREATE UNIQUE INDEX orders_crm_order ON orders (connection_id, crm_order_id) WHERE crm_order_id <> '';
CREATE INDEX orders_record ON orders (workspace_id, connection_id, crm_record_id);
CREATE INDEX orders_workspace ON orders (workspace_id, created_at DESC);

CREATE TABLE order_lines (
    order_id         uuid NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    position         integer NOT NULL,
    product_crm_id   text NOT NULL DEFAULT '',
    sku              text NOT NULL DEFAULT '',
    description      text NOT NULL DEFAULT '',
    quantity         numeric NOT NULL,
    unit_price       numeric NOT NULL,
    discount_percent numeric NOT NULL DEFAULT 0,
    amount           numeric NOT NULL,
    discount         numeric NOT NULL DEFAULT 0,
    tax              numeric NOT NULL DEFAULT 0,
    net              numeric NOT NULL,
    PRIMARY KEY (order_id, position)
);
