"""The kept aggregates (points balances, item ratings) read on a small history and on a year of data.

    python bench/aggregates.py [--first 1000] [--orders 100000] [--customers 20000] [--rounds 9] [--calls 5000]
                               [--postgres postgresql://postgres@127.0.0.1:5432/test] [--keep DIR]

What the shop reads on every message (a customer's balance) and on every menu rebuild (every item's rating),
through the storage's own calls (``uow.loyalty.balance``, ``uow.reviews.ratings``) inside one read unit of work,
on two databases made in the same run: the demo shop with a small history (``--first`` orders by a tenth as
many customers: every item already rated, customers with points, so both databases answer the same shape) and the
same shop with a year of history (bench/year.py: ``--orders`` orders by ``--customers`` customers, reviews and
points ledger included). The balance is read for the customer with the most ledger rows and for 200 customers
spread over the table, in turn. Beside them, in
the same rounds, the queries the storage ran before the aggregates were kept (``SUM(delta)`` over the
customer's ledger, ``AVG(rating) ... GROUP BY item_id`` over every review), on the same connections: the cost
the kept figures take away. Rounds are interleaved (every query on every database in each round, the order
rotated from round to round; each query runs ``--calls`` times or for half a second, whichever comes first); the
figure is the median of the rounds' microseconds per call.

``--postgres URL`` runs the same on PostgreSQL as well, in two schemas of their own made and dropped in that
database. Targets: each kept read on the year within 20 % of the small history's.
"""
from __future__ import annotations

import argparse
import asyncio
import platform
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "bench"))

import year  # noqa: E402

from bot.seed import seed_demo  # noqa: E402
from journey.engine import Engine  # noqa: E402
from journey.limits import ShopLimits  # noqa: E402
from storage.sqlite import SqliteDatabase  # noqa: E402

OLD_BALANCE = "SELECT COALESCE(SUM(delta), 0) FROM ledger WHERE customer_id = {}"
OLD_RATINGS = "SELECT item_id, AVG(rating), COUNT(*) FROM reviews GROUP BY item_id"
RANDOM_CUSTOMERS = 200
BUDGET, MIN_CALLS = 0.5, 5  # seconds and calls per measurement: the recount of a year's reviews takes ~50 ms


async def seeded(db: Any) -> None:
    engine = Engine(db.uow, reader=db.reading, limits=ShopLimits.off())
    await engine.start()
    await seed_demo(engine)


async def raw(uow: Any, sql: str, *args: Any) -> list:
    conn = uow._conn  # the unit of work's own connection: the old queries run where the kept ones do
    if isinstance(conn, sqlite3.Connection):
        return conn.execute(sql.format(*("?" * len(args))), args).fetchall()
    return await conn.fetch(sql.format(*(f"${n + 1}" for n in range(len(args)))), *args)


