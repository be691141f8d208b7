"""A photo an owner sent from the chat, in real headless Chromium on a 360-pixel phone at a density of 2:
the menu card takes the small size and the item screen the large one (``srcset``), in WebP, both load under
the page's Content-Security-Policy, with no console complaint; a photo stored before WebP was made (JPEGs
only) is shown from its JPEGs. A screenshot of each is saved under tmp_path."""
from __future__ import annotations

import io
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from PIL import Image
from shop_fixtures import OWNER

from adapters.images import PillowPhotos
from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from webapp import WebappConfig, create_app

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# the file the browser chose and that it decoded it (naturalWidth is in CSS pixels: the slot's width)
LOADED = """(img) => ({ src: img.currentSrc, shown: img.complete && img.naturalWidth > 0 })"""
DECODED = "(img) => img.complete && img.naturalWidth > 0"


class Svg:
    def svg(self, data: str, caption: str = "") -> bytes:
        return b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'

    def png(self, data: str, caption: str = "") -> bytes:
        return b""


@pytest.fixture
async def server(engine: Engine) -> AsyncIterator[str]:
    engine.owners = {*engine.owners, CustomerRef(Channel.WEB, "staff")}
    runner = web.AppRunner(create_app(engine, WebappConfig(demo=True), Svg()))
    await runner.setup()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


class JpegsOnly(PillowPhotos):
    """What the processor made before it made WebP too."""

    def prepare(self, data: bytes) -> dict[str, bytes]:
        return {size: blob for size, blob in super().prepare(data).items() if size.isdigit()}


@pytest.mark.parametrize("photos, ext", [(PillowPhotos, "webp"), (JpegsOnly, "jpg")])
async def test_the_mini_app_shows_the_photo_in_the_size_each_screen_needs(server, engine, tmp_path, photos, ext):
    if not CHROMIUM.exists():
        pytest.skip("Chromium not installed: apt-get install chromium")
    from playwright.async_api import async_playwright

    engine.photos = photos()
    picture = Image.new("RGB", (1600, 1200), (200, 120, 60))
    out = io.BytesIO()
    picture.save(out, "JPEG")
    url = (await engine.set_photo(OWNER, "latte", out.getvalue())).item.photo
    base = url.removesuffix("-1200.jpg")

    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        try:
            context = await chromium.new_context(viewport={"width": 360, "height": 740}, locale="ru-RU",
                                                 device_scale_factor=2, has_touch=True)
            context.set_default_timeout(15_000)
            await context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())
            page = await context.new_page()
            complaints: list[str] = []
            page.on("pageerror", lambda exc: complaints.append(str(exc)))
            page.on("console", lambda m: complaints.append(m.text) if m.type in ("error", "warning") else None)

            await page.goto(server + "/")
            thumb = page.get_by_test_id("item-latte").locator("img.thumb")
            await thumb.scroll_into_view_if_needed()
            await page.wait_for_function(DECODED, arg=await thumb.element_handle())
            assert await thumb.evaluate(LOADED) == {"src": server + base + f"-480.{ext}", "shown": True}
            await page.screenshot(path=str(tmp_path / "menu.png"))

            await page.get_by_test_id("item-latte").locator("a.card-link").click()
            hero = page.locator("img.hero")
            await page.wait_for_function(DECODED, arg=await hero.element_handle())
            assert await hero.evaluate(LOADED) == {"src": server + base + f"-1200.{ext}", "shown": True}
            await page.screenshot(path=str(tmp_path / "item.png"))
        finally:
            await chromium.close()
    if ext == "jpg":  # the WebPs it asked for first were not there
        complaints = [c for c in complaints if "404 (Not Found)" not in c]
    assert complaints == []
