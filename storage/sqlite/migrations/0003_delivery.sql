-- Delivery that survives: unreachable accounts, the relay's position, failed deliveries, pruning.

-- Accounts that cannot be messaged (blocked the bot, never allowed the community's messages): nothing
-- unsolicited goes to them until they write again or reopen the Mini App.
CREATE TABLE unreachable_accounts (
    account TEXT PRIMARY KEY,  -- channel:id
    reason  TEXT NOT NULL,
    since   TEXT NOT NULL
) WITHOUT ROWID;

-- How far each subscriber's relay has read the outbox, so a restart goes on from there.
CREATE TABLE outbox_cursors (
    subscriber TEXT PRIMARY KEY,
    event_id   INTEGER NOT NULL
) WITHOUT ROWID;

-- Events a subscriber has not managed to handle: tried again at next_at, or given up (dead) and listed
-- by `vitrina outbox failed`.
CREATE TABLE outbox_failures (
    subscriber TEXT NOT NULL,
    event_id   INTEGER NOT NULL REFERENCES outbox(id),
    attempts   INTEGER NOT NULL,
    next_at    TEXT NOT NULL,
    error      TEXT NOT NULL DEFAULT '',
    dead       INTEGER NOT NULL DEFAULT 0,
    failed_at  TEXT NOT NULL,
    PRIMARY KEY (subscriber, event_id)
) WITHOUT ROWID;
CREATE INDEX outbox_failures_event ON outbox_failures(event_id);

-- Pruning after the retention period reads these by time or by event.
CREATE INDEX outbox_handled_event ON outbox_handled(event_id);
CREATE INDEX processed_updates_at ON processed_updates(at);
CREATE INDEX link_failures_at ON link_failures(at);
