"""Online payments around an order: what a provider says is applied once, through the payment's
transition table, and what it implies follows: staff see an order once it is paid, the money of an order
that closed goes back, a hold is never captured late.

Providers are called outside units of work. Every answer of a provider goes through ``apply``, which reads
the payment and its order again in one unit of work and decides there; a follow-up the answer calls for
(releasing the hold of a closed order, refunding money taken after it closed) is asked of the provider
after that unit of work and its answer applied the same way. So a duplicated, reordered or lost
notification, a crash between a provider's success and our commit, and a reconcile run all end in the
same state, and running any of them again changes nothing.
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from .audit import require_owner
from .channels import CustomerRef, InvoicePayment
from .errors import DomainError, ErrorCode
from .events import DomainEvent, EventType
from .model import Order, PaymentIntent
from .money import Money
from .notices import NewOrderNotice
from .order_views import _load, table_of
from .ordering import _close, _event
from .ports import PaymentResult, PaymentUnavailable, UnitOfWork
from .states import ORDER_TRANSITIONS, OrderStatus, PaymentStatus, ensure_transition

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger(__name__)
# YooKassa keeps a hold for 7 days and then cancels it. An order held that long is released and expired a
# little before, so a capture never meets a lapsed hold.
HOLD_LIMIT = timedelta(days=7) - timedelta(hours=12)
# Telegram takes the money seconds after the bot approves the pre-checkout: an order approved that
# recently is not expired unpaid under the payment's feet.
PRE_CHECKOUT_GRACE = timedelta(minutes=2)
EVENTS = {PaymentStatus.AUTHORIZED: EventType.PAYMENT_AUTHORIZED, PaymentStatus.CAPTURED: EventType.PAYMENT_CAPTURED,
          PaymentStatus.FAILED: EventType.PAYMENT_FAILED, PaymentStatus.VOIDED: EventType.PAYMENT_VOIDED,
          PaymentStatus.REFUNDED: EventType.PAYMENT_REFUNDED}


class FollowUp(Enum):
    NONE = "none"
    VOID = "void"  # a hold of an order that closed: release it
    REFUND = "refund"  # money taken for an order that closed: give the rest back
    CAPTURE = "capture"  # a hold of a gift: taken at once (a gift may wait longer than a hold lasts)


# --- what a payment pays for: an order, or a gift (journey/gifts.py) ------------------------------

class Subject(Protocol):
    """What a payment pays for, as ``_apply`` needs it: whether its money goes back, events about it, and
    what a change of the payment does to it. The payment's ``order_id`` names it."""

    @property
    def closed(self) -> bool: ...
    @property
    def capture_at_once(self) -> bool: ...
    def event(self, kind: EventType, at: datetime, **extra: object) -> DomainEvent: ...
    async def changed(self, engine: Engine, uow: UnitOfWork, ours: PaymentStatus, status: PaymentStatus,
                      now: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class OrderSubject:
    order: Order
    capture_at_once = False

    @property
    def closed(self) -> bool:
        return _closed(self.order)

    def event(self, kind: EventType, at: datetime, **extra: object) -> DomainEvent:
        return _event(kind, self.order, at, **extra)

    async def changed(self, engine: Engine, uow: UnitOfWork, ours: PaymentStatus, status: PaymentStatus,
                      now: datetime) -> None:
        order = self.order
        if ours is PaymentStatus.PENDING and status in (PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED) \
                and order.status.is_open:  # paid: the staff see it now
            await engine.emit(uow, _event(EventType.ORDER_PAID, order, now, **NewOrderNotice.of(order).event_data(),
                                          table=table_of(order)))
        if status in (PaymentStatus.FAILED, PaymentStatus.VOIDED) and order.status.is_open:
            reason = "payment_failed" if status is PaymentStatus.FAILED else "payment_released"
            await _close(engine, uow, order, _closing(order), now, reason)


async def _subject(uow: UnitOfWork, payment_for: str) -> Subject:
    from . import gifts

    if gifts.is_gift(payment_for):
        return await gifts.payment_subject(uow, payment_for)
    return OrderSubject(await _load(uow, payment_for))


# --- applying what a provider says ----------------------------------------------------------------

async def apply(engine: Engine, payment_id: str, said: PaymentResult,
                charge: InvoicePayment | None = None) -> PaymentIntent | None:
    """Record what the provider said of a payment, then make the follow-up it calls for. ``None`` for a
    payment we do not know (a notification for another shop on the same YooKassa account)."""
    intent, follow = await _apply(engine, payment_id, said, charge)
    if intent is not None and follow is not FollowUp.NONE:
        intent = await _follow_up(engine, intent, follow)
    return intent


async def _follow_up(engine: Engine, intent: PaymentIntent, follow: FollowUp) -> PaymentIntent:
    provider = engine.providers.get(intent.provider)
    if provider is None:
        return intent
    try:
        if follow is FollowUp.VOID:
            result = await provider.void(intent)
        elif follow is FollowUp.CAPTURE:
            result = await provider.capture(intent)
        else:
            result = await provider.refund(intent, Money(intent.amount.amount - intent.refunded,
                                                         intent.amount.currency))
    except PaymentUnavailable as e:  # reconcile asks again: the payment is (again) unsettled
        log.warning("payment %s: %s at %s failed: %s", intent.id, follow.value, intent.provider, e)
        async with engine.uow() as uow:
            current = await _intent(uow, intent.id)
            if current.settled:
                current = dataclasses.replace(current, settled=False, updated_at=engine.now())
                await uow.payments.update(current)
        return current
    if result.error == "manual":
        return await _manual_refund(engine, intent.id, intent.amount.amount - intent.refunded)
    if result.error:
        log.warning("payment %s: %s refused by %s: %s", intent.id, follow.value, intent.provider, result.error)
        return intent
    return (await _apply(engine, intent.id, result))[0] or intent


async def _manual_refund(engine: Engine, payment_id: str, due: int) -> PaymentIntent:
    """No provider can give this money back: the owner must, and is told how much."""
    async with engine.uow() as uow:
        intent = await _intent(uow, payment_id)
        due = min(due, intent.amount.amount - intent.refunded - intent.manual_refund)
        if due <= 0:
            return intent
        subject = await _subject(uow, intent.order_id)
        now = engine.now()
        intent = dataclasses.replace(intent, manual_refund=intent.manual_refund + due, settled=True, updated_at=now)
        await uow.payments.update(intent)
        await engine.emit(uow, subject.event(EventType.PAYMENT_REFUND_MANUAL, now, provider=intent.provider,
                                      amount=due, charge_id=intent.charge_id,
                                      provider_charge_id=intent.provider_charge_id))
        return intent


async def _intent(uow: UnitOfWork, payment_id: str) -> PaymentIntent:
    intent = await uow.payments.get(payment_id)
    if intent is None:
        raise DomainError(ErrorCode.NOT_FOUND, payment_id)
    return intent


def _closed(order: Order) -> bool:
    """Cancelled or expired: whatever was paid for it goes back."""
    return order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)


