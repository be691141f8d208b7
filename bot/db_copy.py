"""``vitrina db copy SQLITE_URL POSTGRES_URL``: move a shop from its SQLite file to PostgreSQL.

Both backends keep the same tables with the same columns and the same representation of every value
(storage/rows.py), so a shop moves row by row, unchanged. The copy:

1. brings the SQLite file to this code's schema (opening it migrates it) and the PostgreSQL database to its
   own (likewise), and checks that both have the same tables and columns: a table one backend has and the
   other lacks is an error naming it (a migration added to one backend only), apart from the few tables that
   only make sense on one of them (``BACKEND_ONLY``);
2. reads the SQLite file read-only in one read transaction: one consistent snapshot, taken while the shop
   may still be taking orders (under WAL a reader never blocks the writer nor sees half its work);
3. writes into PostgreSQL in one transaction, in foreign-key order, with ``COPY`` (asyncpg's
   ``copy_records_to_table``); refuses a database that already holds a shop; moves each identity sequence
   past the copied ids, so the next row gets a fresh id; compares the row count of every table on both sides
   and commits only when they all agree. Whatever fails, nothing is left half-copied.
"""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .failures import CommandError, not_a_database

# Tables that belong to one backend only, with why they are not copied.
BACKEND_ONLY = {
    "schema_migrations": "PostgreSQL's record of applied migrations (SQLite keeps its version in the file header)",
    "job_leases": "SQLite's leases of background jobs: nobody holds one once the shop has moved",
    "job_runs": "PostgreSQL's record of when each periodic job last ran, by the server's clock",
    "send_budget": "PostgreSQL's shared send-rate budget, refilled by the instances as they send",
    "versions": "SQLite's menu version counter, a cache key: PostgreSQL keeps its own (menu_version)",
    "menu_version": "PostgreSQL's menu version slots, made by its migration and moved by the copy's writes",
}
# Rows a PostgreSQL database has before any shop lives in it: the instance secret any command opening it
# creates (engine.start). The copy replaces it with the shop's own, which signs the shop's links.
FRESH_META_KEYS = {"secret_key"}
# Row triggers put off while their table is copied, and the rule each keeps checked once over the whole table
# instead: the ledger's take an advisory lock per customer for every row, which in one transaction runs out of
# the server's lock table for a shop with thousands of customers (SQLite kept the same rule). The aggregates
# the triggers keep (balances, item_ratings) are copied as rows like any table, so they must not be added to
# again as their rows go in; that they equal the sums of the copied rows is checked once all are in (KEPT).
DEFERRED_TRIGGERS = {
    "ledger": (("ledger_never_negative", "ledger_balance"),
               "SELECT customer_id FROM ledger GROUP BY customer_id HAVING SUM(delta) < 0",
               "points below zero for customer {}"),
    "reviews": (("reviews_rating",), "", ""),
}
# Each kept aggregate and a query naming a key whose kept figure differs from what its rows sum to.
KEPT = {
    "balances": "SELECT COALESCE(b.customer_id, l.customer_id) FROM balances b FULL JOIN"
                " (SELECT customer_id, SUM(delta) AS points FROM ledger GROUP BY customer_id) l USING (customer_id)"
                " WHERE COALESCE(b.points, 0) <> COALESCE(l.points, 0) LIMIT 1",
    "item_ratings": "SELECT COALESCE(k.item_id, r.item_id) FROM item_ratings k FULL JOIN"
                    " (SELECT item_id, SUM(rating) AS total, COUNT(*) AS reviews FROM reviews GROUP BY item_id) r"
                    " USING (item_id) WHERE (COALESCE(k.total, 0), COALESCE(k.reviews, 0))"
                    " <> (COALESCE(r.total, 0), COALESCE(r.reviews, 0)) LIMIT 1",
}
BATCH = 2000


def sqlite_path(url: str) -> Path:
    if url.startswith(("postgresql://", "postgres://")):
        raise CommandError("db copy: the first URL is the SQLite shop to copy from (sqlite:///shop.db), "
                           "the second the PostgreSQL database to copy into")
    if not url.startswith("sqlite:///") or url in ("sqlite:///", "sqlite:////") or url == "sqlite:///:memory:":
        raise CommandError(f"db copy: the source must be a SQLite file's URL, sqlite:///shop.db or "
                           f"sqlite:////absolute/shop.db, not {_shown(url)}")
    path = Path(url[len("sqlite:///"):])
    if not path.exists():
        raise CommandError(f"db copy: {path}: no such file")
    problem = not_a_database(path)
    if problem:
        raise CommandError(f"db copy: {problem}")
    if path.stat().st_size == 0:
        raise CommandError(f"db copy: {path} is empty, not a shop's database")
    return path


