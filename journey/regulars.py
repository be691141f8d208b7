"""Regulars: after a set number of pickups (the shop rule ``regulars_after``, 0 = off) a customer is
invited to the shop's closed chat, once per person.

The engine decides who and when: at the hand-over that brings a customer's picked-up orders to the
threshold it records the customer as a regular and emits ``regular.reached`` in the same unit of work.
It is recorded once per person: a customer who reached it, or any account merged into them since
(linked accounts), is never invited again, whatever the threshold is changed to. The invitation itself is
the channel's (``ports.ChatInvitations``: Telegram makes a one-person invite link, VK gives the chat's
link); the notifier asks for it when it tells the customer (bot/notifications.py).
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from .events import DomainEvent, EventType
from .model import Order, ShopRules
from .referrals import first_name

if TYPE_CHECKING:
    from .engine import Engine
    from .ports import UnitOfWork


async def picked_up(engine: Engine, uow: UnitOfWork, order: Order, now: datetime, rules: ShopRules) -> None:
    """Called at hand-over, after the order is marked picked up: the pickup that reaches the threshold
    makes the customer a regular (and a later one, if the threshold was lowered below their count)."""
    if rules.regulars_after <= 0:
        return
    pickups = await uow.sharing.pickups(order.customer_id)
    if pickups < rules.regulars_after or await uow.sharing.regular_since(order.customer_id) is not None:
        return
    await uow.sharing.add_regular(order.customer_id, order.id, pickups, now)
    customer = await uow.customers.get(order.customer_id)
    await engine.emit(uow, DomainEvent(EventType.REGULAR_REACHED, {
        "customer_id": order.customer_id, "account": order.account, "order_id": order.id, "pickups": pickups,
        "name": first_name(customer.name) if customer else ""}, now))
