"""The order journey through the Engine, as the channels drive it (paying at the counter).

Placing reserves stock, spends points and uses the promo; staff of the order's point accept it, mark
it ready and hand it over (by id, short code or signed token), which takes the payment and earns points
once. Every refusal leaves the shop as it was; cancelling gives back what was reserved; a ready order not
collected by closing time expires. Each step writes its events. Online payments: test_order_payments.py.
"""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from journey_support import (
    BARISTA,
    OWNER,
    balance,
    customer,
    event_types,
    fulfil,
    give_points,
    ledger,
    refused,
    status,
    stock_of,
)
from journey_support import order_state as state

from journey import pickup
from journey.errors import DomainError, ErrorCode
from journey.model import CartLine, Promo, PromoKind
from journey.money import Money
from journey.states import OrderStatus, PaymentStatus

GUEST = customer(1)
CROISSANTS = [CartLine("croissant", 2)]


# --- the happy path --------------------------------------------------------------------------------

async def test_the_whole_journey(engine):
    view = await engine.place_order(GUEST, [CartLine("latte"), CartLine("eclair")], "center")
    order = view.order
    assert (order.status, view.payment.status) == (OrderStatus.PLACED, PaymentStatus.PENDING)
    assert order.total == Money(41990) and len(order.short_code) == 4 and order.short_code.isdigit()
    assert await engine.accept(BARISTA, order.id)
    assert await engine.mark_ready(BARISTA, order.id)
    done = await engine.hand_over(BARISTA, order_id=order.id)
    assert done.status is OrderStatus.PICKED_UP
    assert await status(engine, order.id) == (OrderStatus.PICKED_UP, PaymentStatus.CAPTURED)
    assert await balance(engine, GUEST) == 41990 * 5 // 100 == 2099  # floor(5% of 419.90 ₽)
    history = (await engine.order_view(GUEST, order.id)).order.history
    assert [s for s, _ in history] == [OrderStatus.PLACED, OrderStatus.ACCEPTED, OrderStatus.READY,
                                       OrderStatus.PICKED_UP]
    assert await event_types(engine) == ["customer.created", "order.placed", "order.accepted", "order.ready",
                                       "payment.captured", "order.picked_up", "points.earned"]
    async with engine.uow() as uow:
        placed = (await uow.outbox.pending("test"))[1]
    assert placed.data["order_id"] == order.id and placed.data["total"] == 41990
    assert [o.id for o in await engine.orders_of(GUEST)] == [order.id]


async def test_a_second_hand_over_is_refused_and_changes_nothing(engine):
    order = (await engine.place_order(GUEST, CROISSANTS, "center")).order
    await fulfil(engine, order.id)
    await engine.hand_over(BARISTA, order_id=order.id)
    before = await state(engine, order.id)
    for actor in (BARISTA, OWNER):
        with refused(ErrorCode.ALREADY_PICKED_UP):
            await engine.hand_over(actor, order_id=order.id)
    with refused(ErrorCode.ALREADY_PICKED_UP):  # the token is single-use
        await engine.hand_over(BARISTA, token=engine.pickup_token(order.id))
    with refused(ErrorCode.ALREADY_PICKED_UP):  # and a typed code says so too, though the code is free again
        await engine.hand_over(BARISTA, short_code=order.short_code, point_id="center")
    assert await state(engine, order.id) == before
    assert await balance(engine, GUEST) == 36000 * 5 // 100


@pytest.mark.parametrize("intruder", [customer(2), GUEST], ids=["stranger", "the customer"])
async def test_only_staff_hand_over(engine, intruder):
    order = (await engine.place_order(GUEST, CROISSANTS, "center")).order
    await fulfil(engine, order.id)
    before = await state(engine, order.id)
    with refused(ErrorCode.NOT_STAFF):
        await engine.hand_over(intruder, order_id=order.id)
    with refused(ErrorCode.NOT_STAFF):
        await engine.hand_over(intruder, token=engine.pickup_token(order.id))
    with refused(ErrorCode.NOT_STAFF):
        await engine.hand_over(intruder, short_code=order.short_code)
    assert await state(engine, order.id) == before
    assert await status(engine, order.id) == (OrderStatus.READY, PaymentStatus.PENDING)


