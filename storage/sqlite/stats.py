"""SQLite sums for the owner's numbers (``journey/stats.py``): every count is one aggregate query over the
period's rows (GROUP BY in SQLite), so a year of orders never leaves the database.

Times are stored as ISO-8601 UTC text of one width, so comparing the text compares the times.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise

from journey.model import Order
from journey.stats import CustomerTotal, OrderCount, TopItem, VisitCount

from .. import rows
from ..rows import ORDER_SOURCE, POOLED_KINDS, at, ts
from .repositories import _Repo

_CHANNEL = ("CASE WHEN instr(o.account, ':') > 1 THEN substr(o.account, 1, instr(o.account, ':') - 1)"
            " ELSE '' END")
_REVIEWED = "EXISTS (SELECT 1 FROM reviews r WHERE r.order_id = o.id)"


class SqliteStats(_Repo):
    async def visits(self, since: datetime, until: datetime) -> list[VisitCount]:
        cur = self._c.execute(
            f"SELECT channel, kind, CASE WHEN kind IN ({POOLED_KINDS}) THEN '' ELSE param END AS link, COUNT(*)"
            " FROM visits WHERE at >= ? AND at < ? GROUP BY channel, kind, link", (ts(since), ts(until)))
        return [VisitCount(*r) for r in cur]

    async def orders(self, since: datetime, until: datetime, currency: str) -> list[OrderCount]:
        cur = self._c.execute(
            "SELECT channel, source, COUNT(*), SUM(picked), SUM(reviewed),"
            " SUM(CASE WHEN picked AND currency = :currency THEN total ELSE 0 END),"
            " SUM(picked AND currency = :currency)"
            f" FROM (SELECT {_CHANNEL} AS channel, {ORDER_SOURCE} AS source, o.currency, o.total,"
            "        o.status = 'picked_up' AS picked,"
            f"       {_REVIEWED} AS reviewed"
            "       FROM orders o WHERE o.created_at >= :since AND o.created_at < :until)"
            " GROUP BY channel, source",
            {"since": ts(since), "until": ts(until), "currency": currency})
        return [OrderCount(*r) for r in cur]

    async def repeat_customers(self, since: datetime, until: datetime) -> tuple[int, int]:
        r = self._c.execute(
            "SELECT COUNT(*), COALESCE(SUM(n >= 2), 0) FROM (SELECT COUNT(*) AS n FROM orders"
            " WHERE status = 'picked_up' AND created_at >= ? AND created_at < ? GROUP BY customer_id)",
            (ts(since), ts(until))).fetchone()
        return r[0], r[1]

    async def top_items(self, since: datetime, until: datetime, limit: int) -> list[TopItem]:
        cur = self._c.execute(
            "WITH sold AS (SELECT json_extract(l.value, '$.item') AS item, json_extract(l.value, '$.qty') AS qty,"
            "                     json_extract(l.value, '$.name') AS name"
            "              FROM orders o, json_each(o.lines) AS l"
            "              WHERE o.status = 'picked_up' AND o.created_at >= ? AND o.created_at < ?)"
            " SELECT s.item, COALESCE(i.name, MAX(s.name)), SUM(s.qty) AS quantity"
            " FROM sold s LEFT JOIN items i ON i.id = s.item"
            " GROUP BY s.item ORDER BY quantity DESC, s.item LIMIT ?", (ts(since), ts(until), limit))
        return [TopItem(*r) for r in cur]

    async def orders_per_day(self, bounds: Sequence[datetime]) -> list[int]:
        pairs = json.dumps([[ts(a), ts(b)] for a, b in pairwise(bounds)])
        cur = self._c.execute(
            "SELECT (SELECT COUNT(*) FROM orders o WHERE o.created_at >= json_extract(d.value, '$[0]')"
            "        AND o.created_at < json_extract(d.value, '$[1]'))"
            " FROM json_each(?) AS d ORDER BY d.key", (pairs,))
        return [r[0] for r in cur]

    async def orders_page(self, since: datetime | None, after: tuple[datetime, str] | None,
                          limit: int) -> list[Order]:
        last = (ts(after[0]), after[1]) if after else ("", "")
        cur = self._c.execute(
            f"SELECT {rows.ORDER_COLUMNS} FROM orders WHERE created_at >= ? AND (created_at, id) > (?, ?)"
            " ORDER BY created_at, id LIMIT ?", (ts(since) if since else "", *last, limit))
        return [rows.order(r) for r in cur]

    async def customers_page(self, after: tuple[datetime, str] | None, limit: int,
                             currency: str) -> list[CustomerTotal]:
        last = (ts(after[0]), after[1]) if after else ("", "")
        cur = self._c.execute(
            "SELECT c.id, c.created_at, c.source,"
            " (SELECT group_concat(DISTINCT a.channel) FROM accounts a WHERE a.customer_id = c.id),"
            " (SELECT COUNT(*) FROM orders o WHERE o.customer_id = c.id AND o.status = 'picked_up'),"
            " (SELECT COALESCE(SUM(o.total), 0) FROM orders o"
            "  WHERE o.customer_id = c.id AND o.status = 'picked_up' AND o.currency = ?)"
            " FROM customers c WHERE c.merged_into IS NULL AND (c.created_at, c.id) > (?, ?)"
            " ORDER BY c.created_at, c.id LIMIT ?", (currency, *last, limit))
        return [CustomerTotal(i, at(first), source, tuple(sorted(channels.split(","))) if channels else (),
                              orders, spent) for i, first, source, channels, orders, spent in cur]
