"""The two state machines allow exactly the transitions DESIGN.md lists, and refuse every other one.

The design's table is written out below as it reads in DESIGN.md ("The engine"), parsed, and compared
with the code's table over every (from, to) pair: each allowed pair passes ``ensure_transition``, each
forbidden pair raises a DomainError (ALREADY_PICKED_UP out of ``picked_up``, INVALID_TRANSITION otherwise).
"""
from __future__ import annotations

from itertools import product

import pytest

from journey.errors import DomainError, ErrorCode
from journey.states import (
    OPEN_ORDER_STATUSES,
    ORDER_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    OrderStatus,
    PaymentStatus,
    can_transition,
    ensure_transition,
)

DESIGN_ORDER = """
placed -> accepted | cancelled | expired
accepted -> ready | cancelled
ready -> picked_up | expired
"""
DESIGN_PAYMENT = """
pending -> authorized | captured | failed | voided
authorized -> captured | voided
captured -> refunded
"""


def _parse(table: str) -> set[tuple[str, str]]:
    pairs = set()
    for line in filter(None, (l.strip() for l in table.splitlines())):
        source, targets = line.split("->")
        pairs |= {(source.strip(), t.strip()) for t in targets.split("|")}
    return pairs


ORDER_ALLOWED = _parse(DESIGN_ORDER)
PAYMENT_ALLOWED = _parse(DESIGN_PAYMENT)


def test_design_names_only_real_statuses():
    assert {s for pair in ORDER_ALLOWED for s in pair} <= {s.value for s in OrderStatus}
    assert {s for pair in PAYMENT_ALLOWED for s in pair} <= {s.value for s in PaymentStatus}


def test_code_tables_equal_the_design():
    in_code = {(a.value, b.value) for a, targets in ORDER_TRANSITIONS.items() for b in targets}
    assert in_code == ORDER_ALLOWED
    in_code = {(a.value, b.value) for a, targets in PAYMENT_TRANSITIONS.items() for b in targets}
    assert in_code == PAYMENT_ALLOWED
    assert set(ORDER_TRANSITIONS) == set(OrderStatus) and set(PAYMENT_TRANSITIONS) == set(PaymentStatus)
    assert OrderStatus.TRANSITIONS is ORDER_TRANSITIONS and PaymentStatus.TRANSITIONS is PAYMENT_TRANSITIONS


@pytest.mark.parametrize("current, target", list(product(OrderStatus, OrderStatus)),
                         ids=lambda s: s.value)
def test_order_transition(current, target):
    if (current.value, target.value) in ORDER_ALLOWED:
        assert can_transition(current, target)
        ensure_transition(current, target)
        return
    assert not can_transition(current, target)
    with pytest.raises(DomainError) as refused:
        ensure_transition(current, target)
    expected = ErrorCode.ALREADY_PICKED_UP if current is OrderStatus.PICKED_UP else ErrorCode.INVALID_TRANSITION
    assert refused.value.code is expected


@pytest.mark.parametrize("current, target", list(product(PaymentStatus, PaymentStatus)),
                         ids=lambda s: s.value)
def test_payment_transition(current, target):
    if (current.value, target.value) in PAYMENT_ALLOWED:
        assert can_transition(current, target)
        ensure_transition(current, target)
        return
    assert not can_transition(current, target)
    with pytest.raises(DomainError) as refused:
        ensure_transition(current, target)
    assert refused.value.code is ErrorCode.INVALID_TRANSITION


@pytest.mark.parametrize("current, target", [(OrderStatus.PLACED, PaymentStatus.AUTHORIZED),
                                             (PaymentStatus.PENDING, OrderStatus.ACCEPTED)])
def test_the_machines_do_not_mix(current, target):
    assert not can_transition(current, target)
    with pytest.raises(DomainError) as refused:
        ensure_transition(current, target)
    assert refused.value.code is ErrorCode.INVALID_TRANSITION


def test_open_statuses_are_those_with_a_way_forward():
    assert {s for s in OrderStatus if ORDER_TRANSITIONS[s]} == OPEN_ORDER_STATUSES
    assert all(s.is_open == bool(ORDER_TRANSITIONS[s]) for s in OrderStatus)
