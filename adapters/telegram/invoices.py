"""Telegram payments outside the chat: invoice links for orders paid through the bot's payment provider
(the BotFather provider token, RUB) and Telegram Stars (invoice links, refunds, the bot's transactions).

Telegram takes the money when it reports ``successful_payment`` (the channel hands that to the invoice
desk): there is no hold, and nothing to ask Telegram about a provider payment afterwards, so ``status``
answers what we know. A refund goes through the provider itself: YooKassa's API when YooKassa is the
bot's provider and its keys are set (``refunds``), else the owner gives the money back by hand.

Every call that cannot reach Telegram (the network, 5xx, 429, a timeout) raises ``PaymentUnavailable``;
a refusal (4xx) is an answer: a ``PaymentResult`` with ``error`` set.
"""
from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    AiogramError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramUnauthorizedError,
)
from aiogram.types import LabeledPrice, TransactionPartnerUser
from aiogram.utils.token import TokenValidationError, validate_token
from aiohttp import ClientError

from journey.model import PaymentIntent
from journey.money import Money
from journey.ports import Checkout, PaymentResult, PaymentUnavailable, StarPayment
from journey.states import PaymentStatus

log = logging.getLogger(__name__)

# The bots behind YooKassa's BotFather tokens: "<id>:TEST:<n>" after "Connect ЮKassa Test", "<id>:LIVE:<n>"
# for the live shop. Not published by Telegram or YooKassa as a list: seen in YooKassa's own guide to
# Telegram payments (the test id) and in many bots' settings next to "ЮKassa Live" (the live id).
YOOKASSA_PROVIDER_BOTS = frozenset({"381764678", "390540012"})
STARS = "XTR"
TRANSACTIONS_PAGE = 100  # getStarTransactions gives at most 100 a call
MAX_PAGES = 1000  # 100 000 transactions: far beyond a shop's, a stop for a Bot API that never ends a list
# Telegram's answers that mean "this request is refused", not "Telegram could not be asked"
REFUSED = (TelegramBadRequest, TelegramUnauthorizedError, TelegramForbiddenError, TelegramNotFound,
           TelegramConflictError)
UNREACHABLE = (AiogramError, ClientError, TimeoutError, OSError)


def provider_is_yookassa(provider_token: str) -> bool:
    """Whether a BotFather payment provider token is YooKassa's (its provider bot's id, then TEST or LIVE)."""
    bot_id, _, rest = provider_token.strip().partition(":")
    mode, sep, secret = rest.partition(":")
    return bot_id in YOOKASSA_PROVIDER_BOTS and mode in ("TEST", "LIVE") and bool(sep and secret)


def receipt_fields(provider_token: str, vat_code: int | None, label: str, amount: int,
                   currency: str) -> dict[str, Any]:
    """What an invoice adds for a 54-FZ receipt through YooKassa: the payer's email asked and passed on, and
    the receipt's one line (the whole order) in ``provider_data``. Nothing when no receipts are sent."""
    if vat_code is None or currency == STARS or not provider_is_yookassa(provider_token):
        return {}
    item = {"description": label[:128], "quantity": "1.00",
            "amount": {"value": f"{amount // 100}.{amount % 100:02d}", "currency": currency},
            "vat_code": vat_code, "payment_mode": "full_payment", "payment_subject": "commodity"}
    return {"need_email": True, "send_email_to_provider": True,
            "provider_data": json.dumps({"receipt": {"items": [item]}}, ensure_ascii=False)}


def _bot(token: str, api_base: str) -> Bot:
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))


def is_bot_token(token: str) -> bool:
    """Whether the text has a bot token's shape; a malformed one is the Telegram channel's to report."""
    try:
        validate_token(token)
    except TokenValidationError:
        return False
    return True


def _title(checkout: Checkout) -> str:
    """1..32 characters: "Заказ 123" (the shop's name is in the description)."""
    word = "Order" if checkout.language == "en" else "Заказ"
    return f"{word} {checkout.order.short_code}".strip()[:32]


def _unavailable(what: str, error: Exception) -> PaymentUnavailable:
    text = error.message if isinstance(error, TelegramAPIError) else repr(error)
    return PaymentUnavailable(f"Telegram {what}: {text}")


