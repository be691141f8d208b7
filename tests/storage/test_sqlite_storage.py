"""What only the SQLite backend promises: pragmas, migrations, several processes on one file, online
backup, and a unit of work that stays whole when its task is cancelled mid-hop."""
from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from storage_data import NOON

import storage.sqlite.database as database_module
from journey.model import Visit
from storage.sqlite import SqliteDatabase
from storage.sqlite.database import _migrations

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def db(tmp_path):
    database = SqliteDatabase(tmp_path / "shop.db")
    await database.connect()
    yield database
    await database.close()


async def increment(db: SqliteDatabase, key: str = "counter") -> None:
    async with db() as uow:
        value = int(await uow.settings.get(key) or 0)
        await uow.settings.set(key, str(value + 1))


# ---------------------------------------------------------------------------------------- pragmas, schema

async def test_pragmas_on_both_connections(db):
    for conn in (db.writer, db.reader):
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 0
    assert db.reader.execute("PRAGMA query_only").fetchone()[0] == 1
    assert db.writer.execute("PRAGMA query_only").fetchone()[0] == 0


async def test_a_reading_unit_of_work_cannot_write(db):
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        async with db.reading() as uow:
            await uow.settings.set("k", "v")
    async with db.reading() as uow:  # and the reader is usable afterwards
        assert await uow.settings.get("k") is None


async def test_migrations_are_applied_once(tmp_path):
    latest = max(v for v, _ in _migrations())
    path = tmp_path / "shop.db"
    first = SqliteDatabase(path)
    applied: list[list[int]] = []
    original = first.migrate

    async def recording() -> list[int]:
        applied.append(await original())
        return applied[-1]

    first.migrate = recording  # type: ignore[method-assign]
    await first.connect()
    assert applied == [[v for v, _ in _migrations()]]
    assert await first.schema_version() == latest
    async with first() as uow:
        await uow.settings.set("kept", "yes")
    assert await first.migrate() == []  # nothing pending
    await first.close()

    second = await SqliteDatabase(path).connect()  # a restart, or a second process
    try:
        assert await second.schema_version() == latest
        assert await second.migrate() == []
        async with second.reading() as uow:
            assert await uow.settings.get("kept") == "yes"
        tables = {r[0] for r in second.writer.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"orders", "outbox", "ledger", "stock", "meta"} <= tables
    finally:
        await second.close()


async def test_two_processes_migrating_at_once_apply_each_migration_once(tmp_path):
    path = tmp_path / "shop.db"
    dbs = [SqliteDatabase(path) for _ in range(3)]
    try:
        await asyncio.gather(*(d.connect() for d in dbs))
        for d in dbs:
            assert await d.schema_version() == max(v for v, _ in _migrations())
    finally:
        for d in dbs:
            await d.close()


async def test_an_in_memory_database_reads_through_the_writer():
    async with SqliteDatabase(":memory:") as mem:
        async with mem() as uow:
            await uow.settings.set("k", "v")
        async with mem.reading() as uow:
            assert await uow.settings.get("k") == "v"


# -------------------------------------------------------------------------------- several processes

async def test_two_databases_on_one_file_never_lose_a_write(tmp_path, monkeypatch):
    """Two SqliteDatabase objects are two processes to SQLite: each write lock is taken with
    BEGIN IMMEDIATE; when the other holds it, the wait happens in the worker thread."""
    waited = 0
    real_wait = database_module._begin_waiting

    def counting_wait(conn):
        nonlocal waited
        waited += 1
        return real_wait(conn)

    monkeypatch.setattr(database_module, "_begin_waiting", counting_wait)
    path = tmp_path / "shop.db"
    one, two = SqliteDatabase(path), SqliteDatabase(path)
    await one.connect()
    await two.connect()
    try:
        async def hundred(db: SqliteDatabase) -> None:
            for _ in range(100):
                await increment(db)

        await asyncio.gather(hundred(one), hundred(two), hundred(one))  # and two tasks on one of them
        async with two.reading() as uow:
            assert await uow.settings.get("counter") == "300"
        assert waited > 0, "the two databases never contended: the busy path was not exercised"
        assert not one.writer.in_transaction and not two.writer.in_transaction
    finally:
        await one.close()
        await two.close()


