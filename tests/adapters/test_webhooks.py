"""Webhooks answer whatever the internet sends with a 4xx, never a 500, and still serve the real thing.

The Telegram webhook guard is mounted on an aiohttp test app with a real aiogram Dispatcher and Bot pointed
at the fake Bot API; the VK Callback API guard on its own route. Each gets a table of hostile headers and
bodies (sent as raw bytes where an HTTP client would refuse to send them) and generated ones, and a refused
call changes nothing: no update reaches the dispatcher, no message is sent.
"""
from __future__ import annotations

import asyncio
import json
import time

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from aiohttp import web
from fake_telegram import FakeTelegram
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.telegram.webhook import SECRET_HEADER, TelegramWebhook
from adapters.vk.callback import VkCallback
from adapters.webhook_guard import Refusal, parse_object

SECRET = "s3cret-Token_42"
PATH = "/telegram/webhook"
VK_PATH = "/vk/callback"
GOOD = {SECRET_HEADER: SECRET}


def update(update_id: int = 1, text: str = "/help", chat: int = 300) -> dict:
    return {"update_id": update_id, "message": {"message_id": 1, "date": int(time.time()), "text": text,
                                                "chat": {"id": chat, "type": "private"},
                                                "from": {"id": chat, "is_bot": False, "first_name": "Ира"}}}


def nested(depth: int) -> bytes:
    return b'{"update_id": 1, "message": ' + b"[" * depth + b"]" * depth + b"}"


class Shop:
    """A Telegram bot behind the guard: it echoes every message it is fed."""

    def __init__(self, fake: FakeTelegram, max_bytes: int) -> None:
        self.fake = fake
        self.bot = Bot(fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
        self.dispatcher = Dispatcher()
        self.fed: list[int] = []
        self.dispatcher.message.register(self._echo)
        self.webhook = TelegramWebhook(self.dispatcher, self.bot, SECRET, max_bytes=max_bytes)
        self.vk_events: list[dict] = []
        self.vk = VkCallback(7, "vk-secret", "a1b2c3", max_bytes=max_bytes)

    async def _echo(self, message: Message) -> None:
        self.fed.append(message.message_id)
        await message.answer(f"echo: {message.text}")

    async def vk_handler(self, request: web.Request) -> web.Response:
        checked = await self.vk.check(request)
        if isinstance(checked, web.Response):
            return checked
        self.vk_events.append(checked)
        return web.Response(text="ok")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(PATH, self.webhook.handle)
        app.router.add_post(VK_PATH, self.vk_handler)
        return app


@pytest.fixture
async def shop(aiohttp_client):
    async with FakeTelegram() as fake:
        shop = Shop(fake, max_bytes=64 * 1024)
        shop.client = await aiohttp_client(shop.app())
        yield shop
        await shop.bot.session.close()


async def raw(shop, head: bytes, body: bytes = b"") -> int:
    """Send bytes no HTTP client would: the status line of the answer, or 0 if the server hung up."""
    reader, writer = await asyncio.open_connection(shop.client.server.host, shop.client.server.port)
    try:
        writer.write(head + b"\r\nHost: x\r\nConnection: close\r\n\r\n" + body)
        await writer.drain()
        line = await reader.readline()
        return int(line.split()[1]) if line else 0
    finally:
        writer.close()


async def nothing_reached_the_bot(shop) -> None:
    # an update is handled before its call is answered: a refused call fed nothing
    assert shop.fed == [] and shop.fake.sent(300) == []


# --- Telegram -------------------------------------------------------------------------------------

async def test_a_good_update_reaches_the_bot_before_it_is_answered(shop):
    answer = await shop.client.post(PATH, json=update(text="привет"), headers=GOOD)
    assert answer.status == 200 and await answer.json() == {}
    assert shop.fed == [1] and [m.text for m in shop.fake.sent(300)] == ["echo: привет"]


async def test_an_update_whose_handling_fails_is_answered_500_for_telegram_to_send_it_again(shop):
    shop.fake.break_method("sendMessage", status=400)  # the echo fails: the handler raises
    answer = await shop.client.post(PATH, json=update(text="раз"), headers=GOOD)
    assert answer.status == 500 and (await answer.json())["error"] == "failed"
    again = await shop.client.post(PATH, json=update(text="раз"), headers=GOOD)
    assert again.status == 200 and shop.fed == [1, 1]
    assert [m.text for m in shop.fake.sent(300)] == ["echo: раз"]


@pytest.mark.parametrize("headers", [
    {}, {SECRET_HEADER: ""}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET[:-1]},
    {SECRET_HEADER: SECRET + "x"}, {SECRET_HEADER: "секрет"}, {SECRET_HEADER: SECRET.upper()},
    {SECRET_HEADER: "x" * 4000},
], ids=["missing", "empty", "wrong", "prefix", "longer", "cyrillic", "case", "long"])
async def test_a_missing_or_wrong_secret_is_401_and_the_body_is_not_read(shop, headers):
    answer = await shop.client.post(PATH, json=update(), headers=headers)
    assert answer.status == 401
    assert (await answer.json())["error"] == "unauthorized"
    await nothing_reached_the_bot(shop)


