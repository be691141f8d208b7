"""Gifts: a customer buys a drink (an item with its default options) or an amount for a friend, paid
online; the friend who opens its ``g<code>`` link in any channel takes it, orders with it at a point and
picks it up with their own QR. Not redeemed in the shop's ``gift_days``, it expires and the giver's money
goes back. The data and the state machine: ``gift_model``.

A gift's payment is an ordinary payment row whose ``order_id`` holds the gift's id: ``paying`` applies
what the provider says exactly as for an order (once, through the payment's table, repaired by
reconcile) and hands the consequences to ``GiftSubject`` here: the gift becomes active once the money is
taken, fails with its payment, and a hold is captured at once, since a gift may wait longer than a hold.
"""
from __future__ import annotations

import dataclasses
import hmac
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from . import pricing
from .channels import CustomerRef
from .customers import find_or_create
from .deeplinks import DeepLink
from .errors import DomainError, ErrorCode
from .events import DomainEvent, EventType
from .gift_model import PREFIX, Gift, GiftStatus, ensure_gift_transition
from .ids import new_id
from .model import CartLine, Order, OrderLine, PaymentIntent, ShopRules
from .money import Money
from .payments import check_method
from .ports import Checkout, PaymentResult, UnitOfWork
from .states import OrderStatus, PaymentStatus

if TYPE_CHECKING:
    from .engine import Engine
    from .order_views import OrderView

log = logging.getLogger(__name__)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
CODE_LENGTH = 16  # about 93 bits: not guessed, and short enough for a QR and a chat message
MAX_MESSAGE = 140
MAX_AMOUNT = 10_000_000  # 100 000 ₽: a rule's amount beyond this is ignored


def is_gift(payment_for: str) -> bool:
    """Whether a payment's ``order_id`` names a gift."""
    return payment_for.startswith(PREFIX + "_")


MAX_AMOUNTS = 6


def parse_amounts(text: str) -> list[int]:
    """``300, 500, 1000`` (rubles) -> the amounts, sorted; ``-`` or empty: none (only items are gifted).
    ``ValueError`` says what is wrong."""
    text = text.strip()
    if text in ("", "-"):
        return []
    found = set()
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or not 0 < int(part) * 100 <= MAX_AMOUNT:
            raise ValueError(f"{part!r}: a whole number of rubles from 1 to {MAX_AMOUNT // 100}")
        found.add(int(part))
    if len(found) > MAX_AMOUNTS:
        raise ValueError(f"at most {MAX_AMOUNTS} amounts")
    return sorted(found)


def amounts(rules: ShopRules, currency: str = "RUB") -> list[Money]:
    """The amounts a gift of money may be (the rule is in rubles)."""
    try:
        return [Money(rubles * 100, currency) for rubles in parse_amounts(rules.gift_amounts)]
    except ValueError:  # stored before it was checked: no amounts rather than wrong ones
        return []


def online_methods(engine: Engine, ref: CustomerRef) -> list[str]:
    """How a gift may be paid in the caller's channel: the online providers only (no counter, no Stars)."""
    from .payments import available

    return [name for name in available(engine, ref.channel)
            if name in engine.providers and engine.providers[name].online]


@dataclass(frozen=True, slots=True)
class GiftOffer:
    amounts: list[Money]
    methods: list[str]
    days: int


async def gift_offer(self: Engine, ref: CustomerRef) -> GiftOffer:
    """What a gift may be in the caller's channel: the shop's amounts, the online methods, its days."""
    async with self.read() as uow:
        rules = await self.rules(uow)
    return GiftOffer(amounts(rules), online_methods(self, ref), rules.gift_days)


# --- what the friend and the giver see ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class GiftView:
    gift: Gift
    giver: bool  # the caller bought it
    taker: bool  # the caller took it
    claimable: bool  # the caller may take it now
    now: datetime
    payment_link: str = ""  # the giver's page to pay, while it waits for its payment
    order_status: OrderStatus | None = None  # the friend's order with it


async def _view(engine: Engine, uow: UnitOfWork, gift: Gift, customer_id: str | None) -> GiftView:
    giver = customer_id is not None and await _is_giver(uow, gift, customer_id)
    taker = customer_id is not None and gift.friend_id == customer_id
    claimable = gift.status is GiftStatus.ACTIVE and not giver and not _lapsed(gift, engine.now())
    link = ""
    if giver and gift.status is GiftStatus.AWAITING_PAYMENT:
        intent = await uow.payments.for_order(gift.id)
        link = intent.link if intent is not None and intent.status is PaymentStatus.PENDING else ""
    status = None
    if taker and gift.order_id:
        order = await uow.orders.get(gift.order_id)
        status = order.status if order else None
    return GiftView(gift, giver, taker, claimable, engine.now(), link, status)


