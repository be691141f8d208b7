"""Suggestions from the shop's own pickups: the most repeated line with its options, items taken together, what
sells at this hour of the shop's clock; counted at pickup only, left out when not orderable at the point or when
the line's options are gone, and added up when two accounts are linked."""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from journey_support import BARISTA, customer, fulfil, refused

from journey.channels import Channel
from journey.engine import Engine
from journey.errors import ErrorCode
from journey.model import CartLine

ANNA, ANNA_VK = customer(1), customer("77", Channel.VK)
OAT = CartLine("latte", 1, {"size": ("m",), "milk": ("oat",)})
ALMOND = CartLine("latte", 1, {"size": ("l",), "milk": ("almond",)})


async def pick_up(engine: Engine, ref, *lines: CartLine) -> str:
    order = (await engine.place_order(ref, list(lines), "center")).order
    await fulfil(engine, order.id)
    await engine.hand_over(BARISTA, order_id=order.id)
    return order.id


async def usual(engine: Engine, ref=ANNA) -> list[tuple[str, dict, int]]:
    found = await engine.suggestions(ref, "center")
    return [(u.line.item_id, u.line.option_ids, u.times) for u in found.usual]


async def test_the_usual_is_the_most_repeated_line_with_its_options(engine):
    await pick_up(engine, ANNA, OAT, CartLine("croissant"))
    await pick_up(engine, ANNA, ALMOND)
    assert await usual(engine) == []  # nothing twice yet
    await pick_up(engine, ANNA, CartLine("latte", 2, {"milk": ("oat",), "size": ("m",)}))  # same line, any order
    await pick_up(engine, ANNA, CartLine("croissant"))
    await pick_up(engine, ANNA, CartLine("croissant"), OAT)
    # as often, as lately: by id
    assert await usual(engine) == [("croissant", {}, 3), ("latte", {"size": ("m",), "milk": ("oat",)}, 3)]
    line = (await engine.suggestions(ANNA, "center")).usual
    assert {u.line.unit_price.amount for u in line} == {25000 + 4000 + 6000, 18000}  # today's prices


async def test_only_pickups_count(engine):
    for _ in range(2):
        order = (await engine.place_order(ANNA, [OAT], "center")).order
        await engine.cancel(ANNA, order.id)
    assert await usual(engine) == []
    assert (await engine.suggestions(ANNA, "center")).now == []


async def test_a_line_whose_option_is_gone_is_no_longer_suggested(engine):
    await pick_up(engine, ANNA, OAT)
    await pick_up(engine, ANNA, OAT)
    async with engine.uow() as uow:
        latte = (await uow.catalog.items_by_id(["latte"]))["latte"]
        groups = tuple(g if g.id != "milk" else dataclasses.replace(g, options=g.options[1:])
                       for g in latte.option_groups)
        await uow.catalog.save_item(dataclasses.replace(latte, option_groups=groups))
    assert await usual(engine) == []


async def test_together_and_now_leave_out_what_cannot_be_ordered(engine, clock):
    for _ in range(2):
        await pick_up(engine, ANNA, CartLine("croissant"), CartLine("espresso"), CartLine("eclair"))
    found = await engine.suggestions(customer(9), "center", ["croissant"])
    assert found.usual == [] and [i.id for i in found.together] == ["eclair", "espresso"]
    assert found.hour == 9 and [i.id for i in found.now] == ["croissant", "eclair", "espresso"]
    await engine.set_stock("center", "eclair", 0)
    found = await engine.suggestions(customer(9), "center", ["croissant", "espresso"])
    assert found.together == [] and [i.id for i in found.now] == ["croissant", "espresso"]
    assert [i.id for i in (await engine.suggestions(customer(9), "park", ["croissant"])).together] == [
        "eclair", "espresso"]  # another point's stock
    clock.current = datetime(2026, 11, 18, 18, 30, tzinfo=UTC)  # 21:30 in Moscow
    assert (await engine.suggestions(customer(9), "center")).now == []


async def test_linked_accounts_add_their_habits_up(engine):
    await pick_up(engine, ANNA, OAT)
    await pick_up(engine, ANNA_VK, OAT)
    assert await usual(engine) == [] and await usual(engine, ANNA_VK) == []
    await engine.redeem_link_code(ANNA_VK, (await engine.issue_link_code(ANNA)).code)
    assert await usual(engine) == [("latte", {"size": ("m",), "milk": ("oat",)}, 2)]
    assert await usual(engine, ANNA_VK) == await usual(engine)


async def test_bad_questions_are_refused(engine):
    with refused(ErrorCode.POINT_NOT_FOUND):
        await engine.suggestions(ANNA, "moon")
    with refused(ErrorCode.BAD_INPUT):
        await engine.suggestions(ANNA, None)
    with refused(ErrorCode.BAD_INPUT):
        await engine.suggestions(ANNA, "center", [f"i{n}" for n in range(21)])
