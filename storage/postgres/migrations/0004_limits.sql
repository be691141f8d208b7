-- Abuse limits (journey/limits.py): one token bucket per key (what is limited and for whom, e.g.
-- "orders:telegram:123" or "addr:orders:203.0.113.7"), shared by every instance on this database.
-- tokens: what the bucket held at `at` (seconds since the epoch, by the engine's clock); wait: the answer of the
-- last take (0 allowed, else the seconds to wait), written by the same statement so it reads back atomically.
CREATE TABLE rate_limits (
    key    TEXT PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    at     DOUBLE PRECISION NOT NULL,
    wait   DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE INDEX rate_limits_at ON rate_limits (at);
