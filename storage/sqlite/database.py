"""The SQLite database: connections, migrations, units of work, online backup.

How a unit of work reaches SQLite (see docs/ARCHITECTURE.md, "Storage"): one writer connection, and
units of work take turns on it through an ``asyncio.Lock``. A unit of work opens with
``BEGIN IMMEDIATE`` tried inline with no busy wait; only when another process holds the write lock
does it wait in aiosqlite's worker thread. Statements inside the open transaction run inline on the
event loop: under WAL they never wait on a lock and cost microseconds. ``COMMIT`` runs inline too:
with ``synchronous = NORMAL`` (the default) a WAL commit appends its pages to the log without waiting for
the disk; with ``synchronous = FULL`` (``VITRINA_SQLITE_SYNCHRONOUS``) it also syncs the log, so the event
loop waits for one fsync per commit (docs/PERFORMANCE.md, "SQLite durability").
The one step that does wait for the disk, the checkpoint (copying the log into the database and
syncing it), is taken off the writer (``wal_autocheckpoint = 0``) and run every few hundred commits on
a connection of its own, in its own thread. So an uncontended unit of work makes no thread hop at all,
which is what lets the engine keep up with a plain ``sqlite3`` loop.

That checkpoint is PASSIVE: it copies what it can without waiting for anyone. Under steady writes it never
finds the log wholly copied (the writer appended more while it ran), and only a wholly copied log is
started over from its beginning, so the log would grow for as long as orders keep coming (13.9 GB over
100,000 orders). So once a checkpoint finds more than ``wal_reset_bytes`` of log, it resets it: it takes
the process's write lock (no unit of work here writes meanwhile), and a RESTART checkpoint copies what was
written since the passive one, syncs, and waits up to ``RESET_WAIT_SECONDS`` for readers still on the log;
the next commit then writes from the file's start again. The writer waits for that copy and the syncs
(``bench/soak.py`` measures it: docs/PERFORMANCE.md, "Bounded WAL"). RESTART rather than TRUNCATE: the file
is reused, not cut and grown again (cutting 30 MB took 40-120 ms under the write lock on the test VM); a
file past ``journal_size_limit`` (twice the threshold: only after a reset had to wait) is cut at a restart.
"""
from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from ..schema import read_migrations
from .jobs import SqliteJobLocks
from .unit_of_work import SqliteUnitOfWork

T = TypeVar("T")
BUSY_WAIT_SECONDS = 10.0
CHECKPOINT_EVERY = 200  # commits; a few MB of log at most between checkpoints
WAL_RESET_BYTES = 32 * 1024 * 1024  # a checkpoint that finds more log than this resets it (see above)
RESET_WAIT_SECONDS = 0.2  # how long a reset waits for readers on the log (and another process's writer)
log = logging.getLogger(__name__)


# ``PRAGMA synchronous`` on every connection (VITRINA_SQLITE_SYNCHRONOUS, docs/DEPLOY.md "Durability"): under
# WAL, NORMAL may lose the last commits before a power loss (never corrupts); FULL syncs the log at every commit
SYNCHRONOUS = ("NORMAL", "FULL")


@dataclass
class Checkpoints:
    """What the background checkpoints did, for the logs and bench/soak.py."""

    passive: int = 0  # PASSIVE checkpoints run
    resets: int = 0  # RESTART checkpoints that let the log start over
    busy: int = 0  # resets that gave up waiting for a reader or another process (tried again next time)
    reset_seconds: float = 0.0  # the longest a reset held the write lock
    reset_total: float = 0.0  # seconds all resets held it
    log_bytes: int = 0  # the log a checkpoint last found (bytes of frames, before it was reset)
    failures: int = 0


