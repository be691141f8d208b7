"""The storage contract of personal data (journey/privacy.py), on every backend: consents found across merged
customers, the person's ids, the export of their rows only, forgetting table by table as ``PERSONAL_DATA``
says, open orders and groups to close first, last seen, and who is inactive."""
from __future__ import annotations

from datetime import timedelta

import pytest
from storage_data import NOON, add_customer, seed_catalog

from journey.channels import Channel, CustomerRef
from journey.events import DomainEvent, EventType
from journey.model import Consent, LedgerEntry, Order, OrderLine, PaymentIntent, Review, Visit
from journey.money import Money
from journey.states import OrderStatus, PaymentStatus

DAY = timedelta(days=1)
ANNA, BORIS = "telegram:1001", "telegram:1002"


@pytest.fixture
async def people(uow_factory):
    await seed_catalog(uow_factory)
    for n in (1, 2, 3):
        await add_customer(uow_factory, n)
    return uow_factory


def order(n: int, customer_id: str, status: OrderStatus = OrderStatus.PICKED_UP, at=NOON) -> Order:
    line = OrderLine("croissant", "Круассан", (), {}, 1, Money(18000))
    return Order(f"o_{n}", customer_id, "center", status, (line,), Money(18000), Money(0), 0, Money(18000),
                 at + timedelta(minutes=10), f"{n:04d}", at, at, None, "", "counter",
                 account=f"telegram:{1000 + int(customer_id[2:])}")


async def _add_order(factory, n: int, customer_id: str, status: OrderStatus = OrderStatus.PICKED_UP, at=NOON):
    o = order(n, customer_id, status, at)
    async with factory() as uow:
        assert await uow.orders.add(o)
        await uow.payments.add(PaymentIntent(f"pay_{n}", o.id, "counter", o.total, PaymentStatus.CAPTURED,
                                             f"req:{o.account}:{n}", "", at, at))
    return o


async def test_the_latest_consent_of_a_person_is_found_across_merged_customers(people):
    async with people() as uow:
        assert await uow.privacy.consent("c_1") is None
        await uow.privacy.add_consent("c_1", Consent("v1", NOON, "telegram"))
        await uow.privacy.add_consent("c_2", Consent("v2", NOON + DAY, "vk"))
        await uow.privacy.add_consent("c_3", Consent("v3", NOON + 2 * DAY, "vk"))
        await uow.customers.merge("c_2", "c_1")
    async with people.reading() as uow:
        assert await uow.privacy.consent("c_1") == Consent("v2", NOON + DAY, "vk")
        assert await uow.privacy.person("c_1") == ["c_1", "c_2"]
        assert await uow.privacy.person("c_3") == ["c_3"]


async def test_the_export_holds_the_persons_rows_and_nobody_elses(people):
    await _add_order(people, 1, "c_1")
    await _add_order(people, 2, "c_2")
    async with people() as uow:
        await uow.loyalty.add(LedgerEntry("c_1", 900, "earn", "o_1", NOON))
        await uow.reviews.add(Review("o_1", "croissant", "c_1", 5, "Вкусно", "Гость 1", NOON))
        await uow.visits.add(Visit("p_center", "point", "telegram", "c_1", NOON))
        await uow.outbox.add(DomainEvent(EventType.ORDER_ACCEPTED, {"customer_id": "c_1", "account": ANNA,
                                                                    "by": BORIS}, NOON))
        await uow.outbox.add(DomainEvent(EventType.ORDER_ACCEPTED, {"customer_id": "c_2", "account": BORIS}, NOON))
    async with people.reading() as uow:
        found = await uow.privacy.export(["c_1"], [ANNA])
    assert [r["id"] for r in found["customers"]] == ["c_1"]
    assert [(r["channel"], r["external_id"]) for r in found["accounts"]] == [("telegram", "1001")]
    assert [r["id"] for r in found["orders"]] == ["o_1"]
    assert found["orders"][0]["lines"][0]["item"] == "croissant"  # JSON parsed
    assert [r["id"] for r in found["payments"]] == ["pay_1"] and found["payments"][0]["amount"] == 18000
    assert [r["delta"] for r in found["ledger"]] == [900]
    assert [r["text"] for r in found["reviews"]] == ["Вкусно"]
    assert len(found["visits"]) == 1
    assert [e["data"] for e in found["outbox"]] == [{"customer_id": "c_1", "account": ANNA, "by": ""}]


