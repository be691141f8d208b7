"""The storage contract suite runs against every backend in ``BACKENDS``.

The ``uow_factory`` fixture yields a connected database object of one backend: calling it opens a
read-write unit of work (it is a ``journey.ports.UnitOfWorkFactory``), ``.reading()`` opens a read-only
one on a snapshot. A backend that cannot run here (no server, no driver) is skipped with the reason.

PostgreSQL runs on the server named by ``VITRINA_TEST_POSTGRES_URL`` (tests/pg_support.py), each test in
a schema of its own that is dropped after it.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

BACKENDS = ["sqlite", "postgres"]


@asynccontextmanager
async def _open_backend(name: str, tmp_path: Path) -> AsyncIterator[object]:
    if name == "sqlite":
        from storage.sqlite import SqliteDatabase

        db = SqliteDatabase(tmp_path / "contract.db")
        await db.connect()
        try:
            yield db
        finally:
            await db.close()
    elif name == "postgres":
        from pg_support import fresh_schema

        async with fresh_schema() as pg:
            yield pg
    else:
        pytest.skip(f"unknown storage backend {name!r}")


@pytest.fixture(params=BACKENDS)
async def uow_factory(request, tmp_path):
    async with _open_backend(request.param, tmp_path) as db:
        yield db
