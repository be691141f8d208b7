-- The menu's version (issue 14): a counter that moves only with what a customer's menu shows, so the Mini App's
-- cached menu answers (webapp/menu_cache.py) outlive the commits of orders, payments and notifications. Before,
-- the key was the file's data_version, which every commit moves: under load the "cached" menu was rebuilt on
-- almost every request. Bumped by triggers, so whoever writes these rows (the engine, `vitrina menu import`,
-- another process, a data fix) moves it in the same transaction. SQLite has one writer at a time: one row is
-- no contention here.
--
-- What the menu shows: the points (a point's menu exists or not), the categories, the items, the stock counted
-- at a point (an order of a counted item moves it; of an item made to order, which has no stock row, not) and
-- the reviews (ratings on the menu, the list of an item's reviews).
CREATE TABLE versions (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

-- backfill: a database migrated with a menu already in it starts at 1, a new one too; only changes matter
INSERT INTO versions (name, value) VALUES ('menu', 1);

CREATE TRIGGER points_menu_insert AFTER INSERT ON points BEGIN UPDATE versions SET value = value + 1 WHERE name = 'menu'; END;
CREATE TRIGGER points_menu_update AFTER UPDATE ON points BEGIN UPDATE versions SET value = value + 1 WHERE name = 'menu'; END;
CREATE TRIGGER points_menu_delete AFTER DELETE ON points BEGIN UPDATE versions SET value = value + 1 WHERE name = 'menu'; END;
CREATE TRIGGER categories_menu_insert AFTER INSERT ON categories BEGIN UPDATE versions SET value = value + 1 WHERE name = 'menu'; END;
CREATE TRIGGER categories_menu_update AFTER UPDATE ON categories BEGIN UPDATE versions SET value = value + 1 WHERE name = 'menu'; END;
CREATE TRIGGER categories_menu_delete AFTER DELETE ON categories BEGIN UPDATE versions SET value = value + 1 WHERE name = 'menu'; END;
CREATE TRIGGER items_menu_insert AFTER INSERT ON items BEGIN UPDATE versions SET value = value + 1 WHERE name = 'menu'; END;
CREATE TRIGGER items_menu_update AFTER UPDATE ON items BEGIN UPDATE versions SET value = value + 1 WHERE name = 'menu'; END;
CREATE TRIGGER items_menu_delete AFTER DELETE ON items BEGIN UPDATE versions SET value = value + 1 WHERE name = 'menu'; END;
CREATE TRIGGER stock_menu_insert AFTER INSERT ON stock BEGIN UPDATE versions SET value = value + 1 WHERE name = 'menu'; END;
CREATE TRIGGER stock_menu_update AFTER UPDATE ON stock BEGIN UPDATE versions SET value = value + 1 WHERE name = 'menu'; END;
CREATE TRIGGER stock_menu_delete AFTER DELETE ON stock BEGIN UPDATE versions SET value = value + 1 WHERE name = 'menu'; END;
CREATE TRIGGER reviews_menu_insert AFTER INSERT ON reviews BEGIN UPDATE versions SET value = value + 1 WHERE name = 'menu'; END;
CREATE TRIGGER reviews_menu_update AFTER UPDATE ON reviews BEGIN UPDATE versions SET value = value + 1 WHERE name = 'menu'; END;
CREATE TRIGGER reviews_menu_delete AFTER DELETE ON reviews BEGIN UPDATE versions SET value = value + 1 WHERE name = 'menu'; END;
