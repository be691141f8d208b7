"""PostgreSQL storage of the abuse limits' token buckets (``journey.ports.RateLimits``).

One ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` per take: the conflicting row is locked and re-read by the
update, so concurrent takers from every instance queue on the bucket's row and none is given a token another
took. Timed by the ``now`` given (the engine's clock), unlike the send budget (storage/postgres/jobs.py), which
books future send slots by the server's clock: a bucket's refill only ever moves forward (``at`` never goes back,
a clock behind the bucket adds nothing), so instances a little apart in time cannot be given tokens twice, and
the engine's tests can move its clock to see a bucket refill."""
from __future__ import annotations

from journey.limits import check_bucket

from .base import PgRepo

_NOW = "LEAST($2::float8, rate_limits.tokens + GREATEST(0.0, $4::float8 - rate_limits.at) * $3::float8)"
TAKE = f"""
INSERT INTO rate_limits (key, tokens, at, wait) VALUES ($1, $2::float8 - $5::float8, $4::float8, 0)
ON CONFLICT (key) DO UPDATE SET
    tokens = CASE WHEN {_NOW} >= $5::float8 THEN {_NOW} - $5::float8 ELSE {_NOW} END,
    at = GREATEST(rate_limits.at, $4::float8),
    wait = CASE WHEN {_NOW} >= $5::float8 THEN 0.0 ELSE ($5::float8 - {_NOW}) / $3::float8 END
RETURNING wait"""


class PgLimits(PgRepo):
    async def take(self, key: str, capacity: int, refill_per_second: float, now: float, cost: int = 1) -> float:
        check_bucket(capacity, refill_per_second, cost)
        return float(await self._c.fetchval(TAKE, key, float(capacity), float(refill_per_second), float(now),
                                            float(cost)))

    async def prune(self, before: float) -> int:
        return await self._write("DELETE FROM rate_limits WHERE at < $1", float(before))
