"""The storage contract of group orders: a group and its members read back whole, one row per customer
(joining again replaces the lines and keeps the first join), codes unique, and what the sweep finds due."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from storage_data import NOON, add_customer, race

from journey.channels import Channel, CustomerRef
from journey.errors import DomainError
from journey.group_model import Group, GroupMember, GroupStatus, Payer
from journey.model import CartLine

ANNA = CustomerRef(Channel.TELEGRAM, "1001", "Анна Петрова", "ru")
BORIS = CustomerRef(Channel.VK, "7001", "Boris", "en")


def group(n: int, *, status: GroupStatus = GroupStatus.OPEN, minutes: int = 30, **changes) -> Group:
    g = Group(f"grp_{n}", f"code{n}", "c_1", ANNA, "center", None, Payer.EACH, "counter", 3, 10, status, NOON,
              NOON + timedelta(minutes=minutes))
    return replace(g, **changes)


@pytest.fixture
async def people(uow_factory):
    for n in range(1, 4):
        await add_customer(uow_factory, n)
    return uow_factory


async def test_a_group_is_stored_and_read_back_whole(people):
    opened = group(1, payer=Payer.ORGANISER, payment="yookassa", pickup_at=NOON + timedelta(hours=1),
                   email="anna@example.com", return_url="https://shop.example/#/order/")
    async with people() as uow:
        await uow.groups.add(opened)
    async with people.reading() as uow:
        assert await uow.groups.get("grp_1") == opened
        assert await uow.groups.by_code("code1") == opened
        assert await uow.groups.get("grp_9") is None and await uow.groups.by_code("nope") is None
    ordered = replace(opened, status=GroupStatus.ORDERED, closed_at=NOON + timedelta(minutes=5), discounted=True,
                      order_id="o_1")
    async with people() as uow:
        await uow.groups.update(ordered)
    async with people.reading() as uow:
        assert await uow.groups.by_code("code1") == ordered


async def test_codes_are_unique(people):
    async with people() as uow:
        await uow.groups.add(group(1))
    with pytest.raises(DomainError):
        async with people() as uow:
            await uow.groups.add(group(2, code="code1"))


async def test_one_row_per_member_in_join_order(people):
    lines = (CartLine("latte", 2, {"size": ("m",), "syrup": ("vanilla", "caramel")}), CartLine("croissant"))
    async with people() as uow:
        await uow.groups.add(group(1))
        await uow.groups.save_member(GroupMember("grp_1", "c_2", BORIS, (CartLine("espresso"),), NOON))
        await uow.groups.save_member(GroupMember("grp_1", "c_1", ANNA, lines, NOON + timedelta(minutes=1)))
    again = GroupMember("grp_1", "c_2", replace(BORIS, name="Boris B."), (CartLine("eclair", 3),),
                        NOON + timedelta(minutes=9))
    async with people() as uow:
        await uow.groups.save_member(again)  # replaces the lines; the first join stays
        await uow.groups.set_member_order("grp_1", "c_1", "o_7")
    async with people.reading() as uow:
        members = await uow.groups.members("grp_1")
        assert await uow.groups.members("grp_2") == []
    assert [(m.customer_id, m.account, m.lines, m.joined_at, m.order_id) for m in members] == [
        ("c_2", replace(BORIS, name="Boris B."), (CartLine("eclair", 3),), NOON, None),
        ("c_1", ANNA, lines, NOON + timedelta(minutes=1), "o_7")]
    assert members[1].name == "Анна"


async def test_due_are_open_groups_past_their_window_and_closed_ones(people):
    async with people() as uow:
        await uow.groups.add(group(1, minutes=10))
        await uow.groups.add(group(2, minutes=60))
        await uow.groups.add(group(3, status=GroupStatus.CLOSED, minutes=60))
        await uow.groups.add(group(4, status=GroupStatus.ORDERED, minutes=1))
        await uow.groups.add(group(5, status=GroupStatus.EXPIRED, minutes=1))
    async with people.reading() as uow:
        assert await uow.groups.due(NOON + timedelta(minutes=9)) == ["grp_3"]
        assert await uow.groups.due(NOON + timedelta(minutes=10)) == ["grp_1", "grp_3"]
        assert await uow.groups.due(NOON + timedelta(hours=2)) == ["grp_1", "grp_2", "grp_3"]


# --- several instances at once (PostgreSQL; SQLite runs them one after the other) ---------------------------

def join(customer_id: str, account: CustomerRef):
    """What joining does: reads the group, refuses a closed one, counts the members before and after."""
    async def joining(uow):
        g = await uow.groups.by_code("code1")
        if g.status is not GroupStatus.OPEN:
            return "closed"
        before = len(await uow.groups.members(g.id))
        await uow.groups.save_member(GroupMember(g.id, customer_id, account, (CartLine("latte"),), NOON))
        after = len(await uow.groups.members(g.id))
        return (before, after, "reached" if before < g.min_people <= after else "")
    return joining


async def close(uow):
    """What closing does: reads the group, counts its members once, decides the discount."""
    g = await uow.groups.get("grp_1")
    if g.status is not GroupStatus.OPEN:
        return "closed already"
    members = await uow.groups.members(g.id)
    await uow.groups.update(replace(g, status=GroupStatus.CLOSED, closed_at=NOON,
                                    discounted=len(members) >= g.min_people))
    return len(members)


async def test_joins_racing_to_the_threshold_are_counted_exactly(people):
    async with people() as uow:
        await uow.groups.add(group(1))  # three people get the discount
        await uow.groups.save_member(GroupMember("grp_1", "c_1", ANNA, (CartLine("espresso"),), NOON))
    first, second = await race(people, join("c_2", BORIS), join("c_3", replace(BORIS, external_id="7002")))
    assert (first, second) == ((1, 2, ""), (2, 3, "reached"))  # reached once, by the third
    async with people.reading() as uow:
        assert len(await uow.groups.members("grp_1")) == 3


async def test_a_close_counts_the_join_it_waited_for(people):
    async with people() as uow:
        await uow.groups.add(group(1))
        for n, who in ((1, ANNA), (2, BORIS)):
            await uow.groups.save_member(GroupMember("grp_1", f"c_{n}", who, (CartLine("espresso"),), NOON))
    joined, counted = await race(people, join("c_3", replace(BORIS, external_id="7002")), close)
    assert (joined, counted) == ((2, 3, "reached"), 3)
    async with people.reading() as uow:
        closed = await uow.groups.get("grp_1")
    assert (closed.status, closed.discounted) == (GroupStatus.CLOSED, True)  # exactly at min_people


async def test_a_join_after_the_close_finds_the_group_closed(people):
    async with people() as uow:
        await uow.groups.add(group(1))
        await uow.groups.save_member(GroupMember("grp_1", "c_1", ANNA, (CartLine("espresso"),), NOON))
    assert await race(people, close, join("c_2", BORIS)) == [1, "closed"]
    async with people.reading() as uow:
        assert [m.customer_id for m in await uow.groups.members("grp_1")] == ["c_1"]
        assert (await uow.groups.get("grp_1")).discounted is False


async def test_two_closes_at_once_close_once(people):
    async with people() as uow:
        await uow.groups.add(group(1))
        await uow.groups.save_member(GroupMember("grp_1", "c_1", ANNA, (CartLine("espresso"),), NOON))
    assert await race(people, close, close) == [1, "closed already"]
