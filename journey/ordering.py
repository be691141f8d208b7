"""Orders: quote, place, accept, mark ready, hand over, cancel (what expires by itself: expiry.py).

Each state change is one named function: it checks the transition table, writes the change, its
side effects (stock, points, payment) and its domain events in one unit of work. Calls to an online
payment provider happen between units of work, never while one is open.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from . import (
    gifts,  # gifts
    loyalty,  # points: tiers, the birthday offer
    pickup,
    pricing,
    referrals,
    regulars,  # regulars
    suggestions,
)
from .catalog import PickupPoint
from .channels import CustomerRef
from .customers import find_or_create, require_staff, serves, staff_points
from .deeplinks import DeepLink
from .errors import DomainError, ErrorCode
from .events import DomainEvent, EventType
from .ids import new_id
from .model import CartLine, LedgerEntry, Order, PaymentIntent, Quote, ShopRules
from .notices import NewOrderNotice
from .order_views import OrderView, _load, _view, access, not_found, table_of
from .payments import awaiting, check_method
from .ports import Checkout, PaymentResult, UnitOfWork
from .states import OrderStatus, PaymentStatus, ensure_transition

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger(__name__)
PICKUP_WINDOW = timedelta(days=2)
PICKUP_TOLERANCE = timedelta(minutes=1)
SLOT = timedelta(minutes=15)  # the pickup times offered: quarter hours
SHORT_CODE_DRAWS = 5  # the first draw reads nothing (the open codes' unique index refuses a code in use); each
# later one avoids the codes in use, so only a code drawn elsewhere at that moment fails


def _event(kind: EventType, order: Order, at: datetime, **extra: object) -> DomainEvent:
    return DomainEvent(kind, {"order_id": order.id, "customer_id": order.customer_id, "point_id": order.point_id,
                              "short_code": order.short_code, "account": order.account, "total": order.total.amount,
                              "currency": order.total.currency, **extra}, at)


async def _point(uow: UnitOfWork, point_id: str) -> PickupPoint:
    point = await uow.catalog.point(point_id)
    if point is None:
        raise DomainError(ErrorCode.POINT_NOT_FOUND, point_id)
    return point


def _pickup_time(point: PickupPoint, rules: ShopRules, now: datetime, wanted: datetime | None) -> datetime:
    earliest = now + timedelta(minutes=point.prep_minutes)
    at = wanted or earliest
    if at.tzinfo is None:
        raise DomainError(ErrorCode.BAD_PICKUP_TIME, "time zone required")
    if at < earliest - PICKUP_TOLERANCE or at > now + PICKUP_WINDOW:
        raise DomainError(ErrorCode.BAD_PICKUP_TIME)
    if not point.hours.is_open(at.astimezone(ZoneInfo(rules.timezone))):
        raise DomainError(ErrorCode.POINT_CLOSED)
    return at


@dataclass(frozen=True, slots=True)
class PickupTimes:
    """The pickup times a point can serve for an order placed at ``now``: what the checkout offers."""

    point_id: str
    asap: datetime | None  # "as soon as possible" (no time asked for); None: the point cannot serve that
    slots: tuple[datetime, ...]  # every quarter hour from the earliest until closing, within one local day
    opens_at: datetime | None  # with no asap: when the point opens (None: not within the pickup window)


def _serves(point: PickupPoint, rules: ShopRules, now: datetime, wanted: datetime | None) -> bool:
    try:
        _pickup_time(point, rules, now, wanted)
    except DomainError:
        return False
    return True


def pickup_times(point: PickupPoint, rules: ShopRules, now: datetime) -> PickupTimes:
    """The times ``_pickup_time`` accepts at ``now``, so a time offered is not refused (the earliest moves on
    with the clock: a client asks again before placing). Quarter hours of the shop's clock (every time zone is
    a whole number of quarter hours from UTC) from the preparation time on, until closing or the end of that
    day: today's, or the next opening's when the point is closed or closes before an order could be ready."""
    zone = ZoneInfo(rules.timezone)
    earliest = now + timedelta(minutes=point.prep_minutes)
    step = SLOT.total_seconds()
    at = datetime.fromtimestamp(math.ceil(earliest.timestamp() / step) * step, UTC)  # the next quarter hour
    slots: list[datetime] = []
    while at <= now + PICKUP_WINDOW:
        if _serves(point, rules, now, at) and (
                not slots or at.astimezone(zone).date() == slots[0].astimezone(zone).date()):
            slots.append(at)
        elif slots:
            break
        at += SLOT
    if _serves(point, rules, now, None):
        return PickupTimes(point.id, earliest, tuple(slots), None)
    return PickupTimes(point.id, None, tuple(slots), _opening(point, zone, slots[0]) if slots else None)


def _opening(point: PickupPoint, zone: ZoneInfo, first: datetime) -> datetime:
    """When the point opens on the day of ``first``: the first slot of a point that cannot serve at once is
    in the next run of its hours, at or after that day's opening (a quarter hour later when it opens at 8:05)."""
    local = first.astimezone(zone)
    span = point.hours.days[local.weekday()]
    return (local.replace(hour=span[0].hour, minute=span[0].minute) if span else local).astimezone(UTC)


