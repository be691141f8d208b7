"""Online payments under random schedules: whatever order notifications, crashes, outages, expiry and staff
come in, reconcile ends in one state, and that state is right.

A schedule is a list of steps run against a fresh database and the in-memory providers of
``payment_model.py``: orders placed and paid by card (YooKassa, two stages) or by Telegram invoice (one
stage); the customer pays, declines or abandons; notifications arrive duplicated, late, reordered or never;
staff accept, mark ready, hand over (capturing the hold) and cancel, as the customer does; the clock jumps,
past the 7-day hold too, and the provider lets a hold lapse; the next provider call fails, before or after
doing its work; reconcile runs. At the end the provider is reachable again, payments nobody paid are
abandoned, Telegram delivers what it still owes, reconcile runs until nothing changes, and then:

- an order handed over was captured exactly once at the provider, and its payment says captured;
- money taken for an order that was not handed over went back in full (or the owner was told to give it),
  unless the order is still ready and its hand-over took the money but lost the answer;
- no hold remains at the provider for a closed order; our payment agrees with the provider's;
- the points balance is what the orders say (earned for handed-over orders, spent points back for closed
  ones); the stock at the point is the start less what open, handed-over and made orders hold.
"""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from journey_support import BARISTA, OWNER, FakeClock, customer, seed, stock_of
from payment_model import InvoiceModel, YookassaModel

from journey.channels import CustomerRef, InvoicePayment
from journey.engine import Engine
from journey.errors import DomainError, ErrorCode
from journey.events import EventType
from journey.model import CartLine, LedgerEntry, Order, PaymentIntent
from journey.paying import HOLD_LIMIT
from journey.ports import PaymentUnavailable
from journey.pricing import points_earned
from journey.states import OrderStatus, PaymentStatus
from storage.sqlite import SqliteDatabase

CUSTOMERS = (customer(1), customer(2), customer(3))
START_POINTS = 1000
START_STOCK = 10
RECONCILE_ROUNDS = 6
JUMPS = (1, 3, 16, 45, 3 * 60, 14 * 60, 24 * 60, 3 * 24 * 60, (6 * 24 + 12) * 60, 7 * 24 * 60 + 1)


