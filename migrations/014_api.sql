-- Reserved for the API's own tables (idempotency keys, ...): filled in by
-- the API's work.
SELECT 1;
