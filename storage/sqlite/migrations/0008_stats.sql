-- The owner's numbers (`/stats`, `vitrina stats`) read a period's orders and visits by time, and the
-- export pages through orders and customers in time order. Without these every one of those reads the
-- whole table: a year of orders counted day by day took seconds instead of milliseconds.
CREATE INDEX orders_created ON orders(created_at, id);
CREATE INDEX visits_at ON visits(at);
CREATE INDEX customers_created ON customers(created_at, id);
