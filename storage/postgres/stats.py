"""PostgreSQL sums for the owner's numbers (``journey/stats.py``): every count is one aggregate query over the
period's rows, so a year of orders never leaves the database; the same numbers as SQLite's.

Times are stored as ISO-8601 UTC text of one width, so comparing the text compares the times. An order's
lines are JSON text, read with ``jsonb`` functions.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise

from journey.model import Order
from journey.stats import CustomerTotal, OrderCount, TopItem, VisitCount

from .. import rows
from ..rows import ORDER_SOURCE, POOLED_KINDS, at, ts
from .base import PgRepo

_CHANNEL = ("CASE WHEN strpos(o.account, ':') > 1 THEN substr(o.account, 1, strpos(o.account, ':') - 1)"
            " ELSE '' END")
_REVIEWED = "CASE WHEN EXISTS (SELECT 1 FROM reviews r WHERE r.order_id = o.id) THEN 1 ELSE 0 END"


class PgStats(PgRepo):
    async def visits(self, since: datetime, until: datetime) -> list[VisitCount]:
        result = await self._c.fetch(
            f"SELECT channel, kind, CASE WHEN kind IN ({POOLED_KINDS}) THEN '' ELSE param END AS link, COUNT(*)"
            " FROM visits WHERE at >= $1 AND at < $2 GROUP BY channel, kind, link", ts(since), ts(until))
        return [VisitCount(c, k, link, int(n)) for c, k, link, n in result]

    async def orders(self, since: datetime, until: datetime, currency: str) -> list[OrderCount]:
        result = await self._c.fetch(
            "SELECT channel, source, COUNT(*), SUM(picked)::bigint, SUM(reviewed)::bigint,"
            " SUM(CASE WHEN picked = 1 AND currency = $3 THEN total ELSE 0 END)::bigint,"
            " SUM(CASE WHEN picked = 1 AND currency = $3 THEN 1 ELSE 0 END)::bigint"
            f" FROM (SELECT {_CHANNEL} AS channel, {ORDER_SOURCE} AS source, o.currency, o.total,"
            "        CASE WHEN o.status = 'picked_up' THEN 1 ELSE 0 END AS picked,"
            f"       {_REVIEWED} AS reviewed"
            "       FROM orders o WHERE o.created_at >= $1 AND o.created_at < $2) AS period"
            " GROUP BY channel, source", ts(since), ts(until), currency)
        return [OrderCount(*(r[:2]), *(int(n) for n in r[2:])) for r in result]

    async def repeat_customers(self, since: datetime, until: datetime) -> tuple[int, int]:
        r = await self._c.fetchrow(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN n >= 2 THEN 1 ELSE 0 END), 0)::bigint"
            " FROM (SELECT COUNT(*) AS n FROM orders WHERE status = 'picked_up' AND created_at >= $1"
            " AND created_at < $2 GROUP BY customer_id) AS per_customer", ts(since), ts(until))
        assert r is not None  # an aggregate answers one row
        return int(r[0]), int(r[1])

    async def top_items(self, since: datetime, until: datetime, limit: int) -> list[TopItem]:
        result = await self._c.fetch(
            "WITH sold AS (SELECT l ->> 'item' AS item, (l ->> 'qty')::bigint AS qty, l ->> 'name' AS name"
            "              FROM orders o, jsonb_array_elements(o.lines::jsonb) AS l"
            "              WHERE o.status = 'picked_up' AND o.created_at >= $1 AND o.created_at < $2)"
            " SELECT s.item, COALESCE(i.name, MAX(s.name)), SUM(s.qty)::bigint AS quantity"
            " FROM sold s LEFT JOIN items i ON i.id = s.item"
            # ties by id in code-point order, as SQLite compares text
            ' GROUP BY s.item, i.name ORDER BY quantity DESC, s.item COLLATE "C" LIMIT $3',
            ts(since), ts(until), limit)
        return [TopItem(item, name, int(quantity)) for item, name, quantity in result]

    async def orders_per_day(self, bounds: Sequence[datetime]) -> list[int]:
        pairs = list(pairwise(bounds))
        result = await self._c.fetch(
            "SELECT (SELECT COUNT(*) FROM orders o WHERE o.created_at >= d.since AND o.created_at < d.until)"
            " FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS d(since, until, n) ORDER BY d.n",
            [ts(a) for a, _ in pairs], [ts(b) for _, b in pairs])
        return [int(r[0]) for r in result]

    async def orders_page(self, since: datetime | None, after: tuple[datetime, str] | None,
                          limit: int) -> list[Order]:
        last = (ts(after[0]), after[1]) if after else ("", "")
        result = await self._c.fetch(
            f"SELECT {rows.ORDER_COLUMNS} FROM orders WHERE created_at >= $1 AND (created_at, id) > ($2, $3)"
            " ORDER BY created_at, id LIMIT $4", ts(since) if since else "", *last, limit)
        return [rows.order(tuple(r)) for r in result]

    async def customers_page(self, after: tuple[datetime, str] | None, limit: int,
                             currency: str) -> list[CustomerTotal]:
        last = (ts(after[0]), after[1]) if after else ("", "")
        result = await self._c.fetch(
            "SELECT c.id, c.created_at, c.source,"
            " (SELECT string_agg(DISTINCT a.channel, ',') FROM accounts a WHERE a.customer_id = c.id),"
            " (SELECT COUNT(*) FROM orders o WHERE o.customer_id = c.id AND o.status = 'picked_up'),"
            " (SELECT COALESCE(SUM(o.total), 0)::bigint FROM orders o"
            "  WHERE o.customer_id = c.id AND o.status = 'picked_up' AND o.currency = $1)"
            " FROM customers c WHERE c.merged_into IS NULL AND (c.created_at, c.id) > ($2, $3)"
            " ORDER BY c.created_at, c.id LIMIT $4", currency, *last, limit)
        return [CustomerTotal(i, at(first), source, tuple(sorted(channels.split(","))) if channels else (),
                              int(orders), int(spent)) for i, first, source, channels, orders, spent in result]