CHILD = """
import asyncio, sys
sys.path.insert(0, {root!r})
from storage.sqlite import SqliteDatabase

async def main():
    async with SqliteDatabase({path!r}) as db:
        for _ in range({n}):
            async with db() as uow:
                value = int(await uow.settings.get("counter") or 0)
                await uow.settings.set("counter", str(value + 1))

asyncio.run(main())
"""


@pytest.mark.slow
async def test_real_processes_never_lose_a_write(db):
    n = 100
    children = [subprocess.Popen([sys.executable, "-c", CHILD.format(root=str(ROOT), path=db.path, n=n)])
                for _ in range(2)]
    for _ in range(n):
        await increment(db)
    for child in children:
        while child.poll() is None:
            await asyncio.sleep(0.01)
        assert child.returncode == 0
    async with db.reading() as uow:
        assert await uow.settings.get("counter") == str(3 * n)


BUSY_WRITER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
n, end = 0, time.time() + float(sys.argv[2])
while time.time() < end:
    conn.execute("INSERT INTO meta (key, value) VALUES (?, 'x')", (f"load{n}",))
    n += 1
"""


@pytest.mark.slow
async def test_a_second_process_gets_in_beside_a_busy_writer(db):
    """SQLite's write lock is not fair: a waiter must try often enough to catch a free moment. (With a
    back-off growing to 50 ms this took seconds, and sometimes ran past the 10 s deadline.)"""
    writer = subprocess.Popen([sys.executable, "-c", BUSY_WRITER, db.path, "30"])
    try:
        await asyncio.sleep(0.3)
        started = time.perf_counter()
        for _ in range(5):
            await increment(db)
        waited = time.perf_counter() - started
    finally:
        writer.kill()
        writer.wait()
    assert waited < 3, f"5 units of work took {waited:.1f} s beside a busy writer"  # typically 0.1-0.5 s
    async with db.reading() as uow:
        assert await uow.settings.get("counter") == "5"


# ------------------------------------------------------------------------------------------------- backup

def rows_in(path: Path) -> tuple[str, int]:
    conn = sqlite3.connect(path)
    try:
        return (conn.execute("PRAGMA integrity_check").fetchone()[0],
                conn.execute("SELECT COUNT(*) FROM visits").fetchone()[0])
    finally:
        conn.close()


async def test_backup_while_writing_is_a_consistent_copy(db, tmp_path):
    written = 0
    stop = asyncio.Event()

    async def shop_open() -> None:
        nonlocal written
        while not stop.is_set():
            async with db() as uow:
                for _ in range(3):
                    await uow.visits.add(Visit("pcenter", "point", "telegram", None, NOON))
            written += 3
            await asyncio.sleep(0)

    task = asyncio.create_task(shop_open())
    try:
        for n in range(5):
            await asyncio.sleep(0.02)
            before = written
            await db.backup(tmp_path / "backups" / f"copy{n}.db")
            after = written
            check, count = rows_in(tmp_path / "backups" / f"copy{n}.db")
            assert check == "ok"
            # the rows of one moment: whole units of work only, between what was there before and after
            assert before <= count <= after + 3 and count % 3 == 0
    finally:
        stop.set()
        await task
    assert not (tmp_path / "backups" / "copy4.db.part").exists()
    await db.backup(tmp_path / "final.db")
    async with db.reading() as uow:
        assert rows_in(tmp_path / "final.db") == ("ok", await uow.visits.count()) and written > 0
    restored = await SqliteDatabase(tmp_path / "final.db").connect()  # a backup is a working database
    try:
        assert await restored.migrate() == []
        async with restored.reading() as uow:
            assert await uow.visits.count() == written
    finally:
        await restored.close()


@pytest.mark.slow
async def test_backup_of_a_large_database_finishes_under_steady_writes(db, tmp_path):
    """A copy taken in several steps restarts whenever another connection commits in between: with a
    large file and a steady stream of orders it would never finish."""
    async with db() as uow:
        for n in range(24):
            await uow.settings.set(f"blob{n}", "x" * 1_000_000)
    stop = asyncio.Event()

    async def shop_open() -> None:
        while not stop.is_set():
            await increment(db)

    task = asyncio.create_task(shop_open())
    try:
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        await asyncio.wait_for(db.backup(tmp_path / "big.db"), timeout=30)
        assert time.perf_counter() - started < 30
    finally:
        stop.set()
        await task
    conn = sqlite3.connect(tmp_path / "big.db")
    try:
        assert conn.execute("SELECT COUNT(*) FROM meta WHERE key LIKE 'blob%'").fetchone()[0] == 24
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------- cancelling

async def test_a_unit_of_work_cancelled_midway_leaves_nothing_and_the_next_one_works(db):
    """A task cancelled inside its unit of work (at any await in its body) rolls back all of it."""
    started = asyncio.Event()

    async def slow() -> None:
        async with db() as uow:
            await uow.settings.set("half", "1")
            started.set()
            await asyncio.sleep(10)  # e.g. a handler that awaits something slow

    task = asyncio.create_task(slow())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await increment(db)
    async with db.reading() as uow:
        assert await uow.settings.get("half") is None and await uow.settings.get("counter") == "1"
    assert not db.writer.in_transaction


async def test_a_loop_of_units_of_work_lets_other_tasks_run(db):
    """No unit of work needs to wait, so each one gives the event loop its turn: a loop of them does not
    starve the rest of the shop (a checkpoint, a web request, the task that stops the loop)."""
    stop = asyncio.Event()
    count = 0

    async def busy() -> None:
        nonlocal count
        while not stop.is_set() and count < 100_000:
            await increment(db)
            count += 1

    task = asyncio.create_task(busy())
    await asyncio.sleep(0.05)
    stop.set()
    await task
    assert 0 < count < 100_000


async def test_a_cancelled_wait_for_the_write_lock_leaves_no_transaction_open(tmp_path):
    path = tmp_path / "shop.db"
    mine, other = SqliteDatabase(path), SqliteDatabase(path)
    await mine.connect()
    await other.connect()
    try:
        async def other_process() -> None:
            async with other() as uow:
                await uow.settings.set("other", "1")
                await asyncio.sleep(0.2)  # holds the write lock

        async def cancelled() -> None:
            async with mine() as uow:
                await uow.settings.set("cancelled", "1")

        holder = asyncio.create_task(other_process())
        await asyncio.sleep(0.02)
        waiting = asyncio.create_task(cancelled())
        await asyncio.sleep(0.05)  # BEGIN IMMEDIATE is retrying in the worker thread
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await holder
        await asyncio.sleep(0.1)  # longer than the retry back-off: the worker's BEGIN has got through by now
        await increment(mine)  # the next unit of work begins normally
        async with mine.reading() as uow:
            assert await uow.settings.all() == {"other": "1", "counter": "1"}
        assert not mine.writer.in_transaction
    finally:
        await mine.close()
        await other.close()


async def test_the_log_is_checkpointed_into_the_database_in_the_background(db, monkeypatch):
    """Commits only append to the WAL; every CHECKPOINT_EVERY commits a checkpoint copies the log into
    the database file on a connection of its own, so the committing loop never waits for the disk."""
    monkeypatch.setattr(database_module, "CHECKPOINT_EVERY", 20)
    before = Path(db.path).stat().st_size
    for n in range(20):
        async with db() as uow:
            await uow.settings.set(f"page{n}", "x" * 8000)
    assert db._checkpoint is not None
    await db._checkpoint
    assert Path(db.path).stat().st_size >= before + 20 * 8000
    async with db.reading() as uow:
        assert len(await uow.settings.get("page19")) == 8000
