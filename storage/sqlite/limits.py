"""SQLite storage of the abuse limits' token buckets (``journey.ports.RateLimits``).

One upsert per take: inside the unit of work it runs in, the writer holds SQLite's write lock, so the read of
the bucket and its update are one step for every process on the file."""
from __future__ import annotations

from journey.limits import check_bucket

from .repositories import _Repo

# the tokens the bucket holds now: what it held, plus the refill since then, never above the capacity; a clock
# behind the bucket's own time adds nothing (and ``at`` never moves back, so no time is counted twice)
_NOW = "min(:capacity, rate_limits.tokens + max(0.0, :now - rate_limits.at) * :rate)"
TAKE = f"""
INSERT INTO rate_limits (key, tokens, at, wait) VALUES (:key, :capacity - :cost, :now, 0)
ON CONFLICT (key) DO UPDATE SET
    tokens = CASE WHEN {_NOW} >= :cost THEN {_NOW} - :cost ELSE {_NOW} END,
    at = max(rate_limits.at, :now),
    wait = CASE WHEN {_NOW} >= :cost THEN 0.0 ELSE (:cost - {_NOW}) / :rate END
RETURNING wait"""


class SqliteLimits(_Repo):
    async def take(self, key: str, capacity: int, refill_per_second: float, now: float, cost: int = 1) -> float:
        check_bucket(capacity, refill_per_second, cost)
        rows = self._write(TAKE, {"key": key, "capacity": float(capacity), "rate": float(refill_per_second),
                                  "now": float(now), "cost": float(cost)}).fetchall()
        return float(rows[0][0])

    async def prune(self, before: float) -> int:
        return self._write("DELETE FROM rate_limits WHERE at < ?", (float(before),)).rowcount
