"""Paying inside the chat, where the messenger takes payments (Telegram: ``sendInvoice``).

- An order waiting for its Telegram payment (placed in the Mini App, whose invoice was closed unpaid) gets
  a «Оплатить» button in /orders; pressing it sends the order's invoice again.
- Repeating the last order from the chat can be paid by a Telegram invoice as well as at the counter.
- /points offers the shop's points packs for Telegram Stars; a pack's button sends its Stars invoice.

What the customer pays is checked again at Telegram's pre-checkout (``bot/payments.py``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from journey.channels import Button, Channel, Invoice, Reply, Text
from journey.errors import DomainError, ErrorCode
from journey.model import Order, PaymentIntent
from journey.order_views import OrderDetails
from journey.payments import awaiting

from .chat import Turn, action
from .texts import add_texts, t

if TYPE_CHECKING:
    from .conversation import Conversation

Rows = tuple[tuple[Button, ...], ...]

add_texts({
    "pay_order": ("Оплатить № {code} — {total}", "Pay No. {code} — {total}"),
    "pay_title": ("Заказ № {code}", "Order No. {code}"),
    "pay_nothing": ("Заказ № {code} уже не ждёт оплаты.", "Order No. {code} is no longer waiting for a payment."),
    "pay_in_telegram": ("Подтвердить и оплатить в Telegram", "Confirm and pay in Telegram"),
    "pack_button": ("{points} баллов за {stars} ⭐", "{points} points for {stars} ⭐"),
    "pack_title": ("{points} баллов", "{points} points"),
    "pack_description": ("Баллы магазина «{shop}»: 1 балл = 1 копейка скидки.",
                         "Points of «{shop}»: 1 point = 1 kopeck off."),
    "packs_offer": ("Баллы можно купить за звёзды Telegram:", "Points can be bought for Telegram Stars:"),
})


def telegram_pays(conversation: Conversation, turn: Turn) -> bool:
    """Whether this sender can pay an order with a Telegram invoice."""
    return turn.inbound.sender.channel == Channel.TELEGRAM and "telegram" in conversation.engine.providers


def _payable(c: Conversation, order: Order, payment: PaymentIntent) -> bool:
    """Whether the order still waits for its Telegram invoice to be paid."""
    return payment.provider == "telegram" and awaiting(c.engine, payment) and order.status.is_open


def pay_buttons(c: Conversation, lang: str, orders: list[OrderDetails]) -> Rows:
    """«Оплатить» for each order still waiting for its Telegram payment."""
    return tuple((Button(t(lang, "pay_order", code=d.order.short_code, total=d.order.total.format()), "pay",
                         {"id": d.order.id}),)
                 for d in orders if d.payment is not None and _payable(c, d.order, d.payment))


def order_invoice(lang: str, order: Order, intent: PaymentIntent) -> Invoice:
    lines = ", ".join(f"{l.name} × {l.quantity}" for l in order.lines)
    return Invoice(t(lang, "pay_title", code=order.short_code), lines[:255], intent.id, intent.amount.currency,
                   intent.amount.amount)


@action("pay")
async def pay(c: Conversation, turn: Turn) -> list[Reply]:
    view = await c.engine.order_view(turn.inbound.sender, turn.inbound.payload.get("id", ""))
    if view.payment is None or not _payable(c, view.order, view.payment):
        return [Text(t(turn.lang, "pay_nothing", code=view.order.short_code))]
    return [order_invoice(turn.lang, view.order, view.payment)]


@action("repeat_pay")
async def repeat_and_pay(c: Conversation, turn: Turn) -> list[Reply]:
    """The last order again, paid by a Telegram invoice: placed first, then billed."""
    if not telegram_pays(c, turn):
        raise DomainError(ErrorCode.PAYMENT_PROVIDER_UNKNOWN)
    view = await c.place_repeat(turn, "telegram")
    assert view.payment is not None
    return [order_invoice(turn.lang, view.order, view.payment)]


async def pack_buttons(c: Conversation, turn: Turn) -> Rows:
    if turn.inbound.sender.channel != Channel.TELEGRAM:
        return ()
    return tuple((Button(t(turn.lang, "pack_button", points=p.points, stars=p.stars), "pack", {"id": p.id}),)
                 for p in await c.engine.points_packs())


@action("pack")
async def buy_pack(c: Conversation, turn: Turn) -> list[Reply]:
    purchase = await c.engine.buy_pack(turn.inbound.sender, turn.inbound.payload.get("id", ""))
    shop = (await c.engine.shop_view()).rules.name
    return [Invoice(t(turn.lang, "pack_title", points=purchase.points),
                    t(turn.lang, "pack_description", shop=shop), purchase.id, "XTR", purchase.stars)]
