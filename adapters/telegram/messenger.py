"""Delivering replies within Telegram's limits: about 30 messages a second overall, 1 a second per chat.

A 429 answer carries ``retry_after``: the sender waits that long and tries again.
"""
from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.types import BufferedInputFile

from journey.channels import Channel, CustomerRef, Photo, Reply, degrade

from ..ratelimit import RateLimiter
from .translate import CAPABILITIES, keyboard

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


class TelegramMessenger:
    channel = Channel.TELEGRAM

    def __init__(self, bot: Bot, mini_app_url: str = "", limiter: RateLimiter | None = None) -> None:
        self.bot = bot
        self.mini_app_url = mini_app_url
        self.limiter = limiter or RateLimiter()

    async def send(self, to: CustomerRef, reply: Reply, key: str = "") -> None:
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
