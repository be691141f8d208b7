"""Contract tests of the owner's and the delivery's storage: the audit log, dialogs, media, broadcasts and
the owner's numbers, on every backend (``uow_factory``), with what several instances do at once on one
database: one update claimed once, one dialog advanced in turns, one broadcast's recipients claimed by one
sender each."""
from __future__ import annotations

from datetime import timedelta

import pytest
from storage_data import NOON, add_customer, race, seed_catalog

from journey.audit import Change
from journey.broadcasts import AudienceMember, Broadcast, BroadcastStatus
from journey.channels import Channel
from journey.dialogs import Dialog
from journey.model import Account, Order, OrderLine, Review, Visit
from journey.money import Money
from journey.photos import Media
from journey.states import OrderStatus
from journey.stats import CustomerTotal, OrderCount, TopItem, VisitCount


@pytest.fixture
async def shop(uow_factory):
    await seed_catalog(uow_factory)
    return uow_factory


# ------------------------------------------------------------------------------------------------- updates

async def test_one_update_claimed_from_two_units_of_work_at_once_is_claimed_once(uow_factory):
    async def claim(uow) -> bool:
        return await uow.updates.claim("telegram", "5001")
    assert await race(uow_factory, claim, claim) == [True, False]
    async with uow_factory() as uow:
        assert await uow.updates.claim("telegram", "5001") is False


# --------------------------------------------------------------------------------------------------- audit

async def test_audit_log_keeps_changes_and_finds_the_last_undoable(uow_factory):
    owner, other = "telegram:1", "vk:2"
    async with uow_factory() as uow:
        first = await uow.audit.add(Change(owner, "price", "item:latte", {"price": 25000}, {"price": 27000}, NOON))
        second = await uow.audit.add(Change(owner, "stock", "stock:center:latte", None, {"qty": 5},
                                            NOON + timedelta(minutes=1)))
        await uow.audit.add(Change(owner, "settings", "settings:hours", {"a": 1}, {"a": 2}, NOON))  # not undoable
        await uow.audit.add(Change(owner, "undo", "item:latte", {"price": 27000}, {"price": 25000}, NOON))
        theirs = await uow.audit.add(Change(other, "hide", "item:croissant", {"available": True}, None, NOON))
        assert 0 < first < second < theirs
    async with uow_factory() as uow:
        last = await uow.audit.last_undoable(owner)
        assert last == Change(owner, "stock", "stock:center:latte", None, {"qty": 5}, NOON + timedelta(minutes=1),
                              second, False)
        await uow.audit.mark_undone(second)
        assert (await uow.audit.last_undoable(owner)).id == first
        await uow.audit.mark_undone(first)
        assert await uow.audit.last_undoable(owner) is None
        assert (await uow.audit.last_undoable(other)).after is None  # removed: no "after"
        assert await uow.audit.last_undoable("telegram:404") is None
    async with uow_factory.reading() as uow:
        recent = await uow.audit.recent(3)
        assert [c.id for c in recent] == [theirs, theirs - 1, theirs - 2]  # newest first
        assert [c.undone for c in await uow.audit.recent()] == [False, False, False, True, True]


# ------------------------------------------------------------------------------------------------- dialogs

async def test_dialogs_are_saved_replaced_and_deleted(uow_factory):
    async with uow_factory() as uow:
        assert await uow.dialogs.get("telegram:1") is None
        await uow.dialogs.save(Dialog("telegram:1", "item", {"step": "name"}, NOON))
        await uow.dialogs.save(Dialog("telegram:1", "item", {"step": "price", "name": "Раф «ванильный»"},
                                      NOON + timedelta(seconds=30)))
        await uow.dialogs.save(Dialog("vk:1", "broadcast", {}, NOON))
    async with uow_factory.reading() as uow:
        assert await uow.dialogs.get("telegram:1") == Dialog("telegram:1", "item",
                                                             {"step": "price", "name": "Раф «ванильный»"},
                                                             NOON + timedelta(seconds=30))
    async with uow_factory() as uow:
        assert await uow.dialogs.delete("telegram:1") is True
        assert await uow.dialogs.delete("telegram:1") is False
        assert await uow.dialogs.get("telegram:1") is None
        assert await uow.dialogs.get("vk:1") == Dialog("vk:1", "broadcast", {}, NOON)


