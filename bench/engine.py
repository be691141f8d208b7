"""Engine benchmark: complete customer journeys per second through the Engine on SQLite.

    python bench/engine.py [--journeys 3000] [--concurrency 50] [--warmup 200] [--hops] [--profile]
                           [--keep DIR]
    python bench/engine.py --database postgresql://... [--concurrency 50] [--pool 10] [--duration 5] [--rounds 3]

(``--database``: the same journeys on PostgreSQL, with one and two processes, against raw asyncpg; see
bench/engine_postgres.py.)

A journey is what happens at the counter for one order paid at the counter: ``place_order`` (two
lines of latte with options) -> ``accept`` -> ``mark_ready`` -> ``hand_over`` by the short code (the
payment is captured and points are earned). ``--concurrency`` customers (asyncio tasks) run journeys
in a loop until ``--journeys`` are done; the staff account doing the counter work is listed in
``owners``. The database is a fresh temporary file seeded like ``tests/conftest.py``'s ``seed``
(two points, four items), with no stock rows for the items ordered (made to order: unlimited), and
with the customers created before the clock starts, so the run measures the steady state. A second
engine run with one customer (``x1``, up to 500 journeys) shows the step latencies without waiting
for the write lock.

Baseline, in the same run: the same SQL statements, straight through the stdlib ``sqlite3`` module in
a loop, on a second fresh database file with the same schema, seed and pragmas (WAL,
``synchronous=NORMAL``, ``foreign_keys=ON``, the same cache size), with a writer and a read-only
connection like the engine's. How the statements are obtained: during one engine journey a trace
callback (``sqlite3.Connection.set_trace_callback``) is set on both of the engine's connections and
shows every statement SQLite ran; at the same time both connections are wrapped in a recorder that
keeps each ``execute(sql, params)`` call exactly as the engine made it (the trace only has the SQL
with the values inlined, and it lists a statement that fires a trigger twice). The recorded calls are
checked against the trace, then replayed for every baseline journey with the engine's own SQL text and
its parameters rebound: fresh order and payment ids, a fresh short code, and the customer rotating
over as many customers as the engine run has. ``BEGIN IMMEDIATE``/``COMMIT`` per unit of work (and
``BEGIN``/``ROLLBACK`` of the read-only ones) are part of the recording, so the baseline commits as
often as the engine does. What the baseline leaves out is exactly the engine: Python objects built
from rows, pricing, checks and asyncio; ``COMMIT`` runs inline (the checkpoint runs in its own thread).

``--hops`` adds a micro-benchmark: one statement inline on the event loop vs the same statement
through one hop to aiosqlite's worker thread, vs aiosqlite's public API (three hops), and whole units
of work (one writing a row, one writing nothing) against the same write in plain ``sqlite3``.
``--profile`` runs the engine part under cProfile and prints where the event loop's time goes.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import platform
import pstats
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "tests"))

import aiosqlite  # noqa: E402
from shop_fixtures import seed  # noqa: E402

from journey.channels import Channel, CustomerRef  # noqa: E402
from journey.engine import Engine  # noqa: E402
from journey.ids import new_id  # noqa: E402
from journey.limits import ShopLimits  # noqa: E402
from journey.model import CartLine  # noqa: E402
from journey.states import OrderStatus  # noqa: E402
from storage.sqlite import SqliteDatabase  # noqa: E402

STEPS = ("place_order", "accept", "mark_ready", "hand_over")
STAFF = CustomerRef(Channel.TELEGRAM, "2", "Бариста")
START = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)  # a Wednesday, 09:00 in Moscow: open

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


async def open_shop(path: Path, customers: int) -> tuple[SqliteDatabase, Engine]:
    db = await SqliteDatabase(path).connect()
    # the engine's own speed: no abuse limits (one barista hands over every order, a few customers order)
    engine = Engine(db.uow, owners=[STAFF], clock=RunningClock(), reader=db.reading, limits=ShopLimits.off())
    await engine.start()
    await seed(engine)  # the items ordered here (latte) have no stock row: unlimited
    for n in range(customers):
        await engine.identify(customer_ref(n))
    return db, engine


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


async def run_engine(engine: Engine, journeys: int, concurrency: int) -> tuple[float, dict[str, list[float]]]:
    timings: dict[str, list[float]] = {s: [] for s in (*STEPS, "journey")}
    left = journeys

    async def customer(n: int) -> None:
        nonlocal left
        ref = customer_ref(n)
        while left > 0:
            left -= 1
            await journey(engine, ref, timings)

    started = time.perf_counter()
    await asyncio.gather(*(customer(n) for n in range(concurrency)))
    return time.perf_counter() - started, timings


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


# --- the baseline ---------------------------------------------------------------------------------------

def open_plain(path: Path) -> dict[str, sqlite3.Connection]:
    writer = sqlite3.connect(path, isolation_level=None)
    reader = sqlite3.connect(path, isolation_level=None)
    for conn in (writer, reader):
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA cache_size = -16000")
    reader.execute("PRAGMA query_only = ON")
    return {"writer": writer, "reader": reader}


def rebinder(ids: dict[str, str]) -> Callable[[dict[str, str]], Callable[[tuple], tuple]]:
    """For fresh ids, a function that rebinds one statement's parameters."""
    exact_keys = ("order", "payment", "customer", "short_code", "external_id", "key")
    inner_keys = ("order", "payment", "customer", "key")  # long, unique: safe to replace inside JSON and keys

    def for_ids(fresh: dict[str, str]) -> Callable[[tuple], tuple]:
        exact = {ids[k]: fresh[k] for k in exact_keys}
        inner = [(ids[k], fresh[k]) for k in inner_keys]

        def rebind(params: tuple) -> tuple:
            out = []
            for p in params:
                if isinstance(p, str):
                    if p in exact:
                        p = exact[p]
                    elif len(p) > 12:
                        for old, new in inner:
                            if old in p:
                                p = p.replace(old, new)
                out.append(p)
            return tuple(out)
        return rebind
    return for_ids


