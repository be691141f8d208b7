"""Group orders in the engine: the discount applies to everyone exactly when the goal is reached, joins racing
to the goal are counted exactly, a closed group takes nobody, and the orders are placed like any other
(one pickup, stock reserved, a close repeated places nothing twice)."""
from __future__ import annotations

import asyncio

import pytest
from journey_support import OWNER, customer, event_types, refused, stock_of
from pg_support import same_store

from journey.channels import Channel
from journey.deeplinks import parse_start
from journey.engine import Engine
from journey.errors import DomainError, ErrorCode
from journey.events import EventType
from journey.group_model import GROUP_TRANSITIONS, GroupStatus, ensure_group_transition
from journey.model import CartLine
from journey.states import OrderStatus

LATTE = CartLine("latte", 1, {"size": ("m",)})  # 290 ₽
ESPRESSO = CartLine("espresso", 2)  # 2 x 150 ₽
CROISSANT = CartLine("croissant", 1)  # 180 ₽, counted stock at "center"
ANNA = customer(1, Channel.TELEGRAM)
BORIS = customer(2, Channel.VK)
VERA = customer("browser-vera", Channel.WEB)


async def order_of(engine: Engine, order_id: str):
    async with engine.read() as uow:
        return await uow.orders.get(order_id)


async def test_the_discount_applies_to_everyone_when_the_goal_is_reached(engine: Engine, clock):
    opened = await engine.open_group(ANNA, [LATTE], "center", payer="each")
    code = opened.group.code
    assert (opened.joined, opened.reached, opened.group.min_people, opened.group.percent) == (1, False, 3, 10)
    clock.advance(seconds=1)  # members are listed in the order they joined (the same moment: by customer id)
    await engine.join_group(BORIS, code, [ESPRESSO])
    clock.advance(seconds=1)
    joined = await engine.join_group(VERA, code, [CROISSANT])
    assert (joined.joined, joined.reached) == (3, True)
    assert [m.quote.discount.amount for m in joined.members if m.quote] == [2900, 3000, 1800]  # shown before close

    closed = await engine.close_group(ANNA, code)
    assert closed.group.status is GroupStatus.ORDERED and closed.group.discounted
    orders = {m.member.account.key: await order_of(engine, m.member.order_id or "") for m in closed.members}
    assert {k: (o.subtotal.amount, o.discount.amount, o.total.amount) for k, o in orders.items()} == {
        ANNA.key: (29000, 2900, 26100), BORIS.key: (30000, 3000, 27000), VERA.key: (18000, 1800, 16200)}
    assert {o.point_id for o in orders.values()} == {"center"}
    assert len({o.pickup_at for o in orders.values()}) == 1  # one pickup for everyone
    assert {o.payment_provider for o in orders.values()} == {"counter"}
    assert {o.customer_id for o in orders.values()} == {m.member.customer_id for m in closed.members}
    assert await stock_of(engine) == 9
    types = await event_types(engine)
    assert types.count(EventType.GROUP_REACHED.value) == 1 and EventType.GROUP_ORDERED.value in types


async def test_below_the_goal_nobody_gets_the_discount(engine: Engine):
    code = (await engine.open_group(ANNA, [LATTE], "center", payer="each")).group.code
    await engine.join_group(BORIS, code, [ESPRESSO])
    closed = await engine.close_group(ANNA, code)
    assert closed.group.status is GroupStatus.ORDERED and not closed.group.discounted and not closed.reached
    for m in closed.members:
        order = await order_of(engine, m.member.order_id or "")
        assert order.discount.amount == 0 and order.total == order.subtotal
    assert EventType.GROUP_REACHED.value not in await event_types(engine)


async def test_the_organiser_pays_one_order_with_everyones_lines(engine: Engine):
    opened = await engine.open_group(ANNA, [], "park", payer="organiser")  # the organiser takes nothing
    assert opened.joined == 0
    for who, lines in ((BORIS, [ESPRESSO]), (VERA, [CROISSANT]), (customer(4), [LATTE])):
        await engine.join_group(who, opened.group.code, lines)
    closed = await engine.close_group(ANNA, opened.group.code)
    order = await order_of(engine, closed.my_order or "")
    assert order.point_id == "park" and order.customer_id == closed.group.organiser_id
    # members who joined in one instant come in no particular order
    assert sorted((l.item_id, l.quantity) for l in order.lines) == [("croissant", 1), ("espresso", 2), ("latte", 1)]
    assert (order.subtotal.amount, order.discount.amount, order.total.amount) == (77000, 7700, 69300)
    assert all(m.member.order_id is None for m in closed.members)  # nobody else holds an order to pay


