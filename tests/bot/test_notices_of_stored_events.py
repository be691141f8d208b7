"""Notifications are told from the events themselves, and events stored by an older version still read right.

The real aiogram bot against the fake Bot API server: an ``order.placed`` and an ``order.picked_up`` written
the way they were before they carried the staff message's lines, time and the points earned must produce
the same messages as the events written today.
"""
from __future__ import annotations

import pytest
from shop_fixtures import BARISTA
from telegram_harness import telegram_shop

from journey.events import DomainEvent, EventType
from journey.model import CartLine

STAFF_CHAT = -100700
LATTE_M_OAT = CartLine("latte", 2, {"size": ("m",), "milk": ("oat",)})


@pytest.fixture
async def shop(engine):
    async with telegram_shop(engine, staff_chat=STAFF_CHAT) as shop:
        yield shop


async def store(engine, kind: EventType, data: dict) -> None:
    """An event as an older version wrote it, waiting in the outbox."""
    async with engine.uow() as uow:
        await uow.outbox.add(DomainEvent(kind, data, engine.now()))


def as_stored_before(order, **extra) -> dict:
    return {"order_id": order.id, "customer_id": order.customer_id, "point_id": order.point_id,
            "short_code": order.short_code, "account": order.account, "total": order.total.amount,
            "currency": order.total.currency, **extra}


async def test_an_old_order_placed_tells_staff_the_same_as_a_new_one(shop, engine):
    chat = shop.chat(701)
    await chat.send("/start")
    order = (await engine.place_order(chat.ref, [LATTE_M_OAT, CartLine("croissant")], "center")).order
    await shop.notify()
    told_now = await shop.fake.next_message(STAFF_CHAT)
    assert f"Новый заказ № {order.short_code} — Центр, к " in told_now.text
    assert "• Латте (M, Овсяное) × 2\n• Круассан × 1" in told_now.text
    assert "Итого 880 ₽, оплата на кассе" in told_now.text

    await store(engine, EventType.ORDER_PLACED, as_stored_before(
        order, provider="counter", lines=[["Латте", 2], ["Круассан", 1]]))
    await shop.notify()
    told_then = await shop.fake.next_message(STAFF_CHAT)
    assert told_then.text == told_now.text
    assert told_then.reply_markup == told_now.reply_markup  # the same accept / ready buttons


async def test_an_old_order_picked_up_tells_the_points_from_the_ledger(shop, engine):
    chat = shop.chat(702)
    await chat.send("/start")
    order = (await engine.place_order(chat.ref, [LATTE_M_OAT], "center")).order
    await engine.accept(BARISTA, order.id)
    await engine.mark_ready(BARISTA, order.id)
    await engine.hand_over(BARISTA, order_id=order.id)
    await shop.notify()
    told_now = shop.fake.sent(chat.user_id)[-1]
    assert "Начислено баллов: 3500" in told_now.text

    await store(engine, EventType.ORDER_PICKED_UP, as_stored_before(order, by=BARISTA.key))
    await shop.notify()
    told_then = shop.fake.sent(chat.user_id)[-1]
    assert told_then is not told_now and told_then.text == told_now.text


async def test_an_old_event_of_an_order_that_is_gone_tells_nobody(shop, engine):
    await store(engine, EventType.ORDER_PLACED, {"order_id": "o_gone", "customer_id": "c_gone", "point_id": "center",
                                                 "short_code": "0000", "account": "", "total": 0,
                                                 "currency": "RUB", "lines": [["Латте", 1]]})
    assert await shop.notify() == 1  # handled, not failed: nothing is retried
    assert shop.fake.sent(STAFF_CHAT) == [] and await engine.waiting_deliveries() == []