async def _is_giver(uow: UnitOfWork, gift: Gift, customer_id: str) -> bool:
    """The giver, or an account linked to the giver since (merged into one customer either way)."""
    if customer_id == gift.giver_id:
        return True
    now_giver = await uow.customers.by_account(gift.giver.channel, gift.giver.external_id)
    return now_giver is not None and now_giver.id == customer_id


def _lapsed(gift: Gift, now: datetime) -> bool:
    return gift.expires_at is not None and now >= gift.expires_at


async def _by_code(uow: UnitOfWork, code: str) -> Gift:
    code = (code or "").strip()
    gift = await uow.gifts.by_code(code) if 8 <= len(code) <= 64 and code.isalnum() else None
    if gift is None or not hmac.compare_digest(gift.code.encode(), code.encode()):
        raise DomainError(ErrorCode.GIFT_NOT_FOUND)
    return gift


async def gift_view(self: Engine, ref: CustomerRef, code: str) -> GiftView:
    """A gift as the caller may see it: anyone holding its link sees who it is from and what it is."""
    async with self.read() as uow:
        gift = await _by_code(uow, code)
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
        return await _view(self, uow, gift, customer.id if customer else None)


async def gift_card(self: Engine, code: str) -> Gift:
    """A gift by its code for the shop's own tools (``vitrina qr gift``): no caller, nothing private shown."""
    async with self.read() as uow:
        return await _by_code(uow, code)


async def my_gifts(self: Engine, ref: CustomerRef) -> list[GiftView]:
    """Gifts the caller gave or took, newest first."""
    async with self.read() as uow:
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
        if customer is None:
            return []
        return [await _view(self, uow, g, customer.id) for g in await uow.gifts.of_customer(customer.id)]


# --- buying ---------------------------------------------------------------------------------------

def _data(gift: Gift, **extra: object) -> dict[str, object]:
    return {"gift_id": gift.id, "order_id": gift.id, "customer_id": gift.giver_id, "account": gift.giver.key,
            "code": gift.code, "title": gift.title, "total": gift.amount.amount, "currency": gift.amount.currency,
            "giver_name": gift.giver_name, "friend_id": gift.friend_id,
            "friend": gift.friend.key if gift.friend else "",
            "friend_name": (gift.friend.name or "").split(" ")[0][:32] if gift.friend else "",
            "expires_at": gift.expires_at.isoformat() if gift.expires_at else None, "reason": gift.reason,
            "short_code": "", **extra}


def _event(kind: EventType, gift: Gift, at: datetime, **extra: object) -> DomainEvent:
    return DomainEvent(kind, _data(gift, **extra), at)


def _stand_in(gift: Gift, line: OrderLine) -> Order:
    """What a provider is told a gift's payment sells: one line, never stored as an order."""
    return Order(gift.id, gift.giver_id, "", OrderStatus.PLACED, (line,), gift.amount, Money.zero(gift.amount.currency),
                 0, gift.amount, gift.created_at, "", gift.created_at, gift.created_at, account=gift.giver.key,
                 payment_provider=gift.provider)


