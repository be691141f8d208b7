"""Memory of ``vitrina run``: the demo as a process, idle and after journeys through the Mini App API.

    python bench/memory.py [--journeys 2000] [--concurrency 8] [--settle 3]
    python bench/memory.py --modules          # + what the imports cost, package by package
    python bench/memory.py --year             # on a year of data (bench/year.py: 100,000 orders)

``vitrina run`` starts in a fresh temporary folder with nothing configured (the demo: the Mini App in a
browser, no bots, a new SQLite file seeded with the demo shop), the abuse limits off (every request comes from
127.0.0.1) and the port chosen here. Its memory is read from ``/proc/<pid>``: the resident set (RSS: what
``ps`` and most dashboards show; its anonymous part is the process's own heap, its file part the mapped
libraries and the database's pages), PSS (the shared libraries' pages divided among the processes mapping
them) and the peak RSS. Read at these moments:

- **idle**: ``--settle`` seconds after ``/healthz`` first answers;
- **first visit**: after ``/``, ``/api/config``, ``/api/me`` and the menu, as the Mini App's first screen asks;
- **after N journeys**: half of ``--journeys`` then all of them, ``--concurrency`` customers at once, each
  journey the Mini App's calls: the menu, ``POST /api/orders`` (two lattes with options, paid at the
  counter), the order and its QR code, then the demo staff's ``accept``, ``ready`` and hand-over by the short
  code; a growth between the half and the whole would be a leak rather than a cache filling;
- **idle again**: ``--settle`` seconds after the load.

With ``--year`` the shop's file is first seeded (``vitrina demo seed``) and filled with a year of history
(``bench/year.py``, ``--year-orders`` orders by a fifth as many customers) before ``vitrina run`` opens it: the
database's page caches then fill with real pages (SQLite's ``cache_size``, per connection).

The baseline, measured the same way in the same run: a bare aiohttp server (one handler) started by the same
interpreter: the floor that Python and the web server cost before anything of the shop is loaded.
``--modules`` imports, in one fresh interpreter, the packages ``vitrina run`` loads, and prints the RSS each
adds on top of the ones before it (the order matters: a shared dependency is counted once, at the first), then
the channels' SDKs, which the demo does not load: aiogram (Telegram) and vkbottle (VK).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientTimeout

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
KB = 1024
BARE = """
import sys
from aiohttp import web
async def hello(request):
    return web.Response(text="ok")
app = web.Application()
app.router.add_get("/healthz", hello)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""
# in the order `vitrina run` first imports them (bot/main.py, bot/runner.py, webapp/app.py)
MODULES = ("asyncio", "pydantic", "pydantic_settings", "aiohttp.web", "aiosqlite", "journey.engine",
           "storage.sqlite", "bot.settings", "bot.channels", "webapp.app", "bot.runner", "PIL.Image",
           "adapters.images", "adapters.chart", "adapters.story", "adapters.qr", "prometheus_client", "bot.main",
           "aiogram", "vkbottle")  # the last two only with a Telegram or a VK channel configured (bot/channels.py)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory(pid: int) -> dict[str, int]:
    """kB: rss, anon, file, hwm (peak RSS), pss; and threads."""
    out: dict[str, int] = {}
    names = {"VmRSS": "rss", "RssAnon": "anon", "RssFile": "file", "VmHWM": "hwm", "Threads": "threads"}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in names:
            out[names[key]] = int(value.split()[0])
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                out["pss"] = int(line.split()[1])
    return out