async def test_two_messages_advancing_one_dialog_at_once_take_turns(uow_factory):
    """Each reads the step and writes the next: the second reads what the first wrote, no step is lost."""
    async with uow_factory() as uow:
        await uow.dialogs.save(Dialog("telegram:1", "item", {"entered": []}, NOON))

    def enter(text: str):
        async def advance(uow) -> list[str]:
            dialog = await uow.dialogs.get("telegram:1")
            entered = [*dialog.state["entered"], text]
            await uow.dialogs.save(Dialog("telegram:1", "item", {"entered": entered}, NOON))
            return entered
        return advance

    assert await race(uow_factory, enter("Латте"), enter("250")) == [["Латте"], ["Латте", "250"]]


# --------------------------------------------------------------------------------------------------- media

async def test_media_keeps_bytes_and_the_first_copy_of_a_name(uow_factory):
    data = bytes(range(256)) * 4  # every byte value, NUL and invalid UTF-8 among them
    async with uow_factory() as uow:
        await uow.media.add(Media("abc.jpg", "image/jpeg", data, NOON))
        await uow.media.add(Media("abc.jpg", "image/png", b"other", NOON + timedelta(days=1)))  # same name: kept
    async with uow_factory.reading() as uow:
        assert await uow.media.get("abc.jpg") == Media("abc.jpg", "image/jpeg", data, NOON)
        assert await uow.media.get("nothing.jpg") is None


# ---------------------------------------------------------------------------------------------- broadcasts

async def _broadcast(factory, *, status: BroadcastStatus = BroadcastStatus.DRAFT,
                     channels: tuple[str, ...] = ("telegram", "vk")) -> int:
    async with factory() as uow:
        return await uow.broadcasts.add(Broadcast(0, status, "Новое меню!", "telegram:1", "ru", channels, NOON))


async def _start(factory, broadcast_id: int, members: list[AudienceMember]) -> None:
    async with factory() as uow:
        await uow.broadcasts.set_status(broadcast_id, BroadcastStatus.SENDING, NOON)
        await uow.broadcasts.add_recipients(broadcast_id, members)


def _members(n: int, channel: str = "telegram") -> list[AudienceMember]:
    return [AudienceMember(channel, str(2000 + i), f"c_{i}", "ru") for i in range(n)]


async def test_broadcasts_are_stored_started_and_finished(uow_factory):
    draft = await _broadcast(uow_factory)
    async with uow_factory.reading() as uow:
        assert await uow.broadcasts.get(draft) == Broadcast(draft, BroadcastStatus.DRAFT, "Новое меню!", "telegram:1",
                                                            "ru", ("telegram", "vk"), NOON)
        assert await uow.broadcasts.latest() is None  # a draft is no broadcast yet
        assert await uow.broadcasts.get(draft + 100) is None
    later = NOON + timedelta(hours=1)
    async with uow_factory() as uow:
        await uow.broadcasts.set_status(draft, BroadcastStatus.SENDING, NOON)
        other = await uow.broadcasts.add(Broadcast(0, BroadcastStatus.DRAFT, "x", "cli", "en", ("vk",), NOON))
        assert other > draft
    async with uow_factory() as uow:
        assert [b.id for b in await uow.broadcasts.sending()] == [draft]
        assert (await uow.broadcasts.latest()).id == draft
        await uow.broadcasts.set_status(draft, BroadcastStatus.DONE, later)
        await uow.broadcasts.set_status(other, BroadcastStatus.CANCELLED, later)
    async with uow_factory.reading() as uow:
        done = await uow.broadcasts.get(draft)
        assert (done.status, done.started_at, done.finished_at) == (BroadcastStatus.DONE, NOON, later)
        cancelled = await uow.broadcasts.latest()
        assert (cancelled.id, cancelled.channels, cancelled.started_at) == (other, ("vk",), None)
        assert await uow.broadcasts.sending() == []
    async with uow_factory() as uow:  # each milestone is told once, never a smaller one after a bigger one
        assert await uow.broadcasts.claim_milestone(draft, 50) is True
        assert await uow.broadcasts.claim_milestone(draft, 50) is False
        assert await uow.broadcasts.claim_milestone(draft, 25) is False
        assert await uow.broadcasts.claim_milestone(draft, 100) is True
        assert (await uow.broadcasts.get(draft)).reported == 100


