"""The aggregates the storage keeps instead of recomputing them (issue 14): each customer's points balance and
each item's rating sum and count. On both backends, whatever writes the ledger or the reviews (the engine's
use cases, a merge of two customers, forgetting a person, a fix by hand), the kept figure is the one a full
recount gives; the migration that adds them counts what was there before; on PostgreSQL two writers at once
keep the right total, and a spend still waits for another spend of the same customer and is refused when the
first left too little."""
from __future__ import annotations

import asyncio

import pytest
from shop_fixtures import BARISTA, OWNER, FakeClock, customer, seed
from storage_data import NOON, add_customer, race, seed_catalog

from journey.channels import Channel
from journey.engine import Engine
from journey.errors import DomainError, ErrorCode
from journey.model import CartLine, LedgerEntry, Order, OrderLine, Review
from journey.money import Money
from journey.states import OrderStatus
from storage.sqlite import SqliteDatabase

ANNA, OLGA, VERA = customer(1), customer(2), customer(3)
ANNA_VK = customer("anna", Channel.VK)


async def rows(db, query: str) -> list[tuple]:
    """A query's rows, read in a unit of work of ``db`` on its own connection (any backend)."""
    async with db.reading() as uow:
        if isinstance(db, SqliteDatabase):
            return [tuple(r) for r in uow._conn.execute(query).fetchall()]
        return [tuple(r) for r in await uow._conn.fetch(query)]


async def change(db, query: str) -> None:
    """A change by hand, as an owner's fix in SQL would make it (the triggers see it like any other write)."""
    async with db.uow() as uow:
        if isinstance(db, SqliteDatabase):
            uow._conn.execute(query)
        else:
            await uow._conn.execute(query)


async def assert_kept_as_recounted(db) -> None:
    """The kept tables equal a recount of the ledger and the reviews, and the repositories read them."""
    kept = {c: p for c, p in await rows(db, "SELECT customer_id, points FROM balances") if p}
    summed = {c: p for c, p in await rows(db, "SELECT customer_id, SUM(delta) FROM ledger GROUP BY customer_id")
              if p}
    assert kept == summed
    rated = {i: (t, n) for i, t, n in await rows(db, "SELECT item_id, total, reviews FROM item_ratings") if n}
    recounted = {i: (t, n) for i, t, n in await rows(
        db, "SELECT item_id, SUM(rating), COUNT(*) FROM reviews GROUP BY item_id")}
    assert rated == recounted
    customers = [c for (c,) in await rows(db, "SELECT id FROM customers")]
    async with db.reading() as uow:
        assert {c: await uow.loyalty.balance(c) for c in customers} == {c: summed.get(c, 0) for c in customers}
        assert await uow.reviews.ratings() == {i: (round(t / n, 2), n) for i, (t, n) in recounted.items()}


async def balance(engine: Engine, ref) -> int:
    async with engine.read() as uow:
        found = await uow.customers.by_account(ref.channel, ref.external_id)
        return await uow.loyalty.balance(found.id) if found else 0


async def picked_up(engine: Engine, ref, items: list[str], points: int = 0) -> str:
    order = (await engine.place_order(ref, [CartLine(i) for i in items], "center", points=points)).order
    for step in (engine.accept, engine.mark_ready):
        await step(BARISTA, order.id)
    await engine.hand_over(BARISTA, order_id=order.id)
    return order.id


@pytest.fixture
async def shop(uow_factory):
    clock = FakeClock()
    engine = Engine(uow_factory.uow, owners=[OWNER], clock=clock, reader=uow_factory.reading)
    await engine.start()
    await seed(engine)
    return uow_factory, engine, clock


