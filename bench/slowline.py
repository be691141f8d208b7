"""The Mini App on a slow phone line: how long until the menu shows, and what a first visit downloads.

    python bench/slowline.py [--rounds 5] [--profiles 3g,400ms] [--width 360] [--screenshot DIR]

Debian's Chromium (``/usr/bin/chromium``) driven by Playwright, with the line emulated by the DevTools
protocol (``Network.emulateNetworkConditions``, applied to every request of the page):

- **3g**: DevTools' "Regular 3G": 750 kbit/s down, 250 kbit/s up, 100 ms of latency per request;
- **400ms**: the same speeds with 400 ms of latency, a line far from the mast or a loaded cell;
- **none**: no emulation (loopback): what the browser's and the server's work on this machine take alone,
  which the other two include (on a busy machine, most of their time).

The server: ``create_app`` in a child process (spawn) on a fresh SQLite file with the demo shop
(``seed_demo``: 20 items, SVG photos), nothing configured (the browser demo: no Telegram or VK script to
fetch), the abuse limits off. Two pages of the same server, in interleaved rounds (the order reversed every
other round), each visit in a fresh browser context (empty cache), a phone-sized viewport:

- **built**: ``/``, the page as served (webapp/page.py): stylesheet inlined, the first screen's API answers
  as data in the page, the boot script and its chunk built ahead (webapp/build.mjs);
- **modules**: the page as it was before the build (kept below as ``MODULES_PAGE``): the stylesheet and
  every module its own file, config, points and menu asked for by the API. The sources it loads are today's
  (they fall back to the API when the page brings nothing), so it is the same code shipped the old way.

"Menu shown" is the ``performance.now()`` (from the start of the navigation) at which the first menu card
is in the document, seen by a ``MutationObserver`` the run installs before the page loads. Requests and
bytes are the browser's resource timing (``transferSize``: headers and the compressed body as they crossed
the line) of the page and of what it fetched: those done before the menu showed, and the whole first visit
once the network is quiet (photos included: the demo's are SVGs, loaded lazily). A second visit in the
same context (what a customer opening the Mini App again gets: the page revalidated, the built files from
the cache) is timed as well. The median round is shown. Targets: the menu within 1 s on Regular 3G and
within 2 s at 400 ms of latency (issue #14). ``--screenshot DIR`` saves the menu as shown (each page, once).
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import platform
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# run as a script, bench/ is first on sys.path and this file would shadow the ``webapp`` package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from aiohttp import web  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PROFILES = {  # as DevTools' presets: throughput in bytes/s, a kbit counted as 1024 bits
    "none": {"latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},  # the machine's own share
    "3g": {"latency": 100, "downloadThroughput": 750 * 1024 / 8, "uploadThroughput": 250 * 1024 / 8},
    "400ms": {"latency": 400, "downloadThroughput": 750 * 1024 / 8, "uploadThroughput": 250 * 1024 / 8},
}
TARGETS = {"3g": 1000.0, "400ms": 2000.0}  # ms until the menu shows (none for "none")
# the page before the front end was built (the commit before it): each module and the stylesheet a request
MODULES_PAGE = """<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1,viewport-fit=cover">
<meta name="color-scheme" content="light dark">
<meta name="theme-color" content="#fbf6f0">
<title>Витрина</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="static/app.css">
<link rel="modulepreload" href="static/js/dom.js">
<link rel="modulepreload" href="static/js/i18n.js">
<link rel="modulepreload" href="static/js/api.js">
<link rel="modulepreload" href="static/js/platform.js">
<link rel="modulepreload" href="static/js/state.js">
<link rel="modulepreload" href="static/js/privacy.js">
<link rel="modulepreload" href="static/js/screens/menu.js">
<link rel="modulepreload" href="static/js/screens/item.js">
<link rel="modulepreload" href="static/js/screens/cart.js">
<link rel="modulepreload" href="static/js/screens/checkout.js">
<link rel="modulepreload" href="static/js/screens/order.js">
<link rel="modulepreload" href="static/js/screens/orders.js">
<link rel="modulepreload" href="static/js/screens/profile.js">
<link rel="modulepreload" href="static/js/screens/staff.js">
<script type="module" src="static/js/main.js"></script>
</head>
<body>
<header class="top">
  <button type="button" class="back" id="back" hidden data-testid="back" aria-label="Назад">←</button>
  <h1 id="title">Витрина</h1>