async def test_the_audience_is_who_agreed_is_reachable_and_not_merged(shop):
    ann = await add_customer(shop, 1)  # telegram:1001
    bob = await add_customer(shop, 2, Channel.VK, language="en")  # vk:1002
    await add_customer(shop, 3, consent=False)  # telegram:1003, no news
    await add_customer(shop, 4)  # telegram:1004, unreachable
    await add_customer(shop, 5)  # telegram:1005, merged into ann: the account is hers now
    async with shop() as uow:
        await uow.customers.add_account(Account(Channel.VK, "1001", ann.id))
        await uow.customers.add_account(Account(Channel("max"), "77", bob.id))
        await uow.reachability.mark("telegram:1004", "blocked", NOON)
        await uow.customers.merge("c_5", ann.id)
        await uow.orders.add(Order("o_1", ann.id, "center", OrderStatus.PLACED,
                                   (OrderLine("latte", "Латте", (), {}, 1, Money(25000)),), Money(25000),
                                   Money(0), 0, Money(25000), NOON, "0001", NOON, NOON, account="vk:1001"))
    async with shop.reading() as uow:
        audience = await uow.broadcasts.audience(("telegram", "vk"))
        assert audience == [AudienceMember("telegram", "1001", ann.id, "ru", "vk:1001"),
                            AudienceMember("telegram", "1005", ann.id, "ru", "vk:1001"),
                            AudienceMember("vk", "1001", ann.id, "ru", "vk:1001"),
                            AudienceMember("vk", "1002", bob.id, "en", "")]
        assert [m.account for m in await uow.broadcasts.audience(("max",))] == ["max:77"]
        assert await uow.broadcasts.audience(()) == []


async def test_recipients_are_claimed_sent_retried_failed_and_counted(uow_factory):
    bid = await _broadcast(uow_factory)
    members = _members(3) + _members(1, "vk")
    async with uow_factory() as uow:
        assert await uow.broadcasts.add_recipients(bid, members) == 4
        assert await uow.broadcasts.add_recipients(bid, members[:2]) == 0  # already there
        assert await uow.broadcasts.add_recipients(bid, []) == 0
        assert await uow.broadcasts.due(bid, ("telegram",), NOON, 10) == []  # a draft is not sent
    await _start(uow_factory, bid, [])
    async with uow_factory.reading() as uow:
        due = await uow.broadcasts.due(bid, ("telegram",), NOON, 10)
        assert [r.account for r in due] == ["telegram:2000", "telegram:2001", "telegram:2002"]
        assert [r.id for r in due] == sorted(r.id for r in due) and due[0].broadcast_id == bid
        assert [r.id for r in await uow.broadcasts.due(bid, ("telegram",), NOON, 2)] == [r.id for r in due[:2]]
        assert [r.account for r in await uow.broadcasts.due(bid, ("vk", "telegram"), NOON, 10)][-1] == "vk:2000"
        assert await uow.broadcasts.due(bid, (), NOON, 10) == []
        assert await uow.broadcasts.counts(bid) == ({"pending": 4}, None)
    a, b, c = (r.id for r in due)
    async with uow_factory() as uow:
        assert await uow.broadcasts.claim(a, NOON) is True
        assert await uow.broadcasts.claim(a, NOON) is False  # one sender has it
        assert await uow.broadcasts.attempts(a) == 1
        await uow.broadcasts.mark_sent(a, NOON)
        assert await uow.broadcasts.claim(b, NOON) is True
        await uow.broadcasts.retry_later(b, NOON + timedelta(minutes=5), "429: too many requests")
        assert await uow.broadcasts.claim(c, NOON) is True
        await uow.broadcasts.mark_failed(c, "blocked" * 100, NOON)
        await uow.broadcasts.mark_sent(c, NOON)  # failed stays failed
    async with uow_factory.reading() as uow:
        assert await uow.broadcasts.counts(bid) == ({"sent": 1, "pending": 2, "failed": 1},
                                                    NOON + timedelta(minutes=5))
        assert [r.id for r in await uow.broadcasts.due(bid, ("telegram",), NOON, 10)] == []  # b waits
        assert [r.id for r in await uow.broadcasts.due(bid, ("telegram",), NOON + timedelta(minutes=5), 10)] == [b]
    async with uow_factory() as uow:
        assert await uow.broadcasts.claim(b, NOON) is True
        assert await uow.broadcasts.attempts(b) == 2
        await uow.broadcasts.mark_sent(b, NOON)
        assert await uow.broadcasts.attempts(12345) == 0
    async with uow_factory.reading() as uow:
        assert (await uow.broadcasts.counts(bid))[0] == {"sent": 2, "pending": 1, "failed": 1}


