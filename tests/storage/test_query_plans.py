"""The hot queries do not scan a table that grows with the shop's history, on either backend.

The queries are not retyped here: the use cases that run often (the staff board and its next page, a code typed
at the counter, wrong or right, without a point too, handing over by code, the expiry round every 30 s, the open
orders' counts of the health check) run through the engine while every statement the repositories send is
captured with its parameters; each is then explained as the server would run it:

- SQLite: ``EXPLAIN QUERY PLAN`` of the statement with the same parameters, on the same file. SQLite plans
  without statistics here (the shop never runs ``ANALYZE``), so the plan is the one the shop gets whatever the
  data. A ``SCAN`` of a growing table fails, so does an ``AUTOMATIC`` index (built over the whole table for
  one statement), a full scan of one of its indexes too ("SCAN t USING INDEX i"
  reads every row's entry), unless the index is partial (its predicate bounds it: open orders only).
- PostgreSQL: the statement ``PREPARE``d and explained as a generic plan (``plan_cache_mode =
  force_generic_plan``: what a prepared statement runs after its first executions, parameters unknown, so a
  partial index must be provable from the text) with ``enable_seqscan = off`` after ``ANALYZE``: a ``Seq
  Scan`` of a growing table then means no index can serve the query at all. An index scan must have an index
  condition, or be on a partial index, as on SQLite.

The tables that do not grow with the history (``FIXED``: the menu, the points, the staff, per-item counters,
cursors and leases) may be scanned: a scan of them costs the same on the first day and after a year.
"""
from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

import bench_year
import pytest
from shop_fixtures import BARISTA, OWNER, FakeClock, seed

from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from journey.errors import DomainError
from journey.model import CartLine
from journey.states import OPEN_ORDER_STATUSES
from storage import rows

FIXED = {"points", "categories", "items", "stock", "staff", "promos", "media", "meta", "job_leases",
         "outbox_cursors", "versions", "item_ratings", "item_hours", "item_pairs", "broadcasts", "sqlite_sequence"}
WRITES = re.compile(r"^\s*(SELECT|WITH|UPDATE|DELETE|INSERT)\b", re.I)