def start(argv: list[str], folder: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VITRINA_")}  # nothing configured
    env.update(VITRINA_WEBAPP__PORT=str(port), VITRINA_LIMITS__ENABLED="false", PYTHONPATH=str(ROOT))
    return subprocess.Popen(argv, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def wait_ready(process: subprocess.Popen, url: str, timeout: float = 90) -> float:
    started = time.perf_counter()
    async with ClientSession(timeout=ClientTimeout(total=2)) as s:
        while time.perf_counter() - started < timeout:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore
            with contextlib.suppress(OSError, asyncio.TimeoutError):
                async with s.get(url + "/healthz") as r:
                    if r.status == 200:
                        return time.perf_counter() - started
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not answer /healthz")


class Client:
    def __init__(self, session: ClientSession, url: str) -> None:
        self.s, self.url = session, url

    async def call(self, method: str, path: str, who: str, body: Any = None, expect: int = 200) -> Any:
        async with self.s.request(method, self.url + path, json=body,
                                  headers={"Authorization": f"demo {who}", "Accept-Encoding": "gzip"}) as r:
            raw = await r.read()
            if r.status != expect:
                raise AssertionError(f"{method} {path}: {r.status} {raw[:300]!r}")
            return await r.json() if r.content_type == "application/json" else raw


async def first_visit(c: Client) -> dict:
    await c.call("GET", "/", "visitor")
    config = await c.call("GET", "/api/config", "visitor")
    await c.call("GET", "/api/me", "visitor")
    menu = await c.call("GET", "/api/menu?point=center", "visitor")
    latte = next(i for i in menu["items"] if i["id"] == "latte")
    groups = latte["options"]  # each required group's first option, the first optional group's last
    options = {g["id"]: [g["options"][0 if g["required"] else -1]["id"]] for g in groups
               if g["required"] or g is next(x for x in groups if not x["required"])}
    return {"point": "center", "lines": [{"item": "latte", "quantity": 2, "options": options}], "payment": "counter",
            "consent": config["privacy"]["version"]}


async def journeys(c: Client, order: dict, count: int, concurrency: int, serial: list[int]) -> None:
    left = count

    async def customer(n: int) -> None:
        nonlocal left
        who = f"guest{n}"
        order_body = {k: v for k, v in order.items() if k != "consent"}
        if not (await c.call("GET", "/api/me", who)).get("consent"):  # the privacy policy, once, as the app asks
            await c.call("POST", "/api/consent", who, {"version": order["consent"]}, 201)
        while left > 0:
            left -= 1
            serial[0] += 1
            await c.call("GET", "/api/menu?point=center", who)
            placed = await c.call("POST", "/api/orders", who, {**order_body, "request_id": f"mem-{serial[0]}"}, 201)
            await c.call("GET", f"/api/orders/{placed['id']}", who)
            await c.call("GET", placed["qr"], who)
            await c.call("POST", f"/api/staff/orders/{placed['id']}/accept", "staff")
            await c.call("POST", f"/api/staff/orders/{placed['id']}/ready", "staff")
            done = await c.call("POST", "/api/staff/handover", "staff", {"code": placed["short_code"],
                                                                          "point": "center"})
            if done["status"] != "picked_up":
                raise AssertionError(f"journey ended {done['status']}")

    await asyncio.gather(*(customer(n) for n in range(concurrency)))


def row(label: str, m: dict[str, int], floor: dict[str, int] | None = None) -> str:
    extra = f"{(m['rss'] - floor['rss']) / KB:>10.1f}" if floor else f"{'':>10}"
    return (f"{label:<34}{m['rss'] / KB:>8.1f}{m['anon'] / KB:>8.1f}{m['file'] / KB:>8.1f}"
            f"{m.get('pss', 0) / KB:>8.1f}{m['hwm'] / KB:>8.1f}{m['threads']:>8}{extra}")


def modules() -> list[str]:
    """The RSS each package adds, imported in order in one fresh interpreter."""
    code = ("import sys, gc\n"
            "def rss():\n"
            "    return int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1])\n"
            "before = rss()\n"
            f"for name in {MODULES!r}:\n"
            "    __import__(name); gc.collect(); now = rss()\n"
            "    print(f'{name} {now - before} {now} {len(sys.modules)}'); before = now\n")
    out = subprocess.run([PYTHON, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines = [f"{'module (in import order)':<28}{'adds MB':>9}{'RSS MB':>9}{'modules':>9}"]
    for line in out.stdout.splitlines():
        name, added, rss, count = line.split()
        lines.append(f"{name:<28}{int(added) / KB:>9.1f}{int(rss) / KB:>9.1f}{count:>9}")
    return lines


def machine() -> list[str]:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    return [f"platform   {platform.platform()}", f"cpu        {cpu} x {os.cpu_count()}",
            f"python     {platform.python_implementation()} {platform.python_version()}"]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--journeys", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--settle", type=float, default=3, help="seconds to wait before an idle reading")
    parser.add_argument("--modules", action="store_true", help="also the RSS each imported package adds")
    parser.add_argument("--year", action="store_true", help="on a year of data (bench/year.py)")
    parser.add_argument("--year-orders", type=int, default=100_000)
    args = parser.parse_args()
    print("\n".join(machine()))
    year = f" --year --year-orders {args.year_orders}" if args.year else ""
    print(f"command    python bench/memory.py --journeys {args.journeys} --concurrency {args.concurrency} "
          f"--settle {args.settle:g}{year}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    folder = Path(tempfile.mkdtemp(prefix="vitrina-memory-"))
    processes: list[subprocess.Popen] = []
    readings: list[tuple[str, dict[str, int]]] = []
    try:
        port = free_port()
        bare = start([PYTHON, "-c", BARE, str(port)], folder, port)
        processes.append(bare)
        await wait_ready(bare, f"http://127.0.0.1:{port}")
        await asyncio.sleep(args.settle)
        floor = memory(bare.pid)
        bare.terminate()
        bare.wait(10)

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        if args.year:
            env = {k: v for k, v in os.environ.items() if not k.startswith("VITRINA_")}
            subprocess.run([PYTHON, "-m", "bot.main", "demo", "seed"], cwd=folder, check=True, env=env,
                           stdout=subprocess.DEVNULL)
            t0 = time.perf_counter()
            subprocess.run([PYTHON, str(ROOT / "bench" / "year.py"), str(folder / "vitrina.db"), "--orders",
                            str(args.year_orders), "--customers", str(args.year_orders // 5)], cwd=ROOT, check=True,
                           env={**env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL)
            size = (folder / "vitrina.db").stat().st_size
            print(f"year       {args.year_orders} orders written in {time.perf_counter() - t0:.0f} s; "
                  f"the file is {size / KB / KB:.0f} MB")
        shop = start([PYTHON, "-m", "bot.main", "run"], folder, port)
        processes.append(shop)
        seconds = await wait_ready(shop, url)
        await asyncio.sleep(args.settle)
        readings.append(("idle", memory(shop.pid)))
        serial = [0]
        async with ClientSession(timeout=ClientTimeout(total=60)) as session:
            c = Client(session, url)
            order = await first_visit(c)
            readings.append(("after the first visit", memory(shop.pid)))
            half = args.journeys // 2
            t0 = time.perf_counter()
            await journeys(c, order, half, args.concurrency, serial)
            readings.append((f"after {half} journeys", memory(shop.pid)))
            await journeys(c, order, args.journeys - half, args.concurrency, serial)
            elapsed = time.perf_counter() - t0
            readings.append((f"after {args.journeys} journeys", memory(shop.pid)))
        await asyncio.sleep(args.settle)
        readings.append(("idle again", memory(shop.pid)))
        shop.terminate()
        shop.wait(30)
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(folder, ignore_errors=True)

    print(f"\nvitrina run answered /healthz {seconds:.1f} s after its start; {args.journeys} journeys in "
          f"{elapsed:.1f} s ({args.journeys / elapsed:.0f}/s)\n")
    print(f"{'MB':<34}{'RSS':>8}{'anon':>8}{'file':>8}{'PSS':>8}{'peak':>8}{'threads':>8}{'- bare':>10}")
    print(row("bare aiohttp server, idle", floor))
    for label, m in readings:
        print(row(f"vitrina run, {label}", m, floor))
    grown = readings[3][1]["rss"] - readings[2][1]["rss"]
    print(f"\nRSS from {args.journeys // 2} to {args.journeys} journeys: {grown / KB:+.1f} MB "
          f"({grown / max(1, args.journeys - args.journeys // 2):+.2f} kB a journey)")
    if args.modules:
        print()
        print("\n".join(modules()))


if __name__ == "__main__":
    asyncio.run(main())
