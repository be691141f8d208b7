"""Points and the birthday offer in the Telegram chat, through the fake Bot API: /points names the tier and what is
left to the next, a birthday greeting arrives once a year, points are announced a week before they expire and
told when they did."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from shop_fixtures import BARISTA, OWNER
from telegram_harness import telegram_shop

from journey.model import CartLine, LedgerEntry


@pytest.fixture
async def telegram(engine):
    async with telegram_shop(engine) as shop:
        yield shop


async def test_points_names_the_tier_and_the_next(telegram, engine):
    await engine.change_shop(OWNER, "tiers", "0:5,360:7")
    anna = telegram.chat(701, first_name="Анна")
    await anna.send("/start")
    order = (await engine.place_order(anna.ref, [CartLine("croissant")], "center")).order
    await engine.accept(BARISTA, order.id)
    await engine.mark_ready(BARISTA, order.id)
    await engine.hand_over(BARISTA, order_id=order.id)
    points = (await anna.send("/points")).text
    assert "У вас 900 баллов" in points and "Уровень: Базовый, начисляем 5% от оплаченного." in points
    assert "До уровня «Серебряный» (7%) осталось потратить 180" in points
    english = telegram.chat(702, first_name="Ann", language="en")
    await english.send("/start")
    assert "Tier: Base, earning 5% of what you pay." in (await english.send("/points")).text


async def test_a_birthday_greeting_once_a_year_and_expired_points_told(telegram, engine, clock):
    clock.current = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)
    anna = telegram.chat(701, first_name="Анна")
    await anna.send("/start")
    await engine.set_birthday(anna.ref, 18, 11)
    await engine.expire_due()  # the sweep greets
    await engine.expire_due()
    await telegram.notify()
    assert "С днём рождения! Дарим скидку 10% на один заказ" in (await telegram.fake.next_message(701)).text
    async with engine.uow() as uow:
        cid = (await uow.customers.by_account(anna.ref.channel, anna.ref.external_id)).id
        await uow.loyalty.add(LedgerEntry(cid, 500, "adjust", None, clock.now()))
    clock.advance(days=359)  # a week before the points are a year old
    await engine.expire_due()
    await telegram.notify()
    assert "500 баллов сгорят 18.11.2027" in (await telegram.fake.next_message(701)).text
    clock.advance(days=6)  # 18 November 2027: the points are a year old, the birthday is back
    await engine.expire_due()
    await telegram.notify()
    told = [(await telegram.fake.next_message(701)).text for _ in range(2)]
    assert any("Сгорело 500 баллов" in text for text in told)
    assert sum("С днём рождения" in text for text in told) == 1  # 2027's birthday, once more a year later
