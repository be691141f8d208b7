"""PostgreSQL storage of suggestions (journey/suggestions.py) and of points' tiers, expiry, history and birthdays
(journey/loyalty.py): aggregates written at pickup, read a few indexed rows at a time.

Several instances handing orders over at once add to the same aggregate rows: each addition is one atomic
upsert (``x = x + excluded.x``), so the sums come out exact, and rows are written in the order of their
keys, so two hand-overs touching the same rows cannot deadlock. What the engine decides on a read takes a
named lock first: a customer's spending (their tier at this pickup), their ledger (the points expiry, the
same lock the ledger's trigger takes for a debit) and their birthday's use in a year.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from journey.loyalty import PointsMove

from ..rows import at as at_
from ..rows import ts
from .base import PgRepo


class PgSuggestions(PgRepo):
    async def add_line(self, customer_id: str, item_id: str, options: str, at: datetime) -> None:
        await self._write("INSERT INTO usual_lines (customer_id, item_id, options, times, last_at)"
                          " VALUES ($1, $2, $3, 1, $4) ON CONFLICT (customer_id, item_id, options)"
                          " DO UPDATE SET times = usual_lines.times + 1, last_at = excluded.last_at",
                          customer_id, item_id, options, ts(at))

    async def add_lines(self, customer_id: str, lines: Sequence[tuple[str, str]], at: datetime) -> None:
        if not lines:
            return
        # one statement, a line listed twice counted twice (as one upsert each would), in the keys' order
        await self._write("INSERT INTO usual_lines (customer_id, item_id, options, times, last_at)"
                          " SELECT $1, i, o, COUNT(*), $4 FROM unnest($2::text[], $3::text[]) AS l(i, o)"
                          " GROUP BY i, o ORDER BY i, o ON CONFLICT (customer_id, item_id, options)"
                          " DO UPDATE SET times = usual_lines.times + excluded.times, last_at = excluded.last_at",
                          customer_id, [i for i, _ in lines], [o for _, o in lines], ts(at))

    async def add_pairs(self, item_ids: Sequence[str]) -> None:
        pairs = sorted((a, b) for a in item_ids for b in item_ids if a != b)
        if not pairs:
            return
        # one statement, a pair listed twice counted twice (as one upsert each would), in the keys' order
        await self._write("INSERT INTO item_pairs (item_id, other_id, orders)"
                          " SELECT a, b, COUNT(*) FROM unnest($1::text[], $2::text[]) AS p(a, b)"
                          " GROUP BY a, b ORDER BY a, b"
                          " ON CONFLICT (item_id, other_id) DO UPDATE SET orders = item_pairs.orders + excluded.orders",
                          [a for a, _ in pairs], [b for _, b in pairs])

    async def add_hour(self, hour: int, quantities: Mapping[str, int]) -> None:
        if not quantities:
            return
        ids = sorted(quantities)
        await self._write("INSERT INTO item_hours (hour, item_id, quantity)"
                          " SELECT $1::int, i, q FROM unnest($2::text[], $3::int[]) AS h(i, q) ORDER BY i"
                          " ON CONFLICT (hour, item_id)"
                          " DO UPDATE SET quantity = item_hours.quantity + excluded.quantity",
                          hour, ids, [quantities[i] for i in ids])

    async def usual(self, customer_id: str, at_least: int, limit: int) -> list[tuple[str, str, int]]:
        found = await self._c.fetch("SELECT item_id, options, times FROM usual_lines WHERE customer_id = $1"
                                    " AND times >= $2 ORDER BY times DESC, last_at DESC, item_id, options LIMIT $3",
                                    customer_id, at_least, limit)
        return [(i, o, n) for i, o, n in found]

    async def together(self, item_ids: Sequence[str], at_least: int, limit: int) -> list[tuple[str, int]]:
        found = await self._c.fetch("SELECT other_id, SUM(orders)::bigint AS n FROM item_pairs"
                                    " WHERE item_id = ANY($1::text[]) GROUP BY other_id HAVING SUM(orders) >= $2"
                                    " ORDER BY n DESC, other_id LIMIT $3", list(item_ids), at_least, limit)
        return [(i, n) for i, n in found]

    async def at_hour(self, hour: int, at_least: int, limit: int) -> list[tuple[str, int]]:
        found = await self._c.fetch("SELECT item_id, quantity FROM item_hours WHERE hour = $1 AND quantity >= $2"
                                    " ORDER BY quantity DESC, item_id LIMIT $3", hour, at_least, limit)
        return [(i, n) for i, n in found]


class PgPoints(PgRepo):
    async def spent(self, customer_id: str, since: date) -> int:
        # the tier of a pickup is decided on this sum, then the pickup adds to it: one hand-over at a time
        await self._lock_key(f"spend:{customer_id}")
        return await self._c.fetchval("SELECT COALESCE(SUM(amount), 0)::bigint FROM customer_spend"
                                      " WHERE customer_id = $1 AND day >= $2", customer_id, since.isoformat())

    async def add_spend(self, customer_id: str, day: date, amount: int) -> None:
        await self._write("INSERT INTO customer_spend (customer_id, day, amount) VALUES ($1, $2, $3)"
                          " ON CONFLICT (customer_id, day)"
                          " DO UPDATE SET amount = customer_spend.amount + excluded.amount",
                          customer_id, day.isoformat(), amount)

    async def ledger(self, customer_id: str) -> list[tuple[int, datetime]]:
        # the expiry writes off what it computes from these entries: the lock a debit's trigger takes, so
        # two runs at once (two instances) compute one after the other and the second finds nothing due
        await self._lock_key(f"ledger:{customer_id}")
        found = await self._c.fetch("SELECT delta, at FROM ledger WHERE customer_id = $1 ORDER BY id", customer_id)
        return [(d, at_(a)) for d, a in found]

    async def credited_between(self, since: datetime | None, until: datetime) -> list[str]:
        if since is None:
            found = await self._c.fetch("SELECT DISTINCT customer_id FROM ledger WHERE delta > 0 AND at <= $1",
                                        ts(until))
        else:
            found = await self._c.fetch("SELECT DISTINCT customer_id FROM ledger WHERE delta > 0 AND at > $1"
                                        " AND at <= $2", ts(since), ts(until))
        return sorted(c for (c,) in found)

    async def history(self, customer_id: str, before: int | None, limit: int) -> list[PointsMove]:
        found = await self._c.fetch(
            "SELECT l.id, l.delta, l.reason, l.at, l.order_id, COALESCE(o.short_code, '') FROM ledger l"
            " LEFT JOIN orders o ON o.id = l.order_id WHERE l.customer_id = $1 AND l.id < $2"
            " ORDER BY l.id DESC LIMIT $3", customer_id, before if before is not None else 2**62, limit)
        return [PointsMove(i, d, r, at_(a), o, c) for i, d, r, a, o, c in found]

    async def birthday(self, customer_id: str) -> tuple[int, int] | None:
        row = await self._c.fetchrow("SELECT day, month FROM birthdays WHERE customer_id = $1", customer_id)
        return (row[0], row[1]) if row else None

    async def set_birthday(self, customer_id: str, birthday: tuple[int, int] | None, at: datetime) -> None:
        if birthday is None:
            await self._write("DELETE FROM birthdays WHERE customer_id = $1", customer_id)
            return
        await self._write("INSERT INTO birthdays (customer_id, month, day, set_at) VALUES ($1, $2, $3, $4)"
                          " ON CONFLICT (customer_id) DO UPDATE SET month = excluded.month, day = excluded.day,"
                          " set_at = excluded.set_at", customer_id, birthday[1], birthday[0], ts(at))

    async def birthday_used(self, customer_id: str, year: int) -> bool:
        """Used by an order of that year still alive (placed, on its way, or picked up)."""
        # an order placed now takes the discount when this says no: two placed at once decide in turn
        await self._lock_key(f"birthday:{customer_id}")
        row = await self._c.fetchval(
            "SELECT 1 FROM birthday_uses u JOIN orders o ON o.id = u.order_id WHERE u.customer_id = $1"
            " AND u.year = $2 AND o.status NOT IN ('cancelled', 'expired') LIMIT 1", customer_id, year)
        return row is not None

    async def use_birthday(self, customer_id: str, year: int, order_id: str, at: datetime) -> None:
        await self._write("INSERT INTO birthday_uses (customer_id, year, order_id, at) VALUES ($1, $2, $3, $4)",
                          customer_id, year, order_id, ts(at))

    async def born_on(self, day: int, month: int) -> list[str]:
        found = await self._c.fetch("SELECT customer_id FROM birthdays WHERE month = $1 AND day = $2"
                                    " ORDER BY customer_id", month, day)
        return [c for (c,) in found]

    async def greet(self, customer_id: str, year: int, at: datetime) -> bool:
        """True the first time this year: the greeting is sent once whatever runs twice (a second insert
        of the same key waits for the first's transaction, then does nothing)."""
        return await self._write("INSERT INTO birthday_greetings (customer_id, year, at) VALUES ($1, $2, $3)"
                                 " ON CONFLICT (customer_id, year) DO NOTHING", customer_id, year, ts(at)) == 1

    async def merge(self, source_id: str, target_id: str) -> None:
        """Linked accounts are one customer: the habits and the money add up; the birthday given last wins."""
        await self._write("INSERT INTO usual_lines (customer_id, item_id, options, times, last_at)"
                          " SELECT $1, item_id, options, times, last_at FROM usual_lines WHERE customer_id = $2"
                          " ORDER BY item_id, options"
                          " ON CONFLICT (customer_id, item_id, options) DO UPDATE"
                          " SET times = usual_lines.times + excluded.times, last_at = CASE"
                          " WHEN excluded.last_at > usual_lines.last_at THEN excluded.last_at"
                          " ELSE usual_lines.last_at END", target_id, source_id)
        await self._write("INSERT INTO customer_spend (customer_id, day, amount) SELECT $1, day, amount"
                          " FROM customer_spend WHERE customer_id = $2 ORDER BY day ON CONFLICT (customer_id, day)"
                          " DO UPDATE SET amount = customer_spend.amount + excluded.amount", target_id, source_id)
        await self._write("INSERT INTO birthdays (customer_id, month, day, set_at)"
                          " SELECT $1, month, day, set_at FROM birthdays WHERE customer_id = $2"
                          " ON CONFLICT (customer_id) DO UPDATE SET month = excluded.month,"
                          " day = excluded.day, set_at = excluded.set_at WHERE excluded.set_at > birthdays.set_at",
                          target_id, source_id)
        await self._write("INSERT INTO birthday_uses (customer_id, year, order_id, at) SELECT $1, year, order_id, at"
                          " FROM birthday_uses WHERE customer_id = $2 ON CONFLICT DO NOTHING", target_id, source_id)
        await self._write("INSERT INTO birthday_greetings (customer_id, year, at) SELECT $1, year, at"
                          " FROM birthday_greetings WHERE customer_id = $2 ON CONFLICT DO NOTHING",
                          target_id, source_id)
        for table in ("usual_lines", "customer_spend", "birthdays", "birthday_uses", "birthday_greetings"):
            await self._write(f"DELETE FROM {table} WHERE customer_id = $1", source_id)