@dataclass
class World:
    """One shop with both providers, and what the customers and the messengers hold outside it."""

    engine: Engine
    clock: FakeClock
    yookassa: YookassaModel
    telegram: InvoiceModel
    orders: list[str] = field(default_factory=list)  # placed, in order
    owner_of: dict[str, CustomerRef] = field(default_factory=dict)
    intents: dict[str, PaymentIntent] = field(default_factory=dict)  # what place_order answered: the link
    updates: list[InvoicePayment] = field(default_factory=list)  # successful_payment Telegram still owes
    trace: list[str] = field(default_factory=list)

    @classmethod
    async def open(cls, db: SqliteDatabase, clock: FakeClock, *, can_refund: bool = True) -> World:
        yookassa = YookassaModel(clock)
        telegram = InvoiceModel(can_refund=can_refund)
        engine = Engine(db.uow, owners=[OWNER], clock=clock, providers={"yookassa": yookassa, "telegram": telegram},
                        reader=db.reading)
        await engine.start()
        await seed(engine, croissants=START_STOCK)
        for ref in CUSTOMERS:
            cid = (await engine.identify(ref)).id
            async with engine.uow() as uow:
                await uow.loyalty.add(LedgerEntry(cid, START_POINTS, "adjust", None, clock.now()))
        return cls(engine, clock, yookassa, telegram)

    def order(self, n: int) -> str | None:
        """Mostly the latest order, sometimes the one before, now and then any (schedules stay short)."""
        if not self.orders:
            return None
        if n < 6:
            return self.orders[-1]
        if n < 8:
            return self.orders[-2 if len(self.orders) > 1 else -1]
        return self.orders[n * 7 % len(self.orders)]

    # -- the steps -------------------------------------------------------------------------------------

    async def place(self, who: int, quantity: int, points: int, provider: str = "yookassa") -> str | None:
        ref = CUSTOMERS[who % len(CUSTOMERS)]
        before = {o.id for o in await self.engine.orders_of(ref)}
        try:
            view = await self.engine.place_order(ref, [CartLine("croissant", quantity), CartLine("espresso")],
                                                 "center", provider=provider, points=points,
                                                 return_url="https://shop.example/o/")
        except DomainError as e:
            self.trace.append(f"place refused: {e.code.value}")
            # a payment that failed to start still leaves its (cancelled) order behind
            for o in await self.engine.orders_of(ref):
                if o.id not in before:
                    self.orders.append(o.id)
                    self.owner_of[o.id] = ref
            return None
        self.orders.append(view.order.id)
        self.owner_of[view.order.id] = ref
        if view.payment is not None:
            self.intents[view.order.id] = view.payment
        return view.order.id

    def pay(self, order_id: str) -> bool:
        """The customer pays on the page they were sent to (a YooKassa order whose link they got)."""
        intent = self.intents.get(order_id)
        if intent is None or intent.provider != "yookassa" or not intent.provider_ref:
            return False
        return self.yookassa.pay(intent.provider_ref)

    def decline(self, order_id: str, reason: str) -> bool:
        intent = self.intents.get(order_id)
        if intent is None or intent.provider != "yookassa" or not intent.provider_ref:
            return False
        return self.yookassa.decline(intent.provider_ref, reason)

    async def pay_invoice(self, order_id: str) -> bool:
        """The customer pays a Telegram invoice: the pre-checkout asks us, and if we approve Telegram takes
        the money and owes the bot a successful_payment."""
        intent = self.intents.get(order_id)
        if intent is None or intent.provider != "telegram":
            return False
        asked = InvoicePayment(intent.id, intent.amount.currency, intent.amount.amount)
        try:
            await self.engine.check_invoice(asked)
        except DomainError as e:
            self.trace.append(f"pre-checkout refused: {e.code.value}")
            return False
        charge = self.telegram.take(intent.id, order_id, intent.amount.amount)
        self.updates.append(InvoicePayment(intent.id, asked.currency, asked.total, charge.charge_id,
                                           f"yk-{charge.charge_id}"))
        return True

    async def notify(self, n: int, again: bool) -> None:
        """A YooKassa notification arrives (``again``: it will arrive once more, a duplicate)."""
        pool = self.yookassa.notifications
        if not pool:
            return
        ref = pool.pop(n % len(pool))
        try:
            await self.engine.payment_notice("yookassa", ref)
        except PaymentUnavailable:  # answered 503: YooKassa sends it again later
            pool.append(ref)
            return
        if again:
            pool.append(ref)

    def lose(self, n: int) -> None:
        pool = self.yookassa.notifications
        if pool:
            pool.pop(n % len(pool))

    async def deliver_update(self, n: int, again: bool) -> None:
        """Telegram's successful_payment reaches the bot (``again``: Telegram repeats it)."""
        if not self.updates:
            return
        update = self.updates.pop(n % len(self.updates))
        await self.engine.invoice_paid(update)
        charge = self.telegram.charges[update.charge_id]
        charge.delivered += 1
        if again:
            self.updates.append(update)

    async def staff(self, what: str, order_id: str, who: CustomerRef = BARISTA) -> None:
        try:
            if what == "accept":
                await self.engine.accept(who, order_id)
            elif what == "ready":
                await self.engine.mark_ready(who, order_id)
            elif what == "hand_over":
                await self.engine.hand_over(who, order_id=order_id)
            else:
                await self.engine.cancel(who, order_id)
        except DomainError as e:
            self.trace.append(f"{what} refused: {e.code.value}")

    async def next(self, order_id: str) -> None:
        """What would happen next to this order if nothing went wrong: the customer pays, the provider's
        word arrives, staff take it one step further."""
        payment = self.yookassa.by_order(order_id)
        intent = self.intents.get(order_id)
        if payment is not None and payment.status == "pending" and self.pay(order_id):
            return
        if payment is not None and payment.id in self.yookassa.notifications:
            return await self.notify(self.yookassa.notifications.index(payment.id), False)
        waiting = [n for n, u in enumerate(self.updates) if intent is not None and u.payload == intent.id]
        if waiting:
            return await self.deliver_update(waiting[0], False)
        view = await self.engine.order_view(OWNER, order_id)
        if view.payment is not None and view.payment.status is PaymentStatus.PENDING and view.order.status.is_open:
            await self.pay_invoice(order_id)
        elif view.order.status.is_open:
            await self.staff({OrderStatus.PLACED: "accept", OrderStatus.ACCEPTED: "ready"}.get(
                view.order.status, "hand_over"), order_id)

    async def run(self, step: tuple[str, int, int]) -> None:
        kind, a, b = step
        self.trace.append(f"{kind} {a} {b}")
        order_id = self.order(a)
        if kind == "next" and order_id:
            await self.next(order_id)
        elif kind == "place":
            await self.place(a, 1 + b % 3, (0, 0, 500)[b % 3], "telegram" if b >= 6 else "yookassa")
        elif kind == "pay" and order_id:
            if not self.pay(order_id):
                await self.pay_invoice(order_id)
        elif kind == "decline" and order_id:
            self.decline(order_id, "expired_on_confirmation" if b % 2 else "card_expired")
        elif kind == "notify":
            await self.notify(a, b % 3 == 0)
        elif kind == "lose":
            self.lose(a)
        elif kind == "update":
            await self.deliver_update(a, b % 3 == 0)
        elif kind in ("accept", "ready", "hand_over") and order_id:
            await self.staff(kind, order_id)
        elif kind == "cancel" and order_id:
            await self.staff(kind, order_id, self.owner_of[order_id] if b % 2 else BARISTA)
        elif kind == "jump":
            self.clock.advance(minutes=JUMPS[b % len(JUMPS)])
        elif kind == "expire":
            await self.engine.expire_due()
        elif kind == "lapse":
            self.yookassa.lapse()
        elif kind == "fault":  # at the provider of the order the schedule is busy with
            intent = self.intents.get(order_id or "")
            provider = self.telegram if intent is not None and intent.provider == "telegram" else self.yookassa
            provider.faults.next = "lost" if b % 2 else "down"
        elif kind == "reconcile":
            await self.engine.reconcile()

    # -- the end --------------------------------------------------------------------------------------

    async def settle(self) -> None:
        """The providers are reachable again, payments nobody paid are abandoned, Telegram delivers what it
        owes, and reconcile runs until nothing changes."""
        self.yookassa.faults.next = self.telegram.faults.next = ""
        for payment in self.yookassa.payments.values():
            if payment.status == "pending":
                self.yookassa.decline(payment.id, "expired_on_confirmation")
        while self.updates:
            await self.deliver_update(0, False)
        for _ in range(RECONCILE_ROUNDS):
            done = await self.engine.reconcile()
            assert done.unavailable == 0, done
            if done.changed == 0:
                return
        raise AssertionError(f"reconcile still changes things after {RECONCILE_ROUNDS} rounds")

    async def check(self) -> set[str]:
        """The invariants of the module's docstring; returns what the schedule reached (for statistics)."""
        engine = self.engine
        async with engine.read() as uow:
            rules = await engine.rules(uow)
            orders: list[Order] = []
            intents: dict[str, PaymentIntent] = {}
            for order_id in self.orders:
                order = await uow.orders.get(order_id)
                intent = await uow.payments.for_order(order_id)
                assert order is not None and intent is not None
                orders.append(order)
                intents[order_id] = intent
            balances = {}
            for ref in CUSTOMERS:
                found = await uow.customers.by_account(ref.channel, ref.external_id)
                assert found is not None
                balances[found.id] = await uow.loyalty.balance(found.id)
            events = await uow.outbox.pending("test", 100_000)
        told_manual: dict[str, int] = {}
        for e in events:
            if e.type is EventType.PAYMENT_REFUND_MANUAL:
                told_manual[str(e.data["order_id"])] = told_manual.get(str(e.data["order_id"]), 0) + int(
                    str(e.data["amount"]))
        for order in orders:
            intent = intents[order.id]
            where = f"order {order.id} {order.status.value}, payment {intent}"
            if intent.provider == "yookassa":
                check_yookassa(self.yookassa, order, intent, where)
            else:
                check_invoice(self.telegram, order, intent, told_manual.get(order.id, 0), where)
        # points: earned for handed-over orders, spent points back for closed ones
        expected = dict.fromkeys(balances, START_POINTS)
        for order in orders:
            if order.status is OrderStatus.PICKED_UP:
                expected[order.customer_id] += points_earned(order.total, rules)
            if order.status is OrderStatus.PICKED_UP or order.status.is_open:
                expected[order.customer_id] -= order.points_spent
        assert balances == expected
        # stock: what open, handed-over and made (ready, then expired) orders hold is gone
        held = sum(line.quantity for order in orders for line in order.lines if line.item_id == "croissant" and (
            order.status.is_open or order.status is OrderStatus.PICKED_UP
            or OrderStatus.READY in [s for s, _ in order.history]))
        assert await stock_of(engine) == START_STOCK - held
        reached = {f"{intents[o.id].provider}: order {o.status.value}, payment {intents[o.id].status.value}"
                   for o in orders}
        if any(n > 1 for n in self.yookassa.captures.values()) or self.yookassa.refunds:
            reached.add("yookassa: refunded")
        if any(len(self.telegram.charges_of(o.id)) > 1 for o in orders):
            reached.add("telegram: charged twice")
        return reached


