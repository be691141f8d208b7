"""The PostgreSQL database: a connection pool, migrations, units of work.

Every instance of ``vitrina run`` opens its own pool on the one database; everything they share (the
outbox, processed update ids, leases of the jobs that run once, the send-rate budget) lives in tables.
Migrations are applied under an advisory lock, so instances starting together apply each one once.
"""
from __future__ import annotations

import logging

import asyncpg

from ..schema import read_migrations
from .jobs import PgJobLocks, PgSendBudget
from .unit_of_work import PostgresUnitOfWork

log = logging.getLogger(__name__)
MIGRATION_LOCK = 7_418_236_001  # pg_advisory_lock key: one migrating instance at a time
POOL_SIZE = 10


class PostgresDatabase:
    def __init__(self, url: str, *, schema: str | None = None, pool_size: int = POOL_SIZE) -> None:
        """``schema`` puts every table in that schema (created if missing): the tests give each run its own."""
        self.url = url
        self.schema = schema
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._job_locks: PgJobLocks | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    async def connect(self) -> PostgresDatabase:
        settings = {"search_path": self.schema} if self.schema else {}
        if self.schema:
            conn = await asyncpg.connect(self.url)
            try:
                await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            finally:
                await conn.close()
        self._pool = await asyncpg.create_pool(self.url, min_size=1, max_size=self.pool_size,
                                               server_settings=settings)
        try:
            await self.migrate()
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def __aenter__(self) -> PostgresDatabase:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "database is not connected"
        return self._pool

    def uow(self) -> PostgresUnitOfWork:
        """A read-write unit of work (READ COMMITTED; repositories lock the rows they decide on)."""
        return PostgresUnitOfWork(self, readonly=False)

    def reading(self) -> PostgresUnitOfWork:
        """A read-only unit of work on one snapshot (REPEATABLE READ, READ ONLY): never blocks writers."""
        return PostgresUnitOfWork(self, readonly=True)

    __call__ = uow  # a database is a UnitOfWorkFactory

    def job_locks(self) -> PgJobLocks:
        """Background jobs run by one instance at a time (advisory locks, storage/postgres/jobs.py)."""
        if self._job_locks is None:
            self._job_locks = PgJobLocks(self)
        return self._job_locks

    def send_budget(self) -> PgSendBudget:
        """The send-rate budget every instance on this database shares."""
        return PgSendBudget(self)

    # --- schema ----------------------------------------------------------------------------------

    async def migrate(self) -> list[int]:
        """Apply pending migrations in order, each in its own transaction. Returns the versions applied."""
        applied = []
        async with self.pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            try:
                await conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations"
                                   " (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
                current = await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
                for version, sql in migrations():
                    if version <= current:
                        continue
                    async with conn.transaction():
                        await conn.execute(sql)
                        await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
                    applied.append(version)
                    log.info("applied migration %04d", version)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        return applied

    async def ping(self) -> int:
        """A cheap check that the server answers (``/readyz``): one round trip on a pooled connection, which
        reads the schema version (returned)."""
        return await self.pool.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")

    async def schema_version(self) -> int:
        return await self.pool.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")

    @staticmethod
    def latest_version() -> int:
        """The version this code's migrations bring the schema to."""
        return max(v for v, _ in migrations())


def migrations() -> list[tuple[int, str]]:
    return read_migrations(__package__)
