"""Photos from https hosts the config lists show in the Mini App; from any other host the page's CSP blocks
them, in real headless Chromium. Two local https servers (a self-signed certificate, which the browser is
told to accept) serve the same picture: one is listed (``photo_sources``), the other is not."""
from __future__ import annotations

import io
import re
import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web
from PIL import Image

from journey.engine import Engine
from webapp import WebappConfig, create_app

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DECODED = "(img) => img.complete && img.naturalWidth > 0"


class Svg:
    def svg(self, data: str, caption: str = "") -> bytes:
        return b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'

    def png(self, data: str, caption: str = "") -> bytes:
        return b""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def serve(app: web.Application, ssl_context: ssl.SSLContext | None = None) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=ssl_context).start()
    return runner, f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"


@pytest.fixture
def tls(tmp_path) -> ssl.SSLContext:
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed: it makes the test's self-signed certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
async def photo_hosts(tls) -> AsyncIterator[Callable[[], tuple[str, str, list[str]]]]:
    """Two https photo servers; every path asked of either is recorded (a blocked photo is never asked)."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 60)).save(out, "PNG")
    asked: list[str] = []

    async def picture(request: web.Request) -> web.Response:
        asked.append(f"{request.host}{request.path}")
        return web.Response(body=out.getvalue(), content_type="image/png")

    runners = []
    origins = []
    for _ in range(2):
        app = web.Application()
        app.router.add_get("/{name}", picture)
        runner, origin = await serve(app, tls)
        runners.append(runner)
        origins.append(origin)
    try:
        yield lambda: (origins[0], origins[1], asked)
    finally:
        for runner in runners:
            await runner.cleanup()


async def test_a_listed_photo_host_shows_and_an_unlisted_one_is_blocked(engine: Engine, photo_hosts):
    if not CHROMIUM.exists():
        pytest.skip("Chromium not installed: apt-get install chromium")
    from playwright.async_api import async_playwright

    listed, unlisted, asked = photo_hosts()
    menu = await engine.export_menu()
    photos = {"latte": f"{listed}/latte.png", "croissant": f"{unlisted}/croissant.png"}
    await engine.import_menu(replace(menu, entries=tuple(
        replace(e, item=replace(e.item, photo=photos.get(e.item.id, e.item.photo))) for e in menu.entries)))
    runner, server = await serve(create_app(engine, WebappConfig(demo=True, photo_sources=(listed,)), Svg()))
    try:
        async with async_playwright() as p:
            chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
            try:
                context = await chromium.new_context(viewport={"width": 360, "height": 740}, locale="ru-RU",
                                                     ignore_https_errors=True)
                context.set_default_timeout(15_000)
                await context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())
                page = await context.new_page()
                complaints: list[str] = []
                page.on("console", lambda m: complaints.append(m.text) if m.type in ("error", "warning") else None)
                blocked = unlisted.removeprefix("https://")
                async with page.expect_console_message(lambda m: "Content Security Policy" in m.text
                                                       and blocked in m.text):
                    await page.goto(server + "/")
                    croissant = page.get_by_test_id("item-croissant").locator("img.thumb")
                    await croissant.scroll_into_view_if_needed()
                latte = page.get_by_test_id("item-latte").locator("img.thumb")
                await latte.scroll_into_view_if_needed()
                await page.wait_for_function(DECODED, arg=await latte.element_handle())
                assert await croissant.evaluate(DECODED) is False
            finally:
                await chromium.close()
    finally:
        await runner.cleanup()
    assert asked == [f"{listed.removeprefix('https://')}/latte.png"]  # the unlisted host was never asked
    assert [c for c in complaints if "Content Security Policy" in c and blocked not in c] == []