</header>
<main id="app" tabindex="-1" aria-live="polite"><p class="hint loading">Загрузка…</p></main>
<div id="mainbar" class="mainbar" hidden>
<button type="button" class="btn primary wide" id="main" data-testid="main-button"></button></div>
<nav class="tabs" id="tabs" hidden aria-label="Разделы"></nav>
<div id="toast" class="toast" role="status" aria-live="polite" hidden></div>
</body>
</html>
"""
PAGES = {"built": "/", "modules": "/modules.html"}
# installed before any script of the page: the moment the first menu card is in the document
WATCH = """
(() => {
  const seen = () => document.querySelector('[data-testid^="item-"]');
  const mark = () => { if (window.__menuShown === undefined && seen()) window.__menuShown = performance.now(); };
  new MutationObserver(mark).observe(document, { childList: true, subtree: true });
})();
"""
RESOURCES = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const list = [{ name: nav.name, kind: 'page', start: 0, end: nav.responseEnd, bytes: nav.transferSize }];
  for (const r of performance.getEntriesByType('resource')) {
    list.push({ name: r.name, kind: r.initiatorType, start: r.startTime, end: r.responseEnd, bytes: r.transferSize });
  }
  return list;
}"""


def serve(conn) -> None:
    asyncio.run(_serve(conn))


async def _serve(conn) -> None:
    from adapters.qr import QrcodeRenderer  # the app's modules in its process only
    from bot.seed import seed_demo
    from journey.engine import Engine
    from journey.limits import ShopLimits
    from storage.sqlite import SqliteDatabase
    from webapp.app import create_app
    from webapp.config import WebappConfig

    with tempfile.TemporaryDirectory() as tmp:
        db = await SqliteDatabase(Path(tmp) / "slowline.db").connect()
        engine = Engine(db.uow, reader=db.reading, limits=ShopLimits.off())
        await engine.start()
        await seed_demo(engine)
        app = create_app(engine, WebappConfig(demo=True), QrcodeRenderer())

        async def modules(request: web.Request) -> web.Response:
            return web.Response(text=MODULES_PAGE, content_type="text/html", headers={"Cache-Control": "no-cache"})

        app.router.add_get("/modules.html", modules)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        conn.send(runner.addresses[0][1])
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "stop"
        await runner.cleanup()
        await db.close()


async def visit(browser, url: str, conditions: dict, width: int, shot: Path | None) -> dict:
    """A first visit in a fresh context, then a second one in the same context (its cache warm)."""
    context = await browser.new_context(viewport={"width": width, "height": 740}, device_scale_factor=2,
                                        locale="ru-RU", is_mobile=True, has_touch=True)
    try:
        found = {}
        for which in ("first", "again"):
            page = await context.new_page()
            cdp = await context.new_cdp_session(page)
            await cdp.send("Network.enable")
            await cdp.send("Network.emulateNetworkConditions", {"offline": False, **conditions})
            await page.add_init_script(WATCH)
            await page.goto(url, wait_until="commit")
            await page.wait_for_function("() => window.__menuShown !== undefined", timeout=60_000, polling=50)
            shown = await page.evaluate("() => window.__menuShown")
            await page.wait_for_load_state("networkidle", timeout=60_000)
            resources = await page.evaluate(RESOURCES)
            if shot is not None and which == "first":
                await page.screenshot(path=str(shot), full_page=False)
            before = [r for r in resources if r["end"] <= shown]
            found[which] = {
                "menu_ms": shown,
                "requests_before": len(before) - 1,  # after the page
                "bytes_before": sum(r["bytes"] for r in before),
                "requests": len(resources) - 1,
                "bytes": sum(r["bytes"] for r in resources),
                "photos": sum(1 for r in resources if "/photos/" in r["name"] or "/media/" in r["name"]),
                "names_before": [r["name"].split("/")[-1] for r in before[1:]],
            }
            await page.close()
        return found
    finally:
        await context.close()


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "?")
    return f"{platform.platform()}, {model}, {multiprocessing.cpu_count()} CPUs, Python {platform.python_version()}"