async def test_forgetting_deletes_scrubs_and_keeps_as_personal_data_says(people):
    await _add_order(people, 1, "c_1")
    await _add_order(people, 2, "c_2")
    async with people() as uow:
        await uow.loyalty.add(LedgerEntry("c_1", 900, "earn", "o_1", NOON))
        await uow.reviews.add(Review("o_1", "croissant", "c_1", 5, "Вкусно", "Гость 1", NOON))
        await uow.visits.add(Visit("p_center", "point", "telegram", "c_1", NOON))
        await uow.privacy.add_consent("c_1", Consent("v1", NOON, "telegram"))
        await uow.staff.add(CustomerRef(Channel.TELEGRAM, "1001"), "center")
        await uow.staff.add(CustomerRef(Channel.TELEGRAM, "1002"), "center")
        await uow.updates.claim("telegram", "m1001:7")
        await uow.updates.claim("telegram", "m1002:7")
        await uow.reachability.mark(ANNA, "blocked", NOON)
        await uow.outbox.add(DomainEvent(EventType.REVIEW_ADDED, {"customer_id": "c_1", "account": ANNA,
                                                                  "text": "Вкусно", "name": "Гость 1"}, NOON))
        await uow.outbox.add(DomainEvent(EventType.GROUP_CANCELLED, {"members": [
            {"customer_id": "c_1", "account": ANNA}, {"customer_id": "c_2", "account": BORIS}]}, NOON))
    async with people() as uow:
        await uow.privacy.forget(["c_1"], [ANNA], NOON + DAY)
    async with people.reading() as uow:
        assert await uow.customers.by_account(Channel.TELEGRAM, "1001") is None
        tomb = await uow.customers.get("c_1")
        assert (tomb.name, tomb.source, tomb.consent, tomb.referral_code) == ("", "", False, "forgotten-c_1")
        assert await uow.customers.by_account(Channel.TELEGRAM, "1002") is not None
        kept = await uow.orders.get("o_1")
        assert (kept.customer_id, kept.total, kept.account) == ("c_1", Money(18000), "")
        assert kept.lines == order(1, "c_1").lines
        assert (await uow.orders.get("o_2")).account == "telegram:1002"
        assert await uow.loyalty.balance("c_1") == 900
        payment = await uow.payments.for_order("o_1")
        assert payment.amount == Money(18000) and payment.idempotency_key == "forgotten:pay_1"
        assert [(r.rating, r.text, r.author) for r in await uow.reviews.for_item("croissant", 10)] == [(5, "", "")]
        assert await uow.privacy.consent("c_1") is None
        assert await uow.staff.points_of([CustomerRef(Channel.TELEGRAM, "1001")]) == set()
        assert await uow.staff.points_of([CustomerRef(Channel.TELEGRAM, "1002")]) == {"center"}
        assert await uow.reachability.unreachable([ANNA]) == {}
        events = [e.data for e in await uow.outbox.pending("test", 100)]
    assert events == [{"customer_id": "c_1", "account": "", "text": "", "name": ""},
                      {"members": [{"customer_id": "c_1", "account": ""}, {"customer_id": "c_2", "account": BORIS}]}]
    async with people() as uow:  # the update ids carrying Anna's chat are gone: a repeat would be new
        assert await uow.updates.claim("telegram", "m1001:7")
        assert not await uow.updates.claim("telegram", "m1002:7")
    async with people.reading() as uow:
        found = await uow.privacy.export(["c_1"], [])
    assert found["visits"] == [] and found["accounts"] == [] and found["customers"][0]["forgotten_at"]


async def test_open_orders_and_groups_of_a_person_are_found_to_close_first(people):
    await _add_order(people, 1, "c_1", OrderStatus.PLACED)
    await _add_order(people, 2, "c_1", OrderStatus.READY)
    await _add_order(people, 3, "c_1", OrderStatus.PICKED_UP)
    await _add_order(people, 4, "c_2", OrderStatus.PLACED)
    async with people.reading() as uow:
        assert await uow.privacy.open_orders(["c_1"]) == ["o_1", "o_2"]
        assert await uow.privacy.open_orders([]) == []
        assert await uow.privacy.open_groups(["c_1"]) == []


async def test_last_seen_and_who_is_inactive(people):
    await _add_order(people, 1, "c_2", at=NOON + 100 * DAY)
    async with people() as uow:
        await uow.visits.add(Visit("p_center", "point", "telegram", "c_3", NOON + 100 * DAY))
        await add_customer_inline(uow)
        await uow.staff.add(CustomerRef(Channel.TELEGRAM, "1009"), "center")
    async with people.reading() as uow:
        assert await uow.privacy.seen("c_1") == NOON  # created, never touched
        assert await uow.privacy.seen("c_404") is None
        assert await uow.privacy.inactive(NOON + 50 * DAY, 10) == ["c_1"]  # c_9 is staff
        assert await uow.privacy.inactive(NOON + 200 * DAY, 10) == ["c_1", "c_2", "c_3"]
        assert await uow.privacy.inactive(NOON + 200 * DAY, 2) == ["c_1", "c_2"]
    async with people() as uow:
        await uow.privacy.touch("c_1", NOON + 60 * DAY)
        await uow.privacy.forget(["c_3"], ["telegram:1003"], NOON + 60 * DAY)
    async with people.reading() as uow:
        assert await uow.privacy.seen("c_1") == NOON + 60 * DAY
        assert await uow.privacy.inactive(NOON + 50 * DAY, 10) == []
        assert await uow.privacy.inactive(NOON + 200 * DAY, 10) == ["c_1", "c_2"]  # c_3 forgotten already


async def add_customer_inline(uow) -> None:
    from storage_data import make_customer

    from journey.model import Account

    await uow.customers.add(make_customer(9))
    await uow.customers.add_account(Account(Channel.TELEGRAM, "1009", "c_9", "Бариста"))