class Recording:
    """A sqlite3 connection that records what is executed on it (the statement and its parameters)."""

    def __init__(self, conn: sqlite3.Connection, seen: list[tuple[str, Any]]) -> None:
        self._conn, self._seen = conn, seen

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        self._seen.append((sql, params))
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, params: Any) -> sqlite3.Cursor:
        params = list(params)
        if params:
            self._seen.append((sql, params[0]))
        return self._conn.executemany(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


async def _year(url: str, schema: str | None = None) -> None:
    """A history to plan on (bench/year.py, a small year): the planner's choices on an empty table are not
    the ones it makes on a shop's."""
    await bench_year.load().fill(url, orders=2000, customers=300, open_orders=30, schema=schema)


async def _shop(engine: Engine, clock: FakeClock, url: str, schema: str | None = None) -> None:
    """A year of history, then a few orders in every state through the engine: closed ones, open ones at both
    points."""
    await seed(engine)
    await _year(url, schema)
    for n in range(6):
        who = CustomerRef(Channel.TELEGRAM, str(500 + n), f"Гость {n}")
        view = await engine.place_order(who, [CartLine("espresso")], ("center", "park")[n % 2])
        if n < 2:
            await engine.accept(OWNER, view.order.id)
            await engine.mark_ready(OWNER, view.order.id)
            await engine.hand_over(OWNER, order_id=view.order.id)
        elif n == 2:
            await engine.accept(OWNER, view.order.id)
        clock.advance(minutes=3)
    await engine.expire_due()  # the first round of the day looks further back than the rounds after it


async def _hot(engine: Engine, clock: FakeClock) -> None:
    """The use cases that run all day long, as customers, staff and the shop's timers run them."""
    guest = CustomerRef(Channel.TELEGRAM, "500", "Гость 0")  # has orders: a closed one, as regulars do
    await engine.profile(guest)
    await engine.menu("center")
    await engine.ratings()
    await engine.item_reviews("espresso")
    await engine.balance(guest)
    await engine.my_orders(guest)
    view = await engine.place_order(guest, [CartLine("espresso")], "center")
    await engine.accept(BARISTA, view.order.id)
    await engine.mark_ready(BARISTA, view.order.id)
    await engine.hand_over(BARISTA, short_code=view.order.short_code, point_id="center")
    await engine.add_review(guest, view.order.id, "espresso", 5, "Отлично")
    page = await engine.staff_board(BARISTA, limit=1)
    await engine.staff_board(BARISTA, after=page[0].order.id, limit=1)
    await engine.staff_board(OWNER)
    await engine.staff_board(OWNER, "park")
    for actor, point in ((BARISTA, "center"), (OWNER, None)):
        with pytest.raises(DomainError):
            await engine.find_for_pickup(actor, short_code="9999", point_id=point)
    open_one = page[0].order
    assert (await engine.find_for_pickup(BARISTA, short_code=open_one.short_code, point_id="center")).id == open_one.id
    await engine.open_order_counts()
    clock.advance(hours=2)
    await engine.expire_due()


def _scans_sqlite(conn: sqlite3.Connection, sql: str, params: Any) -> list[str]:
    partial = {name for name, where in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
               if where and " WHERE " in where.upper()}
    aliases = {alias: table for table, alias in re.findall(r"\b(?:FROM|JOIN)\s+(\w+)\s+(?:AS\s+)?(\w+)", sql, re.I)}
    # the statement's own common table expressions (a walk over merged accounts reads its own rows back)
    ctes = set(re.findall(r"(\w+)(?:\([\w, ]*\))?\s+AS\s+(?:NOT\s+)?(?:MATERIALIZED\s+)?\(", sql, re.I))
    bad = []
    for *_, detail in conn.execute("EXPLAIN QUERY PLAN " + sql, params):
        if "AUTOMATIC" in detail:  # an index SQLite builds for this one statement: a scan of the table every time
            bad.append(detail)
            continue
        found = re.match(r"SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?", detail)
        if not found:
            continue
        table = aliases.get(found[1], found[1])
        if table in FIXED or table in ctes or found[2] in partial:
            continue
        if table in {"CONSTANT", "json_each"} or table.startswith("("):
            continue
        bad.append(detail)
    return bad


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, int) for v in value):  # ids: the array's type is the parameter's
            return "ARRAY[" + ", ".join(map(str, value)) + "]"
        return "ARRAY[" + ", ".join(_literal(v) for v in value) + "]::text[]" if value else "'{}'::text[]"
    return "'" + str(value).replace("'", "''") + "'"


async def _scans_postgres(conn: Any, sql: str, args: tuple, partial: set[str]) -> list[str]:
    await conn.execute(f"PREPARE hot AS {sql}")
    try:
        call = f"EXECUTE hot({', '.join(_literal(a) for a in args)})" if args else "EXECUTE hot"
        plan = json.loads(await conn.fetchval(f"EXPLAIN (FORMAT JSON) {call}"))[0]["Plan"]
    finally:
        await conn.execute("DEALLOCATE hot")
    bad = []

    def walk(node: dict) -> None:
        table = node.get("Relation Name")
        kind = node["Node Type"]
        if table and table not in FIXED:
            if kind == "Seq Scan":
                bad.append(f"Seq Scan on {table}")
            elif (kind in ("Index Scan", "Index Only Scan") and "Index Cond" not in node
                  and node.get("Index Name") not in partial):
                bad.append(f"{kind} on {table} using {node.get('Index Name')} without a condition")
        if kind == "Bitmap Index Scan" and "Index Cond" not in node and node.get("Index Name") not in partial:
            bad.append(f"Bitmap Index Scan using {node.get('Index Name')} without a condition")
        for child in node.get("Plans", ()):
            walk(child)

    walk(plan)
    return bad


