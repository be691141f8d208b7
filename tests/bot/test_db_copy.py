"""``vitrina db copy``: a shop with a season of real data moves from its SQLite file to PostgreSQL, as a process.

The shop is made the way it grows: journeys through the engine on SQLite (orders in every state, online
payments, points earned and spent, a referral, a gift bought, taken and ordered with, a group order, a photo,
a broadcast, reviews, shares, the outbox). The copy runs while another connection holds a write open on the
file, as a running shop does; then the ``vitrina`` commands on the PostgreSQL URL see the same shop, an order
copied open is handed over there, and a new order gets fresh ids. What must be refused is refused in one line,
with nothing copied.
"""
from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from cli import vitrina
from pg_support import fresh_database
from PIL import Image
from shop_fixtures import BARISTA, OWNER, FakeClock, customer, seed

from bot.db_copy import BACKEND_ONLY
from journey.channels import Channel
from journey.deeplinks import parse_start
from journey.engine import Engine
from journey.model import CartLine, PaymentIntent, Promo, PromoKind
from journey.money import Money
from journey.ports import Checkout, PaymentResult
from journey.states import OrderStatus, PaymentStatus
from storage.sqlite import SqliteDatabase

LATTE = CartLine("latte", 1, {"size": ("m",), "milk": ("oat",)})
ESPRESSO = CartLine("espresso", 2)
CROISSANT = CartLine("croissant", 1)
ANNA, BORIS, VERA, OLGA = customer("anna"), customer("boris", Channel.VK), customer("vera"), customer("olga")
# read-only commands whose answers must be the same on the copy as on the file
SAME_ANSWERS = (("staff", "list"), ("stats", "--days", "365"), ("shop", "show"), ("promo", "list"), ("point", "list"),
                ("broadcast", "status"), ("outbox", "failed"))


class Gateway:
    """A two-stage gateway that holds what the customer paid, as YooKassa does."""

    name = "fakepay"
    online = True
    two_stage = True
    link = "confirmation_url"
    needs_email = False

    def __init__(self) -> None:
        self.state: dict[str, PaymentStatus] = {}

    def pay(self, ref: str) -> None:
        self.state[ref] = PaymentStatus.AUTHORIZED

    def _result(self, intent: PaymentIntent) -> PaymentResult:
        ref = f"fake-{intent.id}"
        return PaymentResult(self.state.get(ref, PaymentStatus.PENDING), ref, confirmation_url="https://pay.example/"
                             + ref)

    async def start(self, intent: PaymentIntent, checkout: Checkout) -> PaymentResult:
        self.state.setdefault(f"fake-{intent.id}", PaymentStatus.PENDING)
        return self._result(intent)

    async def status(self, intent: PaymentIntent) -> PaymentResult:
        return self._result(intent)

    async def capture(self, intent: PaymentIntent) -> PaymentResult:
        if self.state.get(f"fake-{intent.id}") is PaymentStatus.AUTHORIZED:
            self.state[f"fake-{intent.id}"] = PaymentStatus.CAPTURED
        return self._result(intent)

    async def void(self, intent: PaymentIntent) -> PaymentResult:
        self.state[f"fake-{intent.id}"] = PaymentStatus.VOIDED
        return self._result(intent)

    async def refund(self, intent: PaymentIntent, amount: Money) -> PaymentResult:
        self.state[f"fake-{intent.id}"] = PaymentStatus.REFUNDED
        return self._result(intent)


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (180, 120, 60)).save(out, "JPEG")
    return out.getvalue()


async def paid(engine: Engine, gateway: Gateway, order_or_gift_id: str) -> None:
    async with engine.read() as uow:
        intent = await uow.payments.for_order(order_or_gift_id)
    assert intent is not None
    gateway.pay(intent.provider_ref)
    await engine.payment_notice("fakepay", intent.provider_ref)


