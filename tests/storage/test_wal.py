"""The SQLite log stays bounded under steady writes (storage/sqlite/database.py, "Bounded WAL" in
docs/PERFORMANCE.md).

A passive checkpoint copies the log into the database but never starts it over while a writer keeps appending:
only a log found wholly copied is restarted. Under a shop's steady orders the writer always appended more while
the checkpoint ran, so the log grew for as long as orders came. To make that moment certain here rather than a
matter of thread timing, ``other_writer_during`` leaves each passive checkpoint a commit it may not copy, in the
checkpoint's own thread: a reader takes its snapshot, another connection commits a row past it, the checkpoint
copies up to the snapshot, and the reader ends.
"""
from __future__ import annotations

import asyncio
import itertools
import sqlite3
from pathlib import Path

import pytest

import storage.sqlite.database as database_module
from storage.sqlite import SqliteDatabase

PAGE = 8000  # bytes a commit writes: two pages of log and more
THRESHOLD = 64 * 1024
EVERY = 20  # commits between checkpoints: 20 x 8000 bytes is past the threshold
WRITTEN: dict[int, int] = {}  # per database, the last n written


def wal_size(db: SqliteDatabase) -> int:
    wal = Path(db.path + "-wal")
    return wal.stat().st_size if wal.exists() else 0


@pytest.fixture
def other_writer_during(monkeypatch):
    """Each passive checkpoint finds a commit it may not copy yet, as one made while it runs."""
    real = database_module._checkpoint

    def checkpoint(conn: sqlite3.Connection, mode: str) -> tuple[int, int, int]:
        if mode != "PASSIVE":
            return real(conn, mode)
        path = conn.execute("PRAGMA database_list").fetchone()[2]
        reader = sqlite3.connect(path, isolation_level=None, timeout=5)
        other = sqlite3.connect(path, isolation_level=None, timeout=5)
        try:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM meta").fetchone()
            other.execute("INSERT INTO meta (key, value) VALUES ('other', '1') ON CONFLICT (key) DO UPDATE"
                          " SET value = value + 1")
            return real(conn, mode)
        finally:
            reader.execute("COMMIT")
            reader.close()
            other.close()

    monkeypatch.setattr(database_module, "_checkpoint", checkpoint)


