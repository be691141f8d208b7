"""The engine's query side: what the chat and the Mini App read, and what order events carry for notifications.

An order is shown to its customer and to staff of its point (with the customer's name) and to nobody else;
the staff board is refused to anyone who does not serve the point; reading changes nothing. ``order.placed``
and ``order.picked_up`` carry what their messages show, and events stored before they did are rebuilt from
the order and the ledger.
"""
from __future__ import annotations

from journey_support import BARISTA, OWNER, customer, fulfil, order_state, refused

from journey.channels import Channel, CustomerRef
from journey.errors import ErrorCode
from journey.events import DomainEvent, EventType
from journey.model import CartLine
from journey.money import Money
from journey.notices import NewOrderNotice, NoticeLine, Recipient, points_earned_in
from journey.states import OrderStatus, PaymentStatus

GUEST, STRANGER = customer(1), customer(2)
PARK_BARISTA = CustomerRef(Channel.VK, "77", "Бариста в парке")
LATTE_M_OAT = CartLine("latte", 2, {"size": ("m",), "milk": ("oat",)})
CROISSANT = CartLine("croissant")


async def place(engine, who=GUEST, point="center", lines=(CROISSANT,)):
    return (await engine.place_order(who, list(lines), point)).order


async def stored(engine, kind: EventType) -> list[DomainEvent]:
    async with engine.read() as uow:
        return [e for e in await uow.outbox.pending("test", 10_000) if e.type is kind]


# --- one order ----------------------------------------------------------------------------------------

async def test_a_customer_sees_their_order_with_what_its_screen_needs(engine):
    order = await place(engine)
    shown = await engine.order_details(GUEST, order.id)
    assert shown.order.id == order.id and [s for s, _ in shown.order.history] == [OrderStatus.PLACED]
    assert shown.payment.status is PaymentStatus.PENDING and shown.point.name == "Центр"
    assert shown.pickup_token == engine.pickup_token(order.id)
    assert (shown.staff, shown.customer_name) == (False, "")  # a customer's screen has no name on it


async def test_staff_of_the_point_and_owners_see_it_with_the_customers_name(engine):
    order = await place(engine)
    for who in (BARISTA, OWNER):
        shown = await engine.order_details(who, order.id)
        assert (shown.staff, shown.customer_name) == (True, GUEST.name)


async def test_someone_elses_order_is_not_found_and_reading_changes_nothing(engine):
    await engine.add_staff(PARK_BARISTA, "park")
    order = await place(engine)
    before = await order_state(engine, order.id)
    for who in (STRANGER, PARK_BARISTA):  # another customer; staff of another point
        with refused(ErrorCode.ORDER_NOT_FOUND):
            await engine.order_details(who, order.id)
    with refused(ErrorCode.ORDER_NOT_FOUND):
        await engine.order_details(GUEST, "o_missing")
    assert await order_state(engine, order.id) == before


# --- my orders ----------------------------------------------------------------------------------------

async def test_my_orders_are_mine_newest_first_with_their_history(engine):
    first = await place(engine)
    await fulfil(engine, first.id)
    second = await place(engine, lines=[CartLine("espresso")])
    await place(engine, STRANGER)
    mine = await engine.my_orders(GUEST)
    assert [d.order.id for d in mine] == [second.id, first.id]
    assert [s for s, _ in mine[1].order.history] == [OrderStatus.PLACED, OrderStatus.ACCEPTED, OrderStatus.READY]
    assert all(not d.staff and d.customer_name == "" and d.pickup_token for d in mine)
    assert await engine.my_orders(customer(3)) == []  # someone we have not met


# --- the staff board ----------------------------------------------------------------------------------

async def test_the_board_shows_open_orders_of_the_point_with_names(engine):
    here = await place(engine)
    there = await place(engine, STRANGER, "park")
    done = await place(engine)
    await engine.cancel(GUEST, done.id)
    board = await engine.staff_board(BARISTA)
    assert [d.order.id for d in board] == [here.id]
    assert board[0].staff and board[0].customer_name == GUEST.name and board[0].order.history
    assert {d.order.id for d in await engine.staff_board(OWNER)} == {here.id, there.id}
    assert [d.order.id for d in await engine.staff_board(OWNER, "park")] == [there.id]


async def test_the_board_is_refused_to_anyone_who_does_not_serve_the_point(engine):
    order = await place(engine)
    before = await order_state(engine, order.id)
    for who, point in ((GUEST, None), (STRANGER, "center"), (BARISTA, "park")):
        with refused(ErrorCode.NOT_STAFF):
            await engine.staff_board(who, point)
    with refused(ErrorCode.POINT_NOT_FOUND):
        await engine.staff_board(OWNER, "nowhere")
    assert await order_state(engine, order.id) == before


