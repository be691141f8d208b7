-- Group orders: an organiser opens a group for one pickup point and time; friends who open its j<code> link
-- add their lines within the window; when it closes the members with lines are counted once, and the
-- discount applies to everyone when they reached the goal fixed at opening (min_people, percent).
CREATE TABLE group_orders (
    id           TEXT PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    organiser_id TEXT NOT NULL REFERENCES customers(id),
    organiser_channel  TEXT NOT NULL,
    organiser_external TEXT NOT NULL,
    organiser_name     TEXT NOT NULL DEFAULT '',
    organiser_language TEXT NOT NULL DEFAULT 'ru',
    point_id     TEXT NOT NULL,
    pickup_at    TEXT,
    payer        TEXT NOT NULL CHECK (payer IN ('organiser', 'each')),
    payment      TEXT NOT NULL,
    min_people   INTEGER NOT NULL CHECK (min_people >= 1),
    percent      INTEGER NOT NULL CHECK (percent >= 0 AND percent <= 100),
    status       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    closes_at    TEXT NOT NULL,
    closed_at    TEXT,
    reason       TEXT NOT NULL DEFAULT '',
    discounted   INTEGER NOT NULL DEFAULT 0,
    email        TEXT NOT NULL DEFAULT '',
    return_url   TEXT NOT NULL DEFAULT '',
    order_id     TEXT
);
CREATE INDEX group_orders_status ON group_orders(status, closes_at);

-- One row per customer in a group: joining again replaces the lines (ids and quantities, priced on close).
CREATE TABLE group_members (
    group_id    TEXT NOT NULL REFERENCES group_orders(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    channel     TEXT NOT NULL,
    external_id TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    language    TEXT NOT NULL DEFAULT 'ru',
    lines       TEXT NOT NULL,
    joined_at   TEXT NOT NULL,
    order_id    TEXT,
    PRIMARY KEY (group_id, customer_id)
);
