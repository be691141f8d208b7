"""Engine benchmark: complete customer journeys per second through the Engine on SQLite, against the minimal
hand-written journey in plain ``sqlite3``, in interleaved rounds, with the outbox relay delivering notifications.

    python bench/engine.py [--journeys 2000] [--rounds 5] [--concurrency 50] [--warmup 200] [--year]
                           [--orders 100000] [--customers 20000] [--year-db FILE] [--hops] [--profile] [--keep DIR]
    python bench/engine.py --statements   (one journey's statements per step, the engine's beside the baseline's)
    python bench/engine.py --database postgresql://... [--concurrency 50] [--pool 10] [--duration 5] [--rounds 3]

(``--database``: the same journeys on PostgreSQL, with one and two processes, against raw asyncpg; see
bench/engine_postgres.py.)

A journey is what happens at the counter for one order paid at the counter: ``place_order`` (two lines of latte
with options) -> ``accept`` -> ``mark_ready`` -> ``hand_over`` by the short code (the payment is captured, points
are earned, the suggestions' counts move). The shop is the tests' (tests/shop_fixtures.py: two points, four items),
seeded on a fresh file; the customers exist before the clock starts, so the run measures the steady state.

Configurations, each on a database file of its own made the same way (the baseline's is a copy of the engine's):

- **engine**: ``--concurrency`` customers (asyncio tasks) run journeys in a loop through one ``Engine`` on
  ``SqliteDatabase`` (its durability and checkpoint policy: ``synchronous = NORMAL``, ``wal_autocheckpoint = 0``,
  a checkpoint every ``CHECKPOINT_EVERY`` commits in its own thread, the log reset past ``WAL_RESET_BYTES``), with
  ``ShopLimits.off()`` and the ``OutboxRelay`` running as in ``vitrina run``: every event goes through the real
  ``Notifier`` (texts, the new-order notice to a staff chat, the QR code of a ready order) to a messenger that
  drops what it is given;
- **sqlite3 baseline**: the journey a skilled engineer would write by hand in plain ``sqlite3`` for the same
  features and the same rows (order, history, payment, points, outbox events, the suggestions' counts, the
  regulars' threshold, referrals and gifts looked up), with the fewest statements: transitions as one
  ``UPDATE ... WHERE status = ... RETURNING``, the short code left to the unique index, the events of a step in
  one ``INSERT``; one journey after another in one thread (no event loop), with the same pragmas and the same
  checkpoint policy (``wal_autocheckpoint = 0``, the same passive checkpoint every ``CHECKPOINT_EVERY`` commits
  in a thread of its own, the same reset past ``WAL_RESET_BYTES`` holding the writer, ``journal_size_limit``),
  and its own notifications inline every 0.5 s like the relay's rounds: the events after its cursor read on the
  reader, the customers' languages and the unreachable accounts read once per batch, the same texts and the
  same QR code rendered, dropped, the cursor written once per batch.

``--year`` adds the same two on a year of data (bench/year.py: ``--orders`` orders by ``--customers`` customers,
ending when the run's clock starts; made once, copied for the baseline; ``--year-db FILE`` reuses a file made by an
earlier run with ``--keep``): there the customers are the 50 (``--concurrency``) Telegram customers with the most
orders of the year. Every round runs ``--journeys`` journeys in each configuration, one after the other, the order
reversed every other round; the tables show the median round, and each ratio is the median of the ratios within a
round (the machine's load drifts between rounds; the ratio of the median rates is printed beside it). A round's rate
counts its journeys over its time with the relay (or the baseline's deliveries) running; the notifications' lag is
the engine clock's time from an event's creation to its delivery; the backlog is what was not delivered when the
round ended (the run lets it drain before the next round, untimed). The run checks itself: every engine journey ends
picked up, and the points earned in each database are exactly the journeys run there.

``--hops`` adds a micro-benchmark: one statement inline on the event loop vs the same statement through one hop
to aiosqlite's worker thread, vs aiosqlite's public API (three hops), and whole units of work (one writing a
row, one writing nothing) against the same write in plain ``sqlite3``. ``--profile`` runs the engine rounds
under cProfile and prints where the event loop's time goes.
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import cProfile
import io
import json
import os
import platform
import pstats
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "tests"))

import aiosqlite  # noqa: E402
from shop_fixtures import seed  # noqa: E402

from adapters.qr import QrcodeRenderer  # noqa: E402
from bot.notifications import Notifier  # noqa: E402
from bot.texts import t  # noqa: E402
from journey.channels import Channel, CustomerRef, Reply  # noqa: E402
from journey.engine import Engine  # noqa: E402
from journey.events import DomainEvent  # noqa: E402
from journey.ids import new_id  # noqa: E402
from journey.limits import ShopLimits  # noqa: E402
from journey.model import CartLine, ShopRules  # noqa: E402
from journey.money import Money  # noqa: E402
from journey.outbox import OutboxRelay  # noqa: E402
from journey.pickup import sign_token  # noqa: E402
from journey.states import OrderStatus  # noqa: E402
from storage.sqlite import SqliteDatabase  # noqa: E402
from storage.sqlite.database import CHECKPOINT_EVERY, RESET_WAIT_SECONDS, WAL_RESET_BYTES  # noqa: E402

STEPS = ("place_order", "accept", "mark_ready", "hand_over")
STAFF = CustomerRef(Channel.TELEGRAM, "2", "Бариста")
STAFF_CHAT = CustomerRef(Channel.TELEGRAM, "-1001000", "Бариста")  # the shop's staff group: new orders go there
START = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)  # a Wednesday, 09:00 in Moscow: open
SECRET = b"bench-secret-bench-secret-bench!"
RELAY_INTERVAL = 0.5  # OutboxRelay.run's default, as vitrina run uses it
RELAY_BATCH = 100
SUBSCRIBER = "notify"

# the shop of the tests (tests/shop_fixtures.py): two points, a latte with options, counted croissants
CART = (CartLine("latte", 1, {"size": ("m",), "milk": ("oat",)}),
        CartLine("latte", 2, {"size": ("l",), "syrup": ("vanilla", "caramel")}))


class RunningClock:
    """Real time, started at a moment the shop is open (so the run never hits closing time)."""

    def __init__(self) -> None:
        self._t0 = time.perf_counter()

    def now(self) -> datetime:
        return START + timedelta(seconds=time.perf_counter() - self._t0)


def customer_ref(n: int) -> CustomerRef:
    return CustomerRef(Channel.TELEGRAM, str(1000 + n), f"Гость {n}")


def ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


async def make_shop(path: Path, customers: int) -> None:
    """A fresh file: migrated, seeded like the tests' shop, with ``customers`` customers (Telegram 1000...)."""
    db = await SqliteDatabase(path).connect()
    engine = Engine(db.uow, owners=[STAFF], clock=RunningClock(), reader=db.reading, limits=ShopLimits.off())
    await engine.start()
    await seed(engine)  # the items ordered here (latte) have no stock row: unlimited
    for n in range(customers):
        await engine.identify(customer_ref(n))
    await db.close()


