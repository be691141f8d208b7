-- The whole shop in one file. Money columns are integer minor units; times are ISO-8601 UTC text.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE customers (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL DEFAULT '',
    language      TEXT NOT NULL DEFAULT 'ru',
    source        TEXT NOT NULL DEFAULT '',
    consent       INTEGER NOT NULL DEFAULT 1,
    referral_code TEXT NOT NULL UNIQUE,
    referred_by   TEXT REFERENCES customers(id) ON DELETE SET NULL,
    merged_into   TEXT REFERENCES customers(id),
    created_at    TEXT NOT NULL
);

CREATE TABLE accounts (
    channel     TEXT NOT NULL CHECK (channel IN ('telegram', 'vk', 'web')),
    external_id TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    name        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (channel, external_id)
) WITHOUT ROWID;
CREATE INDEX accounts_customer ON accounts(customer_id);

CREATE TABLE link_codes (
    code        TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    expires_at  TEXT NOT NULL,
    used        INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE categories (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE items (
    id            TEXT PRIMARY KEY,
    category_id   TEXT NOT NULL REFERENCES categories(id),
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    photo         TEXT NOT NULL DEFAULT '',
    price         INTEGER NOT NULL CHECK (price >= 0),
    currency      TEXT NOT NULL DEFAULT 'RUB',
    option_groups TEXT NOT NULL DEFAULT '[]',  -- JSON, read and written whole with the item
    tags          TEXT NOT NULL DEFAULT '[]',
    available     INTEGER NOT NULL DEFAULT 1,
    position      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE points (
    id           TEXT PRIMARY KEY CHECK (id GLOB '[a-z0-9]*' AND id NOT GLOB '*[^a-z0-9]*'),
    name         TEXT NOT NULL,
    address      TEXT NOT NULL DEFAULT '',
    lat          REAL,
    lon          REAL,
    hours        TEXT NOT NULL,
    prep_minutes INTEGER NOT NULL DEFAULT 10
);

-- A row means the item is counted at that point; no row means it is made to order (unlimited).
CREATE TABLE stock (
    point_id TEXT NOT NULL REFERENCES points(id),
    item_id  TEXT NOT NULL REFERENCES items(id),
    quantity INTEGER NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (point_id, item_id)
) WITHOUT ROWID;

CREATE TABLE promos (
    code              TEXT PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('percent', 'fixed')),
    value             INTEGER NOT NULL CHECK (value > 0),
    expires_at        TEXT,
    max_uses          INTEGER,
    used              INTEGER NOT NULL DEFAULT 0,
    once_per_customer INTEGER NOT NULL DEFAULT 1,
    active            INTEGER NOT NULL DEFAULT 1,
    CHECK (max_uses IS NULL OR used <= max_uses)
);

CREATE TABLE promo_uses (
    code        TEXT NOT NULL REFERENCES promos(code),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    order_id    TEXT NOT NULL
);
CREATE INDEX promo_uses_customer ON promo_uses(code, customer_id);

CREATE TABLE orders (
    id               TEXT PRIMARY KEY,
    customer_id      TEXT NOT NULL REFERENCES customers(id),
    point_id         TEXT NOT NULL REFERENCES points(id),
    status           TEXT NOT NULL,
    lines            TEXT NOT NULL,  -- JSON snapshot: names and prices as sold
    currency         TEXT NOT NULL,
    subtotal         INTEGER NOT NULL,
    discount         INTEGER NOT NULL,
    points_spent     INTEGER NOT NULL,
    total            INTEGER NOT NULL CHECK (total >= 0),
    promo_code       TEXT,
    source           TEXT NOT NULL DEFAULT '',
    payment_provider TEXT NOT NULL,
    account          TEXT NOT NULL DEFAULT '',  -- channel:id the order was placed from, for notifications
    short_code       TEXT NOT NULL,
    pickup_at        TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX orders_customer ON orders(customer_id, created_at);
CREATE INDEX orders_point_status ON orders(point_id, status);
-- a short code is unique among a point's open orders
CREATE UNIQUE INDEX orders_open_short_code ON orders(point_id, short_code)
    WHERE status IN ('placed', 'accepted', 'ready');

CREATE TABLE order_history (
    order_id TEXT NOT NULL REFERENCES orders(id),
    status   TEXT NOT NULL,
    at       TEXT NOT NULL
);
CREATE INDEX order_history_order ON order_history(order_id);

CREATE TABLE payments (
    id              TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL REFERENCES orders(id),
    provider        TEXT NOT NULL,
    amount          INTEGER NOT NULL CHECK (amount >= 0),
    currency        TEXT NOT NULL,
    status          TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    provider_ref    TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX payments_order ON payments(order_id);

CREATE TABLE ledger (
    id          INTEGER PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    delta       INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    order_id    TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX ledger_customer ON ledger(customer_id);

CREATE TABLE staff (
    channel     TEXT NOT NULL,
    external_id TEXT NOT NULL,
    point_id    TEXT NOT NULL,  -- '*' for every point
    PRIMARY KEY (channel, external_id, point_id)
) WITHOUT ROWID;

CREATE TABLE visits (
    id          INTEGER PRIMARY KEY,
    param       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    customer_id TEXT,
    at          TEXT NOT NULL
);

-- Updates from Telegram and VK already handled, so a redelivered one is handled once.
CREATE TABLE processed_updates (
    channel   TEXT NOT NULL,
    update_id TEXT NOT NULL,
    at        TEXT NOT NULL,
    PRIMARY KEY (channel, update_id)
) WITHOUT ROWID;

CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    type       TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE outbox_handled (
    subscriber TEXT NOT NULL,
    event_id   INTEGER NOT NULL REFERENCES outbox(id),
    handled_at TEXT NOT NULL,
    PRIMARY KEY (subscriber, event_id)
) WITHOUT ROWID;

-- The balance is the sum of the ledger and never goes below zero, whoever writes.
CREATE TRIGGER ledger_never_negative BEFORE INSERT ON ledger
WHEN NEW.delta < 0 AND (SELECT COALESCE(SUM(delta), 0) FROM ledger WHERE customer_id = NEW.customer_id) + NEW.delta < 0
BEGIN
    SELECT RAISE(ABORT, 'points_insufficient');
END;

-- Reviews come only from verified purchases: one per customer, order and item.
CREATE TABLE reviews (
    order_id    TEXT NOT NULL REFERENCES orders(id),
    item_id     TEXT NOT NULL REFERENCES items(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    rating      INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    text        TEXT NOT NULL DEFAULT '',
    author      TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    PRIMARY KEY (order_id, item_id)
) WITHOUT ROWID;
CREATE INDEX reviews_item ON reviews(item_id, created_at);