async def test_joins_racing_to_the_goal_are_counted_exactly(engine: Engine):
    code = (await engine.open_group(ANNA, [LATTE], "center", payer="each")).group.code
    friends = [customer(10 + n, Channel.VK if n % 2 else Channel.TELEGRAM) for n in range(12)]
    views = await asyncio.gather(*(engine.join_group(f, code, [ESPRESSO]) for f in friends))
    assert sorted(v.joined for v in views) == list(range(2, 14))  # each join saw the ones before it, none twice
    final = await engine.group_view(ANNA, code)
    assert final.joined == 13
    assert (await event_types(engine)).count(EventType.GROUP_REACHED.value) == 1


async def test_a_close_racing_joins_counts_exactly_who_got_in(engine: Engine):
    """Whatever the order, a join is either in the group (and its order) or refused as closed, and the
    discount is decided by the members that got in: never for fewer than the goal."""
    code = (await engine.open_group(ANNA, [LATTE], "center", payer="each")).group.code
    friends = [customer(30 + n) for n in range(4)]
    results = await asyncio.gather(*(engine.join_group(f, code, [ESPRESSO]) for f in friends),
                                   engine.close_group(ANNA, code), return_exceptions=True)
    joins = results[:-1]
    assert all(not isinstance(r, BaseException) or (isinstance(r, DomainError) and r.code is ErrorCode.GROUP_CLOSED)
               for r in joins), results
    closed = await engine.group_view(ANNA, code)
    got_in = 1 + sum(not isinstance(r, BaseException) for r in joins)
    assert closed.joined == got_in
    assert closed.group.discounted is (got_in >= 3)
    for m in closed.members:
        order = await order_of(engine, m.member.order_id or "")
        assert (order.discount.amount > 0) is (got_in >= 3)


async def test_joining_again_replaces_ones_lines_and_counts_once(engine: Engine):
    code = (await engine.open_group(ANNA, [LATTE], "center")).group.code
    await engine.join_group(BORIS, code, [ESPRESSO])
    again = await engine.join_group(BORIS, code, [CROISSANT, CartLine("eclair", 3)])
    assert again.joined == 2
    assert again.my_lines == (CROISSANT, CartLine("eclair", 3))


@pytest.mark.parametrize(("lines", "code"), [
    ([], ErrorCode.EMPTY_CART), ([CartLine("caviar")], ErrorCode.ITEM_NOT_FOUND),
    ([CartLine("espresso", 0)], ErrorCode.BAD_QUANTITY), ([CartLine("espresso", 100)], ErrorCode.BAD_QUANTITY),
    ([CartLine("latte", 1, {"size": ("xxl",)})], ErrorCode.BAD_OPTION)])
async def test_bad_lines_are_refused_and_change_nothing(engine: Engine, lines, code):
    group = (await engine.open_group(ANNA, [LATTE], "center")).group.code
    with refused(code):
        await engine.join_group(BORIS, group, lines)
    assert (await engine.group_view(ANNA, group)).joined == 1


async def test_what_is_refused(engine: Engine, clock):
    with refused(ErrorCode.GROUP_NOT_FOUND):
        await engine.join_group(BORIS, "nosuchgroup", [ESPRESSO])
    with refused(ErrorCode.GROUP_NOT_FOUND):
        await engine.group_view(BORIS, "")
    with refused(ErrorCode.POINT_NOT_FOUND):
        await engine.open_group(ANNA, [LATTE], "moon")
    with refused(ErrorCode.BAD_INPUT):
        await engine.open_group(ANNA, [LATTE], "center", payer="whoever")
    with refused(ErrorCode.PAYMENT_PROVIDER_UNKNOWN):
        await engine.open_group(ANNA, [LATTE], "center", payment="bitcoin")
    code = (await engine.open_group(ANNA, [], "center")).group.code
    with refused(ErrorCode.GROUP_EMPTY):  # nobody's lines: nothing to order, and the group stays open
        await engine.close_group(ANNA, code)
    await engine.join_group(BORIS, code, [ESPRESSO])
    with refused(ErrorCode.GROUP_NOT_ORGANISER):
        await engine.close_group(BORIS, code)
    with refused(ErrorCode.GROUP_NOT_ORGANISER):
        await engine.cancel_group(BORIS, code)
    await engine.close_group(ANNA, code)
    with refused(ErrorCode.GROUP_CLOSED):
        await engine.join_group(VERA, code, [CROISSANT])
    with refused(ErrorCode.GROUP_CLOSED):
        await engine.close_group(ANNA, code)
    with refused(ErrorCode.GROUP_CLOSED):
        await engine.cancel_group(ANNA, code)
    # the window: a join one moment after it is refused, though nobody closed the group yet
    late = (await engine.open_group(ANNA, [LATTE], "center")).group
    clock.current = late.closes_at
    with refused(ErrorCode.GROUP_CLOSED):
        await engine.join_group(VERA, late.code, [CROISSANT])