@pytest.mark.parametrize(("value", "status"), [
    (b"\xff\xfe", 401), ("сек".encode(), 401), (SECRET.encode() + b"\xc3", 401), (b"\x80" * 300, 401),
    (SECRET.encode("utf-16-le"), 400),  # NUL bytes: aiohttp's parser refuses the request before any handler
], ids=["latin1", "utf8", "secret+broken", "high bytes", "utf16"])
async def test_a_secret_header_in_any_bytes_is_refused(shop, value, status):
    body = json.dumps(update()).encode()
    head = (f"POST {PATH} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            ).encode() + SECRET_HEADER.encode() + b": " + value
    assert await raw(shop, head, body) == status
    await nothing_reached_the_bot(shop)


HOSTILE_BODIES = {
    "empty": b"",
    "blank": b"  \n",
    "truncated": json.dumps(update()).encode()[:40],
    "not utf-8": b'{"update_id": 1, "message": "\xff\xfe"}',
    "utf-16": json.dumps(update()).encode("utf-16"),
    "bom": b"\xef\xbb\xbf" + json.dumps(update()).encode(),
    "deep array": nested(30_000),
    "deep object": b'{"update_id": 1, "x": ' + b'{"a":' * 10_000 + b"1" + b"}" * 10_000 + b"}",
    "a bit too deep": nested(40),
    "array": b"[]",
    "string": b'"update"',
    "number": b"42",
    "null": b"null",
    "nan": b'{"update_id": NaN}',
    "infinity": b'{"update_id": 1, "message": {"message_id": Infinity}}',
    "huge int": b'{"update_id": 1' + b"0" * 5000 + b"}",
    "no update_id": b'{"message": {}}',
    "update_id string": b'{"update_id": "1"}',
    "update_id negative": b'{"update_id": -5}',
    "update_id bool": b'{"update_id": true}',
    "update_id float": b'{"update_id": 1.5}',
    "message a string": b'{"update_id": 1, "message": "hello"}',
    "message without chat": b'{"update_id": 1, "message": {"message_id": 1, "date": 0}}',
    "date a dict": json.dumps({**update(), "message": {**update()["message"], "date": {"a": 1}}}).encode(),
    "chat id huge": json.dumps({**update(), "message": {**update()["message"], "chat": {"id": 10**30}}}).encode(),
    "trailing garbage": json.dumps(update()).encode() + b"}}",
    "two objects": json.dumps(update()).encode() * 2,
    "control chars": b'{"update_id": 1, "message": "\x00\x01"}',
}


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
async def test_a_body_of_any_shape_with_the_right_secret_is_400(shop, body):
    answer = await shop.client.post(PATH, data=body, headers={**GOOD, "Content-Type": "application/json"})
    assert answer.status == 400, await answer.text()
    refused = await answer.json()
    assert refused["error"] == "bad_request" and refused["message"]
    await nothing_reached_the_bot(shop)


async def test_a_body_over_the_cap_is_413_announced_or_streamed(shop):
    big = b'{"update_id": 1, "pad": "' + b"x" * (70 * 1024) + b'"}'
    answer = await shop.client.post(PATH, data=big, headers=GOOD)
    assert answer.status == 413

    async def stream():
        for _ in range(80):
            yield b"x" * 1024

    answer = await shop.client.post(PATH, data=stream(), headers=GOOD)  # chunked: no length announced
    assert answer.status == 413
    await nothing_reached_the_bot(shop)


async def test_a_body_that_breaks_off_is_refused_quietly(shop):
    head = (f"POST {PATH} HTTP/1.1\r\nContent-Length: 500\r\n{SECRET_HEADER}: {SECRET}").encode()
    _, writer = await asyncio.open_connection(shop.client.server.host, shop.client.server.port)
    writer.write(head + b"\r\nHost: x\r\n\r\n" + b'{"update_id": 1, "mess')
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    assert await raw(shop, f"POST {PATH} HTTP/1.1\r\nContent-Length: 0".encode()) == 401  # still serving
    await nothing_reached_the_bot(shop)


async def test_after_all_that_a_good_update_still_gets_through(shop):
    for body in list(HOSTILE_BODIES.values())[:6]:
        await shop.client.post(PATH, data=body, headers=GOOD)
    await shop.client.post(PATH, json=update(), headers={SECRET_HEADER: "wrong"})
    assert (await shop.client.post(PATH, json=update(5, "ещё"), headers=GOOD)).status == 200
    assert (await shop.fake.next_message(300)).text == "echo: ещё"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=st.one_of(st.binary(max_size=300),
                      st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                                   | st.text(max_size=20),
                                   lambda inner: st.lists(inner, max_size=4)
                                   | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                                   max_leaves=30).map(lambda v: json.dumps(v).encode())))
