"""Orders as their customer and the counter see them: one order, my orders, repeat, the queue."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import pickup
from .channels import CustomerRef
from .customers import staff_points
from .errors import DomainError, ErrorCode
from .model import CartLine, Order, PaymentIntent
from .ports import UnitOfWork

if TYPE_CHECKING:
    from .engine import Engine


@dataclass(frozen=True, slots=True)
class OrderView:
    order: Order
    payment: PaymentIntent | None
    pickup_token: str


async def _load(uow: UnitOfWork, order_id: str) -> Order:
    order = await uow.orders.get(order_id)
    if order is None:
        raise DomainError(ErrorCode.ORDER_NOT_FOUND, order_id)
    return order


def pickup_token(self: Engine, order_id: str) -> str:
    return pickup.sign_token(self.secret, order_id)


async def _view(engine: Engine, uow: UnitOfWork, order_id: str) -> OrderView:
    order = await _load(uow, order_id)
    return OrderView(order, await uow.payments.for_order(order_id), pickup_token(engine, order_id))


async def order_view(self: Engine, viewer: CustomerRef, order_id: str) -> OrderView:
    """An order as its customer (or staff of its point) sees it, with the pickup token."""
    async with self.read() as uow:
        order = await _load(uow, order_id)
        customer = await uow.customers.by_account(viewer.channel, viewer.external_id)
        if customer is None or customer.id != order.customer_id:
            points = await staff_points(self, uow, viewer)
            if "*" not in points and order.point_id not in points:
                raise DomainError(ErrorCode.ORDER_NOT_FOUND, order_id)
        return await _view(self, uow, order_id)


async def orders_of(self: Engine, ref: CustomerRef, limit: int = 20) -> list[Order]:
    """The customer's orders, newest first (one history across linked accounts)."""
    async with self.read() as uow:
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
        return await uow.orders.for_customer(customer.id, limit) if customer else []


async def repeat_lines(self: Engine, ref: CustomerRef, order_id: str | None = None) -> list[CartLine]:
    """The cart of a past order (the last one by default), keeping only what is still on the menu."""
    async with self.read() as uow:
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
        orders = await uow.orders.for_customer(customer.id, 1 if order_id is None else 50) if customer else []
        order = next((o for o in orders if order_id in (None, o.id)), None)
        if order is None:
            raise DomainError(ErrorCode.ORDER_NOT_FOUND, order_id or "")
        items = await uow.catalog.items_by_id(l.item_id for l in order.lines)
    lines = []
    for line in order.lines:
        item = items.get(line.item_id)
        if item is None or not item.available:
            continue
        options = {g: ids for g, ids in line.option_ids.items()
                   if item.group(g) and all(item.group(g).option(o) for o in ids)}
        lines.append(CartLine(item.id, line.quantity, options))
    return lines


async def open_orders(self: Engine, actor: CustomerRef, point_id: str | None = None) -> list[Order]:
    """The counter's queue: open orders of a point (or of every point the actor serves), soonest first."""
    async with self.read() as uow:
        points = await staff_points(self, uow, actor)
        if not points or (point_id is not None and "*" not in points and point_id not in points):
            raise DomainError(ErrorCode.NOT_STAFF)
        known = [p.id for p in await uow.catalog.points()]
        if point_id is not None and point_id not in known:
            raise DomainError(ErrorCode.POINT_NOT_FOUND, point_id)
        wanted = [point_id] if point_id else [p for p in known if "*" in points or p in points]
        orders = [o for p in wanted for o in await uow.orders.open_at(p)]
    return sorted(orders, key=lambda o: (o.pickup_at, o.created_at))
