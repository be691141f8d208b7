"""Domain events: written to the outbox in the same transaction as the change they describe."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any


class EventType(str, Enum):
    ORDER_PLACED = "order.placed"
    ORDER_ACCEPTED = "order.accepted"
    ORDER_READY = "order.ready"
    ORDER_PICKED_UP = "order.picked_up"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_EXPIRED = "order.expired"
    PAYMENT_AUTHORIZED = "payment.authorized"
    PAYMENT_CAPTURED = "payment.captured"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_VOIDED = "payment.voided"
    PAYMENT_REFUNDED = "payment.refunded"
    PAYMENT_REFUND_MANUAL = "payment.refund_manual"  # no provider could give the money back: the owner must
    ORDER_PAID = "order.paid"  # an order placed with an online payment is paid: the staff see it now
    POINTS_EARNED = "points.earned"
    POINTS_SPENT = "points.spent"
    POINTS_BOUGHT = "points.bought"  # a points pack paid with Telegram Stars
    POINTS_REFUNDED = "points.refunded"  # a points pack refunded: its Stars back, its points taken back
    CUSTOMER_CREATED = "customer.created"
    CUSTOMERS_LINKED = "customer.linked"
    VISIT_RECORDED = "visit.recorded"
    MENU_IMPORTED = "menu.imported"
    REVIEW_ADDED = "review.added"
    # referrals that hold (journey/referrals.py)
    REFERRAL_JOINED = "referral.joined"  # a new customer came by a friend's link
    REFERRAL_REWARDED = "referral.rewarded"  # the friend's first pickup paid the bonus (to the inviter within the cap)
    REFERRAL_VOIDED = "referral.voided"  # the same person after all (linked accounts), or invited twice
    # group orders (journey/groups.py)
    GROUP_OPENED = "group.opened"
    GROUP_JOINED = "group.joined"  # a member added or replaced their lines
    GROUP_REACHED = "group.reached"  # the members with lines reached the goal: once per group
    GROUP_CLOSED = "group.closed"  # counted, the discount decided
    GROUP_ORDERED = "group.ordered"  # its orders placed
    GROUP_CANCELLED = "group.cancelled"
    GROUP_EXPIRED = "group.expired"
    # sharing and regulars (journey/sharing.py, journey/regulars.py)
    SHARED = "share.recorded"  # a customer shared the shop (a story, a card, a wall post, a link)
    REGULAR_REACHED = "regular.reached"  # a customer's pickups reached the regulars' threshold: once per person
    # points and the birthday offer (journey/loyalty.py)
    POINTS_EXPIRED = "points.expired"  # points credited too long ago written off, oldest first
    BIRTHDAY_GREETING = "birthday.greeting"  # the customer's birthday today (once a year, with consent)
    POINTS_EXPIRING = "points.expiring"  # points that will expire within a week: told once per credit
    # gifts (journey/gifts.py)
    GIFT_BOUGHT = "gift.bought"  # waiting for its online payment
    GIFT_ACTIVE = "gift.active"  # paid: the giver is sent its link
    GIFT_FAILED = "gift.failed"  # its payment was refused or abandoned
    GIFT_CLAIMED = "gift.claimed"  # a friend took it
    GIFT_ORDERED = "gift.ordered"  # the friend ordered with it
    GIFT_REDEEMED = "gift.redeemed"  # the friend's order was handed over
    GIFT_EXPIRED = "gift.expired"  # not redeemed in time: its money goes back to the giver
    GIFT_REFUNDED = "gift.refunded"  # the giver's money is back (the payment's refund, for a gift)
    GIFT_REFUND_MANUAL = "gift.refund_manual"  # no provider can give it back: the owner must
    # personal data (journey/privacy.py): no name, account or contact in these, only the internal id
    CONSENT_GIVEN = "privacy.consent"
    CUSTOMER_FORGOTTEN = "privacy.forgotten"  # on request or after the retention period: the person is gone


@dataclass(frozen=True, slots=True)
class DomainEvent:
    type: EventType
    data: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    id: int | None = None  # set by the outbox when stored