def run_baseline(conns: dict[str, sqlite3.Connection], recorded: dict[str, list], ids: dict[str, str],
                 customers: list[tuple[str, str]], journeys: int) -> tuple[float, dict[str, list[float]]]:
    timings: dict[str, list[float]] = {s: [] for s in (*STEPS, "journey")}
    for_ids = rebinder(ids)
    steps = [(step, [(conns[c], sql, params) for c, sql, params in recorded[step]]) for step in STEPS]
    perf = time.perf_counter
    started = perf()
    for n in range(journeys):
        customer_id, external_id = customers[n % len(customers)]
        rebind = for_ids({"order": new_id("o"), "payment": new_id("pay"), "customer": customer_id,
                          "short_code": f"{random.randrange(10000):04d}", "external_id": external_id,
                          "key": f"telegram:{external_id}"})
        t_journey = perf()
        for step, statements in steps:
            t0 = perf()
            for conn, sql, params in statements:
                conn.execute(sql, rebind(params)).fetchall()
            timings[step].append(perf() - t0)
        timings["journey"].append(perf() - t_journey)
    return perf() - started, timings


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


def table(results: list[tuple[str, float, int, dict[str, list[float]]]]) -> str:
    out = io.StringIO()
    header = f"{'step (ms)':<12}" + "".join(f"{name:>22}" for name, *_ in results)
    out.write(header + "\n" + f"{'':<12}" + "".join(f"{'p50':>11}{'p99':>11}" for _ in results) + "\n")
    for step in (*STEPS, "journey"):
        out.write(f"{step:<12}" + "".join(f"{ms(pct(t[step], .5)):>11}{ms(pct(t[step], .99)):>11}"
                                          for _, _, _, t in results) + "\n")
    out.write(f"{'journeys/s':<12}" + "".join(f"{n / elapsed:>22.0f}" for _, elapsed, n, _ in results) + "\n")
    return out.getvalue()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--journeys", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=200, help="journeys run before measuring (default 200)")
    parser.add_argument("--hops", action="store_true", help="also measure one thread hop vs an inline statement")
    parser.add_argument("--profile", action="store_true", help="profile the engine run with cProfile")
    parser.add_argument("--keep", metavar="DIR", help="keep the databases in DIR instead of a temporary folder")
    parser.add_argument("--database", metavar="URL", help="postgresql://...: a server where the run may create (and "
                        "drop) a database of its own; runs bench/engine_postgres.py (default: SQLite files)")
    parser.add_argument("--pool", type=int, default=10, help="PostgreSQL: connections per process (default 10)")
    parser.add_argument("--duration", type=float, default=5.0, help="PostgreSQL: seconds per round (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="PostgreSQL: rounds of each configuration (default 3)")
    args = parser.parse_args()
    if args.database:
        if not args.database.startswith(("postgresql://", "postgres://")):
            parser.error("--database takes a postgresql:// URL (SQLite is the default, on temporary files)")
        import engine_postgres  # bench/engine_postgres.py

        await engine_postgres.run(args)
        return

    folder = Path(args.keep or tempfile.mkdtemp(prefix="vitrina-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("engine.db", "baseline.db"):
        for suffix in ("", "-wal", "-shm"):
            (folder / (name + suffix)).unlink(missing_ok=True)
    print("\n".join(machine()))
    print(f"command    python bench/engine.py --journeys {args.journeys} --concurrency {args.concurrency}"
          + (" --hops" if args.hops else "") + (" --profile" if args.profile else ""))
    print()

    customers = max(args.concurrency, 1)
    try:
        # the baseline's database: the same schema, seed and customers, made by the same code
        db, _ = await open_shop(folder / "baseline.db", customers)
        async with db.reading() as uow:
            plain_customers = [(c.id, str(1000 + n)) for n in range(customers)
                               if (c := await uow.customers.by_account(Channel.TELEGRAM, str(1000 + n)))]
        await db.close()

        db, engine = await open_shop(folder / "engine.db", customers)
        for n in range(args.warmup):  # warm caches and the statement cache; also checks a journey works
            await journey(engine, customer_ref(n % customers))
        recorded, traced, ids = await capture(db, engine, customer_ref(0))
        calls, lines = check_against_trace(recorded, traced)
        per_step = ", ".join(f"{s} {len(recorded[s])}" for s in STEPS)
        print(f"one journey = {calls} statements ({per_step}); the trace shows {lines} lines "
              f"(a statement firing a trigger is traced twice)")
        units = sum(1 for s in STEPS for c, sql, _ in recorded[s] if sql.startswith("BEGIN IMMEDIATE"))
        reads = sum(1 for s in STEPS for c, sql, _ in recorded[s] if c == "reader" and sql == "BEGIN")
        print(f"             {units} read-write units of work, {reads} read-only ones (none makes a thread hop)")

        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        elapsed, timings = await run_engine(engine, args.journeys, args.concurrency)
        if profiler:
            profiler.disable()
        done = args.warmup + 1 + args.journeys
        earned = db.reader.execute("SELECT COUNT(*) FROM ledger WHERE reason = 'earn' AND delta > 0").fetchone()[0]
        assert earned == done, f"{done} journeys but {earned} earned points"
        single_elapsed, single = await run_engine(engine, min(500, args.journeys), 1)
        hop_results = await hops(db) if args.hops else {}
        await db.close()

        conns = open_plain(folder / "baseline.db")
        run_baseline(conns, recorded, ids, plain_customers, min(200, args.journeys))  # warm-up, like the engine's
        base_elapsed, base = run_baseline(conns, recorded, ids, plain_customers, args.journeys)
        picked = conns["writer"].execute("SELECT COUNT(*) FROM orders WHERE status = 'picked_up'").fetchone()[0]
        assert picked == args.journeys + min(200, args.journeys), f"the baseline completed {picked} journeys"
        for conn in conns.values():
            conn.close()
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    print()
    print(table([(f"engine x{args.concurrency}", elapsed, args.journeys, timings),
                 ("engine x1", single_elapsed, min(500, args.journeys), single),
                 ("sqlite3 baseline", base_elapsed, args.journeys, base)]))
    rate, base_rate = args.journeys / elapsed, args.journeys / base_elapsed
    print(f"engine {rate:.0f} journeys/s with {args.concurrency} concurrent customers; baseline {base_rate:.0f}"
          f" journeys/s; ratio engine/baseline = {rate / base_rate:.0%}")
    print(f"per journey: engine {elapsed / args.journeys * 1e6:.0f} µs,"
          f" baseline {base_elapsed / args.journeys * 1e6:.0f} µs (latencies at x{args.concurrency} include waiting"
          " for the write lock: one writer at a time)")
    target = rate >= 1000 and rate / base_rate >= 0.40
    print(f"target (>= 1000 journeys/s and >= 40% of the baseline): {'met' if target else 'MISSED'}")
    if hop_results:
        print()
        for name, seconds in hop_results.items():
            print(f"{name:<58}{seconds * 1e6:8.1f} µs")
    if profiler:
        print()
        print(profile_report(profiler, args.journeys))


if __name__ == "__main__":
    asyncio.run(main())