async def buy_gift(self: Engine, ref: CustomerRef, *, item_id: str | None = None, amount: int | None = None,
                   message: str = "", provider: str, return_url: str = "", email: str = "",
                   link: DeepLink | None = None) -> GiftView:
    """A gift of an item (its default options, priced now) or of one of the shop's amounts, waiting for its
    online payment; the provider's page (or Telegram invoice) is started at once. ``return_url`` (the gift's
    code is appended) is where the provider's page sends the giver back."""
    from . import paying, privacy

    payment_provider = check_method(self, ref, provider)
    if not payment_provider.online:
        raise DomainError(ErrorCode.PAYMENT_PROVIDER_UNKNOWN, "a gift is paid online")
    if payment_provider.needs_email and not email:
        raise DomainError(ErrorCode.EMAIL_REQUIRED)
    if (item_id is None) == (amount is None):
        raise DomainError(ErrorCode.BAD_INPUT, "an item or an amount")
    message = " ".join((message or "").split())
    if len(message) > MAX_MESSAGE:
        raise DomainError(ErrorCode.BAD_INPUT, f"at most {MAX_MESSAGE} characters")
    await privacy.require_consent(self, ref)  # personal data: a purchase, and the giver's name goes with it
    now = self.now()
    async with self.uow() as uow:
        rules = await self.rules(uow)
        if item_id is not None:
            item = (await uow.catalog.items_by_id([item_id])).get(item_id)
            if item is None:
                raise DomainError(ErrorCode.ITEM_NOT_FOUND, item_id)
            if not item.available:
                raise DomainError(ErrorCode.ITEM_UNAVAILABLE, item_id)
            line = pricing.price_line(item, CartLine(item.id, 1, {}))
            title = line.name
        else:
            allowed = amounts(rules)
            chosen = next((m for m in allowed if m.amount == amount), None)
            if chosen is None:
                raise DomainError(ErrorCode.BAD_INPUT, "amounts: " + ", ".join(m.format() for m in allowed))
            english = ref.language.startswith("en")
            line = OrderLine("", f"{'Gift' if english else 'Подарок'} {chosen.format()}", (), {}, 1, chosen)
            title = ""
        customer = await find_or_create(self, uow, ref, link)
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        giver = dataclasses.replace(ref, name=ref.name or customer.name)  # the name the friend sees
        gift = Gift(new_id(PREFIX), code, customer.id, giver, item_id, title, line.total, message,
                    payment_provider.name, GiftStatus.AWAITING_PAYMENT, now, now)
        await uow.gifts.add(gift)
        intent = PaymentIntent(new_id("pay"), gift.id, payment_provider.name, gift.amount, PaymentStatus.PENDING,
                               f"gift:{gift.id}", "", now, now)
        await uow.payments.add(intent)
        await self.emit(uow, _event(EventType.GIFT_BOUGHT, gift, now, provider=payment_provider.name))
        shop = rules.name
    english = ref.language.startswith("en")
    description = f"{'Gift' if english else 'Подарок'}: {line.name} — {shop}"
    try:
        back = return_url + gift.code if return_url else ""  # the gift's screen (or the page into the messenger)
        result = await payment_provider.start(intent, Checkout(_stand_in(gift, line), description, back,
                                                               ref.language, email))
    except Exception as e:  # the gateway is down or refused: the gift fails, nothing was taken
        log.warning("payment provider %s failed to start a gift: %r", payment_provider.name, e)
        result = PaymentResult(PaymentStatus.FAILED, error=str(e))
    await paying.started(self, intent.id, result)
    if result.status is PaymentStatus.FAILED:
        raise DomainError(ErrorCode.PAYMENT_FAILED, result.error)
    return await gift_view(self, ref, gift.code)


# --- its payment, as paying.py applies it -----------------------------------------------------------

_KINDS = {EventType.PAYMENT_REFUNDED: EventType.GIFT_REFUNDED,
          EventType.PAYMENT_REFUND_MANUAL: EventType.GIFT_REFUND_MANUAL}


@dataclass(frozen=True, slots=True)
class GiftSubject:
    """``paying.Subject`` for a gift's payment."""

    gift: Gift
    capture_at_once = True

    @property
    def closed(self) -> bool:
        """Failed, expired or refunded: money the provider still takes for it goes back."""
        return self.gift.status in (GiftStatus.FAILED, GiftStatus.EXPIRED, GiftStatus.REFUNDED)

    def event(self, kind: EventType, at: datetime, **extra: object) -> DomainEvent:
        return _event(_KINDS.get(kind, kind), self.gift, at, **extra)

    async def changed(self, engine: Engine, uow: UnitOfWork, ours: PaymentStatus, status: PaymentStatus,
                      now: datetime) -> None:
        gift = self.gift
        if status is PaymentStatus.CAPTURED and gift.status is GiftStatus.AWAITING_PAYMENT:
            rules = await engine.rules(uow)
            await _move(engine, uow, gift, GiftStatus.ACTIVE, now, EventType.GIFT_ACTIVE,
                        expires_at=now + timedelta(days=rules.gift_days))
        elif status in (PaymentStatus.FAILED, PaymentStatus.VOIDED) and gift.status is GiftStatus.AWAITING_PAYMENT:
            await _move(engine, uow, gift, GiftStatus.FAILED, now, EventType.GIFT_FAILED, reason="payment_failed")
        elif status in (PaymentStatus.REFUNDED, PaymentStatus.VOIDED) and gift.status is GiftStatus.EXPIRED:
            await _move(engine, uow, gift, GiftStatus.REFUNDED, now, None)
        elif status is PaymentStatus.REFUNDED and gift.status.usable:  # the owner gave the money back: it ends
            gift = await _move(engine, uow, gift, GiftStatus.EXPIRED, now, EventType.GIFT_EXPIRED, reason="refunded")
            await _move(engine, uow, gift, GiftStatus.REFUNDED, now, None)


