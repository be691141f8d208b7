"""Shared fixtures: a real database per test, an engine with a clock the test controls.

The database is SQLite; with ``VITRINA_TEST_BACKEND=postgres`` every test that takes ``db`` (the journey's
and the Mini App's among them) runs on PostgreSQL instead, in a schema of its own (tests/pg_support.py).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from journey.engine import Engine
from storage.sqlite import SqliteDatabase

# the fake Bot API and VK API servers and the shop data are imported by name from every test folder
sys.path.insert(0, str(Path(__file__).parent / "fakes"))
sys.path.insert(0, str(Path(__file__).parent))

from shop_fixtures import *  # noqa: F403  (older tests read these through conftest)
from shop_fixtures import OWNER, FakeClock, seed


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def db(tmp_path):
    if os.environ.get("VITRINA_TEST_BACKEND") == "postgres":
        from pg_support import fresh_schema

        async with fresh_schema() as pg:
            yield pg
        return
    database = SqliteDatabase(tmp_path / "shop.db")
    await database.connect()
    yield database
    await database.close()


@pytest.fixture
async def engine(db, clock) -> Engine:
    eng = Engine(db.uow, owners=[OWNER], clock=clock, reader=db.reading)
    await eng.start()
    await seed(eng)
    return eng


@pytest.fixture
async def yookassa():
    """The fake YooKassa on loopback (tests/fakes/fake_yookassa.py)."""
    from fake_yookassa import FakeYookassa

    async with FakeYookassa() as fake:
        yield fake
