"""Sharing and regulars in the engine: a shared link is a referral link with a tag, a share is recorded for
the customer's own order only and emits its event, and the regulars' threshold is crossed once per person,
at the pickup that reaches it (or the next one, when the owner lowers it)."""
from __future__ import annotations

import pytest
from journey_support import BARISTA, OWNER, customer, event_types, fulfil, refused

from journey.deeplinks import LinkKind, parse_start
from journey.engine import Engine
from journey.errors import ErrorCode
from journey.events import EventType
from journey.model import CartLine
from journey.sharing import VIA, ShareKind, parse_kind

ANNA = customer(1)
OLGA = customer(2)


async def pick_up(engine: Engine, ref, times: int = 1) -> str:
    order_id = ""
    for _ in range(times):
        order_id = (await engine.place_order(ref, [CartLine("eclair")], "center")).order.id
        await fulfil(engine, order_id)
        await engine.hand_over(BARISTA, order_id=order_id)
    return order_id


@pytest.mark.parametrize("via", ["ts", "ti", "vs", "vw", "l"])
def test_a_shared_link_is_the_referral_with_its_tag(via):
    link = parse_start(f"rAbc123-{via}")
    assert link is not None and link.kind is LinkKind.REFERRAL
    assert (link.code, link.via, link.label) == ("Abc123", via, "ref:Abc123")  # attribution is unchanged


@pytest.mark.parametrize("param", ["rAbc123", "rAbc-xx", "rAbc_d-ts", "rAbc-ts-ts"])
def test_anything_else_is_no_share(param):
    link = parse_start(param)
    assert link is not None and link.kind is LinkKind.REFERRAL and link.via is None


def test_every_kind_has_its_tag_and_unknown_kinds_are_refused():
    assert {k: VIA[k] for k in ShareKind} == {ShareKind.TELEGRAM_STORY: "ts", ShareKind.TELEGRAM_INLINE: "ti",
                                              ShareKind.VK_STORY: "vs", ShareKind.VK_WALL: "vw", ShareKind.LINK: "l"}
    for bad in ("", "story", "TELEGRAM_STORY", "ts"):
        with refused(ErrorCode.BAD_INPUT):
            parse_kind(bad)


async def test_a_share_is_recorded_with_its_event_for_ones_own_order_only(engine: Engine):
    order_id = await pick_up(engine, ANNA)
    share = await engine.record_share(ANNA, "vk_wall", order_id)
    assert (share.kind, share.order_id, share.channel) == (ShareKind.VK_WALL, order_id, "telegram")
    assert EventType.SHARED in await event_types(engine)
    with refused(ErrorCode.ORDER_NOT_FOUND):
        await engine.record_share(OLGA, "vk_wall", order_id)
    with refused(ErrorCode.BAD_INPUT):
        await engine.record_share(ANNA, "instagram", order_id)
    assert dict((await engine.stats(OWNER, 1)).shares) == {"vk_wall": 1}


async def test_the_offer_carries_the_customers_code(engine: Engine):
    offer = await engine.share_offer(OLGA)  # a new customer is created with a code of their own
    assert offer.code == (await engine.profile(OLGA)).customer.referral_code
    assert offer.start(ShareKind.TELEGRAM_STORY) == f"r{offer.code}-ts"


async def test_the_threshold_is_crossed_once_and_a_lowered_one_at_the_next_pickup(engine: Engine):
    await engine.set_rules(regulars_after=2)
    await pick_up(engine, ANNA)
    assert (await event_types(engine)).count(EventType.REGULAR_REACHED) == 0
    await pick_up(engine, ANNA, 3)
    assert (await event_types(engine)).count(EventType.REGULAR_REACHED) == 1
    await engine.set_rules(regulars_after=0)  # off
    await pick_up(engine, OLGA, 3)
    assert (await event_types(engine)).count(EventType.REGULAR_REACHED) == 1
    await engine.set_rules(regulars_after=2)  # on again, below Olga's three: her next pickup invites her
    await pick_up(engine, OLGA)
    await pick_up(engine, ANNA)
    assert (await event_types(engine)).count(EventType.REGULAR_REACHED) == 2
