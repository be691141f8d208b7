"""SQLite storage of suggestions (journey/suggestions.py) and of points' tiers, expiry, history and birthdays
(journey/loyalty.py): aggregates written at pickup, read a few indexed rows at a time (migration 0015)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from journey.loyalty import PointsMove

from ..rows import at as at_
from ..rows import ts
from .repositories import _Repo


class SqliteSuggestions(_Repo):
    async def add_line(self, customer_id: str, item_id: str, options: str, at: datetime) -> None:
        self._write("INSERT INTO usual_lines (customer_id, item_id, options, times, last_at) VALUES (?, ?, ?, 1, ?)"
                    " ON CONFLICT (customer_id, item_id, options)"
                    " DO UPDATE SET times = usual_lines.times + 1, last_at = excluded.last_at",
                    (customer_id, item_id, options, ts(at)))

    async def add_lines(self, customer_id: str, lines: Sequence[tuple[str, str]], at: datetime) -> None:
        times: dict[tuple[str, str], int] = {}
        for line in lines:
            times[line] = times.get(line, 0) + 1
        if not times:
            return
        keys = sorted(times)  # one row per key, in the keys' order (as PostgreSQL writes them)
        self._write("INSERT INTO usual_lines (customer_id, item_id, options, times, last_at) VALUES "
                    + ", ".join("(?, ?, ?, ?, ?)" for _ in keys)
                    + " ON CONFLICT (customer_id, item_id, options)"
                    " DO UPDATE SET times = usual_lines.times + excluded.times, last_at = excluded.last_at",
                    [v for key in keys for v in (customer_id, *key, times[key], ts(at))])

    async def add_pairs(self, item_ids: Sequence[str]) -> None:
        pairs = sorted((a, b) for a in item_ids for b in item_ids if a != b)
        if not pairs:
            return
        # one statement; a pair listed twice is counted twice (each row an upsert of its own, in turn)
        self._write("INSERT INTO item_pairs (item_id, other_id, orders) VALUES "
                    + ", ".join("(?, ?, 1)" for _ in pairs)
                    + " ON CONFLICT (item_id, other_id) DO UPDATE SET orders = item_pairs.orders + 1",
                    [v for pair in pairs for v in pair])

    async def add_hour(self, hour: int, quantities: Mapping[str, int]) -> None:
        if not quantities:
            return
        ids = sorted(quantities)
        self._write("INSERT INTO item_hours (hour, item_id, quantity) VALUES "
                    + ", ".join("(?, ?, ?)" for _ in ids)
                    + " ON CONFLICT (hour, item_id) DO UPDATE SET quantity = item_hours.quantity + excluded.quantity",
                    [v for i in ids for v in (hour, i, quantities[i])])

    async def usual(self, customer_id: str, at_least: int, limit: int) -> list[tuple[str, str, int]]:
        cur = self._c.execute("SELECT item_id, options, times FROM usual_lines WHERE customer_id = ? AND times >= ?"
                              " ORDER BY times DESC, last_at DESC, item_id, options LIMIT ?",
                              (customer_id, at_least, limit))
        return [(i, o, n) for i, o, n in cur]

    async def together(self, item_ids: Sequence[str], at_least: int, limit: int) -> list[tuple[str, int]]:
        marks = ",".join("?" * len(item_ids))
        cur = self._c.execute(f"SELECT other_id, SUM(orders) AS n FROM item_pairs WHERE item_id IN ({marks})"
                              " GROUP BY other_id HAVING SUM(orders) >= ? ORDER BY n DESC, other_id LIMIT ?",
                              (*item_ids, at_least, limit))
        return [(i, n) for i, n in cur]

    async def at_hour(self, hour: int, at_least: int, limit: int) -> list[tuple[str, int]]:
        cur = self._c.execute("SELECT item_id, quantity FROM item_hours WHERE hour = ? AND quantity >= ?"
                              " ORDER BY quantity DESC, item_id LIMIT ?", (hour, at_least, limit))
        return [(i, n) for i, n in cur]


class SqlitePoints(_Repo):
    async def spent(self, customer_id: str, since: date) -> int:
        return self._c.execute("SELECT COALESCE(SUM(amount), 0) FROM customer_spend WHERE customer_id = ? AND day >= ?",
                               (customer_id, since.isoformat())).fetchone()[0]

    async def add_spend(self, customer_id: str, day: date, amount: int) -> None:
        self._write("INSERT INTO customer_spend (customer_id, day, amount) VALUES (?, ?, ?)"
                    " ON CONFLICT (customer_id, day) DO UPDATE SET amount = customer_spend.amount + excluded.amount",
                    (customer_id, day.isoformat(), amount))

    async def ledger(self, customer_id: str) -> list[tuple[int, datetime]]:
        cur = self._c.execute("SELECT delta, at FROM ledger WHERE customer_id = ? ORDER BY id", (customer_id,))
        return [(d, at_(a)) for d, a in cur]

    async def credited_between(self, since: datetime | None, until: datetime) -> list[str]:
        if since is None:
            cur = self._c.execute("SELECT DISTINCT customer_id FROM ledger WHERE delta > 0 AND at <= ?", (ts(until),))
        else:
            cur = self._c.execute("SELECT DISTINCT customer_id FROM ledger WHERE delta > 0 AND at > ? AND at <= ?",
                                  (ts(since), ts(until)))
        return sorted(c for (c,) in cur)

    async def history(self, customer_id: str, before: int | None, limit: int) -> list[PointsMove]:
        cur = self._c.execute(
            "SELECT l.id, l.delta, l.reason, l.at, l.order_id, COALESCE(o.short_code, '') FROM ledger l"
            " LEFT JOIN orders o ON o.id = l.order_id WHERE l.customer_id = ? AND l.id < ? ORDER BY l.id DESC LIMIT ?",
            (customer_id, before if before is not None else 2**62, limit))
        return [PointsMove(i, d, r, at_(a), o, c) for i, d, r, a, o, c in cur]

    async def birthday(self, customer_id: str) -> tuple[int, int] | None:
        row = self._c.execute("SELECT day, month FROM birthdays WHERE customer_id = ?", (customer_id,)).fetchone()
        return (row[0], row[1]) if row else None

    async def set_birthday(self, customer_id: str, birthday: tuple[int, int] | None, at: datetime) -> None:
        if birthday is None:
            self._write("DELETE FROM birthdays WHERE customer_id = ?", (customer_id,))
            return
        self._write("INSERT INTO birthdays (customer_id, month, day, set_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (customer_id) DO UPDATE SET month = excluded.month, day = excluded.day,"
                    " set_at = excluded.set_at", (customer_id, birthday[1], birthday[0], ts(at)))

    async def birthday_used(self, customer_id: str, year: int) -> bool:
        """Used by an order of that year still alive (placed, on its way, or picked up)."""
        row = self._c.execute(
            "SELECT 1 FROM birthday_uses u JOIN orders o ON o.id = u.order_id WHERE u.customer_id = ? AND u.year = ?"
            " AND o.status NOT IN ('cancelled', 'expired') LIMIT 1", (customer_id, year)).fetchone()
        return row is not None

    async def use_birthday(self, customer_id: str, year: int, order_id: str, at: datetime) -> None:
        self._write("INSERT INTO birthday_uses (customer_id, year, order_id, at) VALUES (?, ?, ?, ?)",
                    (customer_id, year, order_id, ts(at)))

    async def born_on(self, day: int, month: int) -> list[str]:
        cur = self._c.execute("SELECT customer_id FROM birthdays WHERE month = ? AND day = ? ORDER BY customer_id",
                              (month, day))
        return [c for (c,) in cur]

    async def greet(self, customer_id: str, year: int, at: datetime) -> bool:
        """True the first time this year: the greeting is sent once whatever runs twice."""
        cur = self._write("INSERT INTO birthday_greetings (customer_id, year, at) VALUES (?, ?, ?)"
                          " ON CONFLICT (customer_id, year) DO NOTHING", (customer_id, year, ts(at)))
        return cur.rowcount == 1

    async def merge(self, source_id: str, target_id: str) -> None:
        """Linked accounts are one customer: the habits and the money add up; the birthday given last wins."""
        self._write("INSERT INTO usual_lines (customer_id, item_id, options, times, last_at)"
                    " SELECT ?, item_id, options, times, last_at FROM usual_lines WHERE customer_id = ?"
                    " ON CONFLICT (customer_id, item_id, options) DO UPDATE"
                    " SET times = usual_lines.times + excluded.times, last_at = CASE"
                    " WHEN excluded.last_at > usual_lines.last_at THEN excluded.last_at ELSE usual_lines.last_at END",
                    (target_id, source_id))
        self._write("INSERT INTO customer_spend (customer_id, day, amount) SELECT ?, day, amount FROM customer_spend"
                    " WHERE customer_id = ? ON CONFLICT (customer_id, day)"
                    " DO UPDATE SET amount = customer_spend.amount + excluded.amount", (target_id, source_id))
        self._write("INSERT INTO birthdays (customer_id, month, day, set_at)"
                    " SELECT ?, month, day, set_at FROM birthdays WHERE customer_id = ?"
                    " ON CONFLICT (customer_id) DO UPDATE SET month = excluded.month,"
                    " day = excluded.day, set_at = excluded.set_at WHERE excluded.set_at > birthdays.set_at",
                    (target_id, source_id))
        self._write("INSERT INTO birthday_uses (customer_id, year, order_id, at) SELECT ?, year, order_id, at"
                    " FROM birthday_uses WHERE customer_id = ? ON CONFLICT DO NOTHING", (target_id, source_id))
        self._write("INSERT INTO birthday_greetings (customer_id, year, at) SELECT ?, year, at"
                    " FROM birthday_greetings WHERE customer_id = ? ON CONFLICT DO NOTHING", (target_id, source_id))
        for table in ("usual_lines", "customer_spend", "birthdays", "birthday_uses", "birthday_greetings"):
            self._write(f"DELETE FROM {table} WHERE customer_id = ?", (source_id,))
