"""Soak: the engine's journeys for minutes on SQLite, and how large the write-ahead log grows.

    python bench/soak.py [--duration 60] [--rounds 3] [--concurrency 50] [--browsers 4] [--reset-mb 32]
                         [--policies reset,passive,autocheckpoint] [--dir DIR]

Orders never stop in a busy shop, and SQLite starts its log over only when a checkpoint finds it wholly copied,
which under steady writes a passive checkpoint never does (storage/sqlite/database.py). Each checkpoint policy
gets a fresh database file with the tests' shop, and ``--concurrency`` customers run bench/engine.py's journey
(``place_order`` -> ``accept`` -> ``mark_ready`` -> ``hand_over``, 4 commits) in a loop while ``--browsers``
readers load the menu (the reader connection's snapshots are what a reset waits for). The policies take turns,
``--rounds`` rounds of ``--duration`` seconds each, the order flipping every round; each keeps its own file
across its rounds, so its log grows (or not) over ``rounds x duration`` seconds of writes:

- **reset** (the shop's): a passive checkpoint in its own thread every 200 commits, and a TRUNCATE checkpoint
  under the write lock once one finds more than ``--reset-mb`` of log;
- **passive**: the same without the resets (the policy before them: the log only grows);
- **autocheckpoint**: SQLite's own, what a plain ``sqlite3`` program gets: the writer checkpoints after the
  commit that takes the log past 1000 pages, on the event loop, with nothing in another thread.

The log's size is sampled every 20 ms. Reported per policy: journeys and commits per second (over all its
rounds, and per round), the log's peak and final size, the database's size, journey latency p50/p99/max (a
reset holds up the writers: it shows in the max), and what the checkpoints did. Every journey must end picked
up. The folder must be on the shop's disk (a tmpfs makes the checkpoint's syncs free): its file system is
printed. The passive policy's log takes disk: about 100-150 KB a journey.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "tests"))

from durability import file_system  # noqa: E402
from engine import machine  # noqa: E402
from shop_fixtures import seed  # noqa: E402

from journey.channels import Channel, CustomerRef  # noqa: E402
from journey.engine import Engine  # noqa: E402
from journey.limits import ShopLimits  # noqa: E402
from journey.model import CartLine  # noqa: E402
from journey.states import OrderStatus  # noqa: E402
from storage.sqlite import SqliteDatabase  # noqa: E402

POLICIES = ("reset", "passive", "autocheckpoint")
STAFF = CustomerRef(Channel.TELEGRAM, "2", "Бариста")
START = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)  # a Wednesday, 09:00 in Moscow: open
CART = (CartLine("latte", 1, {"size": ("m",), "milk": ("oat",)}),
        CartLine("latte", 2, {"size": ("l",), "syrup": ("vanilla", "caramel")}))
MB = 1024 * 1024


class RunningClock:
    """Real time, started at a moment the shop is open; a long soak stays within the day's opening hours."""

    def __init__(self) -> None:
        self._t0 = time.perf_counter()

    def now(self) -> datetime:
        return START + timedelta(seconds=time.perf_counter() - self._t0)


class Shop:
    """One policy's database, engine and figures, kept across its rounds."""

    def __init__(self, policy: str, db: SqliteDatabase, engine: Engine) -> None:
        self.policy, self.db, self.engine = policy, db, engine
        self.commits = 0
        self.journeys: list[float] = []  # seconds each
        self.rounds: list[tuple[int, int, float]] = []  # journeys, commits, seconds
        self.peak = 0
        counted = db.committed

        def committed() -> None:
            self.commits += 1
            counted()

        db.committed = committed  # type: ignore[method-assign]

    def wal(self) -> int:
        try:
            return os.stat(self.db.path + "-wal").st_size
        except FileNotFoundError:
            return 0


async def open_shop(folder: Path, policy: str, reset_mb: int, customers: int) -> Shop:
    reset = reset_mb * MB if policy == "reset" else None
    db = await SqliteDatabase(folder / f"{policy}.db", wal_reset_bytes=reset).connect()
    if policy == "autocheckpoint":  # no checkpoints of ours: SQLite's own, on the writer, after its commit
        assert db._checkpointer is not None
        await db._checkpointer.close()
        db._checkpointer = None
        db.writer.execute("PRAGMA wal_autocheckpoint = 1000")
    engine = Engine(db.uow, owners=[STAFF], clock=RunningClock(), reader=db.reading, limits=ShopLimits.off())
    await engine.start()
    await seed(engine, croissants=None)
    for n in range(customers):
        await engine.identify(customer_ref(n))
    return Shop(policy, db, engine)


def customer_ref(n: int) -> CustomerRef:
    return CustomerRef(Channel.TELEGRAM, str(1000 + n), f"Гость {n}")