async def test_a_claim_left_by_a_killed_sender_is_unconfirmed_after_its_lease_and_never_sent_again(uow_factory):
    bid = await _broadcast(uow_factory)
    await _start(uow_factory, bid, _members(2))
    async with uow_factory.reading() as uow:
        first, second = (r.id for r in await uow.broadcasts.due(bid, ("telegram",), NOON, 10))
    async with uow_factory() as uow:  # the sender claims both, then is killed before it says how it went
        assert await uow.broadcasts.claim(first, NOON) is True
        assert await uow.broadcasts.claim(second, NOON + timedelta(minutes=10)) is True
    async with uow_factory() as uow:
        assert await uow.broadcasts.expire_claims(bid, NOON + timedelta(minutes=5)) == 1  # the older claim only
        assert await uow.broadcasts.expire_claims(bid, NOON + timedelta(minutes=5)) == 0
        assert await uow.broadcasts.claim(first, NOON + timedelta(minutes=6)) is False
        await uow.broadcasts.retry_later(first, NOON, "late")  # only a row being sent goes back
    async with uow_factory.reading() as uow:
        assert await uow.broadcasts.due(bid, ("telegram",), NOON + timedelta(days=1), 10) == []
        assert (await uow.broadcasts.counts(bid))[0] == {"unconfirmed": 1, "sending": 1}
    async with uow_factory() as uow:  # the slow send went after all
        await uow.broadcasts.mark_sent(first, NOON + timedelta(minutes=7))
    async with uow_factory.reading() as uow:
        assert (await uow.broadcasts.counts(bid))[0] == {"sent": 1, "sending": 1}


async def test_a_stopped_broadcast_is_not_claimed(uow_factory):
    bid = await _broadcast(uow_factory)
    await _start(uow_factory, bid, _members(1))
    async with uow_factory.reading() as uow:
        (row,) = await uow.broadcasts.due(bid, ("telegram",), NOON, 10)
    async with uow_factory() as uow:
        await uow.broadcasts.set_status(bid, BroadcastStatus.STOPPED, NOON)
    async with uow_factory() as uow:
        assert await uow.broadcasts.claim(row.id, NOON) is False
        assert await uow.broadcasts.due(bid, ("telegram",), NOON, 10) == []


async def test_two_senders_of_one_broadcast_at_once_claim_disjoint_recipients(uow_factory):
    """Both read the same due rows and claim them, one holding its claims open while the other tries: every
    recipient is claimed by exactly one of them."""
    bid = await _broadcast(uow_factory)
    await _start(uow_factory, bid, _members(6))
    async with uow_factory.reading() as uow:
        due = [r.id for r in await uow.broadcasts.due(bid, ("telegram",), NOON, 10)]
    assert len(due) == 6

    def sender(order: list[int]):
        async def claim_all(uow) -> list[int]:
            return [i for i in order if await uow.broadcasts.claim(i, NOON)]
        return claim_all

    # the first takes every other row in its turn, the second goes through all of them from the end
    first, second = await race(uow_factory, sender(due[::2]), sender(due[::-1]))
    assert sorted(first) == due[::2] and sorted(second) == due[1::2]
    assert not set(first) & set(second)

    async with uow_factory() as uow:  # rows claimed meanwhile are left: a third sender finds none
        assert await sender(due)(uow) == []
        assert (await uow.broadcasts.counts(bid))[0] == {"sending": 6}


# --------------------------------------------------------------------------------------------------- stats

def _order(n: int, customer_id: str, lines: list[tuple[str, str, int]], *, status=OrderStatus.PICKED_UP,
           currency: str = "RUB", source: str = "", account: str = "", at=NOON) -> Order:
    order_lines = tuple(OrderLine(i, name, (), {}, qty, Money(10000, currency)) for i, name, qty in lines)
    total = Money(10000 * sum(q for _, _, q in lines), currency)
    return Order(f"o_{n}", customer_id, "center", status, order_lines, total, Money(0, currency), 0, total, at,
                 f"{n:04d}", at, at, None, source, "counter", account=account)


