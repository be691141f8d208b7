"""The storage contract of suggestions and points: aggregates that add up, thresholds and limits as asked, the
ledger read for expiry and paged for the history, birthdays and their yearly records, and merging two customers."""
from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from storage_data import NOON, add_customer, race, seed_catalog

from journey.errors import DomainError
from journey.loyalty import due
from journey.model import CartLine, LedgerEntry, Order, OrderLine
from journey.money import Money
from journey.states import OrderStatus


@pytest.fixture
async def people(uow_factory):
    for n in range(1, 4):
        await add_customer(uow_factory, n)
    return uow_factory


async def test_an_orders_lines_add_up_in_one_call_a_line_listed_twice_counting_twice(people):
    async with people() as uow:
        await uow.suggestions.add_lines("c_1", [("tea", "{}"), ("latte", "{}"), ("tea", "{}")], NOON)
        await uow.suggestions.add_lines("c_1", [("tea", "{}")], NOON + timedelta(hours=1))
        await uow.suggestions.add_lines("c_1", [], NOON)
        await uow.suggestions.add_line("c_1", "latte", "{}", NOON + timedelta(hours=2))
    async with people.reading() as uow:
        assert await uow.suggestions.usual("c_1", 1, 10) == [("tea", "{}", 3), ("latte", "{}", 2)]


async def test_lines_pairs_and_hours_add_up_and_read_back_by_count(people):
    async with people() as uow:
        for n in range(3):
            await uow.suggestions.add_line("c_1", "latte", '{"milk":["oat"]}', NOON + timedelta(minutes=n))
        await uow.suggestions.add_line("c_1", "latte", "{}", NOON)
        await uow.suggestions.add_line("c_1", "tea", "{}", NOON)
        await uow.suggestions.add_line("c_1", "tea", "{}", NOON + timedelta(hours=1))
        await uow.suggestions.add_pairs(["croissant", "latte", "tea"])
        await uow.suggestions.add_pairs(["croissant", "latte"])
        await uow.suggestions.add_hour(9, {"latte": 2, "tea": 1})
        await uow.suggestions.add_hour(9, {"tea": 2})
        await uow.suggestions.add_hour(10, {"croissant": 5})
    async with people.reading() as uow:
        assert await uow.suggestions.usual("c_1", 2, 10) == [("latte", '{"milk":["oat"]}', 3), ("tea", "{}", 2)]
        assert await uow.suggestions.usual("c_1", 2, 1) == [("latte", '{"milk":["oat"]}', 3)]
        assert await uow.suggestions.usual("c_2", 1, 10) == []
        assert await uow.suggestions.together(["croissant"], 1, 10) == [("latte", 2), ("tea", 1)]
        assert await uow.suggestions.together(["croissant", "tea"], 2, 10) == [("latte", 3)]
        assert await uow.suggestions.at_hour(9, 2, 10) == [("tea", 3), ("latte", 2)]
        assert await uow.suggestions.at_hour(11, 1, 10) == []


async def test_spending_is_summed_per_day_since_a_date(people):
    async with people() as uow:
        await uow.points.add_spend("c_1", date(2026, 1, 1), 1000)
        await uow.points.add_spend("c_1", date(2026, 1, 1), 500)
        await uow.points.add_spend("c_1", date(2026, 6, 1), 200)
        await uow.points.add_spend("c_2", date(2026, 6, 1), 7)
    async with people.reading() as uow:
        assert await uow.points.spent("c_1", date(2026, 1, 1)) == 1700
        assert await uow.points.spent("c_1", date(2026, 1, 2)) == 200
        assert await uow.points.spent("c_3", date(2000, 1, 1)) == 0


