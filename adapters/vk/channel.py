"""The VK channel: the community bot (Bots Long Poll or the Callback API) feeding the channel-neutral
conversation, its messenger, and the VK Mini App check, behind the one ``ChannelAdapter`` shape.

``handle`` (the conversation), ``claim``, ``finish`` and ``release`` (de-duplication by ``event_id``) are
injected by the composition root. vkbottle reads its API address from the class attribute ``API.API_URL``. A shop may
run the VK Mini App alone (an app secret, no community token): then there is no bot and no messenger.

Several instances: with the Callback API (``callback_secret`` set) any instance may get any event and
answer VK's server confirmation with the same code; an event is handled before the answer, "ok" once it is
handled or was before (the claim makes a repeat a no-op), 503 while another instance handles it (its lease
is fresh: ``UpdateBusy``), 500 after its claim was released when handling failed, so VK sends it again,
perhaps to another instance. Long polling is for one instance: every
instance polling the community would get every event. Built with ``receive=False`` (``vitrina run --only
webapp``) the channel checks the token and neither polls nor serves the callback.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from aiohttp import ClientError, web
from vkbottle import API
from vkbottle.exception_factory import VKAPIError
from vkbottle.polling import BotPolling

from journey.channels import Channel, ChannelError, CustomerRef, DeliveryError, Inbound, Reply, Route, UpdateBusy

from ..download import fetch
from .callback import VkCallback
from .invitations import VkInvitations  # regulars
from .launch import VkMiniApp
from .messenger import VkMessenger
from .translate import CAPABILITIES, from_message_event, from_message_new

log = logging.getLogger(__name__)
CALLBACK_PATH = "/vk/callback"
ENGLISH = 3  # client_info.lang_id
AUTH_FAILED = 5


class _Polling(BotPolling):
    """vkbottle's long poll, without the file it writes into the working directory after every event
    (we de-duplicate by event_id in the database instead)."""

    def save_server_ts(self, server: dict[str, Any]) -> None:
        pass


class VkChannel:
    channel = Channel.VK
    capabilities = CAPABILITIES

    def __init__(self, token: str | None, group_id: int | None, *,
                 handle: Callable[[Inbound], Awaitable[list[Reply]]], claim: Callable[[str], Awaitable[bool]],
                 release: Callable[[str], Awaitable[None]] | None = None,
                 finish: Callable[[str], Awaitable[None]] | None = None, receive: bool = True,
                 api_base: str = "https://api.vk.com/method/", app_id: int | None = None,
                 app_secret: str | None = None, callback_secret: str | None = None, confirmation_code: str = "",
                 staff_peer_id: int | None = None, regulars_chat_link: str = "") -> None:
        API.API_URL = api_base if api_base.endswith("/") else api_base + "/"
        self.api_base = api_base
        self.group_id = group_id
        self.handle = handle
        self.claim = claim
        self.release = release
        self.finish = finish
        self.receive = receive
        self.callback = VkCallback(group_id, callback_secret, confirmation_code) \
            if callback_secret and receive else None
        self.api = API(token) if token else None
        self.messenger = VkMessenger(self.api, app_id, group_id) if self.api else None
        self.polling = _Polling(self.api, group_id) if self.api and receive and not callback_secret else None
        self.mini_app = VkMiniApp(app_id, app_secret, group_id) if app_secret else None
        self.staff_chats = (CustomerRef(Channel.VK, str(staff_peer_id)),) if staff_peer_id and self.api else ()
        # regulars: the closed chat's link, for the notifier to send (ports.ChatInvitations)
        self.invitations = VkInvitations(regulars_chat_link) if regulars_chat_link and self.api else None
        self._tasks: set[asyncio.Task] = set()

    def describe(self) -> str:
        return f"VK club{self.group_id}" if self.api else "VK Mini App"

    @property
    def polls(self) -> bool:
        """Receives events by Bots Long Poll (one instance at a time), not through the Callback API."""
        return self.polling is not None

    # --- events ------------------------------------------------------------------------------------

    async def handle_event(self, event: dict[str, Any]) -> None:
        """One community event from long poll. Never raises."""
        try:
            await self._handle_event(event)
        except Exception:
            log.exception("VK event %s failed", event.get("event_id"))

    async def _handle_event(self, event: dict[str, Any]) -> None:
        """Claim, handle, mark handled, reply. A failure before the replies releases the claim and raises (the
        callback answers 500 and VK sends the event again); a reply that cannot be delivered is logged, as
        the event was handled and handling it again would do its deed twice. ``UpdateBusy`` from the claim
        passes on (503)."""
        assert self.api is not None and self.messenger is not None, "events come only to a community bot"
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "message_new":
            language = "en" if (obj.get("client_info") or {}).get("lang_id") == ENGLISH else "ru"
            inbound = from_message_new(event, language, fetch)
            peer = (obj.get("message") or {}).get("peer_id")
        elif kind == "message_event":
            inbound = from_message_event(event)
            peer = obj.get("peer_id")
        else:
            return
        if inbound is None or not isinstance(peer, int):
            # its fields' names only: the event carries what the person wrote, and who they are
            log.warning("VK %s event %s not understood, ignored (fields: %s)", kind, event.get("event_id"),
                        ", ".join(sorted(event.get("object") or {})) if isinstance(event.get("object"), dict) else "-")
            return
        if not await self.claim(inbound.update_id):
            log.info("VK event %s seen before: skipped", inbound.update_id)
            return
        try:
            if kind == "message_event":  # stop the button's spinner at once (once: a redelivery was answered)
                await self._answer_button(obj, peer)
            if inbound.command == "start":
                inbound = await self._with_name(inbound)
            replies = await self.handle(inbound)
        except BaseException:  # a stopping instance's cancellation too: another instance gets the repeat
            await self._release(inbound.update_id)
            raise
        if self.finish is not None:
            try:
                await self.finish(inbound.update_id)
            except Exception:  # handled all the same: answered "ok", so no repeat comes to be handled twice
                log.exception("VK event %s handled but not recorded so", inbound.update_id)
        to = CustomerRef(Channel.VK, str(peer))
        for n, reply in enumerate(replies):
            try:
                await self.messenger.send(to, reply, key=f"{inbound.update_id}:{n}")
            except DeliveryError as e:
                log.warning("the reply to VK event %s did not reach %s: %s", inbound.update_id, to.key, e)

    async def _answer_button(self, obj: dict[str, Any], peer: int) -> None:
        """Stop the pressed button's spinner; VK stops it itself after a while, so a failure is only logged."""
        assert self.api is not None
        try:
            await self.api.request("messages.sendMessageEventAnswer", {
                "event_id": obj.get("event_id"), "user_id": obj.get("user_id"), "peer_id": peer})
        except (VKAPIError, ClientError, TimeoutError, OSError) as e:
            log.warning("messages.sendMessageEventAnswer for %s failed: %r", obj.get("event_id"), e)

    async def _release(self, event_id: str) -> None:
        if self.release is None:
            return
        try:
            await self.release(event_id)
        except Exception:
            log.exception("VK event %s could not be released: its repeat waits for the lease", event_id)

    async def _with_name(self, inbound: Inbound) -> Inbound:
        assert self.api is not None
        try:
            users = (await self.api.request("users.get", {"user_ids": inbound.sender.external_id}))["response"]
            name = users[0].get("first_name", "") if users else ""
        except Exception:
            name = ""
        return replace(inbound, sender=replace(inbound.sender, name=name))

    def _spawn(self, event: dict[str, Any]) -> None:
        task = asyncio.create_task(self.handle_event(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- lifecycle ---------------------------------------------------------------------------------

    def routes(self) -> Sequence[Route]:
        return (Route("POST", CALLBACK_PATH, self._callback),) if self.api and self.callback else ()

    async def start(self) -> None:
        """Check the community token against the community id (nothing to check for the Mini App alone).
        Nothing is set at VK: the Callback API's server is confirmed by whichever instance VK asks."""
        if self.api is None:
            return
        try:
            answer = (await self.api.request("groups.getById", {}))["response"]
        except VKAPIError[AUTH_FAILED]:
            raise ChannelError("VK refused the community token (invalid access_token): create a new one in "
                               "the community's settings, API usage", "token") from None
        except VKAPIError as e:
            raise ChannelError(f"VK refused the community token: {e.error_msg}", "token") from None
        except (ClientError, TimeoutError, OSError) as e:
            raise ChannelError(f"cannot reach the VK API at {self.api_base}: {e!r}", "api_base") from None
        groups = answer.get("groups", answer) if isinstance(answer, dict) else answer
        ids = [g.get("id") for g in groups if isinstance(g, dict)] if isinstance(groups, list) else []
        if ids and self.group_id not in ids:
            raise ChannelError(f"the token belongs to community {ids[0]}, not {self.group_id}", "group_id")

    async def run(self) -> None:
        """Bots Long Poll until ``stop``; with the Callback API events arrive through ``routes`` instead."""
        if self.polling is None:
            return
        async for response in self.polling.listen():
            for event in response.get("updates", []):
                self._spawn(event)

    async def stop(self) -> None:
        if self.polling is not None:
            self.polling.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.api is not None:
            await self.api.http_client.close()

    # --- Callback API ------------------------------------------------------------------------------

    async def _callback(self, request: web.Request) -> web.Response:
        """Confirm the server, check the secret in constant time (``VkCallback``: any malformed call is a
        4xx), handle the event, then answer "ok"; 500 when handling failed, for VK to send it again."""
        assert self.callback is not None
        event = await self.callback.check(request)
        if isinstance(event, web.Response):
            return event
        try:
            await self._handle_event(event)
        except UpdateBusy as busy:
            log.info("VK event %s: %s; answered 503", event.get("event_id"), busy)
            return web.Response(status=503, text="being handled: send it again later")
        except Exception:
            log.exception("VK event %s failed: answered 500 for VK to send it again", event.get("event_id"))
            return web.Response(status=500, text="the event was not handled: send it again")
        return web.Response(text="ok")
