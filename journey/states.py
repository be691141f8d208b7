"""The two state machines. Every status change goes through ``ensure_transition``."""
from __future__ import annotations

from enum import Enum

from .errors import DomainError, ErrorCode


class OrderStatus(str, Enum):
    PLACED = "placed"
    ACCEPTED = "accepted"
    READY = "ready"
    PICKED_UP = "picked_up"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_open(self) -> bool:
        return self in OPEN_ORDER_STATUSES


class PaymentStatus(str, Enum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    FAILED = "failed"
    VOIDED = "voided"
    REFUNDED = "refunded"


ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PLACED: frozenset({OrderStatus.ACCEPTED, OrderStatus.CANCELLED, OrderStatus.EXPIRED}),
    OrderStatus.ACCEPTED: frozenset({OrderStatus.READY, OrderStatus.CANCELLED}),
    OrderStatus.READY: frozenset({OrderStatus.PICKED_UP, OrderStatus.EXPIRED}),
    OrderStatus.PICKED_UP: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
}

PAYMENT_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.PENDING: frozenset(
        {PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED, PaymentStatus.FAILED, PaymentStatus.VOIDED}),
    PaymentStatus.AUTHORIZED: frozenset({PaymentStatus.CAPTURED, PaymentStatus.VOIDED}),
    PaymentStatus.CAPTURED: frozenset({PaymentStatus.REFUNDED}),
    PaymentStatus.FAILED: frozenset(),
    PaymentStatus.VOIDED: frozenset(),
    PaymentStatus.REFUNDED: frozenset(),
}

class PackStatus(str, Enum):
    """A points pack bought with Telegram Stars: paid once, refunded at most once."""

    PENDING = "pending"
    PAID = "paid"
    REFUNDED = "refunded"


PACK_TRANSITIONS: dict[PackStatus, frozenset[PackStatus]] = {
    PackStatus.PENDING: frozenset({PackStatus.PAID}),
    PackStatus.PAID: frozenset({PackStatus.REFUNDED}),
    PackStatus.REFUNDED: frozenset(),
}

# Python has no generic class attribute on Enum members, so the tables are attached after creation.
OrderStatus.TRANSITIONS = ORDER_TRANSITIONS  # type: ignore[attr-defined]
PaymentStatus.TRANSITIONS = PAYMENT_TRANSITIONS  # type: ignore[attr-defined]

OPEN_ORDER_STATUSES = frozenset({OrderStatus.PLACED, OrderStatus.ACCEPTED, OrderStatus.READY})


def can_transition(current: OrderStatus | PaymentStatus | PackStatus,
                   target: OrderStatus | PaymentStatus | PackStatus) -> bool:
    if isinstance(current, OrderStatus) and isinstance(target, OrderStatus):
        return target in ORDER_TRANSITIONS[current]
    if isinstance(current, PaymentStatus) and isinstance(target, PaymentStatus):
        return target in PAYMENT_TRANSITIONS[current]
    if isinstance(current, PackStatus) and isinstance(target, PackStatus):
        return target in PACK_TRANSITIONS[current]
    return False


def ensure_transition(current: OrderStatus | PaymentStatus | PackStatus,
                      target: OrderStatus | PaymentStatus | PackStatus) -> None:
    if not can_transition(current, target):
        if current is OrderStatus.PICKED_UP:
            raise DomainError(ErrorCode.ALREADY_PICKED_UP)
        raise DomainError(ErrorCode.INVALID_TRANSITION, f"{current.value} -> {target.value}")
