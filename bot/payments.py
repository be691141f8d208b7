"""Online payments in the composition root: the providers the settings configure, Telegram's invoice desk
over the engine, the periodic reconcile, and ``vitrina payments reconcile | refund``.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from journey.admin import parse_price
from journey.channels import CustomerRef, InvoicePayment, Reply, Route
from journey.engine import Engine
from journey.errors import DomainError, ErrorCode
from journey.packs import PREFIX as PACK
from journey.paying import Reconciled
from journey.ports import JobLocks, PaymentProvider, PaymentUnavailable, ProcessLocks, StarsGateway

from .failures import CommandError
from .settings import Settings
from .texts import add_texts, t

log = logging.getLogger("vitrina")

add_texts({
    "pay_refused": ("Оплатить не получится: {reason}. Откройте заказ в приложении.",
                    "This cannot be paid: {reason}. Open the order in the app."),
})


def providers(settings: Settings) -> dict[str, PaymentProvider]:
    """YooKassa with its shop id and secret key; Telegram invoices with the bot's payment provider token
    (refunded through YooKassa when YooKassa is that provider and its keys are set)."""
    found: dict[str, PaymentProvider] = {}
    yookassa = None
    if settings.yookassa.configured:
        from adapters.yookassa import YookassaProvider

        assert settings.yookassa.secret_key is not None
        yookassa = YookassaProvider(settings.yookassa.shop_id, settings.yookassa.secret_key.get_secret_value(),
                                    settings.yookassa.api_base, receipts=settings.yookassa.receipts,
                                    vat_code=settings.yookassa.vat_code)
        found["yookassa"] = yookassa
    tg = settings.telegram
    if tg.provider_token and tg.token and _bot_token(tg.token.get_secret_value()):
        from adapters.telegram.invoices import TelegramInvoiceProvider, provider_is_yookassa

        provider_token = tg.provider_token.get_secret_value()
        refunds = yookassa.refund_payment if yookassa and provider_is_yookassa(provider_token) else None
        vat = settings.yookassa.vat_code if settings.yookassa.receipts else None
        found["telegram"] = TelegramInvoiceProvider(tg.token.get_secret_value(), tg.api_base, provider_token,
                                                    refunds=refunds, receipt_vat_code=vat)
    return found


def stars(settings: Settings) -> StarsGateway | None:
    """Telegram Stars need nothing but the bot: points packs are on sale once the owner sets them."""
    if settings.telegram.token is None or not _bot_token(settings.telegram.token.get_secret_value()):
        return None
    from adapters.telegram.invoices import TelegramStars

    return TelegramStars(settings.telegram.token.get_secret_value(), settings.telegram.api_base)


def _bot_token(token: str) -> bool:
    """A malformed token builds no payments: the Telegram channel refuses it with one line at start."""
    from adapters.telegram.invoices import is_bot_token

    return is_bot_token(token)


async def close(*found: object) -> None:
    """Close the sessions of the providers and gateways built above."""
    for provider in found:
        closing: Callable[[], Awaitable[None]] | None = getattr(provider, "close", None)
        if closing is not None:
            await closing()


class PaymentDesk:
    """Telegram's ``pre_checkout_query`` and ``successful_payment`` (``journey.channels.InvoiceDesk``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def check(self, payer: CustomerRef, payment: InvoicePayment) -> str | None:
        try:
            if payment.payload.startswith(PACK):
                await self.engine.check_pack(payment)
            else:
                await self.engine.check_invoice(payment)
        except DomainError as e:
            log.info("pre-checkout of %s refused: %s", payment.payload, e)
            language = await self.engine.language(payer)
            return t(language, "pay_refused", reason=_reason(e, language))
        return None

    async def paid(self, payer: CustomerRef, payment: InvoicePayment) -> list[Reply]:
        """Fulfilled once per charge id; the customer hears of it through the notifications."""
        if payment.payload.startswith(PACK):
            await self.engine.pack_paid(payer, payment)
        else:
            await self.engine.invoice_paid(payment)
        return []


def routes(engine: Engine) -> list[Route]:
    """YooKassa's notifications, when YooKassa is configured: each is only a hint to ask YooKassa again."""
    if "yookassa" not in engine.providers:
        return []
    from adapters.yookassa import webhook_route

    async def notice(payment_id: str) -> None:
        await engine.payment_notice("yookassa", payment_id)

    return [webhook_route(notice)]


