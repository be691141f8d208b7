"""The VK community bot: Bots Long Poll or the Callback API feeding the channel-neutral conversation.

``handle`` (the conversation) and ``claim`` (de-duplication by ``event_id``) are injected by the
composition root. vkbottle reads its API address from the class attribute ``API.API_URL``.
"""
from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from vkbottle import API
from vkbottle.polling import BotPolling

from journey.channels import Channel, CustomerRef, Inbound, Reply

from .messenger import VkMessenger
from .translate import from_message_event, from_message_new

log = logging.getLogger(__name__)
CALLBACK_PATH = "/vk/callback"
ENGLISH = 3  # client_info.lang_id


class _Polling(BotPolling):
    """vkbottle's long poll, without the file it writes into the working directory after every event
    (we de-duplicate by event_id in the database instead)."""

    def save_server_ts(self, server: dict[str, Any]) -> None:
        pass


class VkChannel:
    def __init__(self, token: str, group_id: int, *, handle: Callable[[Inbound], Awaitable[list[Reply]]],
                 claim: Callable[[str], Awaitable[bool]], api_base: str = "https://api.vk.com/method/",
                 app_id: int | None = None, callback_secret: str | None = None,
                 confirmation_code: str = "") -> None:
        API.API_URL = api_base if api_base.endswith("/") else api_base + "/"
        self.api = API(token)
        self.group_id = group_id
        self.handle = handle
        self.claim = claim
        self.callback_secret = callback_secret
        self.confirmation_code = confirmation_code
        self.messenger = VkMessenger(self.api, app_id, group_id)
        self.polling = _Polling(self.api, group_id)
        self._tasks: set[asyncio.Task] = set()

    # --- events ------------------------------------------------------------------------------------

    async def handle_event(self, event: dict[str, Any]) -> None:
        """One community event, from long poll or the Callback API. Never raises."""
        try:
            await self._handle_event(event)
        except Exception:
            log.exception("VK event %s failed", event.get("event_id"))

    async def _handle_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "message_new":
            language = "en" if (obj.get("client_info") or {}).get("lang_id") == ENGLISH else "ru"
            inbound = from_message_new(event, language)
            peer = (obj.get("message") or {}).get("peer_id")
        elif kind == "message_event":
            inbound = from_message_event(event)
            peer = obj.get("peer_id")
            if inbound is not None:  # stop the button's spinner at once
                await self.api.request("messages.sendMessageEventAnswer", {
                    "event_id": obj.get("event_id"), "user_id": obj.get("user_id"), "peer_id": peer})
        else:
            return
        if inbound is None or not isinstance(peer, int):
            log.warning("VK %s event not understood, ignored: %.200r", kind, event)
            return
        if not await self.claim(inbound.update_id):
            log.info("VK event %s seen before: skipped", inbound.update_id)
            return
        if inbound.command == "start":
            inbound = await self._with_name(inbound)
        for n, reply in enumerate(await self.handle(inbound)):
            await self.messenger.send(CustomerRef(Channel.VK, str(peer)), reply, key=f"{inbound.update_id}:{n}")

    async def _with_name(self, inbound: Inbound) -> Inbound:
        try:
            users = (await self.api.request("users.get", {"user_ids": inbound.sender.external_id}))["response"]
            name = users[0].get("first_name", "") if users else ""
        except Exception:
            name = ""
        sender = CustomerRef(inbound.sender.channel, inbound.sender.external_id, name, inbound.sender.language)
        return Inbound(sender, inbound.text, inbound.command, inbound.argument, inbound.action, inbound.payload,
                       inbound.update_id, inbound.raw)

    def _spawn(self, event: dict[str, Any]) -> None:
        task = asyncio.create_task(self.handle_event(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- Bots Long Poll ----------------------------------------------------------------------------

    async def run_polling(self) -> None:
        async for response in self.polling.listen():
            for event in response.get("updates", []):
                self._spawn(event)

    def stop_polling(self) -> None:
        self.polling.stop()

    # --- Callback API ------------------------------------------------------------------------------

    def mount_callback(self, app: web.Application) -> None:
        app.router.add_post(CALLBACK_PATH, self._callback)

    async def _callback(self, request: web.Request) -> web.Response:
        """Confirm the server, check the secret in constant time, answer "ok" at once and work after."""
        try:
            event = await request.json()
            assert isinstance(event, dict)
        except Exception:
            return web.Response(status=400, text="bad request")
        if event.get("type") == "confirmation":
            if event.get("group_id") != self.group_id:
                return web.Response(status=403, text="wrong group")
            return web.Response(text=self.confirmation_code)
        given = str(event.get("secret", "")).encode()
        if not self.callback_secret or not hmac.compare_digest(given, self.callback_secret.encode()):
            log.warning("VK callback with a wrong secret refused")
            return web.Response(status=403, text="forbidden")
        self._spawn(event)
        return web.Response(text="ok")

    async def close(self) -> None:
        self.stop_polling()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.api.http_client.close()
