"""Shared data and helpers of the storage contract suite (plain values, no backend specifics)."""
from __future__ import annotations

from datetime import UTC, datetime, time

from journey.catalog import Category, Item, OpeningHours, Option, OptionGroup, PickupPoint
from journey.channels import Channel
from journey.model import Account, Customer
from journey.money import Money

NOON = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
SIZE = OptionGroup("size", "Размер", (Option("s", "S"), Option("m", "M", 4000), Option("l", "L", 8000)))
MILK = OptionGroup("milk", "Молоко", (Option("oat", "Овсяное", 6000), Option("almond", "Миндальное", -500)),
                   required=False)
SYRUP = OptionGroup("syrup", "Сироп", (Option("vanilla", "Ваниль", 3000), Option("caramel", "Карамель", 3000)),
                    required=False, multiple=True)
WEEK = OpeningHours(((time(8), time(21)),) * 5 + ((time(10), time(18)), None))
POINTS = (PickupPoint("center", "Центр", "ул. Пушкина, 10", 55.76, 37.61, WEEK, 5),
          PickupPoint("park", "Парк", "Парковая ул., 3", None, None, OpeningHours(), 10))
CATEGORIES = (Category("coffee", "Кофе", 0), Category("bakery", "Выпечка", 1))
ITEMS = (
    Item("latte", "coffee", "Латте", Money(25000), "С молоком «как надо»", "/photos/latte.jpg",
         (SIZE, MILK, SYRUP), ("хит", "горячее"), True, 1),
    Item("espresso", "coffee", "Эспрессо", Money(15000), position=0),
    Item("croissant", "bakery", "Круассан", Money(18000)),
    Item("stars", "bakery", "Стикеры", Money(50, "XTR"), available=False),
)


async def seed_catalog(factory) -> None:
    """Points, categories and items: what orders, stock and reviews refer to."""
    async with factory() as uow:
        for p in POINTS:
            await uow.catalog.save_point(p)
        for c in CATEGORIES:
            await uow.catalog.save_category(c)
        for i in ITEMS:
            await uow.catalog.save_item(i)


def make_customer(n: int, **overrides) -> Customer:
    values = dict(id=f"c_{n}", name=f"Гость {n}", language="ru", source="p:center", consent=True,
                  referral_code=f"ref{n}", referred_by=None, created_at=NOON)
    values.update(overrides)
    return Customer(**values)


async def add_customer(factory, n: int, channel: Channel = Channel.TELEGRAM, **overrides) -> Customer:
    customer = make_customer(n, **overrides)
    async with factory() as uow:
        await uow.customers.add(customer)
        await uow.customers.add_account(Account(channel, str(1000 + n), customer.id, customer.name))
    return customer



async def race(factory, first, second):
    """Two read-write units of work on one thing at once: ``first(uow)`` runs and its unit of work stays open
    until ``second(uow)``, begun on another connection, is waiting for it; then it commits. Returns what
    each returned or raised. What several instances do at once on PostgreSQL; SQLite, one writer at a
    time, runs them one after the other anyway."""
    import asyncio

    held = asyncio.Event()

    async def one():
        async with factory() as uow:
            result = await first(uow)
            held.set()
            await _until_waited_for(factory, uow)
            return result

    async def two():
        await held.wait()
        async with factory() as uow:
            return await second(uow)

    return await asyncio.gather(one(), two(), return_exceptions=True)


async def _until_waited_for(factory, uow) -> None:
    """Return once another transaction waits for the one of ``uow`` (PostgreSQL: a backend blocked by its
    process; SQLite: the other task queued on the write lock)."""
    import asyncio

    pool = getattr(factory, "pool", None)
    if pool is None:  # SQLite: the other task reaches the write lock within a few turns of the loop
        for _ in range(10):
            await asyncio.sleep(0)
        return
    pid = uow._conn.get_server_pid()
    async with pool.acquire() as watcher:
        while not await watcher.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)))", pid):
            await asyncio.sleep(0.005)  # polled until it waits; the suite's timeout bounds a lock never taken
