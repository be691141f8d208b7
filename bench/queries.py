"""Hot queries at a year's scale: the staff board and the reads that run all day, on an empty database and on a
year of data, through the Engine, in interleaved rounds.

    python bench/queries.py [--orders 100000] [--customers 20000] [--open-orders 10000] [--rounds 5]
                            [--repeat 20] [--database postgresql://...] [--keep DIR]

(``--keep DIR``: the SQLite files stay there; a later run with the same DIR uses them as they are.)

Two databases made the same way (migrated, the tests' shop seeded: two points, a barista at one of them):

- **empty**: no history; ``--open-orders`` open orders (placed, accepted, ready) by 1,000 customers;
- **year**: a year of history (bench/year.py: ``--orders`` orders by ``--customers`` customers, with their lines,
  payments, points, reviews, events and visits) and the same number of open orders.

``--database``: the same on PostgreSQL, each database a schema of its own on that server (dropped at the end).

Each round runs every operation ``--repeat`` times on one database then on the other (the order reversed every
other round); the table shows each operation's median time over the rounds' medians and the ratio year/empty
(the target: within 20 %). The engine's clock stands at the end of the history (a weekday at 09:00 in the shop's
time zone), so the expiry round finds the same orders each time and changes nothing. The operations:

- ``board``: the first page (50) of the staff board of the barista's point;
- ``board next``: the page after it (``after`` = the first page's last order);
- ``board all``: the owner's first page over every point;
- ``wrong code``: a counter code no open order has (``find_for_pickup``, refused: the open orders by code, then
  the latest order that carried it);
- ``code``: the code of an open order at the barista's point;
- ``expiry``: one round of ``expire_due`` (every 30 s in ``vitrina run``), with its points and gifts sweeps;
- ``open counts``: the open orders per status (the health check).
"""
from __future__ import annotations

import argparse
import asyncio
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "tests"))
sys.path.insert(2, str(ROOT / "bench"))

from shop_fixtures import BARISTA, OWNER, seed  # noqa: E402
from year import fill  # noqa: E402

from journey.engine import Engine  # noqa: E402
from journey.errors import DomainError  # noqa: E402
from journey.limits import ShopLimits  # noqa: E402

TZ = ZoneInfo("Europe/Moscow")  # the tests' shop
UNTIL = datetime(2026, 11, 18, 9, 0, tzinfo=TZ)  # a Wednesday morning: both points open, nothing closing


class StillClock:
    def now(self) -> datetime:
        return UNTIL