async def _apply(engine: Engine, payment_id: str, said: PaymentResult,
                 charge: InvoicePayment | None = None) -> tuple[PaymentIntent | None, FollowUp]:
    async with engine.uow() as uow:
        intent = await uow.payments.get(payment_id)
        if intent is None:
            return None, FollowUp.NONE
        if charge is not None:
            if await uow.payments.by_charge_id(charge.charge_id):
                return intent, FollowUp.NONE  # Telegram said it again: fulfilled already
            if intent.charge_id:  # a second charge for one order: taken twice, the owner gives it back
                if not await uow.updates.claim("telegram-charge", charge.charge_id):
                    return intent, FollowUp.NONE  # told the owner already
                log.warning("payment %s: a second Telegram charge %s", intent.id, charge.charge_id)
                subject = await _subject(uow, intent.order_id)
                await engine.emit(uow, subject.event(EventType.PAYMENT_REFUND_MANUAL, engine.now(),
                                              provider=intent.provider, amount=charge.total,
                                              charge_id=charge.charge_id,
                                              provider_charge_id=charge.provider_charge_id))
                return intent, FollowUp.NONE
            intent = dataclasses.replace(intent, charge_id=charge.charge_id,
                                         provider_charge_id=charge.provider_charge_id)
        subject = await _subject(uow, intent.order_id)
        now = engine.now()
        ours, theirs = intent.status, said.status
        closed = subject.closed
        status, follow = ours, FollowUp.NONE
        if theirs is PaymentStatus.AUTHORIZED:
            if ours is PaymentStatus.PENDING and not closed:
                status = PaymentStatus.AUTHORIZED
            elif ours in (PaymentStatus.PENDING, PaymentStatus.VOIDED, PaymentStatus.FAILED) or closed:
                status = PaymentStatus.VOIDED if ours is PaymentStatus.PENDING else ours
                follow = FollowUp.VOID  # held for an order that closed meanwhile: release it
            if status is PaymentStatus.AUTHORIZED and subject.capture_at_once:
                follow = FollowUp.CAPTURE  # a gift's hold: taken now (again, after a capture that failed)
        elif theirs is PaymentStatus.CAPTURED:
            if ours in (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED):
                status = PaymentStatus.CAPTURED
            owed = intent.amount.amount - max(intent.refunded, said.refunded) - intent.manual_refund
            if (closed or status is not PaymentStatus.CAPTURED) and owed > 0:
                follow = FollowUp.REFUND  # taken for an order that closed (or after we gave up on it)
        elif theirs is PaymentStatus.REFUNDED:
            if ours is PaymentStatus.CAPTURED:
                status = PaymentStatus.REFUNDED
        elif theirs in (PaymentStatus.VOIDED, PaymentStatus.FAILED):
            if ours is PaymentStatus.PENDING:
                status = theirs
            elif ours is PaymentStatus.AUTHORIZED:
                status = PaymentStatus.VOIDED
            elif ours is PaymentStatus.CAPTURED:
                log.error("payment %s: %s says %s of a captured payment", intent.id, intent.provider, theirs.value)
            elif intent.charge_id and intent.refunded + intent.manual_refund < intent.amount.amount:
                follow = FollowUp.REFUND  # Telegram took money for an order that had closed: still owed back
        refunded = intent.amount.amount if theirs is PaymentStatus.REFUNDED else max(intent.refunded, said.refunded)
        # nothing more can happen at the provider but what we ask of it: a captured payment changes only by
        # our refunds, a released or failed one not at all
        settled = follow is FollowUp.NONE and theirs in (PaymentStatus.CAPTURED, PaymentStatus.VOIDED,
                                                         PaymentStatus.FAILED, PaymentStatus.REFUNDED)
        changed = (status, refunded, settled) != (intent.status, intent.refunded, intent.settled)
        if not changed and charge is None and not (said.provider_ref and not intent.provider_ref):
            return intent, follow
        if status is not ours:
            ensure_transition(ours, status)
        before = intent
        intent = dataclasses.replace(intent, status=status, refunded=refunded, settled=settled, updated_at=now,
                                     provider_ref=intent.provider_ref or said.provider_ref)
        await uow.payments.update(intent)
        if refunded > before.refunded and not (status is PaymentStatus.REFUNDED and ours is not status):
            # a part given back, or money taken after the order closed given back whole
            await engine.emit(uow, subject.event(EventType.PAYMENT_REFUNDED, now, provider=intent.provider,
                                          refunded=refunded, amount=refunded - before.refunded,
                                          partial=refunded < intent.amount.amount))
        if status is not ours:
            await engine.emit(uow, subject.event(EVENTS[status], now, provider=intent.provider,
                                                 refunded=refunded, amount=refunded - before.refunded))
            await subject.changed(engine, uow, ours, status, now)  # an order paid or lost, a gift active
        return intent, follow


