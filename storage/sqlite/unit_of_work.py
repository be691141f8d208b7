"""The SQLite unit of work: one transaction, the journey's repositories bound to it."""
from __future__ import annotations

import asyncio
from contextvars import ContextVar
from typing import TYPE_CHECKING, ClassVar, Self

from ..nesting import Joinable, OpenUnits
from .broadcasts import SqliteBroadcasts
from .gifts import SqliteGifts  # gifts
from .groups import SqliteGroups  # group orders
from .limits import SqliteLimits  # abuse limits
from .media import SqliteMedia
from .outbox import SqliteOutbox, SqliteReachability, SqliteUpdates
from .owner import SqliteAudit, SqliteDialogs
from .privacy import SqlitePrivacy  # personal data
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


class SqliteUnitOfWork(Joinable):
    """``async with db.uow() as uow:`` — commits on a clean exit, rolls back on an exception."""

    _open: ClassVar[ContextVar[OpenUnits]] = ContextVar("vitrina_open_uow")

    def __init__(self, db: SqliteDatabase, *, readonly: bool) -> None:
        self._db = db
        self._readonly = readonly
        self._outer: SqliteUnitOfWork | None = None

    async def __aenter__(self) -> Self:
        db = self._db
        if self._join_open():
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
        self.privacy = SqlitePrivacy(conn)  # personal data
        self.limits = SqliteLimits(conn)  # abuse limits
        self._opened()
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        if not self._leaving():  # joined: the outer unit of work commits or rolls back
            return
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