async def payment_subject(uow: UnitOfWork, gift_id: str) -> GiftSubject:
    gift = await uow.gifts.get(gift_id)
    if gift is None:
        raise DomainError(ErrorCode.GIFT_NOT_FOUND, gift_id)
    return GiftSubject(gift)


async def _move(engine: Engine, uow: UnitOfWork, gift: Gift, target: GiftStatus, now: datetime,
                kind: EventType | None, **changes: object) -> Gift:
    ensure_gift_transition(gift.status, target)
    moved = dataclasses.replace(gift, status=target, updated_at=now, **changes)  # type: ignore[arg-type]
    await uow.gifts.update(moved)
    if kind is not None:
        await engine.emit(uow, _event(kind, moved, now))
    return moved


async def check_gift_invoice(uow: UnitOfWork, intent: PaymentIntent) -> None:
    """Telegram's pre-checkout of a gift's invoice: the gift must still wait for this payment."""
    gift = await uow.gifts.get(intent.order_id)
    if gift is None or intent.status is not PaymentStatus.PENDING or gift.status is not GiftStatus.AWAITING_PAYMENT:
        raise DomainError(ErrorCode.INVALID_TRANSITION, f"the gift is {gift.status.value if gift else 'gone'}, "
                                                        f"its payment {intent.status.value}")


# --- claiming and ordering -----------------------------------------------------------------------------

async def claim_gift(self: Engine, ref: CustomerRef, code: str, link: DeepLink | None = None) -> GiftView:
    """The friend takes the gift: it is theirs alone from now on. Not the giver's own (nor an account
    linked to the giver), not one someone else took, not one unpaid, used or expired."""
    now = self.now()
    async with self.uow() as uow:
        gift = await _by_code(uow, code)
        customer = await find_or_create(self, uow, ref, link)
        if await _is_giver(uow, gift, customer.id):
            raise DomainError(ErrorCode.GIFT_OWN)
        if gift.friend_id is not None and gift.friend_id != customer.id:
            raise DomainError(ErrorCode.GIFT_TAKEN)
        if gift.friend_id == customer.id and gift.status is GiftStatus.CLAIMED:
            return await _view(self, uow, gift, customer.id)  # taken already: the same answer
        if gift.status is not GiftStatus.ACTIVE or _lapsed(gift, now):
            raise DomainError(ErrorCode.GIFT_UNAVAILABLE, gift.status.value)
        gift = await _move(self, uow, gift, GiftStatus.CLAIMED, now, EventType.GIFT_CLAIMED,
                           friend_id=customer.id, friend=dataclasses.replace(ref, name=ref.name or customer.name))
        return await _view(self, uow, gift, customer.id)


async def gift_for_order(uow: UnitOfWork, gift_id: str, customer_id: str) -> Gift:
    """In ``place_order``'s unit of work: the gift the customer took, with no open order of it."""
    gift = await uow.gifts.get(gift_id)
    if gift is None:
        raise DomainError(ErrorCode.GIFT_NOT_FOUND)
    if gift.friend_id != customer_id:
        raise DomainError(ErrorCode.GIFT_TAKEN)
    if gift.status is not GiftStatus.CLAIMED or gift.order_id is not None:
        raise DomainError(ErrorCode.GIFT_UNAVAILABLE, gift.status.value)
    return gift


async def order_gift(self: Engine, ref: CustomerRef, code: str, point_id: str, *, pickup_at: datetime | None = None,
                     cart: Sequence[CartLine] = (), provider: str = "counter", return_url: str = "",
                     email: str = "", request_id: str | None = None) -> OrderView:
    """The friend orders with the gift they took: its item (default options) and any lines of theirs; the
    gift pays up to its amount, the rest is paid as they choose. Nothing left to pay: at the counter, zero."""
    from .ordering import _quote

    async with self.read() as uow:
        gift = await _by_code(uow, code)
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
        if customer is None or gift.friend_id != customer.id:
            raise DomainError(ErrorCode.GIFT_TAKEN if gift.friend_id else ErrorCode.GIFT_UNAVAILABLE)
        if gift.status is not GiftStatus.CLAIMED or _lapsed(gift, self.now()):
            raise DomainError(ErrorCode.GIFT_UNAVAILABLE, gift.status.value)
        lines = [CartLine(gift.item_id, 1, {})] if gift.item_id else []
        lines += list(cart)
        if not lines:
            raise DomainError(ErrorCode.EMPTY_CART)
        quote, _ = await _quote(self, uow, customer.id, lines, None, 0, gift_cover=gift.amount.amount)
    if quote.total.amount == 0:
        provider = "counter"  # covered whole: handed over like any order, nothing to take
    return await self.place_order(ref, lines, point_id, pickup_at=pickup_at, provider=provider, source="gift",
                                  return_url=return_url, email=email, request_id=request_id, gift_id=gift.id)