class TelegramInvoiceProvider:
    """``journey.ports.PaymentProvider`` for invoices through the bot's payment provider token."""

    name = "telegram"
    online = True
    two_stage = False  # Telegram takes the money at successful_payment
    link = "invoice_link"
    needs_email = False  # Telegram asks the payer for it when a receipt needs one

    def __init__(self, token: str, api_base: str, provider_token: str, *,
                 refunds: Callable[[str, Money, str], Awaitable[PaymentResult]] | None = None,
                 receipt_vat_code: int | None = None) -> None:
        """``refunds(provider_charge_id, amount, idempotence_key)`` gives money back through the provider's own
        API; ``receipt_vat_code`` (YooKassa's VAT code) asks for the payer's email and sends YooKassa the
        receipt's data, for shops that send 54-FZ receipts."""
        self.bot = _bot(token, api_base)
        self.provider_token = provider_token
        self.refunds = refunds
        self.receipt_vat_code = receipt_vat_code

    async def close(self) -> None:
        await self.bot.session.close()

    async def start(self, intent: PaymentIntent, checkout: Checkout) -> PaymentResult:
        """An invoice link for the order's total; its payload is the payment's id."""
        title = _title(checkout)
        amount = intent.amount
        try:
            link = await self.bot.create_invoice_link(
                title=title, description=(checkout.description or title)[:255], payload=intent.id,
                provider_token=self.provider_token, currency=amount.currency,
                prices=[LabeledPrice(label=title, amount=amount.amount)],
                **receipt_fields(self.provider_token, self.receipt_vat_code, checkout.description or title,
                                 amount.amount, amount.currency))
        except REFUSED as e:
            return PaymentResult(PaymentStatus.FAILED, error=f"Telegram refused the invoice: {e.message}")
        except UNREACHABLE as e:
            raise _unavailable("createInvoiceLink failed", e) from e
        return PaymentResult(PaymentStatus.PENDING, confirmation_url=link, amount=amount.amount)

    async def status(self, intent: PaymentIntent) -> PaymentResult:
        """Telegram cannot be asked about a provider payment: what we know is all there is."""
        return PaymentResult(intent.status, intent.provider_ref, refunded=intent.refunded)

    async def capture(self, intent: PaymentIntent) -> PaymentResult:
        if intent.status is PaymentStatus.CAPTURED:
            return PaymentResult(PaymentStatus.CAPTURED, intent.provider_ref, refunded=intent.refunded)
        return PaymentResult(intent.status, intent.provider_ref,
                             error="Telegram takes the money when the customer pays: nothing to capture")

    async def void(self, intent: PaymentIntent) -> PaymentResult:
        """An unpaid invoice is dropped on our side: its link stays payable, and the pre-checkout refuses
        a closed order."""
        if intent.status is PaymentStatus.PENDING:
            return PaymentResult(PaymentStatus.VOIDED, intent.provider_ref)
        return PaymentResult(intent.status, intent.provider_ref, refunded=intent.refunded,
                             error=f"a {intent.status.value} Telegram payment cannot be voided")

    async def refund(self, intent: PaymentIntent, amount: Money) -> PaymentResult:
        """Through the provider's API when there is one for this token; ``manual`` otherwise."""
        if self.refunds is None or not intent.provider_charge_id:
            return PaymentResult(intent.status, intent.provider_ref, error="manual", refunded=intent.refunded)
        # the same refund asked again is the same request: what was refunded before and how much now
        key = f"{intent.id}:refund:{intent.refunded}:{amount.amount}"
        result = await self.refunds(intent.provider_charge_id, amount, key)
        return dataclasses.replace(result, provider_ref=intent.provider_ref)


class TelegramStars:
    """``journey.ports.StarsGateway``: Stars invoice links, refunds and the bot's incoming Stars payments."""

    def __init__(self, token: str, api_base: str) -> None:
        self.bot = _bot(token, api_base)

    async def close(self) -> None:
        await self.bot.session.close()

    async def invoice_link(self, title: str, description: str, payload: str, amount: int) -> str:
        """``PaymentUnavailable`` when Telegram cannot be reached or refuses the invoice."""
        try:
            return await self.bot.create_invoice_link(
                title=title[:32], description=(description or title)[:255], payload=payload, provider_token="",
                currency=STARS, prices=[LabeledPrice(label=title[:32], amount=amount)])
        except REFUSED as e:
            raise PaymentUnavailable(f"Telegram refused the Stars invoice: {e.message}") from e
        except UNREACHABLE as e:
            raise _unavailable("createInvoiceLink failed", e) from e

    async def refund(self, user_id: int, charge_id: str) -> bool:
        """True when the Stars are back now or were before; False when Telegram refuses (no such charge)."""
        try:
            return await self.bot.refund_star_payment(user_id=user_id, telegram_payment_charge_id=charge_id)
        except TelegramBadRequest as e:
            if "CHARGE_ALREADY_REFUNDED" in e.message.upper():
                return True
            log.warning("Telegram refused to refund Stars charge %s: %s", charge_id, e.message)
            return False
        except REFUSED as e:
            log.warning("Telegram refused to refund Stars charge %s: %s", charge_id, e.message)
            return False
        except UNREACHABLE as e:
            raise _unavailable("refundStarPayment failed", e) from e

    async def incoming(self, since: datetime | None) -> list[StarPayment]:
        """Invoice payments from users since then (all without ``since``), oldest first: the transaction
        list pages through the bot's whole history, oldest first."""
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        found: list[StarPayment] = []
        for page in range(MAX_PAGES):
            try:
                answer = await self.bot.get_star_transactions(offset=page * TRANSACTIONS_PAGE,
                                                              limit=TRANSACTIONS_PAGE)
            except (*REFUSED, *UNREACHABLE) as e:
                raise _unavailable("getStarTransactions failed", e) from e
            for tx in answer.transactions:
                source = tx.source
                if not isinstance(source, TransactionPartnerUser) or source.transaction_type != "invoice_payment":
                    continue
                if since is not None and tx.date < since:
                    continue
                found.append(StarPayment(tx.id, source.user.id, source.invoice_payload or "", tx.amount, tx.date))
            if len(answer.transactions) < TRANSACTIONS_PAGE:
                break
        return found
