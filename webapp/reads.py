"""Reads the Mini App needs and the engine has no use case for yet.

Each goes through ``engine.read()`` (a read-only snapshot) and the journey's own ports and rules
(``engine.staff_points``), never around them; they are candidates to move into ``journey``.
"""
from __future__ import annotations

from dataclasses import dataclass

from journey.catalog import PickupPoint
from journey.channels import CustomerRef
from journey.engine import Engine
from journey.model import Order, PaymentIntent, ShopRules


@dataclass(frozen=True, slots=True)
class OrderDetails:
    """An order with what its view shows beside it: payment, pickup point, customer's name."""

    order: Order
    payment: PaymentIntent | None
    point: PickupPoint | None
    customer_name: str


async def customer_language(engine: Engine, ref: CustomerRef) -> str:
    """The language the customer chose (``PATCH /api/me``), else the one of their launch."""
    async with engine.read() as uow:
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
    return customer.language if customer else ref.language


async def balance(engine: Engine, ref: CustomerRef) -> int:
    async with engine.read() as uow:
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
        return await uow.loyalty.balance(customer.id) if customer else 0


async def staff_points(engine: Engine, ref: CustomerRef) -> set[str]:
    """Points where this account (or one linked to it) is staff; ``{"*"}`` means everywhere."""
    async with engine.read() as uow:
        return await engine.staff_points(uow, ref)


async def order_details(engine: Engine, order_ids: list[str]) -> list[OrderDetails]:
    """Full views of orders the caller was already allowed to see, from one snapshot."""
    async with engine.read() as uow:
        points = {p.id: p for p in await uow.catalog.points()}
        names: dict[str, str] = {}
        details = []
        for order_id in order_ids:
            order = await uow.orders.get(order_id)  # with its history, which list queries leave out
            if order is None:
                continue
            if order.customer_id not in names:
                customer = await uow.customers.get(order.customer_id)
                names[order.customer_id] = customer.name if customer else ""
            details.append(OrderDetails(order, await uow.payments.for_order(order_id), points.get(order.point_id),
                                        names[order.customer_id]))
    return details


async def shop(engine: Engine) -> tuple[ShopRules, list[PickupPoint]]:
    """The shop rules and pickup points, without loading the menu."""
    async with engine.read() as uow:
        return await engine.rules(uow), await uow.catalog.points()