async def ordered(engine: Engine, uow: UnitOfWork, gift: Gift, order: Order, now: datetime) -> None:
    moved = dataclasses.replace(gift, order_id=order.id, updated_at=now)
    await uow.gifts.update(moved)
    await engine.emit(uow, _event(EventType.GIFT_ORDERED, moved, now, placed=order.id))


async def order_closed(engine: Engine, uow: UnitOfWork, order: Order, now: datetime) -> None:
    """The friend's order with a gift was cancelled or expired: the gift may be ordered with again."""
    gift = await uow.gifts.by_order(order.id)
    if gift is not None and gift.status is GiftStatus.CLAIMED:
        await uow.gifts.update(dataclasses.replace(gift, order_id=None, updated_at=now))


async def picked_up(engine: Engine, uow: UnitOfWork, order: Order, now: datetime) -> None:
    """The friend's order with a gift was handed over: the gift is redeemed."""
    gift = await uow.gifts.by_order(order.id)
    if gift is not None and gift.status is GiftStatus.CLAIMED:
        await _move(engine, uow, gift, GiftStatus.REDEEMED, now, EventType.GIFT_REDEEMED)


# --- expiry ----------------------------------------------------------------------------------------------

async def expire_gifts(engine: Engine) -> list[str]:
    """Gifts never paid fail after the shop's unpaid timeout; paid gifts not redeemed by their day expire
    and their money goes back to the giver (refunded through the provider, or the owner told to)."""
    from .paying import PRE_CHECKOUT_GRACE, give_back

    now = engine.now()
    refund: list[str] = []
    async with engine.uow() as uow:
        rules = await engine.rules(uow)
        for gift_id in await uow.gifts.due(now, now - timedelta(minutes=rules.unpaid_timeout_minutes)):
            gift = await uow.gifts.get(gift_id)
            if gift is None:
                continue
            if gift.status is GiftStatus.AWAITING_PAYMENT:
                intent = await uow.payments.for_order(gift.id)
                touched = intent is not None and intent.updated_at is not None \
                    and now < intent.updated_at + PRE_CHECKOUT_GRACE
                if intent is not None and intent.status is PaymentStatus.PENDING and not touched:
                    await uow.payments.set_status(intent.id, PaymentStatus.VOIDED, now)
                    await _move(engine, uow, gift, GiftStatus.FAILED, now, EventType.GIFT_FAILED, reason="unpaid")
            elif gift.status.usable:
                if gift.order_id is not None:
                    order = await uow.orders.get(gift.order_id)
                    if order is not None and order.status.is_open:
                        continue  # the friend's order is on its way: its end decides
                await _move(engine, uow, gift, GiftStatus.EXPIRED, now, EventType.GIFT_EXPIRED)
                refund.append(gift.id)
            elif gift.status is GiftStatus.EXPIRED:
                refund.append(gift.id)  # its money did not come back last time: asked again
    for gift_id in refund:
        await give_back(engine, gift_id)
        await refunded_by_hand(engine, gift_id)
    return refund


async def refunded_by_hand(engine: Engine, gift_id: str) -> None:
    """A gift whose money the owner gives back by hand (no provider could), or that was never taken, is
    done: an expired one refunded, a usable one (the owner's refund) expired and refunded."""
    async with engine.uow() as uow:
        gift = await uow.gifts.get(gift_id)
        intent = await uow.payments.for_order(gift_id)
        if gift is None or intent is None or not (gift.status is GiftStatus.EXPIRED or gift.status.usable):
            return
        owed = intent.amount.amount - intent.refunded - intent.manual_refund
        never_taken = intent.status in (PaymentStatus.VOIDED, PaymentStatus.FAILED)
        if gift.status.usable and (never_taken or owed > 0):
            return  # a part given back: the gift stands
        if never_taken or (intent.settled and owed <= 0):
            now = engine.now()
            if gift.status.usable:
                gift = await _move(engine, uow, gift, GiftStatus.EXPIRED, now, EventType.GIFT_EXPIRED,
                                   reason="refunded")
            await _move(engine, uow, gift, GiftStatus.REFUNDED, now, None)