def _closing(order: Order, prefer: OrderStatus = OrderStatus.CANCELLED) -> OrderStatus:
    """How an open order ends when its money is gone: ``prefer`` where its table allows, else the other."""
    other = OrderStatus.EXPIRED if prefer is OrderStatus.CANCELLED else OrderStatus.CANCELLED
    return prefer if prefer in ORDER_TRANSITIONS[order.status] else other


# --- the use cases ---------------------------------------------------------------------------------

async def payment_notice(self: Engine, provider_name: str, provider_ref: str) -> bool:
    """A provider's notification that a payment changed (YooKassa's webhook). Its body is never trusted:
    the payment is asked of the provider again by id, and only that answer changes anything. False for a
    payment we do not know. ``PaymentUnavailable`` when the provider cannot be asked (it notifies again)."""
    provider = self.providers.get(provider_name)
    if provider is None or not provider_ref:
        return False
    async with self.read() as uow:
        intent = await uow.payments.by_provider_ref(provider_name, provider_ref)
    if intent is None:
        return False
    await apply(self, intent.id, await provider.status(intent))
    return True


@dataclass(frozen=True, slots=True)
class Reconciled:
    checked: int  # payments asked about
    changed: int  # whose state changed by what the provider said
    unavailable: int  # the provider could not be asked: tried again next time


