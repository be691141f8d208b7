"""SQLite durability: the engine's journeys with ``synchronous = NORMAL`` (the default) against ``FULL``.

    python bench/durability.py [--journeys 300] [--rounds 4] [--concurrency 50] [--dir DIR]

The journey and the shop are bench/engine.py's (``place_order`` -> ``accept`` -> ``mark_ready`` ->
``hand_over``, ``--concurrency`` customers at once), on two fresh database files in one folder, one opened
with each level (``VITRINA_SQLITE_SYNCHRONOUS``). The levels take turns in one run, ``--rounds`` rounds of
``--journeys`` each, the order flipping every round (NORMAL, FULL, then FULL, NORMAL ...), so a change in
the machine's other load falls on both alike. Every ``COMMIT`` of the writer connection is timed where the
unit of work runs it (inline on the event loop: with FULL it waits there for the log's fsync). Reported per
level: journeys per second over all its rounds and each round's, commit latency p50/p99, and the ratio.
The folder must be on the disk the shop would use (a tmpfs makes every fsync free); its file system is
printed.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from engine import (  # bench/engine.py: the same shop, journey and report helpers
    STAFF,
    RunningClock,
    customer_ref,
    journey,
    machine,
    ms,
    pct,
    seed,
)

from journey.engine import Engine
from journey.limits import ShopLimits
from storage.sqlite import SqliteDatabase

LEVELS = ("NORMAL", "FULL")


class CommitTimer:
    """Stands in for the writer's sqlite3.Connection and times every ``COMMIT`` it runs."""

    def __init__(self, conn: sqlite3.Connection, commits: list[float]) -> None:
        self._conn, self._commits = conn, commits

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        if sql != "COMMIT":
            return self._conn.execute(sql, params)
        started = time.perf_counter()
        try:
            return self._conn.execute(sql)
        finally:
            self._commits.append(time.perf_counter() - started)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


async def open_shop(path: Path, level: str, customers: int, commits: list[float]) -> tuple[SqliteDatabase, Engine]:
    db = await SqliteDatabase(path, synchronous=level).connect()
    # the engine's own speed, as bench/engine.py measures it: no abuse limits
    engine = Engine(db.uow, owners=[STAFF], clock=RunningClock(), reader=db.reading, limits=ShopLimits.off())
    await engine.start()
    await seed(engine)
    for n in range(customers):
        await engine.identify(customer_ref(n))
    read = db.writer.execute("PRAGMA synchronous").fetchone()[0]
    assert read == {"NORMAL": 1, "FULL": 2}[level], f"{path.name}: synchronous reads {read}"
    db._writer._connection = CommitTimer(db._writer._connection, commits)  # type: ignore[union-attr]
    return db, engine


async def run_engine(engine: Engine, journeys: int, concurrency: int) -> tuple[float, None]:
    """``journeys`` journeys by ``concurrency`` customers at once; the seconds they took."""
    left = journeys

    async def customer(n: int) -> None:
        nonlocal left
        ref = customer_ref(n)
        while left > 0:
            left -= 1
            await journey(engine, ref)

    started = time.perf_counter()
    await asyncio.gather(*(customer(n) for n in range(concurrency)))
    return time.perf_counter() - started, None


def file_system(folder: Path) -> str:
    """The mount the folder is on and its type, from /proc/mounts (the longest mount point that holds it)."""
    best = ("?", "?")
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            _, point, kind, *_ = line.split()
            if str(folder.resolve()).startswith(point.rstrip("/") + "/") and len(point) >= len(best[0]):
                best = (point, kind)
    except OSError:
        pass
    return f"{best[1]} (mounted at {best[0]})"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--journeys", type=int, default=300, help="journeys per round (default 300)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of each level (default 4)")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--dir", help="folder for the two databases (default: a new temporary folder)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="vitrina-durability-", dir=args.dir))
    print("\n".join(machine()))
    print(f"disk       {file_system(folder)}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"command    python bench/durability.py --journeys {args.journeys} --rounds {args.rounds} "
          f"--concurrency {args.concurrency}")
    commits: dict[str, list[float]] = {level: [] for level in LEVELS}
    elapsed: dict[str, list[float]] = {level: [] for level in LEVELS}
    shops: dict[str, tuple[SqliteDatabase, Engine]] = {}
    try:
        for level in LEVELS:
            shops[level] = await open_shop(folder / f"{level.lower()}.db", level, args.concurrency, commits[level])
            await run_engine(shops[level][1], 100, args.concurrency)  # warm-up, not counted
            commits[level].clear()
        for r in range(args.rounds):
            for level in LEVELS if r % 2 == 0 else LEVELS[::-1]:
                seconds, _ = await run_engine(shops[level][1], args.journeys, args.concurrency)
                elapsed[level].append(seconds)
    finally:
        for db, _ in shops.values():
            await db.close()
        shutil.rmtree(folder, ignore_errors=True)

    print()
    print(f"{'level':<8}{'journeys/s':>12}{'rounds (journeys/s)':>34}{'commits':>9}{'commit p50 ms':>15}"
          f"{'p99 ms':>10}")
    rate = {}
    for level in LEVELS:
        rate[level] = args.journeys * args.rounds / sum(elapsed[level])
        rounds = " ".join(f"{args.journeys / s:.0f}" for s in elapsed[level])
        print(f"{level:<8}{rate[level]:>12.0f}{rounds:>34}{len(commits[level]):>9}"
              f"{ms(pct(commits[level], .5)):>15}{ms(pct(commits[level], .99)):>10}")
    print(f"FULL / NORMAL: {rate['FULL'] / rate['NORMAL']:.0%} of the journeys per second; commit p50 "
          f"{pct(commits['FULL'], .5) / pct(commits['NORMAL'], .5):.1f}x, p99 "
          f"{pct(commits['FULL'], .99) / pct(commits['NORMAL'], .99):.1f}x")


if __name__ == "__main__":
    asyncio.run(main())
