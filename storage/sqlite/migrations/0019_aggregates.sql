-- Aggregates kept instead of recomputed (issue 14): a customer's points balance and an item's rating are read
-- on every message and every menu rebuild, and summing the ledger or grouping the reviews grows with history.
-- Each is kept by triggers on the rows it sums, so whoever writes them (the engine, a merge of two customers,
-- a copy, a data fix) keeps it right in the same transaction, and the figure always equals the sum.

-- The sum of each customer's ledger rows (a customer without rows has none: a balance of 0).
CREATE TABLE balances (
    customer_id TEXT PRIMARY KEY REFERENCES customers(id),
    points      INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER ledger_balance_insert AFTER INSERT ON ledger
BEGIN
    INSERT INTO balances (customer_id, points) VALUES (NEW.customer_id, NEW.delta)
    ON CONFLICT (customer_id) DO UPDATE SET points = points + excluded.points;
END;

CREATE TRIGGER ledger_balance_delete AFTER DELETE ON ledger
BEGIN
    UPDATE balances SET points = points - OLD.delta WHERE customer_id = OLD.customer_id;
END;

-- a merge moves one customer's rows to another (a fix may change an amount): out of the old, into the new
CREATE TRIGGER ledger_balance_update AFTER UPDATE OF customer_id, delta ON ledger
BEGIN
    UPDATE balances SET points = points - OLD.delta WHERE customer_id = OLD.customer_id;
    INSERT INTO balances (customer_id, points) VALUES (NEW.customer_id, NEW.delta)
    ON CONFLICT (customer_id) DO UPDATE SET points = points + excluded.points;
END;

-- the balance never goes below zero, checked on the kept sum instead of summing the customer's ledger
DROP TRIGGER ledger_never_negative;
CREATE TRIGGER ledger_never_negative BEFORE INSERT ON ledger
WHEN NEW.delta < 0 AND COALESCE((SELECT points FROM balances WHERE customer_id = NEW.customer_id), 0) + NEW.delta < 0
BEGIN
    SELECT RAISE(ABORT, 'points_insufficient');
END;

-- The sum and the number of each item's ratings (the menu shows sum / count).
CREATE TABLE item_ratings (
    item_id TEXT PRIMARY KEY REFERENCES items(id),
    total   INTEGER NOT NULL CHECK (total >= 0),
    reviews INTEGER NOT NULL CHECK (reviews >= 0)
) WITHOUT ROWID;

CREATE TRIGGER reviews_rating_insert AFTER INSERT ON reviews
BEGIN
    INSERT INTO item_ratings (item_id, total, reviews) VALUES (NEW.item_id, NEW.rating, 1)
    ON CONFLICT (item_id) DO UPDATE SET total = total + excluded.total, reviews = reviews + 1;
END;

CREATE TRIGGER reviews_rating_delete AFTER DELETE ON reviews
BEGIN
    UPDATE item_ratings SET total = total - OLD.rating, reviews = reviews - 1 WHERE item_id = OLD.item_id;
END;

CREATE TRIGGER reviews_rating_update AFTER UPDATE OF item_id, rating ON reviews
BEGIN
    UPDATE item_ratings SET total = total - OLD.rating, reviews = reviews - 1 WHERE item_id = OLD.item_id;
    INSERT INTO item_ratings (item_id, total, reviews) VALUES (NEW.item_id, NEW.rating, 1)
    ON CONFLICT (item_id) DO UPDATE SET total = total + excluded.total, reviews = reviews + 1;
END;

-- backfill: what the rows already written sum to
INSERT INTO balances (customer_id, points) SELECT customer_id, SUM(delta) FROM ledger GROUP BY customer_id;
INSERT INTO item_ratings (item_id, total, reviews) SELECT item_id, SUM(rating), COUNT(*) FROM reviews GROUP BY item_id;
