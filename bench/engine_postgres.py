"""Engine benchmark on PostgreSQL: journeys per second with one and with two processes, against raw asyncpg.

    python bench/engine.py --database postgresql://postgres@127.0.0.1:5432/test
                           [--concurrency 50] [--pool 10] [--duration 5] [--rounds 3] [--warmup 200]

The journey is the SQLite benchmark's (bench/engine.py): ``place_order`` (two latte lines with options, paid at
the counter) -> ``accept`` -> ``mark_ready`` -> ``hand_over`` by the short code. The URL names a server where the
run may create a database: it creates one fresh database for the run (migrated and seeded like the tests' shop)
and drops it afterwards.

Two worker processes (multiprocessing, spawn) each open their own ``PostgresDatabase`` (a pool of ``--pool``
connections) with an ``Engine``, and their own asyncpg pool of the same size for the baseline; each runs
``--concurrency`` customers of its own (asyncio tasks running journeys in a loop). Four configurations, each for
``--duration`` seconds, interleaved in every round (the order reversed every other round, so the tables' growth
favours none): the engine in one process, the baseline in one process, the engine in both, the baseline in both.
Both processes start at one moment (a shared monotonic deadline); a configuration's rate is every journey both
completed divided by the time from the start until the last one finished.

The baseline: during one journey of the engine (in the parent, before the workers start) the public query
methods of ``asyncpg.Connection`` (execute, executemany, fetch, fetchrow, fetchval) are wrapped at the class, so
every call is recorded as made, on whichever pooled connection, including the ``BEGIN ISOLATION LEVEL ...``,
``COMMIT`` and ``ROLLBACK`` of each unit of work (asyncpg's transaction runs them through ``execute``) and the
``FOR UPDATE`` and advisory locks inside; the pool's reset query on release is left out (the baseline's pool
runs its own). The baseline replays those calls through asyncpg directly for every journey, with the same
connection for the calls of one transaction (acquired from its pool at ``BEGIN``, released after ``COMMIT``),
the same interleaving of transactions, and the parameters rebound to fresh ids, a short code unique among the
open orders, and the task's own customer. What it leaves out is exactly the engine: rows made into objects,
pricing, checks, events, the unit of work's bookkeeping.

Besides journeys/s the table shows the journey's latency and where the CPU went per journey: the worker
processes (``time.process_time``), the PostgreSQL server (utime+stime from ``/proc`` of the backends on the
run's database and of the WAL writer, checkpointer and background writer; other databases' backends are left
out), the machine's busy share (``/proc/stat``) and how much of it was neither (other programs), since on a small
machine the server and the clients share the same cores; and where the server's backends spent the round
(``pg_stat_activity`` sampled every 20 ms: waiting for the client's next statement, for a lock and in which
statement, for the WAL to be flushed). The run checks itself: every journey must end picked up, and the
orders picked up in the database must be exactly the journeys run.
"""
from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import secrets
import signal
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import asyncpg
import engine as sqlite_bench  # bench/engine.py: the journey, the cart, the staff, the clock
from shop_fixtures import seed

from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from journey.ids import new_id
from journey.limits import ShopLimits
from storage.postgres import PostgresDatabase

STEPS = sqlite_bench.STEPS
RECORDED = ("execute", "executemany", "fetch", "fetchrow", "fetchval")
CONFIGS = (("engine", 1), ("asyncpg", 1), ("engine", 2), ("asyncpg", 2))
ENGINE_BASE, BASELINE_BASE = 10_000, 500_000  # customers: worker w's n-th is base + w * 100_000 + n


def customer_ref(base: int, worker: int, n: int) -> CustomerRef:
    number = base + worker * 100_000 + n
    return CustomerRef(Channel.TELEGRAM, str(number), f"Гость {number}")


# --- capture ---------------------------------------------------------------------------------------------------

class Capture:
    """Wraps asyncpg.Connection's query methods at the class while open; keeps (connection, method, sql, args)."""

    def __init__(self) -> None:
        self.log: list[tuple[int, str, str, tuple]] = []
        self._saved: dict[str, Any] = {}

    def __enter__(self) -> Capture:
        for name in RECORDED:
            real = getattr(asyncpg.Connection, name)
            self._saved[name] = real
            setattr(asyncpg.Connection, name, self._wrap(name, real))
        return self

    def __exit__(self, *exc: object) -> None:
        for name, real in self._saved.items():
            setattr(asyncpg.Connection, name, real)

    def _wrap(self, name: str, real: Callable) -> Callable:
        log = self.log

        async def recorded(conn: asyncpg.Connection, query: str, *args: Any, **kw: Any) -> Any:
            if not (name == "execute" and not args and query == conn.get_reset_query()):  # the pool's, on release
                log.append((id(conn), name, query, args[0] if name == "executemany" else args))
            return await real(conn, query, *args, **kw)
        return recorded


