"""Jobs that run at one place at a time on SQLite: a lease row per job (``job_leases``), taken in a write
transaction, so processes sharing one file take turns as instances sharing a PostgreSQL database do.

The lease lasts ``LEASE_SECONDS`` and its holder renews it every third of that while the round runs, so a
long round (a broadcast) keeps it; a holder killed mid-round lets it lapse and another process carries on
after at most that long. All processes are on one machine, so its clock is everybody's, and so are its
process ids: a lease whose holder names this host and a process that no longer exists is taken at once
(``vitrina run`` restarted after a crash or a kill -9 goes on with the outbox without waiting out the
lease). So processes sharing the file under one host name must see each other's process ids (containers
sharing it each have a host name of their own by default); a pid reused by another program counts as alive,
and the lease is then waited out, as before.
"""
from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .database import SqliteDatabase

log = logging.getLogger(__name__)
LEASE_SECONDS = 60.0


def holder_name() -> str:
    """Who holds a job, as an operator reads it: the host, the process and a random tail (one per database)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _gone(holder: str) -> bool:
    """The holder was a process on this host that is not running any more (see the module's docstring)."""
    parts = holder.rsplit(":", 2)  # host:pid:tail (holder_name)
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    host, pid = parts[0], int(parts[1])
    if host != socket.gethostname() or pid in (0, os.getpid()):
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # exists under another user, or cannot be asked
        return False
    return False


class SqliteJobLocks:
    """``journey.ports.JobLocks`` on SQLite leases (see the module's docstring)."""

    def __init__(self, db: SqliteDatabase, *, lease: float = LEASE_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self.lease = lease
        self.clock = clock
        self.holder = holder_name()
        self._held: set[str] = set()  # one holder per name within this process too

    @asynccontextmanager
    async def hold(self, name: str, every: float = 0.0) -> AsyncIterator[bool]:
        if name in self._held:
            yield False
            return
        self._held.add(name)
        try:
            if not await self._take(name, every):
                yield False
                return
            renewing = asyncio.ensure_future(self._renew(name))
            try:
                yield True
            finally:
                renewing.cancel()
                await asyncio.gather(renewing, return_exceptions=True)
                try:
                    await self._release(name)
                except Exception as e:  # the database is away: the lease lapses by itself
                    log.warning("job %s: letting go of the lease failed (%s); it lapses within %.0f s",
                                name, e, self.lease)
        finally:
            self._held.discard(name)

    async def _take(self, name: str, every: float) -> bool:
        async with self._db.uow() as uow:
            conn = uow._conn  # the unit of work's write transaction (BEGIN IMMEDIATE): one taker at a time
            now = self.clock()
            row = conn.execute("SELECT holder, until, started_at FROM job_leases WHERE name = ?", (name,)).fetchone()
            if row is not None:
                holder, until, started_at = row
                if until > now and holder != self.holder and not _gone(holder):
                    return False
                if every > 0 and now - started_at < every:
                    return False
            conn.execute("INSERT INTO job_leases (name, holder, until, started_at) VALUES (?, ?, ?, ?)"
                         " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until,"
                         " started_at = excluded.started_at", (name, self.holder, now + self.lease, now))
        return True

    async def _renew(self, name: str) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                if not await self.extend(name):  # this process stood still longer than the lease
                    log.warning("job %s: the lease lapsed while its round ran; another process may run it too", name)
            except Exception:
                log.exception("job %s: renewing the lease failed (tried again in %.0f s)", name, self.lease / 3)

    async def extend(self, name: str) -> bool:
        """Renew the lease on a job this process holds (``hold`` does it every third of the lease);
        False when it is not held here any more."""
        async with self._db.uow() as uow:
            return bool(uow._conn.execute("UPDATE job_leases SET until = ? WHERE name = ? AND holder = ?",
                                          (self.clock() + self.lease, name, self.holder)).rowcount)

    async def _release(self, name: str) -> None:
        async with self._db.uow() as uow:
            uow._conn.execute("UPDATE job_leases SET until = 0 WHERE name = ? AND holder = ?", (name, self.holder))
