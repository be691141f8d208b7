"""SQLite storage of shares and regulars (journey/sharing.py, journey/regulars.py)."""
from __future__ import annotations

from datetime import datetime

from journey.sharing import Share, ShareCount, ViaCount

from ..rows import SHARE_VIA, dt, ts
from .repositories import _Repo

# the customer and everyone merged into them, however long the chain of links
_MERGED = ("WITH RECURSIVE person(id) AS (SELECT ? UNION SELECT c.id FROM customers c"
           " JOIN person p ON c.merged_into = p.id)")


class SqliteSharing(_Repo):
    async def add(self, share: Share) -> None:
        s = share
        self._write("INSERT INTO shares (id, customer_id, kind, channel, order_id, at) VALUES (?, ?, ?, ?, ?, ?)",
                    (s.id, s.customer_id, s.kind.value, s.channel, s.order_id, ts(s.at)))

    async def shares(self, since: datetime, until: datetime) -> list[ShareCount]:
        cur = self._c.execute("SELECT kind, COUNT(*) FROM shares WHERE at >= ? AND at < ? GROUP BY kind ORDER BY kind",
                              (ts(since), ts(until)))
        return [ShareCount(*r) for r in cur]

    async def visits_by_via(self, since: datetime, until: datetime) -> list[ViaCount]:
        cur = self._c.execute(
            f"SELECT via, COUNT(*) FROM (SELECT {SHARE_VIA} AS via FROM visits"
            "  WHERE kind = 'referral' AND at >= ? AND at < ?) shared"
            " WHERE via IS NOT NULL GROUP BY via ORDER BY via", (ts(since), ts(until)))
        return [ViaCount(*r) for r in cur]

    async def pickups(self, customer_id: str) -> int:
        return self._c.execute("SELECT COUNT(*) FROM orders WHERE customer_id = ? AND status = 'picked_up'",
                               (customer_id,)).fetchone()[0]

    async def regular_since(self, customer_id: str) -> datetime | None:
        r = self._c.execute(f"{_MERGED} SELECT MIN(r.reached_at) FROM regulars r JOIN person p ON p.id = r.customer_id",
                            (customer_id,)).fetchone()
        return dt(r[0]) if r else None

    async def add_regular(self, customer_id: str, order_id: str, pickups: int, at: datetime) -> None:
        self._write("INSERT INTO regulars (customer_id, order_id, pickups, reached_at) VALUES (?, ?, ?, ?)",
                    (customer_id, order_id, pickups, ts(at)))