async def test_the_window_closes_the_group_in_the_expiry_sweep(engine: Engine, clock):
    code = (await engine.open_group(ANNA, [LATTE], "center", payer="each")).group.code
    for who in (BORIS, VERA):
        await engine.join_group(who, code, [CROISSANT])
    nobody = (await engine.open_group(customer(5), [], "center")).group.code
    clock.advance(minutes=29)
    await engine.expire_due()
    assert (await engine.group_view(ANNA, code)).group.status is GroupStatus.OPEN
    clock.advance(minutes=1)
    await engine.expire_due()
    done = await engine.group_view(ANNA, code)
    assert done.group.status is GroupStatus.ORDERED and done.group.discounted
    assert all(m.member.order_id for m in done.members)
    empty = await engine.group_view(ANNA, nobody)
    assert (empty.group.status, empty.group.reason) == (GroupStatus.EXPIRED, "empty")
    await engine.expire_due()  # a second sweep finds nothing more to do
    assert await stock_of(engine) == 8


async def test_a_close_repeated_by_the_sweep_places_nothing_twice(engine: Engine, clock):
    code = (await engine.open_group(ANNA, [LATTE], "center", payer="each")).group.code
    await engine.join_group(BORIS, code, [CROISSANT])
    clock.advance(minutes=31)
    await asyncio.gather(engine.close_group(ANNA, code), engine.close_due_groups(), engine.close_due_groups(),
                         return_exceptions=True)
    done = await engine.group_view(ANNA, code)
    assert done.group.status is GroupStatus.ORDERED
    async with engine.read() as uow:
        placed = [o for m in done.members for o in await uow.orders.for_customer(m.member.customer_id)]
    assert len(placed) == 2 and await stock_of(engine) == 9


async def test_the_last_units_go_to_exactly_as_many_members(engine: Engine):
    async with engine.uow() as uow:
        await uow.catalog.set_stock("center", "croissant", 2)
    code = (await engine.open_group(ANNA, [CROISSANT], "center", payer="each")).group.code
    for who in (BORIS, VERA):
        await engine.join_group(who, code, [CROISSANT])
    done = await engine.close_group(ANNA, code)
    placed = [m for m in done.members if m.member.order_id]
    assert len(placed) == 2 and await stock_of(engine) == 0
    assert done.group.status is GroupStatus.ORDERED


async def test_an_organisers_order_that_cannot_be_placed_cancels_the_group(engine: Engine):
    async with engine.uow() as uow:
        await uow.catalog.set_stock("center", "croissant", 1)
    code = (await engine.open_group(ANNA, [CROISSANT], "center")).group.code
    await engine.join_group(BORIS, code, [CROISSANT])
    done = await engine.close_group(ANNA, code)
    assert (done.group.status, done.group.reason, done.my_order) == (GroupStatus.CANCELLED, "out_of_stock", None)
    assert await stock_of(engine) == 1


async def test_the_organiser_may_call_it_off(engine: Engine):
    code = (await engine.open_group(ANNA, [LATTE], "center")).group.code
    await engine.join_group(BORIS, code, [ESPRESSO])
    off = await engine.cancel_group(ANNA, code)
    assert (off.group.status, off.group.reason) == (GroupStatus.CANCELLED, "organiser")
    with refused(ErrorCode.GROUP_CLOSED):
        await engine.join_group(VERA, code, [CROISSANT])


async def test_the_rules_come_from_the_shop_and_stay_with_the_group(engine: Engine):
    await engine.set_rules(group_min_people=2, group_percent=20, group_window_minutes=5)
    group = (await engine.open_group(ANNA, [LATTE], "center")).group
    assert (group.min_people, group.percent, (group.closes_at - group.created_at).total_seconds()) == (2, 20, 300)
    await engine.set_rules(group_min_people=9)
    await engine.join_group(BORIS, group.code, [ESPRESSO])
    assert (await engine.group_view(BORIS, group.code)).reached  # the goal announced when it opened


