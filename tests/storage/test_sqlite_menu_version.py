"""SQLite's cheap read of the menu's version (``db.reading.menu_version``): it asks ``PRAGMA data_version``
first and reads the version again only when another connection has committed since, so it must still see
every commit at once: this process's own, another process's, and none that was rolled back; in memory too."""
from __future__ import annotations

import sqlite3

import pytest
from shop_fixtures import FakeClock, customer, seed

from journey.deeplinks import parse_start
from journey.engine import Engine
from storage.sqlite import SqliteDatabase


@pytest.fixture
async def shop(tmp_path):
    db = SqliteDatabase(tmp_path / "shop.db")
    await db.connect()
    engine = Engine(db.uow, clock=FakeClock(), reader=db.reading)
    await engine.start()
    await seed(engine)
    yield db, engine
    await db.close()


class Reads:
    """Counts the units of work that read the version."""

    def __init__(self, db: SqliteDatabase, monkeypatch) -> None:
        self.count = 0
        inner = db._read_menu_version

        async def counted() -> str:
            self.count += 1
            return await inner()

        monkeypatch.setattr(db, "_read_menu_version", counted)


async def test_the_version_is_read_again_only_after_a_commit(shop, monkeypatch):
    db, engine = shop
    first = await engine.menu_version()
    reads = Reads(db, monkeypatch)
    assert [await engine.menu_version() for _ in range(3)] == [first] * 3
    assert reads.count == 0  # nothing committed: no unit of work
    await engine.set_stock("center", "croissant", 5)  # this process's writer
    second = await engine.menu_version()
    assert second != first and reads.count == 1
    await engine.record_visit(parse_start("p_center"), customer(3).channel, customer(3))  # not the menu's
    assert await engine.menu_version() == second and reads.count == 2


async def test_another_process_and_a_rollback(shop):
    db, engine = shop
    before = await engine.menu_version()
    other = sqlite3.connect(db.path, isolation_level=None)  # e.g. `vitrina menu import`, another instance
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE stock SET quantity = 42 WHERE point_id = 'center' AND item_id = 'croissant'")
        assert await engine.menu_version() == before  # not committed yet
        other.execute("ROLLBACK")
        assert await engine.menu_version() == before
        other.execute("UPDATE stock SET quantity = 43 WHERE point_id = 'center' AND item_id = 'croissant'")
        after = await engine.menu_version()
        assert after != before
        assert (await engine.menu("center")).stock["croissant"] == 43
    finally:
        other.close()
    async with db.reading() as uow:
        assert await uow.catalog.version() == after


async def test_inside_a_read_and_in_memory_it_reads_in_a_unit_of_work(shop, monkeypatch):
    db, engine = shop
    reads = Reads(db, monkeypatch)
    async with engine.read():  # the reader is in use: its unit of work is joined
        version = await engine.menu_version()
    assert reads.count == 1 and version == await engine.menu_version()
    memory = SqliteDatabase(":memory:")
    await memory.connect()
    try:
        shop2 = Engine(memory.uow, clock=FakeClock(), reader=memory.reading)
        await shop2.start()
        await seed(shop2)
        before = await shop2.menu_version()
        await shop2.set_stock("center", "croissant", 3)  # the reader is the writer: its commits do not move
        assert await shop2.menu_version() != before  # data_version, so the version is read each time
    finally:
        await memory.close()