async def pickup_slots(self: Engine, point_id: str, now: datetime | None = None) -> PickupTimes:
    """The pickup times a point can serve for an order placed now (or at ``now``)."""
    async with self.read() as uow:
        point = await _point(uow, point_id)
        rules = await self.rules(uow)
    return pickup_times(point, rules, now or self.now())


async def _quote(engine: Engine, uow: UnitOfWork, customer_id: str, cart: Sequence[CartLine],
                 promo_code: str | None, points: int, *, group_percent: int = 0,
                 gift_cover: int = 0, cap: bool = True) -> tuple[Quote, ShopRules]:
    """The cart priced; ``cap=False``: the quote's ``points_cap`` is not wanted (placing an order), so the
    balance is read only when points are spent (0 stands for it otherwise: nothing is checked against it)."""
    rules = await engine.rules(uow)
    items = await uow.catalog.items_by_id(line.item_id for line in cart)
    promo = None
    if promo_code:
        code = promo_code.strip().upper()
        promo = pricing.check_promo(await uow.promos.get(code), code, engine.now(),
                                    await uow.promos.uses_by(code, customer_id))
    balance = await uow.loyalty.balance(customer_id) if cap or points else 0
    birthday = await loyalty.birthday_percent(engine, uow, customer_id, rules)  # the birthday offer
    return pricing.quote(items, cart, rules, promo=promo, balance=balance, points=points,
                         group_percent=group_percent, birthday_percent=birthday, gift_cover=gift_cover), rules


async def _within_open_limit(uow: UnitOfWork, customer_id: str, rules: ShopRules) -> None:
    """Refuse one more order to a customer already holding the shop's limit: orders never collected
    must not keep the stock from everyone else."""
    if not rules.max_open_orders:
        return
    held = await uow.orders.count_open_for_customer(customer_id)
    if held >= rules.max_open_orders:
        raise DomainError(ErrorCode.TOO_MANY_OPEN_ORDERS, f"{held} open, the limit is {rules.max_open_orders}")


async def quote(self: Engine, ref: CustomerRef, cart: Sequence[CartLine], *, promo_code: str | None = None,
                points: int = 0) -> Quote:
    """A price preview: the same computation as placing, nothing written."""
    async with self.read() as uow:
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
        return (await _quote(self, uow, customer.id if customer else "", cart, promo_code, points))[0]