def shop_engine(db, gateway: Gateway, clock: FakeClock | None = None) -> Engine:
    from adapters.images import PillowPhotos

    return Engine(db.uow, owners=[OWNER], clock=clock or FakeClock(), reader=db.reading, photos=PillowPhotos(),
                  providers={"fakepay": gateway})  # type: ignore[dict-item]


async def make_shop(path: Path) -> dict[str, str]:
    """A shop with something in every corner; returns the ids of the orders the test goes on with."""
    gateway, clock = Gateway(), FakeClock()
    async with SqliteDatabase(path) as db:
        engine = shop_engine(db, gateway, clock)
        await engine.start()
        await seed(engine)
        async with engine.uow() as uow:
            await uow.promos.save(Promo("WELCOME", PromoKind.PERCENT, 10))
        await engine.set_photo(OWNER, "latte", photo())

        # an order nobody accepted expires; one is cancelled by its customer
        expired = (await engine.place_order(VERA, [ESPRESSO], "center")).order.id
        clock.advance(hours=2)
        assert expired in await engine.expire_due()
        cancelled = (await engine.place_order(VERA, [CROISSANT], "park")).order.id
        await engine.cancel(VERA, cancelled)

        # picked up: at the counter, and paid online (held, captured at the hand-over); points earned, a review
        for who, provider in ((ANNA, "counter"), (BORIS, "fakepay"), (ANNA, "fakepay")):
            view = await engine.place_order(who, [LATTE, CROISSANT], "center", provider=provider,
                                            promo_code="WELCOME" if who is BORIS else None)
            if provider == "fakepay":
                await paid(engine, gateway, view.order.id)
            await engine.accept(BARISTA, view.order.id)
            await engine.mark_ready(BARISTA, view.order.id)
            await engine.hand_over(BARISTA, order_id=view.order.id)
            await engine.add_review(who, view.order.id, "latte", 5, "отлично")
        await engine.record_share(ANNA, "link")
        await engine.set_birthday(ANNA, 12, 3)

        # a referral: Olga comes by Anna's link and is rewarded on her first pickup, spending points later
        code = (await engine.profile(ANNA)).customer.referral_code
        await engine.identify(OLGA, parse_start(f"r{code}"))
        first = (await engine.place_order(OLGA, [ESPRESSO], "park")).order.id
        for step in (engine.accept, engine.mark_ready):
            await step(OWNER, first)
        await engine.hand_over(OWNER, order_id=first)

        # a gift: Anna buys a latte for Boris, who takes it and orders with it
        gift = await engine.buy_gift(ANNA, item_id="latte", provider="fakepay", message="с днём рождения")
        await paid(engine, gateway, gift.gift.id)
        await engine.claim_gift(BORIS, gift.gift.code)
        await engine.order_gift(BORIS, gift.gift.code, "center")

        # a group order, closed: one order per member
        group = await engine.open_group(ANNA, [LATTE], "center", payer="each")
        await engine.join_group(VERA, group.group.code, [ESPRESSO])
        await engine.close_group(ANNA, group.group.code)

        # a broadcast to the customers, started
        preview = await engine.draft_broadcast(OWNER, "Новое меню!", ["telegram", "vk"])
        await engine.confirm_broadcast(OWNER, preview.broadcast.id)

        # open orders left for the copy: placed, accepted, ready (handed over on PostgreSQL)
        placed = (await engine.place_order(OLGA, [ESPRESSO], "park")).order.id
        accepted = (await engine.place_order(VERA, [LATTE], "park")).order.id
        await engine.accept(OWNER, accepted)
        ready = (await engine.place_order(ANNA, [ESPRESSO, CROISSANT], "center")).order.id
        await engine.accept(BARISTA, ready)
        await engine.mark_ready(BARISTA, ready)
    return {"ready": ready, "placed": placed, "accepted": accepted}


def counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite%'")]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        conn.close()


async def pg_counts(url: str) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        names = [r[0] for r in await conn.fetch("SELECT table_name FROM information_schema.tables"
                                                " WHERE table_schema = current_schema()")]
        return {n: await conn.fetchval(f'SELECT count(*) FROM "{n}"') for n in names}
    finally:
        await conn.close()


