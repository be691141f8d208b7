"""Points policy: tiers by what was paid in the last 365 days, expiry oldest first with spends in between, the
balance never below zero, and the birthday offer's window (across New Year too), once a year."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from journey_support import BARISTA, OWNER, balance, customer, event_types, fulfil, give_points, ledger, refused

from journey.engine import Engine
from journey.errors import ErrorCode
from journey.loyalty import birthday_year, credits_left, parse_tiers
from journey.model import CartLine
from journey.setup import Refusal

ANNA = customer(1)
OLGA = customer(2)


async def pick_up(engine: Engine, ref, item: str = "croissant", quantity: int = 1, points: int = 0) -> str:
    order = (await engine.place_order(ref, [CartLine(item, quantity)], "center", points=points)).order
    await fulfil(engine, order.id)
    await engine.hand_over(BARISTA, order_id=order.id)
    return order.id


def earned(entries) -> list[int]:
    return [e.delta for e in reversed(entries) if e.reason == "earn"]


# --- tiers ------------------------------------------------------------------------------------------------

async def test_a_pickup_earns_at_the_tier_reached_by_what_was_paid_before(engine, clock):
    await engine.change_shop(OWNER, "tiers", "0:5, 360:7, 720:10")  # rubles; croissant = 180
    await pick_up(engine, ANNA)  # 0 paid before: 5 %
    await pick_up(engine, ANNA)  # 180 before
    await pick_up(engine, ANNA)  # 360 before: exactly the threshold, 7 %
    await pick_up(engine, ANNA, quantity=2)  # 540 before
    await pick_up(engine, ANNA)  # 900 before: 10 %
    assert earned(await ledger(engine, ANNA)) == [900, 900, 1260, 2520, 1800]
    summary = await engine.points_summary(ANNA)
    assert (summary.tier.level, summary.tier.percent, summary.tier_name) == (3, 10, "Золотой")
    assert summary.spent == 108000 and summary.next_tier is None and summary.to_next == 0


async def test_spending_older_than_365_days_no_longer_counts(engine, clock):
    await engine.change_shop(OWNER, "tiers", "0:5,360:7")
    await pick_up(engine, ANNA, quantity=2)  # 360 paid
    clock.advance(days=364)
    summary = await engine.points_summary(ANNA)
    assert summary.tier.level == 2 and summary.spent == 36000
    clock.advance(days=1)  # the day of that pickup is 365 days back: out of the window
    summary = await engine.points_summary(ANNA)
    assert summary.tier.level == 1 and summary.spent == 0
    assert (summary.next_tier.level, summary.to_next, summary.next_tier_name) == (2, 36000, "Серебряный")


async def test_without_tiers_everyone_earns_the_shop_percent(engine):
    await pick_up(engine, ANNA)
    assert earned(await ledger(engine, ANNA)) == [900]
    summary = await engine.points_summary(ANNA)
    assert summary.tier.percent == 5 and summary.next_tier is None and len(summary.tiers) == 1


@pytest.mark.parametrize("text", ["5:5,100:7", "0:5,100:7,50:8", "0:5,100:7,100:8", "0:7,100:5", "0:101",
                                  "0:5,abc:7", "0-5", "0:5,1:6,2:7,3:8,4:9,5:10", "0:5,", "0:-1"])
async def test_bad_tiers_are_refused_and_change_nothing(engine, text):
    with pytest.raises(Refusal) as info:
        await engine.change_shop(OWNER, "tiers", text)
    assert info.value.code is ErrorCode.SETTING_INVALID and "0:5,10000:7,30000:10" in info.value.message("ru")
    assert (await engine.set_rules()).tiers == ""


async def test_tiers_are_kept_as_typed_once_checked_and_cleared_with_a_dash(engine):
    assert (await engine.change_shop(OWNER, "tiers", " 0:5 , 10000.50:7 ")).rules.tiers == "0:5,10000.50:7"
    assert (await engine.change_shop(OWNER, "tiers", "-")).rules.tiers == ""
    assert [t.threshold for t in parse_tiers("0:5,10000:7,30000:10")] == [0, 1_000_000, 3_000_000]


# --- expiry -----------------------------------------------------------------------------------------------

def test_debits_use_the_oldest_points_first():
    day = datetime(2026, 1, 1, tzinfo=UTC)
    entries = [(100, day), (50, day + timedelta(days=10)), (-120, day + timedelta(days=20)),
               (70, day + timedelta(days=30)), (-10, day + timedelta(days=40))]
    assert credits_left(entries) == [(day + timedelta(days=10), 20), (day + timedelta(days=30), 70)]


async def test_points_expire_oldest_first_with_spends_in_between(engine, clock):
    await engine.set_rules(points_expire_days=30)
    await give_points(engine, ANNA, 1000)  # day 0
    clock.advance(days=10)
    await give_points(engine, ANNA, 500)  # day 10
    clock.advance(days=5)
    await pick_up(engine, ANNA, points=400)  # day 15: spends 400 of day 0's, earns its own
    clock.advance(days=15, minutes=1)  # day 30: what is left of day 0 comes due
    assert await engine.expire_points() == 600
    assert await balance(engine, ANNA) == 500 + 880  # day 10's and the pickup's (5 % of 176 rubles)
    assert await engine.expire_points() == 0  # nothing twice
    clock.advance(days=10)
    assert await engine.expire_points() == 500
    clock.advance(days=4)
    assert await engine.expire_points() == 0  # the pickup's points are 29 days old
    clock.advance(days=1)
    assert await engine.expire_points() == 880
    assert await balance(engine, ANNA) == 0
    assert [e.delta for e in await ledger(engine, ANNA) if e.reason == "expire"] == [-880, -500, -600]
    assert (await event_types(engine)).count("points.expired") == 3


async def test_expiry_never_takes_more_than_is_left(engine, clock):
    await engine.set_rules(points_expire_days=30)
    await give_points(engine, ANNA, 300)
    await pick_up(engine, ANNA, "espresso", points=300)  # everything spent before it came due
    clock.advance(days=31)
    assert await engine.expire_points() == 735  # only what the pickup earned (5 % of 147 rubles) was left
    assert await balance(engine, ANNA) == 0
    clock.advance(days=31)
    assert await engine.expire_points() == 0 and await balance(engine, ANNA) == 0


async def test_never_expiring_points_stay_and_turning_expiry_on_catches_up(engine, clock):
    await engine.set_rules(points_expire_days=0)
    await give_points(engine, ANNA, 1000)
    clock.advance(days=400)
    assert await engine.expire_points() == 0 and await balance(engine, ANNA) == 1000
    await engine.set_rules(points_expire_days=365)
    assert await engine.expire_points() == 1000 and await balance(engine, ANNA) == 0


async def test_the_profile_says_what_expires_within_a_week(engine, clock):
    await engine.set_rules(points_expire_days=30)
    await give_points(engine, ANNA, 1000)
    clock.advance(days=20)
    await give_points(engine, ANNA, 200)
    assert (await engine.points_summary(ANNA)).expiring == 0
    clock.advance(days=4)
    summary = await engine.points_summary(ANNA)
    assert summary.expiring == 1000 and summary.expiring_at == clock.now() + timedelta(days=6)


async def test_the_history_is_paged_newest_first_with_order_codes(engine, clock):
    await give_points(engine, ANNA, 1000)
    order_id = await pick_up(engine, ANNA, points=100)
    first = await engine.points_summary(ANNA, limit=2)
    assert [(m.reason, m.delta) for m in first.history] == [("earn", 900 - 5), ("spend", -100)]
    async with engine.read() as uow:
        code = (await uow.orders.get(order_id)).short_code
    assert first.history[0].short_code == code and first.more is not None
    rest = await engine.points_summary(ANNA, before=first.more, limit=2)
    assert [(m.reason, m.delta) for m in rest.history] == [("adjust", 1000)] and rest.more is None


# --- birthday ---------------------------------------------------------------------------------------------

def test_the_birthday_window_crosses_new_year_into_the_birthdays_year():
    from datetime import date

    assert birthday_year(date(2026, 12, 30), 1, 1, 3) == 2027
    assert birthday_year(date(2027, 1, 3), 30, 12, 4) == 2026
    assert birthday_year(date(2027, 1, 5), 30, 12, 4) is None
    assert birthday_year(date(2027, 2, 28), 29, 2, 0) == 2027  # no 29 February that year: the 28th
    assert birthday_year(date(2028, 2, 28), 29, 2, 0) is None


async def test_bad_birthdays_are_refused(engine):
    for day, month in ((31, 4), (30, 2), (0, 5), (12, 13), (32, 1)):
        with refused(ErrorCode.BIRTHDAY_INVALID):
            await engine.set_birthday(ANNA, day, month)
    assert await engine.set_birthday(ANNA, 29, 2) == (29, 2)
    assert (await engine.points_summary(ANNA)).birthday == (29, 2)
    assert await engine.set_birthday(ANNA, None, None) is None
    assert (await engine.points_summary(ANNA)).birthday is None


async def test_the_birthday_discount_once_a_year_within_the_window(engine, clock):
    clock.current = datetime(2026, 12, 30, 9, 0, tzinfo=UTC)
    await engine.set_birthday(ANNA, 1, 1)  # the window of 1 January 2027 opened on 29 December
    q = await engine.quote(ANNA, [CartLine("croissant")])
    assert q.birthday == 1800 and q.discount.amount == 1800 and q.total.amount == 16200
    placed = (await engine.place_order(ANNA, [CartLine("croissant")], "center")).order
    assert placed.discount.amount == 1800
    assert (await engine.quote(ANNA, [CartLine("croissant")])).birthday == 0  # used while the order lives
    await engine.cancel(ANNA, placed.id)
    assert (await engine.quote(ANNA, [CartLine("croissant")])).birthday == 1800  # a cancelled order gives it back
    await pick_up(engine, ANNA)
    clock.current = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # still 2027's window, already used
    assert (await engine.quote(ANNA, [CartLine("croissant")])).birthday == 0
    clock.current = datetime(2027, 12, 29, 9, 0, tzinfo=UTC)  # the next birthday's window
    assert (await engine.quote(ANNA, [CartLine("croissant")])).birthday == 1800
    assert (await engine.quote(OLGA, [CartLine("croissant")])).birthday == 0  # gave no birthday
    await engine.change_shop(OWNER, "birthday", "0")
    assert (await engine.quote(ANNA, [CartLine("croissant")])).birthday == 0


async def test_the_birthday_greeting_goes_once_a_year_to_those_who_allow_messages(engine, clock):
    clock.current = datetime(2026, 12, 31, 21, 30, tzinfo=UTC)  # 00:30 on 1 January in Moscow
    await engine.set_birthday(ANNA, 1, 1)
    await engine.set_birthday(OLGA, 1, 1)
    await engine.set_consent(OLGA, False)
    assert await engine.greet_birthdays() == 1
    assert await engine.greet_birthdays() == 0
    async with engine.uow() as uow:
        await uow.settings.set("loyalty.greeted_on", "")  # as if the day's mark were lost
    assert await engine.greet_birthdays() == 0  # the year's greeting is recorded per customer
    assert (await event_types(engine)).count("birthday.greeting") == 1


async def test_a_week_ahead_each_credit_is_warned_about_once(engine, clock):
    await engine.set_rules(points_expire_days=30)
    await give_points(engine, ANNA, 1000)  # day 0
    clock.advance(days=2)
    await give_points(engine, ANNA, 500)  # day 2
    await give_points(engine, OLGA, 300)  # day 2
    clock.advance(days=20)
    assert await engine.warn_expiring() == 0  # day 22: nothing within a week yet
    clock.advance(days=1, minutes=1)  # day 23: day 0's 1000 expire on day 30
    assert await engine.warn_expiring() == 1000
    assert await engine.warn_expiring() == 0  # once
    await pick_up(engine, ANNA, points=300)  # spends the oldest: day 0's
    clock.advance(days=2)  # day 25: day 2's points come within the week
    assert await engine.warn_expiring() == 800
    async with engine.read() as uow:
        told = [e.data for e in await uow.outbox.pending("test", 100) if e.type.value == "points.expiring"]
    assert sorted((d["points"], d["expires_at"][:10]) for d in told) == [
        (300, "2026-12-20"), (500, "2026-12-20"), (1000, "2026-12-18")]
