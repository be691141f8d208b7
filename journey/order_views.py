"""Orders as their customer and the counter see them: one order, my orders, repeat, the queue."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from . import pickup
from .catalog import PickupPoint
from .channels import CustomerRef
from .customers import serves, staff_points
from .errors import DomainError, ErrorCode
from .model import CartLine, Order, PaymentIntent
from .payments import awaiting
from .ports import UnitOfWork

if TYPE_CHECKING:
    from .engine import Engine


@dataclass(frozen=True, slots=True)
class OrderView:
    order: Order
    payment: PaymentIntent | None
    pickup_token: str


@dataclass(frozen=True, slots=True)
class OrderDetails:
    """An order with what its screen shows beside it: payment, pickup point, pickup token, the table it was
    ordered from, how late it is, and, for staff of its point (``staff``), the customer's name (empty for
    anyone else)."""

    order: Order
    payment: PaymentIntent | None
    point: PickupPoint | None
    customer_name: str
    pickup_token: str = ""
    staff: bool = False
    table: str = ""
    late_minutes: int = 0
    link_kind: str = ""  # what the payment's link opens: "confirmation_url" (a page) or "invoice_link"


def table_of(order: Order) -> str:
    """The table of an order placed from a table's QR code (``t<point>_<table>``), "" for any other. The
    order's source is then ``table:<point>:<table>`` (``DeepLink.label``); a table of another point than the
    order's (scanned at one point, ordered at another) is no table of this order."""
    kind, _, rest = order.source.partition(":")
    point, _, table = rest.partition(":")
    return table if kind == "table" and point == order.point_id else ""