async def test_staff_of_another_point_are_refused(engine):
    order = (await engine.place_order(GUEST, [CartLine("croissant")], "park")).order
    with refused(ErrorCode.ORDER_NOT_FOUND):  # another point's order is none of theirs: as if it did not exist
        await engine.accept(BARISTA, order.id)
    await fulfil(engine, order.id, staff=OWNER)  # owners are staff everywhere
    before = await state(engine, order.id)
    with refused(ErrorCode.NOT_STAFF):
        await engine.hand_over(BARISTA, order_id=order.id)
    with refused(ErrorCode.NOT_STAFF):
        await engine.hand_over(BARISTA, token=engine.pickup_token(order.id))
    with refused(ErrorCode.PICKUP_CODE_INVALID):  # the short code is looked up at the barista's points only
        await engine.hand_over(BARISTA, short_code=order.short_code)
    assert await state(engine, order.id) == before
    assert (await engine.hand_over(OWNER, short_code=order.short_code)).status is OrderStatus.PICKED_UP


async def test_two_staff_handing_over_at_once_earn_points_once(engine):
    order = (await engine.place_order(GUEST, CROISSANTS, "center")).order
    await fulfil(engine, order.id)
    results = await asyncio.gather(engine.hand_over(BARISTA, order_id=order.id),
                                   engine.hand_over(OWNER, token=engine.pickup_token(order.id)), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["DomainError", "Order"]
    assert next(r for r in results if isinstance(r, Exception)).code is ErrorCode.ALREADY_PICKED_UP
    assert await balance(engine, GUEST) == 36000 * 5 // 100
    assert (await event_types(engine)).count("order.picked_up") == 1


# --- pickup credentials ----------------------------------------------------------------------------

async def test_hand_over_by_short_code(engine):
    order = (await engine.place_order(GUEST, CROISSANTS, "center")).order
    await fulfil(engine, order.id)
    found = await engine.find_for_pickup(BARISTA, short_code=f" {order.short_code} ")
    assert found.id == order.id
    assert (await engine.hand_over(BARISTA, short_code=order.short_code, point_id="center")).id == order.id
    assert await status(engine, order.id) == (OrderStatus.PICKED_UP, PaymentStatus.CAPTURED)


async def test_hand_over_by_signed_token(engine):
    view = await engine.place_order(GUEST, CROISSANTS, "center")
    assert view.pickup_token == engine.pickup_token(view.order.id)
    await fulfil(engine, view.order.id)
    assert (await engine.hand_over(BARISTA, token=view.pickup_token)).id == view.order.id
    assert await status(engine, view.order.id) == (OrderStatus.PICKED_UP, PaymentStatus.CAPTURED)


async def test_forged_tokens_and_codes_are_refused(engine):
    order = (await engine.place_order(GUEST, CROISSANTS, "center")).order
    await fulfil(engine, order.id)
    before = await state(engine, order.id)
    genuine = engine.pickup_token(order.id)
    forged = [
        pickup.sign_token(b"another engine's secret", order.id),
        genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB"),
        order.id,
        f"{order.id}.",
        "o_doesnotexist." + genuine.rsplit(".", 1)[1],
        "",
        "garbage",
    ]
    for token in forged:
        with refused(ErrorCode.PICKUP_CODE_INVALID):
            await engine.hand_over(BARISTA, token=token)
    for code in ("", "abcd", "12a4", str((int(order.short_code) + 1) % 10_000).zfill(4)):
        with refused(ErrorCode.PICKUP_CODE_INVALID):
            await engine.hand_over(BARISTA, short_code=code)
    assert await state(engine, order.id) == before


# --- cancelling ------------------------------------------------------------------------------------

async def test_customer_cancels_a_placed_order_and_gets_everything_back(engine):
    await engine.save_promo(Promo("HELLO", PromoKind.PERCENT, 10))
    await give_points(engine, GUEST, 1000)
    order = (await engine.place_order(GUEST, CROISSANTS, "center", promo_code="HELLO", points=500)).order
    assert (order.discount, order.points_spent, order.total) == (Money(3600), 500, Money(36000 - 3600 - 500))
    assert await stock_of(engine) == 8 and await balance(engine, GUEST) == 500
    async with engine.uow() as uow:
        assert (await uow.promos.get("HELLO")).used == 1

    cancelled = await engine.cancel(GUEST, order.id)

    assert cancelled.status is OrderStatus.CANCELLED
    assert await status(engine, order.id) == (OrderStatus.CANCELLED, PaymentStatus.VOIDED)
    assert await stock_of(engine) == 10 and await balance(engine, GUEST) == 1000
    async with engine.uow() as uow:
        assert (await uow.promos.get("HELLO")).used == 0
        assert await uow.promos.uses_by("HELLO", order.customer_id) == 0
    again = await engine.place_order(GUEST, CROISSANTS, "center", promo_code="HELLO")  # once per customer: still his
    assert again.order.discount == Money(3600)
    assert "order.cancelled" in await event_types(engine)
    with refused(ErrorCode.INVALID_TRANSITION):
        await engine.cancel(OWNER, order.id)


async def test_customer_cannot_cancel_an_accepted_order_but_staff_can(engine):
    order = (await engine.place_order(GUEST, CROISSANTS, "center")).order
    with refused(ErrorCode.ORDER_NOT_FOUND):
        await engine.cancel(customer(2), order.id)  # not his order: told as for an id that does not exist
    await engine.accept(BARISTA, order.id)
    before = await state(engine, order.id)
    with refused(ErrorCode.INVALID_TRANSITION):  # his own, too late: about the order, not about who asks
        await engine.cancel(GUEST, order.id)
    assert await state(engine, order.id) == before
    await engine.cancel(BARISTA, order.id, "sold out of butter")
    assert await status(engine, order.id) == (OrderStatus.CANCELLED, PaymentStatus.VOIDED)
    assert await stock_of(engine) == 10


async def test_a_ready_order_cannot_be_cancelled(engine):
    order = (await engine.place_order(GUEST, CROISSANTS, "center")).order
    await fulfil(engine, order.id)
    with refused(ErrorCode.INVALID_TRANSITION):
        await engine.cancel(BARISTA, order.id)
    assert await status(engine, order.id) == (OrderStatus.READY, PaymentStatus.PENDING)


# --- expiry ----------------------------------------------------------------------------------------

async def test_a_ready_order_not_collected_by_closing_time_expires_without_releasing_stock(engine, clock):
    await give_points(engine, GUEST, 1000)
    order = (await engine.place_order(GUEST, CROISSANTS, "center", points=100)).order
    await fulfil(engine, order.id)
    clock.current = datetime(2026, 11, 18, 18, 59, tzinfo=UTC)  # 21:59 in Moscow, closes at 22:00
    assert await engine.expire_due() == []
    clock.advance(minutes=1)
    assert await engine.expire_due() == [order.id]
    assert await status(engine, order.id) == (OrderStatus.EXPIRED, PaymentStatus.VOIDED)
    assert await stock_of(engine) == 8  # it was made: the croissants are not back on the shelf
    assert await balance(engine, GUEST) == 1000


# --- placing ---------------------------------------------------------------------------------------

async def test_an_unknown_payment_provider_is_refused(engine):
    with refused(ErrorCode.PAYMENT_PROVIDER_UNKNOWN):
        await engine.place_order(GUEST, CROISSANTS, "center", provider="paypal")
    assert await stock_of(engine) == 10


async def test_a_retried_request_returns_the_same_order(engine):
    first = await engine.place_order(GUEST, CROISSANTS, "center", request_id="r-1")
    retry = await engine.place_order(GUEST, CROISSANTS, "center", request_id="r-1")
    assert retry.order.id == first.order.id and retry.payment.id == first.payment.id
    assert await stock_of(engine) == 8
    assert len(await engine.orders_of(GUEST)) == 1
    other = await engine.place_order(customer(2), CROISSANTS, "center", request_id="r-1")  # ids are per customer
    assert other.order.id != first.order.id and await stock_of(engine) == 6


async def test_a_double_click_places_one_order(engine):
    views = await asyncio.gather(*(engine.place_order(GUEST, CROISSANTS, "center", request_id="click")
                                   for _ in range(5)))
    assert len({v.order.id for v in views}) == 1
    assert await stock_of(engine) == 8 and len(await engine.orders_of(GUEST)) == 1


async def test_pickup_time_is_checked(engine, clock):
    now = clock.now()
    with refused(ErrorCode.BAD_PICKUP_TIME):
        await engine.place_order(GUEST, CROISSANTS, "center", pickup_at=now + timedelta(minutes=2))  # takes 5
    with refused(ErrorCode.BAD_PICKUP_TIME):
        await engine.place_order(GUEST, CROISSANTS, "center", pickup_at=now + timedelta(days=3))
    with refused(ErrorCode.BAD_PICKUP_TIME):
        await engine.place_order(GUEST, CROISSANTS, "center", pickup_at=datetime(2026, 11, 18, 12, 0))  # naive
    with refused(ErrorCode.POINT_CLOSED):  # 22:30 in Moscow
        await engine.place_order(GUEST, CROISSANTS, "center", pickup_at=datetime(2026, 11, 18, 19, 30, tzinfo=UTC))
    assert await stock_of(engine) == 10 and await engine.orders_of(GUEST) == []
    wanted = now + timedelta(hours=3)
    order = (await engine.place_order(GUEST, CROISSANTS, "center", pickup_at=wanted)).order
    assert order.pickup_at == wanted
    assert (await engine.place_order(GUEST, CROISSANTS, "center")).order.pickup_at == now + timedelta(minutes=5)


async def test_the_shop_refuses_orders_when_it_is_closed_now(engine, clock):
    clock.current = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # 05:00 in Moscow, opens at 07:00
    with refused(ErrorCode.POINT_CLOSED):
        await engine.place_order(GUEST, CROISSANTS, "center")
    with refused(ErrorCode.POINT_NOT_FOUND):
        await engine.place_order(GUEST, CROISSANTS, "moon")


async def test_out_of_stock_is_refused_and_stock_is_unchanged(engine):
    before = await stock_of(engine)
    with refused(ErrorCode.OUT_OF_STOCK):
        await engine.place_order(GUEST, [CartLine("croissant", 11)], "center")
    with refused(ErrorCode.OUT_OF_STOCK):  # two lines of the same item count together
        await engine.place_order(GUEST, [CartLine("croissant", 6), CartLine("croissant", 5)], "center")
    with refused(ErrorCode.OUT_OF_STOCK):
        await engine.place_order(GUEST, [CartLine("espresso"), CartLine("croissant", 4)], "park")
    assert (await stock_of(engine), await stock_of(engine, point_id="park")) == (before, 3)
    assert await engine.orders_of(GUEST) == [] and await ledger(engine, GUEST) == []
    await engine.place_order(GUEST, [CartLine("croissant", 10), CartLine("espresso", 20)], "center")
    assert await stock_of(engine) == 0


async def test_each_step_writes_its_events(engine):
    await give_points(engine, GUEST, 1000)
    order = (await engine.place_order(GUEST, CROISSANTS, "center", points=100)).order
    assert (await event_types(engine))[-2:] == ["points.spent", "order.placed"]
    await engine.accept(BARISTA, order.id)
    assert (await event_types(engine))[-1] == "order.accepted"
    await engine.mark_ready(BARISTA, order.id)
    assert (await event_types(engine))[-1] == "order.ready"
    await engine.hand_over(BARISTA, order_id=order.id)
    assert (await event_types(engine))[-3:] == ["payment.captured", "order.picked_up", "points.earned"]
    async with engine.uow() as uow:
        events = await uow.outbox.pending("test")
    ids = [e.id for e in events]
    assert ids == sorted(ids) and all(e.at is not None for e in events)
    assert {e.data["order_id"] for e in events if e.type.value.startswith("order.")} == {order.id}


async def test_the_view_placing_returns_is_the_order_as_read_back(engine, clock):
    """Paid at the counter, placing returns the order it wrote without reading it back: it must be what a read
    returns, to the history, the lines and the times' zone (a clock and a pickup time off UTC here)."""
    moscow = timezone(timedelta(hours=3))
    clock.current = clock.current.astimezone(moscow)
    await engine.save_promo(Promo("HELLO", PromoKind.PERCENT, 10))
    await give_points(engine, GUEST, 1000)
    cart = [CartLine("latte", 2, {"size": ("l",)}), CartLine("croissant", 1), CartLine("latte", 1, {"size": ("l",)})]
    view = await engine.place_order(GUEST, cart, "center", promo_code="hello", points=300,
                                    pickup_at=clock.now() + timedelta(minutes=30))
    read = await engine.order_view(GUEST, view.order.id)
    assert view == read
    assert view.order.history == [(OrderStatus.PLACED, clock.now())] and view.order.created_at.tzinfo is UTC


async def test_an_item_switched_off_cannot_be_ordered_and_comes_back(engine):
    await engine.set_available("croissant", False)
    with refused(ErrorCode.ITEM_UNAVAILABLE):
        await engine.place_order(GUEST, CROISSANTS, "center")
    assert "croissant" not in {i.id for i in (await engine.menu("center")).items}
    await engine.set_available("croissant", True)
    assert (await engine.place_order(GUEST, CROISSANTS, "center")).order.status is OrderStatus.PLACED
    with refused(ErrorCode.ITEM_NOT_FOUND):
        await engine.set_available("unicorn", True)


async def test_a_short_code_drawn_twice_at_once_is_drawn_again(engine, monkeypatch):
    """Two instances may draw one free code at the same moment; the second order draws again."""
    first = (await engine.place_order(customer(1), [CartLine("latte", 1)], "center")).order
    draws = iter([first.short_code, first.short_code, "7777"])  # as if the first draw raced the first order
    monkeypatch.setattr(pickup, "new_short_code", lambda in_use: next(draws))
    second = (await engine.place_order(customer(2), [CartLine("latte", 1)], "center")).order
    assert second.short_code == "7777"
    draws = iter([first.short_code] * 5)  # never a free one: refused, and nothing of the order stays
    croissants = await stock_of(engine)
    with pytest.raises(DomainError) as refused:
        await engine.place_order(customer(3), [CartLine("croissant", 1)], "center")
    assert refused.value.code is ErrorCode.CONFLICT
    assert await stock_of(engine) == croissants