def units(log: list[tuple[int, str, str, tuple]]) -> list[tuple[int, str, str, tuple]]:
    """The calls with each connection's transaction numbered: (unit, method, sql, args). A call outside any
    transaction is a unit of its own (autocommit), as the pool's fetch methods are."""
    out: list[tuple[int, str, str, tuple]] = []
    open_units: dict[int, int] = {}
    count = 0
    for conn, method, sql, args in log:
        head = sql.lstrip().upper()
        if head.startswith("BEGIN"):
            open_units[conn] = count = count + 1
            out.append((count, "begin", sql, args))
        elif conn in open_units and head.rstrip(";") in ("COMMIT", "ROLLBACK"):
            out.append((open_units.pop(conn), "end", sql, args))
        elif conn in open_units:
            out.append((open_units[conn], method, sql, args))
        else:
            count += 1
            out.append((count, "alone:" + method, sql, args))
    if open_units:
        raise AssertionError("a transaction of the captured journey was left open")
    return out


async def capture_journey(engine: Engine, ref: CustomerRef) -> tuple[dict[str, list], dict[str, str]]:
    """One journey with the query methods recorded: per step, its calls; and the journey's ids."""
    recorded: dict[str, list] = {}
    with Capture() as capture:
        view = await engine.place_order(ref, sqlite_bench.CART, "center")
        marks = [("place_order", len(capture.log))]
        await engine.accept(sqlite_bench.STAFF, view.order.id)
        marks.append(("accept", len(capture.log)))
        await engine.mark_ready(sqlite_bench.STAFF, view.order.id)
        marks.append(("mark_ready", len(capture.log)))
        await engine.hand_over(sqlite_bench.STAFF, short_code=view.order.short_code, point_id="center")
        marks.append(("hand_over", len(capture.log)))
    start = 0
    for step, end in marks:
        recorded[step] = units(capture.log[start:end])
        start = end
    order = view.order
    async with engine.read() as uow:
        payment = await uow.payments.for_order(order.id)
    assert payment is not None
    ids = {"order": order.id, "payment": payment.id, "customer": order.customer_id, "short_code": order.short_code,
           "external_id": ref.external_id, "key": ref.key}
    return recorded, ids


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


def check_rebinding(recorded: dict[str, list], ids: dict[str, str]) -> None:
    """Every parameter that carries one of the journey's ids must be one the rebinding changes."""
    fresh = {"order": new_id("o"), "payment": new_id("pay"), "customer": "c-other", "short_code": "9999",
             "external_id": "77777", "key": "telegram:77777"}
    rebind = rebinder(ids)(fresh)
    for step in STEPS:
        for _, method, sql, args in recorded[step]:
            for rows in (args if method.endswith("executemany") else [args]):
                for old, new in zip(rows, rebind(tuple(rows)), strict=True):
                    if isinstance(old, str) and old == new and any(
                            v in old for k, v in ids.items() if k not in ("short_code", "external_id")):
                        raise AssertionError(f"{step}: {sql[:60]!r} keeps {old!r}")


# --- the worker processes -------------------------------------------------------------------------------------

def worker(index: int, url: str, pool: int, concurrency: int, pipe: Pipe) -> None:
    asyncio.run(_worker(index, url, pool, concurrency, pipe))


