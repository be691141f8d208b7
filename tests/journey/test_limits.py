"""Abuse limits in the engine (journey/limits.py): token buckets per account, kept in the database.

A script placing orders, issuing or guessing link codes, looking up pickup codes or writing reviews is refused
with ``rate_limited`` and the seconds to wait, after a burst that a real customer or barista never reaches; the
bucket refills with the engine's clock. A flood of chat messages gets one warning and then silence. A staff or
owner account is never merged by a link code, whichever side enters it, so staff rights stay where they were.
Runs on PostgreSQL too with VITRINA_TEST_BACKEND=postgres.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from journey_support import BARISTA, OWNER, customer, customer_id, fulfil, refused

from journey.channels import Channel
from journey.errors import DomainError, ErrorCode, RateLimited
from journey.limits import Bucket, ShopLimits
from journey.model import CartLine

CROISSANT = [CartLine("croissant")]


def tight(engine, **buckets: Bucket) -> None:
    engine.limits = replace(engine.limits, **buckets)


async def test_a_script_placing_orders_is_stopped_even_by_orders_that_fail(engine, clock):
    script = customer(1)
    outcomes = []
    for _ in range(ShopLimits().orders.burst):  # 30 at once: three orders, then the open-orders cap refuses
        try:
            await engine.place_order(script, CROISSANT, "center")
            outcomes.append("placed")
        except DomainError as e:
            outcomes.append(e.code.value)
    assert outcomes == ["placed"] * 3 + ["too_many_open_orders"] * 27
    with pytest.raises(RateLimited) as info:
        await engine.place_order(script, CROISSANT, "center")
    assert info.value.code is ErrorCode.RATE_LIMITED and info.value.retry_after == 30  # 120 an hour: one per 30 s
    assert info.value.message("ru") == "Слишком часто. Попробуйте через 30 с."
    assert info.value.message("en") == "Too often. Please try again in 30 s."
    assert ErrorCode.RATE_LIMITED.http_status == 429
    # someone else is not held up, and the script's bucket gives one more after the wait
    await engine.place_order(customer(2), CROISSANT, "center")
    clock.advance(seconds=29)
    with refused(ErrorCode.RATE_LIMITED):
        await engine.place_order(script, CROISSANT, "center")
    clock.advance(seconds=1)
    with refused(ErrorCode.TOO_MANY_OPEN_ORDERS):  # let through to the engine again
        await engine.place_order(script, CROISSANT, "center")


@pytest.mark.parametrize("use_case", ["place_order", "open_group", "join_group", "buy_gift", "buy_pack"])
async def test_every_use_case_that_makes_an_order_draws_on_the_same_bucket(engine, use_case):
    tight(engine, orders=Bucket(1, 60))
    who = customer(3)
    await engine.place_order(who, CROISSANT, "center")
    calls = {
        "place_order": lambda: engine.place_order(who, CROISSANT, "center"),
        "open_group": lambda: engine.open_group(who, CROISSANT, "center"),
        "join_group": lambda: engine.join_group(who, "nosuchgroup", CROISSANT),
        "buy_gift": lambda: engine.buy_gift(who, item_id="croissant", provider="yookassa"),
        "buy_pack": lambda: engine.buy_pack(who, "p1"),
    }
    with pytest.raises(RateLimited) as info:
        await calls[use_case]()
    assert info.value.retry_after == 60
    with refused(ErrorCode.RATE_LIMITED):  # a refusal takes nothing, and gives nothing back either
        await calls[use_case]()


async def test_link_codes_are_limited_and_the_wrong_code_lockout_stays(engine, clock):
    tight(engine, link_codes=Bucket(3, 60))
    tg, vk = customer(4), customer(4, Channel.VK)
    for _ in range(3):
        await engine.issue_link_code(tg)
    with refused(ErrorCode.RATE_LIMITED):
        await engine.issue_link_code(tg)
    for _ in range(3):  # redeeming has a bucket of its own
        with refused(ErrorCode.LINK_CODE_INVALID):
            await engine.redeem_link_code(vk, "000000")
    with refused(ErrorCode.RATE_LIMITED):
        await engine.redeem_link_code(vk, "000000")
    # with the defaults, five wrong codes still lock linking for ten minutes, before any bucket runs dry
    engine.limits = ShopLimits()
    guesser = customer(5, Channel.VK)
    for _ in range(5):
        with refused(ErrorCode.LINK_CODE_INVALID):
            await engine.redeem_link_code(guesser, "000000")
    with refused(ErrorCode.LINK_TOO_MANY_ATTEMPTS):
        await engine.redeem_link_code(guesser, "000000")


async def test_a_staff_member_guessing_pickup_codes_is_stopped(engine):
    tight(engine, pickup_lookups=Bucket(3, 3600))
    placed = await engine.place_order(customer(6), CROISSANT, "center")
    order = placed.order
    await fulfil(engine, order.id)
    for code in ("0000", "0001"):
        with refused(ErrorCode.PICKUP_CODE_INVALID):
            await engine.find_for_pickup(BARISTA, short_code=code, point_id="center")
    assert (await engine.find_for_pickup(BARISTA, token=engine.pickup_token(order.id))).id == order.id
    with pytest.raises(RateLimited) as info:
        await engine.find_for_pickup(BARISTA, short_code=order.short_code, point_id="center")
    assert info.value.retry_after == 1
    with refused(ErrorCode.RATE_LIMITED):  # a hand-over by the code looks it up too
        await engine.hand_over(BARISTA, short_code=order.short_code, point_id="center")
    with refused(ErrorCode.RATE_LIMITED):
        await engine.hand_over(BARISTA, token=engine.pickup_token(order.id))
    # the order pressed on the board is no look-up: the barista is not held up at the counter
    assert (await engine.hand_over(BARISTA, order_id=order.id)).id == order.id


async def test_the_default_lookups_let_a_busy_counter_work(engine):
    """Hundreds of scans an hour by one barista pass with the defaults (the clock stands still here)."""
    placed = await engine.place_order(customer(7), CROISSANT, "center")
    token = engine.pickup_token(placed.order.id)
    for _ in range(ShopLimits().pickup_lookups.burst):
        await engine.find_for_pickup(BARISTA, token=token)
    with refused(ErrorCode.RATE_LIMITED):
        await engine.find_for_pickup(BARISTA, token=token)


async def test_reviews_are_limited(engine):
    tight(engine, reviews=Bucket(2, 60))
    who = customer(8)
    for _ in range(2):
        with refused(ErrorCode.ORDER_NOT_FOUND):
            await engine.add_review(who, "o-none", "croissant", 5)
    with refused(ErrorCode.RATE_LIMITED):
        await engine.add_review(who, "o-none", "croissant", 5)


async def test_a_flood_of_chat_messages_gets_one_warning_then_silence_until_refilled(engine, clock):
    tight(engine, messages=Bucket(5, 3600))  # five at once, one a second
    who = customer(9)
    gates = [await engine.message_gate(who) for _ in range(12)]
    assert [g for g, _ in gates] == ["ok"] * 5 + ["warn"] + ["quiet"] * 6
    assert gates[5][1] == pytest.approx(1.0)
    clock.advance(seconds=1)
    assert (await engine.message_gate(who))[0] == "ok"  # one more came back
    assert (await engine.message_gate(who))[0] == "quiet"  # still flooding: no second warning yet
    clock.advance(seconds=5)  # the whole bucket refilled: a new flood is warned again, once
    assert [(await engine.message_gate(who))[0] for _ in range(7)] == ["ok"] * 5 + ["warn", "quiet"]
    assert (await engine.message_gate(customer(10)))[0] == "ok"


async def test_limits_off_refuse_nothing(engine):
    engine.limits = ShopLimits.off()
    tight(engine, pickup_lookups=Bucket(1, 1))
    placed = await engine.place_order(customer(11), CROISSANT, "center")
    for _ in range(5):
        await engine.find_for_pickup(BARISTA, token=engine.pickup_token(placed.order.id))
        assert (await engine.message_gate(customer(11)))[0] == "ok"


async def test_idle_buckets_are_pruned_with_the_rest(engine, clock):
    await engine.place_order(customer(12), CROISSANT, "center")
    await engine.message_gate(customer(12))
    clock.advance(days=2)
    await engine.place_order(customer(13), CROISSANT, "center")
    pruned = await engine.prune(timedelta(days=30))
    assert pruned.buckets == 2  # customer 12's orders and messages; 13's is fresh


# --- a link code never merges a staff or owner account -------------------------------------------------

async def _rights(engine, ref) -> tuple[bool, frozenset[str]]:
    profile = await engine.profile(ref)
    return profile.is_staff, profile.staff_points


@pytest.mark.parametrize("staff", [BARISTA, OWNER], ids=["barista", "owner"])
async def test_staff_entering_a_customers_code_is_refused_and_rights_stay(engine, staff):
    visitor = customer(20, Channel.VK)
    code = (await engine.issue_link_code(visitor)).code
    with refused(ErrorCode.LINK_STAFF_ACCOUNT):
        await engine.redeem_link_code(staff, code)
    assert await customer_id(engine, visitor) != await customer_id(engine, staff)
    assert await _rights(engine, visitor) == (False, frozenset())
    assert (await _rights(engine, staff))[0]
    # the customer cannot hand orders over, the staff member still can
    placed = await engine.place_order(customer(21), CROISSANT, "center")
    with refused(ErrorCode.NOT_STAFF):
        await engine.find_for_pickup(visitor, token=engine.pickup_token(placed.order.id))
    assert (await engine.find_for_pickup(staff, token=engine.pickup_token(placed.order.id))).id == placed.order.id
    # the code was not spent by the refusal: the customer's own second account may still use it
    assert (await engine.redeem_link_code(customer(20), code)).id == await customer_id(engine, visitor)


@pytest.mark.parametrize("staff", [BARISTA, OWNER], ids=["barista", "owner"])
async def test_a_customer_entering_a_staff_members_code_is_refused_and_gets_no_rights(engine, staff):
    with refused(ErrorCode.LINK_STAFF_ACCOUNT):  # a staff account is given no code in the first place
        await engine.issue_link_code(staff)
    visitor = customer(22, Channel.VK)
    assert await _rights(engine, visitor) == (False, frozenset())


async def test_a_code_issued_before_its_account_became_staff_no_longer_merges(engine):
    future_barista = customer(23)
    code = (await engine.issue_link_code(future_barista)).code
    await engine.add_staff(future_barista, "park")
    visitor = customer(24, Channel.VK)
    with refused(ErrorCode.LINK_STAFF_ACCOUNT):
        await engine.redeem_link_code(visitor, code)
    assert await _rights(engine, visitor) == (False, frozenset())
    assert await _rights(engine, future_barista) == (True, frozenset({"park"}))
    # two customers still link as before
    other = customer(25, Channel.VK)
    linked = await engine.redeem_link_code(other, (await engine.issue_link_code(customer(25))).code)
    assert linked.id == await customer_id(engine, other) == await customer_id(engine, customer(25))