def late_minutes(order: Order, now: datetime) -> int:
    """Whole minutes an open order is past its pickup time (0: on time, or closed)."""
    if not order.status.is_open or now <= order.pickup_at:
        return 0
    return int((now - order.pickup_at).total_seconds() // 60)


async def _load(uow: UnitOfWork, order_id: str) -> Order:
    order = await uow.orders.get(order_id)
    if order is None:
        raise DomainError(ErrorCode.ORDER_NOT_FOUND, order_id)
    return order


@dataclass(frozen=True, slots=True)
class Access:
    """What the caller is to an order: its customer (``own``, any linked account), staff of its point
    (``staff``), or both."""

    order: Order
    own: bool
    staff: bool


def not_found(order_id: str) -> DomainError:
    """The one refusal for an order id the caller may not use: someone else's order and an id that does not
    exist are told alike (404 ``order_not_found``, the same detail), so an id reveals nothing."""
    return DomainError(ErrorCode.ORDER_NOT_FOUND, order_id)


async def access(engine: Engine, uow: UnitOfWork, viewer: CustomerRef, order_id: str) -> Access:
    """The order and what ``viewer`` is to it, refused with ``not_found`` when nothing: whether the order
    exists or not, the same queries run (the order, the caller, their points) before the one decision, so
    neither the answer nor the path taken tells an existing id from an unknown one."""
    order = await uow.orders.get(order_id)
    customer = await uow.customers.by_account(viewer.channel, viewer.external_id)
    points = await staff_points(engine, uow, viewer)
    own = order is not None and customer is not None and customer.id == order.customer_id
    staff = order is not None and serves(points, order.point_id)
    if order is None or not (own or staff):
        raise not_found(order_id)
    return Access(order, own, staff)


def pickup_token(self: Engine, order_id: str) -> str:
    return pickup.sign_token(self.secret, order_id)


async def _view(engine: Engine, uow: UnitOfWork, order_id: str) -> OrderView:
    order = await _load(uow, order_id)
    return OrderView(order, await uow.payments.for_order(order_id), pickup_token(engine, order_id))


async def order_view(self: Engine, viewer: CustomerRef, order_id: str) -> OrderView:
    """An order as its customer (or staff of its point) sees it, with the pickup token."""
    async with self.read() as uow:
        await access(self, uow, viewer, order_id)
        return await _view(self, uow, order_id)


async def orders_of(self: Engine, ref: CustomerRef, limit: int = 20) -> list[Order]:
    """The customer's orders, newest first (one history across linked accounts)."""
    async with self.read() as uow:
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
        return await uow.orders.for_customer(customer.id, limit) if customer else []


async def repeat_lines(self: Engine, ref: CustomerRef, order_id: str | None = None) -> list[CartLine]:
    """The cart of a past order of the customer's (the last one by default), keeping only what is still on
    the menu. Only its customer may repeat an order: anyone else is told it does not exist (staff too)."""
    async with self.read() as uow:
        if order_id is None:
            customer = await uow.customers.by_account(ref.channel, ref.external_id)
            order = next(iter(await uow.orders.for_customer(customer.id, 1)), None) if customer else None
            if order is None:
                raise not_found("")
        else:
            found = await access(self, uow, ref, order_id)
            if not found.own:
                raise not_found(order_id)
            order = found.order
        items = await uow.catalog.items_by_id(l.item_id for l in order.lines)
    lines = []
    for line in order.lines:
        item = items.get(line.item_id)
        if item is None or not item.available:
            continue
        options = {g: ids for g, ids in line.option_ids.items()
                   if (group := item.group(g)) is not None and all(group.option(o) for o in ids)}
        lines.append(CartLine(item.id, line.quantity, options))
    return lines


async def open_orders(self: Engine, actor: CustomerRef, point_id: str | None = None) -> list[Order]:
    """The counter's queue: open orders of a point (or of every point the actor serves), soonest first."""
    async with self.read() as uow:
        return await _queue(self, uow, actor, point_id)


async def _served(engine: Engine, uow: UnitOfWork, actor: CustomerRef, point_id: str | None) -> list[str]:
    """The points whose queue the actor asks for: ``point_id``, or every point they serve; refused
    (``not_staff``) to anyone who does not serve it, ``point_not_found`` for a point that does not exist."""
    points = await staff_points(engine, uow, actor)
    if not points or (point_id is not None and not serves(points, point_id)):
        raise DomainError(ErrorCode.NOT_STAFF)
    known = [p.id for p in await uow.catalog.points()]
    if point_id is not None and point_id not in known:
        raise DomainError(ErrorCode.POINT_NOT_FOUND, point_id)
    return [point_id] if point_id else [p for p in known if serves(points, p)]


async def _queue(engine: Engine, uow: UnitOfWork, actor: CustomerRef, point_id: str | None) -> list[Order]:
    wanted = await _served(engine, uow, actor, point_id)
    orders = [o for p in wanted for o in await uow.orders.open_at(p)
              if not awaiting(engine, await uow.payments.for_order(o.id))]  # unpaid online: not the staff's yet
    return sorted(orders, key=lambda o: (o.pickup_at, o.created_at))


async def order_details(self: Engine, viewer: CustomerRef, order_id: str) -> OrderDetails:
    """One order as its screen shows it, to its customer or to staff of its point; anyone else is told
    ``order_not_found``, so an order id reveals nothing about someone else's order."""
    async with self.read() as uow:
        found = await access(self, uow, viewer, order_id)
        return (await _details(self, uow, [found.order], staff=found.staff))[0]


async def my_orders(self: Engine, ref: CustomerRef, limit: int = 20) -> list[OrderDetails]:
    """The customer's orders as their screens show them, newest first (one history across linked accounts)."""
    async with self.read() as uow:
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
        if customer is None:
            return []
        return await _details(self, uow, await uow.orders.for_customer(customer.id, limit), staff=False, listed=True)


BOARD_PAGE = 50  # orders per page of the staff board by default
BOARD_PAGE_MAX = 200


async def staff_board(self: Engine, actor: CustomerRef, point_id: str | None = None, *, after: str | None = None,
                      limit: int = BOARD_PAGE) -> list[OrderDetails]:
    """The counter's screen: open orders of a point (or of every point the actor serves), soonest first,
    with the customers' names, one page of at most ``limit`` (1 to ``BOARD_PAGE_MAX``) at a time: the next
    page starts ``after`` the id of the last order of this one (``board_next``). Refused (``not_staff``) to
    anyone who does not serve the point. One query reads the page, whatever the history or the queue holds."""
    if not 1 <= limit <= BOARD_PAGE_MAX:
        raise DomainError(ErrorCode.BAD_INPUT, f"limit is 1 to {BOARD_PAGE_MAX}")
    async with self.read() as uow:
        wanted = await _served(self, uow, actor, point_id)
        # pending payments of a provider paid at the counter are the staff's to take; any other pending one
        # (online, or a provider no longer configured) is the customer's to pay first (``payments.awaiting``)
        shown = [name for name, provider in self.providers.items() if not provider.online]
        found = await uow.orders.board(wanted, shown_pending=shown, after=after, limit=limit)
        points = {p.id: p for p in await uow.catalog.points()}
    now = self.now()
    details = []
    for row in found:
        provider = self.providers.get(row.payment.provider) if row.payment else None
        details.append(OrderDetails(row.order, row.payment, points.get(row.order.point_id), row.customer_name,
                                    pickup_token(self, row.order.id), True, table_of(row.order),
                                    late_minutes(row.order, now), provider.link if provider else ""))
    return details


def board_next(page: Sequence[OrderDetails], limit: int) -> str | None:
    """Where the staff board's next page starts (``staff_board(after=...)``), None after a page that was not
    full: the id of the page's last order."""
    return page[-1].order.id if len(page) == limit else None


async def _details(engine: Engine, uow: UnitOfWork, orders: Sequence[Order], *, staff: bool,
                   listed: bool = False) -> list[OrderDetails]:
    """Orders the caller may see, with their payments, points and (for staff) customers' names.

    ``listed``: the orders came from a list query, which leaves their status history out."""
    points = {p.id: p for p in await uow.catalog.points()}
    now = engine.now()
    names: dict[str, str] = {}
    details = []
    for order in orders:
        if listed:
            order = await _load(uow, order.id)
        if staff and order.customer_id not in names:
            customer = await uow.customers.get(order.customer_id)
            names[order.customer_id] = customer.name if customer else ""
        payment = await uow.payments.for_order(order.id)
        provider = engine.providers.get(payment.provider) if payment else None
        details.append(OrderDetails(order, payment, points.get(order.point_id), names.get(order.customer_id, ""),
                                    pickup_token(engine, order.id), staff, table_of(order), late_minutes(order, now),
                                    provider.link if provider else ""))
    return details