async def place_order(self: Engine, ref: CustomerRef, cart: Sequence[CartLine], point_id: str, *,
                      pickup_at: datetime | None = None, promo_code: str | None = None, points: int = 0,
                      provider: str = "counter", source: str = "", request_id: str | None = None,
                      return_url: str = "", email: str = "", group_percent: int = 0,
                      link: DeepLink | None = None, gift_id: str | None = None,
                      consented: bool = False) -> OrderView:
    """Price on the server, reserve stock, spend points, create the order and its payment intent; an online
    payment is then started with its provider, and the order waits for it hidden from the staff.

    ``request_id`` makes a retried request return the first order instead of placing a second one.
    ``return_url`` (the order's id is appended) is where a provider's page sends the customer back;
    ``email`` receives the receipt when the provider sends receipts.
    ``group_percent``: a group order's discount, decided by journey/groups.py when the group closed.
    ``link``: the start parameter the Mini App was opened with; a first touch (a friend's referral) is
    recorded with the customer.
    ``gift_id``: a gift the customer took pays for the cart up to its amount, and the order is the gift's
    (journey/gifts.py checks it may be used, in the same unit of work).
    ``consented``: the caller checked the consent to processing (a group's orders, when its members joined);
    otherwise it is refused with ``consent_required`` when the shop asks for one (journey/privacy.py).
    """
    from . import paying, privacy

    payment_provider = check_method(self, ref, provider)
    if payment_provider.needs_email and not email:
        raise DomainError(ErrorCode.EMAIL_REQUIRED)
    now = self.now()
    async with self.uow() as uow:
        key = f"req:{ref.key}:{request_id}" if request_id else None
        if key and (existing := await uow.payments.by_idempotency_key(key)):
            return await _view(self, uow, existing.order_id)
        customer = await find_or_create(self, uow, ref, link)
        await privacy.admit(self, uow, ref, customer, ask=not consented)
        point = await _point(uow, point_id)
        gift = await gifts.gift_for_order(uow, gift_id, customer.id) if gift_id else None  # gifts
        q, rules = await _quote(self, uow, customer.id, cart, promo_code, points, group_percent=group_percent,
                                gift_cover=gift.amount.amount if gift else 0, cap=False)
        await _within_open_limit(uow, customer.id, rules)
        when = _pickup_time(point, rules, now, pickup_at)
        stock = await uow.catalog.stock(point.id)
        needed: dict[str, int] = {}
        for line in q.lines:
            needed[line.item_id] = needed.get(line.item_id, 0) + line.quantity
        for item_id, quantity in sorted(needed.items()):  # in one order of rows: two carts cannot deadlock
            left = stock.get(item_id)
            if left is not None:  # counted at this point (None: made to order)
                if left < quantity:
                    raise DomainError(ErrorCode.OUT_OF_STOCK, item_id)
                await uow.catalog.change_stock(point.id, item_id, -quantity)
        order = Order(new_id("o"), customer.id, point.id, OrderStatus.PLACED, q.lines, q.subtotal, q.discount,
                      q.points_spent, q.total, when, "", now, now, q.promo_code, source, payment_provider.name, ref.key)
        in_use: set[str] = set()  # a first draw is nearly always free: the codes in use are read when it is not
        for draw in range(SHORT_CODE_DRAWS):  # two instances may draw one free code at once: the second draws again
            if draw:
                in_use = await uow.orders.short_codes_in_use(point.id)
            order.short_code = pickup.new_short_code(in_use)
            if await uow.orders.add(order):
                break
        else:
            raise DomainError(ErrorCode.CONFLICT, "no free short code at this point")
        if q.promo_code:
            await uow.promos.record_use(q.promo_code, customer.id, order.id)
        if q.birthday:  # the birthday offer: this year's, until the order is cancelled or expires
            await loyalty.birthday_used(self, uow, customer.id, order.id, rules)
        if q.points_spent:
            await uow.loyalty.add(LedgerEntry(customer.id, -q.points_spent, "spend", order.id, now))
            await self.emit(uow, _event(EventType.POINTS_SPENT, order, now, points=q.points_spent))
        intent = PaymentIntent(new_id("pay"), order.id, payment_provider.name, q.total, PaymentStatus.PENDING,
                               key or f"order:{order.id}", "", now, now)
        await uow.payments.add(intent)
        if gift is not None:  # gifts: the gift is this order's until it is handed over or closes
            await gifts.ordered(self, uow, gift, order, now)
        await self.emit(uow, _event(EventType.ORDER_PLACED, order, now, **NewOrderNotice.of(order).event_data(),
                                     table=table_of(order), awaiting_payment=payment_provider.online))
    if payment_provider.online:
        async with self.read() as uow:
            shop = (await self.rules(uow)).name
        english = ref.language.startswith("en")
        description = f"{'Order' if english else 'Заказ'} {order.short_code} — {shop}"
        try:
            result = await payment_provider.start(intent, Checkout(order, description, return_url + order.id if
                                                                   return_url else "", ref.language, email))
        except Exception as e:  # the gateway is down or refused: the order must not hang on to the stock
            log.warning("payment provider %s failed to start: %r", payment_provider.name, e)
            result = PaymentResult(PaymentStatus.FAILED, error=str(e))
        await paying.started(self, intent.id, result)
        if result.status is PaymentStatus.FAILED:
            raise DomainError(ErrorCode.PAYMENT_FAILED, result.error)
        async with self.read() as uow:
            return await _view(self, uow, order.id)
    # paid at the counter: nothing changed since the commit but what was written here, so the view is made of
    # it as a read would return it (times in UTC, the history of one step) instead of reading it back
    order.history = [(OrderStatus.PLACED, now)]
    return OrderView(_as_read(order), _intent_as_read(intent), pickup.sign_token(self.secret, order.id))


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC) if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _as_read(order: Order) -> Order:
    """The order as the storage reads it back: its times in UTC (``storage.rows.ts`` writes them so)."""
    return replace(order, pickup_at=_utc(order.pickup_at), created_at=_utc(order.created_at),
                   updated_at=_utc(order.updated_at), history=[(s, _utc(at)) for s, at in order.history])


