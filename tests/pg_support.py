"""PostgreSQL for the tests: the server named by ``VITRINA_TEST_POSTGRES_URL``, with a schema or a database
of its own per test, dropped after it, so runs cannot collide.

Without the variable the tests that need PostgreSQL are skipped with the reason; in CI (``CI`` set) they
fail instead, since there the server is part of the machine (`.ci/run` sets the variable).
"""
from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest

URL_VARIABLE = "VITRINA_TEST_POSTGRES_URL"


def postgres_url() -> str:
    url = os.environ.get(URL_VARIABLE)
    if not url:
        reason = f"PostgreSQL tests: set {URL_VARIABLE} to a server where the tests may create schemas and databases"
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI must run them)")
        pytest.skip(reason)
    return url


def _name() -> str:
    return f"vitrina_t_{secrets.token_hex(6)}"


@asynccontextmanager
async def fresh_schema(url: str | None = None) -> AsyncIterator[object]:
    """A connected ``PostgresDatabase`` whose tables live in a new schema, dropped afterwards."""
    import asyncpg

    from storage.postgres import PostgresDatabase

    url = url or postgres_url()
    schema = _name()
    db = PostgresDatabase(url, schema=schema, pool_size=4)
    try:
        await db.connect()
    except (OSError, asyncpg.PostgresError) as e:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL at {URL_VARIABLE} cannot be reached: {e}")
    try:
        yield db
    finally:
        await db.close()
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()


@asynccontextmanager
async def fresh_database(url: str | None = None) -> AsyncIterator[str]:
    """The URL of a new, empty database on the test server (for processes), dropped afterwards."""
    import asyncpg

    url = url or postgres_url()
    name = _name()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def same_store(db: object) -> object:
    """A second, unconnected database object on the store ``db`` uses: another process, in effect (SQLite:
    the same file; PostgreSQL: a pool of its own on the same schema, i.e. another instance)."""
    from storage.sqlite import SqliteDatabase

    if isinstance(db, SqliteDatabase):
        return SqliteDatabase(db.path)
    from storage.postgres import PostgresDatabase

    assert isinstance(db, PostgresDatabase)
    return PostgresDatabase(db.url, schema=db.schema, pool_size=db.pool_size)


@asynccontextmanager
async def two_instances(backend: str, tmp_path: object) -> AsyncIterator[tuple[object, object]]:
    """Two connected database objects on one new store of ``backend`` ("sqlite" or "postgres"): two
    instances of the shop, in effect."""
    from pathlib import Path

    async with AsyncExitStack() as stack:
        if backend == "sqlite":
            from storage.sqlite import SqliteDatabase

            first: Any = SqliteDatabase(Path(str(tmp_path)) / "shop.db")
            await first.connect()
            stack.push_async_callback(first.close)
        else:
            first = await stack.enter_async_context(fresh_schema())
        second = same_store(first)
        await second.connect()  # type: ignore[attr-defined]
        stack.push_async_callback(second.close)  # type: ignore[attr-defined]
        yield first, second