def _told(scans: dict[str, list[str]]) -> str:
    return "scans of growing tables:\n" + "\n".join(f"{'; '.join(bad)}  <-  {sql}" for sql, bad in scans.items())


def _statements(seen: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    unique: dict[str, Any] = {}
    for sql, params in seen:
        # not the drivers' own: SQLite's schema reads, asyncpg's reset of a connection going back to its pool
        if WRITES.match(sql) and "sqlite_master" not in sql and "pg_advisory_unlock_all" not in sql:
            unique.setdefault(sql, params)
    return list(unique.items())


def test_the_open_statuses_are_written_once_as_the_partial_indexes_write_them():
    assert rows.OPEN_SHORT_CODES == "status IN ('placed', 'accepted', 'ready')"
    assert set(re.findall(r"'(\w+)'", rows.OPEN_SHORT_CODES)) == {s.value for s in OPEN_ORDER_STATUSES}


async def test_no_hot_query_scans_a_growing_table_on_sqlite(tmp_path, monkeypatch):
    from storage.sqlite import SqliteDatabase

    db = SqliteDatabase(tmp_path / "shop.db")
    await db.connect()
    try:
        clock = FakeClock()
        engine = Engine(db.uow, owners=[OWNER], clock=clock, reader=db.reading)
        await engine.start()
        await _shop(engine, clock, str(tmp_path / "shop.db"))
        seen: list[tuple[str, Any]] = []
        writer, reader = SqliteDatabase.writer, SqliteDatabase.reader
        monkeypatch.setattr(SqliteDatabase, "writer", property(lambda s: Recording(writer.fget(s), seen)))
        monkeypatch.setattr(SqliteDatabase, "reader", property(lambda s: Recording(reader.fget(s), seen)))
        await _hot(engine, clock)
        monkeypatch.undo()
    finally:
        await db.close()
    statements = _statements(seen)
    assert any("o.point_id" in sql for sql, _ in statements)  # the board's query was among them
    explain = sqlite3.connect(tmp_path / "shop.db")
    try:
        scans = {sql: bad for sql, params in statements if (bad := _scans_sqlite(explain, sql, params))}
    finally:
        explain.close()
    assert not scans, _told(scans)


async def test_no_hot_query_scans_a_growing_table_on_postgres():
    from pg_support import fresh_schema

    async with fresh_schema() as db:
        clock = FakeClock()
        engine = Engine(db.uow, owners=[OWNER], clock=clock, reader=db.reading)
        await engine.start()
        await _shop(engine, clock, db.url, db.schema)
        seen: list[tuple[str, Any]] = []
        logged: set[int] = set()
        pool = db.pool

        class Pool:
            async def acquire(self) -> Any:
                conn = await pool.acquire()
                if id(conn) not in logged:  # asyncpg's query logger: the statement and its arguments
                    logged.add(id(conn))
                    conn.add_query_logger(lambda q: seen.append((q.query, q.args or ())))
                return conn

            def __getattr__(self, name: str) -> Any:
                return getattr(pool, name)

        db._pool = Pool()
        try:
            await _hot(engine, clock)
        finally:
            db._pool = pool
        statements = _statements(seen)
        assert any("o.point_id" in sql for sql, _ in statements)
        async with pool.acquire() as conn:
            await conn.execute("ANALYZE")
            await conn.execute("SET enable_seqscan = off")
            await conn.execute("SET plan_cache_mode = force_generic_plan")
            partial = {r[0] for r in await conn.fetch(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexdef LIKE '% WHERE %'")}
            scans = {}
            for sql, args in statements:
                if bad := await _scans_postgres(conn, sql, tuple(args), partial):
                    scans[sql] = bad
        assert not scans, _told(scans)
