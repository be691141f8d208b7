"""Regulars through the fake Bot API and VK API: the pickup that reaches the shop's number invites the
customer to the closed chat once (Telegram: a link for one person, createChatInviteLink with
member_limit=1; VK: the chat's link), never again, also not after linking accounts; an unconfigured chat
or a refusing Telegram sends nothing and breaks nothing."""
from __future__ import annotations

import asyncio
import contextlib
from contextlib import asynccontextmanager

import pytest
import vk_harness
from fake_telegram import FakeTelegram
from fake_vk import FakeVK
from shop_fixtures import OWNER

from adapters.qr import QrcodeRenderer
from adapters.ratelimit import RateLimiter
from adapters.telegram import TelegramChannel
from bot.conversation import Conversation
from bot.notifications import Notifier
from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from journey.errors import DomainError
from journey.model import CartLine
from journey.outbox import OutboxRelay

CHAT = -1001234567890  # the closed supergroup
ANNA = CustomerRef(Channel.TELEGRAM, "5001", "Анна Петрова")
VK_LINK = "https://vk.me/join/AJQ1dRegulars"
UNPACED = RateLimiter(per_second=10_000, chat_interval=0)


@asynccontextmanager
async def telegram(engine: Engine, *, chat: int | None = CHAT, admin: bool = True):
    """The Telegram bot with the closed chat ``chat`` (None: none configured), and the notifier's relay."""
    async with FakeTelegram() as fake:
        if admin and chat:
            fake.admin_of.add(chat)
        channel = TelegramChannel(fake.token, handle=Conversation(engine).handle,
                                  claim=lambda update_id: engine.claim_update(Channel.TELEGRAM, update_id),
                                  api_base=fake.base_url, regulars_chat_id=chat)
        await channel.start()
        channel.messenger.limiter = UNPACED  # the order notices of many pickups, not Telegram's pace
        notifier = Notifier(engine, QrcodeRenderer(), {Channel.TELEGRAM: channel.messenger})
        if channel.invitations is not None:
            notifier.invitations[Channel.TELEGRAM] = channel.invitations
        try:
            yield fake, OutboxRelay(engine.uow, {"notify": notifier})
        finally:
            await channel.stop()


async def pick_up(engine: Engine, ref: CustomerRef, times: int = 1) -> None:
    for _ in range(times):
        order = (await engine.place_order(ref, [CartLine("eclair")], "center")).order
        for step in (engine.accept, engine.mark_ready):
            await step(OWNER, order.id)
        await engine.hand_over(OWNER, order_id=order.id)


@pytest.fixture
async def shop(engine: Engine) -> Engine:
    await engine.set_rules(regulars_after=3)
    return engine


def invitations(fake: FakeTelegram) -> list:
    return [sent for sent in fake.sent(int(ANNA.external_id))
            if "закрытый чат" in (sent.text or "")]


async def test_the_nth_pickup_invites_once_with_a_link_for_one_person(shop):
    async with telegram(shop) as (fake, relay):
        await pick_up(shop, ANNA, 2)
        await relay.run_once()
        assert fake.invite_links == [] and invitations(fake) == []
        await pick_up(shop, ANNA)  # the third
        await relay.run_once()
        ((chat, link),) = fake.invite_links
        assert chat == CHAT and link["member_limit"] == 1 and link["name"].startswith("Анна · ")
        (told,) = invitations(fake)
        assert "3-й заказ" in told.text and "только для вас" in told.text
        assert told.reply_markup == {"inline_keyboard": [[{"text": "Войти в чат", "url": link["invite_link"]}]]}
        await pick_up(shop, ANNA)  # the fourth, and the relay running again: nothing more
        await relay.run_once()
        await relay.run_once()
        assert len(fake.invite_links) == 1 and len(invitations(fake)) == 1


async def test_linked_accounts_are_one_person_invited_once(shop):
    vk_anna = CustomerRef(Channel.VK, "7001", "Анна")
    async with telegram(shop) as (fake, relay):
        await pick_up(shop, vk_anna, 3)  # a regular in VK (no VK chat here: she is not told)
        await pick_up(shop, ANNA, 2)
        code = await shop.issue_link_code(ANNA)
        await shop.redeem_link_code(vk_anna, code.code)  # her VK account joins her Telegram one
        await pick_up(shop, ANNA)  # six pickups now, the Telegram one's third: she was invited already
        await relay.run_once()
        assert fake.invite_links == [] and invitations(fake) == []


async def test_off_when_the_rule_is_zero_and_the_rule_is_checked(shop):
    await shop.set_rules(regulars_after=0)
    async with telegram(shop) as (fake, relay):
        await pick_up(shop, ANNA, 3)
        await relay.run_once()
        assert fake.invite_links == []
    with pytest.raises(DomainError):
        await shop.change_shop(OWNER, "regulars", "-1")
    assert (await shop.change_shop(OWNER, "regulars", "12")) is not None
    assert (await shop.shop_view()).rules.regulars_after == 12


async def test_no_chat_configured_or_refused_sends_nothing_and_breaks_nothing(shop):
    async with telegram(shop, chat=None) as (fake, relay):
        await pick_up(shop, ANNA, 3)
        await relay.run_once()
        assert not [c for c in fake.calls if c.method == "createChatInviteLink"] and invitations(fake) == []
        assert fake.sent(5001)  # she was told of her orders as ever
    bob = CustomerRef(Channel.TELEGRAM, "5002", "Боб")
    async with telegram(shop, admin=False) as (fake, relay):  # the bot is no admin of the chat
        await pick_up(shop, bob, 3)
        await relay.run_once()
        assert [c.status for c in fake.calls if c.method == "createChatInviteLink"] == [400]
        assert fake.invite_links == []
        assert not [s for s in fake.sent(5002) if "закрытый чат" in (s.text or "")]


async def test_vk_sends_the_chats_link(shop):
    ira = CustomerRef(Channel.VK, "7005", "Ира")
    async with FakeVK(group_id=7) as fake:
        channel = vk_harness.build_channel(fake, shop, regulars_chat_link=VK_LINK)
        channel.messenger.limiter = UNPACED
        notifier = Notifier(shop, QrcodeRenderer(), {Channel.VK: channel.messenger},
                            invitations={Channel.VK: channel.invitations})
        await channel.start()
        polling = asyncio.create_task(channel.run())
        try:
            await pick_up(shop, ira, 3)
            await OutboxRelay(shop.uow, {"notify": notifier}).run_once()
            told = [m for m in fake.sent(7005) if "закрытый чат" in m.text]
        finally:
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await polling
            await channel.stop()
    assert len(told) == 1 and "только для вас" not in told[0].text
    assert VK_LINK in told[0].text or VK_LINK in str(told[0].keyboard)
