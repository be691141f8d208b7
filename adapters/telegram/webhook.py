"""Telegram's webhook calls, checked before aiogram sees them.

aiogram's ``SimpleRequestHandler`` answers 500 to a secret header with non-ASCII characters (its
``compare_digest`` on ``str``) and to any body that is not a valid update; here every such call is a 4xx:
401 for a missing or wrong ``X-Telegram-Bot-Api-Secret-Token``, 413 for a body over the cap, 400 for an
empty, cut, non-UTF-8, non-JSON or too deeply nested body or one that is not an ``Update``. A good update is
answered 200 at once and fed to the dispatcher in the background, as ``SimpleRequestHandler`` does, so a
slow reply never makes Telegram send the update again.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from ..webhook_guard import MAX_BODY, MAX_DEPTH, Refusal, read_object, secret_matches

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class TelegramWebhook:
    """``handle`` is the aiohttp handler for ``POST /telegram/webhook``; ``close`` on stop."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, secret: str | None, *, max_bytes: int = MAX_BODY,
                 max_depth: int = MAX_DEPTH) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.secret = secret  # without one every call is refused: settings require it with a webhook
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self._tasks: set[asyncio.Task[None]] = set()

    async def handle(self, request: web.Request) -> web.Response:
        try:
            update = await self.check(request)
        except Refusal as refusal:
            log.warning("telegram webhook call refused (%d): %s", refusal.status, refusal)
            return refusal.response()
        task = asyncio.create_task(self._feed(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response({})

    async def check(self, request: web.Request) -> Update:
        """The update the request carries; raises ``Refusal`` for anything else (the body unread when the
        secret is wrong)."""
        if not secret_matches(request.headers.get(SECRET_HEADER), self.secret):
            raise Refusal(401, "unauthorized", f"missing or wrong {SECRET_HEADER}")
        data = await read_object(request, max_bytes=self.max_bytes, max_depth=self.max_depth)
        return parse_update(data, self.bot)

    async def _feed(self, update: Update) -> None:
        try:
            await self.dispatcher.feed_update(self.bot, update)
        except Exception:
            log.exception("telegram update %s failed", update.update_id)

    async def close(self) -> None:
        """Stop the updates still being handled (the conversation is left where a retry resumes it)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


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
