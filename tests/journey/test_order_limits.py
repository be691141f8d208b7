"""Nobody holds the shop's stock forever: a counter order that no staff member accepts expires after the
shop's ``accept_timeout_minutes`` (counted from when the point is open to see it), and a customer holds at
most ``max_open_orders`` orders not yet picked up. Both are shop rules an owner may change (0 turns them off).
An expiry gives back the stock, points and promo use; a refused order changes nothing.
"""
from __future__ import annotations

from datetime import UTC, datetime

from journey_support import BARISTA, balance, customer, customer_id, give_points, ledger, refused, status, stock_of

from journey.errors import ErrorCode
from journey.events import EventType
from journey.model import CartLine, Promo, PromoKind
from journey.money import Money
from journey.states import OrderStatus, PaymentStatus

GUEST = customer(1)
OTHER = customer(2)
CROISSANT = [CartLine("croissant")]


async def expired_reasons(engine) -> dict[str, str]:
    async with engine.uow() as uow:
        events = await uow.outbox.pending("test", 10_000)
    return {e.data["order_id"]: e.data["reason"] for e in events if e.type is EventType.ORDER_EXPIRED}


async def shop_state(engine, ref) -> tuple:
    """What a refused order must leave as it was: stock, orders, ledger, promo uses, events."""
    cid = await customer_id(engine, ref)
    async with engine.uow() as uow:
        promo = await uow.promos.get("HELLO")
        return (await uow.catalog.all_stock(), [o.id for o in await uow.orders.for_customer(cid or "", 100)],
                await uow.loyalty.entries(cid or "", 1000), promo.used if promo else None,
                await uow.promos.uses_by("HELLO", cid or ""), len(await uow.outbox.pending("test", 10_000)))


# --- a counter order nobody accepts ----------------------------------------------------------------

async def test_the_rules_have_sensible_defaults_the_owner_may_change(engine):
    rules = (await engine.shop_view()).rules
    assert (rules.accept_timeout_minutes, rules.max_open_orders, rules.unpaid_timeout_minutes) == (30, 3, 15)
    changed = await engine.set_rules(accept_timeout_minutes=10, max_open_orders=5)
    assert (changed.accept_timeout_minutes, changed.max_open_orders) == (10, 5)
    with refused(ErrorCode.BAD_INPUT):
        await engine.set_rules(max_open_orders=-1)
    assert (await engine.shop_view()).rules.max_open_orders == 5


async def test_a_counter_order_nobody_accepts_expires_and_gives_everything_back(engine, clock):
    await engine.save_promo(Promo("HELLO", PromoKind.PERCENT, 10))
    await give_points(engine, GUEST, 1000)
    order = (await engine.place_order(GUEST, [CartLine("croissant", 2)], "center", promo_code="HELLO",
                                      points=500)).order
    assert await stock_of(engine) == 8 and await balance(engine, GUEST) == 500
    clock.advance(minutes=29)
    assert await engine.expire_due() == []
    assert await status(engine, order.id) == (OrderStatus.PLACED, PaymentStatus.PENDING)

    clock.advance(minutes=1)
    assert await engine.expire_due() == [order.id]

    assert await status(engine, order.id) == (OrderStatus.EXPIRED, PaymentStatus.VOIDED)
    assert await stock_of(engine) == 10 and await balance(engine, GUEST) == 1000
    async with engine.uow() as uow:
        assert (await uow.promos.get("HELLO")).used == 0
    assert await expired_reasons(engine) == {order.id: "not_accepted"}
    assert await engine.expire_due() == []  # once


async def test_an_accepted_counter_order_does_not_expire_for_want_of_acceptance(engine, clock):
    order = (await engine.place_order(GUEST, CROISSANT, "center")).order
    await engine.accept(BARISTA, order.id)
    clock.advance(hours=3)
    assert await engine.expire_due() == []
    assert await status(engine, order.id) == (OrderStatus.ACCEPTED, PaymentStatus.PENDING)


async def test_an_order_placed_at_night_for_the_morning_waits_for_the_point_to_open(engine, clock):
    clock.current = datetime(2026, 11, 18, 19, 30, tzinfo=UTC)  # 22:30 in Moscow: closed until 07:00
    morning = datetime(2026, 11, 19, 6, 0, tzinfo=UTC)  # 09:00
    order = (await engine.place_order(GUEST, CROISSANT, "center", pickup_at=morning)).order
    clock.current = datetime(2026, 11, 19, 4, 29, tzinfo=UTC)  # 07:29: open for 29 minutes
    assert await engine.expire_due() == []
    clock.advance(minutes=1)
    assert await engine.expire_due() == [order.id]
    assert await stock_of(engine) == 10