def check_yookassa(model: YookassaModel, order: Order, intent: PaymentIntent, where: str) -> None:
    payment = model.by_order(order.id)
    if payment is None or not intent.provider_ref:  # never started, or its answer lost: nobody could pay
        assert payment is None or payment.status == "canceled", where
        assert intent.status in (PaymentStatus.FAILED, PaymentStatus.VOIDED), where
        assert not order.status.is_open and order.status is not OrderStatus.PICKED_UP, where
        return
    assert payment.id == intent.provider_ref, where
    where += f", at the provider {payment}, captured {model.captures[payment.id]} time(s)"
    assert model.captures[payment.id] <= 1, where
    if order.status is OrderStatus.PICKED_UP:
        assert payment.status == "succeeded" and payment.refunded == 0, where
        assert model.captures[payment.id] == 1, where
        assert intent.status is PaymentStatus.CAPTURED, where
    elif payment.status == "succeeded" and not order.status.is_open:
        assert payment.refunded == payment.amount, where
    elif payment.status == "succeeded":  # taken at a hand-over whose answer was lost: handed over next time
        assert order.status is OrderStatus.READY and intent.status is PaymentStatus.CAPTURED, where
    if not order.status.is_open:
        assert payment.status != "waiting_for_capture", where
    theirs = payment.result().status
    agree = {
        PaymentStatus.PENDING: {PaymentStatus.PENDING},
        PaymentStatus.AUTHORIZED: {PaymentStatus.AUTHORIZED},
        PaymentStatus.CAPTURED: {PaymentStatus.CAPTURED},
        PaymentStatus.REFUNDED: {PaymentStatus.REFUNDED},
        PaymentStatus.VOIDED: {PaymentStatus.VOIDED, PaymentStatus.FAILED},
        PaymentStatus.FAILED: {PaymentStatus.VOIDED, PaymentStatus.FAILED},
    }[theirs]
    assert intent.status in agree and intent.refunded == payment.refunded, where
    if intent.status is PaymentStatus.AUTHORIZED:
        assert order.status.is_open, where