async def pg_meta(url: str) -> dict[str, str]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return dict(await conn.fetch("SELECT key, value FROM meta"))  # type: ignore[arg-type]
    finally:
        await conn.close()


def printed_counts(stdout: str) -> dict[str, tuple[int, int]]:
    rows = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            rows[parts[0]] = (int(parts[1]), int(parts[2]))
    return rows


async def test_a_running_shop_moves_to_postgresql_and_goes_on_there(tmp_path):
    shop = tmp_path / "shop.db"
    ids = await make_shop(shop)
    before = counts(shop)
    for table in ("orders", "payments", "ledger", "referrals", "gifts", "group_orders", "group_members", "media",
                  "broadcasts", "broadcast_recipients", "outbox", "reviews", "shares", "audit_log", "promo_uses",
                  "customer_spend", "usual_lines", "birthdays", "accounts", "order_history"):
        assert before[table] > 0, f"the shop has no {table}: the test would prove nothing about them"
    assert {r[0] for r in sqlite3.connect(shop).execute("SELECT status FROM orders")} == {s.value for s in OrderStatus}

    sqlite_url = f"sqlite:///{shop}"
    async with fresh_database() as pg_url:
        # the shop is running: another connection is in the middle of writing an order's event
        writer = sqlite3.connect(shop, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO outbox (type, data, created_at) VALUES ('order.placed', '{}', '2026-11-18')")
        # the owner tried the new database first: that made it a secret of its own, which gives way to the shop's
        vitrina(tmp_path, "db", "migrate", VITRINA_DATABASE_URL=pg_url)
        copied = vitrina(tmp_path, "db", "copy", sqlite_url, pg_url)
        writer.execute("COMMIT")
        writer.close()

        # every table listed with the same count on both sides: the snapshot's, without the unfinished write
        listed = printed_counts(copied.stdout)
        shared = set(before) - set(BACKEND_ONLY)  # SQLite's own (its job leases, its menu version counter)
        assert set(listed) == shared
        assert all(listed[t] == (before[t], before[t]) for t in shared), copied.stdout
        assert "the counts agree on both sides" in copied.stdout
        after = await pg_counts(pg_url)
        assert {t: after[t] for t in shared} == {t: before[t] for t in shared}
        assert await pg_meta(pg_url) == dict(sqlite3.connect(shop).execute("SELECT key, value FROM meta").fetchall())

        # the commands see the same shop on PostgreSQL as on the file
        owners = {"VITRINA_OWNERS": "telegram:1"}
        for command in SAME_ANSWERS:
            on_file = vitrina(tmp_path, *command, VITRINA_DATABASE_URL=sqlite_url, **owners)
            on_copy = vitrina(tmp_path, *command, VITRINA_DATABASE_URL=pg_url, **owners)
            assert on_copy.stdout == on_file.stdout, command
        for where, url in (("file", sqlite_url), ("copy", pg_url)):
            vitrina(tmp_path, "stats", "--csv", str(tmp_path / where), VITRINA_DATABASE_URL=url, **owners)
        for name in ("orders.csv", "customers.csv"):
            assert (tmp_path / "copy" / name).read_bytes() == (tmp_path / "file" / name).read_bytes(), name

        # and it goes on there: the ready order is handed over, a new order takes fresh ids everywhere
        await goes_on(pg_url, ids, before, shop)

        # a second copy into the same database is refused, and nothing changes
        now = await pg_counts(pg_url)
        again = vitrina(tmp_path, "db", "copy", sqlite_url, pg_url, check=False)
        assert again.returncode == 1 and again.stdout == ""
        assert again.stderr.startswith("vitrina: db copy: the PostgreSQL database already holds a shop (")
        assert len(again.stderr.splitlines()) == 1
        assert await pg_counts(pg_url) == now


async def goes_on(url: str, ids: dict[str, str], before: dict[str, int], shop: Path) -> None:
    import asyncpg

    from storage.postgres import PostgresDatabase

    conn = await asyncpg.connect(url)
    top = {t: await conn.fetchval(f"SELECT max(id) FROM {t}") for t in ("ledger", "outbox", "audit_log")}
    await conn.close()
    async with PostgresDatabase(url) as db:
        engine = shop_engine(db, Gateway())
        await engine.start()
        order = await engine.hand_over(BARISTA, order_id=ids["ready"])
        assert order.status is OrderStatus.PICKED_UP
        view = await engine.place_order(ANNA, [ESPRESSO], "center")
        await engine.accept(BARISTA, view.order.id)
        assert view.order.id not in ids.values()
        await engine.change_price(OWNER, "espresso", "160")  # the owner's edits are audited, with fresh ids too
    conn = await asyncpg.connect(url)
    try:
        for table, highest in top.items():
            newer = await conn.fetchval(f"SELECT min(id) FROM {table} WHERE id > $1", highest)
            assert newer is not None, f"nothing new in {table}"
        assert await conn.fetchval("SELECT count(*) FROM orders") == before["orders"] + 1
        media = sqlite3.connect(shop).execute("SELECT name, content_type, data FROM media ORDER BY name").fetchall()
        assert [tuple(r) for r in await conn.fetch("SELECT name, content_type, data FROM media ORDER BY name")] == media
    finally:
        await conn.close()


def one_line_refusal(result, *words: str) -> None:
    assert result.returncode == 1, result
    assert result.stdout == "" and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("vitrina: db copy: ")
    for word in words:
        assert word in result.stderr, result.stderr
    assert "secret" not in result.stderr


async def test_what_cannot_be_copied_is_refused_in_one_line_with_nothing_copied(tmp_path):
    shop = tmp_path / "shop.db"
    async with SqliteDatabase(shop) as db:
        engine = shop_engine(db, Gateway())
        await engine.start()
        await seed(engine)
    (tmp_path / "notes.txt").write_text("not a database")
    sqlite_url = f"sqlite:///{shop}"

    async with fresh_database() as pg_url:
        base = pg_url.rpartition("/")[0]
        with_password = pg_url.replace("postgres@", "postgres:secret@")
        cases = [
            ((with_password, pg_url), "the first URL is the SQLite shop"),
            (("mysql://shop", pg_url), "the source must be a SQLite file's URL"),
            (("sqlite:///:memory:", pg_url), "the source must be a SQLite file's URL"),
            ((f"sqlite:///{tmp_path}/missing.db", pg_url), "missing.db: no such file"),
            ((f"sqlite:///{tmp_path}/notes.txt", pg_url), "is not an SQLite database"),
            ((f"sqlite:///{tmp_path}", pg_url), "is a folder"),
            ((sqlite_url, sqlite_url), "the target must be a PostgreSQL URL"),
            ((sqlite_url, "postgresql://postgres:secret@127.0.0.1:1/test"), "the server does not answer"),
            ((sqlite_url, f"{base}/no_such_database_here"), "no_such_database_here"),
        ]
        for args, words in cases:
            one_line_refusal(vitrina(tmp_path, "db", "copy", *args, check=False), words)
        assert not (tmp_path / "missing.db").exists()
        assert all(n == 0 for t, n in (await pg_counts(pg_url)).items() if t not in BACKEND_ONLY)

        # points below zero (which SQLite's trigger would have refused, were it there): nothing is copied
        conn = sqlite3.connect(shop, isolation_level=None)
        conn.execute("DROP TRIGGER ledger_never_negative")
        conn.execute("INSERT INTO customers (id, referral_code, created_at) VALUES ('c-minus', 'RMINUS', 'now')")
        conn.execute("INSERT INTO ledger (customer_id, delta, reason, at) VALUES ('c-minus', -5, 'spend', 'now')")
        conn.close()
        one_line_refusal(vitrina(tmp_path, "db", "copy", sqlite_url, pg_url, check=False),
                         "ledger: points below zero for customer c-minus", "nothing was copied")
        conn = sqlite3.connect(shop, isolation_level=None)
        conn.execute("DELETE FROM ledger WHERE customer_id = 'c-minus'")
        conn.close()

        # a value PostgreSQL cannot take, in the last table copied: the whole copy is rolled back
        conn = sqlite3.connect(shop, isolation_level=None)
        conn.execute("INSERT INTO visits (param, kind, channel, at) VALUES ('x', 'counter', 'telegram', 'now')")
        conn.execute("UPDATE stock SET quantity = 'many' WHERE item_id = 'croissant' AND point_id = 'park'")
        conn.close()
        one_line_refusal(vitrina(tmp_path, "db", "copy", sqlite_url, pg_url, check=False),
                         "stock.quantity holds str 'many'", "nothing was copied")
        assert all(n == 0 for t, n in (await pg_counts(pg_url)).items() if t not in BACKEND_ONLY)

        # a table one backend has and the other lacks (a migration added to SQLite only) is named
        conn = sqlite3.connect(shop, isolation_level=None)
        conn.execute("UPDATE stock SET quantity = 3 WHERE item_id = 'croissant' AND point_id = 'park'")
        conn.execute("CREATE TABLE coupons (code TEXT PRIMARY KEY)")
        conn.close()
        one_line_refusal(vitrina(tmp_path, "db", "copy", sqlite_url, pg_url, check=False),
                         "the SQLite schema has table coupons that PostgreSQL's lacks")
        conn = sqlite3.connect(shop, isolation_level=None)
        conn.execute("DROP TABLE coupons")
        conn.execute("ALTER TABLE visits ADD COLUMN device TEXT")
        conn.close()
        one_line_refusal(vitrina(tmp_path, "db", "copy", sqlite_url, pg_url, check=False),
                         "table visits differs between the backends (only SQLite has device)")
        assert all(n == 0 for t, n in (await pg_counts(pg_url)).items() if t not in BACKEND_ONLY)


@pytest.mark.parametrize("command", [("db", "copy", "sqlite:///shop.db")])
def test_the_command_names_both_urls(tmp_path, command):
    result = vitrina(tmp_path, *command, check=False)
    assert result.returncode == 2 and "target" in result.stderr
    helped = vitrina(tmp_path, "db", "copy", "--help")
    assert "sqlite:///shop.db" in helped.stdout and "postgresql://" in helped.stdout


async def test_a_file_of_an_older_version_is_brought_up_to_date_and_copied(tmp_path):
    from storage.sqlite.database import _apply_migrations, _migrations

    shop = tmp_path / "old.db"
    conn = sqlite3.connect(shop, isolation_level=None)
    _apply_migrations(conn, _migrations()[:10])  # a shop last run before referrals, gifts and groups existed
    conn.execute("INSERT INTO customers (id, referral_code, created_at) VALUES ('c1', 'R1', '2025-01-01')")
    conn.execute("INSERT INTO ledger (customer_id, delta, reason, at) VALUES ('c1', 500, 'adjust', '2025-01-01')")
    conn.close()

    async with fresh_database() as pg_url:
        copied = vitrina(tmp_path, "db", "copy", f"sqlite:///{shop}", pg_url)
        assert f"(SQLite schema {SqliteDatabase.latest_version()})" in copied.stdout
        assert printed_counts(copied.stdout)["ledger"] == (1, 1)
        assert printed_counts(copied.stdout)["gifts"] == (0, 0)
        import asyncpg

        conn = await asyncpg.connect(pg_url)
        try:
            assert await conn.fetchval("SELECT SUM(delta) FROM ledger WHERE customer_id = 'c1'") == 500
        finally:
            await conn.close()
    assert sqlite3.connect(shop).execute("PRAGMA user_version").fetchone()[0] == SqliteDatabase.latest_version()
