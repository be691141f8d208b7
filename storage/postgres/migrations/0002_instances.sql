-- Several instances on one database (storage/postgres/jobs.py).

-- When a round of a periodic job (the expiry sweep, pruning, the reconcile) last began, by the server's clock:
-- whoever holds the job's advisory lock runs a round only when the period has passed since then, so the job
-- runs once per period however many instances wake for it. Who runs a job now is the advisory lock itself
-- (pg_try_advisory_lock): it goes with its connection, so a killed instance frees the job at once. SQLite's
-- job_leases has no rows worth copying here: nobody holds anything when a shop moves.
CREATE TABLE job_runs (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,  -- host:pid:random of the instance that began the last round
    started_at TIMESTAMPTZ NOT NULL
);

-- The send-rate budget every instance shares (adapters/ratelimit.py): per key (a bot, a bot's chat) the
-- generic cell rate algorithm's theoretical arrival time, in seconds since the epoch by the server's clock.
CREATE TABLE send_budget (
    key TEXT PRIMARY KEY,
    tat DOUBLE PRECISION NOT NULL
);

-- One reservation: the first moment every cell allows one more send (at_s), the cells' times moved past it,
-- and when it was booked (now_s; the sender waits the difference). Cells are locked in key order (no deadlock
-- between reservations); the clock is read after the locks, so a wait for another reservation is not lost.
CREATE FUNCTION send_budget_reserve(keys TEXT[], intervals DOUBLE PRECISION[], tolerances DOUBLE PRECISION[],
                                    OUT at_s DOUBLE PRECISION, OUT now_s DOUBLE PRECISION)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO send_budget (key, tat) SELECT k, 0 FROM unnest(keys) AS k ORDER BY k ON CONFLICT (key) DO NOTHING;
    PERFORM 1 FROM send_budget WHERE key = ANY(keys) ORDER BY key FOR UPDATE;
    now_s := extract(epoch FROM clock_timestamp());
    SELECT GREATEST(now_s, MAX(b.tat - c.tolerance)) INTO at_s
      FROM unnest(keys, tolerances) AS c(key, tolerance) JOIN send_budget b ON b.key = c.key;
    UPDATE send_budget b SET tat = GREATEST(b.tat, at_s) + c.step
      FROM unnest(keys, intervals) AS c(key, step) WHERE b.key = c.key;
END $$;
