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

-- backfill: orders picked up before this migration count as if each had been counted at its pickup (the
-- hour of day is left out: it needs the shop's time zone; it fills from the next pickups). A line's options
-- key is the canonical JSON of journey/suggestions.py options_key: groups by name, ids sorted, empty left out.
INSERT INTO customer_spend (customer_id, day, amount)
SELECT customer_id, substr(updated_at, 1, 10), SUM(total) FROM orders WHERE status = 'picked_up'
GROUP BY customer_id, substr(updated_at, 1, 10);

INSERT INTO item_pairs (item_id, other_id, orders)
SELECT a.item_id, b.item_id, COUNT(*)
FROM (SELECT DISTINCT o.id AS order_id, json_extract(l.value, '$.item') AS item_id
      FROM orders o, json_each(o.lines) l WHERE o.status = 'picked_up') a
JOIN (SELECT DISTINCT o.id AS order_id, json_extract(l.value, '$.item') AS item_id
      FROM orders o, json_each(o.lines) l WHERE o.status = 'picked_up') b
  ON b.order_id = a.order_id AND b.item_id <> a.item_id
GROUP BY a.item_id, b.item_id;

INSERT INTO usual_lines (customer_id, item_id, options, times, last_at)
SELECT customer_id, item_id, options, COUNT(*), MAX(updated_at)
FROM (SELECT o.customer_id, o.updated_at, json_extract(l.value, '$.item') AS item_id,
             (SELECT json_group_object(g.name, json(g.ids))
              FROM (SELECT k.key AS name,
                           (SELECT json_group_array(v.value) FROM (SELECT value FROM json_each(k.value) ORDER BY value) v)
                             AS ids
                    FROM json_each(json_extract(l.value, '$.option_ids')) k
                    WHERE json_array_length(k.value) > 0 ORDER BY k.key) g) AS options
      FROM orders o, json_each(o.lines) l WHERE o.status = 'picked_up') picked
GROUP BY customer_id, item_id, options;
