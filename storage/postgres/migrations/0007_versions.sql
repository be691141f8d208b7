-- The menu's version (issue 14), as SQLite's 0021: it moves only with what a customer's menu shows (the points,
-- categories, items, the stock counted at a point, the reviews), so the Mini App's cached menu answers
-- (webapp/menu_cache.py) outlive the commits of orders, payments and notifications. Before, the key was the
-- unit of work's snapshot, which every commit on the server moves.
--
-- Not one row every order contends on: an order of a counted item changes its stock, and instances write at
-- once. The version is the sum of 16 slots; a transaction adds 1 to the slot of its connection
-- (pg_backend_pid() % 16), once, however many rows it changed, and at commit (a deferred constraint trigger):
-- the slot's lock is the last it takes and is held only while it commits, so two orders wait for each other
-- only when their connections share a slot and they commit at the same moment, and no lock on stock rows is
-- ever taken after it (no deadlock with an order holding a stock row the other waits for).
--
-- Every commit that changed the menu adds 1 to the sum and no other commit does; a snapshot sees every commit
-- an earlier one saw: the same sum is the same menu data, a later sum a newer one.
CREATE TABLE menu_version (
    slot  INTEGER PRIMARY KEY CHECK (slot BETWEEN 0 AND 15),
    value BIGINT NOT NULL
);

-- backfill: the slots, the first at 1
INSERT INTO menu_version (slot, value) SELECT s, CASE WHEN s = 0 THEN 1 ELSE 0 END FROM generate_series(0, 15) s;

CREATE FUNCTION menu_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- once per transaction: the flag is local to it (and undone with a rolled back savepoint, as the update)
    IF current_setting('vitrina.menu_changed', true) IS DISTINCT FROM 'y' THEN
        PERFORM set_config('vitrina.menu_changed', 'y', true);
        UPDATE menu_version SET value = value + 1 WHERE slot = pg_backend_pid() % 16;
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER points_menu AFTER INSERT OR UPDATE OR DELETE ON points
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION menu_changed();
CREATE CONSTRAINT TRIGGER categories_menu AFTER INSERT OR UPDATE OR DELETE ON categories
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION menu_changed();
CREATE CONSTRAINT TRIGGER items_menu AFTER INSERT OR UPDATE OR DELETE ON items
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION menu_changed();
CREATE CONSTRAINT TRIGGER stock_menu AFTER INSERT OR UPDATE OR DELETE ON stock
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION menu_changed();
CREATE CONSTRAINT TRIGGER reviews_menu AFTER INSERT OR UPDATE OR DELETE ON reviews
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION menu_changed();