async def reconcile(self: Engine) -> Reconciled:
    """Ask each online provider about every payment it may still change (pending, held, or closed on our
    side while the provider was still open), and apply the answers: a lost notification or a crash
    between a provider's success and our commit is repaired here."""
    from .packs import reconcile_stars

    online = [name for name, provider in self.providers.items() if provider.online]
    async with self.read() as uow:
        intents = await uow.payments.unsettled(online)
    changed = unavailable = 0
    try:
        changed += await reconcile_stars(self)
    except PaymentUnavailable as e:
        log.warning("reconcile: Telegram cannot tell of its Star transactions: %s", e)
        unavailable += 1
    for intent in intents:
        try:
            said = await self.providers[intent.provider].status(intent)
            after = await apply(self, intent.id, said)
        except PaymentUnavailable as e:
            log.warning("reconcile: %s cannot tell of payment %s: %s", intent.provider, intent.id, e)
            unavailable += 1
            continue
        if after is not None and (after.status, after.refunded, after.settled) != (
                intent.status, intent.refunded, intent.settled):
            changed += 1
    return Reconciled(len(intents), changed, unavailable)


async def started(engine: Engine, payment_id: str, result: PaymentResult) -> None:
    """What the provider answered to a new payment: where the customer pays, and its state."""
    async with engine.uow() as uow:
        intent = await _intent(uow, payment_id)
        await uow.payments.update(dataclasses.replace(intent, provider_ref=result.provider_ref or intent.provider_ref,
                                                      link=result.confirmation_url or intent.link,
                                                      updated_at=engine.now()))
    if result.status is not PaymentStatus.PENDING:
        await apply(engine, payment_id, result)


async def give_back(engine: Engine, order_id: str) -> None:
    """After an order closed: release its hold or refund what was taken (outside any unit of work)."""
    async with engine.read() as uow:
        intent = await uow.payments.for_order(order_id)
    if intent is None or engine.providers.get(intent.provider) is None:
        return
    if intent.status is PaymentStatus.AUTHORIZED:
        await _follow_up(engine, intent, FollowUp.VOID)
    elif intent.status is PaymentStatus.CAPTURED and intent.refunded < intent.amount.amount:
        await _follow_up(engine, intent, FollowUp.REFUND)


async def release_stale_holds(engine: Engine) -> list[str]:
    """Orders whose money has been held nearly as long as the provider keeps a hold: closed and released,
    never captured late."""
    from . import gifts

    online = [name for name, provider in engine.providers.items() if provider.online and provider.two_stage]
    cutoff = engine.now() - HOLD_LIMIT
    released = []
    async with engine.uow() as uow:
        for intent in await uow.payments.unsettled(online):
            if intent.status is not PaymentStatus.AUTHORIZED or intent.created_at is None \
                    or intent.created_at > cutoff or gifts.is_gift(intent.order_id):  # a gift's is captured
                continue
            order = await _load(uow, intent.order_id)
            if order.status.is_open:
                await _close(engine, uow, order, _closing(order, OrderStatus.EXPIRED), engine.now(), "hold_expired")
                released.append(order.id)
    for order_id in released:
        await give_back(engine, order_id)
    return released


async def capture_held(engine: Engine, intent: PaymentIntent) -> None:
    """Take the held money before the goods leave the counter (``hand_over`` has checked the order; outside any
    unit of work): once (the provider's idempotence key makes a second staff member's capture the same
    request), and never for a hold about to lapse."""
    if intent.created_at is not None and engine.now() - intent.created_at > HOLD_LIMIT:
        await release_stale_holds(engine)
        raise DomainError(ErrorCode.PAYMENT_FAILED, "the payment was held too long and has been released")
    try:
        result = await engine.provider(intent.provider).capture(intent)
    except PaymentUnavailable as e:
        raise DomainError(ErrorCode.PAYMENT_FAILED, f"the payment provider cannot be reached: {e}") from None
    if result.status is not PaymentStatus.CAPTURED:
        raise DomainError(ErrorCode.PAYMENT_FAILED, result.error or result.status.value)
    await apply(engine, intent.id, result)