def test_the_state_machine_allows_only_its_table():
    for current, allowed in GROUP_TRANSITIONS.items():
        for target in GroupStatus:
            if target in allowed:
                ensure_group_transition(current, target)
            else:
                with pytest.raises(DomainError):
                    ensure_group_transition(current, target)
    assert GROUP_TRANSITIONS[GroupStatus.ORDERED] == frozenset()


async def test_a_members_order_is_a_normal_order(engine: Engine):
    code = (await engine.open_group(ANNA, [LATTE], "center", payer="each")).group.code
    await engine.join_group(BORIS, code, [ESPRESSO])
    done = await engine.close_group(ANNA, code)
    mine = await engine.order_view(BORIS, done.members[1].member.order_id or "")
    assert mine.order.status is OrderStatus.PLACED and mine.order.source == f"group:{code}"


async def test_the_owners_numbers_count_every_group_in_one_row(engine: Engine):
    for n in range(2):
        code = (await engine.open_group(customer(40 + n), [LATTE], "center", payer="each")).group.code
        friend = customer(50 + n, Channel.VK)
        await engine.record_visit(parse_start(f"j{code}"), Channel.VK, friend)
        await engine.join_group(friend, code, [ESPRESSO])
        await engine.close_group(customer(40 + n), code)
    stats = await engine.stats(OWNER)
    row = dict(stats.by_source)["group"]
    assert (row.visits, row.orders) == (2, 4)
    assert not [source for source, _ in stats.by_source if source.startswith("group:")]


@pytest.fixture
async def twin(db, clock, engine):
    """A second engine on its own connection to the same database file: another process, in effect (on
    PostgreSQL, a pool of its own on the same schema: another instance)."""
    other = same_store(db)
    await other.connect()
    yield Engine(other.uow, secret=engine.secret, owners=[OWNER], clock=clock, reader=other.reading)
    await other.close()


async def test_two_processes_racing_joins_and_the_close_count_exactly(engine: Engine, twin: Engine):
    code = (await engine.open_group(ANNA, [LATTE], "center", payer="each")).group.code
    engines = (engine, twin)
    friends = [customer(60 + n) for n in range(8)]
    results = await asyncio.gather(*(engines[n % 2].join_group(f, code, [ESPRESSO]) for n, f in enumerate(friends)),
                                   twin.close_group(ANNA, code), return_exceptions=True)
    joins = results[:-1]
    assert not isinstance(results[-1], BaseException), results[-1]
    assert all(not isinstance(r, BaseException) or getattr(r, "code", None) is ErrorCode.GROUP_CLOSED for r in joins)
    got_in = 1 + sum(not isinstance(r, BaseException) for r in joins)
    done = await engine.group_view(ANNA, code)
    assert done.joined == got_in and done.group.discounted is (got_in >= 3)
    assert sum(1 for m in done.members if m.member.order_id) == got_in
    assert (await event_types(engine)).count(EventType.GROUP_REACHED.value) == (1 if got_in >= 3 else 0)


async def test_groups_closing_at_once_with_other_buyers_sell_exactly_the_stock(engine: Engine):
    async with engine.uow() as uow:
        await uow.catalog.set_stock("center", "croissant", 3)
    codes = []
    for g in range(2):
        code = (await engine.open_group(customer(70 + g), [CROISSANT], "center", payer="each")).group.code
        await engine.join_group(customer(80 + g, Channel.VK), code, [CROISSANT])
        codes.append(code)
    await asyncio.gather(*(engine.close_group(customer(70 + g), code) for g, code in enumerate(codes)),
                         *(engine.place_order(customer(90 + n), [CROISSANT], "center") for n in range(2)),
                         return_exceptions=True)
    sold = 0
    async with engine.read() as uow:
        for ref in [customer(n) for n in (70, 71, 90, 91)] + [customer(n, Channel.VK) for n in (80, 81)]:
            found = await uow.customers.by_account(ref.channel, ref.external_id)
            sold += sum(o.lines[0].quantity for o in await uow.orders.for_customer(found.id)) if found else 0
    assert sold == 3 and await stock_of(engine) == 0
    for code in codes:  # each group ordered what it could, and said who was refused
        assert (await engine.group_view(ANNA, code)).group.status in (GroupStatus.ORDERED, GroupStatus.CANCELLED)
