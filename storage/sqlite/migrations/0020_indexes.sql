-- Queries that stay flat as the history grows (chosen with EXPLAIN QUERY PLAN; tests/storage/test_query_plans.py
-- fails when one of the hot queries scans a table that grows):
-- the orders in one status (expiry every 30 s: placed ones placed before a time, ready ones), by status then age;
CREATE INDEX orders_status ON orders(status, created_at);
-- a code typed at the counter that matches no open order: the latest order that carried it, by time;
CREATE INDEX orders_code_updated ON orders(short_code, updated_at);
-- a code typed without a point: the open orders carrying it (open orders only, a few at a time);
CREATE INDEX orders_open_code ON orders(short_code) WHERE status IN ('placed', 'accepted', 'ready');
-- the staff board, one page at a time in its order (soonest pickup first): of one point, and of every point.
-- The partial indexes' predicate is written as the queries write it (storage/rows.py OPEN_SHORT_CODES), which is
-- how SQLite and PostgreSQL's generic plans know the index covers the query.
CREATE INDEX orders_board_point ON orders(point_id, pickup_at, created_at, id)
    WHERE status IN ('placed', 'accepted', 'ready');
CREATE INDEX orders_board ON orders(pickup_at, created_at, id) WHERE status IN ('placed', 'accepted', 'ready');