async def test_generated_bodies_are_answered_4xx_or_200(shop, body):
    answer = await shop.client.post(PATH, data=body, headers=GOOD)
    assert answer.status in (200, 400), (answer.status, body)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=500) | st.text(max_size=200).map(str.encode))
def test_the_parser_either_gives_an_object_or_refuses_with_a_4xx(body):
    try:
        parsed = parse_object(body)
    except Refusal as refusal:
        assert 400 <= refusal.status < 500
    else:
        assert isinstance(parsed, dict)


# --- VK Callback API ------------------------------------------------------------------------------

VK_EVENT = {"type": "message_new", "group_id": 7, "event_id": "e1", "v": "5.199", "secret": "vk-secret",
            "object": {"message": {"from_id": 42, "peer_id": 42, "id": 1, "text": "привет", "date": 0}}}


async def test_vk_confirmation_and_a_good_event(shop):
    confirm = await shop.client.post(VK_PATH, json={"type": "confirmation", "group_id": 7})
    assert await confirm.text() == "a1b2c3"
    answer = await shop.client.post(VK_PATH, json=VK_EVENT)
    assert await answer.text() == "ok" and shop.vk_events == [VK_EVENT]


VK_REFUSED = {
    "confirmation of another community": (403, {"type": "confirmation", "group_id": 8}),
    "confirmation with the id as text": (403, {"type": "confirmation", "group_id": "7"}),
    "confirmation with true": (403, {"type": "confirmation", "group_id": True}),
    "no secret": (403, {k: v for k, v in VK_EVENT.items() if k != "secret"}),
    "wrong secret": (403, {**VK_EVENT, "secret": "nope"}),
    "cyrillic secret": (403, {**VK_EVENT, "secret": "секрет"}),
    "secret a list": (403, {**VK_EVENT, "secret": ["vk-secret"]}),
    "secret a number": (403, {**VK_EVENT, "secret": 1}),
    "another community": (403, {**VK_EVENT, "group_id": 8}),
    "no type": (400, {k: v for k, v in VK_EVENT.items() if k != "type"}),
    "type a dict": (400, {**VK_EVENT, "type": {"a": 1}}),
    "object a list": (400, {**VK_EVENT, "object": [1, 2]}),
}


@pytest.mark.parametrize(("status", "event"), VK_REFUSED.values(), ids=VK_REFUSED.keys())
async def test_vk_refuses_what_is_not_an_event_of_this_community(shop, status, event):
    answer = await shop.client.post(VK_PATH, json=event)
    assert answer.status == status and (await answer.json())["error"] in ("forbidden", "bad_request")
    assert shop.vk_events == []


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
async def test_vk_answers_a_body_of_any_shape_with_a_4xx(shop, body):
    answer = await shop.client.post(VK_PATH, data=body)
    assert answer.status in (400, 403)
    assert shop.vk_events == []


async def test_vk_refuses_a_body_over_the_cap(shop):
    answer = await shop.client.post(VK_PATH, data=b"x" * (65 * 1024))
    assert answer.status == 413 and shop.vk_events == []
