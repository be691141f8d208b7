"""A group order's data and its state machine (the use cases: ``groups``).

A group is opened by its organiser for one pickup point and time; friends who open its ``j<code>`` link
add their lines while it is open; when it closes, the members who have lines are counted, and the group
discount applies to everyone when there are at least as many as the shop's rule asked for at opening.

    open -> closed | cancelled | expired      (closed by the organiser or by its window; cancelled by the
                                               organiser; expired: the window ended with nobody's lines)
    closed -> ordered | cancelled             (its orders are placed; or none could be)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from .channels import Channel, CustomerRef
from .errors import DomainError, ErrorCode
from .model import CartLine


class GroupStatus(str, Enum):
    OPEN = "open"
    CLOSED = "closed"  # members counted and the discount decided; its orders are being placed
    ORDERED = "ordered"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


GROUP_TRANSITIONS: dict[GroupStatus, frozenset[GroupStatus]] = {
    GroupStatus.OPEN: frozenset({GroupStatus.CLOSED, GroupStatus.CANCELLED, GroupStatus.EXPIRED}),
    GroupStatus.CLOSED: frozenset({GroupStatus.ORDERED, GroupStatus.CANCELLED}),
    GroupStatus.ORDERED: frozenset(),
    GroupStatus.CANCELLED: frozenset(),
    GroupStatus.EXPIRED: frozenset(),
}


def ensure_group_transition(current: GroupStatus, target: GroupStatus) -> None:
    if target not in GROUP_TRANSITIONS[current]:
        raise DomainError(ErrorCode.GROUP_CLOSED if current is not GroupStatus.OPEN else ErrorCode.INVALID_TRANSITION,
                          f"{current.value} -> {target.value}")


class Payer(str, Enum):
    ORGANISER = "organiser"  # one order for the organiser with everyone's lines, paid by the organiser
    EACH = "each"  # one order per member, each paid at the counter by its member


@dataclass(slots=True)
class Group:
    id: str
    code: str  # the unguessable part of the j<code> link
    organiser_id: str
    organiser: CustomerRef  # the account that opened it: the organiser's order is placed for it
    point_id: str
    pickup_at: datetime | None  # None: as soon as the orders can be ready once the group closes
    payer: Payer
    payment: str  # how the organiser pays (payer "organiser"); "counter" for "each"
    min_people: int  # the shop's rules when it was opened: a later change does not move the goal
    percent: int
    status: GroupStatus
    created_at: datetime
    closes_at: datetime
    closed_at: datetime | None = None
    reason: str = ""  # why it was cancelled or expired
    discounted: bool = False  # decided once, when it closed
    email: str = ""  # the organiser's receipt e-mail, for a provider that sends receipts
    return_url: str = ""  # where the organiser's payment page sends them back
    order_id: str | None = None  # payer "organiser": the one order with everyone's lines


@dataclass(slots=True)
class GroupMember:
    group_id: str
    customer_id: str
    account: CustomerRef  # where the member joined from: their order is placed for this account
    lines: tuple[CartLine, ...]
    joined_at: datetime
    order_id: str | None = None  # the member's own order (payer "each"; the organiser's in both)

    @property
    def name(self) -> str:
        """The first name only: members see each other by it."""
        return (self.account.name or "").split(" ")[0][:32]


def account_of(channel: str, external_id: str, name: str, language: str) -> CustomerRef:
    return CustomerRef(Channel(channel), external_id, name, language)
