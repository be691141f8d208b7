"""The PostgreSQL unit of work: one transaction on a pooled connection, the journey's repositories bound to it.

A read-write unit of work runs at READ COMMITTED and its repositories lock what they decide on (see
``base.PgRepo``); a read-only one runs at REPEATABLE READ, READ ONLY: one consistent snapshot, never
waiting for writers. A unit of work opened again inside one (a use case calling another) joins it.
"""
from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar, Self

import asyncpg

from journey.errors import DomainError, ErrorCode

from ..nesting import Joinable, OpenUnits
from .registry import repositories

if TYPE_CHECKING:
    from .database import PostgresDatabase


class PostgresUnitOfWork(Joinable):
    """``async with db.uow() as uow:`` — commits on a clean exit, rolls back on an exception."""

    _open: ClassVar[ContextVar[OpenUnits]] = ContextVar("vitrina_open_pg_uow")

    def __init__(self, db: PostgresDatabase, *, readonly: bool) -> None:
        self._db = db
        self._readonly = readonly
        self._outer: PostgresUnitOfWork | None = None
        self._conn: Any = None

    async def __aenter__(self) -> Self:
        if self._join_open():
            return self
        conn = await self._db.pool.acquire()
        try:
            if self._readonly:
                tx = conn.transaction(isolation="repeatable_read", readonly=True)
            else:
                tx = conn.transaction(isolation="read_committed")
            await tx.start()
        except BaseException:
            await self._db.pool.release(conn)
            raise
        self._conn, self._tx = conn, tx
        self.__dict__.update(repositories(conn, writable=not self._readonly))
        self._opened()
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        if not self._leaving():  # joined: the outer unit of work commits or rolls back
            return
        try:
            if exc_type is None:
                try:
                    await self._tx.commit()
                except asyncpg.TransactionRollbackError as e:  # a serialization failure: nothing was written
                    raise _busy(e) from e
            else:
                await self._tx.rollback()
                if isinstance(exc, asyncpg.TransactionRollbackError):  # a deadlock broken by the server
                    raise _busy(exc) from exc
        except BaseException:
            self._conn.terminate()  # a connection in an unknown state does not go back to the pool
            await self._db.pool.release(self._conn)
            raise
        await self._db.pool.release(self._conn)


def _busy(e: Exception) -> DomainError:
    return DomainError(ErrorCode.CONFLICT, f"the database was busy, try again ({type(e).__name__})")
