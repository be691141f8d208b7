"""Concurrent buyers never get more than there is, and concurrent spending never overdraws points.

Orders race through one engine (units of work take turns on the writer connection) and through two
engines on two connections to the same file, as two processes would (``BEGIN IMMEDIATE`` serializes
them). The ledger's balance is the sum of its entries and the database refuses to take it below zero.
"""
from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from journey_support import OWNER, FakeClock, balance, customer, give_points, ledger, seed, stock_of
from pg_support import same_store

from journey.engine import Engine
from journey.errors import DomainError, ErrorCode
from journey.model import CartLine, LedgerEntry
from journey.states import OrderStatus
from storage.sqlite import SqliteDatabase


def outcome(results: list) -> Counter:
    """How many succeeded, and the error code of each refusal (anything else fails the test)."""
    tally: Counter = Counter()
    for r in results:
        if isinstance(r, DomainError):
            tally[r.code] += 1
        elif isinstance(r, BaseException):
            raise r
        else:
            tally["ok"] += 1
    return tally


async def placed_quantity(engine: Engine, point_id: str = "center") -> int:
    async with engine.uow() as uow:
        orders = await uow.orders.open_at(point_id)
    assert all(o.status is OrderStatus.PLACED for o in orders)
    return sum(l.quantity for o in orders for l in o.lines if l.item_id == "croissant")


@pytest.fixture
async def twin(db, clock, engine):
    """A second engine on its own connection to the same database file (or PostgreSQL schema): another
    process, in effect."""
    other = same_store(db)
    await other.connect()
    yield Engine(other.uow, secret=engine.secret, owners=[OWNER], clock=clock, reader=other.reading)
    await other.close()


async def test_200_customers_race_for_the_last_10_croissants(engine):
    results = await asyncio.gather(
        *(engine.place_order(customer(i), [CartLine("croissant")], "center") for i in range(200)),
        return_exceptions=True)
    assert outcome(results) == {"ok": 10, ErrorCode.OUT_OF_STOCK: 190}
    assert await stock_of(engine) == 0
    assert await placed_quantity(engine) == 10
    assert len({r.order.short_code for r in results if not isinstance(r, BaseException)}) == 10


async def test_two_connections_racing_never_oversell(engine, twin):
    engines = (engine, twin)
    results = await asyncio.gather(
        *(engines[i % 2].place_order(customer(i), [CartLine("croissant", 1 + i % 3)], "center") for i in range(60)),
        return_exceptions=True)
    tally = outcome(results)
    assert set(tally) <= {"ok", ErrorCode.OUT_OF_STOCK} and tally["ok"] >= 4
    assert await placed_quantity(engine) == 10 - await stock_of(twin) <= 10


async def _race(path: Path, stock: int, quantities: list[int]) -> None:
    async with SqliteDatabase(path) as first, SqliteDatabase(path) as second:
        clock = FakeClock()
        one = Engine(first.uow, owners=[OWNER], clock=clock, reader=first.reading)
        await one.start()
        await seed(one, croissants=stock)
        two = Engine(second.uow, secret=one.secret, owners=[OWNER], clock=clock, reader=second.reading)
        engines = (one, two)
        results = await asyncio.gather(
            *(engines[i % 2].place_order(customer(i), [CartLine("croissant", q)], "center")
              for i, q in enumerate(quantities)), return_exceptions=True)
        outcome(results)
        left = await stock_of(two)
        sold = sum(q for q, r in zip(quantities, results, strict=True) if not isinstance(r, BaseException))
        assert left >= 0 and sold == stock - left == await placed_quantity(one)
        # stock only goes down, so whoever was refused asked for more than ended up left
        assert all(q > left for q, r in zip(quantities, results, strict=True) if isinstance(r, BaseException))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stock=st.integers(0, 12), quantities=st.lists(st.integers(1, 3), min_size=1, max_size=30))
def test_property_two_processes_never_oversell(stock, quantities):
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_race(Path(folder) / "shop.db", stock, quantities))


async def test_concurrent_point_spending_never_overdraws(engine, twin):
    guest = customer(1)
    await give_points(engine, guest, 1000)
    engines = (engine, twin)
    results = await asyncio.gather(
        *(engines[i % 2].place_order(guest, [CartLine("latte")], "center", points=300) for i in range(20)),
        return_exceptions=True)
    assert outcome(results) == {"ok": 3, ErrorCode.POINTS_INSUFFICIENT: 17}
    spent = sum(r.order.points_spent for r in results if not isinstance(r, BaseException))
    assert spent == 900 <= 1000
    assert await balance(engine, guest) == 100 == sum(e.delta for e in await ledger(engine, guest))


async def _ledger_walk(deltas: list[int]) -> None:
    async with SqliteDatabase(":memory:") as db:
        engine = Engine(db.uow, clock=FakeClock())
        who = customer(1)
        cid = (await engine.identify(who)).id
        expected = 0
        for delta in deltas:
            try:
                async with engine.uow() as uow:
                    await uow.loyalty.add(LedgerEntry(cid, delta, "earn" if delta > 0 else "spend", None, engine.now()))
            except DomainError as refused:
                assert refused.code is ErrorCode.POINTS_INSUFFICIENT
                assert expected + delta < 0
            else:
                assert expected + delta >= 0
                expected += delta
            entries = await ledger(engine, who)
            assert await balance(engine, who) == expected == sum(e.delta for e in entries) >= 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-500, 500).filter(bool), max_size=25))
def test_property_ledger_balance_is_the_sum_and_never_negative(deltas):
    asyncio.run(_ledger_walk(deltas))
