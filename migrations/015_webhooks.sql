-- Reserved for outgoing webhooks (subscriptions, events, deliveries):
-- filled in by the webhooks' work.
SELECT 1;