def check_invoice(model: InvoiceModel, order: Order, intent: PaymentIntent, told_manual: int, where: str) -> None:
    charges = model.charges_of(order.id)
    where += f", charges {charges}, the owner told to give back {told_manual}"
    taken = sum(c.amount for c in charges)
    back = sum(c.refunded for c in charges) + told_manual
    assert all(c.delivered for c in charges) and back <= taken, where
    if order.status is OrderStatus.PICKED_UP:
        assert intent.status is PaymentStatus.CAPTURED and charges, where
        assert taken - back == order.total.amount == intent.amount.amount, where
    elif not order.status.is_open:
        assert taken == back, where  # every kopeck taken for a closed order is given back or owed by the owner
    else:
        assert taken - back in (0, intent.amount.amount), where
        assert (intent.status is PaymentStatus.CAPTURED) == (taken - back > 0), where


# --- the property ------------------------------------------------------------------------------------

# the kinds an order's life needs come more often; shrinking prefers the earlier ones
KINDS = ("place", "next", "pay", "notify", "update", "accept", "ready", "hand_over", "jump", "expire", "reconcile",
         "cancel", "fault", "decline", "lose", "lapse")
WEIGHTS = (3, 8, 2, 3, 3, 1, 1, 2, 3, 3, 2, 2, 3, 1, 2, 1)
STEP = st.tuples(st.sampled_from([k for k, w in zip(KINDS, WEIGHTS, strict=True) for _ in range(w)]),
                 st.integers(0, 9), st.integers(0, 9))




