"""Online payments and unpaid orders, with a fake online two-stage gateway.

A two-stage payment is held (authorized) at checkout and captured at hand-over; a declined capture
keeps the order ready and the money held; cancelling or expiring releases what is held. A payment that
fails at start cancels the order and returns stock; an order waiting for an online payment expires after
the timeout, while a counter order does not.
"""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from journey_support import (
    BARISTA,
    OWNER,
    balance,
    customer,
    event_types,
    fulfil,
    give_points,
    refused,
    status,
    stock_of,
)
from journey_support import order_state as state

from journey.engine import Engine
from journey.errors import ErrorCode
from journey.model import CartLine, PaymentIntent
from journey.money import Money
from journey.ports import Checkout, PaymentResult
from journey.states import OrderStatus, PaymentStatus

GUEST = customer(1)
CROISSANTS = [CartLine("croissant", 2)]


class FakeOnlineProvider:
    """An online two-stage gateway (journey.ports.PaymentProvider): ``start`` answers ``answer``."""

    name = "fakepay"
    online = True
    two_stage = True
    link = "confirmation_url"
    needs_email = False

    def __init__(self, answer: PaymentStatus = PaymentStatus.AUTHORIZED) -> None:
        self.answer = answer
        self.capture_answer = PaymentStatus.CAPTURED
        self.down = False  # the gateway cannot be reached
        self.calls: list[tuple[str, str]] = []

    async def start(self, intent: PaymentIntent, checkout: Checkout) -> PaymentResult:
        self.calls.append(("start", intent.order_id))
        if self.down:
            raise ConnectionError("gateway unreachable")
        return PaymentResult(self.answer, f"fake-{intent.id}")

    async def status(self, intent: PaymentIntent) -> PaymentResult:
        return PaymentResult(intent.status, f"fake-{intent.id}", refunded=intent.refunded)

    async def capture(self, intent: PaymentIntent) -> PaymentResult:
        self.calls.append(("capture", intent.order_id))
        return PaymentResult(self.capture_answer, f"fake-{intent.id}", error="" if self.capture_answer is
                             PaymentStatus.CAPTURED else "declined")

    async def void(self, intent: PaymentIntent) -> PaymentResult:
        self.calls.append(("void", intent.order_id))
        return PaymentResult(PaymentStatus.VOIDED, f"fake-{intent.id}")

    async def refund(self, intent: PaymentIntent, amount: Money) -> PaymentResult:
        self.calls.append(("refund", intent.order_id))
        return PaymentResult(PaymentStatus.REFUNDED, f"fake-{intent.id}", refunded=intent.amount.amount)


@pytest.fixture
def gateway() -> FakeOnlineProvider:
    return FakeOnlineProvider()


@pytest.fixture
def shop(db, clock, engine, gateway) -> Engine:
    """The seeded shop's engine, with the fake online gateway plugged in."""
    return Engine(db.uow, secret=engine.secret, owners=[OWNER], clock=clock, providers={gateway.name: gateway},
                  reader=db.reading)


# --- expiry ----------------------------------------------------------------------------------------

async def test_an_unpaid_online_order_expires_and_releases_stock_a_counter_order_waits_longer(shop, gateway, clock):
    gateway.answer = PaymentStatus.PENDING  # the customer has not paid yet
    online = await shop.place_order(GUEST, [CartLine("croissant", 3)], "center", provider="fakepay")
    counter = await shop.place_order(customer(2), CROISSANTS, "center")
    assert online.payment.status is PaymentStatus.PENDING and await stock_of(shop) == 5

    clock.advance(minutes=15)
    assert await shop.expire_due() == []
    clock.advance(seconds=1)
    assert await shop.expire_due() == [online.order.id]

    assert await status(shop, online.order.id) == (OrderStatus.EXPIRED, PaymentStatus.VOIDED)
    assert await status(shop, counter.order.id) == (OrderStatus.PLACED, PaymentStatus.PENDING)
    assert await stock_of(shop) == 8
    assert (await event_types(shop)).count("order.expired") == 1
    clock.advance(minutes=14)  # a counter order waits for the staff to accept it: 30 minutes by default
    assert await shop.expire_due() == []
    clock.advance(minutes=1)
    assert await shop.expire_due() == [counter.order.id]
    assert await stock_of(shop) == 10


# --- online payments -------------------------------------------------------------------------------

async def test_two_stage_payment_is_held_at_checkout_and_captured_at_hand_over(shop, gateway):
    view = await shop.place_order(GUEST, CROISSANTS, "center", provider="fakepay")
    assert view.payment.status is PaymentStatus.AUTHORIZED and view.payment.amount == Money(36000)
    assert gateway.calls == [("start", view.order.id)]
    await fulfil(shop, view.order.id)
    assert await status(shop, view.order.id) == (OrderStatus.READY, PaymentStatus.AUTHORIZED)
    with refused(ErrorCode.NOT_STAFF):
        await shop.hand_over(customer(2), order_id=view.order.id)
    assert gateway.calls == [("start", view.order.id)]  # nothing captured for a refused hand-over
    await shop.hand_over(BARISTA, order_id=view.order.id)
    assert gateway.calls == [("start", view.order.id), ("capture", view.order.id)]
    assert await status(shop, view.order.id) == (OrderStatus.PICKED_UP, PaymentStatus.CAPTURED)
    events = await event_types(shop)
    assert events.index("payment.authorized") < events.index("payment.captured") < events.index("order.picked_up")
    with refused(ErrorCode.ALREADY_PICKED_UP):
        await shop.hand_over(BARISTA, order_id=view.order.id)
    assert len(gateway.calls) == 2


