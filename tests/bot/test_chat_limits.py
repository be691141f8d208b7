"""Abuse limits in the chat, in Telegram and VK — the real aiogram and vkbottle against the fake Bot API and VK API.

A flood of messages from one person gets the answers its bucket allows, one warning with the wait, and then
silence (no reply per flooded message) until the bucket has refilled. An order refused by the engine's limit
is told politely with the wait, in the customer's language.
"""
from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace

import pytest
from telegram_harness import Chat, telegram_shop
from telegram_harness import button as tg_button
from vk_harness import vk_shop

from journey.channels import CustomerRef
from journey.limits import Bucket
from journey.model import CartLine

BURST = 5


@pytest.fixture(params=["telegram", "vk"])
async def shop(request, engine):
    engine.limits = replace(engine.limits, messages=Bucket(BURST, 3600))  # five at once, then one a second
    if request.param == "telegram":
        async with telegram_shop(engine) as running:
            yield running
    else:
        async with vk_shop(engine) as running:
            yield running


def write(shop, user_id: int, text: str, language: str = "ru") -> None:
    if hasattr(shop.fake, "message_new"):
        shop.fake.message_new(user_id, text)
    else:
        shop.fake.send_message(user_id, text, first_name="Аня", language_code=language)


def ref_of(shop, user_id: int) -> CustomerRef:
    return CustomerRef(shop.channel.channel, str(user_id))


def texts(shop, user_id: int) -> list[str]:
    return [m.text or "" for m in shop.fake.sent(user_id)]


def counting_gates(engine) -> list[str]:
    """What the engine's message gate said to each message, as it says it."""
    said: list[str] = []
    gate = engine.message_gate

    async def counted(ref: CustomerRef) -> tuple[str, float]:
        answer = await gate(ref)
        said.append(answer[0])
        return answer

    engine.message_gate = counted
    return said


async def until(condition, what: str, timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"waited in vain for {what}"
        await asyncio.sleep(0.01)


async def test_a_flood_gets_one_warning_then_silence_until_the_bucket_refills(shop, engine, clock):
    gates = counting_gates(engine)
    flood = 4 * BURST
    for _ in range(flood):
        write(shop, 601, "/help")
    await until(lambda: len(gates) == flood, "every flooded message to be seen")
    await until(lambda: len(shop.fake.sent(601)) == BURST + 1, "the answers and the warning")
    assert Counter(gates) == {"ok": BURST, "warn": 1, "quiet": flood - BURST - 1}
    said = texts(shop, 601)
    # the allowed ones answered as usual, exactly one warning with the wait, nothing for the rest
    assert said.count("Слишком часто. Попробуйте через 1 с.") == 1
    assert sum("/menu" in text for text in said) == BURST
    assert len(said) == BURST + 1  # every gate has spoken: nothing more is coming
    # someone else in the same shop is answered at once
    write(shop, 602, "/help")
    await until(lambda: len(shop.fake.sent(602)) == 1, "an answer to another person")
    # once the bucket has refilled, the same person is answered again
    clock.advance(seconds=BURST)
    write(shop, 601, "/help")
    await until(lambda: len(shop.fake.sent(601)) == BURST + 2, "an answer after the wait")
    assert "/menu" in texts(shop, 601)[-1]  # the help, not another warning


async def test_an_order_over_the_limit_is_told_with_the_wait_in_the_customers_language(engine):
    engine.limits = replace(engine.limits, orders=Bucket(1, 120))  # one at once, then one every 30 s
    async with telegram_shop(engine) as shop:
        john = Chat(shop.fake, 603, first_name="John", language="en")
        await john.send("/start")
        await engine.place_order(john.ref, [CartLine("croissant")], "center")
        offer = await john.send("/repeat")
        shop.fake.press_button(603, offer.message_id, tg_button(offer, "Confirm")["callback_data"])
        refused = await shop.fake.next_message(603)
    assert refused.text == "Too often. Please try again in 30 s."
    assert len(await engine.orders_of(john.ref)) == 1


async def test_an_order_over_the_limit_is_told_with_the_wait_in_vk(engine):
    engine.limits = replace(engine.limits, orders=Bucket(1, 120))
    async with vk_shop(engine) as shop:
        anna = shop.dialogue(604)
        await anna.send("Начать")
        await engine.place_order(anna.ref, [CartLine("croissant")], "center")
        offer = await anna.send("/repeat")
        refused = await anna.press(offer, "Подтвердить")
    assert refused.text == "Слишком часто. Попробуйте через 30 с."
    assert len(await engine.orders_of(anna.ref)) == 1
