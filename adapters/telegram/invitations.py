"""Regulars (journey/regulars.py): an invitation to the shop's closed Telegram chat for one person, made
with ``createChatInviteLink`` and ``member_limit=1`` when the customer is told, so a forwarded link lets
nobody else in. The bot must be an admin of the chat allowed to invite users."""
from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiohttp import ClientError

log = logging.getLogger(__name__)
NAME_MAX = 32  # Telegram's limit for an invite link's name


class TelegramInvitations:
    """``ports.ChatInvitations`` over the Bot API."""

    personal = True  # each link lets one person in

    def __init__(self, bot: Bot, chat_id: int) -> None:
        self.bot = bot
        self.chat_id = chat_id

    async def invite_link(self, name: str) -> str | None:
        """A new one-person link named for the customer (the chat's admins see who came by it); None when
        Telegram refuses for good (the bot is no admin, the chat is gone); ``ConnectionError`` when it
        could not be asked now, so the notification is tried again."""
        try:
            link = await self.bot.create_chat_invite_link(self.chat_id, name=name[:NAME_MAX] or None, member_limit=1)
        except (TelegramBadRequest, TelegramForbiddenError) as e:
            log.error("no invitation to the regulars' chat %s: %s (is the bot its admin, allowed to invite?)",
                      self.chat_id, e.message)
            return None
        except (TelegramAPIError, ClientError, TimeoutError, OSError) as e:
            raise ConnectionError(f"createChatInviteLink failed: {e!r}") from e
        return link.invite_link
