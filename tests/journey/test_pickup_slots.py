"""Pickup times: the checkout offers only times the point can serve, and every time offered is accepted.

The property is checked with the engine's own rule (``_pickup_time``, what placing an order enforces) at a
time every 7 minutes of eight days, for the demo's points (one open round the clock, the park 10:00-20:00),
the test shop's (07:00-22:00) and one with a closed day and a 24:00 closing; then through the engine and
by placing orders at the times offered.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from shop_fixtures import NOON, POINTS, customer

from bot.menu_file import read_menu
from bot.seed import DEMO_MENU
from journey.catalog import OpeningHours, PickupPoint
from journey.errors import DomainError, ErrorCode
from journey.model import CartLine, ShopRules
from journey.ordering import PICKUP_WINDOW, SLOT, _pickup_time, pickup_times

MOSCOW = ZoneInfo("Europe/Moscow")
RULES = ShopRules()
DEMO = {p.id: p for p in read_menu(DEMO_MENU).points}
ODD = PickupPoint("odd", "Выходной в субботу", hours=OpeningHours.parse(
    "mon-fri 08:05-20:00; sat closed; sun 10:00-24:00"), prep_minutes=20)
EVERY_POINT = [DEMO["center"], DEMO["park"], *POINTS, ODD]


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A Moscow time of the week of NOON (a Wednesday, the 18th): ``day`` 0 is that Monday."""
    return datetime(2026, 11, 16 + day, hour, minute, tzinfo=MOSCOW)


def refused(point: PickupPoint, now: datetime, at: datetime | None) -> ErrorCode | None:
    try:
        _pickup_time(point, RULES, now, at)
    except DomainError as e:
        return e.code
    return None


def check(point: PickupPoint, now: datetime) -> None:
    times = pickup_times(point, RULES, now)
    slots = times.slots
    for at in slots:
        assert refused(point, now, at) is None, f"{point.id} at {now}: offered {at} and refused it"
        shown = at.astimezone(MOSCOW)
        assert point.hours.is_open(shown) and shown.minute % 15 == 0 and shown.second == 0
        assert at >= now + timedelta(minutes=point.prep_minutes)
    assert all(b - a == SLOT for a, b in pairwise(slots)), "a gap in the times offered"
    assert len({at.astimezone(MOSCOW).date() for at in slots}) <= 1
    if slots:  # up to closing: the next quarter hour is closed, out of the window or the next day
        after = slots[-1] + SLOT
        assert (refused(point, now, after) is not None
                or after.astimezone(MOSCOW).date() != slots[-1].astimezone(MOSCOW).date())
    if times.asap is not None:
        assert refused(point, now, None) is None and times.opens_at is None
        assert times.asap == now + timedelta(minutes=point.prep_minutes)
    else:
        assert refused(point, now, None) is ErrorCode.POINT_CLOSED
        if slots:  # said when it opens: an opening, after now, no later than the first time offered
            opens = times.opens_at
            assert opens is not None and now < opens <= slots[0] and point.hours.is_open(opens.astimezone(MOSCOW))
            assert not point.hours.is_open((opens - timedelta(minutes=1)).astimezone(MOSCOW))
        else:
            assert times.opens_at is None


@pytest.mark.parametrize("point", EVERY_POINT, ids=lambda p: f"{p.id}:{p.hours.format()}")
def test_every_time_offered_is_one_the_point_serves(point):
    now = local(0, 0, 3).astimezone(UTC)
    while now < local(8, 0).astimezone(UTC):
        check(point, now)
        now += timedelta(minutes=7)


