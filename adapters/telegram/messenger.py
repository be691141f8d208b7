"""Delivering replies within Telegram's limits: about 30 messages a second overall, 1 a second per chat.

A 429 answer carries ``retry_after``: the sender waits that long and tries again, a few times. Every
other failure is raised as a ``DeliveryError``: permanent when the chat cannot be reached (the user
blocked the bot, deleted the account, never started it; the chat does not exist), transient otherwise
(the network, Telegram's 5xx, a 429 that outlasted the attempts, anything not recognised).

An ``Invoice`` goes out as ``sendInvoice``: in Stars (``XTR``) with no provider token, in any other
currency through the bot's payment provider token (and with the receipt's data when the shop sends
54-FZ receipts through YooKassa). A ``Document`` goes out as ``sendDocument`` (a multipart upload).
"""
from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, methods
from aiogram.exceptions import (
    AiogramError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods.base import Response
from aiogram.types import BufferedInputFile, LabeledPrice
from aiohttp import ClientError

from journey.channels import Channel, CustomerRef, DeliveryError, Document, Invoice, Photo, Reply, degrade

from ..ratelimit import RateLimiter
from .invoices import STARS, receipt_fields
from .translate import CAPABILITIES, keyboard

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
# aiogram reads every answer through pydantic's ``Response[<result type>]``, a class pydantic builds on first use
# and keeps only weakly: each full garbage collection dropped it and the next send rebuilt it, about 40 ms on the
# event loop (bench/telegram.py). Held here for the calls the bot makes all day, they are built once.
ANSWER_CLASSES = tuple(Response[m.__returning__] for m in (  # type: ignore[name-defined]
    methods.SendMessage, methods.SendPhoto, methods.SendDocument, methods.SendInvoice, methods.AnswerCallbackQuery,
    methods.AnswerPreCheckoutQuery, methods.AnswerInlineQuery, methods.CreateInvoiceLink, methods.GetFile))
# Telegram's descriptions (lower case) of a chat that will not take messages, and the reason we record
FORBIDDEN = (("blocked by the user", "blocked"), ("user is deactivated", "deactivated"), ("kicked", "kicked"),
             ("can't initiate conversation", "not_started"), ("not a member", "kicked"),
             ("chat was deleted", "chat_not_found"))
GONE = (("chat not found", "chat_not_found"), ("user not found", "chat_not_found"),
        ("peer_id_invalid", "chat_not_found"), ("user is deactivated", "deactivated"),
        ("not enough rights to send", "no_permission"), ("have no rights to send", "no_permission"))


def classify(error: Exception) -> DeliveryError:
    """A failed send as a ``DeliveryError``: permanent only for what Telegram says about the chat itself."""
    text = str(error)
    description = str(getattr(error, "message", None) or text).lower()
    if isinstance(error, TelegramForbiddenError):
        return DeliveryError.unreachable(text, next((r for p, r in FORBIDDEN if p in description), "forbidden"))
    if isinstance(error, TelegramBadRequest):
        gone = next((r for p, r in GONE if p in description), None)
        # any other bad request is about this message, not the chat: worth a look, not a silenced account
        return DeliveryError.unreachable(text, gone) if gone else DeliveryError.transient(text, "bad_request")
    if isinstance(error, TelegramMigrateToChat):  # a group became a supergroup: the old id is gone for good
        return DeliveryError.unreachable(text, "migrated")
    if isinstance(error, TelegramRetryAfter):
        return DeliveryError.transient(text, "rate_limited")
    if isinstance(error, TelegramServerError):
        return DeliveryError.transient(text, "server")
    if isinstance(error, (TelegramNetworkError, ClientError, asyncio.TimeoutError, OSError)):
        return DeliveryError.transient(text, "network")
    return DeliveryError.transient(f"{type(error).__name__}: {text}", "unknown")


class TelegramMessenger:
    channel = Channel.TELEGRAM

    def __init__(self, bot: Bot, mini_app_url: str = "", limiter: RateLimiter | None = None, *,
                 provider_token: str = "", receipt_vat_code: int | None = None) -> None:
        self.bot = bot
        self.mini_app_url = mini_app_url
        self.limiter = limiter or RateLimiter()
        self.provider_token = provider_token
        self.receipt_vat_code = receipt_vat_code

    async def send(self, to: CustomerRef, reply: Reply, key: str = "") -> None:
        reply = degrade(reply, CAPABILITIES)
        if isinstance(reply, Invoice) and reply.currency != STARS and not self.provider_token:
            raise DeliveryError.transient(f"an invoice in {reply.currency} needs the bot's payment provider "
                                          "token from @BotFather", "no_provider_token")
        markup = None if isinstance(reply, Invoice) else keyboard(reply.buttons, self.mini_app_url)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            await self.limiter.wait(to.external_id)
            try:
                if isinstance(reply, Invoice):
                    await self._invoice(to, reply)
                elif isinstance(reply, Photo):
                    await self.bot.send_photo(to.external_id, BufferedInputFile(reply.image, reply.filename),
                                              caption=reply.caption[:1024], reply_markup=markup)
                elif isinstance(reply, Document):  # Telegram tells the file's type by its name
                    await self.bot.send_document(to.external_id, BufferedInputFile(reply.content, reply.filename),
                                                 caption=reply.caption[:1024] or None, reply_markup=markup)
                else:
                    await self.bot.send_message(to.external_id, reply.text[:4096], reply_markup=markup)
                return
            except TelegramRetryAfter as e:
                log.warning("telegram asked to wait %ss (attempt %d)", e.retry_after, attempt)
                self.limiter.pause(e.retry_after)
                if attempt == MAX_ATTEMPTS:
                    raise classify(e) from e
            except (TimeoutError, AiogramError, ClientError, OSError) as e:
                raise classify(e) from e

    async def _invoice(self, to: CustomerRef, invoice: Invoice) -> None:
        stars = invoice.currency == STARS
        token = "" if stars else self.provider_token
        title = invoice.title[:32]
        await self.bot.send_invoice(
            to.external_id, title=title, description=(invoice.description or title)[:255],
            payload=invoice.payload, currency=invoice.currency, provider_token=token,
            prices=[LabeledPrice(label=(invoice.label or title)[:32], amount=invoice.amount)],
            **receipt_fields(token, self.receipt_vat_code, invoice.label or invoice.title, invoice.amount,
                             invoice.currency))
