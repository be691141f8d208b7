"""The SQLite unit of work: one transaction, the journey's repositories bound to it."""
from __future__ import annotations

import asyncio
from contextvars import ContextVar
from typing import TYPE_CHECKING, Self

from .broadcasts import SqliteBroadcasts
from .gifts import SqliteGifts  # gifts
from .groups import SqliteGroups  # group orders
from .media import SqliteMedia
from .outbox import SqliteOutbox, SqliteReachability, SqliteUpdates
from .owner import SqliteAudit, SqliteDialogs
from .referrals import SqliteReferrals  # referrals that hold
from .repositories import (
    SqliteCatalog,
    SqliteCustomers,
    SqliteLoyalty,
    SqliteOrders,
    SqlitePacks,
    SqlitePayments,
    SqlitePromos,
    SqliteReviews,
    SqliteSettings,
    SqliteStaff,
    SqliteVisits,
)
from .sharing import SqliteSharing  # sharing and regulars
from .stats import SqliteStats
from .suggestions import SqlitePoints, SqliteSuggestions  # suggestions and points

if TYPE_CHECKING:
    from .database import SqliteDatabase


# The unit of work a task has open, per mode: a unit of work opened again inside it (a use case calling
# another) joins it instead of waiting for the lock its own task holds.
_open: ContextVar[dict[bool, tuple[asyncio.Task | None, SqliteUnitOfWork]]] = ContextVar("vitrina_open_uow")


class SqliteUnitOfWork:
    """``async with db.uow() as uow:`` — commits on a clean exit, rolls back on an exception."""

    def __init__(self, db: SqliteDatabase, *, readonly: bool) -> None:
        self._db = db
        self._readonly = readonly
        self._outer: SqliteUnitOfWork | None = None

    async def __aenter__(self) -> Self:
        db = self._db
        task = asyncio.current_task()
        open_now = _open.get({})
        active = open_now.get(self._readonly)
        if active is not None and active[0] is task:
            self._outer = active[1]
            self.__dict__.update({k: v for k, v in active[1].__dict__.items() if not k.startswith("_")})
            return self
        lock = db.read_lock if self._readonly else db.write_lock
        await lock.acquire()
        try:
            if self._readonly:
                conn = db.reader
                conn.execute("BEGIN")
            else:
                await db.begin_immediate()
                conn = db.writer
        except asyncio.CancelledError:
            if self._readonly:
                lock.release()
            else:  # the BEGIN may still run in the worker thread: undo it before anyone else begins
                db.release_after_worker(lock)
            raise
        except BaseException:
            lock.release()
            raise
        self._lock, self._conn, self._changes = lock, conn, conn.total_changes
        self.catalog = SqliteCatalog(conn)
        self.customers = SqliteCustomers(conn)
        self.orders = SqliteOrders(conn)
        self.payments = SqlitePayments(conn)
        self.packs = SqlitePacks(conn)
        self.loyalty = SqliteLoyalty(conn)
        self.promos = SqlitePromos(conn)
        self.staff = SqliteStaff(conn)
        self.settings = SqliteSettings(conn)
        self.visits = SqliteVisits(conn)
        self.reviews = SqliteReviews(conn)
        self.updates = SqliteUpdates(conn)
        self.outbox = SqliteOutbox(conn)
        self.reachability = SqliteReachability(conn)
        self.audit = SqliteAudit(conn)
        self.dialogs = SqliteDialogs(conn)
        self.media = SqliteMedia(conn)
        self.stats = SqliteStats(conn)
        self.broadcasts = SqliteBroadcasts(conn)
        self.referrals = SqliteReferrals(conn)  # referrals that hold
        self.groups = SqliteGroups(conn)  # group orders
        self.sharing = SqliteSharing(conn)  # sharing and regulars
        self.suggestions = SqliteSuggestions(conn)  # suggestions and points
        self.points = SqlitePoints(conn)  # suggestions and points
        self.gifts = SqliteGifts(conn)  # gifts
        self._token = _open.set({**open_now, self._readonly: (task, self)})
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        if self._outer is not None:  # the outer unit of work commits or rolls back
            return
        _open.reset(self._token)
        conn = self._conn
        try:
            if exc_type is None and not self._readonly:
                changed = conn.total_changes != self._changes
                try:
                    conn.execute("COMMIT")  # inline: a WAL commit does not wait for the disk (see database.py)
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                if changed:
                    self._db.committed()
            elif conn.in_transaction:
                conn.execute("ROLLBACK")
        finally:
            self._lock.release()
        # Nothing above had to wait, so a loop of units of work would never let another task run:
        # give the event loop its turn (it costs one pass of the loop, not a thread hop).
        await asyncio.sleep(0)