def _intent_as_read(intent: PaymentIntent) -> PaymentIntent:
    return replace(intent, created_at=intent.created_at and _utc(intent.created_at),
                   updated_at=intent.updated_at and _utc(intent.updated_at))


async def _close(engine: Engine, uow: UnitOfWork, order: Order, status: OrderStatus, now: datetime,
                 reason: str) -> None:
    """Cancel or expire: give back stock not yet made, points spent and the promo use."""
    ensure_transition(order.status, status)
    made = order.status is OrderStatus.READY
    await uow.orders.set_status(order.id, status, now)
    if not made:
        stock = await uow.catalog.stock(order.point_id)
        for line in sorted(order.lines, key=lambda line: line.item_id):  # rows in the order place_order takes them
            if line.item_id in stock:
                await uow.catalog.change_stock(order.point_id, line.item_id, line.quantity)
    if order.points_spent:
        await uow.loyalty.add(LedgerEntry(order.customer_id, order.points_spent, "refund", order.id, now))
    if order.promo_code:
        await uow.promos.release_use(order.promo_code, order.id)
    intent = await uow.payments.for_order(order.id)
    if intent is not None and intent.status is PaymentStatus.PENDING:
        await uow.payments.set_status(intent.id, PaymentStatus.VOIDED, now)
    kind = EventType.ORDER_CANCELLED if status is OrderStatus.CANCELLED else EventType.ORDER_EXPIRED
    await engine.emit(uow, _event(kind, order, now, reason=reason))
    await gifts.order_closed(engine, uow, order, now)  # gifts: the gift may be ordered with again