# --- Telegram invoices -----------------------------------------------------------------------------

async def check_invoice(self: Engine, payment: InvoicePayment) -> None:
    """Telegram's pre-checkout: the order must still wait for this very payment, for this amount, with its
    goods. Refused with ``payment_failed`` (what is wrong in the detail) otherwise; approving it keeps the
    order from expiring unpaid while Telegram takes the money."""
    async with self.uow() as uow:
        intent = await uow.payments.get(payment.payload)
        if intent is None or intent.provider != "telegram":
            raise DomainError(ErrorCode.ORDER_NOT_FOUND, "unknown invoice")
        if (payment.currency, payment.total) != (intent.amount.currency, intent.amount.amount):
            raise DomainError(ErrorCode.PAYMENT_FAILED, f"wrong amount: {payment.total} {payment.currency}, "
                                                        f"the order costs {intent.amount.amount}")
        from . import gifts

        if gifts.is_gift(intent.order_id):  # a gift's invoice: the gift must still wait for it
            await gifts.check_gift_invoice(uow, intent)
            await uow.payments.update(dataclasses.replace(intent, updated_at=self.now()))
            return
        order = await _load(uow, intent.order_id)
        if intent.status is not PaymentStatus.PENDING or order.status is not OrderStatus.PLACED:
            raise DomainError(ErrorCode.INVALID_TRANSITION, f"the order is {order.status.value}, "
                                                            f"its payment {intent.status.value}")
        items = await uow.catalog.items_by_id(line.item_id for line in order.lines)
        gone = [line.name for line in order.lines if line.item_id not in items or not items[line.item_id].available]
        if gone:
            raise DomainError(ErrorCode.ITEM_UNAVAILABLE, ", ".join(gone))
        now = self.now()
        await uow.payments.update(dataclasses.replace(intent, updated_at=now))  # approved now: see expire_due


async def invoice_paid(self: Engine, payment: InvoicePayment) -> PaymentIntent | None:
    """Telegram's ``successful_payment``: the money is taken. Fulfilled once per charge id however often
    Telegram says it; for an order that closed meanwhile the money goes back (or the owner is told)."""
    return await apply(self, payment.payload, PaymentResult(PaymentStatus.CAPTURED), charge=payment)


# --- the owner ---------------------------------------------------------------------------------------

async def refund(self: Engine, actor: CustomerRef, order_id: str, amount: Money | None = None) -> PaymentIntent:
    """Give back all or part of an order's captured payment (a missing item, a complaint). Owners only."""
    require_owner(self, actor)
    async with self.read() as uow:
        intent = await uow.payments.for_order(order_id)
        if intent is None:
            raise DomainError(ErrorCode.ORDER_NOT_FOUND, order_id)
    left = intent.amount.amount - intent.refunded
    wanted = amount.amount if amount is not None else left
    if intent.status is not PaymentStatus.CAPTURED or left <= 0:
        raise DomainError(ErrorCode.INVALID_TRANSITION, f"the payment is {intent.status.value}")
    if not 0 < wanted <= left:
        raise DomainError(ErrorCode.BAD_INPUT, f"between 0.01 and {Money(left, intent.amount.currency)}")
    try:
        result = await self.provider(intent.provider).refund(intent, Money(wanted, intent.amount.currency))
    except PaymentUnavailable as e:
        raise DomainError(ErrorCode.PAYMENT_FAILED, f"the payment provider cannot be reached: {e}") from None
    if result.error == "manual":
        done = await _manual_refund(self, intent.id, wanted)
        from . import gifts

        if gifts.is_gift(order_id):  # a gift whose money the owner gives back by hand ends too
            await gifts.refunded_by_hand(self, order_id)
        return done
    if result.error:
        raise DomainError(ErrorCode.PAYMENT_FAILED, result.error)
    return await apply(self, intent.id, result) or intent
