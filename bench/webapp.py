"""Mini App benchmark: requests/s and latency of the JSON API on loopback, and the bytes of a first visit.

    python bench/webapp.py [--duration 3] [--rounds 3] [--concurrency 32] [--orders 1000] [--profile] [--freeze]

Servers run in child processes (spawn), the load generator (one aiohttp ClientSession, ``--concurrency``
kept-alive connections, 0.5 s of warm-up then ``--duration`` s) here. The Mini App: ``create_app`` on a
fresh SQLite file with the demo menu (``seed_demo``), demo auth. The baseline: a bare aiohttp app serving
the bytes of one ``GET /api/menu?point=center`` answer from a file (``/file``, ``web.FileResponse``) and
from memory (``/bytes``). ``--rounds`` x (``/file``, ``/bytes``, menu), all ``Accept-Encoding: identity``,
median round shown; then the menu gzipped and ``--orders`` ``POST /api/orders`` (lattes, at the counter,
unique ``request_id``s). Server CPU per request is read from ``/proc/<pid>/stat``. First visit: ``/`` and,
recursively, its stylesheet, module scripts and their relative ES imports, gzipped bytes on the wire
summed (not telegram-web-app.js, ``vendor/`` (VK only), photos). ``--profile``: cProfile in the app server
during the menu rounds; ``--freeze``: ``gc.freeze()`` in it once started. See bench/README.md.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import gzip
import itertools
import multiprocessing
import os
import platform
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin, urlparse

HERE = Path(__file__).resolve().parent
# run as a script, bench/ is first on sys.path and this file would shadow the ``webapp`` package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from aiohttp import ClientSession, TCPConnector, web  # noqa: E402

MENU = "/api/menu?point=center"


def serve(kind: str, arg: str, conn, profile: str = "", freeze: bool = False) -> None:
    asyncio.run(_serve(kind, arg, conn, profile, freeze))


async def _serve(kind: str, arg: str, conn, profile: str, freeze: bool) -> None:
    """One server in a child process: ``static`` (serving the file ``arg``) or ``app`` (database ``arg``)."""
    close, gen2 = None, [0, 0.0]  # full (generation 2) garbage collections: how many, seconds

    def watch(phase: str, info: dict) -> None:
        if info["generation"] == 2:
            gen2[0] += phase == "stop"
            gen2[1] += time.perf_counter() * (1 if phase == "stop" else -1)

    if kind == "static":
        data = Path(arg).read_bytes()
        app = web.Application()
        app.router.add_get("/file", lambda r: web.FileResponse(arg))
        app.router.add_get("/bytes", lambda r: web.Response(body=data, content_type="application/json"))
    else:
        from adapters.qr import QrcodeRenderer  # the app's modules in its process only
        from bot.seed import seed_demo
        from journey.engine import Engine
        from journey.limits import ShopLimits
        from storage.sqlite import SqliteDatabase
        from webapp.app import create_app
        from webapp.config import WebappConfig
        db = await SqliteDatabase(Path(arg)).connect()
        engine = Engine(db.uow, reader=db.reading, limits=ShopLimits.off())  # one client: no per-address limits
        await engine.start()
        await seed_demo(engine)
        app = create_app(engine, WebappConfig(demo=True),
                         QrcodeRenderer())
        close = db.close
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    if freeze:  # what a composition root could do once started: full collections skip start-up objects
        gc.collect()
        gc.freeze()
    gc.callbacks.append(watch)
    profiler = cProfile.Profile() if profile else None
    conn.send(runner.addresses[0][1])
    loop = asyncio.get_running_loop()
    while (command := await loop.run_in_executor(None, conn.recv)) != "stop":
        if profiler:  # "profile" / "pause": around the menu rounds only
            profiler.enable() if command == "profile" else profiler.disable()
    if profiler:
        profiler.dump_stats(profile)
    conn.send(gen2)
    await runner.cleanup()
    if close:
        await close()


def start(kind: str, arg: str, profile: str = "", freeze: bool = False):
    ctx = multiprocessing.get_context("spawn")
    pipe, child = ctx.Pipe()
    process = ctx.Process(target=serve, args=(kind, arg, child, profile, freeze), daemon=True)
    process.start()
    if not pipe.poll(60):
        raise RuntimeError(f"the {kind} server did not start")
    return process, pipe, f"http://127.0.0.1:{pipe.recv()}"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime, all threads


async def load(url: str, pid: int, concurrency: int, duration: float, *, method: str = "GET", gzip_ok: bool = False,
               body=None, expect: int = 200, limit: int = 10**9, warmup: float = 0.5) -> dict:
    latencies: list[float] = []
    sent, serial = 0, itertools.count(1)  # serial: unique across warm-up and run (request ids)
    async with ClientSession(connector=TCPConnector(limit=concurrency), auto_decompress=False) as session:
        async def worker(n: int, until: float, record: bool) -> None:
            nonlocal sent
            headers = {"Accept-Encoding": "gzip" if gzip_ok else "identity", "Authorization": f"demo b{n}"}
            while time.perf_counter() < until and sent < limit:
                sent += 1
                t0 = time.perf_counter()
                payload = body(next(serial)) if body else None
                async with session.request(method, url, headers=headers, json=payload) as r:
                    await r.read()
                    if r.status != expect:
                        raise AssertionError(f"{method} {url}: {r.status} {(await r.text())[:200]}")
                if record:
                    latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(worker(n, time.perf_counter() + warmup, False) for n in range(concurrency)))
        sent, cpu0, t0 = 0, cpu_seconds(pid), time.perf_counter()
        await asyncio.gather(*(worker(n, t0 + duration, True) for n in range(concurrency)))
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
    latencies.sort()
    n = len(latencies)
    return {"rps": n / elapsed, "p50": latencies[n // 2], "p99": latencies[min(n - 1, int(n * .99))], "n": n,
            "cpu_us": cpu / n * 1e6, "busy": cpu / elapsed, "total": next(serial) - 1}


ASSET = re.compile(r'<link\b[^>]*\brel="(?:stylesheet|modulepreload)"[^>]*\bhref="([^"]+)"'
                   r'|<script\b[^>]*\bsrc="([^"]+)"')
IMPORT = re.compile(r"""(?:\b(?:import|export)\b[^'"`;]*?\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}/[^'"]+)['"]""")


async def first_visit(base: str) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]]]:
    """(path, bytes on the wire, bytes uncompressed) of the page and its assets, and of the first API calls."""
    async with ClientSession(auto_decompress=False) as session:
        async def get(url: str) -> tuple[int, bytes]:
            async with session.get(url, headers={"Accept-Encoding": "gzip", "Authorization": "demo visitor"}) as r:
                raw = await r.read()
                assert r.status == 200, (url, r.status)
                return len(raw), gzip.decompress(raw) if r.headers.get("Content-Encoding") == "gzip" else raw

        size, page = await get(base + "/")
        rows, seen = [("/", size, len(page))], set()
        queue = [urljoin(base + "/", a or b) for a, b in ASSET.findall(page.decode())]
        while queue:
            url, path = queue[0], urlparse(queue.pop(0)).path
            if url in seen or not url.startswith(base) or "/vendor/" in path or "/photos/" in path:
                continue  # telegram-web-app.js is on telegram.org: not ``base``
            seen.add(url)
            size, text = await get(url)
            rows.append((path, size, len(text)))
            if path.endswith(".js"):
                queue += [urljoin(url, m) for m in IMPORT.findall(text.decode())]
        api = [(path, *(await get(base + path))) for path in ("/api/config", "/api/me", "/api/points", MENU)]
    return rows, [(path, size, len(text)) for path, size, text in api]


def machine() -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return [f"platform   {platform.platform()}", f"cpu        {cpu} x {os.cpu_count()}",
            f"python     {platform.python_implementation()} {platform.python_version()}"]


def row(name: str, r: dict, base: dict) -> str:
    return (f"{name:<34}{r['rps']:8.0f}{r['p50'] * 1e3:9.2f}{r['p99'] * 1e3:9.2f}{r['cpu_us']:9.0f}"
            f"{r['busy']:7.0%}{r['rps'] / base['rps']:8.0%}{base['cpu_us'] / r['cpu_us']:8.0%}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per scenario (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of file/bytes/menu (default 3)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--orders", type=int, default=1000, help="at most this many orders (default 1000)")
    parser.add_argument("--profile", action="store_true", help="cProfile the app server during the menu rounds")
    parser.add_argument("--freeze", action="store_true", help="gc.freeze() in the app server once it has started")
    args = parser.parse_args()
    print("\n".join(machine()) + "\ncommand    python bench/webapp.py " + " ".join(sys.argv[1:]))
    with tempfile.TemporaryDirectory(prefix="vitrina-bench-web-") as folder:
        await run(args, Path(folder))


async def run(args: argparse.Namespace, folder: Path) -> None:
    prof = str(folder / "app.prof") if args.profile else ""
    app, app_pipe, app_url = start("app", str(folder / "shop.db"), prof, args.freeze)
    gen2, app_cpu = [0, 0.0], cpu_seconds(app.pid)
    c, d = args.concurrency, args.duration
    try:
        rows, api = await first_visit(app_url)
        async with ClientSession() as s, s.get(app_url + MENU, headers={"Authorization": "demo visitor",
                                                                        "Accept-Encoding": "identity"}) as r:
            menu = await r.read()
            latte = next(i for i in (await r.json())["items"] if i["id"] == "latte")
        (folder / "menu.json").write_bytes(menu)
        static, static_pipe, static_url = start("static", str(folder / "menu.json"))
        results: dict[str, list[dict]] = {"file": [], "bytes": [], "menu": []}
        for _ in range(args.rounds):
            results["file"].append(await load(static_url + "/file", static.pid, c, d))
            results["bytes"].append(await load(static_url + "/bytes", static.pid, c, d))
            app_pipe.send("profile")
            results["menu"].append(await load(app_url + MENU, app.pid, c, d))
            app_pipe.send("pause")
        static_pipe.send("stop")
        static.join(30)
        menu_gzip = orders = None
        if not args.profile:
            menu_gzip = await load(app_url + MENU, app.pid, c, d, gzip_ok=True)
            groups = latte["options"]  # each required group's first option, the first optional group's last
            options = {g["id"]: [g["options"][0 if g["required"] else -1]["id"]] for g in groups
                       if g["required"] or g is next(x for x in groups if not x["required"])}
            cart, stamp = [{"item": "latte", "quantity": 2, "options": options}], time.time_ns()
            orders = await load(app_url + "/api/orders", app.pid, c, d * 3, method="POST", expect=201,
                                limit=args.orders, body=lambda n: {"point": "center", "lines": cart,
                                                                   "payment": "counter",
                                                                   "request_id": f"bench-{stamp}-{n}"})
    finally:
        app_cpu = cpu_seconds(app.pid) - app_cpu
        app_pipe.send("stop")
        gen2 = app_pipe.recv() if app_pipe.poll(30) else gen2
        app.join(30)

    pick = {k: sorted(v, key=lambda r: r["rps"])[len(v) // 2] for k, v in results.items()}
    print(f"\nmenu answer {len(menu)} bytes (identity); {c} connections; {d:g} s a scenario; median of {args.rounds}"
          " rounds (req/s of each: " + ", ".join(k + " " + "/".join(f"{x['rps']:.0f}" for x in v)
                                               for k, v in results.items()) + ")")
    print(f"{'scenario':<34}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'CPU µs':>9}{'busy':>7}{'/file':>8}{'cpu/f':>8}")
    base = pick["file"]
    for name, r in (("baseline: static file", base), ("baseline: same bytes in memory", pick["bytes"]),
                    ("GET /api/menu?point=center", pick["menu"]), ("  the same, gzip", menu_gzip),
                    ("POST /api/orders", orders)):
        if r:
            print(row(name, r, base))
    if orders:
        print(f"orders: {orders['n']} measured, {orders['total']} placed with the warm-up, all still open at the end")
    print("(CPU µs: the server's CPU time per request; busy: server CPU / wall time; /file: req/s against the "
          "static file; cpu/f: the file's CPU per request / this one's)")
    print(f"the app server{' (gc.freeze() after start-up)' if args.freeze else ''}: {gen2[0]} full garbage "
          f"collections took {gen2[1]:.2f} s, {gen2[1] / app_cpu:.0%} of its CPU time")
    ratio = pick["menu"]["rps"] / base["rps"]
    print(f"menu / static file = {ratio:.0%}; menu / in-memory bytes = {pick['menu']['rps'] / pick['bytes']['rps']:.0%}"
          f"; target (>= 50% of the static baseline): {'met' if ratio >= .5 else 'MISSED'}")

    print("\nfirst visit (Accept-Encoding: gzip): bytes on the wire, uncompressed")
    for path, size, plain in rows:
        print(f"  {path:<40}{size:8}{plain:9}")
    total = sum(r[1] for r in rows)
    print(f"  {f'total, {len(rows)} files':<40}{total:8}{sum(r[2] for r in rows):9}   "
          f"target (<= 30 KB = 30720 bytes): {'met' if total <= 30720 else 'MISSED'}")
    print("  the first screen's API answers (not in the total):")
    for path, size, plain in api:
        print(f"  {path:<40}{size:8}{plain:9}")
    if prof:
        print("\nthe app server during the menu rounds (cProfile: it slows Python down, read shares):")
        pstats.Stats(prof).sort_stats("cumtime").print_stats(r"webapp|journey|storage", 25)


if __name__ == "__main__":
    asyncio.run(main())
