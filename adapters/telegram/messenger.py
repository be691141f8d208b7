"""Delivering replies within Telegram's limits: about 30 messages a second overall, 1 a second per chat.

A 429 answer carries ``retry_after``: the sender waits that long and tries again.
"""
from __future__ import annotations

import asyncio
import logging
import time

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.types import BufferedInputFile

from journey.channels import Channel, CustomerRef, Photo, Reply, Text, degrade

from .translate import CAPABILITIES, keyboard

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


class RateLimiter:
    """Spaces sends: at most ``per_second`` overall, and per chat one per ``chat_interval`` seconds after a
    burst of ``chat_burst`` (a reply and its follow-up go at once; a flood to one chat is slowed).

    Per chat it is the generic cell rate algorithm: ``tat`` is when the chat's next message is due.
    """

    def __init__(self, per_second: float = 30.0, chat_interval: float = 1.0, chat_burst: int = 3) -> None:
        self.interval = 1.0 / per_second
        self.chat_interval = chat_interval
        self.tolerance = (chat_burst - 1) * chat_interval
        self._next = 0.0
        self._tat: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def wait(self, chat: str) -> None:
        async with self._lock:
            now = time.monotonic()
            tat = max(self._tat.get(chat, now), now)
            at = max(now, self._next, tat - self.tolerance)
            self._next = at + self.interval
            self._tat[chat] = max(tat, at) + self.chat_interval
            if len(self._tat) > 10_000:  # forget chats that are idle again
                self._tat = {c: t for c, t in self._tat.items() if t > now}
        if at > now:
            await asyncio.sleep(at - now)

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nobody sends until the wait is over."""
        self._next = max(self._next, time.monotonic() + seconds)


class TelegramMessenger:
    channel = Channel.TELEGRAM

    def __init__(self, bot: Bot, mini_app_url: str = "", limiter: RateLimiter | None = None) -> None:
        self.bot = bot
        self.mini_app_url = mini_app_url
        self.limiter = limiter or RateLimiter()

    async def send(self, to: CustomerRef, reply: Reply) -> None:
        reply = degrade(reply, CAPABILITIES)
        markup = keyboard(reply.buttons, self.mini_app_url)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            await self.limiter.wait(to.external_id)
            try:
                if isinstance(reply, Photo):
                    await self.bot.send_photo(to.external_id, BufferedInputFile(reply.image, reply.filename),
                                              caption=reply.caption[:1024], reply_markup=markup)
                else:
                    await self.bot.send_message(to.external_id, reply.text[:4096], reply_markup=markup)
                return
            except TelegramRetryAfter as e:
                log.warning("telegram asked to wait %ss (attempt %d)", e.retry_after, attempt)
                self.limiter.pause(e.retry_after)
                if attempt == MAX_ATTEMPTS:
                    raise
