"""The owner's numbers over a seeded history: every count of the funnel, the repeat rate, the average check,
the top items and the orders per day, by channel and by source, to the exact number; the export; refusals."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from journey_support import BARISTA, NOON, OWNER, customer, refused

from journey.audit import CLI
from journey.channels import Channel, CustomerRef
from journey.deeplinks import parse_start
from journey.engine import Engine
from journey.errors import ErrorCode
from journey.model import CartLine
from journey.money import Money
from journey.stats import Funnel

ANNA = customer(1)  # telegram, came through 2GIS: two orders picked up, one reviewed
BORIS = customer(2, Channel.VK)  # VK, came through 2GIS: one order picked up
CLARA = customer(3)  # telegram, the counter's QR code: one order, not picked up yet
DAN = customer(4, Channel.VK)  # VK, no link: one order, not picked up yet


async def visit(engine: Engine, param: str, channel: Channel, who: CustomerRef | None = None) -> None:
    link = parse_start(param)
    assert link is not None
    await engine.record_visit(link, channel, who)


async def order(engine: Engine, who: CustomerRef, cart: list[CartLine], source: str, *,
                picked: bool = False, review: str | None = None) -> str:
    placed = (await engine.place_order(who, cart, "center", source=source)).order
    if picked:
        await engine.accept(BARISTA, placed.id)
        await engine.mark_ready(BARISTA, placed.id)
        await engine.hand_over(BARISTA, order_id=placed.id)
    if review:
        await engine.add_review(who, placed.id, review, 5)
    return placed.id


async def seed_history(engine: Engine, clock) -> None:
    """NOON is 18.11 09:00 in Moscow: the last 7 days are 12.11 to 18.11."""
    clock.current = NOON - timedelta(days=8)  # 10.11: before the period, counted nowhere
    await visit(engine, "s2gis", Channel.TELEGRAM, ANNA)
    await order(engine, ANNA, [CartLine("latte", 3)], "2gis", picked=True, review="latte")
    clock.current = NOON - timedelta(days=2)  # 16.11
    await visit(engine, "s2gis", Channel.TELEGRAM, ANNA)
    await visit(engine, "s2gis", Channel.VK, BORIS)
    await visit(engine, "pcenter", Channel.TELEGRAM, CLARA)
    await visit(engine, "pcenter", Channel.WEB)  # the QR landing page, nobody known yet
    await order(engine, ANNA, [CartLine("latte"), CartLine("eclair")], "2gis", picked=True, review="latte")
    clock.current = NOON - timedelta(days=1)  # 17.11
    await order(engine, ANNA, [CartLine("croissant", 2)], "2gis", picked=True)
    await order(engine, BORIS, [CartLine("espresso")], "2gis", picked=True)
    clock.current = NOON  # 18.11
    await order(engine, CLARA, [CartLine("croissant")], "qr:center")
    await order(engine, DAN, [CartLine("espresso", 3)], "")


async def test_the_numbers_of_a_week_are_exact(engine, clock):
    await seed_history(engine, clock)
    stats = await engine.stats(OWNER)

    assert (stats.days, stats.first_day, stats.last_day) == (7, date(2026, 11, 12), date(2026, 11, 18))
    assert stats.total == Funnel(visits=4, orders=5, picked_up=3, reviewed=1)
    assert dict(stats.by_channel) == {
        "telegram": Funnel(visits=2, orders=3, picked_up=2, reviewed=1),
        "vk": Funnel(visits=1, orders=2, picked_up=1, reviewed=0),
        "web": Funnel(visits=1),
    }
    assert [name for name, _ in stats.by_channel] == ["telegram", "vk", "web"]  # most first
    assert dict(stats.by_source) == {
        "2gis": Funnel(visits=2, orders=3, picked_up=3, reviewed=1),
        "qr:center": Funnel(visits=2, orders=1),
        "": Funnel(orders=1),
    }
    # Anna picked up two orders, Boris one
    assert (stats.customers, stats.repeat_customers, stats.repeat_rate) == (2, 1, 50)
    # (419.90 + 360 + 150) / 3 = 309.966... -> 309.97
    assert stats.revenue == Money(92990) and stats.average_check == Money(30997)
    assert [(i.item_id, i.name, i.quantity) for i in stats.top_items] == [
        ("croissant", "Круассан", 2), ("eclair", "Эклер", 1), ("espresso", "Эспрессо", 1), ("latte", "Латте", 1)]
    assert [(d.day.day, d.orders) for d in stats.per_day] == [
        (12, 0), (13, 0), (14, 0), (15, 0), (16, 1), (17, 2), (18, 2)]


async def test_a_longer_period_takes_in_the_older_order(engine, clock):
    await seed_history(engine, clock)
    stats = await engine.stats(CLI, 9)
    assert stats.first_day == date(2026, 11, 10)
    assert stats.total == Funnel(visits=5, orders=6, picked_up=4, reviewed=2)
    assert (stats.customers, stats.repeat_customers) == (2, 1)
    assert stats.top_items[0].item_id == "latte" and stats.top_items[0].quantity == 4
    assert len(stats.per_day) == 9 and stats.per_day[0].orders == 1


async def test_days_are_counted_in_the_shops_time_zone(engine, clock):
    # 23:30 in Moscow on 17.11 is 20:30 UTC, 00:30 on 18.11 is 21:30 UTC on the 17th
    clock.current = NOON - timedelta(hours=9, minutes=30)
    await visit(engine, "s2gis", Channel.TELEGRAM)
    clock.current = NOON - timedelta(hours=8, minutes=30)
    await visit(engine, "pcenter", Channel.VK)
    clock.current = NOON
    today = await engine.stats(OWNER, 1)
    assert (today.first_day, today.last_day) == (date(2026, 11, 18), date(2026, 11, 18))
    assert dict(today.by_source) == {"qr:center": Funnel(visits=1)}
    assert (await engine.stats(OWNER, 2)).total.visits == 2


async def test_an_empty_shop_has_no_average_check(engine):
    stats = await engine.stats(OWNER, 30)
    assert stats.empty and stats.average_check is None and stats.repeat_rate is None
    assert stats.top_items == () and len(stats.per_day) == 30


async def test_the_export_has_every_order_and_customer(engine, clock):
    await seed_history(engine, clock)
    orders = [o async for o in engine.export_orders(CLI)]
    assert len(orders) == 6 and [o.created_at for o in orders] == sorted(o.created_at for o in orders)
    assert len([o async for o in engine.export_orders(CLI, 7)]) == 5
    customers = {c.id: c async for c in engine.export_customers(CLI)}
    by_account = {}
    for ref in (ANNA, BORIS, CLARA, DAN):
        async with engine.uow() as uow:
            by_account[ref] = customers[(await uow.customers.by_account(ref.channel, ref.external_id)).id]
    assert (by_account[ANNA].orders, by_account[ANNA].spent, by_account[ANNA].channels) == (3, 75000 + 41990 + 36000,
                                                                                            ("telegram",))
    assert by_account[ANNA].source == "2gis"
    assert (by_account[BORIS].orders, by_account[BORIS].spent, by_account[BORIS].channels) == (1, 15000, ("vk",))
    assert (by_account[DAN].orders, by_account[DAN].spent) == (0, 0)


@pytest.mark.parametrize("intruder", [customer(1), BARISTA, CustomerRef(Channel.VK, "1")])
async def test_only_owners_see_the_numbers(engine, clock, intruder):
    await seed_history(engine, clock)
    with refused(ErrorCode.NOT_OWNER):
        await engine.stats(intruder)
    with refused(ErrorCode.NOT_OWNER):
        [o async for o in engine.export_orders(intruder)]
    with refused(ErrorCode.NOT_OWNER):
        [c async for c in engine.export_customers(intruder)]


@pytest.mark.parametrize("days", [0, -1, 366, 1000, True, "7"])
async def test_days_out_of_range_are_refused(engine, days):
    with refused(ErrorCode.BAD_INPUT):
        await engine.stats(OWNER, days)


async def test_a_period_is_found_through_the_time_indexes(engine, clock, db):
    """A year of orders is never read whole for the numbers: every statement /stats runs on orders or visits
    finds the period's rows through an index of migration 0008, or 0020's by status and time for the orders of
    one status (reading whole tables, a year of a busy shop counted day by day took 15 s instead of 10 ms)."""
    if not hasattr(db, "reader"):
        pytest.skip("reads SQLite's query plans (EXPLAIN QUERY PLAN)")
    await seed_history(engine, clock)
    statements: list[str] = []
    db.reader.set_trace_callback(statements.append)
    try:
        await engine.stats(OWNER, 365)
    finally:
        db.reader.set_trace_callback(None)
    plans = {s: [row[-1] for row in db.reader.execute("EXPLAIN QUERY PLAN " + s)]
             for s in statements if re.search(r"\bFROM (orders|visits)\b", s)}
    # visits, orders, repeat customers, top items, orders per day; the visits shared links brought (sharing)
    assert len(plans) == 6, list(plans)
    for statement, plan in plans.items():
        assert not [step for step in plan if re.match(r"SCAN (orders|visits|o)\b", step)], (statement, plan)
        assert any(re.match(r"SEARCH \w+ USING (COVERING )?INDEX (orders_created|orders_status|visits_at)\b", step)
                   for step in plan), (statement, plan)