async def write(db: SqliteDatabase, n: int) -> None:
    async with db() as uow:  # a value never written before: SQLite skips a page written with what it holds
        await uow.settings.set(f"row{n % 50}", str(n) * (PAGE // len(str(n))))


async def commits(db: SqliteDatabase, count: int) -> list[int]:
    """``count`` commits, each followed by the log's size; a checkpoint running is waited for, so each one
    starts after the same number of commits (the other writer stands for the commits made meanwhile)."""
    sizes = []
    for _ in range(count):
        n = WRITTEN[id(db)] = WRITTEN.get(id(db), -1) + 1
        await write(db, n)
        if db._checkpoint is not None and not db._checkpoint.done():
            await db._checkpoint
        sizes.append(wal_size(db))
    return sizes


async def test_a_passive_checkpoint_alone_lets_the_log_grow_while_writes_go_on(tmp_path, other_writer_during):
    """The problem the resets solve, reproduced: without them the log only grows."""
    async with SqliteDatabase(tmp_path / "shop.db", wal_reset_bytes=None, checkpoint_every=EVERY) as db:
        sizes = await commits(db, 400)
        assert db.checkpoints.passive >= 19 and db.checkpoints.resets == 0
        assert sizes == sorted(sizes)  # never shrank
        assert sizes[-1] > 400 * PAGE  # every commit is still in it
        async with db.reading() as uow:  # and the database reads right
            assert (await uow.settings.get("other")) == str(db.checkpoints.passive)


def shrinks(sizes: list[int]) -> int:
    return sum(b < a for a, b in itertools.pairwise(sizes))


async def test_a_log_past_the_threshold_is_reset_and_shrinks_back(tmp_path, other_writer_during):
    async with SqliteDatabase(tmp_path / "shop.db", wal_reset_bytes=THRESHOLD, checkpoint_every=EVERY) as db:
        assert db.writer.execute("PRAGMA journal_size_limit").fetchone()[0] == 2 * THRESHOLD
        sizes = await commits(db, 400)
        stats = db.checkpoints
        assert stats.resets == stats.passive >= 19 and stats.busy == stats.failures == 0
        # the commit after a reset writes from the start of the file and cuts it back to journal_size_limit:
        # the migrations' log first, then each time the commits between two checkpoints grew it past the limit
        assert shrinks(sizes) >= stats.resets - 1
        assert min(sizes[EVERY + 1:]) <= 2 * THRESHOLD
        assert max(sizes[EVERY + 1:]) < (EVERY + 2) * 3 * PAGE  # the commits between two checkpoints at most
        async with db.reading() as uow:  # nothing was lost on the way
            values = await uow.settings.all()
        assert values["other"] == str(stats.passive)
        assert values["row49"] == "399" * (PAGE // 3) and WRITTEN[id(db)] == 399


async def test_a_reset_waits_for_a_reader_on_the_log_then_gives_up_and_tries_again(tmp_path, other_writer_during):
    """A reading unit of work (a backup, the relay's read) keeps its snapshot: the reset waits a moment for it,
    leaves the log as it is, and resets it at a later checkpoint once the reader has gone."""
    async with SqliteDatabase(tmp_path / "shop.db", wal_reset_bytes=THRESHOLD, checkpoint_every=EVERY) as db:
        await commits(db, 5)
        async with db.reading() as uow:
            assert (await uow.settings.get("row4")) is not None  # the snapshot starts here
            sizes = await commits(db, 2 * EVERY)
            assert db.checkpoints.busy == 2 and db.checkpoints.resets == 0
            assert db.checkpoints.reset_seconds >= database_module.RESET_WAIT_SECONDS * 0.9
            assert sizes == sorted(sizes)  # the reader's frames stay
            assert (await uow.settings.get("row10")) is None  # written after its snapshot: not seen
        before = wal_size(db)
        sizes = await commits(db, EVERY)
        assert db.checkpoints.resets == 1 and min(sizes) <= 2 * THRESHOLD < before


async def test_units_of_work_go_on_while_the_log_is_reset(tmp_path):
    """Writers at the same time as the checkpoints, nothing awaited in between: whoever comes while a reset holds
    the write lock waits for it and commits; no write is lost and the log was reset on the way."""
    async with SqliteDatabase(tmp_path / "shop.db", wal_reset_bytes=THRESHOLD, checkpoint_every=EVERY) as db:

        async def writer(w: int) -> None:
            for n in range(60):
                async with db() as uow:
                    await uow.settings.set(f"w{w}", str(n))
                    await uow.settings.set(f"page{w}", "x" * PAGE)

        peak = 0

        async def watch() -> None:
            nonlocal peak
            while True:
                peak = max(peak, wal_size(db))
                await asyncio.sleep(0)

        watching = asyncio.ensure_future(watch())
        await asyncio.gather(*(writer(w) for w in range(5)))
        watching.cancel()
        if db._checkpoint is not None:
            await db._checkpoint
        assert db.checkpoints.resets >= 1 and db.checkpoints.failures == 0
        assert wal_size(db) < peak
        async with db.reading() as uow:
            assert {k: v for k, v in (await uow.settings.all()).items() if k.startswith("w")} == {
                f"w{w}": "59" for w in range(5)}


async def test_the_thresholds_must_be_positive(tmp_path):
    for reset, every in ((0, None), (None, 0), (-1, 200)):
        with pytest.raises(ValueError, match="positive"):
            SqliteDatabase(tmp_path / "shop.db", wal_reset_bytes=reset, checkpoint_every=every)
