"""bench/year.py fills a small database consistently on both backends, so the year the benchmarks measure on
cannot drift from what the engine writes: the rows it reports are there, every order's history, payment and
points agree with its status, reviews are of verified purchases, the kept aggregates equal what they count,
the outbox is handled, and the engine reads and extends the result like its own."""
from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import bench_year
import pytest
from shop_fixtures import BARISTA, NOON, FakeClock, customer, seed

from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from journey.limits import ShopLimits
from journey.model import CartLine
from journey.states import OrderStatus

year = bench_year.load()

ORDERS, CUSTOMERS, OPEN = 200, 50, 9
Rows = Callable[[str], Any]


@asynccontextmanager
async def shop(backend: str, tmp_path: Path) -> AsyncIterator[tuple[Engine, str, str | None, Rows]]:
    """A migrated, seeded shop: its engine, the URL and schema to fill, and a way to read rows."""
    if backend == "sqlite":
        from storage.sqlite import SqliteDatabase

        path = tmp_path / "shop.db"
        db: Any = await SqliteDatabase(path).connect()
        conn = sqlite3.connect(path)

        async def rows(sql: str) -> list[tuple]:
            return conn.execute(sql).fetchall()

        try:
            yield Engine(db.uow, clock=FakeClock(), reader=db.reading, limits=ShopLimits.off()), str(path), None, rows
        finally:
            conn.close()
            await db.close()
        return
    import asyncpg
    from pg_support import fresh_schema

    async with fresh_schema() as pg:
        pgdb: Any = pg
        c = await asyncpg.connect(pgdb.url, server_settings={"search_path": pgdb.schema})

        async def pgrows(sql: str) -> list[tuple]:
            return [tuple(r) for r in await c.fetch(sql)]

        try:
            yield (Engine(pgdb.uow, clock=FakeClock(), reader=pgdb.reading, limits=ShopLimits.off()), pgdb.url,
                   pgdb.schema, pgrows)
        finally:
            await c.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_small_year_is_consistent_and_the_engine_carries_on(backend: str, tmp_path: Path) -> None:
    async with shop(backend, tmp_path) as (engine, url, schema, rows):
        await engine.start()
        await seed(engine)
        tables = [*year.COLUMNS, *year.AGGREGATES, "regulars"]
        before = {t: (await rows(f"SELECT COUNT(*) FROM {t}"))[0][0] for t in tables}
        first_event = (await rows("SELECT COALESCE(MAX(id), 0) + 1 FROM outbox"))[0][0]
        counts = await year.fill(url, orders=ORDERS, customers=CUSTOMERS, open_orders=OPEN, until=NOON,
                                 outbox_days=0, schema=schema)

        # the rows reported are the rows written
        for table, n in counts.items():
            assert (await rows(f"SELECT COUNT(*) FROM {table}"))[0][0] - before[table] == n, table
        assert counts["orders"] == ORDERS + OPEN and counts["customers"] == CUSTOMERS
        assert counts["reviews"] > 0 and counts["visits"] > 0 and counts["ledger"] > 0

        # every order: its history ends in its status, its payment and its money agree with it
        orders = {r[0]: r for r in await rows(
            "SELECT id, customer_id, point_id, status, lines, subtotal, points_spent, total, short_code, created_at"
            " FROM orders")}
        statuses = Counter(r[3] for r in orders.values())
        assert set(statuses) == {"placed", "accepted", "ready", "picked_up", "cancelled", "expired"}
        assert statuses["placed"] + statuses["accepted"] + statuses["ready"] == OPEN
        history: dict[str, list[str]] = defaultdict(list)
        for oid, status, _ in await rows("SELECT order_id, status, at FROM order_history ORDER BY order_id, at"):
            history[oid].append(status)
        payments = {r[0]: r[1:] for r in await rows("SELECT order_id, status, amount, provider FROM payments")}
        paid = {"picked_up": "captured", "cancelled": "voided", "expired": "voided"}
        picked_up_lines = 0
        for oid, (_, _, _, status, lines, subtotal, spent, total, _, _) in orders.items():
            assert history[oid][0] == "placed" and history[oid][-1] == status
            assert payments[oid] == (paid.get(status, "pending"), total, "counter")
            assert subtotal == sum(line["price"] * line["qty"] for line in json.loads(lines))
            assert total == subtotal - spent >= 0
            if status == "picked_up":
                picked_up_lines += len(json.loads(lines))
        open_codes = [(r[2], r[8]) for r in orders.values() if r[3] in ("placed", "accepted", "ready")]
        assert len(set(open_codes)) == OPEN  # unique per point, as the staff's lookup by code needs

        # points: one earn per pickup at 5 %, spends given back when the order did not go, no balance below zero
        ledger = await rows("SELECT customer_id, delta, reason, order_id FROM ledger ORDER BY id")
        earned = {oid: delta for _, delta, reason, oid in ledger if reason == "earn"}
        assert earned == {oid: r[7] * 5 // 100 for oid, r in orders.items() if r[3] == "picked_up" and r[7] >= 20}
        spends = {oid: -delta for _, delta, reason, oid in ledger if reason == "spend"}
        assert spends == {oid: r[6] for oid, r in orders.items() if r[6]}
        refunds = {oid: delta for _, delta, reason, oid in ledger if reason == "refund"}
        assert refunds == {oid: r[6] for oid, r in orders.items() if r[6] and r[3] in ("cancelled", "expired")}
        running: Counter[str] = Counter()
        for cid, delta, _, _ in ledger:
            running[cid] += delta
            assert running[cid] >= 0

        # reviews only of what the reviewer picked up
        for oid, item_id, cid, rating in await rows("SELECT order_id, item_id, customer_id, rating FROM reviews"):
            assert orders[oid][3] == "picked_up" and orders[oid][1] == cid and 1 <= rating <= 5
            assert item_id in {line["item"] for line in json.loads(orders[oid][4])}

        # the aggregates a hand-over keeps equal what they count
        spend_total = (await rows("SELECT SUM(amount) FROM customer_spend"))[0][0]
        assert spend_total == sum(r[7] for r in orders.values() if r[3] == "picked_up")
        assert (await rows("SELECT SUM(times) FROM usual_lines"))[0][0] == picked_up_lines

        # every event handled by the notifications, the cursor past the last one
        unhandled = await rows("SELECT COUNT(*) FROM outbox o LEFT JOIN outbox_handled h ON h.event_id = o.id"
                               f" AND h.subscriber = 'notify' WHERE h.event_id IS NULL AND o.id >= {first_event}")
        assert unhandled == [(0,)]
        last = (await rows("SELECT MAX(id) FROM outbox"))[0][0]
        assert await rows("SELECT subscriber, event_id FROM outbox_cursors") == [("notify", last)]

        # the engine reads the year as its own: balances, ratings
        cid, channel, external = (await rows(
            "SELECT a.customer_id, a.channel, a.external_id FROM accounts a JOIN ledger l ON l.customer_id ="
            " a.customer_id GROUP BY a.customer_id, a.channel, a.external_id ORDER BY SUM(l.delta) DESC LIMIT 1"))[0]
        regular = CustomerRef(Channel(channel), external, "Гость")
        assert await engine.balance(regular) == running[cid] > 0
        expected = {item: (round(sum(r) / len(r), 2), len(r)) for item, r in _group(await rows(
            "SELECT item_id, rating FROM reviews")).items()}
        assert await engine.ratings() == expected

        # and carries on: a new customer's journey, a regular spending points (ids and identities moved on)
        view = await engine.place_order(customer(1), (CartLine("latte", 1, {"size": ("m",)}),), "center")
        await engine.accept(BARISTA, view.order.id)
        await engine.mark_ready(BARISTA, view.order.id)
        order = await engine.hand_over(BARISTA, short_code=view.order.short_code, point_id="center")
        assert order.status is OrderStatus.PICKED_UP
        spent = await engine.place_order(regular, (CartLine("espresso", 1, {}),), "center", points=3000)
        assert spent.order.points_spent == 3000 and await engine.balance(regular) == running[cid] - 3000
        assert (await rows("SELECT MAX(id) FROM outbox"))[0][0] > last


def _group(pairs: list[tuple]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for key, value in pairs:
        out[key].append(value)
    return out


async def test_a_database_without_a_menu_is_refused(tmp_path: Path) -> None:
    from storage.sqlite import SqliteDatabase

    db = await SqliteDatabase(tmp_path / "empty.db").connect()
    await db.close()
    with pytest.raises(ValueError, match="no items"):
        await year.fill(str(tmp_path / "empty.db"), orders=10, customers=5)
    conn = sqlite3.connect(tmp_path / "empty.db")
    assert conn.execute("SELECT COUNT(*) FROM customers").fetchone() == (0,)
    conn.close()
