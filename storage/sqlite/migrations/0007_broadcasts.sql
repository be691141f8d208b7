-- Broadcasts: the owner's message to every customer who agreed to news, and one row per recipient that
-- senders claim before sending, so nobody is sent it twice whichever process sends and whatever restarts.
CREATE TABLE broadcasts (
    id          INTEGER PRIMARY KEY,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'sending', 'done', 'stopped', 'cancelled')),
    text        TEXT NOT NULL,
    author      TEXT NOT NULL,             -- channel:id of the owner, or 'cli'
    language    TEXT NOT NULL DEFAULT 'ru', -- the author's, for the progress reports
    channels    TEXT NOT NULL,             -- comma-separated, in order of preference
    created_at  TEXT NOT NULL,
    started_at  TEXT,
    finished_at TEXT,
    reported    INTEGER NOT NULL DEFAULT 0 -- the last progress milestone (percent) told to the author
);
-- one broadcast is sent at a time
CREATE UNIQUE INDEX broadcasts_one_sending ON broadcasts(status) WHERE status = 'sending';

CREATE TABLE broadcast_recipients (
    id           INTEGER PRIMARY KEY,      -- also the key of the send (VK's random_id)
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id),
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    language     TEXT NOT NULL DEFAULT 'ru',
    status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'unconfirmed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      TEXT,                     -- a row put back after a transient failure waits until then
    claimed_at   TEXT,
    done_at      TEXT,
    error        TEXT NOT NULL DEFAULT '',
    UNIQUE (broadcast_id, channel, external_id)
);
CREATE INDEX broadcast_recipients_status ON broadcast_recipients(broadcast_id, status, channel);
