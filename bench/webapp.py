"""Mini App benchmark: the menu answer under load against the same bytes served from memory, on an empty
database and on a year of data, with real Telegram launch data; and placed orders.

    python bench/webapp.py [--duration 3] [--rounds 3] [--concurrency 32] [--changes 20] [--orders 1000]
                           [--year] [--year-file PATH] [--profile]

Servers run in child processes (spawn), each with ``gc.freeze()`` once started as ``vitrina run`` does; the
load generator (one aiohttp ClientSession, ``--concurrency`` kept-alive connections, 0.5 s of warm-up then
``--duration`` s) runs here, on 127.0.0.1.

The Mini App: ``create_app`` on a SQLite file with the demo menu (``seed_demo``: 20 items, 8 counted at
"center"), the engine's abuse limits off (one client address), Telegram launch data checked as in production
(``TelegramMiniApp``: the signature, the age); every connection sends the initData of its own user. With
``--year`` a second one runs on a year of data (``bench/year.py``: 100,000 orders, 20,000 customers; filled
here, or copied from ``--year-file``, a database ``bench/year.py`` filled).

The baseline: what a skilled engineer would write to serve a menu that does not change: a bare aiohttp app
that checks the same initData by hand (stdlib ``hmac``, the secret key derived once, the age, the user's id)
and answers the menu's bytes from memory, gzipped once ahead (the very bytes the Mini App sends) when the
client accepts gzip, else plain, with the headers the Mini App's answer has (the security headers the
project requires on every answer, ETag, Cache-Control, Vary) from a fixed dict. It checks the signature of
every request; the Mini App's check (``TelegramMiniApp``) checks it once per initData string and keeps what
it says (a session sends the same string with every call), the age every time: the second baseline
(``/same``) answers the same bytes behind that very check.

Scenarios, ``--rounds`` times in turn (interleaved, the median round reported): baseline and menu with
``Accept-Encoding: gzip, deflate`` (a WebView's, br left out so both send the same bytes) and ``identity``;
the menu "rebuilt": while another process (a thread here with its own SQLite connection, as a second
instance or ``vitrina menu import`` would be) changes a counted item's stock ``--changes`` times a second,
so the version moves and the next request rebuilds it; on the year of data, the cached and rebuilt menu
again. Once: the menu in brotli (``gzip, deflate, br``), a revalidation (``If-None-Match`` -> 304) and
``--orders`` ``POST /api/orders`` (two lattes, at the counter, unique ``request_id``s). Server CPU per
request is read from ``/proc/<pid>/stat``. ``--profile``: cProfile in the (empty) app server during the
rounds. See bench/README.md and docs/PERFORMANCE.md.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import gzip
import hashlib
import hmac
import itertools
import json
import multiprocessing
import os
import platform
import pstats
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

HERE = Path(__file__).resolve().parent
# run as a script, bench/ is first on sys.path and this file would shadow the ``webapp`` package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from aiohttp import ClientSession, TCPConnector, web  # noqa: E402

MENU = "/api/menu?point=center"
HAND = "baseline: same bytes, initData by hand"
SAME = "baseline: same bytes, the app's initData check"
TOKEN = "123456789:bench-token-not-a-real-one"
MAX_AGE = 86400  # WebappConfig.auth_max_age's default
GZIP = "gzip, deflate"


def init_data(user_id: int, auth_date: int, token: str = TOKEN) -> str:
    """initData as Telegram signs it (tests/launch_data.py does the same)."""
    user = {"id": user_id, "first_name": "Гость", "last_name": str(user_id), "language_code": "ru",
            "allows_write_to_pm": True}
    fields = {"query_id": f"AAH{user_id:012d}", "auth_date": str(auth_date),
              "user": json.dumps(user, ensure_ascii=False, separators=(",", ":"))}
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


# --- the baseline ------------------------------------------------------------------------------------
# what aiohttp writes itself, or the body decides: not copied from the Mini App's answer
OWN_HEADERS = frozenset({"date", "server", "content-length", "content-type", "content-encoding"})


def baseline_app(plain: bytes, gzipped: bytes, headers: dict[str, dict[str, str]]) -> web.Application:
    """``/hand/api/menu``: initData checked by hand; ``/same/api/menu``: by the Mini App's own check
    (``TelegramMiniApp.check``), so that the comparison isolates the menu's path. ``headers``: the Mini App's
    menu answer's headers (``gzip``, ``identity``: its security headers, ETag, Cache-Control, Vary), sent as
    they are from a fixed dict, as a hand-written server that must send them would."""
    from datetime import UTC, datetime

    from adapters.telegram.launch import TelegramMiniApp
    from journey.errors import DomainError

    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    telegram = TelegramMiniApp(TOKEN)

    def unauthorized() -> web.Response:
        return web.Response(status=401, text='{"error":"unauthorized"}', content_type="application/json")

    zipped_headers = {**headers["gzip"], "Content-Encoding": "gzip"}
    plain_headers = headers["identity"]

    def answer(request: web.Request) -> web.Response:
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            return web.Response(body=gzipped, content_type="application/json", charset="utf-8",
                                headers=zipped_headers)
        return web.Response(body=plain, content_type="application/json", charset="utf-8", headers=plain_headers)

    async def by_hand(request: web.Request) -> web.Response:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme != "tma":
            return unauthorized()
        try:
            fields = dict(parse_qsl(value, strict_parsing=True))
            received = fields.pop("hash")
            check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
            if not hmac.compare_digest(hmac.new(secret, check.encode(), hashlib.sha256).hexdigest(), received):
                return unauthorized()
            if time.time() - int(fields["auth_date"]) > MAX_AGE:
                return unauthorized()
            int(json.loads(fields["user"])["id"])
        except (KeyError, ValueError, TypeError):
            return unauthorized()
        return answer(request)

    async def same_check(request: web.Request) -> web.Response:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme != "tma":
            return unauthorized()
        try:
            telegram.check(value.strip(), datetime.now(UTC), MAX_AGE)
        except DomainError:
            return unauthorized()
        return answer(request)

    app = web.Application()
    app.router.add_get("/hand/api/menu", by_hand)
    app.router.add_get("/same/api/menu", same_check)
    return app


# --- the servers, each in a child process --------------------------------------------------------------
def serve(kind: str, arg: str, conn, profile: str = "") -> None:
    asyncio.run(_serve(kind, arg, conn, profile))


async def _serve(kind: str, arg: str, conn, profile: str) -> None:
    """``base`` (``arg``: a folder holding menu.json and menu.json.gz) or ``app`` (``arg``: the database)."""
    close, cache = None, None
    if kind == "base":
        folder = Path(arg)
        app = baseline_app((folder / "menu.json").read_bytes(), (folder / "menu.json.gz").read_bytes(),
                           json.loads((folder / "headers.json").read_text()))
    else:
        from adapters.qr import QrcodeRenderer  # the app's modules in its process only
        from adapters.telegram.launch import TelegramMiniApp
        from journey.engine import Engine
        from journey.limits import ShopLimits
        from storage.sqlite import SqliteDatabase
        from webapp.app import create_app
        from webapp.config import MENU_CACHE, WebappConfig
        db = await SqliteDatabase(Path(arg)).connect()
        engine = Engine(db.uow, reader=db.reading, limits=ShopLimits.off())  # one client: no per-address limits
        await engine.start()
        app = create_app(engine, WebappConfig(demo=False, mini_apps=[TelegramMiniApp(TOKEN, lambda: "bench_bot")]),
                         QrcodeRenderer())
        cache = app[MENU_CACHE]
        close = db.close
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    gc.collect()  # as bot/runner.py once started: full collections skip the start-up objects
    gc.freeze()
    profiler = cProfile.Profile() if profile else None
    conn.send(runner.addresses[0][1])
    loop = asyncio.get_running_loop()
    while (command := await loop.run_in_executor(None, conn.recv)) != "stop":
        if command == "builds":
            conn.send(cache.builds if cache is not None else 0)
        elif profiler:  # "profile" / "pause": around the rounds only
            profiler.enable() if command == "profile" else profiler.disable()
    if profiler:
        profiler.dump_stats(profile)
    await runner.cleanup()
    if close:
        await close()


class Server:
    def __init__(self, kind: str, arg: str, profile: str = "") -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pipe, child = ctx.Pipe()
        self.process = ctx.Process(target=serve, args=(kind, arg, child, profile), daemon=True)
        self.process.start()
        if not self.pipe.poll(120):
            raise RuntimeError(f"the {kind} server did not start")
        self.url = f"http://127.0.0.1:{self.pipe.recv()}"
        self.pid = self.process.pid

    def builds(self) -> int:
        self.pipe.send("builds")
        return self.pipe.recv()

    def stop(self) -> None:
        self.pipe.send("stop")
        self.process.join(30)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime, all threads


# --- the load -----------------------------------------------------------------------------------------
async def load(url: str, pid: int, concurrency: int, duration: float, *, method: str = "GET",
               encoding: str = GZIP, revalidate: bool = False, body=None, expect: int = 200,
               limit: int = 10**9, warmup: float = 0.5, server: Server | None = None,
               fresh_user: bool = False) -> dict:
    latencies: list[float] = []
    sent, serial = 0, itertools.count(1)  # serial: unique across warm-up and run (request ids)
    now = int(time.time())
    async with ClientSession(connector=TCPConnector(limit=concurrency), auto_decompress=False) as session:
        async def worker(n: int, until: float, record: bool) -> None:
            nonlocal sent
            headers = {"Accept-Encoding": encoding, "Authorization": "tma " + init_data(7_000_000 + n, now)}
            if revalidate:
                async with session.get(url, headers=headers) as r:
                    headers["If-None-Match"] = r.headers["ETag"]
            while time.perf_counter() < until and sent < limit:
                sent += 1
                t0 = time.perf_counter()
                number = next(serial)
                payload = body(number) if body else None
                if fresh_user:  # a customer per request: the shop caps each one's open orders
                    headers["Authorization"] = "tma " + init_data(8_000_000 + number, now)
                async with session.request(method, url, headers=headers, json=payload) as r:
                    await r.read()
                    if r.status != expect:
                        raise AssertionError(f"{method} {url}: {r.status} {(await r.text())[:200]}")
                if record:
                    latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(worker(n, time.perf_counter() + warmup, False) for n in range(concurrency)))
        builds0 = server.builds() if server else 0
        sent, cpu0, t0 = 0, cpu_seconds(pid), time.perf_counter()
        await asyncio.gather(*(worker(n, t0 + duration, True) for n in range(concurrency)))
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
        builds = (server.builds() - builds0) if server else 0
    latencies.sort()
    n = len(latencies)
    return {"rps": n / elapsed, "p50": latencies[n // 2], "p99": latencies[min(n - 1, int(n * .99))], "n": n,
            "cpu_us": cpu / n * 1e6, "busy": cpu / elapsed, "total": next(serial) - 1, "builds": builds / elapsed}


class StockWriter:
    """Another process's commits, ``rate`` a second: a counted item's stock at "center" set to 1000 and 1001
    in turn (the menu shows it: its version moves with each)."""

    def __init__(self, path: Path, rate: float) -> None:
        self.path, self.rate, self.commits = path, rate, 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> StockWriter:
        if self.rate > 0:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        conn.execute("PRAGMA synchronous = NORMAL")  # what storage/sqlite sets (WAL)
        item = conn.execute("SELECT item_id FROM stock WHERE point_id = 'center' ORDER BY item_id").fetchone()[0]
        period, due = 1 / self.rate, time.perf_counter()
        try:
            while not self._stop.is_set():
                conn.execute("UPDATE stock SET quantity = ? WHERE point_id = 'center' AND item_id = ?",
                             (1000 + self.commits % 2, item))
                self.commits += 1
                due += period
                self._stop.wait(max(0.0, due - time.perf_counter()))
        finally:
            conn.close()


# --- the run ------------------------------------------------------------------------------------------
def machine() -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return [f"platform   {platform.platform()}", f"cpu        {cpu} x {os.cpu_count()}",
            f"python     {platform.python_implementation()} {platform.python_version()}"]


async def seeded(path: Path) -> None:
    from bot.seed import seed_demo
    from journey.engine import Engine
    from journey.limits import ShopLimits
    from storage.sqlite import SqliteDatabase
    db = await SqliteDatabase(path).connect()
    try:
        engine = Engine(db.uow, reader=db.reading, limits=ShopLimits.off())
        await engine.start()
        await seed_demo(engine)
    finally:
        await db.close()


async def year_db(args: argparse.Namespace, folder: Path) -> Path:
    path = folder / "year.db"
    if args.year_file:
        print(f"year of data: a copy of {args.year_file}")
        source = sqlite3.connect(args.year_file)
        target = sqlite3.connect(path)
        source.backup(target)  # consistent, whatever its WAL holds
        source.close()
        target.close()
        return path
    sys.path.insert(0, str(HERE))
    import year  # bench/year.py
    await seeded(path)
    t0 = time.perf_counter()
    rows = await year.fill(str(path), orders=100_000, customers=20_000)
    print(f"year of data: {rows.get('orders', 0)} orders, {rows.get('customers', 0)} customers,"
          f" {rows.get('reviews', 0)} reviews written in {time.perf_counter() - t0:.0f} s")
    return path


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per scenario (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--changes", type=float, default=20.0,
                        help="stock changes a second during the rebuilt scenarios (default 20)")
    parser.add_argument("--orders", type=int, default=1000, help="at most this many orders (default 1000; 0: none)")
    parser.add_argument("--year", action="store_true", help="the same on a year of data (bench/year.py)")
    parser.add_argument("--year-file", type=Path, help="a database bench/year.py filled (copied; implies --year)")
    parser.add_argument("--profile", action="store_true", help="cProfile the app server during the rounds")
    args = parser.parse_args()
    args.year = args.year or args.year_file is not None
    print("\n".join(machine()) + "\ncommand    python bench/webapp.py " + " ".join(sys.argv[1:]))
    with tempfile.TemporaryDirectory(prefix="vitrina-bench-web-") as folder:
        await run(args, Path(folder))


async def run(args: argparse.Namespace, folder: Path) -> None:
    c, d = args.concurrency, args.duration
    empty_db = folder / "empty.db"
    await seeded(empty_db)
    year_path = await year_db(args, folder) if args.year else None
    prof = str(folder / "app.prof") if args.profile else ""
    servers: list[Server] = []
    try:
        app = Server("app", str(empty_db), prof)
        servers.append(app)
        year_app = Server("app", str(year_path)) if year_path else None
        if year_app:
            servers.append(year_app)
        headers = {"Authorization": "tma " + init_data(7_000_000, int(time.time()))}
        async with ClientSession(auto_decompress=False) as s:
            sent: dict[str, dict[str, str]] = {}
            async with s.get(app.url + MENU, headers={**headers, "Accept-Encoding": "identity"}) as r:
                plain = await r.read()
                sent["identity"] = {k: v for k, v in r.headers.items() if k.lower() not in OWN_HEADERS}
            async with s.get(app.url + MENU, headers={**headers, "Accept-Encoding": GZIP}) as r:
                gzipped = await r.read()
                assert r.headers["Content-Encoding"] == "gzip"
                sent["gzip"] = {k: v for k, v in r.headers.items() if k.lower() not in OWN_HEADERS}
            async with s.get(app.url + MENU, headers={**headers, "Accept-Encoding": GZIP + ", br"}) as r:
                brotli_size = len(await r.read())
            if year_app:
                async with s.get(year_app.url + MENU, headers={**headers, "Accept-Encoding": "identity"}) as r:
                    year_plain = await r.read()
        assert gzip.decompress(gzipped) == plain
        (folder / "menu.json").write_bytes(plain)
        (folder / "menu.json.gz").write_bytes(gzipped)
        (folder / "headers.json").write_text(json.dumps(sent))
        base = Server("base", str(folder))
        servers.append(base)
        latte = next(i for i in json.loads(plain)["items"] if i["options"])

        scenarios: list[tuple[str, Server, str, dict, Path | None]] = [
            (HAND, base, "/hand" + MENU, {}, None),
            (SAME, base, "/same" + MENU, {}, None),
            ("menu cached, gzip", app, MENU, {}, None),
            ("menu rebuilt, gzip", app, MENU, {}, empty_db),
        ]
        if year_app:
            scenarios += [("year: menu cached, gzip", year_app, MENU, {}, None),
                          ("year: menu rebuilt, gzip", year_app, MENU, {}, year_path)]
        results: dict[str, list[dict]] = {name: [] for name, *_ in scenarios}
        writes: dict[str, list[int]] = {name: [] for name, *_ in scenarios}
        for _ in range(args.rounds):
            for name, server, path, options, writer_db in scenarios:
                if server is app:
                    app.pipe.send("profile")
                with StockWriter(writer_db, args.changes if writer_db else 0) as writer:
                    results[name].append(await load(server.url + path, server.pid, c, d, server=server
                                                    if server is not base else None, **options))
                writes[name].append(writer.commits)
                if server is app:
                    app.pipe.send("pause")
        once = {}
        if not args.profile:
            once["menu cached, identity"] = await load(app.url + MENU, app.pid, c, d, encoding="identity")
            once["baseline (by hand), identity"] = await load(base.url + "/hand" + MENU, base.pid, c, d,
                                                             encoding="identity")
            once["menu cached, brotli (gzip, deflate, br)"] = await load(app.url + MENU, app.pid, c, d,
                                                                          encoding=GZIP + ", br")
            once["menu revalidated: If-None-Match -> 304"] = await load(app.url + MENU, app.pid, c, d,
                                                                         revalidate=True, expect=304)
            if args.orders:
                groups = latte["options"]  # each required group's first option, the first optional group's last
                options = {g["id"]: [g["options"][0 if g["required"] else -1]["id"]] for g in groups
                           if g["required"] or g is next(x for x in groups if not x["required"])}
                cart, stamp = [{"item": latte["id"], "quantity": 2, "options": options}], time.time_ns()
                once["POST /api/orders (counter)"] = await load(
                    app.url + "/api/orders", app.pid, c, d * 3, method="POST", expect=201, limit=args.orders,
                    fresh_user=True,
                    body=lambda n: {"point": "center", "lines": cart, "payment": "counter",
                                    "request_id": f"bench-{stamp}-{n}"})
    finally:
        for server in servers:
            server.stop()

    pick = {k: sorted(v, key=lambda r: r["rps"])[len(v) // 2] for k, v in results.items()}
    report(args, pick, results, writes, once, plain, gzipped, brotli_size, year_plain if year_app else None)
    if prof:
        print("\nthe empty app server during the rounds (cProfile: it slows Python down, read shares):")
        pstats.Stats(prof).sort_stats("cumtime").print_stats(r"webapp|journey|storage|adapters", 25)


def report(args, pick, results, writes, once, plain, gzipped, brotli_size, year_plain) -> None:
    c, d = args.concurrency, args.duration
    print(f"\nmenu answer {len(plain)} bytes, gzip {len(gzipped)}, brotli {brotli_size}"
          + (f" (year of data: {len(year_plain)} bytes)" if year_plain else "")
          + f"; {c} connections; {d:g} s a scenario; median of {args.rounds} interleaved rounds")
    print("req/s of each round: " + "; ".join(k + " " + "/".join(f"{x['rps']:.0f}" for x in v)
                                               for k, v in results.items()))
    gz = pick[HAND]
    print(f"\n{'scenario':<46}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'CPU µs':>8}{'busy':>6}{'builds/s':>9}"
          f"{'vs hand':>8}{'cpu/hand':>9}{'vs same':>8}")

    def line(name: str, r: dict, base: dict) -> None:
        print(f"{name:<46}{r['rps']:8.0f}{r['p50'] * 1e3:8.2f}{r['p99'] * 1e3:8.2f}{r['cpu_us']:8.0f}"
              f"{r['busy']:6.0%}{r['builds']:9.1f}{r['rps'] / base['rps']:8.0%}{base['cpu_us'] / r['cpu_us']:9.0%}"
              f"{r['rps'] / pick[SAME]['rps']:8.0%}")

    for name, r in pick.items():
        line(name, r, gz)
    for name, r in once.items():
        line(name + " (once)", r, once["baseline (by hand), identity"] if "identity" in name else gz)
    for name, counts in writes.items():
        if any(counts):
            print(f"  {name}: {sum(counts) / len(counts):.0f} stock commits by the other process a round")

    print("\n(CPU µs: the server's CPU time per request; busy: server CPU / wall time; builds/s: menus built;"
          " vs hand: req/s / the hand-checking baseline's (identity rows: its identity run); cpu/hand: its CPU per"
          " request / this one's; vs same: req/s / the baseline's with the app's own initData check)")
    cached, rebuilt = pick["menu cached, gzip"], pick["menu rebuilt, gzip"]
    verdict = [("cached >= 100% of the baseline (initData by hand)", cached["rps"] / gz["rps"], 1.0),
               ("rebuilt >= 70% of the baseline (initData by hand)", rebuilt["rps"] / gz["rps"], 0.7),
               ("cached >= 100% of the baseline (the app's initData check)", cached["rps"] / pick[SAME]["rps"], 1.0),
               ("rebuilt >= 70% of the baseline (the app's initData check)", rebuilt["rps"] / pick[SAME]["rps"], .7)]
    if year_plain:
        for kind in ("cached", "rebuilt"):
            ratio = pick[f"year: menu {kind}, gzip"]["rps"] / pick[f"menu {kind}, gzip"]["rps"]
            verdict.append((f"year / empty, {kind}: within 20%", ratio, 0.8))
    for what, ratio, target in verdict:
        print(f"target {what}: {ratio:.0%} {'met' if ratio >= target else 'MISSED'}")
    same = pick[SAME]
    print(f"by server CPU per request: cached {gz['cpu_us'] / cached['cpu_us']:.0%} / "
          f"{same['cpu_us'] / cached['cpu_us']:.0%}, rebuilt {gz['cpu_us'] / rebuilt['cpu_us']:.0%} / "
          f"{same['cpu_us'] / rebuilt['cpu_us']:.0%} of the baseline's requests per CPU second (by hand / the app's"
          " check)")


if __name__ == "__main__":
    asyncio.run(main())