async def run_schedule(steps: Sequence[tuple[str, int, int]], can_refund: bool) -> set[str]:
    async with SqliteDatabase(":memory:") as db:
        world = await World.open(db, FakeClock(), can_refund=can_refund)
        try:
            for step in steps:
                await world.run(step)
            await world.settle()
            return await world.check()
        except BaseException:
            print("\n".join(world.trace))  # shown with the falsifying example
            raise


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(steps=st.builds(lambda first, rest: [("place", 0, first), *rest], st.integers(0, 9),
                       st.lists(STEP, min_size=6, max_size=30)),
       can_refund=st.booleans())
def test_any_schedule_ends_captured_once_released_or_refunded_and_balanced(steps, can_refund):
    for reached in sorted(asyncio.run(run_schedule(steps, can_refund))):
        event(reached)


# --- the examples --------------------------------------------------------------------------------------

@pytest.fixture
async def world(db, clock) -> World:
    return await World.open(db, clock)


async def test_a_lost_notification_is_recovered_by_reconcile(world):
    order_id = await world.place(0, 2, 0)
    assert order_id is not None
    assert world.pay(order_id)
    world.lose(0)  # YooKassa's webhook never comes
    async with world.engine.read() as uow:
        intent = await uow.payments.for_order(order_id)
    assert intent is not None and intent.status is PaymentStatus.PENDING
    assert (await world.engine.reconcile()).changed == 1
    view = await world.engine.order_view(OWNER, order_id)
    assert view.payment is not None and view.payment.status is PaymentStatus.AUTHORIZED
    await world.staff("accept", order_id)
    await world.staff("ready", order_id)
    await world.staff("hand_over", order_id)
    await world.settle()
    await world.check()
    assert (await world.engine.order_view(OWNER, order_id)).order.status is OrderStatus.PICKED_UP


