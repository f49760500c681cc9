-- Outgoing webhooks (docs/api.md, "Webhooks"): subscriptions of one
-- workspace and CRM account (connection), the events of that account, and
-- one delivery per event and matching subscription, whose id is the
-- webhook-id the receiver deduplicates by (the same on every attempt).

CREATE TABLE webhook_subscriptions (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id          uuid NOT NULL REFERENCES workspaces(id),
    connection_id         uuid NOT NULL REFERENCES connections(id),
    url                   text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    description           text NOT NULL DEFAULT '' CHECK (length(description) <= 200),
    event_types           text[] NOT NULL CHECK (cardinality(event_types) > 0),
    -- Filters: empty matches everything.
    filter_statuses       text[] NOT NULL DEFAULT '{}',
    filter_customer_id    text NOT NULL DEFAULT '',
    -- The signing secret, sealed with the keyring; during a rotation the
    -- previous one signs too until previous_expires_at.
    secret                bytea NOT NULL,
    previous_secret       bytea,
    previous_expires_at   timestamptz,
    enabled               boolean NOT NULL DEFAULT true,
    disabled_reason       text NOT NULL DEFAULT '',
    -- Since when every delivery has failed (NULL: the last one succeeded).
    failing_since         timestamptz,
    created_by            text NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_subscriptions_connection ON webhook_subscriptions (workspace_id, connection_id, created_at);

CREATE TABLE webhook_events (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id  uuid NOT NULL REFERENCES workspaces(id),
    connection_id uuid NOT NULL REFERENCES connections(id),
    type          text NOT NULL,
    subject       text NOT NULL DEFAULT '',
    -- The body sent, exactly: {"type", "timestamp", "data"}.
    payload       bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE event_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id        uuid NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
    subscription_id uuid NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
    workspace_id    uuid NOT NULL,
    connection_id   uuid NOT NULL,
    event_type      text NOT NULL,
    -- pending (waiting for an attempt or a retry), succeeded, failed (no
    -- attempt left; redelivery makes it pending again).
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'succeeded', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    status_code     integer NOT NULL DEFAULT 0,
    response        text NOT NULL DEFAULT '',
    duration_ms     integer NOT NULL DEFAULT 0,
    error           text NOT NULL DEFAULT '',
    next_attempt_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
CREATE INDEX event_deliveries_list ON event_deliveries (workspace_id, connection_id, created_at DESC, id DESC);
CREATE INDEX event_deliveries_subscription ON event_deliveries (subscription_id, state);

-- Every attempt of a delivery: the log an admin reads.
CREATE TABLE event_delivery_attempts (
    id           bigserial PRIMARY KEY,
    delivery_id  uuid NOT NULL REFERENCES event_deliveries(id) ON DELETE CASCADE,
    attempt      integer NOT NULL,
    status_code  integer NOT NULL DEFAULT 0,
    response     text NOT NULL DEFAULT '',
    duration_ms  integer NOT NULL DEFAULT 0,
    error        text NOT NULL DEFAULT '',
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_delivery_attempts_delivery ON event_delivery_attempts (delivery_id, id);