def copy_db(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    with sqlite3.connect(source) as a, sqlite3.connect(target) as b:
        a.backup(b)
    b.close()
    a.close()


class Lag:
    """Which events a subscriber got, and how long after their creation (by the run's clock)."""

    def __init__(self, clock: RunningClock) -> None:
        self.clock = clock
        self.seen: set[int] = set()
        self.lags: list[float] = []
        self.recording = False

    def got(self, event_id: int, created: datetime) -> None:
        self.seen.add(event_id)
        if self.recording:
            self.lags.append((self.clock.now() - created).total_seconds())

    def backlog(self, first: int, last: int) -> int:
        """Events with ids in (first, last] not delivered yet."""
        return (last - first) - sum(1 for i in self.seen if first < i <= last)


class StubQr:
    """A QR renderer that hands out one fixed image: the default of both sides (``--qr`` renders real ones)."""

    IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(600)

    def png(self, data: str, caption: str = "") -> bytes:
        return self.IMAGE

    def svg(self, data: str, caption: str = "") -> bytes:
        return self.IMAGE


def qr_renderer() -> Any:
    return QrcodeRenderer() if REAL_QR else StubQr()


REAL_QR = False  # --qr


class NullMessenger:
    """Takes a reply and drops it: the channel's network is not what is measured."""

    channel = Channel.TELEGRAM

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, to: CustomerRef, reply: Reply, key: str = "") -> None:
        self.sent += 1


# --- the engine ---------------------------------------------------------------------------------------------

class EngineShop:
    kind = "engine"

    def __init__(self, label: str, path: Path, clock: RunningClock, customers: list[CustomerRef]) -> None:
        self.label, self.path, self.clock, self.customers = label, path, clock, customers
        self.lag = Lag(clock)
        self.messenger = NullMessenger()

    async def open(self) -> None:
        self.db = await SqliteDatabase(self.path).connect()
        self.engine = Engine(self.db.uow, owners=[STAFF], clock=self.clock, reader=self.db.reading,
                             limits=ShopLimits.off(), secret=SECRET)
        await self.engine.start()
        notifier = Notifier(self.engine, qr_renderer(), messengers={Channel.TELEGRAM: self.messenger},
                            staff_chats=[STAFF_CHAT])

        async def subscriber(event: DomainEvent) -> None:
            assert event.id is not None and event.at is not None
            self.lag.got(event.id, event.at)
            await notifier(event)

        # as bot/runner.py wires it for one instance on SQLite: pending events read on the read-only snapshots
        self.relay = OutboxRelay(self.engine.uow, {notifier.name: subscriber}, reader=self.engine.reader)

    def last_event(self) -> int:
        return self.db.reader.execute("SELECT COALESCE(MAX(id), 0) FROM outbox").fetchone()[0]

    def earned(self) -> int:
        return self.db.reader.execute("SELECT COUNT(*) FROM ledger WHERE reason = 'earn' AND delta > 0"
                                      " AND order_id IN (SELECT id FROM orders WHERE created_at >= ?)",
                                      (ts(START),)).fetchone()[0]

    async def drain(self) -> None:
        while await self.relay.run_once():
            pass

    async def round(self, journeys: int, concurrency: int, profiler: cProfile.Profile | None) -> dict[str, Any]:
        timings: dict[str, list[float]] = {s: [] for s in (*STEPS, "journey")}
        first = self.last_event()
        stop = asyncio.Event()
        self.lag.recording, self.lag.lags = True, []
        relay = asyncio.create_task(self.relay.run(RELAY_INTERVAL, stop))
        left = journeys

        async def customer(ref: CustomerRef) -> None:
            nonlocal left
            while left > 0:
                left -= 1
                await journey(self.engine, ref, timings)

        if profiler:
            profiler.enable()
        started = time.perf_counter()
        await asyncio.gather(*(customer(self.customers[n % len(self.customers)]) for n in range(concurrency)))
        elapsed = time.perf_counter() - started
        backlog = self.lag.backlog(first, self.last_event())
        if profiler:
            profiler.disable()
        stop.set()
        await relay
        self.lag.recording = False
        lags = self.lag.lags
        await self.drain()
        return {"elapsed": elapsed, "journeys": journeys, "timings": timings, "lags": lags, "backlog": backlog}

    async def close(self) -> None:
        await self.db.close()


async def journey(engine: Engine, ref: CustomerRef, timings: dict[str, list[float]] | None = None) -> None:
    t0 = time.perf_counter()
    view = await engine.place_order(ref, CART, "center")
    t1 = time.perf_counter()
    await engine.accept(STAFF, view.order.id)
    t2 = time.perf_counter()
    await engine.mark_ready(STAFF, view.order.id)
    t3 = time.perf_counter()
    order = await engine.hand_over(STAFF, short_code=view.order.short_code, point_id="center")
    t4 = time.perf_counter()
    if order.status is not OrderStatus.PICKED_UP:
        raise AssertionError(f"journey ended in {order.status}")
    if timings is not None:
        for step, a, b in zip((*STEPS, "journey"), (t0, t1, t2, t3, t0), (t1, t2, t3, t4, t4), strict=True):
            timings[step].append(b - a)


# --- capturing the engine's SQL -----------------------------------------------------------------------

class Recorder:
    """Stands in for a sqlite3.Connection and keeps every execute() call as made."""

    def __init__(self, conn: sqlite3.Connection, name: str, log: list) -> None:
        self._conn, self._name, self._log = conn, name, log

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        self._log.append((self._name, sql, tuple(params)))
        return self._conn.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


