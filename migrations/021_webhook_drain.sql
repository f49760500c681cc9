-- Webhook deliveries are sent in batches (webhooks/deliver.go): a River
-- job per subscription leases its due deliveries, a batch at a time, sends
-- them concurrently and records the batch's outcomes in one statement.
--
-- lease_until: a worker holds the delivery until then (a worker that dies
--   leaves it to the next lease once it runs out).
-- tries: the attempts of the current round (a redelivery starts a new one);
--   attempts still counts them all, for the log.
-- next_attempt_at: when a pending delivery is due; set from its creation.
ALTER TABLE event_deliveries
    ADD COLUMN lease_until timestamptz,
    ADD COLUMN tries integer NOT NULL DEFAULT 0,
    ALTER COLUMN next_attempt_at SET DEFAULT now();
UPDATE event_deliveries SET next_attempt_at = coalesce(next_attempt_at, created_at) WHERE state = 'pending';

-- A subscription's due deliveries, oldest first (the lease), and the
-- subscriptions with any due (the sweep).
CREATE INDEX event_deliveries_due ON event_deliveries (subscription_id, next_attempt_at) WHERE state = 'pending';

-- The daily prune (store.PruneWebhooks): ended deliveries by age, and
-- events left without a delivery.
CREATE INDEX event_deliveries_ended ON event_deliveries (updated_at) WHERE state <> 'pending';
CREATE INDEX event_deliveries_event ON event_deliveries (event_id);