def test_the_demo_park_offers_nothing_from_its_closing_at_20():
    park = DEMO["park"]
    evening = pickup_times(park, RULES, local(2, 19, 0))
    assert [f"{at.astimezone(MOSCOW):%H:%M}" for at in evening.slots] == ["19:15", "19:30", "19:45"]
    assert evening.asap == local(2, 19, 10)
    # 19:55: an order could not be ready before 20:00: no "as soon as possible", the morning's times instead
    late = pickup_times(park, RULES, local(2, 19, 55))
    assert late.asap is None and late.opens_at == local(3, 10, 0)
    assert late.slots[0] == local(3, 10, 0) and late.slots[-1] == local(3, 19, 45)
    # 23:30, when the old checkout offered 23:45 and then refused it
    night = pickup_times(park, RULES, local(2, 23, 30))
    assert all(time(10) <= at.astimezone(MOSCOW).time() < time(20) for at in night.slots)
    assert refused(park, local(2, 23, 30), local(2, 23, 45)) is ErrorCode.POINT_CLOSED


def test_the_test_shop_points_close_at_22():
    for point in POINTS:
        for minute in range(0, 24 * 60, 10):
            now = local(2, 0) + timedelta(minutes=minute)
            assert all(at.astimezone(MOSCOW).time() < time(22) for at in pickup_times(point, RULES, now).slots)
    center = POINTS[0]
    assert pickup_times(center, RULES, local(2, 21, 0)).slots[-1] == local(2, 21, 45)


def test_a_closed_day_and_a_closing_at_midnight():
    # Friday 19:50, 20 minutes to prepare: Saturday is closed, so Sunday 10:00, within the two days' window
    friday = pickup_times(ODD, RULES, local(4, 19, 50))
    assert friday.asap is None and friday.opens_at == local(6, 10, 0)
    assert friday.slots[0] == local(6, 10, 0)
    assert friday.slots[-1] <= local(4, 19, 50) + PICKUP_WINDOW
    # Sunday 22:00: until 23:45, the last quarter hour before 24:00, as soon as possible too
    sunday = pickup_times(ODD, RULES, local(6, 22, 0))
    assert sunday.asap == local(6, 22, 20)
    assert sunday.slots[0] == local(6, 22, 30) and sunday.slots[-1] == local(6, 23, 45)
    # Monday 07:40: it opens at 08:05, so an order placed now is ready at 08:05 at the soonest
    monday = pickup_times(ODD, RULES, local(7, 7, 40))
    assert monday.asap is None and monday.opens_at == local(7, 8, 5) and monday.slots[0] == local(7, 8, 15)
    # 07:50: ready at 08:10, when it is open: as soon as possible, then the quarter hours from 08:15
    soon = pickup_times(ODD, RULES, local(7, 7, 50))
    assert soon.asap == local(7, 8, 10) and soon.slots[0] == local(7, 8, 15)


def test_a_point_that_never_opens_offers_nothing():
    shut = replace(ODD, hours=OpeningHours((None,) * 7))
    times = pickup_times(shut, RULES, local(2, 12))
    assert times == type(times)(shut.id, None, (), None)


def test_the_shop_time_zone_decides(engine):
    novosibirsk = ShopRules(timezone="Asia/Novosibirsk")  # four hours ahead of Moscow: 09:00 there is 13:00
    times = pickup_times(DEMO["park"], novosibirsk, local(2, 9, 0))
    assert times.asap == local(2, 9, 10)
    assert times.slots[-1].astimezone(ZoneInfo("Asia/Novosibirsk")).time() == time(19, 45)


async def test_the_engine_offers_times_that_orders_are_placed_for(engine, clock):
    clock.current = local(2, 21, 20).astimezone(UTC)  # the test points close at 22:00
    times = await engine.pickup_slots("park")
    assert [f"{at.astimezone(MOSCOW):%H:%M}" for at in times.slots] == ["21:30", "21:45"]
    guest = customer(1)
    for at in times.slots:
        view = await engine.place_order(guest, [CartLine("espresso")], "park", pickup_at=at)
        assert view.order.pickup_at == at
    assert (await engine.pickup_slots("park", NOON)).asap == NOON + timedelta(minutes=10)
    with pytest.raises(DomainError) as e:
        await engine.pickup_slots("mars")
    assert e.value.code is ErrorCode.POINT_NOT_FOUND