async def test_the_owner_may_turn_the_accept_timeout_off(engine, clock):
    await engine.set_rules(accept_timeout_minutes=0)
    order = (await engine.place_order(GUEST, CROISSANT, "center")).order
    clock.advance(hours=10)
    assert await engine.expire_due() == []
    assert await status(engine, order.id) == (OrderStatus.PLACED, PaymentStatus.PENDING)


async def test_one_account_ordering_the_whole_stock_no_longer_holds_it_forever(engine, clock):
    await engine.set_stock("center", "croissant", 49)
    hoard = (await engine.place_order(GUEST, [CartLine("croissant", 49)], "center")).order
    with refused(ErrorCode.OUT_OF_STOCK):
        await engine.place_order(OTHER, CROISSANT, "center")
    for _ in range(2):  # nor can the same account reserve what comes back in ever more orders
        await engine.place_order(GUEST, [CartLine("espresso")], "center")
    with refused(ErrorCode.TOO_MANY_OPEN_ORDERS):
        await engine.place_order(GUEST, [CartLine("espresso")], "center")

    clock.advance(minutes=30)
    assert hoard.id in await engine.expire_due()

    assert await stock_of(engine) == 49
    bought = (await engine.place_order(OTHER, CROISSANT, "center")).order
    assert bought.status is OrderStatus.PLACED and await stock_of(engine) == 48


# --- open orders per customer -----------------------------------------------------------------------

async def test_a_customer_holds_at_most_the_open_orders_the_shop_allows(engine):
    await engine.save_promo(Promo("HELLO", PromoKind.PERCENT, 10))
    await give_points(engine, GUEST, 1000)
    first = (await engine.place_order(GUEST, CROISSANT, "center")).order
    second = (await engine.place_order(GUEST, CROISSANT, "park")).order
    third = (await engine.place_order(GUEST, [CartLine("espresso")], "center")).order
    await engine.accept(BARISTA, first.id)
    await engine.accept(BARISTA, third.id)
    await engine.mark_ready(BARISTA, third.id)  # placed, accepted and ready orders all count
    before = await shop_state(engine, GUEST)

    with refused(ErrorCode.TOO_MANY_OPEN_ORDERS) as refusal:
        await engine.place_order(GUEST, CROISSANT, "center", promo_code="HELLO", points=100)

    assert refusal.value.code.http_status == 409
    assert await shop_state(engine, GUEST) == before
    assert await stock_of(engine) == 9 and await balance(engine, GUEST) == 1000
    other = (await engine.place_order(OTHER, CROISSANT, "center")).order  # another customer is not held up
    assert other.status is OrderStatus.PLACED

    await engine.cancel(GUEST, second.id)  # one closed: room for one more
    again = await engine.place_order(GUEST, CROISSANT, "center", promo_code="HELLO", points=100)
    assert again.order.discount == Money(1800) and again.order.points_spent == 100
    with refused(ErrorCode.TOO_MANY_OPEN_ORDERS):
        await engine.place_order(GUEST, CROISSANT, "center")
    await engine.hand_over(BARISTA, order_id=third.id)  # picked up: no longer open
    assert (await engine.place_order(GUEST, CROISSANT, "center")).order.status is OrderStatus.PLACED


async def test_a_retried_request_is_not_counted_as_one_more_order(engine):
    views = [await engine.place_order(GUEST, CROISSANT, "center", request_id=f"r{n}") for n in range(3)]
    again = await engine.place_order(GUEST, CROISSANT, "center", request_id="r2")
    assert again.order.id == views[2].order.id


async def test_the_owner_may_raise_or_lift_the_limit(engine):
    await engine.set_rules(max_open_orders=1)
    await engine.place_order(GUEST, CROISSANT, "center")
    with refused(ErrorCode.TOO_MANY_OPEN_ORDERS):
        await engine.place_order(GUEST, CROISSANT, "center")
    await engine.set_rules(max_open_orders=0)
    for _ in range(4):
        await engine.place_order(GUEST, CROISSANT, "center")
    assert len(await ledger(engine, GUEST)) == 0 and await stock_of(engine) == 5


def test_the_refusal_speaks_both_languages():
    code = ErrorCode.TOO_MANY_OPEN_ORDERS
    assert "заказ" in code.message("ru") and "order" in code.message("en") and code.http_status == 409
