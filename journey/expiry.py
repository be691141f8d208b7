"""Orders that close by themselves: unpaid online orders, counter orders nobody accepted, ready orders
nobody collected by closing time, orders whose payment was held nearly as long as a provider keeps it.

Each expiry goes through the order's transition table like any other change, gives back what ``_close``
gives back (stock not yet made, points, the promo use, a held payment) and writes ``order.expired`` with
the reason (``unpaid``, ``not_accepted``, ``not_collected``), which tells the customer and the staff.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from . import gifts, loyalty  # points; gifts
from .catalog import OpeningHours, PickupPoint
from .groups import close_due_groups
from .model import Order, PaymentIntent, ShopRules
from .order_views import _load
from .ordering import _close
from .paying import PRE_CHECKOUT_GRACE, give_back, release_stale_holds
from .payments import awaiting
from .states import OrderStatus, PaymentStatus

if TYPE_CHECKING:
    from .engine import Engine

WEEK = 7
NEVER_OPEN = OpeningHours((None,) * WEEK)  # a point gone from the menu: the timeout counts from placing


def first_open(hours: OpeningHours, at: datetime) -> datetime:
    """The first moment at or after ``at`` (a local, aware time) when the point is open; ``at`` itself
    when it is open then, or when it never opens (nothing to wait for)."""
    if hours.is_open(at):
        return at
    for days in range(WEEK + 1):
        day = at + timedelta(days=days)
        span = hours.days[day.weekday()]
        if span is None:
            continue
        opens = day.replace(hour=span[0].hour, minute=span[0].minute, second=0, microsecond=0)
        if opens >= at:
            return opens
    return at


def accept_deadline(hours: OpeningHours, placed_at: datetime, zone: ZoneInfo, minutes: int) -> datetime:
    """Staff have ``minutes`` to accept a counter order, counted from when they could first see it: an order
    placed at night for the morning is not lost before the point opens."""
    return first_open(hours, placed_at.astimezone(zone)) + timedelta(minutes=minutes)


def _due_placed(engine: Engine, order: Order, intent: PaymentIntent | None, rules: ShopRules, zone: ZoneInfo,
                hours: OpeningHours, now: datetime) -> str | None:
    """Why a placed order expires now ("unpaid", "not_accepted"), or None."""
    if intent is None or intent.status is not PaymentStatus.PENDING:
        return None  # paid online and waiting for the staff: the customer's money holds the order
    if awaiting(engine, intent):  # a provider no longer configured cannot be paid either
        # a payment touched just now (a Telegram pre-checkout approved) is being paid: wait for it
        touched = intent.updated_at is not None and now < intent.updated_at + PRE_CHECKOUT_GRACE
        if now >= order.created_at + timedelta(minutes=rules.unpaid_timeout_minutes) and not touched:
            return "unpaid"
    elif rules.accept_timeout_minutes and now >= accept_deadline(hours, order.created_at, zone,
                                                                 rules.accept_timeout_minutes):
        return "not_accepted"
    return None


def _due_ready(order: Order, point: PickupPoint | None, zone: ZoneInfo, now: datetime) -> bool:
    """Whether a ready order was not collected by its point's closing time."""
    closes = point.hours.closes_at(order.pickup_at.astimezone(zone)) if point else None
    return closes is not None and now >= closes


async def expire_due(self: Engine) -> list[str]:
    """Expire unpaid online orders and unaccepted counter orders past the shop's timeouts, and ready
    orders not collected by closing time.

    One query reads what the round looks at (the placed orders old enough, the ready ones, each with its
    newest payment); only the orders it finds due are read again as the engine reads an order it changes
    (locked on PostgreSQL) and decided on again before they close."""
    now = self.now()
    expired: list[str] = []
    async with self.uow() as uow:
        rules = await self.rules(uow)
        zone = ZoneInfo(rules.timezone)
        shortest = min(rules.unpaid_timeout_minutes, rules.accept_timeout_minutes or rules.unpaid_timeout_minutes)
        points: dict[str, PickupPoint | None] = {}

        async def point_of(order: Order) -> PickupPoint | None:
            if order.point_id not in points:
                points[order.point_id] = await uow.catalog.point(order.point_id)
            return points[order.point_id]

        for seen, seen_intent in await uow.orders.expiry_candidates(now - timedelta(minutes=shortest)):
            point = await point_of(seen)
            hours = point.hours if point else NEVER_OPEN
            if seen.status is OrderStatus.PLACED:
                if _due_placed(self, seen, seen_intent, rules, zone, hours, now) is None:
                    continue
                intent = await uow.payments.for_order(seen.id)
                order = await _load(uow, seen.id)
                reason = (_due_placed(self, order, intent, rules, zone, hours, now)
                          if order.status is OrderStatus.PLACED else None)
            else:
                if not _due_ready(seen, point, zone, now):
                    continue
                order = await _load(uow, seen.id)
                reason = "not_collected" if order.status is OrderStatus.READY else None
            if reason is not None:
                await _close(self, uow, order, OrderStatus.EXPIRED, now, reason)
                expired.append(order.id)
    for order_id in expired:
        await give_back(self, order_id)
    await close_due_groups(self)  # group orders whose window ended (journey/groups.py)
    await loyalty.sweep(self)  # points: expired ones written off, birthday greetings (journey/loyalty.py)
    await gifts.expire_gifts(self)  # gifts: unpaid ones fail, unredeemed ones expire and are refunded
    return expired + await release_stale_holds(self)
