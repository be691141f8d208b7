-- Background jobs that run at one place at a time when several processes share this file (storage/sqlite/jobs.py):
-- the outbox relay's round per subscriber, the expiry sweep, the reconcile, the broadcaster. A holder renews its
-- lease while it works; one that was killed lets it lapse, and another process takes the job over.
CREATE TABLE job_leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,  -- host:pid:random of the process holding it
    until      REAL NOT NULL,  -- seconds since the epoch: free once passed (0 when let go)
    started_at REAL NOT NULL   -- when a round of the job last began: a periodic job runs once per period
);
