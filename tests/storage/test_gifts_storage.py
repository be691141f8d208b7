"""The storage contract of gifts: a gift read back whole (its giver, the friend who took it, its order),
codes unique, what the sweep finds due, a customer's gifts given or taken, and a gift's payment stored
like an order's with the gift's id in ``order_id``."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from storage_data import NOON, add_customer, race

from journey.channels import Channel, CustomerRef
from journey.errors import DomainError
from journey.gift_model import Gift, GiftStatus
from journey.model import PaymentIntent
from journey.money import Money
from journey.states import PaymentStatus

ANNA = CustomerRef(Channel.TELEGRAM, "1001", "Анна Петрова", "ru")
BORIS = CustomerRef(Channel.VK, "1002", "Boris", "en")


def gift(n: int, *, status: GiftStatus = GiftStatus.ACTIVE, **changes) -> Gift:
    g = Gift(f"gift_{n}", f"Code{n}xyzABCDEFGH", "c_1", ANNA, "latte", "Латте", Money(25000), "Спасибо!", "yookassa",
             status, NOON, NOON, NOON + timedelta(days=30))
    return replace(g, **changes)


@pytest.fixture
async def people(uow_factory):
    for n in range(1, 3):
        await add_customer(uow_factory, n)
    return uow_factory


async def test_a_gift_is_stored_and_read_back_whole(people):
    bought = gift(1, status=GiftStatus.AWAITING_PAYMENT, expires_at=None)
    async with people() as uow:
        await uow.gifts.add(bought)
        await uow.payments.add(PaymentIntent("pay_g1", bought.id, "yookassa", bought.amount, PaymentStatus.PENDING,
                                             f"gift:{bought.id}", "", NOON, NOON))
    async with people.reading() as uow:
        assert await uow.gifts.get("gift_1") == bought
        assert await uow.gifts.by_code(bought.code) == bought
        assert await uow.gifts.get("gift_9") is None and await uow.gifts.by_code("nope") is None
        assert (await uow.payments.for_order("gift_1")).id == "pay_g1"
    taken = replace(bought, status=GiftStatus.CLAIMED, expires_at=NOON + timedelta(days=30), friend_id="c_2",
                    friend=BORIS, order_id="o_1", updated_at=NOON + timedelta(hours=1))
    async with people() as uow:
        await uow.gifts.update(taken)
    async with people.reading() as uow:
        assert await uow.gifts.by_code(bought.code) == taken
        assert await uow.gifts.by_order("o_1") == taken and await uow.gifts.by_order("o_2") is None
    amount = gift(2, item_id=None, title="", amount=Money(50000), message="")
    async with people() as uow:
        await uow.gifts.add(amount)
    async with people.reading() as uow:
        assert await uow.gifts.get("gift_2") == amount


async def test_codes_are_unique(people):
    async with people() as uow:
        await uow.gifts.add(gift(1))
    with pytest.raises(DomainError):
        async with people() as uow:
            await uow.gifts.add(gift(2, code=gift(1).code))


async def test_what_the_sweep_finds_due(people):
    async with people() as uow:
        await uow.gifts.add(gift(1))  # expires in 30 days
        await uow.gifts.add(gift(2, expires_at=NOON - timedelta(minutes=1)))  # past its day
        await uow.gifts.add(gift(3, status=GiftStatus.EXPIRED))  # its money not back yet
        await uow.gifts.add(gift(4, status=GiftStatus.AWAITING_PAYMENT, expires_at=None,
                                 created_at=NOON - timedelta(minutes=20)))  # unpaid too long
        await uow.gifts.add(gift(5, status=GiftStatus.AWAITING_PAYMENT, expires_at=None))  # just bought
        await uow.gifts.add(gift(6, status=GiftStatus.REDEEMED, expires_at=NOON - timedelta(days=1)))
        await uow.gifts.add(gift(7, status=GiftStatus.REFUNDED))
    async with people.reading() as uow:
        due = await uow.gifts.due(NOON, NOON - timedelta(minutes=15))
    assert sorted(due) == ["gift_2", "gift_3", "gift_4"]


async def test_a_customers_gifts_given_or_taken_newest_first(people):
    async with people() as uow:
        await uow.gifts.add(gift(1))
        await uow.gifts.add(gift(2, giver_id="c_2", friend_id="c_1", friend=ANNA,
                                 created_at=NOON + timedelta(hours=1)))
        await uow.gifts.add(gift(3, status=GiftStatus.AWAITING_PAYMENT))  # not a gift yet
        await uow.gifts.add(gift(4, giver_id="c_2"))
    async with people.reading() as uow:
        assert [g.id for g in await uow.gifts.of_customer("c_1")] == ["gift_2", "gift_1"]
        assert [g.id for g in await uow.gifts.of_customer("c_2")] == ["gift_2", "gift_4"]


# --- several instances at once (PostgreSQL; SQLite runs them one after the other) ---------------------------

def take(friend_id: str, friend: CustomerRef):
    """What claiming does with the gift it reads: takes it when nobody has, else is refused."""
    async def claim(uow):
        g = await uow.gifts.by_code(gift(1).code)
        if g.friend_id is not None or g.status is not GiftStatus.ACTIVE:
            return f"taken by {g.friend_id}"
        await uow.gifts.update(replace(g, status=GiftStatus.CLAIMED, friend_id=friend_id, friend=friend,
                                       updated_at=NOON + timedelta(minutes=1)))
        return "mine"
    return claim


async def test_two_friends_taking_one_gift_at_once_one_gets_it(people):
    await add_customer(people, 3)
    async with people() as uow:
        await uow.gifts.add(gift(1))
    assert await race(people, take("c_2", BORIS), take("c_3", ANNA)) == ["mine", "taken by c_2"]
    async with people.reading() as uow:
        stored = await uow.gifts.get("gift_1")
    assert (stored.status, stored.friend_id, stored.friend) == (GiftStatus.CLAIMED, "c_2", BORIS)


async def test_the_sweep_and_a_pickup_of_one_gift_take_turns(people):
    """The friend's order is handed over while the sweep finds the gift past its day: the sweep reads the
    gift again after the hand-over and leaves a redeemed gift alone."""
    async with people() as uow:
        await uow.gifts.add(gift(1, status=GiftStatus.CLAIMED, friend_id="c_2", friend=BORIS, order_id="o_1",
                                 expires_at=NOON - timedelta(minutes=1)))

    async def picked_up(uow):
        g = await uow.gifts.by_order("o_1")
        await uow.gifts.update(replace(g, status=GiftStatus.REDEEMED, updated_at=NOON))
        return g.status

    async def sweep(uow):  # it found the gift due before the hand-over
        g = await uow.gifts.get("gift_1")
        if g.status.usable:
            await uow.gifts.update(replace(g, status=GiftStatus.EXPIRED, updated_at=NOON))
        return g.status

    assert await race(people, picked_up, sweep) == [GiftStatus.CLAIMED, GiftStatus.REDEEMED]
    async with people.reading() as uow:
        assert (await uow.gifts.get("gift_1")).status is GiftStatus.REDEEMED
