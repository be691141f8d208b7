"""The menu's version (SQLite migration 0021, PostgreSQL 0007) on every backend: it moves with each change of
what a customer's menu shows, whoever writes the rows, and not with the writes of a day's trade that leave
the menu as it was (orders of items made to order, the staff's steps, points, visits, notifications)."""
from __future__ import annotations

import asyncio

import pytest
from shop_fixtures import BARISTA, FakeClock, customer, seed

from journey.catalog import Category, Item
from journey.deeplinks import parse_start
from journey.engine import Engine
from journey.model import CartLine
from journey.money import Money


@pytest.fixture
async def engine(uow_factory) -> Engine:
    eng = Engine(uow_factory.uow, clock=FakeClock(), reader=uow_factory.reading)
    await eng.start()
    await seed(eng)
    return eng


async def picked_up(engine: Engine, n: int, cart: list[CartLine]) -> str:
    order = (await engine.place_order(customer(n), cart, "center")).order
    for step in (engine.accept, engine.mark_ready):
        await step(BARISTA, order.id)
    await engine.hand_over(BARISTA, order_id=order.id)
    return order.id


async def test_a_days_trade_that_leaves_the_menu_as_it_was_keeps_the_version(engine):
    before = await engine.menu_version()
    order_id = await picked_up(engine, 1, [CartLine("latte", 2, {"size": ("m",)}), CartLine("espresso")])
    cancelled = (await engine.place_order(customer(2), [CartLine("eclair")], "park")).order
    await engine.cancel(customer(2), cancelled.id)
    await engine.record_visit(parse_start("p_center"), customer(3).channel, customer(3))
    assert await engine.menu_version() == before
    assert order_id  # the journey ran to its end: points earned, payment captured, events stored


async def test_each_change_of_what_the_menu_shows_moves_the_version(engine, uow_factory):
    seen = {await engine.menu_version()}

    async def moved() -> None:
        now = await engine.menu_version()
        assert now not in seen
        seen.add(now)

    await engine.place_order(customer(1), [CartLine("croissant", 2)], "center")  # counted: stock taken
    await moved()
    await engine.set_stock("center", "espresso", 5)  # counted from now on
    await moved()
    await engine.set_stock("center", "espresso", None)  # made to order again
    await moved()
    await engine.set_available("eclair", False)
    await moved()
    async with uow_factory.uow() as uow:
        await uow.catalog.save_category(Category("tea", "Чай", 2))
    await moved()
    async with uow_factory.uow() as uow:
        await uow.catalog.save_item(Item("green", "tea", "Зелёный", Money(12000)))
    await moved()
    point = (await engine.menu()).points[1]
    async with uow_factory.uow() as uow:
        await uow.catalog.save_point(point)  # e.g. its name or hours edited
    await moved()
    order_id = await picked_up(engine, 2, [CartLine("latte", 1, {"size": ("s",)})])
    version = await engine.menu_version()  # (the order of a drink made to order did not move it)
    await engine.add_review(customer(2), order_id, "latte", 5)
    assert await engine.menu_version() != version
    seen.add(version)
    await moved()
    await engine.forget(customer(2))  # the review's author is forgotten: the reviews list changes
    await moved()


async def test_two_stores_of_one_shop_see_each_others_changes(uow_factory):
    from pg_support import same_store

    other = same_store(uow_factory)
    await other.connect()
    try:
        async with uow_factory.uow() as uow:
            await seed_minimal(uow)
        before = await other_version(other)
        async with uow_factory.uow() as uow:
            await uow.catalog.set_stock("center", "croissant", 7)
        assert await other_version(other) != before
    finally:
        await other.close()


async def seed_minimal(uow) -> None:
    from shop_fixtures import CATEGORIES, ITEMS, POINTS

    for p in POINTS:
        await uow.catalog.save_point(p)
    for c in CATEGORIES:
        await uow.catalog.save_category(c)
    for i in ITEMS:
        await uow.catalog.save_item(i)


async def other_version(db) -> str:
    async with db.reading() as uow:
        return await uow.catalog.version()


async def test_a_rolled_back_change_leaves_the_version(engine, uow_factory):
    before = await engine.menu_version()
    with pytest.raises(RuntimeError):
        async with uow_factory.uow() as uow:
            await uow.catalog.set_stock("center", "croissant", 1)
            raise RuntimeError("the unit of work fails after the write")
    assert await engine.menu_version() == before


async def test_postgres_orders_of_counted_items_at_once_each_move_it_and_hold_no_lock_on_it_before_commit(
        engine, uow_factory):
    """PostgreSQL: the version is bumped at commit, so a transaction that changed stock holds no lock on it
    while it goes on (an order waiting for a stock row never waits for the version too: no deadlock), and
    orders committed at once each count."""
    if not hasattr(uow_factory, "pool"):
        pytest.skip("PostgreSQL: one writer at a time on SQLite")
    async with uow_factory.uow() as uow:
        await uow.catalog.set_stock("center", "eclair", 100)
    before = int(await engine.menu_version())
    async with uow_factory.uow() as uow:
        await uow.catalog.change_stock("center", "croissant", -1)
        # every slot is free while this transaction goes on
        async with uow_factory.pool.acquire() as other, other.transaction():
            assert len(await other.fetch("SELECT slot FROM menu_version FOR UPDATE NOWAIT")) == 16
    assert int(await engine.menu_version()) == before + 1  # once for the transaction

    carts = [[CartLine("croissant"), CartLine("eclair")], [CartLine("eclair"), CartLine("croissant")]] * 3
    await asyncio.gather(*(engine.place_order(customer(n), cart, "center") for n, cart in enumerate(carts)))
    assert int(await engine.menu_version()) == before + 1 + len(carts)

