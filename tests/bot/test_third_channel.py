"""A third channel from ``tests/`` alone runs the whole journey through ``vitrina run``'s wiring: /start from
a QR code, an order in the Mini App signed by that channel, staff told and pressing its buttons, the
customer told at every step, the hand-over at the counter, and the landing page offering the channel."""
from __future__ import annotations

import asyncio
import contextlib

import aiohttp
import pytest
import third_channel
from process import free_port
from shop_fixtures import FakeClock, seed
from third_channel import NAME, photos, sign, texts

import journey.channels
from bot import channels
from bot.runner import run
from bot.settings import load_settings
from journey.channels import register_channel
from journey.engine import Engine
from storage.sqlite import SqliteDatabase

CUSTOMER, STAFF = 501, 900


@pytest.fixture
async def shop(tmp_path, monkeypatch):
    built: list[third_channel.WebChatChannel] = []
    monkeypatch.setattr(journey.channels, "_REGISTERED", set(journey.channels._REGISTERED))
    monkeypatch.setitem(channels.REGISTRY, NAME, third_channel.kind(built))
    register_channel(NAME)  # as bot.channels.register does
    monkeypatch.setenv("VITRINA_WEBCHAT__TOKEN", "t0ken")
    port = free_port()
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'shop.db'}", owners=f"{NAME}:{STAFF}",
                             webapp={"port": port, "public_url": "https://coffee.example"},
                             privacy={"ask_consent": False})  # as tests/bot/cli.py: no consent step here
    db = SqliteDatabase(tmp_path / "shop.db")
    await db.connect()
    clock = FakeClock()
    engine = Engine(db.uow, owners=settings.owners, clock=clock, reader=db.reading)
    await engine.start()
    await seed(engine)
    stop = asyncio.Event()
    serving = asyncio.create_task(run(engine, settings, stop))
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
        for _ in range(200):  # until the server answers
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get("/api/config") as answer:
                    if answer.status == 200:
                        break
            await asyncio.sleep(0.05)
        yield http, built[0], clock
    stop.set()
    await asyncio.wait_for(serving, 10)
    assert built[0].stopped
    await db.close()


async def said(channel: third_channel.WebChatChannel, chat: int, count: int) -> list[str]:
    """Wait until the chat has at least ``count`` messages (the relay delivers in the background)."""
    async def enough() -> None:
        while len(channel.messenger.inbox[str(chat)]) < count:
            channel.messenger.arrived.clear()
            await channel.messenger.arrived.wait()
    await asyncio.wait_for(enough(), 10)
    return texts(channel.messenger.inbox[str(chat)])


async def test_a_third_channel_runs_the_journey_from_start_to_pickup(shop):
    http, channel, clock = shop
    assert channel.started
    async with http.get("/api/config") as answer:
        config = await answer.json()
    assert config["demo"] is False and config["channels"]["webchat"]["scheme"] == "webchat"

    async with http.post("/webchat/hook", json={"update": 1, "user": CUSTOMER, "name": "Аня",
                                               "text": "/start pcenter"}) as hook:
        assert hook.status == 200, await hook.text()
    greeting = (await said(channel, CUSTOMER, 1))[0]
    assert "Аня" in greeting and "Центр" in greeting

    ts = int(clock.now().timestamp())
    customer = {"Authorization": f"webchat {sign(CUSTOMER, ts)}"}
    staff = {"Authorization": f"webchat {sign(STAFF, ts)}"}
    async with http.post("/api/orders", headers=customer, json={
            "point": "center", "lines": [{"item": "croissant", "quantity": 2}]}) as placed:
        assert placed.status == 201, await placed.text()
        order = await placed.json()
    async with http.get("/api/me", headers=customer) as me:
        assert (await me.json())["channels"] == [{"channel": "webchat", "id": str(CUSTOMER)}]

    new_order = (await said(channel, STAFF, 1))[0]
    assert order["short_code"] in new_order
    for step, (action, told) in enumerate((("accept", "принят"), ("ready", "готов")), start=2):
        async with http.post("/webchat/hook", json={"update": step * 10, "user": STAFF, "action": action,
                                                   "id": order["id"]}):
            pass
        assert told in (await said(channel, CUSTOMER, step))[-1]
    assert photos(channel.messenger.inbox[str(CUSTOMER)])  # the "ready" message carries the pickup QR

    async with http.post("/api/staff/handover", headers=staff,
                         json={"code": order["short_code"], "point": "center"}) as handed:
        assert (await handed.json())["status"] == "picked_up"
    assert "балл" in (await said(channel, CUSTOMER, 4))[-1]

    async with http.get("/go/pcenter") as landing:
        assert "https://chat.example/?start=pcenter" in await landing.text()
    async with http.get("/api/me", headers={"Authorization": f"webchat {sign(CUSTOMER, ts - 10**6)}"}) as stale:
        assert stale.status == 401
    async with http.get("/api/me", headers={"Authorization": "demo staff"}) as demo:
        assert demo.status == 401  # a configured channel means no demo