class SqliteDatabase:
    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL", wal_reset_bytes: int | None = WAL_RESET_BYTES,
                 checkpoint_every: int | None = None) -> None:
        """``wal_reset_bytes``: the log a checkpoint resets past (None: never, passive checkpoints only, as
        bench/soak.py's baseline); ``checkpoint_every``: commits between background checkpoints (None:
        ``CHECKPOINT_EVERY``)."""
        if synchronous not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}, not {synchronous!r}")
        if any(n is not None and n <= 0 for n in (wal_reset_bytes, checkpoint_every)):
            raise ValueError("wal_reset_bytes and checkpoint_every must be positive")
        self.path = str(path)
        self.synchronous = synchronous
        self.wal_reset_bytes = wal_reset_bytes
        self.checkpoint_every = checkpoint_every
        self.checkpoints = Checkpoints()
        self._page_size = 4096
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self.write_lock = asyncio.Lock()
        self.read_lock = asyncio.Lock()
        self._settling: set[asyncio.Future] = set()
        self._checkpointer: aiosqlite.Connection | None = None
        self._checkpoint: asyncio.Task | None = None
        self._commits = 0
        self._job_locks: SqliteJobLocks | None = None
        self._menu_version: tuple[int, str] | None = None  # (PRAGMA data_version, the version read after it)

    # --- lifecycle -------------------------------------------------------------------------------

    async def connect(self) -> SqliteDatabase:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._open(query_only=False)
        await self.migrate()
        # an in-memory database is private to its connection: read through the writer, in turn
        if self.path == ":memory:":
            self._reader, self.read_lock = self._writer, self.write_lock
        else:
            self._reader = await self._open(query_only=True)
            self._checkpointer = await self._open(query_only=False)
            self.writer.execute("PRAGMA wal_autocheckpoint = 0")  # the checkpointer does it, in its thread
            # a log started over (by a reset, or when a passive checkpoint happened to copy it all) is cut back
            # to this size by the commit that restarts it; a reset finds the log at the threshold and a few
            # hundred commits more, so twice the threshold is cut only after resets had to wait
            limit = 2 * (self.wal_reset_bytes or WAL_RESET_BYTES)
            self.writer.execute(f"PRAGMA journal_size_limit = {limit}")
            self._page_size = self.writer.execute("PRAGMA page_size").fetchone()[0]
        return self

    async def _open(self, *, query_only: bool) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None, check_same_thread=False)

        def setup(c: sqlite3.Connection) -> None:
            # setting up runs in the worker thread, so it may wait for another process that is switching a
            # new file to WAL at the same moment (with no wait, that start-up fails: "database is locked")
            c.execute(f"PRAGMA busy_timeout = {int(BUSY_WAIT_SECONDS * 1000)}")
            if not query_only:
                # busy_timeout is not asked while another process recovers the log's index: SQLite answers
                # "locked" at once then (seen with three processes opening one new file)
                _waiting(c, "PRAGMA journal_mode = WAL")
            c.execute(f"PRAGMA synchronous = {self.synchronous}")  # NORMAL: durable at checkpoints, never corrupt
            c.execute("PRAGMA foreign_keys = ON")
            c.execute("PRAGMA cache_size = -16000")
            if query_only:
                c.execute("PRAGMA query_only = ON")
            c.execute("PRAGMA busy_timeout = 0")  # from now on waiting happens in our own loop, off the event loop

        try:
            await conn._execute(setup, conn._conn)
        except BaseException:
            await conn.close()  # else its worker thread outlives the failure and the process cannot exit
            raise
        return conn

    async def close(self) -> None:
        if self._checkpoint is not None:
            await asyncio.gather(self._checkpoint, return_exceptions=True)
        conns = (self._reader, self._checkpointer, self._writer)  # the last one to close checkpoints the log
        for conn in {id(c): c for c in conns if c is not None}.values():
            await conn.close()
        self._writer = self._reader = self._checkpointer = None

    def committed(self) -> None:
        """Count a commit; every ``checkpoint_every`` start a checkpoint in the background."""
        self._commits += 1
        if self._commits < (self.checkpoint_every or CHECKPOINT_EVERY) or self._checkpointer is None:
            return
        if self._checkpoint is None or self._checkpoint.done():
            self._commits = 0
            self._checkpoint = asyncio.ensure_future(self._run_checkpoint(self._checkpointer))

    async def _run_checkpoint(self, conn: aiosqlite.Connection) -> None:
        stats = self.checkpoints
        try:
            # PASSIVE: copies what it can without waiting for the writer or readers; never blocks them
            _, frames, _ = await conn._execute(_checkpoint, conn._conn, "PASSIVE")
            stats.passive += 1
            stats.log_bytes = max(frames, 0) * self._page_size
            if self.wal_reset_bytes is None or stats.log_bytes <= self.wal_reset_bytes:
                return
            async with self.write_lock:  # no unit of work of this process writes while the log starts over
                started = time.perf_counter()
                busy, _, _ = await conn._execute(_checkpoint, conn._conn, "RESTART")
                held = time.perf_counter() - started
            stats.reset_seconds = max(stats.reset_seconds, held)
            stats.reset_total += held
            if busy:  # a reader stayed on the log (a backup, another process): the next checkpoint tries again
                stats.busy += 1
                log.info("WAL reset waited %.0f ms for a reader and gave up; %d MB of log", held * 1000,
                         stats.log_bytes // 2**20)
            else:
                stats.resets += 1
        except Exception:
            stats.failures += 1
            log.exception("WAL checkpoint failed; the next one will try again")

    async def __aenter__(self) -> SqliteDatabase:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- running statements ----------------------------------------------------------------------

    @property
    def writer(self) -> sqlite3.Connection:
        assert self._writer is not None, "database is not connected"
        return self._writer._conn

    @property
    def reader(self) -> sqlite3.Connection:
        assert self._reader is not None, "database is not connected"
        return self._reader._conn

    async def in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in the writer's worker thread: one hop."""
        assert self._writer is not None, "database is not connected"
        return await self._writer._execute(fn, *args)

    async def begin_immediate(self) -> None:
        try:
            self.writer.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise
            await self.in_thread(_begin_waiting, self.writer)

    def release_after_worker(self, lock: asyncio.Lock) -> None:
        """Release ``lock`` once the writer's worker thread has run what is queued, then roll back.

        For a hop that was cancelled while it waited (``BEGIN IMMEDIATE`` under contention, ``COMMIT``):
        the call already sits in the worker's queue and still runs. Releasing the lock at once would let
        the next unit of work begin inline first, and that queued ``COMMIT`` would then commit its
        half-done work (or a late ``BEGIN`` would leave the connection inside a transaction).
        """
        conn = self.writer

        def settle() -> None:
            if conn.in_transaction:  # a BEGIN that came too late, or a COMMIT that failed
                conn.execute("ROLLBACK")

        def done(task: asyncio.Future) -> None:
            self._settling.discard(task)
            if not task.cancelled():
                task.exception()  # retrieved: a closed connection has nothing left to settle
            lock.release()

        task = asyncio.ensure_future(self.in_thread(settle))
        self._settling.add(task)
        task.add_done_callback(done)

    def uow(self) -> SqliteUnitOfWork:
        """A read-write unit of work (one at a time per process; ``BEGIN IMMEDIATE`` across processes)."""
        return SqliteUnitOfWork(self, readonly=False)

    @property
    def reading(self) -> SqliteReading:
        """Read-only units of work on the reader connection (``db.reading()``: a consistent snapshot, never
        blocks writers); ``db.reading.menu_version()`` reads the menu's version cheaply."""
        return SqliteReading(self)

    async def menu_version(self) -> str:
        """The menu's version (``SqliteCatalog.version``), read again only when the file has changed since
        it was last read. ``PRAGMA data_version`` on the reader connection moves with every commit made by
        another connection (this process's writer, another process on the file) and costs a few µs, where a
        unit of work costs tens. It is read before the version, so a pair kept is never newer than the
        version it holds. In memory (the reader is the writer, whose own commits do not move it) and while a
        read runs on the reader, the version is read in a unit of work as before."""
        conn = self._reader
        if conn is None or conn is self._writer or self.read_lock.locked():
            return await self._read_menu_version()
        seen = conn._conn.execute("PRAGMA data_version").fetchone()[0]
        kept = self._menu_version
        if kept is not None and kept[0] == seen:
            return kept[1]
        version = await self._read_menu_version()
        self._menu_version = (seen, version)
        return version

    async def _read_menu_version(self) -> str:
        async with SqliteUnitOfWork(self, readonly=True) as uow:
            return await uow.catalog.version()

    __call__ = uow  # a database is a UnitOfWorkFactory

    def job_locks(self) -> SqliteJobLocks:
        """Background jobs run at one place at a time across the processes on this file (leases)."""
        if self._job_locks is None:
            self._job_locks = SqliteJobLocks(self)
        return self._job_locks

    def send_budget(self) -> None:
        """No shared send budget: one machine, and each process paces its own sends (adapters/ratelimit.py)."""
        return None

    # --- schema ----------------------------------------------------------------------------------

    async def migrate(self) -> list[int]:
        """Apply pending migrations in order, each in its own transaction. Returns the versions applied."""
        pending = _migrations()
        return await self.in_thread(_apply_migrations, self.writer, pending)

    async def schema_version(self) -> int:
        return self.writer.execute("PRAGMA user_version").fetchone()[0]

    @staticmethod
    def latest_version() -> int:
        """The version this code's migrations bring the schema to."""
        return max(v for v, _ in _migrations())

    async def ping(self) -> int:
        """A cheap check that the file still answers (``/readyz``); returns the schema version it read. A
        connection of its own, in a thread: the shop's connections may be busy in their threads (a backup, a
        wait for another process's write lock), and waiting for them would hold up the event loop. Opened
        read-only, so a file that is gone is an error rather than a new empty one. Raises when it fails."""
        if self.path == ":memory:":
            return await self.schema_version()
        return await asyncio.to_thread(_read_version, self.path)

    async def backup(self, target: str | Path) -> None:
        """An online backup (SQLite's backup API): consistent even while the shop is taking orders."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.unlink(missing_ok=True)

        def copy(src: sqlite3.Connection) -> None:
            dst = sqlite3.connect(tmp)
            try:
                # one step (pages=-1) is one read transaction: a consistent snapshot that, under WAL, never
                # blocks the writers. Copying in several steps restarts whenever another connection commits
                # between them, so a large database with steady writes would never finish.
                src.backup(dst, pages=-1)
            finally:
                dst.close()

        async with self.read_lock:
            await self._reader._execute(copy, self.reader)  # type: ignore[union-attr]
        tmp.replace(target)


class SqliteReading:
    """``db.reading``: a factory of read-only units of work that can also say the menu's version cheaply
    (journey/shop.py ``menu_version`` asks for it when the reader has it)."""

    __slots__ = ("_db",)

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def __call__(self) -> SqliteUnitOfWork:
        return SqliteUnitOfWork(self._db, readonly=True)

    async def menu_version(self) -> str:
        return await self._db.menu_version()


def _checkpoint(conn: sqlite3.Connection, mode: str) -> tuple[int, int, int]:
    """``PRAGMA wal_checkpoint(mode)`` -> (busy, frames in the log, frames copied). Only RESTART waits: for the
    readers still on the log and another process's writer, up to ``RESET_WAIT_SECONDS``."""
    if mode == "PASSIVE":
        return conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    conn.execute(f"PRAGMA busy_timeout = {int(RESET_WAIT_SECONDS * 1000)}")
    try:
        return conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
    finally:
        conn.execute("PRAGMA busy_timeout = 0")


def _read_version(path: str) -> int:
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_WAIT_SECONDS)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def _begin_waiting(conn: sqlite3.Connection) -> None:
    _waiting(conn, "BEGIN IMMEDIATE")


