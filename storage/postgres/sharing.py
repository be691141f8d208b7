"""PostgreSQL storage of shares and regulars (journey/sharing.py, journey/regulars.py).

Whether a pickup makes the customer a regular is decided on a count of their pickups and on whether they
are one already: the hand-over takes a named lock per customer before it counts, so two hand-overs at
once (two instances) decide one after the other and the invitation is recorded, and sent, once.
"""
from __future__ import annotations

from datetime import datetime

from journey.sharing import Share, ShareCount, ViaCount

from ..rows import SHARE_VIA, dt, ts
from .base import PgRepo

# the customer and everyone merged into them, however long the chain of links
_MERGED = ("WITH RECURSIVE person(id) AS (SELECT $1::text UNION SELECT c.id FROM customers c"
           " JOIN person p ON c.merged_into = p.id)")


class PgSharing(PgRepo):
    async def add(self, share: Share) -> None:
        s = share
        await self._write("INSERT INTO shares (id, customer_id, kind, channel, order_id, at)"
                          " VALUES ($1, $2, $3, $4, $5, $6)",
                          s.id, s.customer_id, s.kind.value, s.channel, s.order_id, ts(s.at))

    async def shares(self, since: datetime, until: datetime) -> list[ShareCount]:
        found = await self._c.fetch("SELECT kind, COUNT(*) FROM shares WHERE at >= $1 AND at < $2"
                                    " GROUP BY kind ORDER BY kind", ts(since), ts(until))
        return [ShareCount(r[0], r[1]) for r in found]

    async def visits_by_via(self, since: datetime, until: datetime) -> list[ViaCount]:
        found = await self._c.fetch(
            f"SELECT via, COUNT(*) FROM (SELECT {SHARE_VIA} AS via FROM visits"
            "  WHERE kind = 'referral' AND at >= $1 AND at < $2) shared"
            " WHERE via IS NOT NULL GROUP BY via ORDER BY via", ts(since), ts(until))
        return [ViaCount(r[0], r[1]) for r in found]

    async def pickups(self, customer_id: str) -> int:
        # the regulars' threshold is decided on this count: one hand-over of this customer at a time
        await self._lock_key(f"regular:{customer_id}")
        return await self._c.fetchval("SELECT COUNT(*) FROM orders WHERE customer_id = $1 AND status = 'picked_up'",
                                      customer_id)

    async def regular_since(self, customer_id: str) -> datetime | None:
        # read after ``pickups`` under its lock: a regular recorded meanwhile is seen
        r = await self._c.fetchval(f"{_MERGED} SELECT MIN(r.reached_at) FROM regulars r"
                                   " JOIN person p ON p.id = r.customer_id", customer_id)
        return dt(r)

    async def add_regular(self, customer_id: str, order_id: str, pickups: int, at: datetime) -> None:
        await self._write("INSERT INTO regulars (customer_id, order_id, pickups, reached_at) VALUES ($1, $2, $3, $4)",
                          customer_id, order_id, pickups, ts(at))
