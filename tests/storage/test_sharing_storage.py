"""The storage contract of sharing and regulars: shares counted by kind in a period, visits counted by the
tag of the shared link that brought them, pickups counted per customer, a regular recorded once per person
(also across merged accounts)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from storage_data import NOON, add_customer, race, seed_catalog

from journey.errors import DomainError
from journey.model import Order, OrderLine, Visit
from journey.money import Money
from journey.sharing import Share, ShareCount, ShareKind, ViaCount
from journey.states import OrderStatus

DAY = timedelta(days=1)


@pytest.fixture
async def people(uow_factory):
    await seed_catalog(uow_factory)
    for n in range(1, 5):
        await add_customer(uow_factory, n)
    return uow_factory


def order(n: int, customer_id: str, status: OrderStatus) -> Order:
    line = OrderLine("croissant", "Круассан", (), {}, 1, Money(18000))
    return Order(f"o_{n}", customer_id, "center", status, (line,), Money(18000), Money(0), 0, Money(18000),
                 NOON + timedelta(minutes=10), f"{n:04d}", NOON, NOON, None, "", "counter",
                 account=f"telegram:{1000 + n}")


async def test_shares_are_counted_by_kind_within_the_period(people):
    async with people() as uow:
        for n, (kind, at) in enumerate([(ShareKind.TELEGRAM_STORY, NOON), (ShareKind.TELEGRAM_STORY, NOON + DAY),
                                        (ShareKind.VK_WALL, NOON), (ShareKind.LINK, NOON - DAY)]):
            await uow.sharing.add(Share(f"sh_{n}", "c_1", kind, "telegram", at, "o_1" if n == 0 else None))
    async with people.reading() as uow:
        assert await uow.sharing.shares(NOON, NOON + DAY) == [ShareCount("telegram_story", 1),
                                                               ShareCount("vk_wall", 1)]
        assert await uow.sharing.shares(NOON - DAY, NOON + 2 * DAY) == [
            ShareCount("link", 1), ShareCount("telegram_story", 2), ShareCount("vk_wall", 1)]


async def test_visits_are_counted_by_the_tag_of_their_shared_link(people):
    visits = [("rref1-ts", "referral"), ("rref1-ts", "referral"), ("rref2-vw", "referral"), ("rref1", "referral"),
              ("rref1-l", "referral"), ("pcenter", "point"), ("sx-ts", "source")]
    async with people() as uow:
        for param, kind in visits:
            await uow.visits.add(Visit(param, kind, "vk", None, NOON))
        await uow.visits.add(Visit("rref1-vs", "referral", "vk", None, NOON + DAY))  # outside the period
    async with people.reading() as uow:
        assert await uow.sharing.visits_by_via(NOON, NOON + DAY) == [ViaCount("l", 1), ViaCount("ts", 2),
                                                                      ViaCount("vw", 1)]


async def test_pickups_and_a_regular_once_per_person_also_when_merged(people):
    async with people() as uow:
        for n, status in enumerate([OrderStatus.PICKED_UP, OrderStatus.PICKED_UP, OrderStatus.CANCELLED]):
            await uow.orders.add(order(n, "c_1", status))
        await uow.orders.add(order(9, "c_2", OrderStatus.PICKED_UP))
    async with people() as uow:
        assert await uow.sharing.pickups("c_1") == 2 and await uow.sharing.pickups("c_3") == 0
        assert await uow.sharing.regular_since("c_1") is None
        await uow.sharing.add_regular("c_2", "o_9", 1, NOON)
    with pytest.raises(DomainError):  # never twice
        async with people() as uow:
            await uow.sharing.add_regular("c_2", "o_9", 1, NOON + DAY)
    async with people() as uow:  # c_2 links to c_3, which links to c_4: c_4 is the regular c_2 was
        await uow.customers.merge("c_2", "c_3")
        await uow.customers.merge("c_3", "c_4")
    async with people.reading() as uow:
        assert await uow.sharing.regular_since("c_4") == NOON
        assert await uow.sharing.regular_since("c_1") is None
        assert await uow.sharing.pickups("c_4") == 1  # the merged account's pickup is the person's


# --- several instances at once (PostgreSQL; SQLite runs them one after the other) ---------------------------

def hand_over(n: int, threshold: int = 2):
    """What a hand-over does for regulars: the order is picked up, and the pickup that reaches the threshold
    records the customer as a regular, once."""
    async def handing_over(uow):
        await uow.orders.set_status(f"o_{n}", OrderStatus.PICKED_UP, NOON)
        pickups = await uow.sharing.pickups("c_1")
        if pickups < threshold or await uow.sharing.regular_since("c_1") is not None:
            return pickups, "not invited"
        await uow.sharing.add_regular("c_1", f"o_{n}", pickups, NOON)
        return pickups, "invited"
    return handing_over


async def test_two_hand_overs_at_once_invite_a_regular_once(people):
    """The threshold is lowered below the customer's count: both pickups reach it, one invitation goes."""
    async with people() as uow:
        await uow.orders.add(order(0, "c_1", OrderStatus.PICKED_UP))
        for n in (1, 2):
            await uow.orders.add(order(n, "c_1", OrderStatus.READY))
    first, second = await race(people, hand_over(1), hand_over(2))
    assert (first, second) == ((2, "invited"), (3, "not invited"))
    async with people.reading() as uow:
        assert await uow.sharing.regular_since("c_1") == NOON