async def test_the_kept_figures_equal_a_recount_after_every_kind_of_change(shop):
    db, engine, clock = shop
    await assert_kept_as_recounted(db)  # nothing yet: no rows either side

    # pickups earn points, reviews rate what was picked up
    first = await picked_up(engine, ANNA, ["croissant", "latte"])
    second = await picked_up(engine, OLGA, ["croissant"])
    await assert_kept_as_recounted(db)
    await engine.add_review(ANNA, first, "croissant", 5, "хрустящий")
    await engine.add_review(ANNA, first, "latte", 2)
    await engine.add_review(OLGA, second, "croissant", 4)
    await assert_kept_as_recounted(db)
    async with db.reading() as uow:
        assert await uow.reviews.ratings() == {"croissant": (4.5, 2), "latte": (2.0, 1)}
    earned = await balance(engine, ANNA)
    assert earned > 0

    # a second review of the same item of the same order is refused and counts nothing
    with pytest.raises(DomainError) as refused:
        await engine.add_review(ANNA, first, "croissant", 1)
    assert refused.value.code is ErrorCode.REVIEW_EXISTS
    async with db.reading() as uow:
        assert (await uow.reviews.ratings())["croissant"] == (4.5, 2)

    # points spent on an order, then given back when it is cancelled
    spent = (await engine.place_order(ANNA, [CartLine("espresso")], "center", points=earned)).order
    assert await balance(engine, ANNA) == 0
    await assert_kept_as_recounted(db)
    await engine.cancel(ANNA, spent.id)
    assert await balance(engine, ANNA) == earned
    await assert_kept_as_recounted(db)

    # spending more than there is, refused: by the engine, and by the ledger's rule for any other writer
    with pytest.raises(DomainError) as refused:
        await engine.place_order(ANNA, [CartLine("espresso")], "center", points=earned + 1)
    assert refused.value.code is ErrorCode.POINTS_INSUFFICIENT
    anna_id = (await engine.identify(ANNA)).id
    with pytest.raises(DomainError) as refused:
        async with db.uow() as uow:
            await uow.loyalty.add(LedgerEntry(anna_id, -(earned + 1), "adjust", None, engine.now()))
    assert refused.value.code is ErrorCode.POINTS_INSUFFICIENT
    assert await balance(engine, ANNA) == earned
    await assert_kept_as_recounted(db)

    # two accounts of one person linked: the second's ledger moves to the first's customer
    vk_id = (await engine.identify(ANNA_VK)).id
    async with db.uow() as uow:
        await uow.loyalty.add(LedgerEntry(vk_id, 700, "adjust", None, engine.now()))
    await engine.redeem_link_code(ANNA_VK, (await engine.issue_link_code(ANNA)).code)
    assert await balance(engine, ANNA) == await balance(engine, ANNA_VK) == earned + 700
    (merged,) = {anna_id, vk_id} - {(await engine.identify(ANNA)).id}
    async with db.reading() as uow:
        assert await uow.loyalty.balance(merged) == 0
    await assert_kept_as_recounted(db)

    # points expire: the write-off is a ledger row like any other
    await engine.set_rules(points_expire_days=30)
    clock.advance(days=31)
    due = earned + 700 + await balance(engine, OLGA)
    assert await engine.expire_points() == due
    assert await balance(engine, ANNA) == await balance(engine, OLGA) == 0
    await assert_kept_as_recounted(db)

    # a person forgotten: the review's words go, its rating stays in the average, the ledger stays
    third = await picked_up(engine, VERA, ["latte"])
    await engine.add_review(VERA, third, "latte", 5)
    vera_points = await balance(engine, VERA)
    vera_id = (await engine.identify(VERA)).id
    await engine.forget(VERA)
    await assert_kept_as_recounted(db)
    async with db.reading() as uow:
        assert (await uow.reviews.ratings())["latte"] == (3.5, 2)
        assert await uow.loyalty.balance(vera_id) == vera_points > 0

    # a review removed or changed by hand (a fix in SQL, or a future moderation), and a ledger row undone
    await change(db, f"DELETE FROM reviews WHERE order_id = '{first}' AND item_id = 'latte'")
    await change(db, f"UPDATE reviews SET rating = 1 WHERE order_id = '{second}'")
    await change(db, f"UPDATE reviews SET item_id = 'eclair' WHERE order_id = '{third}'")
    await change(db, f"DELETE FROM ledger WHERE customer_id = '{vera_id}'")
    await assert_kept_as_recounted(db)
    async with db.reading() as uow:
        assert await uow.reviews.ratings() == {"croissant": (3.0, 2), "eclair": (5.0, 1)}
        assert await uow.loyalty.balance(vera_id) == 0


# --- the migration counts what was there before -------------------------------------------------------------