async def _stats_data(factory) -> None:
    ann = await add_customer(factory, 1)
    bob = await add_customer(factory, 2, Channel.VK, created_at=NOON + timedelta(hours=1))
    cat = await add_customer(factory, 3, created_at=NOON + timedelta(hours=2))
    async with factory() as uow:
        await uow.customers.add_account(Account(Channel.VK, "1001", ann.id))
        for n, (param, kind, channel) in enumerate([
                ("pcenter", "point", "telegram"), ("pcenter", "point", "telegram"), ("pcenter", "point", "vk"),
                ("rann", "referral", "telegram"), ("rbob", "referral", "telegram"), ("gxyz", "gift", "vk"),
                ("s2gis", "source", "web"), ("jabc", "group", "telegram"), ("zz", "unknown", "vk")]):
            await uow.visits.add(Visit(param, kind, channel, None, NOON + timedelta(minutes=n)))
        await uow.visits.add(Visit("pcenter", "point", "telegram", None, NOON - timedelta(days=1)))  # before
        day = timedelta(days=1)
        orders = [
            _order(1, ann.id, [("latte", "Латте", 2), ("croissant", "Круассан", 1)], source="p:center",
                   account="telegram:1001"),
            _order(2, ann.id, [("latte", "Латте", 1)], source="ref:ann", account="telegram:1001",
                   at=NOON + timedelta(hours=3)),
            _order(3, bob.id, [("espresso", "Эспрессо", 3), ("gone", "Снятый с меню", 5)], source="ref:bob",
                   account="vk:1002", at=NOON + day),
            _order(4, bob.id, [("latte", "Латте", 1)], status=OrderStatus.CANCELLED, source="s:2gis",
                   account="vk:1002", at=NOON + day),
            _order(5, cat.id, [("croissant", "Круассан", 3)], currency="XTR", account="", at=NOON + 2 * day),
            _order(6, cat.id, [("latte", "Латте", 9)], at=NOON - day),  # before the period
        ]
        for order in orders:
            await uow.orders.add(order)
        await uow.reviews.add(Review("o_1", "latte", ann.id, 5, "", "", NOON))
        await uow.reviews.add(Review("o_1", "croissant", ann.id, 4, "", "", NOON))  # one order reviewed once
        await uow.reviews.add(Review("o_4", "latte", bob.id, 2, "", "", NOON))


async def test_the_owners_numbers_are_summed_alike_on_every_backend(shop):
    await _stats_data(shop)
    since, until = NOON, NOON + timedelta(days=3)
    async with shop.reading() as uow:
        assert sorted(await uow.stats.visits(since, until), key=repr) == sorted([
            VisitCount("telegram", "point", "pcenter", 2), VisitCount("vk", "point", "pcenter", 1),
            VisitCount("telegram", "referral", "", 2), VisitCount("vk", "gift", "", 1),
            VisitCount("web", "source", "s2gis", 1), VisitCount("telegram", "group", "", 1),
            VisitCount("vk", "unknown", "", 1)], key=repr)
        assert sorted(await uow.stats.orders(since, until, "RUB"), key=repr) == sorted([
            OrderCount("telegram", "p:center", 1, 1, 1, 30000, 1),
            OrderCount("telegram", "ref", 1, 1, 0, 10000, 1),
            OrderCount("vk", "ref", 1, 1, 0, 80000, 1),
            OrderCount("vk", "s:2gis", 1, 0, 1, 0, 0),
            OrderCount("", "", 1, 1, 0, 0, 0)], key=repr)  # picked up, in another currency
        assert await uow.stats.repeat_customers(since, until) == (3, 1)
        assert await uow.stats.repeat_customers(until, until + timedelta(days=1)) == (0, 0)
        assert await uow.stats.top_items(since, until, 10) == [
            TopItem("gone", "Снятый с меню", 5), TopItem("croissant", "Круассан", 4),
            TopItem("espresso", "Эспрессо", 3), TopItem("latte", "Латте", 3)]  # a tie goes by id
        assert await uow.stats.top_items(since, until, 2) == [TopItem("gone", "Снятый с меню", 5),
                                                             TopItem("croissant", "Круассан", 4)]
        days = [NOON - timedelta(days=1) + timedelta(days=d) for d in range(5)]
        assert await uow.stats.orders_per_day(days) == [1, 2, 2, 1]
        assert await uow.stats.orders_per_day(days[:1]) == []

        page = await uow.stats.orders_page(since, None, 2)
        assert [o.id for o in page] == ["o_1", "o_2"] and page[0].lines[0].name == "Латте"
        rest = await uow.stats.orders_page(since, (page[-1].created_at, page[-1].id), 10)
        assert [o.id for o in rest] == ["o_3", "o_4", "o_5"]
        assert [o.id for o in await uow.stats.orders_page(None, None, 10)] == ["o_6", "o_1", "o_2", "o_3", "o_4", "o_5"]

        customers = await uow.stats.customers_page(None, 2, "RUB")
        assert customers == [CustomerTotal("c_1", NOON, "p:center", ("telegram", "vk"), 2, 40000),
                             CustomerTotal("c_2", NOON + timedelta(hours=1), "p:center", ("vk",), 1, 80000)]
        assert await uow.stats.customers_page((customers[-1].first_seen, customers[-1].id), 10, "XTR") == [
            CustomerTotal("c_3", NOON + timedelta(hours=2), "p:center", ("telegram",), 2, 30000)]
