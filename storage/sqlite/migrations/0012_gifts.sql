-- Gifts: a customer buys an item (or an amount) for a friend, paid online; the friend who takes its
-- g<code> link orders with it at a point. A gift's payment is a row of payments like an order's, whose
-- order_id holds the gift's id, so payments.order_id can no longer reference orders: the table is rebuilt
-- without that reference (journey/paying.py looks the id up as an order or a gift).
CREATE TABLE payments_new (
    id              TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL,
    provider        TEXT NOT NULL,
    amount          INTEGER NOT NULL CHECK (amount >= 0),
    currency        TEXT NOT NULL,
    status          TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    provider_ref    TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    link               TEXT NOT NULL DEFAULT '',
    refunded           INTEGER NOT NULL DEFAULT 0 CHECK (refunded >= 0),
    charge_id          TEXT NOT NULL DEFAULT '',
    provider_charge_id TEXT NOT NULL DEFAULT '',
    manual_refund      INTEGER NOT NULL DEFAULT 0 CHECK (manual_refund >= 0),
    settled            INTEGER NOT NULL DEFAULT 0
);
INSERT INTO payments_new (id, order_id, provider, amount, currency, status, idempotency_key, provider_ref,
                          created_at, updated_at, link, refunded, charge_id, provider_charge_id, manual_refund,
                          settled)
    SELECT id, order_id, provider, amount, currency, status, idempotency_key, provider_ref, created_at,
           updated_at, link, refunded, charge_id, provider_charge_id, manual_refund, settled FROM payments;
DROP TABLE payments;
ALTER TABLE payments_new RENAME TO payments;
CREATE INDEX payments_order ON payments(order_id);
CREATE UNIQUE INDEX payments_charge ON payments(charge_id) WHERE charge_id != '';
CREATE INDEX payments_provider_ref ON payments(provider, provider_ref) WHERE provider_ref != '';
CREATE INDEX payments_unsettled ON payments(provider, created_at) WHERE settled = 0;

CREATE TABLE gifts (
    id             TEXT PRIMARY KEY,
    code           TEXT NOT NULL UNIQUE,
    giver_id       TEXT NOT NULL REFERENCES customers(id),
    giver_channel  TEXT NOT NULL,
    giver_external TEXT NOT NULL,
    giver_name     TEXT NOT NULL DEFAULT '',
    giver_language TEXT NOT NULL DEFAULT 'ru',
    item_id        TEXT,
    title          TEXT NOT NULL DEFAULT '',
    amount         INTEGER NOT NULL CHECK (amount > 0),
    currency       TEXT NOT NULL,
    message        TEXT NOT NULL DEFAULT '',
    provider       TEXT NOT NULL,
    status         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    expires_at     TEXT,
    friend_id      TEXT REFERENCES customers(id),
    friend_channel  TEXT,
    friend_external TEXT,
    friend_name     TEXT,
    friend_language TEXT,
    order_id       TEXT,
    reason         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX gifts_status ON gifts(status, expires_at);
CREATE INDEX gifts_order ON gifts(order_id);