async def _staff_change(engine: Engine, actor: CustomerRef, order_id: str, target: OrderStatus,
                        kind: EventType) -> Order:
    async with engine.uow() as uow:
        points = await staff_points(engine, uow, actor)
        if not points:  # staff nowhere: refused before the order is looked for
            raise DomainError(ErrorCode.NOT_STAFF)
        # only staff of its point may: whether the order exists or not, the same query runs before the one
        # decision (the actor's points are known), so an id reveals nothing, as with ``access``
        order = await uow.orders.get(order_id)
        if order is None or not serves(points, order.point_id):
            raise not_found(order_id)  # another point's order (even the actor's own): as if it did not exist
        # not the staff's until it is paid: only an online payment can wait, and an order's payment is started
        # with the order's provider (place_order makes both), so paid at the counter it is not read
        provider = engine.providers.get(order.payment_provider)
        if (provider is None or provider.online) and awaiting(engine, await uow.payments.for_order(order.id)):
            raise DomainError(ErrorCode.PAYMENT_FAILED, "not paid yet")
        ensure_transition(order.status, target)
        now = engine.now()
        await uow.orders.set_status(order.id, target, now)
        await engine.emit(uow, _event(kind, order, now, by=actor.key))
        order.status = target
    return order


async def accept(self: Engine, actor: CustomerRef, order_id: str) -> Order:
    return await _staff_change(self, actor, order_id, OrderStatus.ACCEPTED, EventType.ORDER_ACCEPTED)


async def mark_ready(self: Engine, actor: CustomerRef, order_id: str) -> Order:
    return await _staff_change(self, actor, order_id, OrderStatus.READY, EventType.ORDER_READY)


async def find_for_pickup(self: Engine, actor: CustomerRef, *, token: str | None = None,
                          short_code: str | None = None, point_id: str | None = None) -> Order:
    """The open order a staff member scanned (token) or typed (short code). Only staff may look.

    A code whose order was already handed over is refused with ``already_picked_up``, so a double
    scan says what happened rather than "no such code"."""
    async with self.read() as uow:
        return await _find_for_pickup(self, uow, actor, token=token, short_code=short_code, point_id=point_id)


async def _find_for_pickup(self: Engine, uow: UnitOfWork, actor: CustomerRef, *, token: str | None,
                           short_code: str | None, point_id: str | None) -> Order:
    """``find_for_pickup`` in a unit of work."""
    points = await staff_points(self, uow, actor)
    if not points:
        raise DomainError(ErrorCode.NOT_STAFF)
    if token:
        order_id = pickup.verify_token(self.secret, token)
        order = await uow.orders.get(order_id) if order_id else None
        if order is None:
            raise DomainError(ErrorCode.PICKUP_CODE_INVALID)
    else:
        code = (short_code or "").strip()
        if not code.isdigit():
            raise DomainError(ErrorCode.PICKUP_CODE_INVALID)
        found = [o for o in await uow.orders.by_short_code(point_id, code) if serves(points, o.point_id)]
        if not found:
            last = await uow.orders.last_with_short_code(point_id, code, since=self.now() - timedelta(hours=12))
            if last is not None and last.status is OrderStatus.PICKED_UP and serves(points, last.point_id):
                raise DomainError(ErrorCode.ALREADY_PICKED_UP)
        if len(found) != 1:
            raise DomainError(ErrorCode.PICKUP_CODE_INVALID,
                              "" if not found else "the same code is open at several points: choose the point")
        order = found[0]
    if not serves(points, order.point_id):  # as require_staff, with the points already read
        raise DomainError(ErrorCode.NOT_STAFF)
    return order


async def hand_over(self: Engine, actor: CustomerRef, *, order_id: str | None = None, token: str | None = None,
                    short_code: str | None = None, point_id: str | None = None) -> Order:
    """Give the order to the customer: capture the payment, earn points. A second hand-over is refused.

    One unit of work looks the order up (by code or token, as ``find_for_pickup``), checks it and hands it
    over; an online payment held at checkout is captured first, between units of work: the first one then
    ends on finding it, writing nothing, and a second hands the order over once the money is taken."""
    from . import paying

    held = None
    while True:
        async with self.uow() as uow:
            if order_id is None:
                found = await _find_for_pickup(self, uow, actor, token=token, short_code=short_code,
                                               point_id=point_id)
                order_id = found.id
                # by token it was read as _load reads it; by code read again: on PostgreSQL, locked now
                order = found if token else await _load(uow, order_id)
            else:
                order = await _load(uow, order_id)
                await require_staff(self, uow, actor, order.point_id)
            ensure_transition(order.status, OrderStatus.PICKED_UP)
            # paid at the counter (an order's payment is started with its provider): pending until now, taken in
            # one statement; only an online payment may wait or be held, so only then is it read first
            provider = self.providers.get(order.payment_provider)
            counter = provider is not None and not provider.online
            intent = None if counter else await uow.payments.for_order(order.id)
            if held is None and intent is not None and intent.status is PaymentStatus.AUTHORIZED:
                held = intent  # a held online payment: captured before the goods go, outside this unit of work
            else:
                await _hand_over(self, uow, actor, order, intent, counter)
                return order
        await paying.capture_held(self, held)


