"""Delivery that survives, through both channels at once: the real relay and notifier, the real aiogram and
vkbottle messengers talking HTTP to the fake Bot API and VK API servers.

A customer who blocked the bot in Telegram and one who never allowed the community's messages in VK delay
nobody else's notification; a server or network failure is retried and the message arrives once; an event
given up after every attempt is listed by ``vitrina outbox failed`` run as a process.
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from cli import vitrina
from fake_telegram import FakeTelegram
from fake_vk import FakeVK
from shop_fixtures import BARISTA, OWNER, FakeClock, seed
from telegram_harness import telegram_shop
from vk_harness import vk_shop

from adapters.qr import QrcodeRenderer
from bot.notifications import Notifier
from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from journey.model import CartLine
from journey.outbox import OutboxRelay
from storage.sqlite import SqliteDatabase

STAFF_CHAT, STAFF_PEER = -100500, 2000000001
LATTE = [CartLine("latte", 1, {"size": ("m",)})]


@dataclass
class Shop:
    engine: Engine
    telegram: FakeTelegram
    vk: FakeVK
    relay: OutboxRelay


@asynccontextmanager
async def both_channels(engine: Engine, **relay_options):
    """Telegram and VK wired as ``vitrina run`` wires them: one notifier, one relay, two staff chats."""
    async with telegram_shop(engine, staff_chat=STAFF_CHAT) as tg, vk_shop(engine, staff_peer=STAFF_PEER) as vk:
        staff = [CustomerRef(Channel.TELEGRAM, str(STAFF_CHAT)), CustomerRef(Channel.VK, str(STAFF_PEER))]
        notifier = Notifier(engine, QrcodeRenderer(), {Channel.TELEGRAM: tg.channel.messenger,
                                                       Channel.VK: vk.channel.messenger}, staff)
        relay = OutboxRelay(engine.uow, {"notify": notifier}, **relay_options)
        yield Shop(engine, tg.fake, vk.fake, relay)


def tg(user: int) -> CustomerRef:
    return CustomerRef(Channel.TELEGRAM, str(user))


def vk(user: int) -> CustomerRef:
    return CustomerRef(Channel.VK, str(user))


async def order_ready(engine: Engine, ref: CustomerRef) -> str:
    """The customer orders, staff accept it and mark it ready; returns the short code."""
    view = await engine.place_order(ref, LATTE, "center")
    await engine.accept(BARISTA, view.order.id)
    await engine.mark_ready(BARISTA, view.order.id)
    return view.order.short_code


def texts_to(fake: FakeTelegram, chat: int) -> list[str]:
    return [m.text or "" for m in fake.sent(chat)]


async def test_blocked_and_unpermitted_customers_delay_nobody(engine):
    async with both_channels(engine) as shop:
        shop.telegram.refuse(501)  # blocked the bot
        shop.vk.refuse(601)  # opened the Mini App, never allowed the community's messages
        blocked, silent = await order_ready(engine, tg(501)), await order_ready(engine, vk(601))
        code = await order_ready(engine, tg(502))
        vk_code = await order_ready(engine, vk(602))
        delivered = await shop.relay.run_once()

        # everyone else heard everything, in order: accepted, then ready with the QR code
        anna = shop.telegram.sent(502)
        assert [m.photo is not None for m in anna] == [False, True]
        assert f"№ {code}" in anna[0].text and code in anna[1].text
        boris = shop.vk.sent(602)
        assert len(boris) == 2 and vk_code in boris[0].text and vk_code in boris[1].text
        staff_tg, staff_vk = texts_to(shop.telegram, STAFF_CHAT), [m.text for m in shop.vk.sent(STAFF_PEER)]
        for c in (blocked, silent, code, vk_code):
            assert any(f"Новый заказ № {c}" in t for t in staff_tg), staff_tg
            assert any(f"Новый заказ № {c}" in t for t in staff_vk), staff_vk
        assert delivered >= 8

        # the two unreachable customers were tried once each and are left alone from now on
        assert shop.telegram.sent(501) == [] and shop.vk.sent(601) == []
        assert len([c for c in shop.telegram.calls if c.params.get("chat_id") == 501]) == 1
        assert len([c for c in shop.vk.calls_to("messages.send") if str(c.params.get("peer_id")) == "601"]) == 1
        assert await engine.unreachable_reason(tg(501)) == "blocked"
        assert await engine.unreachable_reason(vk(601)) == "no_permission"
        async with engine.read() as uow:
            assert await uow.outbox.pending("notify") == [] and await uow.outbox.failures() == []
        assert await engine.dead_letters() == []


async def test_an_unreachable_customer_who_writes_again_hears_the_next_notification(engine):
    async with both_channels(engine) as shop:
        shop.telegram.refuse(501)
        shop.vk.refuse(601)
        await order_ready(engine, tg(501))
        await order_ready(engine, vk(601))
        await shop.relay.run_once()
        assert await engine.unreachable_reason(tg(501)) == "blocked"

        shop.telegram.allow(501)  # unblocked the bot and wrote
        shop.telegram.send_message(501, "/orders")
        await shop.telegram.next_message(501)
        shop.vk.message_new(601, "Привет")  # writing to the community allows its messages
        await shop.vk.next_message(601)
        assert await engine.unreachable_reason(tg(501)) is None
        assert await engine.unreachable_reason(vk(601)) is None

        code, vk_code = await order_ready(engine, tg(501)), await order_ready(engine, vk(601))
        await shop.relay.run_once()
        assert any(code in (m.text or "") for m in shop.telegram.sent(501))
        assert any(vk_code in m.text for m in shop.vk.sent(601))


@pytest.mark.parametrize("kind", ["server", "network"])
async def test_a_transient_failure_is_retried_and_delivered_once(engine, kind):
    async with both_channels(engine, delay=lambda attempts: 0) as shop:
        shop.telegram.fail(502, times=2, kind=kind)
        shop.vk.fail(602, times=1, kind=kind)
        code, vk_code = await order_ready(engine, tg(502)), await order_ready(engine, vk(602))
        await shop.relay.run_once()
        # the staff chats were told at once; the customers' events wait for the next attempt
        assert sum(f"Новый заказ № {code}" in t for t in texts_to(shop.telegram, STAFF_CHAT)) == 1
        assert shop.telegram.sent(502) == []
        await shop.relay.run_once()
        await shop.relay.run_once()
        anna = shop.telegram.sent(502)
        assert [m.photo is not None for m in anna] == [False, True]  # accepted before ready, once each
        boris = shop.vk.sent(602)
        assert len(boris) == 2 and "принят" in boris[0].text.lower() and vk_code in boris[1].text
        # and the staff chats were not told twice by the retries
        assert sum(f"Новый заказ № {code}" in t for t in texts_to(shop.telegram, STAFF_CHAT)) == 1
        assert sum(f"Новый заказ № {vk_code}" in m.text for m in shop.vk.sent(STAFF_PEER)) == 1
        assert await engine.dead_letters() == []


@pytest.mark.slow  # the CLI as a process
async def test_a_dead_letter_is_listed_by_the_cli_and_can_be_retried(tmp_path):
    db = SqliteDatabase(tmp_path / "vitrina.db")
    await db.connect()
    try:
        engine = Engine(db.uow, owners=[OWNER], reader=db.reading, clock=FakeClock())
        await engine.start()
        await seed(engine)
        async with both_channels(engine, max_attempts=2, delay=lambda attempts: 0) as shop:
            shop.telegram.fail(STAFF_CHAT, times=5)
            view = await engine.place_order(tg(502), LATTE, "center")
            await shop.relay.run_once()
            await shop.relay.run_once()
            assert [m.text for m in shop.vk.sent(STAFF_PEER)]  # the VK staff chat was told all the same
            dead = await engine.dead_letters()
            assert [(f.event.type.value, f.attempts) for f in dead] == [("order.placed", 2)]
    finally:
        await db.close()

    listed = vitrina(tmp_path, "outbox", "failed")
    line = next(line for line in listed.stdout.splitlines() if line.startswith(f"{dead[0].event_id}\t"))
    assert "order.placed" in line and "2 attempts" in line and view.order.short_code in line and "server" in line
    retried = vitrina(tmp_path, "outbox", "retry", str(dead[0].event_id))
    assert "tried again" in retried.stdout
    assert "no failed deliveries" in vitrina(tmp_path, "outbox", "failed").stdout
    unknown = vitrina(tmp_path, "outbox", "retry", "999999", check=False)
    assert unknown.returncode == 1 and len(unknown.stderr.strip().splitlines()) == 1
