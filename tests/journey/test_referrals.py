"""Referrals that hold: one reward per new person, on their first pickup, for both sides; never for inviting
oneself through a second account; an inviter is rewarded for at most the month's cap of friends."""
from __future__ import annotations

from journey_support import BARISTA, OWNER, balance, customer, customer_id, event_types, fulfil, ledger, refused

from journey.channels import Channel, CustomerRef
from journey.deeplinks import parse_start
from journey.engine import Engine
from journey.errors import ErrorCode
from journey.model import CartLine
from journey.referrals import ReferralStatus

ECLAIR_POINTS = 16990 * 5 // 100  # what an eclair earns at the shop's 5 %
ANNA = customer(1)  # the inviter, in Telegram
ANNA_WEB = customer("anna", Channel.WEB)  # the same Anna in the browser
OLGA = customer(2, Channel.VK)
OLGA_TG = customer(2)


async def code_of(engine: Engine, ref: CustomerRef) -> str:
    return (await engine.profile(ref)).customer.referral_code


async def pick_up(engine: Engine, ref: CustomerRef, points: int = 0) -> str:
    order = (await engine.place_order(ref, [CartLine("eclair")], "center", points=points)).order
    await fulfil(engine, order.id)
    await engine.hand_over(BARISTA, order_id=order.id)
    return order.id


async def statuses(engine: Engine, inviter: CustomerRef) -> list[tuple[str, int]]:
    return [(f.status.value, f.points) for f in (await engine.referral_summary(inviter)).friends]


async def link(engine: Engine, issuer: CustomerRef, enterer: CustomerRef) -> None:
    await engine.redeem_link_code(enterer, (await engine.issue_link_code(issuer)).code)


async def test_a_referral_seen_after_the_account_exists_still_counts(engine):
    bonus = (await engine.set_rules()).referral_bonus
    invitation = parse_start(f"r{await code_of(engine, ANNA)}")
    await engine.profile(OLGA)  # the Mini App's GET /api/me came first
    await engine.record_visit(invitation, Channel.VK, OLGA)
    assert await statuses(engine, ANNA) == [("pending", 0)]
    await pick_up(engine, OLGA)
    await pick_up(engine, OLGA)  # only the first pickup pays
    assert await balance(engine, OLGA) == 2 * ECLAIR_POINTS + bonus
    assert await balance(engine, ANNA) == bonus
    assert await statuses(engine, ANNA) == [("rewarded", bonus)]
    types = await event_types(engine)
    assert types.count("referral.joined") == 1 and types.count("referral.rewarded") == 1


async def test_a_customer_who_ordered_before_is_not_new(engine):
    await engine.place_order(OLGA, [CartLine("eclair")], "center")
    await engine.record_visit(parse_start(f"r{await code_of(engine, ANNA)}"), Channel.VK, OLGA)
    assert await statuses(engine, ANNA) == []


async def test_one_invitation_per_person_the_first(engine):
    vera = customer(3)
    await engine.identify(OLGA, parse_start(f"r{await code_of(engine, ANNA)}"))
    await engine.identify(OLGA, parse_start(f"r{await code_of(engine, vera)}"))
    await pick_up(engine, OLGA)
    assert await statuses(engine, ANNA) == [("rewarded", (await engine.set_rules()).referral_bonus)]
    assert await statuses(engine, vera) == [] and await balance(engine, vera) == 0


async def test_two_people_cannot_invite_each_other(engine):
    await engine.identify(OLGA, parse_start(f"r{await code_of(engine, ANNA)}"))
    await engine.identify(ANNA, parse_start(f"r{await code_of(engine, OLGA)}"))
    assert await statuses(engine, OLGA) == []


async def test_linked_accounts_never_invite_each_other(engine):
    """Link first, then the invitation: Anna's second account is Anna, and her code is hers."""
    await link(engine, ANNA, ANNA_WEB)
    await engine.identify(ANNA_WEB, parse_start(f"r{await code_of(engine, ANNA)}"))
    await engine.identify(ANNA, parse_start(f"r{await code_of(engine, ANNA_WEB)}"))
    await pick_up(engine, ANNA_WEB)
    assert await statuses(engine, ANNA) == [] and await balance(engine, ANNA) == ECLAIR_POINTS


async def test_inviting_oneself_then_linking_takes_the_bonus_back(engine):
    """The invitation first, rewarded, then the accounts linked: the invitation is void, its points taken back."""
    bonus = (await engine.set_rules()).referral_bonus
    await engine.identify(ANNA_WEB, parse_start(f"r{await code_of(engine, ANNA)}"))
    await pick_up(engine, ANNA_WEB)
    assert await balance(engine, ANNA) == bonus and await balance(engine, ANNA_WEB) == ECLAIR_POINTS + bonus
    await link(engine, ANNA, ANNA_WEB)
    assert await customer_id(engine, ANNA) == await customer_id(engine, ANNA_WEB)
    assert await balance(engine, ANNA) == ECLAIR_POINTS
    assert await statuses(engine, ANNA) == [("void", bonus)]
    assert (await engine.profile(ANNA)).customer.referred_by is None
    taken = [e for e in await ledger(engine, ANNA) if e.reason == "referral_void"]
    assert [e.delta for e in taken] == [-2 * bonus]
    assert "referral.voided" in await event_types(engine)