async def test_a_crash_after_capture_is_repaired_by_reconcile_and_the_order_handed_over_without_a_second_capture(
        world):
    order_id = await world.place(0, 1, 0)
    assert order_id is not None and world.pay(order_id)
    await world.notify(0, False)
    await world.staff("accept", order_id)
    await world.staff("ready", order_id)
    world.yookassa.faults.next = "lost"  # YooKassa captures, its answer never reaches us
    await world.staff("hand_over", order_id)
    assert world.trace[-1] == f"hand_over refused: {ErrorCode.PAYMENT_FAILED.value}"
    payment = world.yookassa.by_order(order_id)
    assert payment is not None and payment.status == "succeeded" and world.yookassa.captures[payment.id] == 1
    view = await world.engine.order_view(OWNER, order_id)
    assert (view.order.status, view.payment and view.payment.status) == (OrderStatus.READY, PaymentStatus.AUTHORIZED)

    world.clock.advance(days=2)  # past the 24 hours YooKassa remembers the capture's key
    assert (await world.engine.reconcile()).changed == 1
    view = await world.engine.order_view(OWNER, order_id)
    assert view.payment is not None and view.payment.status is PaymentStatus.CAPTURED
    await world.staff("hand_over", order_id)
    assert (await world.engine.order_view(OWNER, order_id)).order.status is OrderStatus.PICKED_UP
    assert world.yookassa.captures[payment.id] == 1
    assert [c for c in world.yookassa.calls if c[0] == "capture"] == [("capture", view.payment.id)]
    await world.settle()
    await world.check()


async def test_a_hold_past_the_limit_is_released_and_its_order_expired_never_captured(world):
    order_id = await world.place(0, 2, 500)
    assert order_id is not None and world.pay(order_id)
    await world.notify(0, False)
    await world.staff("accept", order_id)
    await world.staff("ready", order_id)
    world.clock.advance(days=7, minutes=1)  # nobody ran expiry, and YooKassa lets the hold lapse
    placed = world.intents[order_id].created_at
    assert placed is not None and world.clock.now() - placed > HOLD_LIMIT
    world.yookassa.lapse()
    await world.staff("hand_over", order_id)
    assert world.trace[-1] == f"hand_over refused: {ErrorCode.PAYMENT_FAILED.value}"
    await world.settle()
    await world.check()
    view = await world.engine.order_view(OWNER, order_id)
    assert view.order.status is OrderStatus.EXPIRED
    assert view.payment is not None and view.payment.status is PaymentStatus.VOIDED
    assert not world.yookassa.captures and ("capture", view.payment.id) not in world.yookassa.calls


# --- what the property found (fixed in journey/paying.py) ------------------------------------------------

async def _paid_invoice_order(world: World) -> str:
    order_id = await world.place(0, 2, 0, "telegram")
    assert order_id is not None and await world.pay_invoice(order_id)
    return order_id


async def test_a_cancelled_invoice_order_is_refunded_by_reconcile_after_the_refund_api_was_down(world):
    order_id = await _paid_invoice_order(world)
    await world.deliver_update(0, False)
    world.telegram.faults.next = "down"  # the refund after the cancel cannot reach the provider
    await world.staff("cancel", order_id)
    await world.settle()  # reconcile, with the provider reachable again
    await world.check()  # money taken for a cancelled order went back


async def test_an_invoice_paid_after_its_order_expired_is_refunded_by_reconcile_after_the_refund_api_was_down(world):
    order_id = await _paid_invoice_order(world)
    world.clock.advance(minutes=16)  # successful_payment late: the order expires unpaid first
    assert await world.engine.expire_due() == [order_id]
    world.telegram.faults.next = "down"
    await world.deliver_update(0, False)
    await world.settle()
    await world.check()


async def test_a_second_charge_for_one_order_is_told_to_the_owner_once_however_often_telegram_repeats_it(world):
    order_id = await _paid_invoice_order(world)
    assert await world.pay_invoice(order_id)  # a second tap before the first successful_payment arrived
    first, second = world.updates
    await world.engine.invoice_paid(first)
    for _ in range(2):  # Telegram repeats the second one
        await world.engine.invoice_paid(second)
    world.updates.clear()
    for charge in world.telegram.charges.values():
        charge.delivered = 1
    await world.settle()
    await world.check()  # the owner is told to give back what was taken twice, once