async def capture(db: SqliteDatabase, engine: Engine, ref: CustomerRef) -> tuple[dict[str, list], dict[str, list]]:
    """One journey with the trace callback and the recorder on both connections: per step, the calls
    made (connection, sql, params) and the statements SQLite traced."""
    recorded: dict[str, list] = {}
    traced: dict[str, list] = {}
    log: list = []
    trace: list = []
    writer, reader = db._writer, db._reader
    real = writer._connection, reader._connection
    real[0].set_trace_callback(lambda s: trace.append(("writer", s)))
    real[1].set_trace_callback(lambda s: trace.append(("reader", s)))
    writer._connection = Recorder(real[0], "writer", log)
    reader._connection = Recorder(real[1], "reader", log)
    try:
        view = await engine.place_order(ref, CART, "center")
        marks = [("place_order", len(log), len(trace))]
        await engine.accept(STAFF, view.order.id)
        marks.append(("accept", len(log), len(trace)))
        await engine.mark_ready(STAFF, view.order.id)
        marks.append(("mark_ready", len(log), len(trace)))
        await engine.hand_over(STAFF, short_code=view.order.short_code, point_id="center")
        marks.append(("hand_over", len(log), len(trace)))
    finally:
        writer._connection, reader._connection = real
        real[0].set_trace_callback(None)
        real[1].set_trace_callback(None)
    start_log = start_trace = 0
    for step, end_log, end_trace in marks:
        recorded[step], traced[step] = log[start_log:end_log], trace[start_trace:end_trace]
        start_log, start_trace = end_log, end_trace
    order = view.order
    async with db.reading() as uow:
        payment = await uow.payments.for_order(order.id)
    ids = {"order": order.id, "payment": payment.id, "customer": order.customer_id, "short_code": order.short_code,
           "external_id": ref.external_id, "key": ref.key}
    return recorded, traced, ids


def check_against_trace(recorded: dict[str, list], traced: dict[str, list]) -> tuple[int, int]:
    """Every recorded call must be what SQLite traced, in order (a statement firing a trigger is traced
    once more for the trigger program). Returns (calls, trace lines)."""
    calls = lines = 0
    for step in STEPS:
        trace = traced[step]
        i = 0
        for conn, sql, _ in recorded[step]:
            head = " ".join(sql.split()[:3])
            while i < len(trace) and not (trace[i][0] == conn and " ".join(trace[i][1].split()[:3]) == head):
                i += 1
            if i == len(trace):
                raise AssertionError(f"{step}: {sql!r} was recorded but not traced")
            i += 1
        calls += len(recorded[step])
        lines += len(trace)
    return calls, lines


# --- the baseline: the journey written by hand in plain sqlite3 ------------------------------------------------

OPEN = "('placed', 'accepted', 'ready')"


class Refused(Exception):
    pass