async def _worker(index: int, url: str, pool: int, concurrency: int, pipe: Pipe) -> None:
    db = await PostgresDatabase(url, pool_size=pool).connect()
    engine = Engine(db.uow, owners=[sqlite_bench.STAFF], clock=sqlite_bench.RunningClock(), reader=db.reading,
                    limits=ShopLimits.off())  # the engine's own speed: no abuse limits
    await engine.start()
    plain = await asyncpg.create_pool(url, min_size=1, max_size=pool)
    loop = asyncio.get_running_loop()
    recorded: dict[str, list] = {}
    customers: list[tuple[str, str]] = []
    codes = iter(range(10**9))
    done = {"engine": 0, "asyncpg": 0}
    try:
        while True:
            message = await loop.run_in_executor(None, pipe.recv)
            kind = message[0]
            if kind == "stop":
                pipe.send(done)
                return
            if kind == "script":
                recorded, ids = message[1], message[2]
                rebind_for = rebinder(ids)
                async with db.reading() as uow:
                    for n in range(concurrency):
                        ref = customer_ref(BASELINE_BASE, index, n)
                        found = await uow.customers.by_account(ref.channel, ref.external_id)
                        assert found is not None
                        customers.append((found.id, ref.external_id))
                pipe.send("ready")
                continue
            _, what, start_at, duration = message
            started_cpu = time.process_time()
            try:
                if what == "engine":
                    result = await _engine_round(engine, index, concurrency, start_at, duration)
                else:
                    script = [(step, recorded[step]) for step in STEPS]
                    result = await _baseline_round(plain, script, rebind_for, customers, codes, index, start_at,
                                                   duration)
            except Exception:  # the parent stops the run and shows it, rather than waiting for an answer
                pipe.send({"error": f"worker {index}, {what}:\n{traceback.format_exc()}"})
                raise
            done[what] += result["journeys"]
            result["cpu"] = time.process_time() - started_cpu
            pipe.send(result)
    finally:
        for closing in (plain.close(), db.close()):
            with contextlib.suppress(Exception):  # a failed round left a connection out: the process is ending
                await asyncio.wait_for(closing, 10)


async def _until(start_at: float) -> None:
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))


async def _engine_round(engine: Engine, index: int, concurrency: int, start_at: float, duration: float) -> dict:
    timings: dict[str, list[float]] = {s: [] for s in (*STEPS, "journey")}
    await _until(start_at)
    end = start_at + duration
    count = 0

    async def customer(n: int) -> None:
        nonlocal count
        ref = customer_ref(ENGINE_BASE, index, n)
        while time.monotonic() < end:
            await sqlite_bench.journey(engine, ref, timings)
            count += 1

    await asyncio.gather(*(customer(n) for n in range(concurrency)))
    return {"journeys": count, "finished": time.monotonic(), "timings": _summary(timings)}


async def _baseline_round(pool: asyncpg.Pool, script: list, rebind_for: Callable, customers: list,
                          codes: Any, index: int, start_at: float, duration: float) -> dict:
    timings: dict[str, list[float]] = {s: [] for s in (*STEPS, "journey")}
    await _until(start_at)
    end = start_at + duration
    perf = time.perf_counter
    count = 0

    async def customer(customer_id: str, external_id: str) -> None:
        nonlocal count
        while time.monotonic() < end:
            # a short code unique among this worker's open orders; the two workers use different halves
            code = f"{index * 5000 + next(codes) % 5000:04d}"
            rebind = rebind_for({"order": new_id("o"), "payment": new_id("pay"), "customer": customer_id,
                                 "short_code": code, "external_id": external_id, "key": f"telegram:{external_id}"})
            held: dict[int, Any] = {}
            t_journey = perf()
            for step, calls in script:
                t0 = perf()
                for unit, method, sql, args in calls:
                    if method == "begin":
                        held[unit] = conn = await pool.acquire()
                        await conn.execute(sql)
                    elif method == "end":
                        conn = held.pop(unit)
                        await conn.execute(sql)
                        await pool.release(conn)
                    elif method.startswith("alone:"):
                        await getattr(pool, method[6:])(sql, *_rebound(method, args, rebind))
                    elif method == "executemany":
                        await held[unit].executemany(sql, [rebind(tuple(r)) for r in args])
                    else:
                        await getattr(held[unit], method)(sql, *rebind(args))
                timings[step].append(perf() - t0)
            timings["journey"].append(perf() - t_journey)
            count += 1

    await asyncio.gather(*(customer(c, e) for c, e in customers))
    return {"journeys": count, "finished": time.monotonic(), "timings": _summary(timings)}


def _rebound(method: str, args: Any, rebind: Callable) -> Any:
    return ([[rebind(tuple(r)) for r in args]] if method.endswith("executemany") else rebind(args))


def _summary(timings: dict[str, list[float]]) -> dict[str, tuple[float, float]]:
    return {step: (sqlite_bench.pct(v, .5), sqlite_bench.pct(v, .99)) if v else (0.0, 0.0)
            for step, v in timings.items()}


# --- CPU accounting -----------------------------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pids: set[int]) -> dict[int, float]:
    """CPU seconds (utime + stime) of each of these processes so far."""
    out = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        out[pid] = (int(fields[11]) + int(fields[12])) / TICK
    return out


