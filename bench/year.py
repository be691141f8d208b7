"""A year of a coffee shop's history, written straight into a migrated and seeded database, so the benchmarks
can measure the same journeys on a full database as on an empty one.

    python bench/year.py PATH_OR_URL [--orders 100000] [--customers 20000] [--seed 1] [--open-orders 0]
                                     [--outbox-days 30] [--until 2026-11-18T06:00:00+00:00]

PATH_OR_URL is a SQLite file (or ``sqlite:///path``) or a ``postgresql://`` URL of a database already migrated
and seeded (the demo menu or the tests' shop): the points, items, options, staff and shop rules are read from
it. From Python: ``await fill(url, orders=..., customers=...)`` returns the rows written per table.

What a year is here: ``customers`` customers (each with a Telegram or VK account, created over the first nine
months) place ``orders`` orders over the 364 days before ``until`` (default: now), during opening hours (07:00-
21:00 in the shop's time zone), half of them by the regulars (one customer in twenty, the keenest once or twice a
day); 1-3 lines of available items with valid options; 92 % picked up (payment captured at the counter, points
earned at the shop's percent or tier), 5 % cancelled, 3 % expired (payment voided, spent points given back); some
orders spend points (within the redeem cap, never below a zero balance). Each order has its status history;
pickups feed the suggestions' aggregates (usual lines, items taken together, sales per hour, spending per day) and
the regulars as a hand-over does; one picked-up order in seven gets a review of one of its items by its customer;
visits (QR codes at the counter) come with about half of the orders. The outbox holds the events of the last
``outbox_days`` days (a running shop prunes older ones: ``retention_days``, 30 by default; ``--outbox-days 0``
keeps the whole year), all handled by the notification subscriber (its handled rows and its cursor).
``open_orders`` adds that many open orders (placed, accepted, ready) in the last 20 minutes before ``until``, with
short codes unique per point.

Rows go in with batched plain SQL (``executemany`` on SQLite, ``COPY`` on PostgreSQL, upserts that add to the
aggregates already there), one transaction per batch of orders; triggers of the schema (the ledger's check,
kept aggregates) run as for any insert. Ids are time-ordered like ``journey.ids.new_id`` and drawn from the
seed: fill a database once per seed.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from journey.catalog import OptionGroup  # noqa: E402
from journey.loyalty import parse_tiers  # noqa: E402
from journey.model import ShopRules  # noqa: E402
from storage.rows import groups_from_json  # noqa: E402

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
SUBSCRIBERS = ("notify",)  # bot/notifications.py: the relay's subscriber of a running shop
BATCH = 5000  # orders per transaction
DAYS = 364  # the history ends before its first credits are a year old (no points expire during a run)
RATINGS = (1, 2, 3, 4, 5)
RATING_WEIGHTS = (3, 4, 10, 28, 55)
REVIEW_TEXTS = ("", "", "", "Вкусно!", "Как всегда отлично", "Долго ждал", "Слишком сладко", "Лучший в районе")
NAMES = ("Анна", "Иван", "Мария", "Алексей", "Ольга", "Дмитрий", "Елена", "Сергей", "Наталья", "Павел", "Kate", "Tom")

COLUMNS = {
    "customers": "id, name, language, source, consent, referral_code, referred_by, created_at, seen_at",
    "accounts": "channel, external_id, customer_id, name",
    "orders": ("id, customer_id, point_id, status, lines, currency, subtotal, discount, points_spent, total,"
               " promo_code, source, payment_provider, account, short_code, pickup_at, created_at, updated_at"),
    "order_history": "order_id, status, at",
    "payments": ("id, order_id, provider, amount, currency, status, idempotency_key, provider_ref, created_at,"
                 " updated_at, link, refunded, charge_id, provider_charge_id, manual_refund, settled"),
    "ledger": "id, customer_id, delta, reason, order_id, at",
    "reviews": "order_id, item_id, customer_id, rating, text, author, created_at",
    "visits": "id, param, kind, channel, customer_id, at",
    "outbox": "id, type, data, created_at",
    "outbox_handled": "subscriber, event_id, handled_at",
}
# aggregates a hand-over keeps: (table, key columns, added columns, kept columns)
AGGREGATES = {
    "usual_lines": (("customer_id", "item_id", "options"), ("times",), ("last_at",)),
    "item_pairs": (("item_id", "other_id"), ("orders",), ()),
    "item_hours": (("hour", "item_id"), ("quantity",), ()),
    "customer_spend": (("customer_id", "day"), ("amount",), ()),
}


def ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def new_id(prefix: str, at: datetime, rng: random.Random) -> str:
    """Like ``journey.ids.new_id``, at a moment of the past and from the seed."""
    ms = int(at.timestamp() * 1000)
    head = "".join(_ALPHABET[(ms >> shift) & 31] for shift in range(45, -1, -5))
    return f"{prefix}_{head}{''.join(rng.choice(_ALPHABET) for _ in range(6))}"


def options_key(option_ids: dict[str, list[str]]) -> str:
    """journey.suggestions.options_key"""
    return json.dumps({g: sorted(ids) for g, ids in sorted(option_ids.items()) if ids}, separators=(",", ":"),
                      sort_keys=True)


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Shop:
    """What the fill reads from the database first."""

    def __init__(self, items: list[tuple[str, str, int, str, tuple[OptionGroup, ...]]], points: list[tuple[str, int]],
                 rules: ShopRules, staff: str, open_codes: dict[str, set[str]]) -> None:
        self.items, self.points, self.rules, self.staff, self.open_codes = items, points, rules, staff, open_codes
        self.zone = ZoneInfo(rules.timezone)
        self.currency = items[0][3] if items else rules.currency


# Backends ------------------------------------------------------------------------------------------------------

class Sqlite:
    def __init__(self, path: str) -> None:
        self.c = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.c.execute("PRAGMA foreign_keys = ON")

    async def rows(self, sql: str) -> list[tuple]:
        return self.c.execute(sql).fetchall()

    async def write(self, batch: dict[str, list[tuple]], upserts: dict[str, list[tuple]]) -> None:
        self.c.execute("BEGIN IMMEDIATE")
        try:
            for table, rows in batch.items():
                if rows:
                    cols = COLUMNS[table]
                    marks = ", ".join("?" * len(cols.split(",")))
                    self.c.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
            for table, rows in upserts.items():
                if rows:
                    self.c.executemany(upsert_sql(table, "?"), rows)
            self.c.execute("COMMIT")
        except BaseException:
            self.c.execute("ROLLBACK")
            raise

    async def done(self) -> None:
        self.c.execute("PRAGMA optimize")
        self.c.close()


class Postgres:
    def __init__(self, url: str, schema: str | None) -> None:
        self.url, self.schema = url, schema

    async def open(self) -> Postgres:
        import asyncpg

        self.c = await asyncpg.connect(self.url, server_settings={"search_path": self.schema} if self.schema else {})
        return self

    async def rows(self, sql: str) -> list[tuple]:
        return [tuple(r) for r in await self.c.fetch(sql)]

    async def write(self, batch: dict[str, list[tuple]], upserts: dict[str, list[tuple]]) -> None:
        async with self.c.transaction():
            for table, rows in batch.items():
                if table == "ledger" and rows:  # COPY buffers rows: the check of a spend would not see the earns
                    marks = ", ".join(f"${n}" for n in range(1, len(COLUMNS[table].split(",")) + 1))
                    await self.c.executemany(f"INSERT INTO {table} ({COLUMNS[table]}) VALUES ({marks})", rows)
                elif rows:
                    await self.c.copy_records_to_table(table, records=rows,
                                                       columns=[c.strip() for c in COLUMNS[table].split(",")])
            for table, rows in upserts.items():
                if rows:
                    await self.c.executemany(upsert_sql(table, "$"), rows)

    async def done(self) -> None:
        for table in ("ledger", "visits", "outbox"):  # ids were given: move the identities past them
            await self.c.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                                 f" (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)")
        await self.c.execute("ANALYZE")
        await self.c.close()


def upsert_sql(table: str, mark: str) -> str:
    keys, added, kept = AGGREGATES[table]
    cols = (*keys, *added, *kept)
    marks = ", ".join("?" if mark == "?" else f"${n}" for n in range(1, len(cols) + 1))
    sets = [f"{c} = {table}.{c} + excluded.{c}" for c in added] + [f"{c} = excluded.{c}" for c in kept]
    return (f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks}) ON CONFLICT ({', '.join(keys)})"
            f" DO UPDATE SET {', '.join(sets)}")


async def connect(url: str, schema: str | None = None) -> Sqlite | Postgres:
    if url.startswith(("postgresql://", "postgres://")):
        return await Postgres(url, schema).open()
    return Sqlite(url.removeprefix("sqlite:///").removeprefix("sqlite://"))


async def read_shop(db: Sqlite | Postgres) -> Shop:
    sql = "SELECT id, name, price, currency, option_groups FROM items WHERE available = 1 ORDER BY position, id"
    items = [(i, name, price, currency, groups_from_json(groups))
             for i, name, price, currency, groups in await db.rows(sql)]
    points = [(p, prep) for p, prep in await db.rows("SELECT id, prep_minutes FROM points ORDER BY id")]
    if not items or not points:
        raise ValueError("the database has no items or no points: migrate and seed it first")
    rules = ShopRules.from_mapping({k: v for k, v in await db.rows("SELECT key, value FROM meta")
                                    if k in ShopRules.__dataclass_fields__})
    staff = await db.rows("SELECT channel, external_id FROM staff ORDER BY channel, external_id LIMIT 1")
    open_codes: dict[str, set[str]] = defaultdict(set)
    for point, code in await db.rows("SELECT point_id, short_code FROM orders"
                                     " WHERE status IN ('placed', 'accepted', 'ready')"):
        open_codes[point].add(code)
    return Shop(items, points, rules, f"{staff[0][0]}:{staff[0][1]}" if staff else "telegram:0", open_codes)


# The year ------------------------------------------------------------------------------------------------------

class Year:
    def __init__(self, shop: Shop, rng: random.Random, until: datetime, outbox_since: datetime, ids: dict[str, int],
                 seed: int) -> None:
        self.shop, self.rng, self.until, self.outbox_since, self.seed = shop, rng, until, outbox_since, seed
        self.next_id = ids  # the next id of each table with an integer id
        self.counts: dict[str, int] = defaultdict(int)
        self.batch: dict[str, list[tuple]] = {t: [] for t in COLUMNS}
        self.aggregates: dict[str, dict[tuple, list[Any]]] = {t: {} for t in AGGREGATES}
        self.customers: list[tuple[str, str, str, datetime]] = []  # id, account, name, created
        self.balance: dict[str, int] = defaultdict(int)
        self.spent: dict[str, int] = defaultdict(int)
        self.pickups: dict[str, int] = defaultdict(int)
        self.seen: dict[str, datetime] = {}
        self.regulars: list[tuple] = []
        self.tiers = parse_tiers(shop.rules.tiers) if shop.rules.tiers else ()

    def add(self, table: str, row: tuple) -> None:
        self.batch[table].append(row)
        self.counts[table] += 1

    def take_id(self, table: str) -> int:
        self.next_id[table] += 1
        return self.next_id[table] - 1

    def event(self, type_: str, data: dict[str, Any], at: datetime) -> None:
        if at < self.outbox_since:
            return  # pruned by now
        event_id = self.take_id("outbox")
        self.add("outbox", (event_id, type_, dumps(data), ts(at)))
        for subscriber in SUBSCRIBERS:
            self.add("outbox_handled", (subscriber, event_id, ts(at + timedelta(milliseconds=200))))

    def take(self) -> dict[str, list[tuple]]:
        batch, self.batch = self.batch, {t: [] for t in COLUMNS}
        return batch

    # customers

    def make_customers(self, count: int, start: datetime) -> None:
        span = (self.until - start) * 0.75
        for n in range(count):
            created = start + span * n / count + timedelta(seconds=self.rng.randrange(3600))
            cid = new_id("c", created, self.rng)
            name = f"{self.rng.choice(NAMES)} {n}"
            vk = self.rng.random() < 0.2
            channel, external = ("vk", str(700_000_000 + self.seed * 1_000_000 + n)) if vk else (
                "telegram", str(7_000_000_000 + self.seed * 1_000_000 + n))
            language = "en" if self.rng.random() < 0.05 else "ru"
            source = self.rng.choice(("", "", "p" + self.shop.points[0][0], "s2gis", "syandex"))
            self.add("customers", (cid, name, language, source, 1, f"y{self.seed}r{n}", None, ts(created), None))
            self.add("accounts", (channel, external, cid, name))
            self.customers.append((cid, f"{channel}:{external}", name, created))
            self.event("customer.created", {"customer_id": cid, "channel": channel, "source": source}, created)

    def customer_for(self, at: datetime) -> tuple[str, str, str, datetime]:
        # customers exist in order of creation: the first `known` of them may order by now
        lo, hi = 0, len(self.customers)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.customers[mid][3] <= at:
                lo = mid + 1
            else:
                hi = mid
        known = max(lo, 1)
        if self.rng.random() < 0.5:  # half by anyone
            return self.customers[self.rng.randrange(known)]
        # half by the regulars, one customer in twenty, the keenest once or twice a day
        pool = max(1, min(known, len(self.customers) // 20))
        return self.customers[int(pool * self.rng.random() ** 1.5)]

    # orders

    def lines(self) -> list[dict[str, Any]]:
        lines = []
        for item_id, name, price, _, groups in self.rng.sample(self.shop.items, min(len(self.shop.items),
                                                                                     self.rng.choice((1, 1, 2, 2, 3)))):
            names: list[str] = []
            ids: dict[str, list[str]] = {}
            unit = price
            for g in groups:
                if not g.options:
                    continue
                if g.required:
                    chosen = [self.rng.choice(g.options)]
                elif g.multiple:
                    chosen = self.rng.sample(g.options, min(len(g.options), self.rng.choice((0, 0, 1, 2))))
                else:
                    chosen = [self.rng.choice(g.options)] if self.rng.random() < 0.4 else []
                if chosen:
                    ids[g.id] = [o.id for o in chosen]
                    names += [o.name for o in chosen]
                    unit += sum(o.price_delta for o in chosen)
            lines.append({"item": item_id, "name": name, "options": names, "option_ids": ids,
                          "qty": self.rng.choice((1, 1, 1, 1, 2)), "price": unit})
        return lines

    def earn_percent(self, cid: str) -> int:
        if not self.tiers:
            return self.shop.rules.earn_percent
        return [t for t in self.tiers if t.threshold <= self.spent[cid]][-1].percent

    def short_code(self, point: str) -> str:
        in_use = self.shop.open_codes[point]
        for digits in (4, 4, 4, 4, 6, 6, 6, 6):
            for _ in range(20):
                code = f"{self.rng.randrange(10 ** digits):0{digits}d}"
                if code not in in_use:
                    return code
        raise RuntimeError("no free short code")

    def order(self, placed: datetime, status: str) -> None:
        rng, shop = self.rng, self.shop
        cid, account, name, _ = self.customer_for(placed)
        point, prep = rng.choice(shop.points)
        lines = self.lines()
        currency = shop.currency
        subtotal = sum(line["price"] * line["qty"] for line in lines)
        spend = 0
        if self.balance[cid] >= 10_000 and rng.random() < 0.3:
            spend = min(self.balance[cid], subtotal * shop.rules.redeem_cap_percent // 100)
        total = subtotal - spend
        oid = new_id("o", placed, rng)
        is_open = status in ("placed", "accepted", "ready")
        code = self.short_code(point) if is_open else f"{rng.randrange(10_000):04d}"
        if is_open:
            shop.open_codes[point].add(code)
        base = {"order_id": oid, "customer_id": cid, "point_id": point, "short_code": code, "account": account,
                "total": total, "currency": currency}
        pickup_at = placed + timedelta(minutes=prep)
        steps = {"placed": ["placed"], "accepted": ["placed", "accepted"], "ready": ["placed", "accepted", "ready"],
                 "picked_up": ["placed", "accepted", "ready", "picked_up"],
                 "cancelled": rng.choice((["placed", "cancelled"], ["placed", "accepted", "cancelled"])),
                 "expired": rng.choice((["placed", "expired"], ["placed", "accepted", "ready", "expired"]))}[status]
        at = placed
        times = []
        for n, step in enumerate(steps):
            if n:
                at += timedelta(minutes=rng.uniform(0.5, 4) if step != "expired" else 60,
                                seconds=rng.randrange(60))
            times.append(at)
        if is_open:  # still open now: nothing later than now
            times = [min(t, self.until - timedelta(seconds=1)) for t in times]
        updated = times[-1]
        self.add("orders", (oid, cid, point, status, dumps(lines), currency, subtotal, 0, spend, total, None, "",
                            "counter", account, code, ts(pickup_at), ts(placed), ts(updated)))
        pay_status = {"picked_up": "captured", "cancelled": "voided", "expired": "voided"}.get(status, "pending")
        self.add("payments", (new_id("pay", placed, rng), oid, "counter", total, currency, pay_status, f"order:{oid}",
                              "", ts(placed), ts(updated), "", 0, "", "", 0, 0))
        by = shop.staff
        for step, when in zip(steps, times, strict=True):
            self.add("order_history", (oid, step, ts(when)))
            if step == "placed":
                if spend:
                    self.ledger(cid, -spend, "spend", oid, when)
                    self.event("points.spent", {**base, "points": spend}, when)
                self.event("order.placed", {**base, "provider": "counter", "pickup_at": ts(pickup_at),
                                            "lines": [{"name": line["name"], "options": line["options"],
                                                       "quantity": line["qty"]} for line in lines],
                                            "table": "", "awaiting_payment": False}, when)
            elif step in ("accepted", "ready"):
                self.event(f"order.{step}", {**base, "by": by}, when)
            elif step == "picked_up":
                self.picked_up(oid, cid, account, name, lines, total, when, base, placed)
            else:
                self.event(f"order.{step}", {**base, "reason": "staff" if step == "cancelled" else "timeout"}, when)
                self.event("payment.voided", {**base, "provider": "counter"}, when)
                if spend:
                    self.ledger(cid, spend, "refund", oid, when)
        self.seen[cid] = updated

    def ledger(self, cid: str, delta: int, reason: str, oid: str | None, at: datetime) -> None:
        self.balance[cid] += delta
        if self.balance[cid] < 0:
            raise AssertionError("a balance below zero")
        self.add("ledger", (self.take_id("ledger"), cid, delta, reason, oid, ts(at)))

    def picked_up(self, oid: str, cid: str, account: str, name: str, lines: list[dict[str, Any]], total: int,
                  at: datetime, base: dict[str, Any], placed: datetime) -> None:
        rng, rules = self.rng, self.shop.rules
        self.event("payment.captured", {**base, "provider": "counter"}, at)
        earned = total * self.earn_percent(cid) // 100
        self.event("order.picked_up", {**base, "by": self.shop.staff, "points_earned": earned}, at)
        self.aggregate("customer_spend", (cid, at.astimezone(self.shop.zone).date().isoformat()), total)
        self.spent[cid] += total
        if earned:
            self.ledger(cid, earned, "earn", oid, at)
            self.event("points.earned", {**base, "points": earned}, at)
        self.pickups[cid] += 1
        if rules.regulars_after > 0 and self.pickups[cid] == rules.regulars_after:
            self.regulars.append((cid, oid, self.pickups[cid], ts(at)))
            self.event("regular.reached", {"customer_id": cid, "account": account, "order_id": oid,
                                           "pickups": self.pickups[cid], "name": name.split()[0]}, at)
        quantities: dict[str, int] = {}
        for line in lines:
            quantities[line["item"]] = quantities.get(line["item"], 0) + line["qty"]
            self.aggregate("usual_lines", (cid, line["item"], options_key(line["option_ids"])), 1, ts(at))
        for a in quantities:
            for b in quantities:
                if a != b:
                    self.aggregate("item_pairs", (a, b), 1)
        hour = placed.astimezone(self.shop.zone).hour
        for item_id, quantity in quantities.items():
            self.aggregate("item_hours", (hour, item_id), quantity)
        if rng.random() < 1 / 7:  # a review of one item, by the customer who picked it up
            written = min(at + timedelta(minutes=rng.randrange(30, 48 * 60)), self.until - timedelta(seconds=1))
            item_id = rng.choice(sorted(quantities))
            rating = rng.choices(RATINGS, RATING_WEIGHTS)[0]
            self.add("reviews", (oid, item_id, cid, rating, rng.choice(REVIEW_TEXTS), name, ts(written)))
            self.event("review.added", {"order_id": oid, "item_id": item_id, "customer_id": cid, "rating": rating},
                       written)

    def aggregate(self, table: str, key: tuple, amount: int, kept: str | None = None) -> None:
        row = self.aggregates[table].get(key)
        if row is None:
            self.aggregates[table][key] = [amount] if kept is None else [amount, kept]
        else:
            row[0] += amount
            if kept is not None:
                row[1] = max(row[1], kept)

    def visit(self, cid: str, account: str, at: datetime) -> None:
        point = self.rng.choice(self.shop.points)[0]
        self.add("visits", (self.take_id("visits"), f"p{point}", "point", account.split(":")[0], cid, ts(at)))


async def fill(url: str, *, orders: int = 100_000, customers: int = 20_000, seed: int = 1, open_orders: int = 0,
               until: datetime | None = None, outbox_days: int = 30, schema: str | None = None) -> dict[str, int]:
    """Write a year of history into the migrated and seeded database at ``url`` (a SQLite path or URL, or a
    PostgreSQL URL, its tables in ``schema`` if given); returns the rows written per table. ``outbox_days=0``
    keeps every event of the year."""
    until = (until or datetime.now(UTC)).astimezone(UTC)
    start = until - timedelta(days=DAYS)
    rng = random.Random(seed)
    db = await connect(url, schema)
    try:
        shop = await read_shop(db)
        ids = {}
        for table in ("ledger", "visits", "outbox"):
            ids[table] = (await db.rows(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"))[0][0]
        year = Year(shop, rng, until, start if outbox_days <= 0 else until - timedelta(days=outbox_days), ids, seed)
        year.make_customers(customers, start)
        await db.write(year.take(), {})
        # orders during opening hours (07:00-21:00 at the shop), in time order
        local = ZoneInfo(shop.rules.timezone)
        day0 = start.astimezone(local).replace(hour=7, minute=0, second=0, microsecond=0) + timedelta(days=1)
        moments = sorted(day0 + timedelta(days=rng.randrange(DAYS - 1), seconds=rng.randrange(14 * 3600))
                         for _ in range(orders))
        statuses = rng.choices(("picked_up", "cancelled", "expired"), (92, 5, 3), k=orders)
        for first in range(0, orders, BATCH):
            for n in range(first, min(first + BATCH, orders)):
                placed = moments[n].astimezone(UTC) + timedelta(microseconds=rng.randrange(1_000_000))
                year.order(placed, statuses[n])
                if rng.random() < 0.5:
                    cid, account, _, _ = year.customer_for(placed)
                    year.visit(cid, account, placed - timedelta(seconds=rng.randrange(30, 600)))
            await db.write(year.take(), {})
        for n in range(open_orders):
            year.order(until - timedelta(seconds=rng.randrange(1, 20 * 60)), ("placed", "accepted", "ready")[n % 3])
        customers_seen = [(ts(at), cid) for cid, at in year.seen.items()]
        upserts = {t: [(*k, *v) for k, v in rows.items()] for t, rows in year.aggregates.items()}
        await db.write(year.take(), upserts)
        for table, rows in upserts.items():
            year.counts[table] = len(rows)
        await _finish(db, year.regulars, customers_seen, year.next_id["outbox"] - 1)
        year.counts["regulars"] = len(year.regulars)
        await db.done()
    except BaseException:
        if isinstance(db, Postgres) and not db.c.is_closed():
            await db.c.close()
        raise
    return dict(sorted(year.counts.items()))


async def _finish(db: Sqlite | Postgres, regulars: Sequence[tuple], seen: Sequence[tuple], last_event: int) -> None:
    """Regulars, when each customer was last seen, and the subscribers' cursors."""
    if isinstance(db, Sqlite):
        db.c.execute("BEGIN IMMEDIATE")
        db.c.executemany("INSERT INTO regulars (customer_id, order_id, pickups, reached_at) VALUES (?, ?, ?, ?)"
                         " ON CONFLICT (customer_id) DO NOTHING", regulars)
        db.c.executemany("UPDATE customers SET seen_at = ? WHERE id = ?", seen)
        for s in SUBSCRIBERS:
            db.c.execute("INSERT INTO outbox_cursors (subscriber, event_id) VALUES (?, ?) ON CONFLICT (subscriber)"
                         " DO UPDATE SET event_id = MAX(event_id, excluded.event_id)", (s, last_event))
        db.c.execute("COMMIT")
        return
    async with db.c.transaction():
        await db.c.executemany("INSERT INTO regulars (customer_id, order_id, pickups, reached_at)"
                               " VALUES ($1, $2, $3, $4) ON CONFLICT (customer_id) DO NOTHING", regulars)
        await db.c.executemany("UPDATE customers SET seen_at = $1 WHERE id = $2", seen)
        for s in SUBSCRIBERS:
            await db.c.execute("INSERT INTO outbox_cursors (subscriber, event_id) VALUES ($1, $2)"
                               " ON CONFLICT (subscriber) DO UPDATE"
                               " SET event_id = GREATEST(outbox_cursors.event_id, excluded.event_id)", s, last_event)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="a SQLite file (or sqlite:///path) or a postgresql:// URL, migrated and seeded")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--open-orders", type=int, default=0)
    parser.add_argument("--outbox-days", type=int, default=30, help="events kept (0: the whole year)")
    parser.add_argument("--until", type=datetime.fromisoformat, default=None, help="the end of the year (now)")
    args = parser.parse_args()
    started = time.perf_counter()
    try:
        counts = asyncio.run(fill(args.url, orders=args.orders, customers=args.customers, seed=args.seed,
                                  open_orders=args.open_orders, until=args.until, outbox_days=args.outbox_days))
    except ValueError as e:
        raise SystemExit(str(e)) from None
    for table, n in counts.items():
        print(f"{table:16} {n:>9}")
    print(f"written in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
