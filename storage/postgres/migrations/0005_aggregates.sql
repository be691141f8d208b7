-- Aggregates kept instead of recomputed (issue 14), the same tables as SQLite's 0019: a customer's points
-- balance and an item's rating, kept by triggers on the rows they sum, so whoever writes those rows keeps them
-- right in the same transaction.

-- The sum of each customer's ledger rows (a customer without rows has none: a balance of 0).
CREATE TABLE balances (
    customer_id TEXT PRIMARY KEY REFERENCES customers(id),
    points      BIGINT NOT NULL
);

-- Every change of a customer's balance takes the customer's ledger lock first (the one the never-negative
-- trigger and a locked balance read take), then the balance's row: always in that order, so a credit and a
-- spend of one customer at once take turns instead of deadlocking, and a spend checks the balance the other
-- left. The row lock alone keeps two credits at once from losing one.
CREATE FUNCTION ledger_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('ledger:' || OLD.customer_id, 0));
        UPDATE balances SET points = points - OLD.delta WHERE customer_id = OLD.customer_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('ledger:' || NEW.customer_id, 0));
        INSERT INTO balances (customer_id, points) VALUES (NEW.customer_id, NEW.delta)
        ON CONFLICT (customer_id) DO UPDATE SET points = balances.points + excluded.points;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER ledger_balance AFTER INSERT OR DELETE OR UPDATE OF customer_id, delta ON ledger
FOR EACH ROW EXECUTE FUNCTION ledger_balance();

-- points never go below zero: the customer's lock as before, then the kept balance instead of the ledger's sum
CREATE OR REPLACE FUNCTION ledger_never_negative() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.delta < 0 THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('ledger:' || NEW.customer_id, 0));
        IF COALESCE((SELECT points FROM balances WHERE customer_id = NEW.customer_id), 0) + NEW.delta < 0 THEN
            RAISE EXCEPTION 'points_insufficient' USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

-- The sum and the number of each item's ratings (the menu shows sum / count). Two reviews of one item at once
-- take turns on its row (INSERT ... ON CONFLICT DO UPDATE waits for the other and adds to what it left).
CREATE TABLE item_ratings (
    item_id TEXT PRIMARY KEY REFERENCES items(id),
    total   BIGINT NOT NULL CHECK (total >= 0),
    reviews BIGINT NOT NULL CHECK (reviews >= 0)
);

CREATE FUNCTION reviews_rating() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE item_ratings SET total = total - OLD.rating, reviews = reviews - 1 WHERE item_id = OLD.item_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO item_ratings (item_id, total, reviews) VALUES (NEW.item_id, NEW.rating, 1)
        ON CONFLICT (item_id) DO UPDATE SET total = item_ratings.total + excluded.total,
                                            reviews = item_ratings.reviews + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER reviews_rating AFTER INSERT OR DELETE OR UPDATE OF item_id, rating ON reviews
FOR EACH ROW EXECUTE FUNCTION reviews_rating();

-- backfill: what the rows already written sum to (the migration runs in one transaction, before any instance
-- of this version writes)
INSERT INTO balances (customer_id, points) SELECT customer_id, SUM(delta) FROM ledger GROUP BY customer_id;
INSERT INTO item_ratings (item_id, total, reviews) SELECT item_id, SUM(rating), COUNT(*) FROM reviews GROUP BY item_id;
