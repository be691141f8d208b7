"""Suggestions and points at a year's data: what a pickup adds, what a menu's suggestions and a profile's
points cost to read, and what the expiry sweep costs, on a fresh SQLite file with the demo menu.

    python bench/loyalty.py                     # 100000 orders by 5000 customers over 365 days
    python bench/loyalty.py --orders 20000 --customers 1000

The year is written through the same storage calls a hand-over makes (``suggestions.picked_up`` and
``points.add_spend``, plus the order's ``earn`` ledger entry), one unit of work per 1000 orders; then each read
is timed through the engine (``Engine.suggestions``, ``Engine.points_summary``) and the sweep is run twice: the
first catches up with a year of credits, the second is the steady state ten minutes later.
"""
from __future__ import annotations

import argparse
import asyncio
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.seed import seed_demo
from journey import suggestions
from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from journey.limits import ShopLimits
from journey.model import Account, Customer, LedgerEntry, Order, OrderLine
from journey.money import Money
from journey.states import OrderStatus
from storage.sqlite import SqliteDatabase

START = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
ITEMS = ["espresso", "americano", "cappuccino", "latte", "flat-white", "raf-vanilla", "black-tea", "cocoa",
         "croissant", "almond-croissant", "cinnamon-bun", "cheesecake"]
MILKS = [{}, {"milk": ("oat",)}, {"milk": ("almond",)}]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


def ms(seconds: list[float]) -> str:
    q = statistics.quantiles(seconds, n=100)
    return f"p50 {statistics.median(seconds) * 1000:.2f} ms, p99 {q[98] * 1000:.2f} ms"


async def main(orders: int, customers: int) -> None:
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as folder:
        db = SqliteDatabase(Path(folder) / "loyalty.db")
        await db.connect()
        clock = Clock(START + timedelta(days=395))  # a month of credits is past its year
        engine = Engine(db.uow, clock=clock, reader=db.reading, limits=ShopLimits.off())  # one busy customer
        await engine.start()
        await seed_demo(engine)
        rules = await engine.set_rules(tiers="0:5,10000:7,30000:10", points_expire_days=365)
        ids = [f"c_bench{n}" for n in range(customers)]
        async with engine.uow() as uow:
            for n, cid in enumerate(ids):
                await uow.customers.add(Customer(cid, f"Гость {n}", referral_code=f"bench{n}", created_at=START))
                await uow.customers.add_account(Account(Channel.TELEGRAM, str(10_000 + n), cid))
        started, step = time.perf_counter(), 1000
        for first in range(0, orders, step):
            async with engine.uow() as uow:
                for n in range(first, min(first + step, orders)):
                    # half by anyone, half by a few regulars
                    cid = ids[rng.randrange(customers) if n % 2 else int(rng.paretovariate(1.5)) % customers]
                    at = START + timedelta(minutes=n * 365 * 24 * 60 // orders, seconds=rng.randrange(60))
                    picked = rng.sample(ITEMS, rng.choice((1, 1, 2, 2, 3)))
                    lines = tuple(OrderLine(i, i, (), dict(rng.choice(MILKS)) if i in ITEMS[:6] else {}, 1,
                                            Money(25000)) for i in picked)
                    order = Order(f"o_bench{n}", cid, "center", OrderStatus.PICKED_UP, lines, Money(25000),
                                  Money(0), 0, Money(25000 * len(lines)), at, "0000", at, at)
                    await uow.points.add_spend(cid, at.date(), order.total.amount)
                    await suggestions.picked_up(uow, order, at, rules)
                    await uow.loyalty.add(LedgerEntry(cid, order.total.amount // 20, "earn", None, at))
        writing = time.perf_counter() - started

        point, busy = "center", CustomerRef(Channel.TELEGRAM, "10000")
        reads: dict[str, list[float]] = {"suggestions (usual, now, together with 2 items)": [],
                                         "points_summary (tier, expiring, 20 of history)": []}
        for n in range(-20, 300):  # 20 to warm up
            who = CustomerRef(Channel.TELEGRAM, str(10_000 + n % customers)) if n % 2 else busy
            t0 = time.perf_counter()
            await engine.suggestions(who, point, ITEMS[n % 6:n % 6 + 2])
            t1 = time.perf_counter()
            await engine.points_summary(who)
            t2 = time.perf_counter()
            if n >= 0:
                reads["suggestions (usual, now, together with 2 items)"].append(t1 - t0)
                reads["points_summary (tier, expiring, 20 of history)"].append(t2 - t1)
        t0 = time.perf_counter()
        caught_up = await engine.expire_points()
        first_sweep = time.perf_counter() - t0
        clock.current += timedelta(minutes=10)
        t0 = time.perf_counter()
        await engine.expire_points()
        steady = time.perf_counter() - t0
        async with engine.read() as uow:
            busiest = len(await uow.points.ledger("c_bench1"))
        await db.close()

    print(f"{platform.platform()}, {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    print(f"{orders} picked-up orders by {customers} customers over 365 days (busiest customer: {busiest} "
          "ledger entries)")
    print(f"aggregates + ledger written: {writing / orders * 1e6:.0f} µs per order (1000 per unit of work)")
    for name, values in reads.items():
        print(f"{name}: {ms(values)}")
    print(f"expiry sweep, first run over the year: {first_sweep * 1000:.0f} ms ({caught_up} points written off)")
    print(f"expiry sweep, steady state (10 minutes later): {steady * 1000:.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=5_000)
    args = parser.parse_args()
    asyncio.run(main(args.orders, args.customers))