class PlainShop:
    """One writer and one reader connection with the engine's pragmas, the engine's checkpoint policy, and the
    journey's steps as a skilled engineer would write them for the same features and rows."""

    kind = "baseline"

    def __init__(self, label: str, path: Path, clock: RunningClock, customers: list[CustomerRef]) -> None:
        self.label, self.path, self.clock = label, path, clock
        self.customers = [(c.channel.value, c.external_id) for c in customers]
        self.lag = Lag(clock)
        self.rng = random.Random(7)
        self.qr = qr_renderer()
        self.groups: dict[str, dict[str, dict[str, tuple[str, int]]]] = {}  # option_groups JSON -> parsed
        self.sent = 0

    async def open(self) -> None:
        def connect(query_only: bool) -> sqlite3.Connection:
            c = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            c.execute("PRAGMA journal_mode = WAL")
            c.execute("PRAGMA synchronous = NORMAL")
            c.execute("PRAGMA foreign_keys = ON")
            c.execute("PRAGMA cache_size = -16000")
            if query_only:
                c.execute("PRAGMA query_only = ON")
            return c

        self.w, self.r, self.checkpointer = connect(False), connect(True), connect(False)
        self.w.execute("PRAGMA wal_autocheckpoint = 0")
        self.w.execute(f"PRAGMA journal_size_limit = {WAL_RESET_BYTES}")
        self.page = self.w.execute("PRAGMA page_size").fetchone()[0]
        self.write_lock = threading.Lock()  # the checkpointer's reset holds the writer, as the engine's does
        self.pool = concurrent.futures.ThreadPoolExecutor(1)
        self.checkpoint: concurrent.futures.Future | None = None
        self.commits = 0
        self.cursor = (self.r.execute("SELECT event_id FROM outbox_cursors WHERE subscriber = ?", (SUBSCRIBER,))
                       .fetchone() or (0,))[0]
        self.points = {p: (name, ZoneInfo(ShopRules().timezone)) for p, name in self.r.execute(
            "SELECT id, name FROM points")}  # names for the texts: the engine caches its shop view alike

    # units of work

    def begin(self) -> sqlite3.Connection:
        self.write_lock.acquire()
        self.w.execute("BEGIN IMMEDIATE")
        return self.w

    def commit(self) -> None:
        try:
            self.w.execute("COMMIT")
        finally:
            self.write_lock.release()
        self.commits += 1
        if self.commits >= CHECKPOINT_EVERY and (self.checkpoint is None or self.checkpoint.done()):
            self.commits = 0
            self.checkpoint = self.pool.submit(self._checkpoint)

    def rollback(self) -> None:
        try:
            self.w.execute("ROLLBACK")
        finally:
            self.write_lock.release()

    def _checkpoint(self) -> None:
        c = self.checkpointer
        _, frames, _ = c.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames * self.page <= WAL_RESET_BYTES:
            return
        with self.write_lock:
            c.execute(f"PRAGMA busy_timeout = {int(RESET_WAIT_SECONDS * 1000)}")
            try:
                c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                c.execute("PRAGMA busy_timeout = 0")

    # the journey

    def _option_groups(self, text: str) -> dict[str, dict[str, tuple[str, int]]]:
        parsed = self.groups.get(text)
        if parsed is None:
            parsed = {g["id"]: {o[0]: (o[1], o[2]) for o in g["options"]} for g in json.loads(text)}
            self.groups[text] = parsed
        return parsed

    def place_order(self, channel: str, external_id: str, cart: tuple[CartLine, ...], point_id: str) -> dict:
        now = self.clock.now()
        w = self.begin()
        try:
            found = w.execute("SELECT c.id FROM accounts a JOIN customers c ON c.id = a.customer_id"
                              " WHERE a.channel = ? AND a.external_id = ? AND c.forgotten_at IS NULL",
                              (channel, external_id)).fetchone()
            if found is None:
                raise Refused("unknown customer")
            customer_id = found[0]
            point = w.execute("SELECT prep_minutes FROM points WHERE id = ?", (point_id,)).fetchone()
            if point is None:
                raise Refused("unknown point")
            wanted = sorted({line.item_id for line in cart})
            marks = ", ".join("?" * len(wanted))
            items = {i: (name, price, currency, groups, available) for i, name, price, currency, groups, available in
                     w.execute(f"SELECT id, name, price, currency, option_groups, available FROM items"
                               f" WHERE id IN ({marks})", wanted)}
            limit = w.execute("SELECT value FROM meta WHERE key = 'max_open_orders'").fetchone()
            open_orders = w.execute(f"SELECT COUNT(*) FROM orders WHERE customer_id = ? AND status IN {OPEN}",
                                    (customer_id,)).fetchone()[0]
            if open_orders >= int(limit[0] if limit else ShopRules().max_open_orders):
                raise Refused("too many open orders")
            stock = dict(w.execute(f"SELECT item_id, quantity FROM stock WHERE point_id = ? AND item_id IN ({marks})",
                                   [point_id, *wanted]))
            lines, subtotal, currency = [], 0, "RUB"
            for line in cart:
                item = items.get(line.item_id)
                if item is None or not item[4] or stock.get(line.item_id, line.quantity) < line.quantity:
                    raise Refused("not available")
                name, price, currency, groups_json, _ = item
                groups = self._option_groups(groups_json)
                names, unit = [], price
                for group_id, chosen in line.options.items():
                    for option_id in chosen:
                        option_name, delta = groups[group_id][option_id]
                        names.append(option_name)
                        unit += delta
                lines.append({"item": line.item_id, "name": name, "options": names,
                              "option_ids": {g: list(o) for g, o in line.options.items()}, "qty": line.quantity,
                              "price": unit})
                subtotal += unit * line.quantity
            order_id, at = new_id("o"), ts(now)
            pickup_at = ts(now + timedelta(minutes=point[0]))
            account = f"{channel}:{external_id}"
            lines_json = json.dumps(lines, ensure_ascii=False, separators=(",", ":"))
            while True:  # the short code: unique among the point's open orders, as its partial index says
                code = f"{self.rng.randrange(10_000):04d}"
                try:
                    w.execute("INSERT INTO orders (id, customer_id, point_id, status, lines, currency, subtotal,"
                              " discount, points_spent, total, promo_code, source, payment_provider, account,"
                              " short_code, pickup_at, created_at, updated_at) VALUES (?, ?, ?, 'placed', ?, ?, ?,"
                              " 0, 0, ?, NULL, '', 'counter', ?, ?, ?, ?, ?)",
                              (order_id, customer_id, point_id, lines_json, currency, subtotal, subtotal, account,
                               code, pickup_at, at, at))
                    break
                except sqlite3.IntegrityError:
                    continue
            w.execute("INSERT INTO order_history (order_id, status, at) VALUES (?, 'placed', ?)", (order_id, at))
            w.execute("INSERT INTO payments (id, order_id, provider, amount, currency, status, idempotency_key,"
                      " created_at, updated_at) VALUES (?, ?, 'counter', ?, ?, 'pending', ?, ?, ?)",
                      (new_id("pay"), order_id, subtotal, currency, f"order:{order_id}", at, at))
            base = {"order_id": order_id, "customer_id": customer_id, "point_id": point_id, "short_code": code,
                    "account": account, "total": subtotal, "currency": currency}
            data = {**base, "provider": "counter", "pickup_at": pickup_at,
                    "lines": [{"name": x["name"], "options": x["options"], "quantity": x["qty"]} for x in lines],
                    "table": "", "awaiting_payment": False}
            w.execute("INSERT INTO outbox (type, data, created_at) VALUES ('order.placed', ?, ?)",
                      (json.dumps(data, ensure_ascii=False, separators=(",", ":")), at))
        except BaseException:
            self.rollback()
            raise
        self.commit()
        return base

    def move(self, order_id: str, before: str, after: str) -> None:
        """accept and mark_ready: the transition checked by the UPDATE itself."""
        at = ts(self.clock.now())
        w = self.begin()
        try:
            row = w.execute("UPDATE orders SET status = ?, updated_at = ? WHERE id = ? AND status = ?"
                            " RETURNING customer_id, point_id, short_code, account, total, currency",
                            (after, at, order_id, before)).fetchone()
            if row is None:
                raise Refused(f"not {before}")
            w.execute("INSERT INTO order_history (order_id, status, at) VALUES (?, ?, ?)", (order_id, after, at))
            data = {"order_id": order_id, "customer_id": row[0], "point_id": row[1], "short_code": row[2],
                    "account": row[3], "total": row[4], "currency": row[5], "by": STAFF.key}
            w.execute("INSERT INTO outbox (type, data, created_at) VALUES (?, ?, ?)",
                      (f"order.{after}", json.dumps(data, ensure_ascii=False, separators=(",", ":")), at))
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def hand_over(self, point_id: str, short_code: str) -> str:
        now = self.clock.now()
        at = ts(now)
        w = self.begin()
        try:
            row = w.execute("UPDATE orders SET status = 'picked_up', updated_at = ? WHERE point_id = ?"
                            " AND short_code = ? AND status = 'ready'"
                            " RETURNING id, customer_id, lines, total, currency, account, created_at",
                            (at, point_id, short_code)).fetchone()
            if row is None:
                raise Refused("no such ready order")
            order_id, customer_id, lines_json, total, currency, account, created = row
            w.execute("UPDATE payments SET status = 'captured', updated_at = ? WHERE order_id = ?"
                      " AND status = 'pending'", (at, order_id))
            w.execute("INSERT INTO order_history (order_id, status, at) VALUES (?, 'picked_up', ?)", (order_id, at))
            rules = ShopRules.from_mapping({k: v for k, v in w.execute("SELECT key, value FROM meta")
                                            if k in ShopRules.__dataclass_fields__})
            zone = ZoneInfo(rules.timezone)
            day = now.astimezone(zone).date()
            percent = rules.earn_percent
            if rules.tiers:  # the tier counts the last 365 days' spending
                from journey.loyalty import parse_tiers

                spent = w.execute("SELECT COALESCE(SUM(amount), 0) FROM customer_spend WHERE customer_id = ?"
                                  " AND day >= ?", (customer_id, (day - timedelta(days=364)).isoformat())).fetchone()[0]
                percent = [x for x in parse_tiers(rules.tiers) if x.threshold <= spent][-1].percent
            w.execute("INSERT INTO customer_spend (customer_id, day, amount) VALUES (?, ?, ?) ON CONFLICT"
                      " (customer_id, day) DO UPDATE SET amount = customer_spend.amount + excluded.amount",
                      (customer_id, day.isoformat(), total))
            earned = total * percent // 100
            base = {"order_id": order_id, "customer_id": customer_id, "point_id": point_id,
                    "short_code": short_code, "account": account, "total": total, "currency": currency}
            events = [("payment.captured", {**base, "provider": "counter"}),
                      ("order.picked_up", {**base, "by": STAFF.key, "points_earned": earned})]
            if earned:
                w.execute("INSERT INTO ledger (customer_id, delta, reason, order_id, at) VALUES (?, ?, 'earn', ?, ?)",
                          (customer_id, earned, order_id, at))
                events.append(("points.earned", {**base, "points": earned}))
            # a friend's first pickup rewards both (nothing pending here); the N-th pickup makes a regular;
            # an order paid by a gift redeems it (none here): the features the engine checks at every hand-over
            if w.execute("SELECT 1 FROM referrals WHERE invitee_id = ? AND status = 'pending'",
                         (customer_id,)).fetchone():
                raise Refused("referral rewards are not part of this benchmark")
            if rules.regulars_after > 0:
                reached = w.execute(  # counted only for a customer who is not a regular yet
                    "INSERT INTO regulars (customer_id, order_id, pickups, reached_at) SELECT ?, ?, n, ? FROM"
                    " (SELECT CASE WHEN EXISTS (SELECT 1 FROM regulars WHERE customer_id = ?) THEN 0 ELSE"
                    " (SELECT COUNT(*) FROM orders WHERE customer_id = ? AND status = 'picked_up') END AS n)"
                    " WHERE n >= ? RETURNING pickups",
                    (customer_id, order_id, at, customer_id, customer_id, rules.regulars_after)).fetchone()
                if reached:
                    events.append(("regular.reached", {"customer_id": customer_id, "account": account,
                                                       "order_id": order_id, "pickups": reached[0], "name": ""}))
            if w.execute("SELECT 1 FROM gifts WHERE order_id = ?", (order_id,)).fetchone():
                raise Refused("gifts are not part of this benchmark")
            w.execute("INSERT INTO outbox (type, data, created_at) VALUES "
                      + ", ".join("(?, ?, ?)" for _ in events),
                      [v for kind, data in events
                       for v in (kind, json.dumps(data, ensure_ascii=False, separators=(",", ":")), at)])
            lines = json.loads(lines_json)
            quantities: dict[str, int] = {}
            usual = []
            for x in lines:
                quantities[x["item"]] = quantities.get(x["item"], 0) + x["qty"]
                key = json.dumps({g: sorted(ids) for g, ids in sorted(x["option_ids"].items()) if ids},
                                 separators=(",", ":"), sort_keys=True)
                usual += [customer_id, x["item"], key, at]
            w.execute("INSERT INTO usual_lines (customer_id, item_id, options, times, last_at) VALUES "
                      + ", ".join("(?, ?, ?, 1, ?)" for _ in lines)
                      + " ON CONFLICT (customer_id, item_id, options) DO UPDATE SET times = usual_lines.times + 1,"
                      " last_at = excluded.last_at", usual)
            if len(quantities) > 1:
                pairs = [(a, b) for a in quantities for b in quantities if a != b]
                w.execute("INSERT INTO item_pairs (item_id, other_id, orders) VALUES "
                          + ", ".join("(?, ?, 1)" for _ in pairs)
                          + " ON CONFLICT (item_id, other_id) DO UPDATE SET orders = item_pairs.orders + 1",
                          [v for pair in pairs for v in pair])
            hour = datetime.fromisoformat(created).astimezone(zone).hour
            w.execute("INSERT INTO item_hours (hour, item_id, quantity) VALUES "
                      + ", ".join("(?, ?, ?)" for _ in quantities)
                      + " ON CONFLICT (hour, item_id) DO UPDATE SET quantity = item_hours.quantity + excluded.quantity",
                      [v for item, n in quantities.items() for v in (hour, item, n)])
        except BaseException:
            self.rollback()
            raise
        self.commit()
        return order_id

    # notifications, as the relay's rounds: every RELAY_INTERVAL, what is after the cursor, a batch at a time

    def deliver(self) -> int:
        delivered = 0
        while True:
            events = self.r.execute("SELECT id, type, data, created_at FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
                                    (self.cursor, RELAY_BATCH)).fetchall()
            if not events:
                return delivered
            parsed = [(i, kind, json.loads(data), created) for i, kind, data, created in events]
            ids = sorted({d["customer_id"] for _, _, d, _ in parsed if "customer_id" in d})
            accounts = sorted({d["account"] for _, _, d, _ in parsed if d.get("account")} | {STAFF_CHAT.key})
            marks = ", ".join("?" * len(ids))
            languages = dict(self.r.execute(f"SELECT id, language FROM customers WHERE id IN ({marks})"
                                            " AND forgotten_at IS NULL", ids)) if ids else {}
            unreachable = {a for (a,) in self.r.execute(
                f"SELECT account FROM unreachable_accounts WHERE account IN ({', '.join('?' * len(accounts))})",
                accounts)}
            for event_id, kind, data, created in parsed:
                self.lag.got(event_id, datetime.fromisoformat(created))
                self.sent += self._render(kind, data, languages, unreachable)
            self.cursor = events[-1][0]
            w = self.begin()
            try:
                w.execute("INSERT INTO outbox_cursors (subscriber, event_id) VALUES (?, ?) ON CONFLICT (subscriber)"
                          " DO UPDATE SET event_id = MAX(event_id, excluded.event_id)", (SUBSCRIBER, self.cursor))
            except BaseException:
                self.rollback()
                raise
            self.commit()
            delivered += len(events)
            if len(events) < RELAY_BATCH:
                return delivered

    def _render(self, kind: str, data: dict, languages: dict[str, str], unreachable: set[str]) -> int:
        """The message of one event, made and dropped; 1 if one was made."""
        if kind == "order.placed":
            if STAFF_CHAT.key in unreachable:
                return 0
            name, zone = self.points[data["point_id"]]
            lines = "\n".join(f"• {x['name']}{' (' + ', '.join(x['options']) + ')' if x['options'] else ''}"
                              f" × {x['quantity']}" for x in data["lines"])
            text = t("ru", "board_new", code=data["short_code"], point=name, table="", lines=lines,
                     time=datetime.fromisoformat(data["pickup_at"]).astimezone(zone).strftime("%H:%M"),
                     total=Money(data["total"], data["currency"]).format(), payment=t("ru", "pay_counter"))
            return len(text) > 0
        language = languages.get(data.get("customer_id", ""))
        if language is None or data.get("account") in unreachable:
            return 0
        if kind == "order.accepted":
            return len(t(language, "n_accepted", code=data["short_code"])) > 0
        if kind == "order.ready":
            image = self.qr.png(sign_token(SECRET, data["order_id"]), f"№ {data['short_code']}")
            text = t(language, "n_ready", code=data["short_code"], point=self.points[data["point_id"]][0])
            return len(image) > 0 and len(text) > 0
        if kind == "order.picked_up":
            return len(t(language, "n_picked_up", points=data["points_earned"]) + t(language, "rate")) > 0
        return 0

    def last_event(self) -> int:
        return self.r.execute("SELECT COALESCE(MAX(id), 0) FROM outbox").fetchone()[0]

    def earned(self) -> int:
        return self.r.execute("SELECT COUNT(*) FROM ledger WHERE reason = 'earn' AND delta > 0"
                              " AND order_id IN (SELECT id FROM orders WHERE created_at >= ?)",
                              (ts(START),)).fetchone()[0]

    async def drain(self) -> None:
        self.deliver()

    async def round(self, journeys: int, concurrency: int, profiler: cProfile.Profile | None) -> dict[str, Any]:
        timings: dict[str, list[float]] = {s: [] for s in (*STEPS, "journey")}
        perf = time.perf_counter
        first = self.last_event()
        self.lag.recording, self.lag.lags = True, []
        started = next_round = perf()
        for n in range(journeys):
            channel, external_id = self.customers[n % len(self.customers)]
            t0 = perf()
            order = self.place_order(channel, external_id, CART, "center")
            t1 = perf()
            self.move(order["order_id"], "placed", "accepted")
            t2 = perf()
            self.move(order["order_id"], "accepted", "ready")
            t3 = perf()
            self.hand_over("center", order["short_code"])
            t4 = perf()
            for step, a, b in zip((*STEPS, "journey"), (t0, t1, t2, t3, t0), (t1, t2, t3, t4, t4), strict=True):
                timings[step].append(b - a)
            if t4 >= next_round:  # the relay's round, inline: one thread does everything
                self.deliver()
                next_round = perf() + RELAY_INTERVAL
        elapsed = perf() - started
        backlog = self.lag.backlog(first, self.last_event())
        self.lag.recording = False
        lags = self.lag.lags
        self.deliver()
        return {"elapsed": elapsed, "journeys": journeys, "timings": timings, "lags": lags, "backlog": backlog}

    async def close(self) -> None:
        if self.checkpoint is not None:
            self.checkpoint.result()
        self.pool.shutdown()
        for c in (self.r, self.checkpointer, self.w):
            c.close()


