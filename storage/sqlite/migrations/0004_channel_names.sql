-- A channel is a registered name, not a closed list: an account keeps any well-formed channel name, so a
-- third messenger needs no migration. SQLite cannot drop a CHECK in place: the table is copied.
CREATE TABLE accounts_any_channel (
    channel     TEXT NOT NULL CHECK (length(channel) BETWEEN 1 AND 32),
    external_id TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    name        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (channel, external_id)
) WITHOUT ROWID;
INSERT INTO accounts_any_channel (channel, external_id, customer_id, name)
    SELECT channel, external_id, customer_id, name FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_any_channel RENAME TO accounts;
CREATE INDEX accounts_customer ON accounts(customer_id);