async def test_the_migration_counts_the_rows_written_before_it(uow_factory, monkeypatch):
    """Rows written by the schema before the aggregates (the migration taken back: its tables dropped, the old
    ledger rule put back as it was) are counted by the migration applied again, as the triggers count them."""
    db = uow_factory
    await seed_catalog(db)
    for n in (1, 2):
        await add_customer(db, n)

    def order(n: int, customer_id: str) -> Order:
        line = OrderLine("latte", "Латте", (), {}, 1, Money(25000))
        return Order(f"o_{n}", customer_id, "center", OrderStatus.PICKED_UP, (line,), Money(25000), Money(0), 0,
                     Money(25000), NOON, f"{n:04d}", NOON, NOON)

    async def write(uow, n: int) -> None:
        await uow.orders.add(order(n, f"c_{1 + n % 2}"))
        await uow.reviews.add(Review(f"o_{n}", "latte", f"c_{1 + n % 2}", 1 + n % 5, "", "", NOON))
        await uow.loyalty.add(LedgerEntry(f"c_{1 + n % 2}", 100 * n, "earn", f"o_{n}", NOON))
        await uow.loyalty.add(LedgerEntry(f"c_{1 + n % 2}", -10 * n, "spend", f"o_{n}", NOON))

    async with db.uow() as uow:
        for n in range(1, 6):
            await write(uow, n)
    expected = await rows(db, "SELECT customer_id, points FROM balances ORDER BY 1"), await rows(
        db, "SELECT item_id, total, reviews FROM item_ratings ORDER BY 1")
    assert expected == ([("c_1", 540), ("c_2", 810)], [("latte", 15, 5)])

    await _take_back(db)
    async with db.uow() as uow:  # the old schema: the rows go in without anything kept
        await write(uow, 6)
    await _migrate_again(db)
    assert (await rows(db, "SELECT customer_id, points FROM balances ORDER BY 1"),
            await rows(db, "SELECT item_id, total, reviews FROM item_ratings ORDER BY 1")) == (
        [("c_1", 540 + 540), ("c_2", 810)], [("latte", 15 + 2, 6)])
    await assert_kept_as_recounted(db)
    with pytest.raises(DomainError) as refused:  # the rule on the kept balance, after the backfill
        async with db.uow() as uow:
            await uow.loyalty.add(LedgerEntry("c_2", -811, "spend", None, NOON))
    assert refused.value.code is ErrorCode.POINTS_INSUFFICIENT


_SQLITE_BEFORE = """
DROP TRIGGER ledger_balance_insert; DROP TRIGGER ledger_balance_delete; DROP TRIGGER ledger_balance_update;
DROP TRIGGER reviews_rating_insert; DROP TRIGGER reviews_rating_delete; DROP TRIGGER reviews_rating_update;
DROP TRIGGER ledger_never_negative; DROP TABLE balances; DROP TABLE item_ratings;
CREATE TRIGGER ledger_never_negative BEFORE INSERT ON ledger
WHEN NEW.delta < 0 AND (SELECT COALESCE(SUM(delta), 0) FROM ledger WHERE customer_id = NEW.customer_id) + NEW.delta < 0
BEGIN
    SELECT RAISE(ABORT, 'points_insufficient');
END;
"""
_POSTGRES_BEFORE = """
DROP TRIGGER ledger_balance ON ledger; DROP FUNCTION ledger_balance();
DROP TRIGGER reviews_rating ON reviews; DROP FUNCTION reviews_rating();
DROP TABLE balances; DROP TABLE item_ratings;
CREATE OR REPLACE FUNCTION ledger_never_negative() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.delta < 0 THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('ledger:' || NEW.customer_id, 0));
        IF (SELECT COALESCE(SUM(delta), 0) FROM ledger WHERE customer_id = NEW.customer_id) + NEW.delta < 0 THEN
            RAISE EXCEPTION 'points_insufficient' USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
"""


def _migration(db) -> str:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "storage"
    name = "sqlite/migrations/0019_aggregates.sql" if isinstance(db, SqliteDatabase) else \
        "postgres/migrations/0005_aggregates.sql"
    return (root / name).read_text()


async def _take_back(db) -> None:
    if isinstance(db, SqliteDatabase):
        db.writer.executescript(_SQLITE_BEFORE)
    else:
        await db.pool.execute(_POSTGRES_BEFORE)