async def test_a_held_payment_is_voided_when_the_order_is_cancelled(shop, gateway):
    view = await shop.place_order(GUEST, CROISSANTS, "center", provider="fakepay")
    await shop.cancel(GUEST, view.order.id)
    assert gateway.calls[-1] == ("void", view.order.id)
    assert await status(shop, view.order.id) == (OrderStatus.CANCELLED, PaymentStatus.VOIDED)
    assert await stock_of(shop) == 10


async def test_a_payment_failing_at_start_cancels_the_order_and_returns_stock(shop, gateway):
    gateway.answer = PaymentStatus.FAILED
    await give_points(shop, GUEST, 1000)
    with refused(ErrorCode.PAYMENT_FAILED):
        await shop.place_order(GUEST, CROISSANTS, "center", provider="fakepay", points=300)
    (order,) = await shop.orders_of(GUEST)
    assert await status(shop, order.id) == (OrderStatus.CANCELLED, PaymentStatus.FAILED)
    assert await stock_of(shop) == 10 and await balance(shop, GUEST) == 1000
    events = await event_types(shop)
    assert events[-2:] == ["payment.failed", "order.cancelled"]


async def test_an_unpaid_online_order_is_neither_accepted_nor_handed_over(shop, gateway):
    """Not the staff's until paid: accepted, it would never expire unpaid and would hold its stock."""
    gateway.answer = PaymentStatus.PENDING
    order = (await shop.place_order(GUEST, CROISSANTS, "center", provider="fakepay")).order
    before = await state(shop, order.id)
    for step in (shop.accept, shop.mark_ready):
        with refused(ErrorCode.PAYMENT_FAILED):
            await step(BARISTA, order.id)
    with refused(ErrorCode.INVALID_TRANSITION):  # never accepted, so never ready to hand over
        await shop.hand_over(BARISTA, order_id=order.id)
    assert await state(shop, order.id) == before and await balance(shop, GUEST) == 0


async def test_a_declined_capture_keeps_the_order_ready_and_the_money_held(shop, gateway):
    order = (await shop.place_order(GUEST, CROISSANTS, "center", provider="fakepay")).order
    await fulfil(shop, order.id)
    gateway.capture_answer = PaymentStatus.FAILED
    before = await state(shop, order.id)
    with refused(ErrorCode.PAYMENT_FAILED):
        await shop.hand_over(BARISTA, order_id=order.id)
    assert await state(shop, order.id) == before
    assert await status(shop, order.id) == (OrderStatus.READY, PaymentStatus.AUTHORIZED)
    gateway.capture_answer = PaymentStatus.CAPTURED
    await shop.hand_over(BARISTA, order_id=order.id)
    assert await status(shop, order.id) == (OrderStatus.PICKED_UP, PaymentStatus.CAPTURED)


async def test_a_held_payment_is_released_when_a_ready_order_expires(shop, gateway, clock):
    order = (await shop.place_order(GUEST, CROISSANTS, "center", provider="fakepay")).order
    await fulfil(shop, order.id)
    clock.current = datetime(2026, 11, 18, 19, 0, tzinfo=UTC)  # 22:00 in Moscow
    assert await shop.expire_due() == [order.id]
    assert gateway.calls[-1] == ("void", order.id)
    assert await status(shop, order.id) == (OrderStatus.EXPIRED, PaymentStatus.VOIDED)


async def test_an_unreachable_gateway_cancels_the_order_at_once_and_releases_stock(shop, gateway, clock):
    gateway.down = True
    with refused(ErrorCode.PAYMENT_FAILED):
        await shop.place_order(GUEST, CROISSANTS, "center", provider="fakepay")
    (order,) = await shop.orders_of(GUEST)
    assert await status(shop, order.id) == (OrderStatus.CANCELLED, PaymentStatus.FAILED)
    assert await stock_of(shop) == 10
    clock.advance(minutes=16)
    assert await shop.expire_due() == []




async def test_a_one_stage_payment_is_refunded_when_staff_cancel(shop, gateway):
    gateway.answer = PaymentStatus.CAPTURED  # money taken at checkout
    order = (await shop.place_order(GUEST, CROISSANTS, "center", provider="fakepay")).order
    await shop.cancel(BARISTA, order.id)
    assert await status(shop, order.id) == (OrderStatus.CANCELLED, PaymentStatus.REFUNDED)
    assert ("refund", order.id) in gateway.calls and await stock_of(shop) == 10
    assert (await event_types(shop))[-1] == "payment.refunded"


async def test_a_hold_nearly_as_old_as_the_provider_keeps_it_is_released_never_captured(shop, gateway, clock):
    view = await shop.place_order(GUEST, CROISSANTS, "center", provider="fakepay")
    await shop.accept(BARISTA, view.order.id)  # accepted and never made: only the hold's age can end it
    clock.advance(days=6, hours=11)
    assert await shop.expire_due() == []
    clock.advance(hours=1)  # 6 days 12 hours: half a day before YooKassa would let the hold lapse
    assert await shop.expire_due() == [view.order.id]
    assert await status(shop, view.order.id) == (OrderStatus.CANCELLED, PaymentStatus.VOIDED)
    assert gateway.calls == [("start", view.order.id), ("void", view.order.id)]
    assert await stock_of(shop) == 10

    late = await shop.place_order(GUEST, CROISSANTS, "center", provider="fakepay")
    await fulfil(shop, late.order.id)
    clock.advance(days=6, hours=13)  # ready, then handed over too late: released and closed, not captured
    with refused(ErrorCode.PAYMENT_FAILED):
        await shop.hand_over(BARISTA, order_id=late.order.id)
    assert await status(shop, late.order.id) == (OrderStatus.EXPIRED, PaymentStatus.VOIDED)
    assert ("capture", late.order.id) not in gateway.calls
