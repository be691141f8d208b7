"""What every PostgreSQL repository shares: its connection, the lock its reads take, constraint errors."""
from __future__ import annotations

import asyncpg

from journey.errors import DomainError, ErrorCode

# what a repository runs its statements on: a pooled connection (the pool hands out proxies) or a plain one
Conn = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy


def integrity_error(e: asyncpg.IntegrityConstraintViolationError) -> DomainError:
    """A constraint the engine should have kept itself: say which, as a domain refusal (as on SQLite)."""
    text = str(e)
    constraint = getattr(e, "constraint_name", None) or ""
    if "points_insufficient" in text:
        return DomainError(ErrorCode.POINTS_INSUFFICIENT)
    if constraint == "stock_quantity_check":
        return DomainError(ErrorCode.OUT_OF_STOCK)
    return DomainError(ErrorCode.CONFLICT, text)


def affected(status: str) -> int:
    """The row count of a command status such as ``UPDATE 3`` or ``INSERT 0 1``."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class PgRepo:
    """A repository bound to the connection of its unit of work, inside its transaction.

    ``self._lock`` is `` FOR UPDATE`` in a read-write unit of work and empty in a read-only one: a read the
    engine decides on and then writes back (an order's status, a payment, a gift) locks its row, so two
    instances deciding at once take turns (READ COMMITTED re-reads the row after the wait), as one writer
    at a time does on SQLite.
    """

    def __init__(self, conn: Conn, *, writable: bool) -> None:
        self._c = conn
        self._writable = writable
        self._lock = " FOR UPDATE" if writable else ""

    async def _write(self, sql: str, *args: object) -> int:
        """Run a statement that changes rows; returns how many it changed."""
        try:
            return affected(await self._c.execute(sql, *args))
        except asyncpg.IntegrityConstraintViolationError as e:
            raise integrity_error(e) from e

    async def _write_many(self, sql: str, args: list[tuple]) -> None:
        try:
            await self._c.executemany(sql, args)
        except asyncpg.IntegrityConstraintViolationError as e:
            raise integrity_error(e) from e

    async def _lock_key(self, key: str) -> None:
        """Take a transaction-long lock on a name (a customer's open orders, a counter): for checks that
        count rows rather than read one, where a row lock has nothing to hold on to."""
        if self._writable:
            await self._c.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)
