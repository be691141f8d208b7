"""Relay benchmark: does the outbox relay keep up with the shop at full load, and what does it cost the shop?

    python bench/relay.py [--duration 15] [--rounds 3] [--concurrency 50] [--rate N] [--stub-qr]
                          [--year] [--orders 100000] [--customers 20000] [--year-db FILE] [--keep DIR]

The load is bench/engine.py's: ``--concurrency`` customers (asyncio tasks) run journeys through one ``Engine``
on ``SqliteDatabase`` (``ShopLimits.off()``) in a loop for ``--duration`` seconds: ``place_order`` (two latte
lines with options, paid at the counter) -> ``accept`` -> ``mark_ready`` -> ``hand_over`` by the short code.
Each journey stores five events (placed, accepted, ready, picked up, points earned). The relay is wired as
``vitrina run`` wires it on SQLite (``OutboxRelay`` reading on ``db.reading``, the database's job locks,
``run(0.5)``) with the real ``Notifier``: the new order to a staff chat, each customer's texts, the ready
order's QR code drawn for real (``--stub-qr``: one fixed image) and handed to a messenger that drops it.

``--rate N`` offers N journeys/s instead (each customer starts one every ``concurrency / N`` seconds): the
load a shop's customers make, below what the machine can take, to see the lag there.

Every round runs, on fresh copies of one prepared file, in an order that alternates from round to round:

- **relay on**: the load with the relay running. Reported: journeys/s; the notifications' lag (the run's
  clock from an event's creation to the end of its delivery) p50/p99 over every event created in the round;
  the backlog when the load stops (events created and not delivered yet); events delivered per second.
- **relay off**: the same load with no relay: journeys/s, so on/off is what notifications cost the shop.
  Then **alone**: the relay delivers the events that round left, nothing else running: events/s.

After the rounds, on the file of the last "relay on" round: the time of a round with nothing pending (what
an idle relay costs every 0.5 s), and with the subscriber's cursor deleted (a cursor lost): how many rounds
the relay takes to find its place again and the longest of them. ``--year`` runs all of it on a year of data
too (bench/year.py: ``--orders`` orders by ``--customers`` customers, the outbox of its last 30 days handled);
``--year-db FILE`` reuses the year file an earlier run of this benchmark kept (``--keep DIR`` keeps the files).
Targets (issue #14): lag p99 under 2 s and no backlog at full load, on an empty database and on a year.
"""
from __future__ import annotations

import argparse
import asyncio
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "tests"))

from engine import CART, SECRET, STAFF, STAFF_CHAT, START, NullMessenger, RunningClock, StubQr  # noqa: E402
from shop_fixtures import seed  # noqa: E402

from adapters.qr import QrcodeRenderer  # noqa: E402
from bot.notifications import Notifier  # noqa: E402
from journey.channels import Channel, CustomerRef  # noqa: E402
from journey.engine import Engine  # noqa: E402
from journey.events import DomainEvent  # noqa: E402
from journey.limits import ShopLimits  # noqa: E402
from journey.outbox import OutboxRelay  # noqa: E402
from journey.states import OrderStatus  # noqa: E402
from storage.sqlite import SqliteDatabase  # noqa: E402

INTERVAL = 0.5  # OutboxRelay.run's default, as vitrina run uses it


def customer_ref(n: int) -> CustomerRef:
    return CustomerRef(Channel.TELEGRAM, str(900_000 + n), f"Гость {n}")