SERVER_PIDS = ("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
               " OR backend_type IN ('walwriter', 'checkpointer', 'background writer')")


async def server_pids(conn: asyncpg.Connection) -> set[int]:
    """The server's processes working for this database (its backends, autovacuum on it) and the ones every
    database shares (the WAL writer, the checkpointer, the background writer); other databases' backends (other
    programs' tests on the same server) are not counted."""
    return {r[0] for r in await conn.fetch(SERVER_PIDS)}


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / TICK, sum(fields) / TICK


async def sample_waits(url: str, start_at: float, end_at: float) -> dict[str, float]:
    """Where the round's server backends were, sampled every 20 ms from pg_stat_activity: running (on a CPU or
    ready for one), waiting for a lock (a row's, an advisory one), for the WAL to be flushed (a commit), or for
    the client's next statement inside a transaction (a round trip, the client's own work). Shares of all
    samples of the backends busy with a transaction."""
    conn = await asyncpg.connect(url)
    counts: dict[str, int] = {}
    try:
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        while time.monotonic() < end_at:
            rows = await conn.fetch(
                "SELECT state, wait_event_type, wait_event, query FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                " AND state IN ('active', 'idle in transaction')")
            for row in rows:
                if row["state"] == "idle in transaction":
                    key = "idle in transaction (client's turn)"
                elif row["wait_event_type"] is None:
                    key = "running (CPU)"
                elif row["wait_event_type"] == "Lock":
                    key = f"lock ({row['wait_event']}) in {' '.join(row['query'].split()[:4])[:40]}"
                else:
                    key = f"{row['wait_event_type']}: {row['wait_event']}"
                counts[key] = counts.get(key, 0) + 1
            await asyncio.sleep(0.02)
    finally:
        await conn.close()
    total = sum(counts.values()) or 1
    return {k: v / total for k, v in sorted(counts.items(), key=lambda kv: -kv[1])}


# --- the run -------------------------------------------------------------------------------------------------------

async def create_database(server: str) -> str:
    name = f"vitrina_bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{server.rpartition('/')[0]}/{name}"


async def drop_database(server: str, url: str) -> None:
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')
    finally:
        await conn.close()


async def prepare(url: str, concurrency: int, warmup: int) -> tuple[dict[str, list], dict[str, str], int, list[str]]:
    """Seed the shop and every customer; warm up; capture one journey. Returns the script, its ids, the journeys
    run here, and a description of the server."""
    db = await PostgresDatabase(url, pool_size=4).connect()
    try:
        engine = Engine(db.uow, owners=[sqlite_bench.STAFF], clock=sqlite_bench.RunningClock(), reader=db.reading,
                    limits=ShopLimits.off())  # the engine's own speed: no abuse limits
        await engine.start()
        await seed(engine)  # the latte has no stock row: unlimited
        for w in range(2):
            for n in range(concurrency):
                await engine.identify(customer_ref(ENGINE_BASE, w, n))
                await engine.identify(customer_ref(BASELINE_BASE, w, n))
        for n in range(warmup):
            await sqlite_bench.journey(engine, customer_ref(ENGINE_BASE, 0, n % concurrency))
        recorded, ids = await capture_journey(engine, customer_ref(BASELINE_BASE, 0, 0))
        check_rebinding(recorded, ids)
        server = [await db.pool.fetchval("SELECT version()")]
        for setting in ("synchronous_commit", "fsync", "shared_buffers", "max_connections"):
            server.append(f"{setting}={await db.pool.fetchval(f'SHOW {setting}')}")
    finally:
        await db.close()
    return recorded, ids, warmup + 1, server


def describe(recorded: dict[str, list]) -> str:
    calls = {s: [c for c in recorded[s] if c[1] not in ("begin", "end")] for s in STEPS}
    per_step = ", ".join(f"{s} {len(calls[s])}" for s in STEPS)
    transactions = [c for s in STEPS for c in recorded[s] if c[1] == "begin"]
    writes = sum(1 for c in transactions if "READ ONLY" not in c[2].upper())
    locks = sum(1 for s in STEPS for c in calls[s] if "FOR UPDATE" in c[2].upper() or "advisory" in c[2])
    alone = sum(1 for s in STEPS for c in calls[s] if c[1].startswith("alone:"))
    statements = sum(len(v) for v in calls.values())
    return (f"one journey = {statements} statements ({per_step}) in {len(transactions)} "
            f"transactions ({writes} read-write at READ COMMITTED, {len(transactions) - writes} REPEATABLE READ "
            f"READ ONLY){f', {alone} outside a transaction' if alone else ''}; {locks} of them lock "
            f"(FOR UPDATE or an advisory lock);\n             with BEGIN, COMMIT and the pool's reset on release: "
            f"{statements + 3 * len(transactions) + alone} round trips to the server")


async def run(args: Any) -> None:
    server = args.database
    print("\n".join(sqlite_bench.machine()[:3]) + f"\nasyncpg    {asyncpg.__version__}")
    print(f"command    python bench/engine.py --database {_shown(server)} --concurrency {args.concurrency} "
          f"--pool {args.pool} --duration {args.duration:g} --rounds {args.rounds}")
    url = await create_database(server)
    task = asyncio.current_task()
    if task is not None:  # a SIGTERM (timeout, kill) still drops the run's database on the way out
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    workers: list[tuple[Any, Pipe]] = []
    try:
        recorded, ids, done_here, about = await prepare(url, args.concurrency, args.warmup)
        print(f"server     {about[0].split(',')[0]} on the same machine ({', '.join(about[1:])})")
        print(describe(recorded))
        ctx = mp.get_context("spawn")
        for w in range(2):
            ours, theirs = ctx.Pipe()
            process = ctx.Process(target=worker, args=(w, url, args.pool, args.concurrency, theirs), daemon=True)
            process.start()
            workers.append((process, ours))
        for _, pipe in workers:
            pipe.send(("script", recorded, ids))
        for _, pipe in workers:
            assert pipe.recv() == "ready"
        # a warm-up round of each (connections opened, statements prepared), not counted in the table
        for what, processes in CONFIGS:
            await _round(workers, what, processes, 1.0, url)
        results: dict[tuple[str, int], list[dict]] = {c: [] for c in CONFIGS}
        for r in range(args.rounds):
            for config in (CONFIGS if r % 2 == 0 else tuple(reversed(CONFIGS))):
                results[config].append(await _round(workers, *config, args.duration, url))
                print(f"  round {r + 1}: {config[0]:<8} x{config[1]} process{'es' if config[1] > 1 else '  '} "
                      f"{results[config][-1]['rate']:7.0f} journeys/s", flush=True)
        totals = {"engine": 0, "asyncpg": 0}
        for process, pipe in workers:
            pipe.send(("stop",))
            for what, n in pipe.recv().items():
                totals[what] += n
            process.join(30)
        workers = []
        conn = await asyncpg.connect(url)
        try:
            picked = await conn.fetchval("SELECT count(*) FROM orders WHERE status = 'picked_up'")
            placed = await conn.fetchval("SELECT count(*) FROM orders")
            earned = await conn.fetchval("SELECT count(*) FROM ledger WHERE reason = 'earn' AND delta > 0")
        finally:
            await conn.close()
        expected = done_here + totals["engine"] + totals["asyncpg"]
        assert picked == placed == expected, f"{expected} journeys, {placed} orders, {picked} picked up"
        assert earned == expected, f"{expected} journeys but {earned} earned points"
    finally:
        for process, _ in workers:
            process.kill()
        await drop_database(server, url)
    report(results, args)


async def _round(workers: list[tuple[Any, Pipe]], what: str, processes: int, duration: float, url: str) -> dict:
    watcher = await asyncpg.connect(url)
    try:
        pids = await server_pids(watcher)
    finally:
        await watcher.close()
    cpu0, (busy0, total0) = process_cpu(pids), machine_busy()
    start_at = time.monotonic() + 0.3
    for _, pipe in workers[:processes]:
        pipe.send(("round", what, start_at, duration))
    loop = asyncio.get_running_loop()
    sampling = asyncio.ensure_future(sample_waits(url, start_at, start_at + duration))
    try:
        parts = [await loop.run_in_executor(None, pipe.recv) for _, pipe in workers[:processes]]
        waits = await sampling
    finally:
        sampling.cancel()
    for part in parts:
        if "error" in part:
            raise AssertionError(part["error"])
    cpu1, (busy1, total1) = process_cpu(pids), machine_busy()
    server = sum(cpu1[p] - cpu0.get(p, 0.0) for p in cpu1)
    elapsed = max(p["finished"] for p in parts) - start_at
    journeys = sum(p["journeys"] for p in parts)
    timings = {s: (statistics.fmean(p["timings"][s][0] for p in parts), max(p["timings"][s][1] for p in parts))
               for s in (*STEPS, "journey")}
    return {"rate": journeys / elapsed, "journeys": journeys, "elapsed": elapsed, "timings": timings,
            "client_cpu": sum(p["cpu"] for p in parts), "server_cpu": server, "waits": waits,
            "busy": (busy1 - busy0) / max(total1 - total0, 1e-9),
            # what else ran on the machine meanwhile (other programs): busy time that was neither ours nor the server's
            "others": max(0.0, (busy1 - busy0) - server - sum(p["cpu"] for p in parts)) / max(total1 - total0, 1e-9)}


def _shown(url: str) -> str:
    if "@" in url and ":" in url.split("://", 1)[1].split("@")[0]:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://{rest.split(':')[0]}:...@{rest.rsplit('@', 1)[1]}"
    return url


def report(results: dict[tuple[str, int], list[dict]], args: Any) -> None:
    def median(config: tuple[str, int]) -> dict:
        rounds = sorted(results[config], key=lambda r: r["rate"])
        return rounds[len(rounds) // 2]

    picked = {c: median(c) for c in CONFIGS}
    names = {c: f"{'engine' if c[0] == 'engine' else 'asyncpg'} x{c[1]}p" for c in CONFIGS}
    print()
    print(f"{args.concurrency} customers and a pool of {args.pool} connections per process; {args.rounds} rounds of "
          f"{args.duration:g} s per configuration, the median round shown")
    print(f"{'step (ms)':<14}" + "".join(f"{names[c]:>20}" for c in CONFIGS))
    print(f"{'':<14}" + "".join(f"{'p50':>10}{'p99':>10}" for _ in CONFIGS))
    for step in (*STEPS, "journey"):
        print(f"{step:<14}" + "".join(f"{picked[c]['timings'][step][0] * 1000:>10.2f}"
                                      f"{picked[c]['timings'][step][1] * 1000:>10.2f}" for c in CONFIGS))
    print(f"{'journeys/s':<14}" + "".join(f"{picked[c]['rate']:>20.0f}" for c in CONFIGS))
    print(f"{'all rounds':<14}" + "".join(f"{'/'.join(str(round(r['rate'])) for r in results[c]):>20}"
                                         for c in CONFIGS))
    print(f"{'client CPU/j':<14}" + "".join(f"{picked[c]['client_cpu'] / picked[c]['journeys'] * 1000:>17.2f} ms"
                                           for c in CONFIGS))
    print(f"{'server CPU/j':<14}" + "".join(f"{picked[c]['server_cpu'] / picked[c]['journeys'] * 1000:>17.2f} ms"
                                           for c in CONFIGS))
    print(f"{'machine busy':<14}" + "".join(f"{picked[c]['busy']:>20.0%}" for c in CONFIGS))
    print(f"{'  other progs':<14}" + "".join(f"{picked[c]['others']:>20.0%}" for c in CONFIGS))
    print("where the server's busy backends were (samples of pg_stat_activity every 20 ms):")
    for c in CONFIGS:
        top = list(picked[c]["waits"].items())[:5]
        print(f"  {names[c]:<12}" + ", ".join(f"{k} {v:.0%}" for k, v in top))
    e1, b1, e2, b2 = (picked[c]["rate"] for c in CONFIGS)
    print()
    print(f"two processes / one: engine {e2 / e1:.2f}x, asyncpg {b2 / b1:.2f}x   (target: engine >= 1.7x)")
    print(f"engine / asyncpg: {e1 / b1:.0%} with one process, {e2 / b2:.0%} with two   (target: >= 50%)")
    cores = os.cpu_count() or 1
    e2p = picked[("engine", 2)]
    print(f"the machine has {cores} CPU{'s' if cores > 1 else ''} for the server and the clients together; "
          f"with two engine processes it was {e2p['busy']:.0%} busy, {e2p['others']:.0%} of it other programs; "
          f"per journey the server used {e2p['server_cpu'] / e2p['journeys'] * 1000:.1f} ms of CPU and the engine's "
          f"processes {e2p['client_cpu'] / e2p['journeys'] * 1000:.1f} ms")
    met = e2 / e1 >= 1.7 and min(e1 / b1, e2 / b2) >= 0.5
    print(f"targets: {'met' if met else 'MISSED'}" + ("" if met else " (see the CPU lines above for why)"))


if __name__ == "__main__":  # run through bench/engine.py --database ...
    sys.exit("run: python bench/engine.py --database postgresql://...")
