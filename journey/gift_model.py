"""A gift's data and its state machine (the use cases: ``gifts``).

A customer buys a gift for a friend: an item of the menu (with its default options) or an amount, paid
online. Once paid it is ``active`` and its ``g<code>`` link can be sent; the first other person who opens
it and takes it is bound to it (``claimed``) and orders with it at a point; the gift is ``redeemed`` when
that order is handed over. An order cancelled or expired frees the gift for another order of the same
friend. A gift not redeemed within the shop's ``gift_days`` expires and its payment goes back to the giver.

    awaiting_payment -> active | failed        (paid, or the payment was refused or abandoned)
    active -> claimed | expired                (a friend took it; or nobody did in time)
    claimed -> redeemed | expired              (the friend's order was handed over; or never in time)
    expired -> refunded                        (the giver's money is back, or the owner was told to)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from .channels import Channel, CustomerRef
from .errors import DomainError, ErrorCode
from .money import Money

PREFIX = "gift"  # a gift's id: ``gift_...``; its payment's ``order_id`` holds it


class GiftStatus(str, Enum):
    AWAITING_PAYMENT = "awaiting_payment"
    ACTIVE = "active"
    CLAIMED = "claimed"
    REDEEMED = "redeemed"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"

    @property
    def usable(self) -> bool:
        """Paid and not yet used up or gone: a friend may still take it or order with it."""
        return self in (GiftStatus.ACTIVE, GiftStatus.CLAIMED)


GIFT_TRANSITIONS: dict[GiftStatus, frozenset[GiftStatus]] = {
    GiftStatus.AWAITING_PAYMENT: frozenset({GiftStatus.ACTIVE, GiftStatus.FAILED}),
    GiftStatus.ACTIVE: frozenset({GiftStatus.CLAIMED, GiftStatus.EXPIRED}),
    GiftStatus.CLAIMED: frozenset({GiftStatus.REDEEMED, GiftStatus.EXPIRED}),
    GiftStatus.REDEEMED: frozenset(),
    GiftStatus.FAILED: frozenset(),
    GiftStatus.EXPIRED: frozenset({GiftStatus.REFUNDED}),
    GiftStatus.REFUNDED: frozenset(),
}


def ensure_gift_transition(current: GiftStatus, target: GiftStatus) -> None:
    if target not in GIFT_TRANSITIONS[current]:
        raise DomainError(ErrorCode.GIFT_UNAVAILABLE, f"the gift is {current.value}")


@dataclass(slots=True)
class Gift:
    id: str
    code: str  # the unguessable part of the g<code> link
    giver_id: str
    giver: CustomerRef  # the account that bought it: it hears what happens to the gift
    item_id: str | None  # an item of the menu (its default options); None: an amount
    title: str  # the item's name when bought, or "" for an amount
    amount: Money  # what was paid, and what the gift covers
    message: str
    provider: str
    status: GiftStatus
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None  # set when it is paid
    friend_id: str | None = None
    friend: CustomerRef | None = None  # the account that took it: it hears the expiry
    order_id: str | None = None  # the friend's open order with it
    reason: str = ""  # why it failed

    @property
    def giver_name(self) -> str:
        """The giver's first name only: what the friend sees."""
        return (self.giver.name or "").split(" ")[0][:32]


def account_of(channel: str, external_id: str, name: str, language: str) -> CustomerRef:
    return CustomerRef(Channel(channel), external_id, name, language)
