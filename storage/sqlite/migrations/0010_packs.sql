-- Points packs bought with Telegram Stars (digital goods). A purchase is paid once per Telegram charge and
-- refunded at most once (refundStarPayment); the charge id is unique, so a repeated successful_payment
-- finds the purchase it already paid.
CREATE TABLE pack_purchases (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    account     TEXT NOT NULL,
    points      INTEGER NOT NULL CHECK (points > 0),
    stars       INTEGER NOT NULL CHECK (stars > 0),
    status      TEXT NOT NULL,
    charge_id   TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX pack_purchases_charge ON pack_purchases(charge_id) WHERE charge_id != '';
CREATE INDEX pack_purchases_customer ON pack_purchases(customer_id, created_at);