class Shop:
    """One database and an engine on it."""

    def __init__(self, name: str, db: Any, url: str, schema: str | None) -> None:
        self.name, self.db, self.url, self.schema = name, db, url, schema
        self.engine = Engine(db.uow, owners=[OWNER], clock=StillClock(), reader=db.reading, limits=ShopLimits.off())
        self.ops: dict[str, Callable[[], Awaitable[object]]] = {}

    async def prepare(self, *, orders: int, customers: int, open_orders: int, reuse: bool) -> dict[str, int]:
        await self.engine.start()
        if reuse:
            filled = {"orders": -1}
        else:
            await seed(self.engine)
            filled = await fill(self.url, orders=orders, customers=customers, open_orders=open_orders, until=UNTIL,
                                schema=self.schema)
        if self.schema is not None:  # PostgreSQL: the planner's statistics as autovacuum would have them
            async with self.db.pool.acquire() as conn:
                await conn.execute("ANALYZE")
        engine = self.engine
        first = await engine.staff_board(BARISTA)
        assert len(first) == 50, f"{self.name}: the barista's board has {len(first)} orders"
        after = first[-1].order.id
        code = first[0].order.short_code

        async def wrong_code() -> None:
            try:
                await engine.find_for_pickup(BARISTA, short_code="99999", point_id="center")
            except DomainError:
                return
            raise AssertionError("a code no order has was found")

        self.ops = {
            "board": lambda: engine.staff_board(BARISTA),
            "board next": lambda: engine.staff_board(BARISTA, after=after),
            "board all": lambda: engine.staff_board(OWNER),
            "wrong code": wrong_code,
            "code": lambda: engine.find_for_pickup(BARISTA, short_code=code, point_id="center"),
            "expiry": engine.expire_due,
            "open counts": engine.open_order_counts,
        }
        await engine.expire_due()  # the first round of the day looks further back than the rounds after it
        return filled

    async def run(self, op: str, repeat: int) -> float:
        """The median seconds of ``repeat`` calls (the expiry round: a fifth of them, it reads every open order)."""
        call = self.ops[op]
        times = []
        for _ in range(max(1, repeat // 5) if op == "expiry" else repeat):
            start = time.perf_counter()
            await call()
            times.append(time.perf_counter() - start)
        return statistics.median(times)


async def open_sqlite(folder: Path, name: str) -> tuple[Any, str, None]:
    from storage.sqlite import SqliteDatabase

    path = folder / f"{name}.db"
    db = SqliteDatabase(path)
    await db.connect()
    return db, str(path), None


async def open_postgres(url: str, name: str) -> tuple[Any, str, str]:
    from storage.postgres import PostgresDatabase

    schema = f"bench_queries_{name}"
    db = PostgresDatabase(url, schema=schema, pool_size=4)
    async with _admin(url) as conn:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await db.connect()
    return db, url, schema


def _admin(url: str) -> Any:
    import asyncpg

    class Admin:
        async def __aenter__(self) -> Any:
            self.conn = await asyncpg.connect(url)
            return self.conn

        async def __aexit__(self, *exc: object) -> None:
            await self.conn.close()

    return Admin()


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{os.cpu_count()} vCPU, {cpu}, Python {platform.python_version()}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--open-orders", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database", help="a postgresql:// URL: run on PostgreSQL, a schema per database")
    parser.add_argument("--keep", help="keep the SQLite files in this folder (and use them as they are when there)")
    args = parser.parse_args()

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="vitrina-queries-"))
    folder.mkdir(parents=True, exist_ok=True)
    shops: list[Shop] = []
    try:
        for name, orders, customers in (("empty", 0, 1000), ("year", args.orders, args.customers)):
            db, url, schema = await (open_postgres(args.database, name) if args.database
                                     else open_sqlite(folder, name))
            reuse = bool(args.keep) and not args.database and (folder / f"{name}.db").stat().st_size > 1_000_000
            shop = Shop(name, db, url, schema)
            shops.append(shop)
            start = time.perf_counter()
            filled = await shop.prepare(orders=orders, customers=customers, open_orders=args.open_orders, reuse=reuse)
            print(f"{name}: {filled.get('orders', 0)} orders written in {time.perf_counter() - start:.1f} s",
                  flush=True)
        backend = "PostgreSQL" if args.database else "SQLite"
        print(f"\n{backend}, {args.open_orders} open orders; {args.rounds} rounds x {args.repeat} calls, interleaved;"
              f" {machine()}\n")
        results: dict[str, dict[str, list[float]]] = {op: {s.name: [] for s in shops} for op in shops[0].ops}
        for r in range(args.rounds):
            order = shops if r % 2 == 0 else shops[::-1]
            for op in results:
                for shop in order:
                    results[op][shop.name].append(await shop.run(op, args.repeat))
        print(f"{'operation':<12} {'empty ms':>9} {'year ms':>9} {'year/empty':>11}")
        for op, by in results.items():
            empty, year = statistics.median(by["empty"]), statistics.median(by["year"])
            print(f"{op:<12} {empty * 1000:9.2f} {year * 1000:9.2f} {year / empty:10.0%}")
    finally:
        for shop in shops:
            await shop.db.close()
            if shop.schema is not None:
                async with _admin(shop.url) as conn:
                    await conn.execute(f'DROP SCHEMA IF EXISTS "{shop.schema}" CASCADE')
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