def postgres_url(url: str) -> str:
    if not url.startswith(("postgresql://", "postgres://")):
        raise CommandError(f"db copy: the target must be a PostgreSQL URL, postgresql://user@host:5432/database, "
                           f"not {_shown(url)}")
    return url


def _shown(url: str) -> str:
    """A URL as a refusal may repeat it: a PostgreSQL URL's password is not echoed."""
    if "://" in url and "@" in url.split("://", 1)[1]:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://...@{rest.rsplit('@', 1)[1]}"
    return repr(url) if len(url) < 200 else repr(url[:200] + "...")


async def copy_shop(source_url: str, target_url: str, out: Any = print) -> dict[str, int]:
    """Copy the shop; returns the rows copied per table. Raises ``CommandError`` with one line on any refusal."""
    path = sqlite_path(source_url)
    target_url = postgres_url(target_url)
    started = time.monotonic()
    target = await _open_postgres(target_url)  # first: a target that cannot be reached leaves the file untouched
    try:
        sqlite_version = await _migrate_sqlite(path)
        src = _snapshot(path)
        try:
            async with target.pool.acquire() as conn:
                counts = await _copy(src, conn, out)
            pg_version = await target.schema_version()
        finally:
            src.close()
    finally:
        await target.close()
    total = sum(counts.values())
    out(f"copied {total} rows in {len(counts)} tables from {path} (SQLite schema {sqlite_version}) into PostgreSQL "
        f"(schema {pg_version}) in {time.monotonic() - started:.1f} s; the counts agree on both sides")
    out("next: point VITRINA_DATABASE_URL at the PostgreSQL database and restart the shop")
    return counts


# --- the two sides ----------------------------------------------------------------------------------------------

async def _migrate_sqlite(path: Path) -> int:
    from storage.sqlite import SqliteDatabase

    db = SqliteDatabase(path)
    try:
        await db.connect()  # applies the migrations this code has and the file lacks
        return await db.schema_version()
    except (OSError, sqlite3.Error) as e:
        raise CommandError(f"db copy: cannot open {path}: {e}") from None
    finally:
        await db.close()


async def _open_postgres(url: str) -> Any:
    import asyncpg

    from storage.postgres import PostgresDatabase

    from .main import postgres_problem

    db = PostgresDatabase(url, pool_size=2)
    try:
        await db.connect()  # applies its migrations
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        raise CommandError(f"db copy: cannot open the PostgreSQL database: {postgres_problem(e)}") from None
    return db


