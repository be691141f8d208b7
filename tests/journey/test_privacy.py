"""Personal data (152-FZ): consent before ordering, the export of everything kept about a person, forgetting
them, and anonymizing the inactive after the retention period (journey/privacy.py).

A person is a customer with every account linked to it: consent given from one account counts for all, the
export holds every account's data, and forgetting deletes every account. What accounting needs stays: orders
with their lines, amounts and dates, payments and the points ledger, attached to an anonymous tombstone.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from datetime import timedelta

import pytest
from journey_support import BARISTA, OWNER, balance, customer, customer_id, fulfil, give_points, refused, stock_of

from journey.channels import Channel, CustomerRef
from journey.deeplinks import parse_start
from journey.engine import Engine
from journey.errors import DomainError, ErrorCode
from journey.model import CartLine
from journey.privacy import NOT_PERSONAL, PERSONAL_DATA, Keyed
from journey.states import OrderStatus, PaymentStatus

TG = CustomerRef(Channel.TELEGRAM, "311", "Анна Петрова")
VK = CustomerRef(Channel.VK, "411", "Анна Петрова")
OTHER = customer(12)


async def _consented(engine, *refs, version="v1"):
    engine.consent_version = version
    for ref in refs:
        await engine.give_consent(ref, version)


async def _picked_up(engine, ref, item="eclair"):
    view = await engine.place_order(ref, [CartLine(item)], "center")
    await fulfil(engine, view.order.id)
    await engine.hand_over(BARISTA, order_id=view.order.id)
    return view.order


async def _raw(engine, sql, *args):
    """Rows straight from the store, whichever backend: for what no use case shows."""
    async with engine.read() as uow:
        conn = uow.privacy._c
        if isinstance(conn, sqlite3.Connection):
            return [tuple(r) for r in conn.execute(sql.replace("$1", "?"), args).fetchall()]
        return [tuple(r) for r in await conn.fetch(sql, *args)]


# --- consent -------------------------------------------------------------------------------------------------

async def test_without_a_policy_version_nobody_is_asked_and_no_consent_can_be_given(engine):
    assert engine.consent_version is None
    assert not await engine.needs_consent(TG)
    await engine.place_order(TG, [CartLine("eclair")], "center")
    with refused(ErrorCode.CONSENT_VERSION_STALE):
        await engine.give_consent(TG, "v1")
    assert await engine.consent(TG) is None


async def test_an_order_waits_for_consent_to_the_current_version(engine, clock):
    engine.consent_version = "v1"
    assert await engine.needs_consent(TG)
    with refused(ErrorCode.CONSENT_REQUIRED) as info:
        await engine.place_order(TG, [CartLine("eclair")], "center")
    assert info.value.code.http_status == 403 and info.value.code.value == "consent_required"
    assert "согласие" in info.value.message("ru") and "consent" in info.value.message("en")
    assert await customer_id(engine, TG) is None  # refused before anything was written
    assert await stock_of(engine, "croissant") == 10

    given = await engine.give_consent(TG, "v1")
    assert (given.version, given.given_at, given.channel) == ("v1", clock.now(), "telegram")
    assert await engine.consent(TG) == given
    assert not await engine.needs_consent(TG)
    await engine.place_order(TG, [CartLine("croissant")], "center")
    assert await stock_of(engine, "croissant") == 9


async def test_a_new_policy_asks_again_and_the_old_version_is_refused(engine, clock):
    await _consented(engine, TG)
    engine.consent_version = "v2"
    assert await engine.needs_consent(TG)
    with refused(ErrorCode.CONSENT_REQUIRED):
        await engine.place_order(TG, [CartLine("eclair")], "center")
    with refused(ErrorCode.CONSENT_VERSION_STALE):
        await engine.give_consent(TG, "v1")
    with refused(ErrorCode.CONSENT_VERSION_STALE):
        await engine.give_consent(TG, "")
    assert (await engine.consent(TG)).version == "v1"
    clock.advance(minutes=1)
    await engine.give_consent(TG, "v2")
    assert (await engine.consent(TG)).version == "v2"
    await engine.place_order(TG, [CartLine("eclair")], "center")


@pytest.mark.parametrize("consents_first", ["target", "source"])
async def test_consent_belongs_to_the_person_whichever_linked_account_gave_it(engine, consents_first):
    engine.consent_version = "v1"
    await engine.identify(TG)
    await engine.identify(VK)
    await engine.give_consent(TG if consents_first == "target" else VK, "v1")
    assert await engine.needs_consent(VK if consents_first == "target" else TG)
    link = await engine.issue_link_code(TG)  # VK's customer is merged into TG's
    await engine.redeem_link_code(VK, link.code)
    assert not await engine.needs_consent(TG) and not await engine.needs_consent(VK)
    await engine.place_order(VK, [CartLine("eclair")], "center")


async def test_group_orders_need_consent_to_open_and_to_join_but_not_to_close(engine):
    engine.consent_version = "v1"
    with refused(ErrorCode.CONSENT_REQUIRED):
        await engine.open_group(TG, [CartLine("eclair")], "center", payer="each")
    await engine.give_consent(TG, "v1")
    group = await engine.open_group(TG, [CartLine("eclair")], "center", payer="each")
    with refused(ErrorCode.CONSENT_REQUIRED):
        await engine.join_group(OTHER, group.group.code, [CartLine("croissant")])
    await engine.give_consent(OTHER, "v1")
    await engine.join_group(OTHER, group.group.code, [CartLine("croissant")])
    engine.consent_version = "v2"  # a new policy meanwhile: the orders they asked for are still placed
    await engine.close_group(TG, group.group.code)
    assert len(await engine.orders_of(TG)) == 1 and len(await engine.orders_of(OTHER)) == 1


# --- export --------------------------------------------------------------------------------------------------

async def test_the_export_holds_everything_kept_about_the_person_as_plain_json(engine, clock):
    await _consented(engine, TG, VK, OTHER)
    await engine.record_visit(parse_start("p_center"), Channel.TELEGRAM, TG)
    order = await _picked_up(engine, TG)
    await engine.add_review(TG, order.id, "eclair", 5, "Очень вкусно")
    await engine.set_birthday(TG, 14, 3)
    await give_points(engine, VK, 700)
    link = await engine.issue_link_code(TG)
    await engine.redeem_link_code(VK, link.code)
    open_order = await engine.place_order(VK, [CartLine("croissant", 2)], "center")
    await engine.place_order(OTHER, [CartLine("eclair")], "center")  # someone else's: not in it

    data = await engine.export_data(VK)
    assert json.loads(json.dumps(data)) == data  # str, int, bool, None, lists and dicts only
    _only_plain(data)
    person = await customer_id(engine, TG)
    assert data["customer"]["id"] == person and data["customer"]["name"] == "Анна Петрова"
    assert len(data["merged_customers"]) == 1  # VK's own customer before the link
    assert {(a["channel"], a["external_id"]) for a in data["accounts"]} == {("telegram", "311"), ("vk", "411")}
    assert [(c["version"], c["channel"]) for c in data["consents"]] == [("v1", "telegram"), ("v1", "vk")]
    assert all(c["given_at"].startswith(clock.now().date().isoformat()) for c in data["consents"])
    orders = {o["id"]: o for o in data["orders"]}
    assert set(orders) == {order.id, open_order.order.id}
    sold = orders[order.id]
    assert sold["status"] == "picked_up" and sold["currency"] == "RUB" and isinstance(sold["total"], int)
    assert [(line["item"], line["qty"], line["price"]) for line in sold["lines"]] == [("eclair", 1, 16990)]
    assert [p["amount"] for p in sold["payments"]] == [sold["total"]]
    assert [h["status"] for h in sold["history"]][-1] == "picked_up"
    assert data["points"]["balance"] == await balance(engine, TG)
    assert sum(e["delta"] for e in data["points"]["ledger"]) == data["points"]["balance"]
    tables = data["data"]
    assert [r["text"] for r in tables["reviews"]] == ["Очень вкусно"]
    assert [(b["month"], b["day"]) for b in tables["birthdays"]] == [(3, 14)]
    assert len(tables["visits"]) == 1 and tables["link_codes"][0]["code"] == link.code
    shown = json.dumps(data)
    assert OTHER.external_id not in shown and f"telegram:{BARISTA.external_id}" not in shown  # nobody else's
    assert {e["type"] for e in tables["outbox"]} >= {"customer.created", "order.placed", "privacy.consent"}
    for entry in PERSONAL_DATA:  # every table that may hold the person's data is in the export, if empty
        assert entry.table in tables or entry.table in ("customers", "accounts", "consents", "orders", "payments",
                                                        "order_history", "ledger")


def _only_plain(value):
    assert value is None or isinstance(value, (str, int, bool, list, dict)), value
    if isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, str)
            _only_plain(v)
    elif isinstance(value, list):
        for v in value:
            _only_plain(v)


async def test_an_unknown_account_exports_nothing_and_is_not_created(engine):
    data = await engine.export_data(TG)
    assert data["customer"] is None and data["orders"] == [] and data["accounts"] == [] and data["data"] == {}
    assert await customer_id(engine, TG) is None


# --- forget --------------------------------------------------------------------------------------------------

async def test_forgetting_deletes_every_linked_account_and_keeps_the_accounts_anonymous(engine):
    await _consented(engine, TG, VK)
    order = await _picked_up(engine, TG)
    await engine.add_review(TG, order.id, "eclair", 4, "Крем отличный, Анна")
    await engine.set_birthday(TG, 14, 3)
    await give_points(engine, VK, 700)
    await engine.claim_update(Channel.TELEGRAM, "m311:42")
    link = await engine.issue_link_code(TG)
    await engine.redeem_link_code(VK, link.code)
    person = await customer_id(engine, TG)
    ledger_before = await _raw(engine, "SELECT customer_id, delta, reason, order_id, at FROM ledger"
                                       " ORDER BY id")
    ratings_before = await engine.ratings()

    await engine.forget(VK)

    assert await customer_id(engine, TG) is None and await customer_id(engine, VK) is None
    assert await _raw(engine, "SELECT * FROM accounts WHERE customer_id = $1", person) == []
    # accounting: the ledger rows are the same rows, the order and its payment stay with their amounts
    assert await _raw(engine, "SELECT customer_id, delta, reason, order_id, at FROM ledger ORDER BY id") \
        == ledger_before
    kept = await _raw(engine, "SELECT customer_id, status, total, lines, account FROM orders WHERE id = $1", order.id)
    assert kept[0][:3] == (person, "picked_up", order.total.amount) and "eclair" in kept[0][3] and kept[0][4] == ""
    assert await engine.ratings() == ratings_before  # the rating counts, its words and author are gone
    assert await _raw(engine, "SELECT text, author FROM reviews WHERE order_id = $1", order.id) == [("", "")]
    tomb = await _raw(engine, "SELECT name, source, consent, referral_code, forgotten_at FROM customers"
                              " WHERE id = $1", person)
    assert tomb[0][:3] == ("", "", 0) and tomb[0][3].startswith("forgotten-") and tomb[0][4]
    for table in ("birthdays", "consents", "link_codes", "usual_lines", "customer_spend"):
        assert await _raw(engine, f"SELECT * FROM {table} WHERE customer_id = $1", person) == [], table
    assert await _raw(engine, "SELECT * FROM processed_updates WHERE update_id = $1", "m311:42") == []
    events = await _raw(engine, "SELECT data FROM outbox ORDER BY id")
    assert not [e for e in events if "telegram:311" in e[0] or "vk:411" in e[0] or "Анна" in e[0]]
    assert any(t == "privacy.forgotten" for (t,) in await _raw(engine, "SELECT type FROM outbox"))

    # the same account writing again is a new customer with nothing, who is asked for consent again
    assert await engine.needs_consent(TG)
    with refused(ErrorCode.CONSENT_REQUIRED):
        await engine.place_order(TG, [CartLine("eclair")], "center")
    again = await engine.profile(TG)
    assert again.customer.id != person and again.points == 0 and len(again.accounts) == 1
    assert await engine.orders_of(TG) == [] and await engine.consent(TG) is None
    assert (await engine.export_data(TG))["orders"] == []


async def test_forgetting_twice_or_an_unknown_account_does_nothing(engine):
    await engine.forget(TG)  # unknown: nothing to do, nothing created
    assert await customer_id(engine, TG) is None
    await engine.place_order(TG, [CartLine("eclair")], "center")
    await engine.forget(TG)
    count = await _raw(engine, "SELECT COUNT(*) FROM customers")
    await engine.forget(TG)
    assert await _raw(engine, "SELECT COUNT(*) FROM customers") == count
    assert await customer_id(engine, TG) is None


async def test_open_orders_are_cancelled_through_the_state_machine_before_forgetting(engine):
    await give_points(engine, TG, 5000)
    placed = await engine.place_order(TG, [CartLine("croissant", 2)], "center", points=1000)
    accepted = await engine.place_order(TG, [CartLine("croissant")], "center")
    await engine.accept(BARISTA, accepted.order.id)
    ready = await engine.place_order(TG, [CartLine("croissant")], "center")
    await fulfil(engine, ready.order.id)
    assert await stock_of(engine, "croissant") == 6
    person = await customer_id(engine, TG)

    await engine.forget(TG)

    statuses = dict(await _raw(engine, "SELECT id, status FROM orders WHERE customer_id = $1", person))
    assert statuses == {placed.order.id: "cancelled", accepted.order.id: "cancelled", ready.order.id: "expired"}
    assert await stock_of(engine, "croissant") == 9  # back, but for the one made already
    points = await _raw(engine, "SELECT SUM(delta) FROM ledger WHERE customer_id = $1", person)
    assert points == [(5000,)]  # the points spent came back to the (anonymous) ledger
    assert await engine.staff_board(BARISTA) == []


@pytest.mark.parametrize("order_first", [True, False])
async def test_an_order_and_a_forget_at_the_same_moment_leave_no_open_order_behind(engine, order_first):
    """A person orders and asks to be forgotten at once (two devices, two instances): the order is placed
    and then cancelled by the forget, or refused; never left open on the anonymous row, nor placed for a new
    customer who never consented."""
    await _consented(engine)
    before = await stock_of(engine, "croissant")
    for n in range(8):
        ref = CustomerRef(Channel.TELEGRAM, f"77{n}", "Гость")
        await engine.give_consent(ref, "v1")

        async def order(ref=ref):
            with contextlib.suppress(DomainError):  # refused: forgotten first
                await engine.place_order(ref, [CartLine("croissant")], "center")

        steps = [order(), engine.forget(ref)]
        await asyncio.gather(*(steps if order_first else steps[::-1]))
    assert await _raw(engine, "SELECT id FROM orders WHERE status IN ('placed', 'accepted', 'ready')") == []
    assert await stock_of(engine, "croissant") == before


async def test_a_staff_member_who_is_forgotten_is_no_longer_staff(engine):
    placed = await engine.place_order(OTHER, [CartLine("eclair")], "center")
    assert await _raw(engine, "SELECT point_id FROM staff WHERE external_id = $1", BARISTA.external_id) \
        == [("center",)]
    await engine.profile(BARISTA)
    await engine.forget(BARISTA)
    with refused(ErrorCode.NOT_STAFF):
        await engine.accept(BARISTA, placed.order.id)
    assert await _raw(engine, "SELECT * FROM staff WHERE external_id = $1", BARISTA.external_id) == []
    await engine.accept(OWNER, placed.order.id)  # the shop goes on


# --- retention -----------------------------------------------------------------------------------------------

async def test_customers_inactive_for_the_period_are_anonymized_and_the_active_are_not(engine, clock):
    await _picked_up(engine, TG)
    await engine.identify(OTHER)
    await engine.profile(BARISTA)
    clock.advance(days=200)
    await engine.profile(OTHER)  # seen: writing to the bot counts
    clock.advance(days=200)
    assert await engine.anonymize_inactive(timedelta(days=365)) == 1
    assert await customer_id(engine, TG) is None
    assert await customer_id(engine, OTHER) is not None  # seen 200 days ago
    assert await customer_id(engine, BARISTA) is not None  # staff are not anonymized
    assert await customer_id(engine, OWNER) is not None or not await _raw(engine, "SELECT 1 FROM accounts"
                                                                                 " WHERE external_id = '1'")
    assert await engine.anonymize_inactive(timedelta(days=365)) == 0  # once
    with refused(ErrorCode.BAD_INPUT):
        await engine.anonymize_inactive(timedelta(0))


async def test_an_order_or_points_keep_a_customer_active(engine, clock):
    order = await engine.place_order(TG, [CartLine("eclair")], "center")
    clock.advance(days=100)
    await fulfil(engine, order.order.id)
    await engine.hand_over(BARISTA, order_id=order.order.id)  # the pickup moves the order and the points
    clock.advance(days=300)
    assert await engine.anonymize_inactive(timedelta(days=365)) == 0
    clock.advance(days=66)
    assert await engine.anonymize_inactive(timedelta(days=365)) == 1


# --- the schema: every table naming a person is decided --------------------------------------------------------

PERSONAL_COLUMN = ("customer", "account", "external", "invitee", "referrer", "giver", "friend", "organiser",
                   "actor", "author", "merged_into", "referred_by")


async def test_every_table_naming_a_customer_or_an_account_is_exported_and_forgotten(tmp_path):
    """Reads the SQLite schema every migration makes: a table with a column naming a customer or an account
    must be in ``PERSONAL_DATA`` (exported, and deleted, scrubbed or kept on purpose when forgetting) or
    explained in ``NOT_PERSONAL``; every entry must name columns the table has."""
    from storage.sqlite import SqliteDatabase

    db = SqliteDatabase(tmp_path / "schema.db")
    await db.connect()
    try:
        conn = sqlite3.connect(tmp_path / "schema.db")
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                             " AND name NOT LIKE 'sqlite_%'")]
        columns = {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
        conn.close()
    finally:
        await db.close()
    covered = {e.table for e in PERSONAL_DATA}
    naming = {t for t, cols in columns.items() if any(any(w in c for w in PERSONAL_COLUMN) for c in cols)}
    assert naming, "the schema was not read"
    assert naming - covered - set(NOT_PERSONAL) == set()
    for entry in PERSONAL_DATA:
        assert entry.table in columns, entry.table
        keys = entry.columns if entry.keyed is not Keyed.EVENT else ("data",)
        assert set(keys) <= set(columns[entry.table]), entry
        assert set(entry.scrub) <= set(columns[entry.table]), entry
    assert set(NOT_PERSONAL) <= set(columns)


async def test_the_periodic_job_anonymizes_the_inactive_and_says_how_many(engine, clock, caplog):
    import asyncio
    import logging

    from bot.runner import retain

    await engine.identify(TG)
    clock.advance(days=31)
    stop = asyncio.Event()
    with caplog.at_level(logging.INFO, logger="vitrina"):
        job = asyncio.create_task(retain(engine, 30, stop))
        while await customer_id(engine, TG) is not None and not job.done():
            await asyncio.sleep(0.01)
        stop.set()
        await job
    assert await customer_id(engine, TG) is None
    assert "anonymized 1 customers inactive for 30 days" in caplog.text


async def test_a_payment_held_for_an_open_order_is_released_and_a_gift_asks_for_consent(db, clock, engine):
    from test_gifts import Gateway

    gateway = Gateway()
    shop = Engine(db.uow, secret=engine.secret, owners=engine.owners, clock=clock, reader=db.reading,
                  providers={"fakepay": gateway}, consent_version="v1")  # type: ignore[dict-item]
    with refused(ErrorCode.CONSENT_REQUIRED):
        await shop.buy_gift(TG, item_id="latte", provider="fakepay")
    await shop.give_consent(TG, "v1")
    view = await shop.place_order(TG, [CartLine("eclair")], "center", provider="fakepay")
    gateway.pay(f"fake-{view.payment.id}")
    await shop.reconcile()
    async with shop.read() as uow:
        assert (await uow.payments.for_order(view.order.id)).status is PaymentStatus.AUTHORIZED

    await shop.forget(TG)

    assert gateway.count("void") == 1  # the hold is let go: the money was never taken
    async with shop.read() as uow:
        assert (await uow.orders.get(view.order.id)).status is OrderStatus.CANCELLED
        assert (await uow.payments.for_order(view.order.id)).status is PaymentStatus.VOIDED


async def test_a_group_left_closed_by_a_crash_is_ordered_before_its_member_is_forgotten(engine):
    from journey.group_model import GroupStatus

    group = await engine.open_group(OTHER, [CartLine("eclair")], "center", payer="each")
    await engine.join_group(TG, group.group.code, [CartLine("croissant")])
    async with engine.uow() as uow:  # closed, and the process died before placing its orders
        stored = await uow.groups.get(group.group.id)
        stored.status = GroupStatus.CLOSED
        await uow.groups.update(stored)

    await engine.forget(TG)

    async with engine.read() as uow:
        assert (await uow.groups.get(group.group.id)).status is GroupStatus.ORDERED
    assert len(await engine.orders_of(OTHER)) == 1  # the organiser's order is placed as it would have been
    assert await _raw(engine, "SELECT COUNT(*) FROM accounts WHERE external_id = ''") == [(0,)]
    statuses = await _raw(engine, "SELECT status FROM orders WHERE account = ''")
    assert statuses == [("cancelled",)]  # the forgotten member's own order was placed, then cancelled