async def _hand_over(engine: Engine, uow: UnitOfWork, actor: CustomerRef, order: Order,
                     intent: PaymentIntent | None, counter: bool) -> None:
    now = engine.now()
    if counter:
        if (taken := await uow.payments.capture_pending(order.id, now)) is not None:  # money taken at the counter
            await engine.emit(uow, _event(EventType.PAYMENT_CAPTURED, order, now, provider=taken.provider))
    elif intent is not None and intent.status is PaymentStatus.PENDING:
        if awaiting(engine, intent):
            raise DomainError(ErrorCode.PAYMENT_FAILED, "not paid yet")
        await uow.payments.set_status(intent.id, PaymentStatus.CAPTURED, now)  # money taken at the counter
        await engine.emit(uow, _event(EventType.PAYMENT_CAPTURED, order, now, provider=intent.provider))
    await uow.orders.set_status(order.id, OrderStatus.PICKED_UP, now)
    rules = await engine.rules(uow)
    earned = await loyalty.earned_at_pickup(engine, uow, order, now, rules)  # the customer's tier
    await engine.emit(uow, _event(EventType.ORDER_PICKED_UP, order, now, by=actor.key, points_earned=earned))
    await _earn(engine, uow, order, now, rules, earned)
    await regulars.picked_up(engine, uow, order, now, rules)  # regulars: the N-th pickup invites
    await gifts.picked_up(engine, uow, order, now)  # gifts: the gift is redeemed
    # last: the shop-wide counts (an item's sales at this hour, items taken together) are rows every
    # hand-over updates, and on PostgreSQL their locks are held until the commit, so take them late
    await suggestions.picked_up(uow, order, now, rules)
    order.status = OrderStatus.PICKED_UP


async def _earn(engine: Engine, uow: UnitOfWork, order: Order, now: datetime, rules: ShopRules,
                earned: int) -> None:
    if earned:
        await uow.loyalty.add(LedgerEntry(order.customer_id, earned, "earn", order.id, now))
        await engine.emit(uow, _event(EventType.POINTS_EARNED, order, now, points=earned))
    await referrals.reward(engine, uow, order, now, rules)  # the friend's first pickup rewards both


async def cancel(self: Engine, actor: CustomerRef, order_id: str, reason: str = "") -> Order:
    """The customer may cancel an order nobody accepted yet; staff of its point may cancel it until it is
    ready. Anyone else is told it does not exist (404, as for an unknown id); its customer asking too late
    is told the order's state does not allow it (409), as staff asking after the last step are."""
    async with self.uow() as uow:
        found = await access(self, uow, actor, order_id)
        order, own = found.order, found.own
        if not found.staff and order.status is not OrderStatus.PLACED:
            ensure_transition(order.status, OrderStatus.CANCELLED)  # closed: already_picked_up, invalid_transition
            raise DomainError(ErrorCode.INVALID_TRANSITION, f"{order.status.value}: only staff may cancel it now")
        await _close(self, uow, order, OrderStatus.CANCELLED, self.now(),
                     reason or ("staff" if found.staff and not own else "customer"))
        order.status = OrderStatus.CANCELLED
    from . import paying

    await paying.give_back(self, order_id)
    return order
