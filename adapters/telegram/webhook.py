"""Telegram's webhook calls, checked before aiogram sees them.

aiogram's ``SimpleRequestHandler`` answers 500 to a secret header with non-ASCII characters (its
``compare_digest`` on ``str``) and to any body that is not a valid update; here every such call is a 4xx:
401 for a missing or wrong ``X-Telegram-Bot-Api-Secret-Token``, 413 for a body over the cap, 400 for an
empty, cut, non-UTF-8, non-JSON or too deeply nested body or one that is not an ``Update``.

A good update is fed to the dispatcher before the answer (``SimpleRequestHandler`` with
``handle_in_background=False``): 200 once it is handled, or a repeat this or another instance already
handled; 503 while another instance handles it; 500 when handling failed, after the channel released the
update's claim, so Telegram sends it again (to this instance or, behind a load balancer, another) rather
than the update being lost with a 200. An instance stopping finishes the calls in flight (the server's
shutdown waits for them); one cut off mid-way is released the same way and never answered, so Telegram
sends it again too. One killed outright leaves its lease on the update, which a repeat takes over once it
lapses.
"""
from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from journey.channels import UpdateBusy

from ..webhook_guard import MAX_BODY, MAX_DEPTH, Refusal, read_object, secret_matches

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class TelegramWebhook:
    """``handle`` is the aiohttp handler for ``POST /telegram/webhook``."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, secret: str | None, *, max_bytes: int = MAX_BODY,
                 max_depth: int = MAX_DEPTH) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.secret = secret  # without one every call is refused: settings require it with a webhook
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def handle(self, request: web.Request) -> web.Response:
        try:
            update = await self.check(request)
        except Refusal as refusal:
            log.warning("telegram webhook call refused (%d): %s", refusal.status, refusal)
            return refusal.response()
        try:
            await self.dispatcher.feed_update(self.bot, update)
        except UpdateBusy as busy:
            log.info("telegram update %s: %s; answered 503", update.update_id, busy)
            return web.json_response({"error": "busy", "message": "being handled: send it again later"},
                                     status=503)
        except Exception:
            log.exception("telegram update %s failed: answered 500 for Telegram to send it again",
                          update.update_id)
            return web.json_response({"error": "failed", "message": "the update was not handled: send it again"},
                                     status=500)
        return web.json_response({})

    async def check(self, request: web.Request) -> Update:
        """The update the request carries; raises ``Refusal`` for anything else (the body unread when the
        secret is wrong)."""
        if not secret_matches(request.headers.get(SECRET_HEADER), self.secret):
            raise Refusal(401, "unauthorized", f"missing or wrong {SECRET_HEADER}")
        data = await read_object(request, max_bytes=self.max_bytes, max_depth=self.max_depth)
        return parse_update(data, self.bot)


def parse_update(data: dict[str, Any], bot: Bot) -> Update:
    """A JSON object as an aiogram ``Update`` bound to ``bot``, or a 400."""
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool) or update_id < 0:
        raise Refusal(400, "bad_request", "update_id is not a whole number")
    try:
        return Update.model_validate(data, context={"bot": bot})
    except (ValidationError, ValueError, TypeError, RecursionError) as e:
        raise Refusal(400, "bad_request", f"not a Telegram update: {_first_error(e)}") from None


def _first_error(error: Exception) -> str:
    if isinstance(error, ValidationError) and error.errors():
        first = error.errors()[0]
        return f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"[:200]
    return type(error).__name__