async def test_the_ledger_for_expiry_and_the_history_pages(people):
    async with people() as uow:
        await uow.loyalty.add(LedgerEntry("c_1", 100, "earn", None, NOON))
        await uow.loyalty.add(LedgerEntry("c_2", 50, "earn", None, NOON + timedelta(days=1)))
        await uow.loyalty.add(LedgerEntry("c_1", -30, "spend", None, NOON + timedelta(days=2)))
        await uow.loyalty.add(LedgerEntry("c_1", 20, "refund", None, NOON + timedelta(days=3)))
    async with people.reading() as uow:
        assert await uow.points.ledger("c_1") == [(100, NOON), (-30, NOON + timedelta(days=2)),
                                                  (20, NOON + timedelta(days=3))]
        assert await uow.points.credited_between(None, NOON + timedelta(days=1)) == ["c_1", "c_2"]
        assert await uow.points.credited_between(NOON, NOON + timedelta(days=3)) == ["c_1", "c_2"]
        assert await uow.points.credited_between(NOON + timedelta(days=1), NOON + timedelta(days=2)) == []
        page = await uow.points.history("c_1", None, 2)
        assert [(m.reason, m.delta) for m in page] == [("refund", 20), ("spend", -30)]
        rest = await uow.points.history("c_1", page[-1].id, 2)
        assert [(m.reason, m.delta, m.short_code) for m in rest] == [("earn", 100, "")]
    with pytest.raises(DomainError):  # the ledger still never goes below zero
        async with people() as uow:
            await uow.loyalty.add(LedgerEntry("c_1", -91, "expire", None, NOON))


async def test_birthdays_their_yearly_greeting_and_merging(people):
    async with people() as uow:
        await uow.points.set_birthday("c_1", (29, 2), NOON)
        await uow.points.set_birthday("c_2", (1, 3), NOON)
        await uow.points.set_birthday("c_2", (29, 2), NOON + timedelta(days=1))
        assert await uow.points.greet("c_1", 2027, NOON) is True
        assert await uow.points.greet("c_1", 2027, NOON) is False
        await uow.suggestions.add_line("c_1", "tea", "{}", NOON)
        await uow.suggestions.add_line("c_2", "tea", "{}", NOON + timedelta(days=1))
        await uow.points.add_spend("c_1", date(2026, 1, 1), 100)
        await uow.points.add_spend("c_2", date(2026, 1, 1), 50)
    async with people.reading() as uow:
        assert await uow.points.born_on(29, 2) == ["c_1", "c_2"]
        assert await uow.points.birthday("c_2") == (29, 2) and await uow.points.birthday("c_3") is None
    async with people() as uow:
        await uow.points.merge("c_1", "c_2")
        assert await uow.points.greet("c_2", 2027, NOON) is False  # c_1's greeting of the year came along
        await uow.points.set_birthday("c_3", (5, 5), NOON)
        await uow.points.set_birthday("c_3", None, NOON)
    async with people.reading() as uow:
        assert await uow.suggestions.usual("c_2", 1, 5) == [("tea", "{}", 2)]
        assert await uow.suggestions.usual("c_1", 1, 5) == []
        assert await uow.points.spent("c_2", date(2026, 1, 1)) == 150
        assert await uow.points.born_on(29, 2) == ["c_2"]
        assert await uow.points.birthday("c_3") is None


# --- several instances at once (PostgreSQL; SQLite runs them one after the other) ---------------------------

def pickup(customer_id: str, items: list[str], amount: int):
    """What a hand-over adds to the aggregates: the customer's tier read from their spending, then the
    order's money, lines, pairs and hour."""
    async def adding(uow):
        spent = await uow.points.spent(customer_id, date(2026, 1, 1))
        await uow.points.add_spend(customer_id, date(2026, 11, 18), amount)
        for item in items:
            await uow.suggestions.add_line(customer_id, item, "{}", NOON)
        await uow.suggestions.add_pairs(sorted(set(items)))
        await uow.suggestions.add_hour(9, {item: items.count(item) for item in items})
        return spent
    return adding


async def test_pickups_at_once_add_up_exactly(people):
    assert await race(people, pickup("c_1", ["latte", "croissant"], 300),
                      pickup("c_1", ["croissant", "latte", "latte"], 500)) == [0, 300]  # the tier sees the first
    many = [pickup(f"c_{1 + n % 3}", [["latte", "tea"], ["tea", "croissant", "latte"], ["croissant"]][n % 3], 100)
            for n in range(9)]

    async def one(add):
        async with people() as uow:
            await add(uow)
    await asyncio.gather(*(one(add) for add in many))  # in any order, on every connection of the pool
    async with people.reading() as uow:
        assert await uow.points.spent("c_1", date(2026, 1, 1)) == 300 + 500 + 3 * 100
        assert await uow.suggestions.usual("c_1", 1, 10) == [("latte", "{}", 6), ("tea", "{}", 3),
                                                             ("croissant", "{}", 2)]
        assert await uow.suggestions.together(["latte"], 1, 10) == [("tea", 6), ("croissant", 5)]
        assert await uow.suggestions.together(["croissant"], 1, 10) == [("latte", 5), ("tea", 3)]
        assert await uow.suggestions.at_hour(9, 1, 10) == [("latte", 9), ("croissant", 8), ("tea", 6)]


