"""One person across channels: linking accounts with a one-time code, referrals, and the language.

A 6-digit code issued on one channel and entered on another merges the two customers into one: one
order history and one points balance, seen the same from either account. The code works once, for
ten minutes. A friend who arrives through ``r<code>`` earns both of them a bonus on the first pickup.
"""
from __future__ import annotations

import pytest
from journey_support import BARISTA, balance, customer, customer_id, event_types, fulfil, give_points, refused

from journey.channels import Channel
from journey.customers import language_of
from journey.deeplinks import parse_start
from journey.errors import ErrorCode
from journey.model import CartLine

TG = customer(1)
VK = customer(1, Channel.VK)


async def test_a_link_code_merges_two_accounts_into_one_customer(engine):
    first = await engine.place_order(TG, [CartLine("eclair")], "center")
    await fulfil(engine, first.order.id)
    await engine.hand_over(BARISTA, order_id=first.order.id)
    await engine.place_order(VK, [CartLine("espresso")], "center")
    await give_points(engine, VK, 500)
    tg_points = await balance(engine, TG)
    assert tg_points == 16990 * 5 // 100

    link = await engine.issue_link_code(TG)
    assert len(link.code) == 6 and link.code.isdigit()
    merged = await engine.redeem_link_code(VK, f" {link.code} ")

    assert merged.id == await customer_id(engine, TG) == await customer_id(engine, VK)
    tg_orders = [o.id for o in await engine.orders_of(TG)]
    assert tg_orders == [o.id for o in await engine.orders_of(VK)] and len(tg_orders) == 2
    assert await balance(engine, TG) == await balance(engine, VK) == tg_points + 500
    profile = await engine.profile(VK)
    assert {(a.channel, a.external_id) for a in profile.accounts} == {(TG.channel, TG.external_id),
                                                                      (VK.channel, VK.external_id)}
    assert profile.points == tg_points + 500
    assert "customer.linked" in await event_types(engine)


async def test_a_link_code_works_once(engine):
    link = await engine.issue_link_code(TG)
    await engine.redeem_link_code(VK, link.code)
    other = customer(2, Channel.VK)
    with refused(ErrorCode.LINK_CODE_INVALID):
        await engine.redeem_link_code(other, link.code)
    assert await customer_id(engine, other) != await customer_id(engine, TG)


@pytest.mark.parametrize("minutes, ok", [(9.9, True), (10, False), (60, False)])
async def test_a_link_code_expires_after_ten_minutes(engine, clock, minutes, ok):
    link = await engine.issue_link_code(TG)
    clock.advance(minutes=minutes)
    if ok:
        assert (await engine.redeem_link_code(VK, link.code)).id == await customer_id(engine, TG)
        return
    with refused(ErrorCode.LINK_CODE_INVALID):
        await engine.redeem_link_code(VK, link.code)
    assert await customer_id(engine, VK) != await customer_id(engine, TG)


async def test_a_wrong_code_is_refused(engine):
    link = await engine.issue_link_code(TG)
    wrong = f"{(int(link.code) + 1) % 10**6:06d}"
    for code in (wrong, link.code[:5], link.code + "0", "abcdef"):  # four: a fifth would lock the account out
        with refused(ErrorCode.LINK_CODE_INVALID):
            await engine.redeem_link_code(VK, code)
    with refused(ErrorCode.LINK_CODE_INVALID):
        await engine.redeem_link_code(customer(99), "")
    assert (await engine.redeem_link_code(VK, link.code)).id == await customer_id(engine, TG)


async def test_linking_the_same_customer_is_refused(engine):
    own = await engine.issue_link_code(TG)
    with refused(ErrorCode.LINK_SAME_CUSTOMER):
        await engine.redeem_link_code(TG, own.code)
    await engine.redeem_link_code(VK, (await engine.issue_link_code(TG)).code)
    again = await engine.issue_link_code(VK)
    with refused(ErrorCode.LINK_SAME_CUSTOMER):
        await engine.redeem_link_code(TG, again.code)


async def test_a_referred_friend_earns_both_a_bonus_on_the_first_pickup(engine):
    bonus = (await engine.set_rules()).referral_bonus
    assert bonus > 0
    referrer = customer(1)
    code = (await engine.profile(referrer)).customer.referral_code
    friend = customer(2, Channel.VK)
    link = parse_start(f"r{code}")
    met = await engine.record_visit(link, Channel.VK, friend)
    assert met.referred_by == await customer_id(engine, referrer) and met.source == f"ref:{code}"

    earned = 0
    for _ in range(2):  # only the first pickup brings the bonus
        order = (await engine.place_order(friend, [CartLine("eclair")], "center")).order
        await fulfil(engine, order.id)
        await engine.hand_over(BARISTA, order_id=order.id)
        earned += 16990 * 5 // 100
    assert await balance(engine, friend) == earned + bonus
    assert await balance(engine, referrer) == bonus


async def test_an_unknown_referral_code_is_harmless(engine):
    met = await engine.identify(customer(3), parse_start("rnosuchcode"))
    assert met.referred_by is None and met.source == "ref:nosuchcode"


@pytest.mark.parametrize("code, language", [("en-US", "en"), ("en", "en"), ("EN", "en"), ("ru", "ru"),
                                            ("uk", "ru"), ("de-DE", "ru"), ("", "ru"), (None, "ru")])
def test_language_of(code, language):
    assert language_of(code) == language


async def test_a_new_customer_speaks_the_language_of_the_account(engine):
    assert (await engine.identify(customer(4, language="en-US"))).language == "en"
    assert (await engine.identify(customer(5, language="fr"))).language == "ru"


async def test_guessing_link_codes_is_stopped_after_five_wrong_ones(engine, clock):
    owner_of_code = customer(70)
    guesser = customer(71, Channel.VK)
    code = (await engine.issue_link_code(owner_of_code)).code
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        with refused(ErrorCode.LINK_CODE_INVALID):
            await engine.redeem_link_code(guesser, wrong)
    with refused(ErrorCode.LINK_TOO_MANY_ATTEMPTS):  # even the right code, for now
        await engine.redeem_link_code(guesser, code)
    assert (await engine.profile(guesser)).customer.id != (await engine.profile(owner_of_code)).customer.id
    clock.advance(minutes=9)
    code = (await engine.issue_link_code(owner_of_code)).code
    clock.advance(minutes=1, seconds=1)  # the wrong tries are older than ten minutes now
    await engine.redeem_link_code(guesser, code)
    assert (await engine.profile(guesser)).customer.id == (await engine.profile(owner_of_code)).customer.id