class Shop:
    """One database, its heaviest customer (most ledger rows) and customers drawn for balance reads."""

    def __init__(self, name: str, db: Any) -> None:
        self.name, self.db = name, db
        self.heavy = ""
        self.sample: list[str] = []

    async def pick(self) -> None:
        async with self.db.reading() as uow:
            found = await raw(uow, "SELECT customer_id, COUNT(*) FROM ledger GROUP BY customer_id"
                                   " ORDER BY 2 DESC, 1 LIMIT 1")
            ids = [r[0] for r in await raw(uow, "SELECT id FROM customers ORDER BY id")]
        self.heavy = found[0][0] if found else (ids[0] if ids else "nobody")
        step = max(1, len(ids) // RANDOM_CUSTOMERS)
        self.sample = ids[::step][:RANDOM_CUSTOMERS] or [self.heavy]

    async def counts(self) -> dict[str, int]:
        async with self.db.reading() as uow:
            return {t: (await raw(uow, f"SELECT COUNT(*) FROM {t}"))[0][0]
                    for t in ("customers", "orders", "ledger", "reviews", "balances", "item_ratings")} | {
                "heavy's ledger rows": (await raw(uow, "SELECT COUNT(*) FROM ledger WHERE customer_id = {}",
                                                  self.heavy))[0][0]}


Query = Callable[[Any, "Shop", int], Awaitable[Any]]


async def kept_ratings(uow: Any, shop: Shop, n: int) -> Any:
    return await uow.reviews.ratings()


async def old_ratings(uow: Any, shop: Shop, n: int) -> Any:
    return await raw(uow, OLD_RATINGS)


async def kept_heavy(uow: Any, shop: Shop, n: int) -> Any:
    return await uow.loyalty.balance(shop.heavy)


async def old_heavy(uow: Any, shop: Shop, n: int) -> Any:
    return await raw(uow, OLD_BALANCE, shop.heavy)


async def kept_any(uow: Any, shop: Shop, n: int) -> Any:
    return await uow.loyalty.balance(shop.sample[n % len(shop.sample)])


async def old_any(uow: Any, shop: Shop, n: int) -> Any:
    return await raw(uow, OLD_BALANCE, shop.sample[n % len(shop.sample)])


QUERIES: dict[str, Query] = {
    "ratings() kept": kept_ratings, "ratings() recounted (before)": old_ratings,
    "balance of the heaviest kept": kept_heavy, "balance of the heaviest summed (before)": old_heavy,
    "balance of anyone kept": kept_any, "balance of anyone summed (before)": old_any,
}


async def measure(shop: Shop, query: Query, calls: int) -> float:
    """µs per call: ``calls`` calls, or as many as fit in BUDGET seconds (at least MIN_CALLS)."""
    async with shop.db.reading() as uow:
        await query(uow, shop, 0)  # warm: the statement prepared, the pages cached
        started = time.perf_counter()
        n = 0
        while n < calls and (n < MIN_CALLS or time.perf_counter() - started < BUDGET):
            await query(uow, shop, n)
            n += 1
        return (time.perf_counter() - started) / n * 1e6


async def run(shops: list[Shop], rounds: int, calls: int) -> dict[tuple[str, str], float]:
    cells = [(shop, name) for name in QUERIES for shop in shops]
    times: dict[tuple[str, str], list[float]] = {(s.name, q): [] for s, q in cells}
    for r in range(rounds):
        turn = cells[r % len(cells):] + cells[:r % len(cells)]
        if r % 2:
            turn.reverse()
        for shop, name in turn:
            times[(shop.name, name)].append(await measure(shop, QUERIES[name], calls))
    return {k: statistics.median(v) for k, v in times.items()}


def report(backend: str, shops: list[Shop], medians: dict[tuple[str, str], float]) -> None:
    empty, full = (s.name for s in shops)
    print(f"\n{backend}: median µs per call ({empty} / {full}; year/small; before/kept on the year)")
    for name in QUERIES:
        a, b = medians[(empty, name)], medians[(full, name)]
        line = f"  {name:42} {a:9.1f} {b:11.1f}   year/small {b / a:6.2f}"
        if name.endswith("kept"):
            before = next(n for n in QUERIES if n.startswith(name[:-5]) and n.endswith("(before)"))
            line += f"   before/kept {medians[(full, before)] / b:8.1f}x"
        print(line)


async def sqlite_shops(work: Path, first: int, orders: int, customers: int) -> list[Shop]:
    empty, full = work / f"small-{first}.db", work / f"year-{orders}-{customers}.db"
    for path, n, m in ((empty, first, max(1, first // 10)), (full, orders, customers)):
        if path.exists():  # kept from an earlier run (--keep)
            continue
        db = await SqliteDatabase(path).connect()
        await seeded(db)
        await db.close()
        started = time.perf_counter()
        await year.fill(str(path), orders=n, customers=m)
        print(f"SQLite {path.name} written in {time.perf_counter() - started:.0f} s")
    shops = [Shop("small", await SqliteDatabase(empty).connect()),
             Shop("year", await SqliteDatabase(full).connect())]
    for shop in shops:
        await shop.pick()
    return shops


async def postgres_shops(shops: list[Shop], url: str, first: int, orders: int, customers: int) -> None:
    """Into ``shops`` as they are made (so a failure still drops those made)."""
    from storage.postgres import PostgresDatabase

    for name, (n, m) in {"small": (first, max(1, first // 10)), "year": (orders, customers)}.items():
        schema = f"bench_aggregates_{secrets.token_hex(4)}"
        db = PostgresDatabase(url, schema=schema, pool_size=2)
        shops.append(Shop(name, db))
        await db.connect()
        await seeded(db)
        started = time.perf_counter()
        await year.fill(url, orders=n, customers=m, schema=schema)
        print(f"PostgreSQL {name} written in {time.perf_counter() - started:.0f} s")
    for shop in shops:
        await shop.pick()


async def drop(shops: list[Shop]) -> None:
    for shop in shops:
        db = shop.db
        await db.close()
        schema = getattr(db, "schema", None)
        if schema:
            import asyncpg

            conn = await asyncpg.connect(db.url)
            try:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            finally:
                await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--first", type=int, default=1000, help="orders of the small history")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=5000,
                        help="calls per query, database and round (fewer if they take over half a second)")
    parser.add_argument("--postgres", default="", help="also on PostgreSQL, in two schemas made and dropped there")
    parser.add_argument("--keep", default="", help="keep (and reuse) the SQLite files in this folder")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}; {args.rounds} rounds of {args.calls} calls")
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="vitrina-aggregates-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        shops = await sqlite_shops(work, args.first, args.orders, args.customers)
        try:
            for shop in shops:
                print(f"SQLite {shop.name}: {await shop.counts()}")
            report("SQLite", shops, await run(shops, args.rounds, args.calls))
        finally:
            for shop in shops:
                await shop.db.close()
        if args.postgres:
            shops = []
            try:
                await postgres_shops(shops, args.postgres, args.first, args.orders, args.customers)
                for shop in shops:
                    print(f"PostgreSQL {shop.name}: {await shop.counts()}")
                report("PostgreSQL", shops, await run(shops, args.rounds, args.calls))
            finally:
                await drop(shops)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
