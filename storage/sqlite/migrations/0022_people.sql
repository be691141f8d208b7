-- Lookups by person that stay flat as the customers and their history grow (found running the engine on a year
-- of data, bench/engine.py --year):
-- the accounts merged into a customer, walked on every order (consent, the person's row) and every pickup (since
-- when a regular): without an index the walk built a temporary index over every customer on SQLite (229 ms at
-- 20,000 customers) and read every customer on PostgreSQL (17 ms); merged rows are few, so only they are indexed;
CREATE INDEX customers_merged ON customers(merged_into) WHERE merged_into IS NOT NULL;
-- a customer's orders in one status (the open orders counted on each order, the pickups of a regular): the
-- index by customer and time read all of a regular's year (hundreds of orders) to count a few.
CREATE INDEX orders_customer_status ON orders(customer_id, status);
