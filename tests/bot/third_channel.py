"""A third messenger that lives only in the tests: a web chat with a JSON webhook and a signed Mini App
launch. It implements the whole ``ChannelAdapter`` and is registered by name, the way a MAX or a web-chat
adapter would be, to prove that a channel needs no change to ``journey``, ``storage`` or ``webapp``."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.channels import ChannelKind, Wiring
from journey.channels import (
    Capabilities,
    Channel,
    ChannelError,
    CustomerRef,
    Inbound,
    LandingLink,
    Launch,
    Photo,
    Reply,
    Route,
    Text,
    degrade,
)
from journey.launch import check_age, refused

NAME = Channel("webchat")
SECRET = "webchat-secret"
CAPABILITIES = Capabilities(inline_buttons=True, mini_app_buttons=False, photos=True, invoices=False, max_text=2000)


def sign(user_id: int, ts: int) -> str:
    """Launch data as the web chat's widget would pass it to the Mini App: ``<user>.<ts>.<hmac>``."""
    mac = hmac.new(SECRET.encode(), f"{user_id}.{ts}".encode(), hashlib.sha256).hexdigest()
    return f"{user_id}.{ts}.{mac}"


class WebChatMiniApp:
    channel = NAME
    scheme = "webchat"

    def check(self, launch: str, now: datetime, max_age: int) -> Launch:
        user, _, rest = launch.partition(".")
        ts, _, mac = rest.partition(".")
        if not (user.isdigit() and ts.isdigit()):
            raise refused("malformed web chat launch")
        expected = sign(int(user), int(ts)).rsplit(".", 1)[1]
        if not hmac.compare_digest(expected.encode(), mac.encode()):
            raise refused("bad web chat signature")
        check_age(int(ts), now, max_age)
        return Launch(CustomerRef(NAME, user, f"Гость {user}"))

    def landing_link(self, param: str) -> LandingLink | None:
        return LandingLink(f"https://chat.example/?start={param}", "Открыть в веб-чате", "Open in the web chat",
                           "#5b3cc4")

    def public(self) -> dict[str, str | int | None]:
        return {"widget": "https://chat.example/widget.js"}


class WebChatMessenger:
    channel = NAME

    def __init__(self) -> None:
        self.inbox: dict[str, list[Reply]] = defaultdict(list)  # what each chat was sent, in order
        self.arrived = asyncio.Event()

    async def send(self, to: CustomerRef, reply: Reply, key: str = "") -> None:
        self.inbox[to.external_id].append(degrade(reply, CAPABILITIES))
        self.arrived.set()


class WebChatChannel:
    channel = NAME
    capabilities = CAPABILITIES

    def __init__(self, wiring: Wiring, token: str, staff_chat: str) -> None:
        if not token:
            raise ChannelError("the web chat needs its token", "token")
        self.wiring = wiring
        self.messenger = WebChatMessenger()
        self.mini_app = WebChatMiniApp()
        self.staff_chats: Sequence[CustomerRef] = (CustomerRef(NAME, staff_chat),)
        self.started = self.stopped = False
        self._stop = asyncio.Event()

    def describe(self) -> str:
        return "web chat"

    def routes(self) -> Sequence[Route]:
        return (Route("POST", "/webchat/hook", self._hook),)

    async def _hook(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        sender = CustomerRef(NAME, str(body["user"]), str(body.get("name", "")))
        text = str(body.get("text", ""))
        command, _, argument = text[1:].partition(" ") if text.startswith("/") else (None, "", "")
        inbound = Inbound(sender, text=text, command=command, argument=argument.strip(), action=body.get("action"),
                          payload={"id": body["id"]} if "id" in body else {}, update_id=str(body["update"]))
        if await self.wiring.claim(NAME, inbound.update_id):
            for reply in await self.wiring.handle(inbound):
                await self.messenger.send(sender, reply)
        return web.json_response({"ok": True})

    async def start(self) -> None:
        self.started = True

    async def run(self) -> None:
        await self._stop.wait()

    async def stop(self) -> None:
        self._stop.set()
        self.stopped = True


def kind(built: list[WebChatChannel]) -> ChannelKind:
    """The registry entry: configured by its own settings block (here a plain environment variable)."""
    import os

    def build(settings: Any, wiring: Wiring) -> WebChatChannel:
        channel = WebChatChannel(wiring, os.environ.get("VITRINA_WEBCHAT__TOKEN", ""), staff_chat="900")
        built.append(channel)
        return channel

    return ChannelKind("webchat", "webchat", lambda settings: "VITRINA_WEBCHAT__TOKEN" in os.environ, build)


def texts(replies: list[Reply]) -> list[str]:
    return [r.text if isinstance(r, Text) else r.caption for r in replies]


def photos(replies: list[Reply]) -> list[Photo]:
    return [r for r in replies if isinstance(r, Photo)]
