"""What those who tell people about events need: who to tell and how, and what the events carry for them.

Order events carry what their messages show (``NewOrderNotice`` on ``order.placed``, ``points_earned`` on
``order.picked_up``), so a notifier reads nothing back. Events stored before they carried it are still
told: the use cases below rebuild the same facts from the order.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .channels import CustomerRef
from .model import Order
from .money import Money

if TYPE_CHECKING:
    from .engine import Engine

@dataclass(frozen=True, slots=True)
class Recipient:
    """Where and in which language to tell a customer something they did not ask for."""

    to: CustomerRef
    language: str
    # why the account cannot be messaged (``Reachability``), read in the same snapshot: "" when it can;
    # None when not read (a delivery then reads it itself). Not part of who the recipient is
    unreachable: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class NoticeLine:
    name: str
    options: tuple[str, ...]  # the option names as chosen
    quantity: int


@dataclass(frozen=True, slots=True)
class NewOrderNotice:
    """What the staff chat's "new order" message shows."""

    order_id: str
    short_code: str
    point_id: str
    pickup_at: datetime
    lines: tuple[NoticeLine, ...]
    total: Money
    provider: str

    @classmethod
    def of(cls, order: Order) -> NewOrderNotice:
        return cls(order.id, order.short_code, order.point_id, order.pickup_at,
                   tuple(NoticeLine(l.name, tuple(l.options), l.quantity) for l in order.lines),
                   order.total, order.payment_provider)

    def event_data(self) -> dict[str, Any]:
        """What ``order.placed`` adds to the fields every order event has (id, code, point, total)."""
        return {"provider": self.provider, "pickup_at": self.pickup_at.isoformat(),
                "lines": [{"name": l.name, "options": list(l.options), "quantity": l.quantity} for l in self.lines]}

    @classmethod
    def from_event(cls, data: Mapping[str, Any]) -> NewOrderNotice | None:
        """The notice an ``order.placed`` event carries; None for one stored before events carried it."""
        if "pickup_at" not in data:
            return None
        try:
            return cls(data["order_id"], data["short_code"], data["point_id"],
                       datetime.fromisoformat(data["pickup_at"]),
                       tuple(NoticeLine(l["name"], tuple(l.get("options", ())), l["quantity"]) for l in data["lines"]),
                       Money(data["total"], data["currency"]), data.get("provider", "counter"))
        except (KeyError, TypeError, ValueError, AttributeError):  # not the shape we write: read the order
            return None


async def recipient(self: Engine, customer_id: str, account: str) -> Recipient | None:
    """The account an order was placed from, in its customer's language. None when the customer turned
    unsolicited messages off (/stop), is unknown, or the account's channel is not one this shop runs."""
    try:
        ref = CustomerRef.parse(account)
    except ValueError:
        return None
    async with self.read() as uow:  # one snapshot for the customer and the account's mark (deliver_each's read)
        customer = await uow.customers.get(customer_id)
        if customer is None or not customer.consent:
            return None
        marks = await uow.reachability.unreachable([ref.key])
    return Recipient(ref, customer.language, marks.get(ref.key, ""))


async def new_order_notice(self: Engine, order_id: str) -> NewOrderNotice | None:
    """The "new order" facts of an order whose ``order.placed`` was stored without them; None if it is gone.

    No rights are checked: this is for the shop's own staff chats, told of every order anyway."""
    async with self.read() as uow:
        order = await uow.orders.get(order_id)
    return NewOrderNotice.of(order) if order else None


def points_earned_in(data: Mapping[str, Any]) -> int | None:
    """The points an ``order.picked_up`` says its pickup earned; None for one stored before it said so."""
    earned = data.get("points_earned")
    return earned if isinstance(earned, int) else None


async def points_earned_for(self: Engine, order_id: str) -> int:
    """The points an order's pickup earned, from the ledger: for an ``order.picked_up`` stored without them."""
    async with self.read() as uow:
        order = await uow.orders.get(order_id)
        if order is None:
            return 0
        entries = await uow.loyalty.entries(order.customer_id, 200)
    return sum(e.delta for e in entries if e.order_id == order_id and e.reason == "earn")
