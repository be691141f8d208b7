-- Suggestions and points (journey/suggestions.py, journey/loyalty.py). Every table here is an aggregate
-- written at pickup (or a small record of its own), so a menu or a profile reads a few indexed rows and never
-- the year's orders.

-- "Your usual": how often each customer picked up each line (an item with the options chosen).
CREATE TABLE usual_lines (
    customer_id TEXT NOT NULL REFERENCES customers(id),
    item_id     TEXT NOT NULL,
    options     TEXT NOT NULL,  -- the option ids chosen, as canonical JSON: {"milk": ["oat"]}
    times       INTEGER NOT NULL CHECK (times > 0),
    last_at     TEXT NOT NULL,
    PRIMARY KEY (customer_id, item_id, options)
);

-- "Often taken together": picked-up orders holding both items, kept both ways round.
CREATE TABLE item_pairs (
    item_id  TEXT NOT NULL,
    other_id TEXT NOT NULL,
    orders   INTEGER NOT NULL CHECK (orders > 0),
    PRIMARY KEY (item_id, other_id)
);

-- "Now": what picked-up orders held, by the hour of the shop's clock they were placed in.
CREATE TABLE item_hours (
    hour     INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
    item_id  TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (hour, item_id)
);

-- Tiers: what each customer paid for picked-up orders, per day of the shop's clock (a tier sums <= 366 rows).
CREATE TABLE customer_spend (
    customer_id TEXT NOT NULL REFERENCES customers(id),
    day         TEXT NOT NULL,  -- YYYY-MM-DD
    amount      INTEGER NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (customer_id, day)
);

-- The birthday a customer chose to give (day and month only), the discount's use and the greeting, each
-- once per year of the birthday (a window across New Year belongs to the birthday's year).
CREATE TABLE birthdays (
    customer_id TEXT PRIMARY KEY REFERENCES customers(id),
    month       INTEGER NOT NULL CHECK (month BETWEEN 1 AND 12),
    day         INTEGER NOT NULL CHECK (day BETWEEN 1 AND 31),
    set_at      TEXT NOT NULL
);
CREATE INDEX birthdays_date ON birthdays(month, day);

CREATE TABLE birthday_uses (
    customer_id TEXT NOT NULL REFERENCES customers(id),
    year        INTEGER NOT NULL,
    order_id    TEXT NOT NULL,  -- a cancelled or expired order gives the year's discount back
    at          TEXT NOT NULL,
    PRIMARY KEY (customer_id, year, order_id)
);

CREATE TABLE birthday_greetings (
    customer_id TEXT NOT NULL REFERENCES customers(id),
    year        INTEGER NOT NULL,
    at          TEXT NOT NULL,
    PRIMARY KEY (customer_id, year)
);

-- Expiry finds the credits that came due since its last run, and the profile pages the history newest first.
CREATE INDEX ledger_credits_at ON ledger(at) WHERE delta > 0;
CREATE INDEX ledger_customer_id ON ledger(customer_id, id);
