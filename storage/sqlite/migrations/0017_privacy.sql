-- Personal data (152-FZ, journey/privacy.py): consents to processing, when a customer was last seen (the
-- retention period counts from it) and when a customer was forgotten (the row stays as an anonymous tombstone
-- that orders and the points ledger still point at).
CREATE TABLE consents (
    id          INTEGER PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    version     TEXT NOT NULL,  -- the policy's version consented to
    given_at    TEXT NOT NULL,
    channel     TEXT NOT NULL   -- where it was given: telegram, vk, web
);
CREATE INDEX consents_customer ON consents(customer_id, given_at);

ALTER TABLE customers ADD COLUMN seen_at TEXT;       -- written at most once a day
ALTER TABLE customers ADD COLUMN forgotten_at TEXT;

-- export and forget read a person's visits; the retention job asks whether a customer has any recent one
CREATE INDEX visits_customer ON visits(customer_id, at);