async def run(args: argparse.Namespace) -> int:
    from playwright.async_api import async_playwright

    ctx = multiprocessing.get_context("spawn")
    pipe, child = ctx.Pipe()
    server = ctx.Process(target=serve, args=(child,), daemon=True)
    server.start()
    if not pipe.poll(60):
        raise RuntimeError("the server did not start")
    base = f"http://127.0.0.1:{pipe.recv()}"
    profiles = [p for p in args.profiles.split(",") if p]
    results: dict[tuple[str, str], list[dict]] = {}
    print(machine())
    print(f"viewport {args.width}x740 @2x, {args.rounds} rounds, Chromium {CHROMIUM}")
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            print(f"Chromium {browser.version}")
            for name in PAGES:  # a warm-up visit of each page: the server's caches, the browser's start
                await visit(browser, base + PAGES[name], {"latency": 0, "downloadThroughput": -1,
                                                          "uploadThroughput": -1}, args.width, None)
            for n in range(args.rounds):
                order = list(PAGES) if n % 2 == 0 else list(reversed(PAGES))
                for profile in profiles:
                    for name in order:
                        shot = None
                        if args.screenshot and n == 0 and profile == profiles[0]:
                            Path(args.screenshot).mkdir(parents=True, exist_ok=True)
                            shot = Path(args.screenshot) / f"slowline-{name}-{args.width}.png"
                        found = await visit(browser, base + PAGES[name], PROFILES[profile], args.width, shot)
                        results.setdefault((profile, name), []).append(found)
            await browser.close()
    finally:
        pipe.send("stop")
        server.join(10)
    failed = report(results, profiles)
    return 1 if failed and args.strict else 0


def report(results: dict[tuple[str, str], list[dict]], profiles: list[str]) -> bool:
    failed = False
    print()
    print(f"{'line':<7} {'page':<8} {'menu ms':>8} {'range':>13} {'req<menu':>8} {'KB<menu':>8} "
          f"{'req all':>7} {'KB all':>7} {'photos':>6} {'again ms':>8} {'again KB':>8}")
    for profile in profiles:
        for name in PAGES:
            runs = results[(profile, name)]
            median = sorted(runs, key=lambda r: r["first"]["menu_ms"])[len(runs) // 2]
            menus = [r["first"]["menu_ms"] for r in runs]
            first, again = median["first"], median["again"]
            print(f"{profile:<7} {name:<8} {first['menu_ms']:>8.0f} {min(menus):>6.0f}-{max(menus):<6.0f} "
                  f"{first['requests_before']:>8} {first['bytes_before'] / 1024:>8.1f} {first['requests']:>7} "
                  f"{first['bytes'] / 1024:>7.1f} {first['photos']:>6} "
                  f"{statistics.median(r['again']['menu_ms'] for r in runs):>8.0f} {again['bytes'] / 1024:>8.1f}")
            if name == "built" and profile in TARGETS:
                ok = first["menu_ms"] < TARGETS[profile]
                failed |= not ok
                print(f"        before the menu: {', '.join(first['names_before'])}")
                print(f"        target < {TARGETS[profile]:.0f} ms: {'met' if ok else 'MISSED'}")
    for profile in profiles:
        built = statistics.median(r["first"]["menu_ms"] for r in results[(profile, "built")])
        modules = statistics.median(r["first"]["menu_ms"] for r in results[(profile, "modules")])
        print(f"{profile}: built shows the menu in {built / modules:.0%} of the modules page's time")
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profiles", default="none,3g,400ms", help="comma-separated: " + ", ".join(PROFILES))
    parser.add_argument("--width", type=int, default=360, help="viewport width in CSS pixels (a phone: 360)")
    parser.add_argument("--screenshot", default="", help="a folder for the menu's screenshots")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