async def test_linking_the_other_way_round_voids_it_too(engine):
    """The invited account issues the code, the inviter's enters it: the same person either way."""
    bonus = (await engine.set_rules()).referral_bonus
    await engine.identify(ANNA_WEB, parse_start(f"r{await code_of(engine, ANNA)}"))
    await pick_up(engine, ANNA_WEB)
    await link(engine, ANNA_WEB, ANNA)
    assert await balance(engine, ANNA) == await balance(engine, ANNA_WEB) == ECLAIR_POINTS
    assert await statuses(engine, ANNA_WEB) == [("void", bonus)]


async def test_points_taken_back_never_below_zero(engine):
    await engine.set_rules(referral_bonus=6000)  # both spend most of it on an eclair (points pay 30 % at most)
    await engine.identify(ANNA_WEB, parse_start(f"r{await code_of(engine, ANNA)}"))
    await pick_up(engine, ANNA_WEB)
    for who in (ANNA, ANNA_WEB):  # both spend what they have
        await engine.place_order(who, [CartLine("eclair")], "center", points=16990 * 30 // 100)
    left = await balance(engine, ANNA) + await balance(engine, ANNA_WEB)
    assert 0 < left < 2 * 6000
    await link(engine, ANNA, ANNA_WEB)
    assert await balance(engine, ANNA) == 0
    taken = [e.delta for e in await ledger(engine, ANNA) if e.reason == "referral_void"]
    assert taken == [-left]


async def test_a_person_invited_on_both_accounts_keeps_the_earlier_invitation(engine, clock):
    vera = customer(3)
    await engine.identify(OLGA, parse_start(f"r{await code_of(engine, ANNA)}"))
    clock.advance(minutes=5)
    await engine.identify(OLGA_TG, parse_start(f"r{await code_of(engine, vera)}"))
    await link(engine, OLGA_TG, OLGA)
    assert await statuses(engine, ANNA) == [("pending", 0)] and await statuses(engine, vera) == [("void", 0)]
    await pick_up(engine, OLGA)
    bonus = (await engine.set_rules()).referral_bonus
    assert await balance(engine, ANNA) == bonus and await balance(engine, vera) == 0
    assert (await engine.profile(OLGA_TG)).customer.referred_by == await customer_id(engine, ANNA)


async def test_an_invitation_on_a_new_account_of_an_old_customer_pays_nothing(engine):
    await pick_up(engine, OLGA_TG)  # Olga has been a customer in Telegram
    await engine.identify(OLGA, parse_start(f"r{await code_of(engine, ANNA)}"))  # a new VK account
    await link(engine, OLGA_TG, OLGA)
    await pick_up(engine, OLGA)
    assert await statuses(engine, ANNA) == [("void", 0)] and await balance(engine, ANNA) == 0


async def test_the_monthly_cap_rewards_the_friend_but_not_the_inviter(engine, clock):
    bonus = (await engine.set_rules(referral_monthly_cap=1)).referral_bonus
    code = parse_start(f"r{await code_of(engine, ANNA)}")
    friends = [customer(n, Channel.VK) for n in (11, 12, 13)]
    for friend in friends[:2]:
        await engine.identify(friend, code)
        await pick_up(engine, friend)
        assert await balance(engine, friend) == ECLAIR_POINTS + bonus  # the friend gets it either way
    assert await balance(engine, ANNA) == bonus
    summary = await engine.referral_summary(ANNA)
    assert [(f.status, f.points) for f in summary.friends] == [(ReferralStatus.CAPPED, 0),
                                                               (ReferralStatus.REWARDED, bonus)]
    assert (summary.monthly_cap, summary.left_this_month, summary.rewarded, summary.points) == (1, 0, 1, bonus)
    clock.advance(days=31)  # a new month
    assert (await engine.referral_summary(ANNA)).left_this_month == 1
    await engine.identify(friends[2], code)
    await pick_up(engine, friends[2])
    assert await balance(engine, ANNA) == 2 * bonus


async def test_no_cap_when_the_rule_is_zero(engine):
    bonus = (await engine.set_rules(referral_monthly_cap=0)).referral_bonus
    code = parse_start(f"r{await code_of(engine, ANNA)}")
    for n in range(3):
        friend = customer(20 + n, Channel.VK)
        await engine.identify(friend, code)
        await pick_up(engine, friend)
    summary = await engine.referral_summary(ANNA)
    assert summary.left_this_month is None and await balance(engine, ANNA) == 3 * bonus


async def test_no_bonus_no_reward_until_there_is_one(engine):
    await engine.set_rules(referral_bonus=0)
    await engine.identify(OLGA, parse_start(f"r{await code_of(engine, ANNA)}"))
    await pick_up(engine, OLGA)
    assert await balance(engine, ANNA) == 0 and await statuses(engine, ANNA) == [("pending", 0)]


async def test_the_owner_sets_the_cap_with_shop(engine):
    await engine.change_shop(OWNER, "referral_cap", "3")
    assert (await engine.set_rules()).referral_monthly_cap == 3
    with refused(ErrorCode.SETTING_INVALID):
        await engine.change_shop(OWNER, "referral_cap", "-1")
    with refused(ErrorCode.NOT_OWNER):
        await engine.change_shop(OLGA, "referral_cap", "100")
    assert (await engine.set_rules()).referral_monthly_cap == 3