def _reason(error: DomainError, language: str) -> str:
    if error.code is ErrorCode.PAYMENT_FAILED and error.detail.startswith("wrong amount"):
        return "сумма не совпадает с заказом" if language != "en" else "the amount does not match the order"
    return error.message(language).rstrip(".").lower()


async def reconcile_now_and_then(engine: Engine, seconds: float, stop: asyncio.Event,
                                 locks: JobLocks | None = None) -> None:
    """``vitrina run``'s periodic reconcile: a lost notification is found within ``seconds``. With several
    instances one asks at a time, about once per period across them (90 %: see bot/runner.py, ``once_per``)."""
    locks = locks or ProcessLocks()
    while not stop.is_set():
        try:
            async with locks.hold("reconcile", every=seconds * 0.9) as held:
                done = await engine.reconcile() if held else None
            if done and (done.changed or done.unavailable):
                log.info("reconcile: %s", _said(done))
        except Exception:
            log.exception("reconcile failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


def _said(done: Reconciled) -> str:
    text = f"{done.checked} payments asked about, {done.changed} changed"
    return text + (f", {done.unavailable} could not be asked (tried again later)" if done.unavailable else "")


# --- vitrina payments -----------------------------------------------------------------------------

async def cmd_reconcile(engine: Engine, args: argparse.Namespace) -> None:
    if not any(p.online for p in engine.providers.values()):
        raise CommandError("no online payment provider is configured (VITRINA_YOOKASSA__SHOP_ID and "
                           "__SECRET_KEY, VITRINA_TELEGRAM__PROVIDER_TOKEN): nothing to reconcile")
    done = await engine.reconcile()
    print(_said(done))
    if done.unavailable:
        raise CommandError(f"{done.unavailable} payments could not be checked: the provider is unreachable")


async def cmd_refund(engine: Engine, args: argparse.Namespace) -> None:
    from journey.audit import CLI

    amount = None
    if args.amount is not None:
        try:
            amount = parse_price(args.amount)
        except DomainError as e:
            raise CommandError(f"amount {args.amount!r}: {e.detail or e.message('en')}") from None
    if args.order.startswith(PACK):
        if amount is not None:
            raise CommandError("a points pack is refunded whole: give no amount")
        purchase = await engine.refund_pack(CLI, args.order)
        print(f"{args.order}: {purchase.stars} Stars refunded, {purchase.points} points taken back")
        return
    if args.order.startswith("g") and not args.order.startswith("gift_"):  # gifts: g<code>, as in its link
        try:
            args.order = (await engine.gift_card(args.order[1:])).id
        except DomainError:
            raise CommandError(f"no gift {args.order!r}: give g<code> as in its link, or its id gift_...") from None
    try:
        intent = await engine.refund(CLI, args.order, amount)
    except PaymentUnavailable as e:
        raise CommandError(f"the payment provider cannot be reached: {e}") from None
    if intent.manual_refund:
        print(f"{args.order}: the provider cannot refund it; give back {intent.manual_refund / 100:.2f} by hand")
    else:
        print(f"{args.order}: refunded {intent.refunded / 100:.2f} of {intent.amount.amount / 100:.2f} "
              f"({intent.status.value})")


def add_commands(sub: argparse._SubParsersAction) -> None:
    payments = sub.add_parser("payments", help="online payments: reconcile with the providers, refund").add_subparsers(
        dest="sub", required=True, metavar="SUB")
    p = payments.add_parser("reconcile", help="ask the providers about every payment still pending or held",
                            description="ask the providers about every payment still pending or held, and apply "
                                        "what they say (a lost notification, a crash after a payment)")
    p.set_defaults(fn=cmd_reconcile)
    p = payments.add_parser("refund", help="give back all or part of an order's captured payment",
                            description="give back all or part of an order's captured payment")
    p.add_argument("order", help="the order id (o_...), a gift (g<code> as in its link, or gift_...), or a points "
                                 "pack purchase (pack_...)")
    p.add_argument("amount", nargs="?", default=None, help="how much, e.g. 150 or 99.50 (default: all that is left)")
    p.set_defaults(fn=cmd_refund)
