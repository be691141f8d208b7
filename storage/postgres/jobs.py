"""Several instances on one PostgreSQL database: which one runs a background job now, and the send-rate
budget they share.

A job is held by a session advisory lock (``pg_try_advisory_lock``) on a connection taken from the pool for
the round and unlocked after it. The lock lives as long as that connection: an instance killed mid-round
(SIGKILL, a lost machine) has its connection closed by the server and the job is free at once. The key is
the job's name within the current schema, so two shops in two schemas of one database never hold each
other's jobs. A periodic job's last start is kept in ``job_runs`` by the server's clock.

The send budget is the generic cell rate algorithm in one statement per reservation
(``send_budget_reserve``, migration 0002), timed by the server's clock, so the instances' clocks do not matter.
"""
from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import asyncpg

from journey.ports import SendCell

if TYPE_CHECKING:
    from .database import PostgresDatabase

log = logging.getLogger(__name__)
LOCK_KEY = "hashtextextended('vitrina:' || current_schema() || ':' || $1, 0)"
TRY_LOCK = f"SELECT pg_try_advisory_lock({LOCK_KEY})"
UNLOCK = f"SELECT pg_advisory_unlock({LOCK_KEY})"
# a round begins when the period has passed since the last one began (anyone's), else nothing is written
BEGIN_ROUND = """
INSERT INTO job_runs (name, holder, started_at) VALUES ($1, $2, clock_timestamp())
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, started_at = excluded.started_at
WHERE job_runs.started_at <= excluded.started_at - make_interval(secs => $3)
RETURNING true"""
RESERVE = "SELECT at_s, now_s FROM send_budget_reserve($1::text[], $2::float8[], $3::float8[])"
PAUSE = """
INSERT INTO send_budget (key, tat) VALUES ($1, extract(epoch FROM clock_timestamp()) + $2)
ON CONFLICT (key) DO UPDATE SET tat = GREATEST(send_budget.tat, excluded.tat)"""
# chats idle for an hour have nothing left to space: forgotten now and then, skipping any being reserved
FORGET = """
DELETE FROM send_budget WHERE key IN (
    SELECT key FROM send_budget WHERE tat < extract(epoch FROM clock_timestamp()) - 3600
    LIMIT 1000 FOR UPDATE SKIP LOCKED)"""
FORGET_EVERY = 5000  # reservations


class PgJobLocks:
    """``journey.ports.JobLocks`` on advisory locks (see the module's docstring)."""

    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._held: set[str] = set()  # a session lock is re-entrant: within this instance one holder per name

    @asynccontextmanager
    async def hold(self, name: str, every: float = 0.0) -> AsyncIterator[bool]:
        if name in self._held:
            yield False
            return
        self._held.add(name)
        try:
            async with self._db.pool.acquire() as conn:
                if not await conn.fetchval(TRY_LOCK, name):
                    yield False
                    return
                try:
                    if every > 0 and not await conn.fetchval(BEGIN_ROUND, name, self.holder, every):
                        yield False
                        return
                    yield True
                finally:
                    try:
                        await conn.execute(UNLOCK, name)
                    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as e:
                        # the connection is gone, and the lock with it (the pool drops a broken connection)
                        log.warning("job %s: unlocking failed (%s); the lock went with its connection", name, e)
        finally:
            self._held.discard(name)


class PgSendBudget:
    """``journey.ports.SendBudget`` in the ``send_budget`` table (see the module's docstring)."""

    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db
        self._reserved = 0

    async def reserve(self, cells: Sequence[SendCell]) -> float:
        at, now = await self.book(cells)
        return max(0.0, at - now)

    async def book(self, cells: Sequence[SendCell]) -> tuple[float, float]:
        """Reserve, and say when: the slot booked and the time it was booked at, in seconds since the epoch
        by the server's clock."""
        row = await self._db.pool.fetchrow(RESERVE, [c.key for c in cells], [c.interval for c in cells],
                                           [c.tolerance for c in cells])
        assert row is not None
        self._reserved += 1
        if self._reserved % FORGET_EVERY == 0:
            await self._db.pool.execute(FORGET)
        return float(row["at_s"]), float(row["now_s"])

    async def pause(self, key: str, seconds: float) -> None:
        await self._db.pool.execute(PAUSE, key, float(seconds))
