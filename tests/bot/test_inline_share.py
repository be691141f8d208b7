"""The shop's card in Telegram's inline mode: aiogram polling the fake Bot API answers an ``inline_query``
with the sharer's card, whose button opens the bot with their referral code tagged as shared by card
(``r<code>-ti``); a friend who comes by it is the sharer's invitation and a visit the card brought."""
from __future__ import annotations

import asyncio
import contextlib
from contextlib import asynccontextmanager

import pytest
from fake_telegram import FakeTelegram
from shop_fixtures import OWNER

from adapters.story import PillowStories
from adapters.telegram import TelegramChannel
from bot.conversation import Conversation
from bot.sharing_chat import card_maker
from bot.stats_chat import summary
from journey.channels import Channel, CustomerRef
from journey.engine import Engine

PUBLIC = "https://coffee.example"


@asynccontextmanager
async def bot(engine: Engine, *, cards: bool = True, failing: bool = False):
    async with FakeTelegram() as fake:
        async def broken(ref: CustomerRef):
            raise RuntimeError("the database is gone")
        maker = broken if failing else card_maker(engine, PUBLIC) if cards else None
        channel = TelegramChannel(fake.token, handle=Conversation(engine, public_url=PUBLIC).handle,
                                  claim=lambda update_id: engine.claim_update(Channel.TELEGRAM, update_id),
                                  api_base=fake.base_url, mini_app_url=PUBLIC + "/", cards=maker)
        await channel.start()
        polling = asyncio.create_task(channel.run())
        try:
            yield fake
        finally:
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await polling
            await channel.stop()


@pytest.fixture
def shop(engine: Engine) -> Engine:
    engine.stories = PillowStories()
    return engine


async def code_of(engine: Engine, user_id: int) -> str:
    return (await engine.profile(CustomerRef(Channel.TELEGRAM, str(user_id)))).customer.referral_code


async def test_an_inline_query_is_answered_with_the_sharers_card(shop):
    await shop.set_rules(name="Кофейня «Зерно»")
    async with bot(shop) as fake:
        query = fake.inline_query(5001, "shop", first_name="Анна")["inline_query"]
        answer = await fake.inline_answer(query["id"])
    code = await code_of(shop, 5001)  # the sharer became a customer with their own code
    (card,) = answer["results"]
    assert card["type"] == "article" and card["title"] == "Кофейня «Зерно»"
    assert card["reply_markup"] == {"inline_keyboard": [[{
        "text": "Открыть магазин", "url": f"https://t.me/vitrina_demo_bot?start=r{code}-ti"}]]}
    assert "Кофейня «Зерно»" in card["input_message_content"]["message_text"]
    assert card["thumbnail_url"] == f"{PUBLIC}/share/story.jpg"
    assert answer["is_personal"] is True and answer["cache_time"] == 300
    allowed = [c.params.get("allowed_updates") for c in fake.calls if c.method == "getUpdates"]
    assert all("inline_query" in a for a in allowed if a)


async def test_the_card_speaks_the_sharers_language(shop):
    async with bot(shop) as fake:
        query = fake.inline_query(5003, "", first_name="Ann", language_code="en")["inline_query"]
        (card,) = (await fake.inline_answer(query["id"]))["results"]
    assert card["reply_markup"]["inline_keyboard"][0][0]["text"] == "Open the shop"
    assert card["input_message_content"]["message_text"].startswith("I order at")


async def test_a_friend_by_the_card_is_invited_and_counted_as_its_visit(shop):
    async with bot(shop) as fake:
        query = fake.inline_query(5001, "shop", first_name="Анна")["inline_query"]
        (card,) = (await fake.inline_answer(query["id"]))["results"]
        start = card["reply_markup"]["inline_keyboard"][0][0]["url"].split("?start=")[1]
        fake.send_message(5002, f"/start {start}", first_name="Ольга")
        await fake.next_message(5002)
    anna = CustomerRef(Channel.TELEGRAM, "5001")
    assert (await shop.referral_summary(anna)).invited == 1
    stats = await shop.stats(OWNER, 1)
    assert stats.share_visits == (("telegram_inline", 1),)
    assert dict(stats.by_source)["ref"].visits == 1
    await shop.record_share(CustomerRef(Channel.TELEGRAM, "5001"), "telegram_inline")  # as the Mini App does
    text = summary("ru", await shop.stats(OWNER, 1))
    assert "Репосты: карточка в Telegram 1. Визиты по ним: карточка в Telegram 1." in text


async def test_no_card_no_results_and_no_crash(shop):
    async with bot(shop, cards=False) as fake:
        query = fake.inline_query(5001, "shop")["inline_query"]
        assert (await fake.inline_answer(query["id"]))["results"] == []
    async with bot(shop, failing=True) as fake:
        query = fake.inline_query(5001, "shop")["inline_query"]
        assert (await fake.inline_answer(query["id"]))["results"] == []
        fake.send_message(5001, "/start")  # the bot carries on
        assert (await fake.next_message(5001)).text