def _snapshot(path: Path) -> sqlite3.Connection:
    """A read-only connection inside one read transaction: every table read from it is one moment's shop."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout = 10000")  # a running shop may be checkpointing
        conn.execute("BEGIN")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts with the first read
    except sqlite3.Error as e:
        conn.close()
        raise CommandError(f"db copy: cannot read {path}: {e}") from None
    return conn


def _sqlite_tables(src: sqlite3.Connection) -> dict[str, list[str]]:
    names = [r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                       "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")]
    return {name: [r[1] for r in src.execute(f'PRAGMA table_info("{name}")')] for name in names}


async def _pg_tables(conn: Any) -> dict[str, dict[str, str]]:
    rows = await conn.fetch(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
        " JOIN information_schema.tables t USING (table_schema, table_name)"
        " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
        " ORDER BY c.table_name, c.ordinal_position")
    tables: dict[str, dict[str, str]] = {}
    for row in rows:
        tables.setdefault(row["table_name"], {})[row["column_name"]] = row["data_type"]
    return tables


def _compare(lite: dict[str, list[str]], pg: dict[str, dict[str, str]]) -> list[str]:
    """The tables to copy, the same on both sides; anything else is a schema the backends disagree on."""
    only_lite = sorted(set(lite) - set(pg) - set(BACKEND_ONLY))
    only_pg = sorted(set(pg) - set(lite) - set(BACKEND_ONLY))
    if only_lite:
        raise CommandError(f"db copy: the SQLite schema has {_names(only_lite)} that PostgreSQL's lacks: "
                           f"a migration is missing from storage/postgres/migrations")
    if only_pg:
        raise CommandError(f"db copy: the PostgreSQL schema has {_names(only_pg)} that SQLite's lacks: "
                           f"a migration is missing from storage/sqlite/migrations")
    tables = sorted(set(lite) & set(pg) - set(BACKEND_ONLY))
    for table in tables:
        missing_pg = [c for c in lite[table] if c not in pg[table]]
        missing_lite = [c for c in pg[table] if c not in lite[table]]
        if missing_pg or missing_lite:
            where = "; ".join(([f"only SQLite has {', '.join(missing_pg)}"] if missing_pg else [])
                              + ([f"only PostgreSQL has {', '.join(missing_lite)}"] if missing_lite else []))
            raise CommandError(f"db copy: table {table} differs between the backends ({where})")
    return tables


def _names(tables: list[str]) -> str:
    return ("table " if len(tables) == 1 else "tables ") + ", ".join(tables)


async def _foreign_key_order(conn: Any, tables: list[str]) -> list[str]:
    """Parents before children (a table referring to itself is fine: COPY checks its keys at the end)."""
    rows = await conn.fetch(
        "SELECT DISTINCT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent"
        " FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
        " WHERE c.contype = 'f' AND n.nspname = current_schema()")
    parents: dict[str, set[str]] = {t: set() for t in tables}
    for row in rows:
        child, parent = row["child"].strip('"'), row["parent"].strip('"')
        if child in parents and parent in parents and child != parent:
            parents[child].add(parent)
    ordered: list[str] = []
    placed: set[str] = set()
    while len(ordered) < len(tables):
        ready = sorted(t for t in tables if t not in placed and parents[t] <= placed)
        if not ready:  # a cycle between tables: not in this schema, and COPY could not order it
            raise CommandError(f"db copy: the foreign keys of {_names(sorted(set(tables) - placed))} form a cycle")
        ordered += ready
        placed.update(ready)
    return ordered


# --- the copy ---------------------------------------------------------------------------------------------------

async def _copy(src: sqlite3.Connection, conn: Any, out: Any) -> dict[str, int]:
    import asyncpg

    try:
        async with conn.transaction():
            # one copy at a time into a database: a second one waits here, then finds the shop and refuses
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('vitrina db copy', 0))")
            # deferred triggers (the menu's version) fire as the rows go in rather than at commit: ALTER TABLE
            # refuses a table with trigger events pending, and the triggers below are put off and back
            await conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
            pg = await _pg_tables(conn)
            tables = _compare(_sqlite_tables(src), pg)
            await _refuse_a_shop(conn, tables)
            order = await _foreign_key_order(conn, tables)
            # the foreign keys are taken off while the rows go in and put back after: put back, each is checked
            # over its whole table in one pass, where COPY would check (and lock) the parent row of every row
            keys = await conn.fetch(
                "SELECT c.conrelid::regclass::text AS child, c.conname, pg_get_constraintdef(c.oid) AS definition"
                " FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
                " WHERE c.contype = 'f' AND n.nspname = current_schema() ORDER BY 1, 2")
            for key in keys:
                await conn.execute(f'ALTER TABLE {key["child"]} DROP CONSTRAINT {_quoted(key["conname"])}')
            counts = {}
            for table in order:
                deferred = DEFERRED_TRIGGERS.get(table)
                for trigger in deferred[0] if deferred else ():
                    await conn.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER {trigger}')
                counts[table] = await _copy_table(src, conn, table, pg[table])
                for trigger in deferred[0] if deferred else ():
                    await conn.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER {trigger}')
                broken = await conn.fetchval(deferred[1]) if deferred and deferred[1] else None
                if deferred and broken is not None:
                    raise CommandError(f"db copy: {table}: {deferred[2].format(broken)} in the SQLite file; "
                                       f"nothing was copied")
            for kept, check in KEPT.items():
                broken = await conn.fetchval(check) if kept in tables else None
                if broken is not None:
                    raise CommandError(f"db copy: {kept}: the kept figure of {broken} is not the sum of its rows "
                                       f"in the SQLite file; nothing was copied")
            for key in keys:
                await conn.execute(f'ALTER TABLE {key["child"]} ADD CONSTRAINT {_quoted(key["conname"])} '
                                   f'{key["definition"]}')
            await _move_sequences(src, conn, tables)
            await _verify(src, conn, tables, counts, out)
    except asyncpg.PostgresError as e:
        detail = str(e).splitlines()[0]
        raise CommandError(f"db copy: PostgreSQL refused the copy, nothing was copied: {detail}") from None
    except (OSError, asyncpg.InterfaceError) as e:
        raise CommandError(f"db copy: the connection to PostgreSQL failed, nothing was copied: {e}") from None
    except sqlite3.Error as e:
        raise CommandError(f"db copy: reading the SQLite file failed, nothing was copied: {e}") from None
    return counts


async def _refuse_a_shop(conn: Any, tables: list[str]) -> None:
    held = []
    for table in tables:
        if table == "meta":
            keys = {r[0] for r in await conn.fetch("SELECT key FROM meta")}
            if keys - FRESH_META_KEYS:
                held.append("meta (the shop's settings)")
            continue
        count = await conn.fetchval(f'SELECT count(*) FROM (SELECT 1 FROM "{table}" LIMIT 1000) t')
        if count:
            held.append(f"{table} ({count}{'+' if count == 1000 else ''} row{'' if count == 1 else 's'})")
    if held:
        shown = ", ".join(held[:4]) + (f" and {len(held) - 4} more" if len(held) > 4 else "")
        raise CommandError(f"db copy: the PostgreSQL database already holds a shop ({shown}); nothing was "
                           f"copied: copy into a new, empty database, or drop this one first")
    await conn.execute("DELETE FROM meta")  # the fresh database's own secret gives way to the shop's


async def _copy_table(src: sqlite3.Connection, conn: Any, table: str, pg_columns: dict[str, str]) -> int:
    columns = list(pg_columns)
    converters = [_converter(pg_columns[c]) for c in columns]
    select = f'SELECT {", ".join(_quoted(c) for c in columns)} FROM "{table}"'
    if _has_rowid(src, table):
        select += " ORDER BY rowid"
    copied = 0

    def records() -> Iterator[tuple]:
        nonlocal copied
        cursor = src.execute(select)
        while batch := cursor.fetchmany(BATCH):
            for row in batch:
                copied += 1
                yield tuple(v if v is None or f is None else f(table, name, v)
                            for v, f, name in zip(row, converters, columns, strict=True))

    # in rowid order: the order the shop wrote them, so the ledger's never-negative trigger sees the same sums
    await conn.copy_records_to_table(table, records=records(), columns=columns)
    return copied


def _has_rowid(src: sqlite3.Connection, table: str) -> bool:
    try:
        src.execute(f'SELECT rowid FROM "{table}" LIMIT 0')
    except sqlite3.OperationalError:  # WITHOUT ROWID: it is read in its primary key's order
        return False
    return True


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _converter(pg_type: str) -> Any:
    """SQLite keeps what it was given; PostgreSQL's binary COPY wants exactly its type's Python value."""
    if pg_type in ("integer", "bigint", "smallint"):
        return _integer
    if pg_type in ("double precision", "real", "numeric"):
        return _float
    if pg_type == "text":
        return _text
    if pg_type == "bytea":
        return _bytes
    return None


def _integer(table: str, column: str, value: Any) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise _bad(table, column, value, "an integer")


def _float(table: str, column: str, value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    raise _bad(table, column, value, "a number")


def _text(table: str, column: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _bad(table, column, value, "text")


def _bytes(table: str, column: str, value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    raise _bad(table, column, value, "bytes")


def _bad(table: str, column: str, value: Any, wanted: str) -> CommandError:
    return CommandError(f"db copy: {table}.{column} holds {type(value).__name__} {str(value)[:40]!r} where "
                        f"PostgreSQL wants {wanted}; nothing was copied")


async def _move_sequences(src: sqlite3.Connection, conn: Any, tables: list[str]) -> None:
    """Each identity column's next value past every copied id, and past any id SQLite handed out before (an
    AUTOINCREMENT table's pruned rows: the outbox's cursors point past them, so those ids must not come back)."""
    handed_out = {}
    if src.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
        handed_out = dict(src.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
    rows = await conn.fetch("SELECT table_name, column_name FROM information_schema.columns"
                            " WHERE table_schema = current_schema() AND is_identity = 'YES'")
    for row in rows:
        table, column = row["table_name"], row["column_name"]
        if table not in tables:
            continue
        top = max(await conn.fetchval(f'SELECT COALESCE(max({_quoted(column)}), 0) FROM "{table}"'),
                  int(handed_out.get(table) or 0))
        if top > 0:
            await conn.execute("SELECT setval(pg_get_serial_sequence($1, $2), $3)", f'"{table}"', column, top)


async def _verify(src: sqlite3.Connection, conn: Any, tables: list[str], copied: dict[str, int], out: Any) -> None:
    """Count every table again on both sides (the snapshot and the open transaction): they must agree."""
    width = max(len(t) for t in tables)
    out(f"{'table':<{width}}  {'sqlite':>8}  {'postgres':>8}")
    wrong = []
    for table in tables:
        lite = src.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        pg = await conn.fetchval(f'SELECT count(*) FROM "{table}"')
        out(f"{table:<{width}}  {lite:>8}  {pg:>8}" + ("" if lite == pg == copied[table] else "  <- differs"))
        if not lite == pg == copied[table]:
            wrong.append(f"{table} ({lite} in SQLite, {pg} in PostgreSQL)")
    if wrong:
        raise CommandError(f"db copy: the row counts differ for {', '.join(wrong)}; nothing was copied")
