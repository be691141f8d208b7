"""A counter order nobody accepted in time closes by itself, and both sides hear why.

The real aiogram bot against the fake Bot API server: the customer is told the order is closed and that
points and promo code are back, in their language; the staff chat is told the order was missed and the
stock is back. An order not collected keeps its own words.
"""
from __future__ import annotations

import pytest
from shop_fixtures import BARISTA
from telegram_harness import telegram_shop

from journey.model import CartLine

STAFF_CHAT = -100700


@pytest.fixture
async def shop(engine):
    async with telegram_shop(engine, staff_chat=STAFF_CHAT) as shop:
        yield shop


async def test_a_counter_order_nobody_accepted_is_closed_and_both_sides_are_told(shop, engine, clock):
    chat = shop.chat(801)
    await chat.send("/start")
    order = (await engine.place_order(chat.ref, [CartLine("croissant", 2)], "center")).order
    await shop.notify()
    assert f"Новый заказ № {order.short_code}" in (await shop.fake.next_message(STAFF_CHAT)).text

    clock.advance(minutes=30)
    assert await engine.expire_due() == [order.id]
    await shop.notify()

    customer = await shop.fake.next_message(chat.user_id)
    assert f"Заказ № {order.short_code} закрыт: его не успели принять" in customer.text
    assert "не забрали" not in customer.text
    staff = await shop.fake.next_message(STAFF_CHAT)
    assert f"Заказ № {order.short_code} — Центр закрыт: его никто не принял вовремя" in staff.text


async def test_an_english_customer_hears_it_in_english(shop, engine, clock):
    chat = shop.chat(802, language="en")
    await chat.send("/start")
    order = (await engine.place_order(chat.ref, [CartLine("espresso")], "center")).order
    clock.advance(minutes=31)
    await engine.expire_due()
    await shop.notify()
    told = shop.fake.sent(chat.user_id)[-1]
    assert told.text.startswith(f"Order No. {order.short_code} is closed: nobody accepted it in time")


async def test_an_order_not_collected_says_so_and_the_staff_are_not_bothered(shop, engine, clock):
    chat = shop.chat(803)
    await chat.send("/start")
    order = (await engine.place_order(chat.ref, [CartLine("espresso")], "center")).order
    await engine.accept(BARISTA, order.id)
    await engine.mark_ready(BARISTA, order.id)
    await shop.notify()
    staff_before = len(shop.fake.sent(STAFF_CHAT))
    clock.advance(hours=16)  # past closing time
    assert await engine.expire_due() == [order.id]
    await shop.notify()
    assert "его не забрали вовремя" in shop.fake.sent(chat.user_id)[-1].text
    assert len(shop.fake.sent(STAFF_CHAT)) == staff_before
