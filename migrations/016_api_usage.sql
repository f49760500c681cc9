-- API keys' rate limits and usage (api/ratelimit.go, store/apiusage.go).
-- One request costs one statement (store.TakeAPIRequest) that takes a
-- token from the key's bucket, counts the request in the key's day and
-- stamps the key's last use. Bounded: one bucket per key, and one row per
-- key and UTC day, of which the last 35 days are kept (older ones go at a
-- key's first request of a day).

-- A token bucket per key, shared by every instance: tokens as they stood
-- at refilled_at (the level now is that plus the refill since, at most
-- the burst). allowed is the last request's answer, for the statement to
-- return it.
CREATE TABLE api_key_buckets (
    key_id      uuid PRIMARY KEY REFERENCES api_keys(id) ON DELETE CASCADE,
    tokens      float8 NOT NULL,
    refilled_at timestamptz NOT NULL,
    allowed     boolean NOT NULL
);

-- Requests per key and UTC day: accepted (handled) and refused (429).
CREATE TABLE api_key_usage (
    key_id   uuid NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    day      date NOT NULL,
    accepted bigint NOT NULL DEFAULT 0,
    refused  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, day)
);