def _waiting(conn: sqlite3.Connection, statement: str) -> sqlite3.Cursor:
    # SQLite's lock is not fair: a waiter gets it only by trying in a moment it is free. Against a busy
    # writer, a back-off up to 50 ms made too few tries and waited seconds, often past the deadline;
    # retrying every 2 ms at most gets in within a fraction of a second, and costs nothing when idle.
    deadline = time.monotonic() + BUSY_WAIT_SECONDS
    delay = 0.0002
    while True:
        try:
            return conn.execute(statement)
        except sqlite3.OperationalError as e:
            if ("locked" not in str(e) and "busy" not in str(e)) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.002)


def _migrations() -> list[tuple[int, str]]:
    return read_migrations(__package__)


def _apply_migrations(conn: sqlite3.Connection, migrations: list[tuple[int, str]]) -> list[int]:
    applied = []
    current = _waiting(conn, "PRAGMA user_version").fetchone()[0]  # a read waits out another's migration too
    for version, sql in migrations:
        if version <= current:
            continue
        _begin_waiting(conn)
        if conn.execute("PRAGMA user_version").fetchone()[0] >= version:  # another process did it
            conn.execute("ROLLBACK")
            continue
        try:
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {int(version)}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (``executescript`` would commit on its own)."""
    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf)
            buf = ""
    if buf.strip() and not buf.strip().startswith("--"):
        out.append(buf)
    return out