async def journey(engine: Engine, ref: CustomerRef) -> None:
    view = await engine.place_order(ref, CART, "center")
    await engine.accept(STAFF, view.order.id)
    await engine.mark_ready(STAFF, view.order.id)
    order = await engine.hand_over(STAFF, short_code=view.order.short_code, point_id="center")
    if order.status is not OrderStatus.PICKED_UP:
        raise AssertionError(f"journey ended in {order.status}")


async def soak_round(shop: Shop, seconds: float, concurrency: int, browsers: int) -> None:
    deadline = time.perf_counter() + seconds
    done = 0

    async def customer(n: int) -> None:
        nonlocal done
        ref = customer_ref(n)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await journey(shop.engine, ref)
            shop.journeys.append(time.perf_counter() - started)
            done += 1

    async def browser() -> None:
        while time.perf_counter() < deadline:
            await shop.engine.menu("center")
            await asyncio.sleep(0.01)

    async def sample() -> None:
        while time.perf_counter() < deadline:
            shop.peak = max(shop.peak, shop.wal())
            await asyncio.sleep(0.02)

    commits, started = shop.commits, time.perf_counter()
    await asyncio.gather(*(customer(n) for n in range(concurrency)), *(browser() for _ in range(browsers)),
                         sample())
    shop.peak = max(shop.peak, shop.wal())
    shop.rounds.append((done, shop.commits - commits, time.perf_counter() - started))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def report(shops: list[Shop]) -> str:
    lines = [f"{'policy':<15}{'journeys/s':>11}{'commits/s':>10}{'rounds (journeys/s)':>24}{'WAL peak MB':>12}"
             f"{'final MB':>9}{'db MB':>7}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}"]
    for s in shops:
        seconds = sum(r[2] for r in s.rounds)
        rounds = " ".join(f"{n / t:.0f}" for n, _, t in s.rounds)
        lines.append(f"{s.policy:<15}{sum(r[0] for r in s.rounds) / seconds:>11.0f}"
                     f"{sum(r[1] for r in s.rounds) / seconds:>10.0f}{rounds:>24}{s.peak / MB:>12.1f}"
                     f"{s.wal() / MB:>9.1f}{os.stat(s.db.path).st_size / MB:>7.1f}"
                     f"{pct(s.journeys, .5) * 1000:>8.1f}{pct(s.journeys, .99) * 1000:>8.1f}"
                     f"{max(s.journeys) * 1000:>8.1f}")
    lines.append("checkpoints:")
    for s in shops:
        c = s.db.checkpoints
        mean = c.reset_total / max(1, c.resets + c.busy)
        lines.append(f"  {s.policy:<15}passive {c.passive}, resets {c.resets}, gave up on a reader {c.busy}, "
                     f"failed {c.failures}; a reset held the writers {mean * 1000:.1f} ms on average, at most "
                     f"{c.reset_seconds * 1000:.1f} ms")
    by = {s.policy: s for s in shops}
    if "reset" in by:
        rate = {p: sum(r[0] for r in s.rounds) / sum(r[2] for r in s.rounds) for p, s in by.items()}
        for other in ("passive", "autocheckpoint"):
            if other in by:
                lines.append(f"reset / {other}: {rate['reset'] / rate[other]:.0%} of the journeys per second")
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds per policy and round (default 60)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--browsers", type=int, default=4, help="readers loading the menu meanwhile (default 4)")
    parser.add_argument("--reset-mb", type=int, default=32, help="the reset policy's threshold (the shop's: 32)")
    parser.add_argument("--policies", default=",".join(POLICIES))
    parser.add_argument("--dir", help="folder for the databases (default: a new temporary folder)")
    args = parser.parse_args()
    policies = [p for p in args.policies.split(",") if p]
    if not policies or set(policies) - set(POLICIES):
        parser.error(f"--policies: some of {', '.join(POLICIES)}")
    folder = Path(tempfile.mkdtemp(prefix="vitrina-soak-", dir=args.dir))
    print("\n".join(machine()))
    print(f"disk       {file_system(folder)}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"command    python bench/soak.py --duration {args.duration:g} --rounds {args.rounds} "
          f"--concurrency {args.concurrency} --browsers {args.browsers} --reset-mb {args.reset_mb} "
          f"--policies {','.join(policies)}")
    shops: list[Shop] = []
    try:
        for policy in policies:
            shops.append(await open_shop(folder, policy, args.reset_mb, args.concurrency))
        for r in range(args.rounds):
            for shop in shops if r % 2 == 0 else shops[::-1]:
                await soak_round(shop, args.duration, args.concurrency, args.browsers)
                n, _, seconds = shop.rounds[-1]
                print(f"round {r + 1} {shop.policy:<15}{n / seconds:>6.0f} journeys/s, log {shop.wal() / MB:7.1f} MB"
                      f" (peak so far {shop.peak / MB:.1f})", flush=True)
        print()
        print(report(shops))
        print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        for shop in shops:
            await shop.db.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