async def test_points_expired_by_two_runs_at_once_are_written_off_once(people):
    cutoff = NOON + timedelta(days=1)
    async with people() as uow:
        await uow.loyalty.add(LedgerEntry("c_1", 100, "earn", None, NOON))
        await uow.loyalty.add(LedgerEntry("c_1", -30, "spend", None, NOON + timedelta(hours=1)))
        await uow.loyalty.add(LedgerEntry("c_1", 50, "earn", None, NOON + timedelta(days=2)))  # not due yet

    async def expire(uow):
        written_off = 0
        for customer_id in await uow.points.credited_between(None, cutoff):
            amount = due(await uow.points.ledger(customer_id), cutoff)
            if amount > 0:
                await uow.loyalty.add(LedgerEntry(customer_id, -amount, "expire", None, cutoff))
                written_off += amount
        return written_off

    assert await race(people, expire, expire) == [70, 0]
    async with people.reading() as uow:
        assert await uow.loyalty.balance("c_1") == 50


async def test_the_birthday_discount_is_taken_once_by_two_orders_at_once(people):
    await seed_catalog(people)
    async with people() as uow:
        await uow.points.set_birthday("c_1", (18, 11), NOON)

    def place(n: int):
        async def placing(uow):
            if await uow.points.birthday_used("c_1", 2026):
                return "full price"
            line = OrderLine("croissant", "Круассан", (), {}, 1, Money(18000))
            await uow.orders.add(Order(f"o_{n}", "c_1", "center", OrderStatus.PLACED, (line,), Money(18000),
                                       Money(1800), 0, Money(16200), NOON, f"{n:04d}", NOON, NOON))
            await uow.points.use_birthday("c_1", 2026, f"o_{n}", NOON)
            return "birthday"
        return placing

    assert await race(people, place(1), place(2)) == ["birthday", "full price"]


async def test_the_migrations_backfill_counts_past_pickups_as_pickups_count_them(tmp_path):
    """SQLite only: orders picked up before migration 0015 are counted by its backfill exactly as a hand-over
    counts them (the hour of day aside), options key included."""
    from pathlib import Path

    from shop_fixtures import BARISTA, FakeClock, customer, seed

    from journey.engine import Engine
    from storage.sqlite import SqliteDatabase

    db = SqliteDatabase(tmp_path / "backfill.db")
    await db.connect()
    try:
        engine = Engine(db.uow, clock=FakeClock(), reader=db.reading)
        await engine.start()
        await seed(engine)
        carts = [[CartLine("latte", 2, {"milk": ("oat",), "syrup": ("vanilla", "caramel")}), CartLine("croissant")],
                 [CartLine("latte", 1, {"syrup": ("caramel", "vanilla"), "milk": ("oat",)})],
                 [CartLine("espresso"), CartLine("croissant"), CartLine("espresso")], [CartLine("eclair")]]
        for n, cart in enumerate(carts * 2):
            order = (await engine.place_order(customer(n % 3), cart, "center")).order
            if n == 7:
                continue  # never picked up: not counted
            for step in (engine.accept, engine.mark_ready):
                await step(BARISTA, order.id)
            await engine.hand_over(BARISTA, order_id=order.id)
        tables = {"usual_lines": "customer_id, item_id, options, times, last_at",
                  "item_pairs": "item_id, other_id, orders", "customer_spend": "customer_id, day, amount"}

        def snapshot() -> dict[str, list]:
            return {t: sorted(db.writer.execute(f"SELECT {c} FROM {t}").fetchall()) for t, c in tables.items()}

        counted = snapshot()
        assert counted["usual_lines"] and counted["item_pairs"] and counted["customer_spend"]
        sql = (Path(__file__).resolve().parents[2] / "storage/sqlite/migrations/0015_loyalty.sql").read_text()
        backfill = sql.split("-- backfill", 1)[1].split("\n", 1)[1]
        for table in tables:
            db.writer.execute(f"DELETE FROM {table}")
        db.writer.executescript(backfill)
        assert snapshot() == counted
    finally:
        await db.close()