# --- the hop micro-benchmark ------------------------------------------------------------------------------

async def hops(db: SqliteDatabase, n: int = 20000) -> dict[str, float]:
    conn = db.writer
    perf = time.perf_counter
    results: dict[str, float] = {}

    t = perf()
    for _ in range(n):
        conn.execute("SELECT 1").fetchone()
    results["statement inline on the event loop"] = (perf() - t) / n

    def one(c: sqlite3.Connection) -> Any:
        return c.execute("SELECT 1").fetchone()

    t = perf()
    for _ in range(n):
        await db.in_thread(one, conn)
    results["same statement, one hop to the worker thread"] = (perf() - t) / n

    t = perf()
    for _ in range(n):
        async with db._writer.execute("SELECT 1") as cursor:  # public API: execute + fetchone + close = 3 hops
            await cursor.fetchone()
    results["same statement through aiosqlite's public API"] = (perf() - t) / n

    t = perf()
    for _ in range(n // 4):
        async with db():
            pass
    results["unit of work writing nothing (commits inline, no hop)"] = (perf() - t) / (n // 4)

    t = perf()
    for i in range(n // 4):
        async with db() as uow:
            await uow.settings.set("hop", str(i))
    results["unit of work writing one row (COMMIT inline)"] = (perf() - t) / (n // 4)

    plain = sqlite3.connect(db.path, isolation_level=None)
    plain.execute("PRAGMA synchronous = NORMAL")
    t = perf()
    for i in range(n // 4):
        plain.execute("BEGIN IMMEDIATE")
        plain.execute("INSERT INTO meta (key, value) VALUES ('hop', ?) ON CONFLICT (key) DO UPDATE"
                      " SET value = excluded.value", (str(i),))
        plain.execute("COMMIT")
    results["the same write in plain sqlite3 (no event loop, no hop)"] = (perf() - t) / (n // 4)
    plain.close()
    return results


# --- reporting ---------------------------------------------------------------------------------------------

def profile_report(profiler: cProfile.Profile, journeys: int) -> str:
    """The event loop thread's time per journey, by area (cProfile sees only that thread)."""
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    areas: dict[str, float] = {}
    functions = []
    for (filename, line, name), (_, _, tottime, _, _) in stats.items():
        path = filename.replace("\\", "/")
        if name == "<method 'poll' of 'select.epoll' objects>":
            area = "idle: waiting for a thread hop (epoll)"
        elif filename == "~":
            area = "C: sqlite3" if "sqlite3" in name else "C: " + name.split("'")[1] if "'" in name else "C: other"
        elif "/journey/" in path:
            area = "journey/" + Path(path).name
        elif "/storage/" in path:
            area = "storage/" + Path(path).name
        elif "/asyncio/" in path or path.endswith("selectors.py"):
            area = "asyncio"
        elif "/json/" in path:
            area = "json"
        elif "aiosqlite" in path:
            area = "aiosqlite"
        elif path == __file__ or "/bench/" in path:
            area = "bench"
        else:
            area = "other: " + Path(path).name
        areas[area] = areas.get(area, 0.0) + tottime
        functions.append((tottime, f"{Path(path).name}:{line}({name})" if filename != "~" else name))
    total = sum(areas.values())
    out = ["profile of the engine run (cProfile slows Python down; read it as shares), µs per journey:"]
    for area, seconds in sorted(areas.items(), key=lambda kv: -kv[1])[:25]:
        out.append(f"  {area:<52}{seconds / journeys * 1e6:9.1f}{seconds / total:8.1%}")
    out.append("top functions by own time, µs per journey:")
    for seconds, name in sorted(functions, reverse=True)[:20]:
        out.append(f"  {name[:70]:<72}{seconds / journeys * 1e6:9.1f}")
    return "\n".join(out)


def machine() -> list[str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [f"platform   {platform.platform()}",
            f"cpu        {cpu} x {os.cpu_count()}",
            f"python     {platform.python_implementation()} {platform.python_version()}",
            f"sqlite     {sqlite3.sqlite_version} (aiosqlite {aiosqlite.__version__})"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f}"


def table(results: list[tuple[str, dict[str, Any]]]) -> str:
    out = io.StringIO()
    out.write(f"{'step (ms)':<14}" + "".join(f"{name:>22}" for name, _ in results) + "\n")
    out.write(f"{'':<14}" + "".join(f"{'p50':>11}{'p99':>11}" for _ in results) + "\n")
    for step in (*STEPS, "journey"):
        out.write(f"{step:<14}" + "".join(f"{ms(pct(r['timings'][step], .5)):>11}{ms(pct(r['timings'][step], .99)):>11}"
                                          for _, r in results) + "\n")
    out.write(f"{'journeys/s':<14}" + "".join(f"{r['journeys'] / r['elapsed']:>22.0f}" for _, r in results) + "\n")
    out.write(f"{'lag (ms)':<14}" + "".join(
        f"{ms(pct(r['lags'], .5)) if r['lags'] else '-':>11}{ms(pct(r['lags'], .99)) if r['lags'] else '-':>11}"
        for _, r in results) + "\n")
    out.write(f"{'backlog':<14}" + "".join(f"{r['backlog']:>22}" for _, r in results) + "\n")
    return out.getvalue()


def rate(r: dict[str, Any]) -> float:
    return r["journeys"] / r["elapsed"]


def median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(rounds, key=rate)[len(rounds) // 2]


async def year_db(args: argparse.Namespace, folder: Path, customers: int) -> Path:
    """The year's file: made (and kept in the folder) or the one given."""
    if args.year_db:
        return Path(args.year_db)
    import year  # bench/year.py

    path = folder / "year.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    await make_shop(path, customers)
    started = time.perf_counter()
    counts = await year.fill(str(path), orders=args.orders, customers=args.customers, until=START)
    print(f"year: {counts['orders']} orders, {counts['customers']} customers, {counts['ledger']} ledger rows,"
          f" {counts['outbox']} outbox events written in {time.perf_counter() - started:.0f} s")
    return path


def year_customers(path: Path, n: int) -> list[CustomerRef]:
    """The n Telegram customers with the most orders of the year."""
    with sqlite3.connect(path) as c:
        rows = c.execute("SELECT a.external_id, COUNT(*) FROM accounts a JOIN orders o ON o.customer_id = a.customer_id"
                         " WHERE a.channel = 'telegram' GROUP BY a.customer_id, a.external_id"
                         " ORDER BY COUNT(*) DESC LIMIT ?", (n,)).fetchall()
    c.close()
    if len(rows) < n:
        raise SystemExit(f"the year has {len(rows)} Telegram customers with orders, {n} are needed")
    print(f"year: the {n} customers ordering have {rows[-1][1]}-{rows[0][1]} orders each")
    return [CustomerRef(Channel.TELEGRAM, external, "Гость") for external, _ in rows]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--journeys", type=int, default=2000, help="journeys per configuration and round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (SQLite default 5, PostgreSQL default 3)")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=200, help="journeys run before measuring (default 200)")
    parser.add_argument("--year", action="store_true", help="also run both on a year of data (bench/year.py)")
    parser.add_argument("--orders", type=int, default=100_000, help="--year: the year's orders (default 100000)")
    parser.add_argument("--customers", type=int, default=20_000, help="--year: the year's customers (default 20000)")
    parser.add_argument("--year-db", metavar="FILE", help="--year: a year's file kept by an earlier run (copied)")
    parser.add_argument("--qr", action="store_true", help="render the ready orders' QR codes for real, on both "
                        "sides (default: one fixed image; a real one costs ~10-30 ms of CPU per order here)")
    parser.add_argument("--hops", action="store_true", help="also measure one thread hop vs an inline statement")
    parser.add_argument("--profile", action="store_true", help="profile the engine rounds with cProfile")
    parser.add_argument("--statements", action="store_true", help="print the statements of one engine journey and"
                        " of one baseline journey, step by step, and stop (no rounds)")
    parser.add_argument("--keep", metavar="DIR", help="keep the databases in DIR instead of a temporary folder")
    parser.add_argument("--database", metavar="URL", help="postgresql://...: a server where the run may create (and "
                        "drop) a database of its own; runs bench/engine_postgres.py (default: SQLite files)")
    parser.add_argument("--pool", type=int, default=10, help="PostgreSQL: connections per process (default 10)")
    parser.add_argument("--duration", type=float, default=5.0, help="PostgreSQL: seconds per round (default 5)")
    args = parser.parse_args()
    if args.database:
        if not args.database.startswith(("postgresql://", "postgres://")):
            parser.error("--database takes a postgresql:// URL (SQLite is the default, on temporary files)")
        if "--rounds" not in sys.argv:
            args.rounds = 3
        import engine_postgres  # bench/engine_postgres.py

        await engine_postgres.run(args)
        return

    global REAL_QR
    REAL_QR = args.qr
    folder = Path(args.keep or tempfile.mkdtemp(prefix="vitrina-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print("\n".join(machine()))
    print("command    python bench/engine.py " + " ".join(sys.argv[1:]))
    print()
    customers = max(args.concurrency, 1)
    clock = RunningClock()
    shops: list[EngineShop | PlainShop] = []
    try:
        empty = folder / "empty.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(empty) + suffix).unlink(missing_ok=True)
        await make_shop(empty, customers)
        sources = [("empty", empty, [customer_ref(n) for n in range(customers)])]
        if args.year:
            path = await year_db(args, folder, customers)
            sources.append(("year", path, year_customers(path, customers)))
        for label, source, refs in sources:
            copy_db(source, folder / f"engine-{label}.db")
            copy_db(source, folder / f"baseline-{label}.db")
            shops.append(EngineShop(f"engine {label}", folder / f"engine-{label}.db", clock, refs))
            shops.append(PlainShop(f"sqlite3 {label}", folder / f"baseline-{label}.db", clock, refs))
        for shop in shops:
            await shop.open()

        first = shops[0]
        assert isinstance(first, EngineShop)
        for n in range(args.warmup):  # warm caches and the statement cache; also checks a journey works
            await journey(first.engine, first.customers[n % customers])
        recorded, traced, _ = await capture(first.db, first.engine, first.customers[0])
        calls, _ = check_against_trace(recorded, traced)
        per_step = ", ".join(f"{s} {len(recorded[s])}" for s in STEPS)
        print(f"one engine journey = {calls} statements ({per_step})")
        plain = shops[1]
        assert isinstance(plain, PlainShop)
        plain_calls = count_plain_statements(plain)
        print(f"one baseline journey = {sum(plain_calls.values())} statements"
              f" ({', '.join(f'{s} {n}' for s, n in plain_calls.items())})")
        if args.statements:
            print_statements(recorded, plain_statements(plain))
            return
        for shop in shops:  # the same warm-up everywhere, relay and deliveries included
            await shop.round(args.warmup, args.concurrency, None)
        print()

        profiler = cProfile.Profile() if args.profile else None
        rounds: dict[str, list[dict[str, Any]]] = {shop.label: [] for shop in shops}
        for r in range(args.rounds):
            for shop in shops if r % 2 == 0 else list(reversed(shops)):
                rounds[shop.label].append(await shop.round(args.journeys, args.concurrency,
                                                           profiler if shop.kind == "engine" else None))
            print(f"round {r + 1}: " + ", ".join(f"{label} {rate(rs[-1]):.0f}/s" for label, rs in rounds.items()),
                  flush=True)
        # the first engine ran the warm-up twice and the captured journey, the first baseline the counted one
        expected = {shop.label: args.warmup * (2 if shop is first else 1) + (shop in (first, plain))
                    + args.journeys * args.rounds for shop in shops}
        for shop in shops:
            earned = shop.earned()
            assert earned == expected[shop.label], f"{shop.label}: {expected[shop.label]} journeys, {earned} earned"
        hop_results = await hops(first.db) if args.hops else {}
    finally:
        for shop in shops:
            with_db = getattr(shop, "db", None) or getattr(shop, "w", None)
            if with_db is not None:
                await shop.close()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    print()
    print(f"median round of {args.rounds} ({args.journeys} journeys each; engine: {args.concurrency} concurrent"
          " customers, relay on; baseline: one thread, deliveries inline):")
    print(table([(label, median_round(rs)) for label, rs in rounds.items()]))
    # the ratios of configurations that ran in the same round (the machine's load drifts between rounds): their
    # median is the figure; the ratio of the median rates is shown beside it
    medians = {label: statistics.median(rate(r) for r in rs) for label, rs in rounds.items()}
    ratios: dict[str, float] = {}
    for label in [s[0] for s in sources]:
        e, b = rounds[f"engine {label}"], rounds[f"sqlite3 {label}"]
        paired = [rate(x) / rate(y) for x, y in zip(e, b, strict=True)]
        ratios[label] = statistics.median(paired)
        print(f"{label}: engine/baseline = {ratios[label]:.0%} (median of the rounds: "
              f"{', '.join(f'{p:.0%}' for p in paired)}; of the median rates "
              f"{medians[f'engine {label}'] / medians[f'sqlite3 {label}']:.0%})")
    if args.year:
        for kind in ("engine", "sqlite3"):
            paired = [rate(y) / rate(x) for x, y in zip(rounds[f"{kind} empty"], rounds[f"{kind} year"], strict=True)]
            ratios[kind] = statistics.median(paired)
            print(f"{kind}: year/empty = {ratios[kind]:.0%} (median of the rounds: "
                  f"{', '.join(f'{p:.0%}' for p in paired)}; of the median rates "
                  f"{medians[f'{kind} year'] / medians[f'{kind} empty']:.0%})")
    worst = min(ratios[s[0]] for s in sources)
    flat = not args.year or abs(ratios["engine"] - 1) <= 0.20
    print(f"target (engine >= 60% of the baseline{', within 20% empty vs year' if args.year else ''}):"
          f" {'met' if worst >= 0.60 and flat else 'MISSED'}")
    if hop_results:
        print()
        for name, seconds in hop_results.items():
            print(f"{name:<58}{seconds * 1e6:8.1f} µs")
    if profiler:
        print()
        print(profile_report(profiler, args.journeys * args.rounds * len(sources)))


def count_plain_statements(shop: PlainShop) -> dict[str, int]:
    """The statements one baseline journey runs (its deliveries left out), counted by SQLite's trace."""
    return {step: len(statements) for step, statements in plain_statements(shop).items()}


def plain_statements(shop: PlainShop) -> dict[str, list[str]]:
    """The statements one baseline journey runs (its deliveries left out), per step, as SQLite traced them."""
    trace: list[str] = []
    shop.w.set_trace_callback(trace.append)
    counts: dict[str, list[str]] = {}
    try:
        channel, external_id = shop.customers[0]
        order = shop.place_order(channel, external_id, CART, "center")
        counts["place_order"] = trace[:]
        shop.move(order["order_id"], "placed", "accepted")
        counts["accept"] = trace[sum(map(len, counts.values())):]
        shop.move(order["order_id"], "accepted", "ready")
        counts["mark_ready"] = trace[sum(map(len, counts.values())):]
        shop.hand_over("center", order["short_code"])
        counts["hand_over"] = trace[sum(map(len, counts.values())):]
    finally:
        shop.w.set_trace_callback(None)
    return counts


def print_statements(recorded: dict[str, list], plain: dict[str, list[str]]) -> None:
    """--statements: each step's statements, the engine's (connection, SQL) and then the baseline's (as traced,
    parameters bound)."""
    for step in STEPS:
        print(f"\n== {step}: engine {len(recorded[step])}, baseline {len(plain[step])}")
        for n, (conn, sql, _) in enumerate(recorded[step], 1):
            print(f"  e{n:<3}{conn:<7}{' '.join(sql.split())}")
        for n, sql in enumerate(plain[step], 1):
            print(f"  b{n:<3}{'':<7}{' '.join(sql.split())}")


if __name__ == "__main__":
    asyncio.run(main())
