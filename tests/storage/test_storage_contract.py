"""The storage contract: every repository method of ``journey.ports``, through a unit of work.

Runs once per backend in ``conftest.BACKENDS``; nothing here may depend on one backend's specifics.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta

import pytest
from storage_data import CATEGORIES, ITEMS, NOON, POINTS, add_customer, make_customer, race, seed_catalog

from journey.catalog import Category, OpeningHours, PickupPoint
from journey.channels import Channel, CustomerRef
from journey.errors import DomainError, ErrorCode
from journey.events import DomainEvent, EventType
from journey.model import (
    Account,
    LedgerEntry,
    LinkCode,
    Order,
    OrderLine,
    PackPurchase,
    PaymentIntent,
    Promo,
    PromoKind,
    Review,
    Visit,
)
from journey.money import Money
from journey.ports import DeliveryFailure
from journey.pricing import check_promo
from journey.states import OPEN_ORDER_STATUSES, OrderStatus, PackStatus, PaymentStatus


@pytest.fixture
async def shop(uow_factory):
    """A backend with the catalog in place: points, categories, items."""
    await seed_catalog(uow_factory)
    return uow_factory


def make_order(n: int, customer_id: str, *, point_id: str = "center", status: OrderStatus = OrderStatus.PLACED,
               short_code: str | None = None, created_at=NOON, promo_code: str | None = None) -> Order:
    lines = (OrderLine("latte", "Латте", ("M", "Овсяное"), {"size": ("m",), "milk": ("oat",)}, 1, Money(35000)),
             OrderLine("latte", "Латте", ("L", "Ваниль", "Карамель"), {"size": ("l",), "syrup": ("vanilla", "caramel")},
                       2, Money(39000)),
             OrderLine("croissant", "Круассан", (), {}, 1, Money(18000)))
    subtotal = Money(35000 + 2 * 39000 + 18000)
    return Order(f"o_{n}", customer_id, point_id, status, lines, subtotal, Money(1000), 500,
                 subtotal - Money(1000) - Money(500), created_at + timedelta(minutes=10),
                 short_code or f"{n:04d}", created_at, created_at, promo_code, "t:center_5", "counter",
                 account=f"telegram:{1000 + n}")


def make_intent(n: int, order_id: str, *, status: PaymentStatus = PaymentStatus.PENDING, created_at=NOON,
                key: str | None = None) -> PaymentIntent:
    return PaymentIntent(f"pay_{n}", order_id, "counter", Money(129500), status, key or f"order:{order_id}:{n}", "",
                         created_at, created_at)


# ------------------------------------------------------------------------------------------------ catalog

async def test_catalog_round_trips_points_categories_items(shop):
    async with shop.reading() as uow:
        assert await uow.catalog.points() == sorted(POINTS, key=lambda p: p.id)
        assert await uow.catalog.point("center") == POINTS[0]
        assert (await uow.catalog.point("center")).hours.format() == "mon-fri 08:00-21:00; sat 10:00-18:00; sun closed"
        assert await uow.catalog.point("nowhere") is None
        assert await uow.catalog.categories() == list(CATEGORIES)
        # available only by default, ordered by position then name; option groups, tags and Money survive
        assert [i.id for i in await uow.catalog.items()] == ["croissant", "espresso", "latte"]
        everything = {i.id: i for i in await uow.catalog.items(include_unavailable=True)}
        assert everything == {i.id: i for i in ITEMS}
        assert everything["stars"].price == Money(50, "XTR") and not everything["stars"].available
        latte = everything["latte"]
        assert latte.group("milk").option("almond").price_delta == -500
        assert latte.group("syrup").multiple and not latte.group("syrup").required
        assert latte.tags == ("хит", "горячее") and latte.description == "С молоком «как надо»"
        assert await uow.catalog.items_by_id(["latte", "stars", "latte", "nope"]) == {
            "latte": ITEMS[0], "stars": ITEMS[3]}
        assert await uow.catalog.items_by_id([]) == {}
        assert await uow.catalog.items_by_id(i for i in ("espresso",)) == {"espresso": ITEMS[1]}


async def test_catalog_saves_are_upserts(shop):
    moved = replace(POINTS[1], name="Парк Горького", hours=OpeningHours.parse("mon-sun 07:30-23:00"), lat=55.73,
                    lon=37.6, prep_minutes=15)
    async with shop() as uow:
        await uow.catalog.save_point(moved)
        await uow.catalog.save_category(Category("coffee", "Кофе и чай", 5))
        await uow.catalog.save_item(replace(ITEMS[1], price=Money(16000), option_groups=ITEMS[0].option_groups[:1],
                                            tags=("new",)))
        await uow.catalog.set_available("stars", True)
        await uow.catalog.set_available("croissant", False)
    async with shop.reading() as uow:
        assert await uow.catalog.point("park") == moved
        assert len(await uow.catalog.points()) == 2
        assert await uow.catalog.categories() == [Category("bakery", "Выпечка", 1), Category("coffee", "Кофе и чай", 5)]
        espresso = (await uow.catalog.items_by_id(["espresso"]))["espresso"]
        assert espresso.price == Money(16000) and espresso.tags == ("new",)
        assert espresso.option_groups == ITEMS[0].option_groups[:1]
        assert {i.id for i in await uow.catalog.items()} == {"espresso", "latte", "stars"}


async def test_stock_set_change_and_unlimited(shop):
    async with shop() as uow:
        assert await uow.catalog.stock("center") == {}
        await uow.catalog.set_stock("center", "croissant", 10)
        await uow.catalog.set_stock("park", "croissant", 3)
        await uow.catalog.set_stock("park", "latte", 0)
        await uow.catalog.change_stock("center", "croissant", -4)
        await uow.catalog.change_stock("park", "croissant", 2)
        await uow.catalog.change_stock("center", "latte", -1)  # not counted: nothing happens
    async with shop.reading() as uow:
        assert await uow.catalog.stock("center") == {"croissant": 6}
        assert await uow.catalog.stock("park") == {"croissant": 5, "latte": 0}
        assert await uow.catalog.all_stock() == {("center", "croissant"): 6, ("park", "croissant"): 5,
                                                 ("park", "latte"): 0}
    async with shop() as uow:
        await uow.catalog.set_stock("park", "latte", None)  # back to made to order
        await uow.catalog.set_stock("center", "croissant", 1)
    async with shop.reading() as uow:
        assert await uow.catalog.all_stock() == {("center", "croissant"): 1, ("park", "croissant"): 5}


async def test_stock_never_goes_negative(shop):
    async with shop() as uow:
        await uow.catalog.set_stock("center", "croissant", 2)
    with pytest.raises(DomainError) as caught:
        async with shop() as uow:
            await uow.catalog.change_stock("center", "croissant", -3)
    assert caught.value.code is ErrorCode.OUT_OF_STOCK
    with pytest.raises(DomainError) as caught:
        async with shop() as uow:
            await uow.catalog.set_stock("center", "croissant", -1)
    assert caught.value.code is ErrorCode.OUT_OF_STOCK
    async with shop.reading() as uow:
        assert await uow.catalog.stock("center") == {"croissant": 2}


# ---------------------------------------------------------------------------------------------- customers

async def test_customer_and_accounts_round_trip(shop):
    ann = await add_customer(shop, 1)
    async with shop() as uow:
        await uow.customers.add_account(Account(Channel.VK, "vk77", ann.id, "Анна ВК"))
    async with shop.reading() as uow:
        assert await uow.customers.get(ann.id) == ann
        assert await uow.customers.get("c_missing") is None
        assert await uow.customers.by_account(Channel.TELEGRAM, "1001") == ann
        assert await uow.customers.by_account(Channel.VK, "vk77") == ann
        assert await uow.customers.by_account(Channel.VK, "1001") is None
        assert await uow.customers.by_referral_code("ref1") == ann
        assert await uow.customers.by_referral_code("nope") is None
        assert await uow.customers.accounts(ann.id) == [Account(Channel.TELEGRAM, "1001", ann.id, "Гость 1"),
                                                         Account(Channel.VK, "vk77", ann.id, "Анна ВК")]
    changed = replace(ann, name="Анна", language="en", source="s2gis", consent=False, referred_by=None)
    async with shop() as uow:
        await uow.customers.update(changed)
    async with shop.reading() as uow:
        assert await uow.customers.get(ann.id) == changed


async def test_an_account_keeps_any_channel_name(shop):
    """A channel is a registered name, not a closed list: a third messenger's accounts and staff need no
    schema change."""
    customer = await add_customer(shop, 1, Channel("max_messenger"))
    async with shop() as uow:
        await uow.staff.add(CustomerRef(Channel("max_messenger"), "77"), "center")
    async with shop.reading() as uow:
        assert (await uow.customers.by_account(Channel("max_messenger"), "1001")).id == customer.id
        assert await uow.customers.by_account(Channel.TELEGRAM, "1001") is None
        [account] = await uow.customers.accounts(customer.id)
        assert account.channel == "max_messenger" and isinstance(account.channel, Channel)
        assert await uow.staff.points_of([CustomerRef(Channel("max_messenger"), "77")]) == {"center"}


async def test_account_and_referral_code_are_unique(shop):
    await add_customer(shop, 1)
    with pytest.raises(DomainError) as caught:
        async with shop() as uow:
            await uow.customers.add_account(Account(Channel.TELEGRAM, "1001", "c_1"))
    assert caught.value.code is ErrorCode.CONFLICT
    with pytest.raises(DomainError):
        async with shop() as uow:
            await uow.customers.add(make_customer(2, referral_code="ref1"))


async def test_merge_moves_everything_to_the_target(shop):
    target = await add_customer(shop, 1)
    source = await add_customer(shop, 2, channel=Channel.VK)
    friend = await add_customer(shop, 3, referred_by=source.id)
    async with shop() as uow:
        await uow.promos.save(Promo("HELLO", PromoKind.PERCENT, 10))
        await uow.orders.add(make_order(1, source.id))
        await uow.loyalty.add(LedgerEntry(source.id, 700, "earn", "o_1", NOON))
        await uow.loyalty.add(LedgerEntry(target.id, 300, "earn", None, NOON))
        await uow.promos.record_use("hello", source.id, "o_1")
        await uow.visits.add(Visit("pcenter", "point", "vk", source.id, NOON))
        await uow.customers.add_link_code(LinkCode("123456", source.id, NOON + timedelta(minutes=10)))
        await uow.customers.merge(source.id, target.id)
    async with shop.reading() as uow:
        assert await uow.customers.by_account(Channel.VK, "1002") == target
        assert {(a.channel, a.external_id) for a in await uow.customers.accounts(target.id)} == {
            (Channel.TELEGRAM, "1001"), (Channel.VK, "1002")}
        assert await uow.customers.accounts(source.id) == []
        assert [o.id for o in await uow.orders.for_customer(target.id)] == ["o_1"]
        assert await uow.loyalty.balance(target.id) == 1000 and await uow.loyalty.balance(source.id) == 0
        assert await uow.promos.uses_by("HELLO", target.id) == 1
        assert (await uow.customers.link_code("123456")).customer_id == target.id
        assert (await uow.customers.get(friend.id)).referred_by == target.id
        assert await uow.customers.by_referral_code("ref2") is None  # a merged customer is no longer a referrer
        assert await uow.customers.get(source.id) is not None  # kept, pointing at the target


async def test_link_codes(shop):
    ann = await add_customer(shop, 1)
    bob = await add_customer(shop, 2)
    expires = NOON + timedelta(minutes=10)
    async with shop() as uow:
        await uow.customers.add_link_code(LinkCode("000042", ann.id, expires))
    async with shop.reading() as uow:
        assert await uow.customers.link_code("000042") == LinkCode("000042", ann.id, expires, False)
        assert await uow.customers.link_code("999999") is None
    async with shop() as uow:
        await uow.customers.use_link_code("000042")
    async with shop.reading() as uow:
        assert (await uow.customers.link_code("000042")).used
    async with shop() as uow:  # an old code number is reissued: fresh owner, expiry and unused
        await uow.customers.add_link_code(LinkCode("000042", bob.id, expires + timedelta(hours=1)))
    async with shop.reading() as uow:
        assert await uow.customers.link_code("000042") == LinkCode("000042", bob.id, expires + timedelta(hours=1))


async def test_link_failures_are_counted_per_account_and_time(shop):
    async with shop() as uow:
        for minutes in (0, 5, 9):
            await uow.customers.record_link_failure("vk:7", NOON + timedelta(minutes=minutes))
        await uow.customers.record_link_failure("vk:8", NOON)
    async with shop.reading() as uow:
        assert await uow.customers.link_failures("vk:7", NOON) == 3
        assert await uow.customers.link_failures("vk:7", NOON + timedelta(minutes=5)) == 2
        assert await uow.customers.link_failures("telegram:7", NOON) == 0


# ------------------------------------------------------------------------------------------------- orders

async def test_order_round_trip_with_lines_and_history(shop):
    ann = await add_customer(shop, 1)
    order = make_order(1, ann.id, promo_code="HELLO")
    async with shop() as uow:
        await uow.orders.add(order)
    async with shop.reading() as uow:
        stored = await uow.orders.get(order.id)
    assert stored.history == [(OrderStatus.PLACED, NOON)]
    assert replace(stored, history=[]) == order
    assert stored.lines[1].option_ids == {"size": ("l",), "syrup": ("vanilla", "caramel")}
    assert stored.lines[1].total == Money(78000)
    assert stored.total == Money(129500) and stored.discount == Money(1000) and stored.points_spent == 500
    assert (stored.account, stored.source, stored.promo_code) == ("telegram:1001", "t:center_5", "HELLO")
    later = NOON + timedelta(minutes=3)
    async with shop() as uow:
        await uow.orders.set_status(order.id, OrderStatus.ACCEPTED, later)
        await uow.orders.set_status(order.id, OrderStatus.READY, later + timedelta(minutes=1))
    async with shop.reading() as uow:
        stored = await uow.orders.get(order.id)
        assert await uow.orders.get("o_missing") is None
    assert stored.status is OrderStatus.READY and stored.updated_at == later + timedelta(minutes=1)
    assert stored.created_at == NOON
    assert stored.history == [(OrderStatus.PLACED, NOON), (OrderStatus.ACCEPTED, later),
                              (OrderStatus.READY, later + timedelta(minutes=1))]


async def test_an_order_whose_short_code_is_open_at_its_point_is_not_added(shop):
    ann = await add_customer(shop, 1)
    async with shop() as uow:
        assert await uow.orders.add(make_order(1, ann.id, short_code="0042"))
        # another instance drew the same free code at the same moment: refused, nothing written, still usable
        assert not await uow.orders.add(make_order(2, ann.id, short_code="0042"))
        assert await uow.orders.add(make_order(3, ann.id, point_id="park", short_code="0042"))  # another point
        await uow.orders.set_status("o_1", OrderStatus.PICKED_UP, NOON)
        assert await uow.orders.add(make_order(4, ann.id, short_code="0042"))  # free again once closed
    async with shop.reading() as uow:
        assert await uow.orders.get("o_2") is None
        assert [o.id for o in await uow.orders.by_short_code("center", "0042")] == ["o_4"]
        assert (await uow.orders.get("o_4")).history == [(OrderStatus.PLACED, NOON)]


async def test_order_queries(shop):
    ann = await add_customer(shop, 1)
    bob = await add_customer(shop, 2)
    async with shop() as uow:
        for n in range(1, 6):
            await uow.orders.add(make_order(n, ann.id, created_at=NOON + timedelta(minutes=n)))
        await uow.orders.add(make_order(6, bob.id, point_id="park", short_code="0001"))
        await uow.orders.set_status("o_2", OrderStatus.ACCEPTED, NOON)
        await uow.orders.set_status("o_3", OrderStatus.READY, NOON)
        await uow.orders.set_status("o_4", OrderStatus.CANCELLED, NOON)
        await uow.orders.set_status("o_5", OrderStatus.PICKED_UP, NOON)
    async with shop.reading() as uow:
        assert [o.id for o in await uow.orders.for_customer(ann.id)] == ["o_5", "o_4", "o_3", "o_2", "o_1"]
        assert [o.id for o in await uow.orders.for_customer(ann.id, limit=2)] == ["o_5", "o_4"]
        assert await uow.orders.for_customer("c_missing") == []
        assert {o.id for o in await uow.orders.open_at("center")} == {"o_1", "o_2", "o_3"}
        assert [o.id for o in await uow.orders.open_at("park")] == ["o_6"]
        assert await uow.orders.short_codes_in_use("center") == {"0001", "0002", "0003"}
        assert [o.id for o in await uow.orders.by_short_code("center", "0001")] == ["o_1"]
        assert {o.id for o in await uow.orders.by_short_code(None, "0001")} == {"o_1", "o_6"}
        assert await uow.orders.by_short_code("center", "0004") == []  # cancelled: not open
        assert await uow.orders.count_for_customer(ann.id, OrderStatus.PICKED_UP) == 1
        assert await uow.orders.count_for_customer(bob.id, OrderStatus.PICKED_UP) == 0
        assert set(await uow.orders.ids_in_status(OrderStatus.PLACED)) == {"o_1", "o_6"}
        assert await uow.orders.ids_in_status(OrderStatus.PLACED, before=NOON + timedelta(seconds=30)) == ["o_6"]


async def test_the_last_order_with_a_short_code(shop):
    ann = await add_customer(shop, 1)
    async with shop() as uow:
        await uow.orders.add(make_order(1, ann.id, short_code="4242"))
        await uow.orders.set_status("o_1", OrderStatus.PICKED_UP, NOON + timedelta(minutes=20))
        await uow.orders.add(make_order(2, ann.id, short_code="4242", point_id="park"))
        await uow.orders.set_status("o_2", OrderStatus.CANCELLED, NOON + timedelta(minutes=30))
        await uow.orders.add(make_order(3, ann.id, short_code="1111"))
    async with shop.reading() as uow:
        last = await uow.orders.last_with_short_code("center", "4242", since=NOON)
        assert (last.id, last.status) == ("o_1", OrderStatus.PICKED_UP)  # closed orders count too
        assert (await uow.orders.last_with_short_code(None, "4242", since=NOON)).id == "o_2"  # the latest
        assert await uow.orders.last_with_short_code("center", "4242", since=NOON + timedelta(hours=1)) is None
        assert await uow.orders.last_with_short_code("park", "1111", since=NOON) is None
        assert await uow.orders.last_with_short_code("center", "9999", since=NOON) is None


# ----------------------------------------------------------------------------------------------- payments

async def test_payment_intents(shop):
    ann = await add_customer(shop, 1)
    async with shop() as uow:
        await uow.orders.add(make_order(1, ann.id))
        first = make_intent(1, "o_1", key="req:telegram:1001:abc")
        await uow.payments.add(first)
        second = make_intent(2, "o_1", created_at=NOON + timedelta(seconds=5))
        await uow.payments.add(second)
    async with shop.reading() as uow:
        assert await uow.payments.for_order("o_1") == second  # the latest attempt
        assert await uow.payments.by_idempotency_key("req:telegram:1001:abc") == first
        assert await uow.payments.by_idempotency_key("nope") is None
        assert await uow.payments.for_order("o_missing") is None
    at = NOON + timedelta(minutes=1)
    async with shop() as uow:
        await uow.payments.set_status("pay_2", PaymentStatus.AUTHORIZED, at, "yk-123")
        await uow.payments.set_status("pay_2", PaymentStatus.CAPTURED, at + timedelta(minutes=1))  # keeps the ref
    async with shop.reading() as uow:
        stored = await uow.payments.for_order("o_1")
    assert (stored.status, stored.provider_ref, stored.updated_at) == (PaymentStatus.CAPTURED, "yk-123",
                                                                       at + timedelta(minutes=1))
    assert stored.amount == Money(129500) and stored.created_at == second.created_at
    with pytest.raises(DomainError) as caught:
        async with shop() as uow:
            await uow.payments.add(make_intent(3, "o_1", key="req:telegram:1001:abc"))
    assert caught.value.code is ErrorCode.CONFLICT


# ------------------------------------------------------------------------------------------------ loyalty

async def test_ledger_balance_and_entries(shop):
    ann = await add_customer(shop, 1)
    bob = await add_customer(shop, 2)
    async with shop() as uow:
        assert await uow.loyalty.balance(ann.id) == 0
        await uow.loyalty.add(LedgerEntry(ann.id, 1000, "earn", "o_1", NOON))
        await uow.loyalty.add(LedgerEntry(ann.id, -400, "spend", "o_2", NOON + timedelta(minutes=1)))
        await uow.loyalty.add(LedgerEntry(ann.id, 10000, "referral", None, NOON + timedelta(minutes=2)))
        await uow.loyalty.add(LedgerEntry(bob.id, 5, "adjust", None, NOON))
    async with shop.reading() as uow:
        assert await uow.loyalty.balance(ann.id) == 10600
        assert await uow.loyalty.balance(bob.id) == 5
        entries = await uow.loyalty.entries(ann.id)
        assert entries == [LedgerEntry(ann.id, 10000, "referral", None, NOON + timedelta(minutes=2)),
                           LedgerEntry(ann.id, -400, "spend", "o_2", NOON + timedelta(minutes=1)),
                           LedgerEntry(ann.id, 1000, "earn", "o_1", NOON)]
        assert await uow.loyalty.entries(ann.id, limit=1) == entries[:1]


async def test_the_balance_never_goes_negative(shop):
    ann = await add_customer(shop, 1)
    async with shop() as uow:
        await uow.loyalty.add(LedgerEntry(ann.id, 300, "earn", None, NOON))
    with pytest.raises(DomainError) as caught:
        async with shop() as uow:
            await uow.loyalty.add(LedgerEntry(ann.id, -200, "spend", None, NOON))
            await uow.loyalty.add(LedgerEntry(ann.id, -200, "spend", None, NOON))
    assert caught.value.code is ErrorCode.POINTS_INSUFFICIENT
    async with shop() as uow:  # the whole unit of work was rolled back; spending to zero is fine
        assert await uow.loyalty.balance(ann.id) == 300
        await uow.loyalty.add(LedgerEntry(ann.id, -300, "spend", None, NOON))
    async with shop.reading() as uow:
        assert await uow.loyalty.balance(ann.id) == 0


# ------------------------------------------------------------------------------------------------- promos

async def test_promos_and_their_uses(shop):
    ann = await add_customer(shop, 1)
    bob = await add_customer(shop, 2)
    promo = Promo("AUTUMN", PromoKind.PERCENT, 15, NOON + timedelta(days=30), 2, 0, True, True)
    async with shop() as uow:
        await uow.promos.save(promo)
        await uow.promos.save(Promo("GIFT", PromoKind.FIXED, 5000, once_per_customer=False))
    async with shop.reading() as uow:
        assert await uow.promos.get("AUTUMN") == promo
        assert await uow.promos.get("autumn") == promo
        assert await uow.promos.get("GIFT") == Promo("GIFT", PromoKind.FIXED, 5000, None, None, 0, False, True)
        assert await uow.promos.get("NOPE") is None
    async with shop() as uow:
        await uow.promos.record_use("autumn", ann.id, "o_1")
        await uow.promos.record_use("AUTUMN", bob.id, "o_2")
    async with shop.reading() as uow:
        assert (await uow.promos.get("AUTUMN")).used == 2
        assert await uow.promos.uses_by("autumn", ann.id) == 1
        assert await uow.promos.uses_by("GIFT", ann.id) == 0
    with pytest.raises(DomainError):  # max_uses is a hard limit in storage too
        async with shop() as uow:
            await uow.promos.record_use("AUTUMN", ann.id, "o_3")
    async with shop() as uow:
        await uow.promos.release_use("AUTUMN", "o_1")
        await uow.promos.release_use("AUTUMN", "o_1")  # a second release gives nothing back
        await uow.promos.release_use("AUTUMN", "o_unknown")
        # saving edits the terms but never the use count
        await uow.promos.save(replace(promo, value=20, used=0, active=False))
    async with shop.reading() as uow:
        stored = await uow.promos.get("AUTUMN")
        assert (stored.used, stored.value, stored.active) == (1, 20, False)
        assert await uow.promos.uses_by("AUTUMN", ann.id) == 0
        assert await uow.promos.uses_by("AUTUMN", bob.id) == 1


# -------------------------------------------------------------------------------------------------- staff

async def test_staff(shop):
    anna, boris = CustomerRef(Channel.TELEGRAM, "2", "Анна"), CustomerRef(Channel.VK, "3")
    async with shop() as uow:
        await uow.staff.add(anna, "center")
        await uow.staff.add(anna, "center")  # twice: no duplicate
        await uow.staff.add(anna, "park")
        await uow.staff.add(boris, "*")
    async with shop.reading() as uow:
        assert await uow.staff.list() == [(CustomerRef(Channel.VK, "3"), "*"),
                                          (CustomerRef(Channel.TELEGRAM, "2"), "center"),
                                          (CustomerRef(Channel.TELEGRAM, "2"), "park")]
        assert await uow.staff.points_of([anna]) == {"center", "park"}
        assert await uow.staff.points_of([anna, boris]) == {"center", "park", "*"}
        assert await uow.staff.points_of([CustomerRef(Channel.VK, "2")]) == set()
        assert await uow.staff.points_of([]) == set()
    async with shop() as uow:
        assert await uow.staff.remove(anna, "park") == 1
        assert await uow.staff.remove(anna, "park") == 0
        assert await uow.staff.remove(boris) == 1
    async with shop.reading() as uow:
        assert await uow.staff.list() == [(CustomerRef(Channel.TELEGRAM, "2"), "center")]
    async with shop() as uow:
        await uow.staff.add(anna, "park")
        assert await uow.staff.remove(anna) == 2  # every point at once
        assert await uow.staff.list() == []


# ------------------------------------------------------------------------------------ settings and visits

async def test_settings(uow_factory):
    async with uow_factory() as uow:
        assert await uow.settings.get("rule.earn_percent") is None
        await uow.settings.set("rule.earn_percent", "7")
        await uow.settings.set("rule.name", "Кофейня «Зерно»")
        await uow.settings.set("rule.earn_percent", "8")
    async with uow_factory.reading() as uow:
        assert await uow.settings.get("rule.earn_percent") == "8"
        assert await uow.settings.all() == {"rule.earn_percent": "8", "rule.name": "Кофейня «Зерно»"}


async def test_visits(shop):
    ann = await add_customer(shop, 1)
    async with shop() as uow:
        assert await uow.visits.count() == 0
        await uow.visits.add(Visit("pcenter", "point", "telegram", ann.id, NOON))
        await uow.visits.add(Visit("pcenter", "point", "vk", None, NOON))
        await uow.visits.add(Visit("s2gis", "source", "web", None, NOON))
    async with shop.reading() as uow:
        assert await uow.visits.count() == 3
        assert await uow.visits.count("pcenter") == 2
        assert await uow.visits.count("rnobody") == 0


# ------------------------------------------------------------------------------------------------ reviews

async def test_reviews_and_ratings(shop):
    ann = await add_customer(shop, 1)
    bob = await add_customer(shop, 2)
    async with shop() as uow:
        await uow.orders.add(make_order(1, ann.id))
        await uow.orders.add(make_order(2, bob.id))
        await uow.reviews.add(Review("o_1", "latte", ann.id, 5, "Отлично!", "Анна", NOON))
        await uow.reviews.add(Review("o_2", "latte", bob.id, 4, "", "Б.", NOON + timedelta(hours=1)))
        await uow.reviews.add(Review("o_1", "croissant", ann.id, 3, "Суховат", "Анна", NOON))
    async with shop.reading() as uow:
        assert await uow.reviews.exists("o_1", "latte")
        assert not await uow.reviews.exists("o_2", "croissant")
        assert await uow.reviews.for_item("latte") == [
            Review("o_2", "latte", bob.id, 4, "", "Б.", NOON + timedelta(hours=1)),
            Review("o_1", "latte", ann.id, 5, "Отлично!", "Анна", NOON)]
        assert len(await uow.reviews.for_item("latte", limit=1)) == 1
        assert await uow.reviews.for_item("espresso") == []
        assert await uow.reviews.ratings() == {"latte": (4.5, 2), "croissant": (3.0, 1)}
    with pytest.raises(DomainError) as caught:
        async with shop() as uow:
            await uow.reviews.add(Review("o_1", "latte", ann.id, 1, "again", "Анна", NOON))
    assert caught.value.code is ErrorCode.CONFLICT
    with pytest.raises(DomainError):
        async with shop() as uow:
            await uow.reviews.add(Review("o_2", "croissant", bob.id, 6, "", "", NOON))  # rating 1..5


# ------------------------------------------------------------------------------------------------ updates

async def test_updates_are_claimed_once(uow_factory):
    async with uow_factory() as uow:
        assert await uow.updates.claim("telegram", "1001") is True
        assert await uow.updates.claim("telegram", "1001") is False  # redelivered
        assert await uow.updates.claim("vk", "1001") is True  # ids are per channel
    async with uow_factory() as uow:
        assert await uow.updates.claim("telegram", "1001") is False
    with pytest.raises(RuntimeError):
        async with uow_factory() as uow:
            assert await uow.updates.claim("telegram", "1002") is True
            raise RuntimeError("handling failed")
    async with uow_factory() as uow:  # a claim rolled back with its handling: the redelivery is handled
        assert await uow.updates.claim("telegram", "1002") is True


async def test_an_update_is_handled_under_a_lease_that_lapses_released_or_finished(uow_factory):
    """Several instances: one takes an update, the others are told it is busy; a holder that died is taken
    over once its lease lapses; a failed handling releases it for the repeat; a finished one is done."""
    async with uow_factory() as uow:
        assert await uow.updates.begin("telegram", "3001", 60) == "taken"
    async with uow_factory() as uow:
        assert await uow.updates.begin("telegram", "3001", 60) == "busy"  # another instance handles it now
        assert await uow.updates.begin("vk", "3001", 60) == "taken"  # ids are per channel
    async with uow_factory() as uow:  # -1: every lease counts as lapsed, as if its holder died long ago
        assert await uow.updates.begin("telegram", "3001", -1) == "taken"
        await uow.updates.release("telegram", "3001")
    async with uow_factory() as uow:
        assert await uow.updates.begin("telegram", "3001", 60) == "taken"  # released: the repeat is handled
        await uow.updates.finish("telegram", "3001")
    async with uow_factory() as uow:
        assert await uow.updates.begin("telegram", "3001", -1) == "done"
        assert await uow.updates.claim("telegram", "3001") is False  # handled, as a claim sees it too
        await uow.updates.release("telegram", "3001")  # nothing held: nothing changes
        assert await uow.updates.begin("telegram", "3001", 60) == "done"
        assert await uow.updates.claim("telegram", "3002") is True
        assert await uow.updates.begin("telegram", "3002", -1) == "done"  # claimed is handled


async def test_instances_beginning_one_update_at_once_take_it_once(uow_factory):
    async def begin(uow) -> str:
        return await uow.updates.begin("vk", "4001", 60)
    assert await race(uow_factory, begin, begin) == ["taken", "busy"]

    async def finish(uow) -> str:  # the holder finishes while another instance begins: that one finds it done
        await uow.updates.finish("vk", "4001")
        return "finished"
    assert await race(uow_factory, finish, begin) == ["finished", "done"]


# ------------------------------------------------------------------------------------------------- outbox

async def test_outbox_pending_and_mark_handled(uow_factory):
    async with uow_factory() as uow:
        for n in range(5):
            await uow.outbox.add(DomainEvent(EventType.ORDER_PLACED, {"order_id": f"o_{n}", "total": n,
                                                                      "lines": [["Латте", 1]]}, NOON))
        await uow.outbox.add(DomainEvent(EventType.VISIT_RECORDED, {"param": "s2gis", "customer_id": None}))
    async with uow_factory() as uow:
        pending = await uow.outbox.pending("notify")
        assert [e.type for e in pending] == [EventType.ORDER_PLACED] * 5 + [EventType.VISIT_RECORDED]
        assert pending[0].data == {"order_id": "o_0", "total": 0, "lines": [["Латте", 1]]}
        assert pending[0].at == NOON and pending[5].at is not None  # stamped when stored
        ids = [e.id for e in pending]
        assert all(isinstance(i, int) for i in ids) and ids == sorted(ids) and len(set(ids)) == 6
        assert [e.id for e in await uow.outbox.pending("notify", limit=2)] == ids[:2]
        assert await uow.outbox.mark_handled("notify", ids[0]) is True
        assert await uow.outbox.mark_handled("notify", ids[0]) is False  # a duplicate delivery
        assert await uow.outbox.mark_handled("notify", ids[2]) is True
        assert await uow.outbox.is_handled("notify", ids[0])
        assert not await uow.outbox.is_handled("notify", ids[1])
        assert not await uow.outbox.is_handled("analytics", ids[0])
    async with uow_factory.reading() as uow:
        assert [e.id for e in await uow.outbox.pending("notify")] == [ids[1], *ids[3:]]
        assert [e.id for e in await uow.outbox.pending("analytics")] == ids  # each subscriber on its own
        assert [e.id for e in await uow.outbox.pending("notify", after=ids[3])] == ids[4:]
    async with uow_factory() as uow:
        assert await uow.outbox.mark_handled("notify", ids[2]) is False  # also across units of work


async def _events(uow_factory, n: int, at=NOON) -> list[int]:
    async with uow_factory() as uow:
        for i in range(n):
            await uow.outbox.add(DomainEvent(EventType.ORDER_READY, {"order_id": f"o_{i}"}, at))
    async with uow_factory.reading() as uow:
        return [e.id for e in await uow.outbox.pending("nobody", 1000)]


async def test_outbox_cursors_are_kept_per_subscriber_and_never_go_back(uow_factory):
    ids = await _events(uow_factory, 3)
    async with uow_factory() as uow:
        assert await uow.outbox.cursor("notify") == 0
        await uow.outbox.set_cursor("notify", ids[1])
        await uow.outbox.set_cursor("notify", ids[0])  # a slower writer cannot move it back
    async with uow_factory.reading() as uow:
        assert await uow.outbox.cursor("notify") == ids[1]
        assert await uow.outbox.cursor("analytics") == 0


async def test_outbox_failures_wait_die_and_are_cleared(uow_factory):
    ids = await _events(uow_factory, 3)
    later = NOON + timedelta(seconds=30)
    async with uow_factory() as uow:
        await uow.outbox.record_failure(DeliveryFailure("notify", ids[2], 1, later, "network: timeout", False, NOON))
        await uow.outbox.record_failure(DeliveryFailure("notify", ids[0], 1, later, "server: 502", False, NOON))
        await uow.outbox.record_failure(DeliveryFailure("crm", ids[1], 4, later, "x" * 2000, True, NOON))
        await uow.outbox.record_failure(DeliveryFailure("notify", ids[0], 2, later, "server: 503", False, NOON))
    async with uow_factory.reading() as uow:
        waiting = await uow.outbox.failures("notify")
        assert [(f.event_id, f.attempts, f.error, f.dead) for f in waiting] == [
            (ids[0], 2, "server: 503", False), (ids[2], 1, "network: timeout", False)]  # replaced, oldest first
        assert waiting[0].next_at == later and waiting[0].failed_at == NOON
        assert waiting[0].event.id == ids[0] and waiting[0].event.data == {"order_id": "o_0"}
        dead = await uow.outbox.failures(dead=True)
        assert [(f.subscriber, f.event_id) for f in dead] == [("crm", ids[1])]
        assert 0 < len(dead[0].error) <= 2000
        assert [f.event_id for f in await uow.outbox.failures()] == [ids[0], ids[2]]  # every subscriber
    async with uow_factory() as uow:
        await uow.outbox.clear_failure("notify", ids[0])
        await uow.outbox.clear_failure("notify", ids[1])  # none: nothing happens
    async with uow_factory.reading() as uow:
        assert [f.event_id for f in await uow.outbox.failures("notify")] == [ids[2]]
        assert len(await uow.outbox.failures("crm", dead=True)) == 1


async def test_outbox_prune_removes_only_old_events_every_subscriber_is_done_with(uow_factory):
    old = await _events(uow_factory, 4)
    new = await _events(uow_factory, 1, NOON + timedelta(days=40))
    ids = old + new[-1:]
    async with uow_factory() as uow:
        for i in ids:
            await uow.outbox.mark_handled("notify", i)
            await uow.outbox.mark_handled("notify>telegram:1", i)
        await uow.outbox.set_cursor("notify", ids[-1])
        await uow.outbox.set_cursor("crm", ids[2])  # crm has not read the 4th event yet
        await uow.outbox.record_failure(DeliveryFailure("crm", ids[1], 10, NOON, "dead", True, NOON))
    async with uow_factory() as uow:
        assert await uow.outbox.prune(NOON + timedelta(days=10)) == 2  # the 1st and 3rd
    async with uow_factory.reading() as uow:
        assert [e.id for e in await uow.outbox.pending("nobody")] == [ids[1], ids[3], ids[4]]
        assert not await uow.outbox.is_handled("notify>telegram:1", ids[0])
        assert await uow.outbox.is_handled("notify", ids[3])
        assert [f.event_id for f in await uow.outbox.failures(dead=True)] == [ids[1]]


async def test_outbox_prune_without_any_reader_keeps_everything(uow_factory):
    await _events(uow_factory, 2)
    async with uow_factory() as uow:
        assert await uow.outbox.prune(NOON + timedelta(days=100)) == 0


async def test_processed_updates_and_link_failures_are_pruned_by_age(uow_factory):
    from datetime import datetime
    now = datetime.now(UTC)  # update ids are stamped with the time they were claimed
    async with uow_factory() as uow:
        await uow.updates.claim("telegram", "1")
        await uow.customers.record_link_failure("vk:9", NOON)
        await uow.customers.record_link_failure("vk:9", NOON + timedelta(days=2))
    async with uow_factory() as uow:
        assert await uow.updates.prune(now - timedelta(days=1)) == 0
        assert await uow.customers.prune_link_failures(NOON + timedelta(days=1)) == 1
    async with uow_factory() as uow:
        assert await uow.updates.claim("telegram", "1") is False  # still remembered
        assert await uow.updates.prune(now + timedelta(days=1)) == 1
        assert await uow.updates.claim("telegram", "1") is True  # forgotten
        assert await uow.customers.link_failures("vk:9", NOON - timedelta(days=1)) == 1


# ------------------------------------------------------------------------------------------- reachability

async def test_unreachable_accounts_are_marked_and_cleared(uow_factory):
    async with uow_factory() as uow:
        await uow.reachability.mark("telegram:1", "blocked", NOON)
        await uow.reachability.mark("vk:2", "no_permission", NOON)
        await uow.reachability.mark("vk:2", "declined", NOON)  # marked again: the latest reason
    async with uow_factory.reading() as uow:
        assert await uow.reachability.unreachable(["telegram:1", "vk:2", "vk:3", "telegram:1"]) == {
            "telegram:1": "blocked", "vk:2": "declined"}
        assert await uow.reachability.unreachable([]) == {}
    async with uow_factory() as uow:
        assert await uow.reachability.clear("telegram:1") is True
        assert await uow.reachability.clear("telegram:1") is False
    async with uow_factory.reading() as uow:
        assert await uow.reachability.unreachable(["telegram:1", "vk:2"]) == {"vk:2": "declined"}


# ------------------------------------------------------------------------------------------- transactions

async def test_a_unit_of_work_that_raises_rolls_everything_back(shop):
    ann = await add_customer(shop, 1)
    with pytest.raises(RuntimeError, match="boom"):
        async with shop() as uow:
            await uow.orders.add(make_order(1, ann.id))
            await uow.payments.add(make_intent(1, "o_1"))
            await uow.catalog.set_stock("center", "croissant", 5)
            await uow.loyalty.add(LedgerEntry(ann.id, 100, "earn", "o_1", NOON))
            await uow.settings.set("k", "v")
            await uow.outbox.add(DomainEvent(EventType.ORDER_PLACED, {"order_id": "o_1"}, NOON))
            await uow.customers.update(replace(ann, name="changed"))
            raise RuntimeError("boom")
    async with shop.reading() as uow:
        assert await uow.orders.get("o_1") is None
        assert await uow.payments.for_order("o_1") is None
        assert await uow.catalog.stock("center") == {}
        assert await uow.loyalty.balance(ann.id) == 0
        assert await uow.settings.get("k") is None
        assert await uow.outbox.pending("any") == []
        assert (await uow.customers.get(ann.id)).name == "Гость 1"
    async with shop() as uow:  # and the next unit of work works normally
        await uow.settings.set("k", "v")
    async with shop.reading() as uow:
        assert await uow.settings.get("k") == "v"


async def test_a_refused_write_rolls_back_the_writes_before_it(shop):
    ann = await add_customer(shop, 1)
    with pytest.raises(DomainError):
        async with shop() as uow:
            await uow.settings.set("before", "1")
            await uow.orders.add(make_order(1, ann.id, point_id="nowhere"))
    async with shop.reading() as uow:
        assert await uow.settings.get("before") is None


async def test_commits_are_visible_to_readers_and_uncommitted_writes_are_not(uow_factory):
    async with uow_factory() as uow:
        await uow.settings.set("counter", "1")
    async with uow_factory.reading() as uow:
        assert await uow.settings.get("counter") == "1"
    async with uow_factory() as writing:
        await writing.settings.set("counter", "2")
        await writing.settings.set("fresh", "yes")
        assert await writing.settings.get("counter") == "2"  # a unit of work sees its own writes
        async with uow_factory.reading() as reading:
            assert await reading.settings.get("counter") == "1"
            assert await reading.settings.get("fresh") is None
    async with uow_factory.reading() as uow:
        assert await uow.settings.all() == {"counter": "2", "fresh": "yes"}


async def test_a_reader_sees_one_snapshot(uow_factory):
    async with uow_factory() as uow:
        await uow.settings.set("a", "1")
    async with uow_factory.reading() as reading:
        assert await reading.settings.get("a") == "1"
        async with uow_factory() as uow:
            await uow.settings.set("a", "2")
            await uow.settings.set("b", "2")
        assert await reading.settings.all() == {"a": "1"}  # still the snapshot it started with
    async with uow_factory.reading() as reading:
        assert await reading.settings.all() == {"a": "2", "b": "2"}


async def test_foreign_keys_are_enforced(shop):
    ann = await add_customer(shop, 1)
    with pytest.raises(DomainError) as caught:
        async with shop() as uow:
            await uow.orders.add(make_order(1, ann.id, point_id="nowhere"))
    assert caught.value.code is ErrorCode.CONFLICT
    with pytest.raises(DomainError):
        async with shop() as uow:
            await uow.orders.add(make_order(2, "c_nobody"))
    with pytest.raises(DomainError):
        async with shop() as uow:
            await uow.customers.add_account(Account(Channel.VK, "5", "c_nobody"))
    with pytest.raises(DomainError):
        async with shop() as uow:
            await uow.catalog.set_stock("center", "no_such_item", 1)
    with pytest.raises(DomainError):
        async with shop() as uow:
            await uow.outbox.mark_handled("notify", 424242)  # no such event
    async with shop.reading() as uow:
        assert await uow.orders.for_customer(ann.id) == []


async def test_points_are_validated_by_storage_too(uow_factory):
    with pytest.raises(DomainError):
        async with uow_factory() as uow:
            await uow.catalog.save_point(PickupPoint("Bad Id", "x", hours=OpeningHours()))


# ------------------------------------------------------------------------------- two at once (several instances)
# Each reads, decides and writes as the engine does, in two units of work on two connections at once: the
# second waits for the first and decides on what the first wrote.

async def test_one_order_is_handed_over_once(shop):
    ann = await add_customer(shop, 1)
    async with shop() as uow:
        await uow.orders.add(make_order(1, ann.id, status=OrderStatus.READY))

    async def hand_over(uow):
        order = await uow.orders.get("o_1")
        if order.status is not OrderStatus.READY:
            return order.status
        await uow.orders.set_status("o_1", OrderStatus.PICKED_UP, NOON + timedelta(minutes=5))
        return "handed over"

    assert await race(shop, hand_over, hand_over) == ["handed over", OrderStatus.PICKED_UP]
    async with shop.reading() as uow:
        history = (await uow.orders.get("o_1")).history
        assert [s for s, _ in history] == [OrderStatus.READY, OrderStatus.PICKED_UP]


async def test_a_payment_is_captured_once(shop):
    ann = await add_customer(shop, 1)
    async with shop() as uow:
        await uow.orders.add(make_order(1, ann.id))
        await uow.payments.add(make_intent(1, "o_1", status=PaymentStatus.AUTHORIZED))

    def capture(find):
        async def step(uow):
            intent = await find(uow)
            if intent.status is not PaymentStatus.AUTHORIZED:
                return intent.status
            await uow.payments.set_status(intent.id, PaymentStatus.CAPTURED, NOON + timedelta(minutes=5))
            return "captured"
        return step

    # the counter by the order, the provider's notice by the payment: either way one capture
    first, second = capture(lambda uow: uow.payments.for_order("o_1")), capture(lambda uow: uow.payments.get("pay_1"))
    assert await race(shop, first, second) == ["captured", PaymentStatus.CAPTURED]


async def test_a_counter_payment_is_captured_in_one_statement_once(shop):
    ann = await add_customer(shop, 1)
    async with shop() as uow:
        await uow.orders.add(make_order(1, ann.id))
        await uow.orders.add(make_order(2, ann.id))
        await uow.payments.add(make_intent(1, "o_1"))
        await uow.payments.add(make_intent(2, "o_2", status=PaymentStatus.VOIDED))
    at = NOON + timedelta(minutes=5)
    async with shop() as uow:
        taken = await uow.payments.capture_pending("o_1", at)
        assert await uow.payments.capture_pending("o_1", at) is None  # captured already
        assert await uow.payments.capture_pending("o_2", at) is None  # not pending
        assert await uow.payments.capture_pending("o_missing", at) is None
    assert taken is not None and (taken.id, taken.status, taken.updated_at) == ("pay_1", PaymentStatus.CAPTURED, at)
    async with shop.reading() as uow:
        assert await uow.payments.for_order("o_1") == taken
        assert (await uow.payments.for_order("o_2")).status is PaymentStatus.VOIDED


async def test_the_last_use_of_a_promo_goes_to_one_order(shop):
    ann, bob = await add_customer(shop, 1), await add_customer(shop, 2)
    async with shop() as uow:
        await uow.promos.save(Promo("LAST", PromoKind.FIXED, 1000, max_uses=1, once_per_customer=False))

    def place(n, customer_id):
        async def step(uow):
            check_promo(await uow.promos.get("LAST"), "LAST", NOON, await uow.promos.uses_by("LAST", customer_id))
            await uow.orders.add(make_order(n, customer_id, promo_code="LAST"))
            await uow.promos.record_use("LAST", customer_id, f"o_{n}")
            return "placed"
        return step

    first, second = await race(shop, place(1, ann.id), place(2, bob.id))
    assert first == "placed"
    assert isinstance(second, DomainError) and second.code is ErrorCode.PROMO_EXHAUSTED
    async with shop.reading() as uow:
        assert (await uow.promos.get("LAST")).used == 1
        assert await uow.promos.uses_by("LAST", bob.id) == 0 and await uow.orders.get("o_2") is None


async def test_a_promo_once_per_customer_is_used_once_from_two_places(shop):
    ann = await add_customer(shop, 1)
    async with shop() as uow:
        await uow.promos.save(Promo("ONCE", PromoKind.PERCENT, 10))

    def place(n):
        async def step(uow):
            check_promo(await uow.promos.get("ONCE"), "ONCE", NOON, await uow.promos.uses_by("ONCE", ann.id))
            await uow.orders.add(make_order(n, ann.id, promo_code="ONCE"))
            await uow.promos.record_use("ONCE", ann.id, f"o_{n}")
            return "placed"
        return step

    first, second = await race(shop, place(1), place(2))
    assert first == "placed"
    assert isinstance(second, DomainError) and second.code is ErrorCode.PROMO_ALREADY_USED
    async with shop.reading() as uow:
        assert (await uow.promos.get("ONCE")).used == 1 and await uow.promos.uses_by("ONCE", ann.id) == 1


async def test_points_are_spent_once(shop):
    ann = await add_customer(shop, 1)
    async with shop() as uow:
        await uow.loyalty.add(LedgerEntry(ann.id, 500, "earn", None, NOON))

    async def spend(uow):
        if await uow.loyalty.balance(ann.id) < 500:
            raise DomainError(ErrorCode.POINTS_INSUFFICIENT)
        await uow.loyalty.add(LedgerEntry(ann.id, -500, "spend", None, NOON))
        return "spent"

    first, second = await race(shop, spend, spend)
    assert first == "spent"
    assert isinstance(second, DomainError) and second.code is ErrorCode.POINTS_INSUFFICIENT
    async with shop.reading() as uow:
        assert await uow.loyalty.balance(ann.id) == 0


async def test_the_open_orders_limit_holds_for_orders_placed_at_once(shop):
    ann = await add_customer(shop, 1)

    def place(n):
        async def step(uow):
            held = sum([await uow.orders.count_for_customer(ann.id, s) for s in OPEN_ORDER_STATUSES])
            if held >= 1:
                raise DomainError(ErrorCode.TOO_MANY_OPEN_ORDERS)
            await uow.orders.add(make_order(n, ann.id))
            return "placed"
        return step

    first, second = await race(shop, place(1), place(2))
    assert first == "placed"
    assert isinstance(second, DomainError) and second.code is ErrorCode.TOO_MANY_OPEN_ORDERS


async def test_a_pack_is_credited_once_for_a_charge_told_twice(shop):
    ann = await add_customer(shop, 1)
    async with shop() as uow:
        await uow.packs.add(PackPurchase("pk_1", ann.id, "telegram:1001", 300, 50, PackStatus.PENDING, "", NOON, NOON))

    async def paid(uow):
        if (done := await uow.packs.by_charge_id("ch_1")) is not None:
            return f"told again: {done.status.value}"
        purchase = await uow.packs.get("pk_1")
        if purchase.status is not PackStatus.PENDING:
            return "refund the Stars"  # what the engine does for a purchase paid by another charge
        await uow.packs.update(replace(purchase, status=PackStatus.PAID, charge_id="ch_1", updated_at=NOON))
        await uow.loyalty.add(LedgerEntry(ann.id, purchase.points, "stars", None, NOON))
        return "credited"

    assert await race(shop, paid, paid) == ["credited", "told again: paid"]
    async with shop.reading() as uow:
        assert await uow.loyalty.balance(ann.id) == 300


async def test_a_link_code_is_used_once(shop):
    ann = await add_customer(shop, 1)
    async with shop() as uow:
        await uow.customers.add_link_code(LinkCode("123456", ann.id, NOON + timedelta(minutes=10)))

    async def redeem(uow):
        link = await uow.customers.link_code("123456")
        if link.used:
            return "used already"
        await uow.customers.use_link_code("123456")
        return "linked"

    assert await race(shop, redeem, redeem) == ["linked", "used already"]


async def test_a_new_account_met_twice_at_once_becomes_one_customer(shop):
    def first_contact(n):
        async def step(uow):
            if (found := await uow.customers.by_account(Channel.VK, "777")) is not None:
                return found.id
            await uow.customers.add(make_customer(n))
            await uow.customers.add_account(Account(Channel.VK, "777", f"c_{n}"))
            return "created"
        return step

    assert await race(shop, first_contact(1), first_contact(2)) == ["created", "c_1"]


async def test_the_catalog_version_moves_when_another_connection_commits(shop):
    """What the menu cache is keyed on: a change committed by another unit of work (another instance's) is
    never hidden behind an old version."""
    async with shop.reading() as uow:
        before = await uow.catalog.version()
    async with shop() as uow:
        await uow.catalog.set_stock("center", "croissant", 3)
    async with shop.reading() as uow:
        after = await uow.catalog.version()
        assert await uow.catalog.stock("center") == {"croissant": 3}
    assert after != before
