-- What owners change from the chat: the audit log (who, when, before, after; undo marks an entry) and the
-- dialogs that span several messages (kept here so they survive a restart and reach any instance).
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    before  TEXT,             -- JSON, NULL for something created
    after   TEXT,             -- JSON, NULL for something removed
    undone  INTEGER NOT NULL DEFAULT 0 CHECK (undone IN (0, 1))
);
CREATE INDEX audit_log_actor ON audit_log(actor, id);

CREATE TABLE dialogs (
    account    TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    state      TEXT NOT NULL,  -- JSON
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