async def _migrate_again(db) -> None:
    """The migration's own text, applied as the migrations are (one transaction)."""
    if isinstance(db, SqliteDatabase):
        from storage.sqlite.database import _statements

        conn = db.writer
        conn.execute("BEGIN IMMEDIATE")
        for statement in _statements(_migration(db)):
            conn.execute(statement)
        conn.execute("COMMIT")
    else:
        async with db.pool.acquire() as conn, conn.transaction():
            await conn.execute(_migration(db))


# --- several writers at once (PostgreSQL; SQLite runs them one after the other) -----------------------------

@pytest.fixture
async def people(uow_factory):
    await seed_catalog(uow_factory)
    for n in range(1, 4):
        await add_customer(uow_factory, n)
    return uow_factory


def credit(customer_id: str, points: int):
    async def crediting(uow):
        await uow.loyalty.add(LedgerEntry(customer_id, points, "adjust", None, NOON))
        return points
    return crediting


async def test_two_credits_at_once_are_both_kept(people):
    assert await race(people, credit("c_1", 100), credit("c_1", 250)) == [100, 250]
    async with people.reading() as uow:
        assert await uow.loyalty.balance("c_1") == 350
    await assert_kept_as_recounted(people)


async def test_a_spend_written_while_another_is_open_waits_and_is_refused_on_what_the_first_left(people):
    """Not through the engine (which reads the balance locked first): the ledger's own rule, which every
    writer meets, waits for the other spend of the customer and checks the balance it left."""
    async with people() as uow:
        await uow.loyalty.add(LedgerEntry("c_1", 500, "earn", None, NOON))
    first, second = await race(people, credit("c_1", -400), credit("c_1", -400))
    assert first == -400
    assert isinstance(second, DomainError) and second.code is ErrorCode.POINTS_INSUFFICIENT
    async with people.reading() as uow:
        assert await uow.loyalty.balance("c_1") == 100
    await assert_kept_as_recounted(people)


async def test_a_credit_and_a_locked_balance_read_of_one_customer_take_turns(people):
    """A spend decided on a balance read under the customer's lock while a credit is open: the read waits for
    the credit, so the spend counts it."""
    async def spend_all(uow):
        points = await uow.loyalty.balance("c_1")
        await uow.loyalty.add(LedgerEntry("c_1", -points, "spend", None, NOON))
        return points

    assert await race(people, credit("c_1", 300), spend_all) == [300, 300]
    async with people.reading() as uow:
        assert await uow.loyalty.balance("c_1") == 0
    await assert_kept_as_recounted(people)


def review(n: int, item: str, rating: int):
    async def reviewing(uow):
        line = OrderLine(item, item, (), {}, 1, Money(15000))
        await uow.orders.add(Order(f"o_{n}", f"c_{1 + n % 3}", "center", OrderStatus.PICKED_UP, (line,), Money(15000),
                                   Money(0), 0, Money(15000), NOON, f"{n:04d}", NOON, NOON))
        await uow.reviews.add(Review(f"o_{n}", item, f"c_{1 + n % 3}", rating, "", "", NOON))
        return rating
    return reviewing


async def test_two_reviews_of_one_item_at_once_are_both_counted(people):
    assert await race(people, review(1, "latte", 5), review(2, "latte", 2)) == [5, 2]  # the item's first row
    assert await race(people, review(3, "latte", 4), review(4, "latte", 3)) == [4, 3]  # then its kept row
    async with people() as uow:
        await review(5, "espresso", 3)(uow)
    async with people.reading() as uow:
        assert await uow.reviews.ratings() == {"latte": (3.5, 4), "espresso": (3.0, 1)}
    await assert_kept_as_recounted(people)


async def test_many_writers_at_once_add_up(people):
    async with people() as uow:
        for n in (1, 2, 3):
            await uow.loyalty.add(LedgerEntry(f"c_{n}", 1000, "earn", None, NOON))

    async def one(n: int) -> None:
        async with people() as uow:
            await uow.loyalty.add(LedgerEntry(f"c_{1 + n % 3}", -10 if n % 2 else 25, "adjust", None, NOON))
            await uow.loyalty.add(LedgerEntry(f"c_{1 + n % 3}", 7, "adjust", None, NOON))

    await asyncio.gather(*(one(n) for n in range(30)))  # on every connection of the pool, in any order
    await assert_kept_as_recounted(people)
    async with people.reading() as uow:
        assert sum([await uow.loyalty.balance(f"c_{n}") for n in (1, 2, 3)]) == 3000 + 15 * (25 - 10) + 30 * 7