async def test_staff_actions_refuse_non_staff_before_looking_for_the_order(engine):
    """The engine alone decides: someone who serves nowhere hears ``not_staff`` even for an unknown order,
    staff hear that it does not exist."""
    order = await place(engine)
    before = await order_state(engine, order.id)
    for act in (engine.accept, engine.mark_ready):
        for order_id in (order.id, "o_missing"):
            with refused(ErrorCode.NOT_STAFF):
                await act(GUEST, order_id)
        with refused(ErrorCode.ORDER_NOT_FOUND):
            await act(BARISTA, "o_missing")
    assert await order_state(engine, order.id) == before


# --- the shop, language, balance ----------------------------------------------------------------------

async def test_the_shop_without_its_menu(engine):
    shop = await engine.shop_view()
    assert [p.id for p in shop.points] == ["center", "park"] and shop.rules.currency == "RUB"
    assert str(shop.zone) == "Europe/Moscow"
    assert shop.point_name("park") == "Парк" and shop.point_name("gone") == "gone"


async def test_a_customers_language_is_their_choice_else_their_apps(engine):
    assert await engine.language(CustomerRef(Channel.TELEGRAM, "501", "Ann", "en-GB")) == "en"
    assert await engine.language(customer(4, language="de")) == "ru"
    await engine.set_language(GUEST, "en")
    assert await engine.language(GUEST) == "en"


async def test_the_balance_is_the_ledger_and_zero_for_strangers(engine):
    assert await engine.balance(customer(5)) == 0
    order = await place(engine, lines=[LATTE_M_OAT])
    await fulfil(engine, order.id)
    await engine.hand_over(BARISTA, order_id=order.id)
    assert await engine.balance(GUEST) == 70000 * 5 // 100


# --- who to tell --------------------------------------------------------------------------------------

async def test_the_recipient_is_the_ordering_account_in_the_customers_language_unless_they_stopped(engine):
    order = await place(engine)
    await engine.set_language(GUEST, "en")
    assert await engine.recipient(order.customer_id, order.account) == Recipient(
        CustomerRef(GUEST.channel, GUEST.external_id), "en")
    await engine.set_consent(GUEST, False)
    assert await engine.recipient(order.customer_id, order.account) is None


async def test_the_recipient_carries_the_accounts_mark_read_with_it(engine):
    order = await place(engine)
    found = await engine.recipient(order.customer_id, order.account)
    assert found is not None and found.unreachable == ""
    await engine.mark_unreachable(found.to, "blocked")
    found = await engine.recipient(order.customer_id, order.account)
    assert found is not None and found.unreachable == "blocked"


async def test_nobody_to_tell_when_the_account_or_customer_is_unknown(engine):
    order = await place(engine)
    assert await engine.recipient("c_missing", order.account) is None
    assert await engine.recipient(order.customer_id, "") is None
    assert await engine.recipient(order.customer_id, "fax:123") is None  # a channel this shop does not run


# --- what events carry --------------------------------------------------------------------------------

async def test_order_placed_carries_what_the_staff_message_shows(engine, clock):
    order = await place(engine, lines=[LATTE_M_OAT, CartLine("croissant")])
    event = (await stored(engine, EventType.ORDER_PLACED))[0]
    notice = NewOrderNotice.from_event(event.data)
    assert notice == NewOrderNotice(order.id, order.short_code, "center", order.pickup_at,
                                    (NoticeLine("Латте", ("M", "Овсяное"), 2), NoticeLine("Круассан", (), 1)),
                                    Money(88000), "counter")
    assert notice.pickup_at > clock.now()
    assert await engine.new_order_notice(order.id) == notice  # what an old event is told with


async def test_an_order_placed_stored_before_it_carried_the_notice_is_rebuilt_from_the_order(engine):
    order = await place(engine)
    old = {"order_id": order.id, "customer_id": order.customer_id, "point_id": "center",
           "short_code": order.short_code, "account": order.account, "total": 18000, "currency": "RUB",
           "provider": "counter", "lines": [["Круассан", 1]]}
    assert NewOrderNotice.from_event(old) is None
    assert NewOrderNotice.from_event({**old, "pickup_at": "not a time"}) is None
    assert await engine.new_order_notice(order.id) == NewOrderNotice.of(order)
    assert await engine.new_order_notice("o_missing") is None


async def test_order_picked_up_carries_the_points_earned(engine):
    order = await place(engine, lines=[LATTE_M_OAT])
    await fulfil(engine, order.id)
    await engine.hand_over(BARISTA, order_id=order.id)
    event = (await stored(engine, EventType.ORDER_PICKED_UP))[0]
    assert points_earned_in(event.data) == 3500 == await engine.points_earned_for(order.id)
    assert points_earned_in({"order_id": order.id}) is None  # stored before it carried them
    assert await engine.points_earned_for("o_missing") == 0
