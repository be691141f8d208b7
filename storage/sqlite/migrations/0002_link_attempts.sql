-- Wrong link codes entered per account, so a 6-digit code cannot be guessed by trying them all.
CREATE TABLE link_failures (
    account TEXT NOT NULL,  -- channel:id
    at      TEXT NOT NULL
);
CREATE INDEX link_failures_account ON link_failures(account, at);
