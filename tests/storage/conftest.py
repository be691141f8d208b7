"""The storage contract suite runs against every backend in ``BACKENDS``.

The ``uow_factory`` fixture yields a connected database object of one backend: calling it opens a
read-write unit of work (it is a ``journey.ports.UnitOfWorkFactory``), ``.reading()`` opens a read-only
one on a snapshot. A backend that cannot run here (no server, no driver) is skipped with the reason.

Adding PostgreSQL: append ``"postgres"`` to ``BACKENDS`` and give ``_open_backend`` a branch that
connects (e.g. to ``VITRINA_TEST_POSTGRES_URL``), creates a fresh schema for the test and drops it after.
"""
from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

BACKENDS = ["sqlite"]  # + "postgres" once storage/postgres exists


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
        url = os.environ.get("VITRINA_TEST_POSTGRES_URL")
        if not url:
            pytest.skip("postgres backend: set VITRINA_TEST_POSTGRES_URL to a disposable database to run it")
        try:
            import storage.postgres  # noqa: F401
        except ImportError as e:
            pytest.skip(f"postgres backend not available: {e}")
        pytest.skip("postgres backend: no test wiring yet (see tests/storage/conftest.py)")
    else:
        pytest.skip(f"unknown storage backend {name!r}")


@pytest.fixture(params=BACKENDS)
async def uow_factory(request, tmp_path):
    async with _open_backend(request.param, tmp_path) as db:
        yield db