class Shop:
    """One copy of the prepared file: the engine, the relay as vitrina run wires it, what it delivered."""

    def __init__(self, path: Path, clock: RunningClock, stub_qr: bool) -> None:
        self.path, self.clock, self.stub_qr = path, clock, stub_qr
        self.seen: set[int] = set()
        self.lags: list[float] = []
        self.first = 0  # events above this id are the round's

    async def open(self) -> None:
        self.db = await SqliteDatabase(self.path).connect()
        self.engine = Engine(self.db.uow, owners=[STAFF], clock=self.clock, reader=self.db.reading,
                             limits=ShopLimits.off(), secret=SECRET)
        await self.engine.start()
        qr: Any = StubQr() if self.stub_qr else QrcodeRenderer()
        notifier = Notifier(self.engine, qr, messengers={Channel.TELEGRAM: NullMessenger()}, staff_chats=[STAFF_CHAT])

        async def subscriber(event: DomainEvent) -> None:
            await notifier(event)
            assert event.id is not None and event.at is not None
            if event.id > self.first:
                self.seen.add(event.id)
                self.lags.append((self.clock.now() - event.at).total_seconds())

        # as bot/runner.py wires it for one instance on SQLite
        self.relay = OutboxRelay(self.engine.uow, {notifier.name: subscriber}, locks=self.db.job_locks(),
                                 reader=self.engine.reader)

    async def close(self) -> None:
        await self.db.close()

    def last_event(self) -> int:
        return self.db.reader.execute("SELECT COALESCE(MAX(id), 0) FROM outbox").fetchone()[0]

    async def load(self, duration: float, concurrency: int, *, relay: bool, rate: float = 0.0) -> dict[str, Any]:
        self.first = self.last_event()
        stop = asyncio.Event()
        running = asyncio.ensure_future(self.relay.run(INTERVAL, stop)) if relay else None
        journeys = 0
        deadline = time.perf_counter() + duration

        async def customer(n: int) -> None:
            nonlocal journeys
            ref = customer_ref(n)
            every = concurrency / rate if rate else 0.0  # --rate: each customer starts a journey this often
            next_at = time.perf_counter() + every * n / concurrency
            while time.perf_counter() < deadline:
                if every:
                    await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                    next_at += every
                    if time.perf_counter() >= deadline:
                        break
                view = await self.engine.place_order(ref, CART, "center")
                await self.engine.accept(STAFF, view.order.id)
                await self.engine.mark_ready(STAFF, view.order.id)
                order = await self.engine.hand_over(STAFF, short_code=view.order.short_code, point_id="center")
                if order.status is not OrderStatus.PICKED_UP:
                    raise AssertionError(f"journey ended in {order.status}")
                journeys += 1

        started = time.perf_counter()
        await asyncio.gather(*(customer(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - started
        last = self.last_event()
        created = last - self.first
        backlog = created - sum(1 for i in self.seen if i <= last)
        delivered = len(self.seen)
        result = {"journeys/s": journeys / elapsed, "events": created, "backlog": backlog, "lags": list(self.lags),
                  "delivered/s": delivered / elapsed}
        if running is not None:
            stop.set()
            await running
        return result

    async def alone(self) -> float:
        """The relay delivering what is pending with nothing else running: events/s."""
        before = len(self.seen)
        started = time.perf_counter()
        while await self.relay.run_once() or self.relay._behind:
            pass
        return (len(self.seen) - before) / (time.perf_counter() - started)

    async def idle_round(self, times: int = 20) -> float:
        """Seconds of a round with nothing pending (median)."""
        spent = []
        for _ in range(times):
            t = time.perf_counter()
            assert await self.relay.run_once() == 0
            spent.append(time.perf_counter() - t)
        return statistics.median(spent)

    async def cursor_lost(self) -> tuple[int, float]:
        """Delete the subscriber's cursor; the rounds it takes to find its place again and the longest."""
        async with self.db.uow() as uow:
            uow.outbox._c.execute("DELETE FROM outbox_cursors")  # type: ignore[attr-defined]
        rounds, longest = 0, 0.0
        while True:
            t = time.perf_counter()
            await self.relay.run_once()
            longest = max(longest, time.perf_counter() - t)
            rounds += 1
            if not self.relay._behind:
                return rounds, longest


async def prepare(path: Path, concurrency: int, year: dict[str, Any] | None) -> None:
    """The shop of the tests, its customers known; with ``year``, a year of history (bench/year.py)."""
    db = await SqliteDatabase(path).connect()
    engine = Engine(db.uow, owners=[STAFF], clock=RunningClock(), reader=db.reading, limits=ShopLimits.off(),
                    secret=SECRET)
    await engine.start()
    await seed(engine)  # the latte ordered has no stock row: unlimited
    for n in range(concurrency):
        await engine.identify(customer_ref(n))
    await db.close()
    if year is not None:
        import year as year_module  # bench/year.py

        started = time.perf_counter()
        counts = await year_module.fill(str(path), until=START, **year)
        print(f"year: {counts['orders']} orders, {counts['customers']} customers, {counts['outbox']} outbox events"
              f" written in {time.perf_counter() - started:.0f} s", flush=True)
    # everything the customers did before is delivered already: the relay starts where a running shop is
    with sqlite3.connect(path) as c:
        c.execute("INSERT INTO outbox_handled (subscriber, event_id, handled_at) SELECT 'notify', id, created_at"
                  " FROM outbox WHERE true ON CONFLICT DO NOTHING")
        c.execute("INSERT INTO outbox_cursors (subscriber, event_id) SELECT 'notify', COALESCE(MAX(id), 0) FROM outbox"
                  " WHERE true ON CONFLICT (subscriber) DO UPDATE SET event_id = excluded.event_id")
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the copies are one file each
    c.close()


def copy(template: Path, to: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(str(to) + suffix).unlink(missing_ok=True)
    shutil.copyfile(template, to)
    return to


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def run_source(label: str, template: Path, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    on: list[dict[str, Any]] = []
    off: list[dict[str, Any]] = []
    alone: list[float] = []
    last_on: Path | None = None
    for r in range(args.rounds):
        for kind in (("on", "off") if r % 2 == 0 else ("off", "on")):
            path = copy(template, folder / f"{label}-{kind}-{r}.db")
            shop = Shop(path, RunningClock(), args.stub_qr)
            await shop.open()
            try:
                result = await shop.load(args.duration, args.concurrency, relay=kind == "on", rate=args.rate)
                if kind == "on":
                    on.append(result)
                    last_on = path
                    await shop.alone()  # drain what is left (untimed) before the idle figures
                else:
                    off.append(result)
                    alone.append(await shop.alone())
            finally:
                await shop.close()
            print(f"{label} round {r + 1} relay {kind}: {result['journeys/s']:.0f} journeys/s"
                  + (f", lag p99 {pct(result['lags'], .99) * 1000:.0f} ms, backlog {result['backlog']}"
                     if kind == "on" else f", alone {alone[-1]:.0f} events/s"), flush=True)
    assert last_on is not None
    shop = Shop(last_on, RunningClock(), args.stub_qr)
    await shop.open()
    try:
        idle = await shop.idle_round()
        rounds, longest = await shop.cursor_lost()
        outbox = shop.last_event()
    finally:
        await shop.close()
    return {"on": on, "off": off, "alone": alone, "idle": idle, "lost": (rounds, longest), "outbox": outbox}


def report(label: str, res: dict[str, Any]) -> bool:
    median = statistics.median
    on, off = res["on"], res["off"]
    lags = [lag for r in on for lag in r["lags"]]
    p99s = [pct(r["lags"], .99) for r in on]
    j_on, j_off = median(r["journeys/s"] for r in on), median(r["journeys/s"] for r in off)
    print(f"\n{label} (outbox of {res['outbox']} events at the end):")
    paired = [a["journeys/s"] / b["journeys/s"] for a, b in zip(on, off, strict=True)]
    print(f"  journeys/s       relay on {j_on:.0f}, off {j_off:.0f}: on/off = {j_on / j_off:.0%} (medians;"
          f" per round {', '.join(f'{p:.0%}' for p in paired)})")
    print(f"  lag (ms)         p50 {pct(lags, .5) * 1000:.0f}, p99 {pct(lags, .99) * 1000:.0f} over all rounds;"
          f" p99 per round {', '.join(f'{p * 1000:.0f}' for p in p99s)}")
    print(f"  backlog at end   {', '.join(str(r['backlog']) for r in on)} of"
          f" {', '.join(str(r['events']) for r in on)} events created")
    print(f"  delivered/s      {median(r['delivered/s'] for r in on):.0f} under load;"
          f" alone {median(res['alone']):.0f} events/s")
    rounds, longest = res["lost"]
    print(f"  idle round       {res['idle'] * 1000:.2f} ms; cursor lost: found again in {rounds} rounds,"
          f" the longest {longest * 1000:.1f} ms")
    # nothing accumulates: what is left when the load stops is at most the round the relay is in the middle of
    batch = OutboxRelay.batch
    return max(p99s) < 2.0 and all(r["backlog"] <= batch for r in on)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of load per round (default 15)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of relay on and off, interleaved (default 3)")
    parser.add_argument("--concurrency", type=int, default=50, help="customers at once (default 50)")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="journeys/s offered (spread over the customers) instead of as fast as they go")
    parser.add_argument("--stub-qr", action="store_true", help="one fixed image instead of drawing each QR code")
    parser.add_argument("--year", action="store_true", help="also on a year of data (bench/year.py)")
    parser.add_argument("--orders", type=int, default=100_000, help="--year: the year's orders (default 100000)")
    parser.add_argument("--customers", type=int, default=20_000, help="--year: the year's customers (default 20000)")
    parser.add_argument("--year-db", metavar="FILE", help="--year: a year's file kept by an earlier run")
    parser.add_argument("--keep", metavar="DIR", help="keep the files in DIR")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/year.py, loaded for --year only

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="vitrina-relay-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{platform.platform()}, {platform.processor() or platform.machine()}, Python {platform.python_version()},"
          f" SQLite {sqlite3.sqlite_version}; {args.concurrency} customers, {args.duration:.0f} s per round,"
          f" {args.rounds} rounds, QR {'stubbed' if args.stub_qr else 'drawn'},"
          f" {f'{args.rate:.0f} journeys/s offered' if args.rate else 'full load'}", flush=True)
    try:
        sources = [("empty", folder / "empty.db", None)]
        if args.year:
            sources.append(("year", Path(args.year_db) if args.year_db else folder / "year.db",
                            {"orders": args.orders, "customers": args.customers}))
        met = True
        results = []
        for label, template, year in sources:
            if not (label == "year" and args.year_db):
                for suffix in ("", "-wal", "-shm"):
                    Path(str(template) + suffix).unlink(missing_ok=True)
                await prepare(template, args.concurrency, year)
            results.append((label, await run_source(label, template, folder, args)))
        for label, res in results:
            met = report(label, res) and met
        print(f"\ntarget (lag p99 < 2 s, backlog at most one batch of {OutboxRelay.batch}, every round):"
              f" {'met' if met else 'NOT met'}")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
