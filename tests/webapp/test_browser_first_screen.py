"""The first screen as a phone on a slow line gets it, in real Chromium (webapp/page.py, webapp/build.mjs).

The menu comes from the page and its two built files, drawn while ``/api/me`` is still on its way (it is
held here until the menu shows); the staff tab follows once the server has said who is calling. A launch the
server refuses still ends on the error, not on a menu that cannot take an order. Other screens come from
the later file, fetched once the menu is drawn; English from its own file when it is chosen.
"""
from __future__ import annotations

import asyncio
import re

import pytest
import test_browser
from test_browser import Browser, Server, by, telegram_init_data, telegram_url

pytestmark = pytest.mark.browser
chromium, server, demo_server = test_browser.chromium, test_browser.server, test_browser.demo_server

DIST = re.compile(r"/static/dist/([a-z0-9-]+)-[A-Z0-9]{8}\.(js|css)$")


async def test_the_menu_shows_before_the_server_says_who_is_calling(chromium: Browser, server: Server):
    page = await chromium.page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url.removeprefix(server.url)))
    held = asyncio.Event()

    async def hold_me(route) -> None:
        await held.wait()
        await route.continue_()

    await page.route(re.compile(r"/api/me$"), hold_me)
    owner = telegram_init_data(1, server.now(), first_name="Владелец")  # staff: the tab comes with /api/me
    await page.goto(telegram_url(server.url, owner))
    await by(page, "item-latte").wait_for()
    assert await by(page, "tab-staff").count() == 0
    first = [u for u in asked if not u.startswith("/photos/")]
    # the page, its two built files, /api/me on its way (and the menu's suggestions, drawn when they come);
    # telegram.org's script is refused by the test's context
    assert first[0].startswith("/#") or first[0] == "/", first
    built = sorted(DIST.search(u).group(1) for u in first if DIST.search(u))
    assert built == ["chunk", "main"], first
    assert "/api/me" in first, first  # held: the menu did not wait for it
    assert not any(u.startswith(("/api/config", "/api/points", "/api/menu")) for u in first), first  # in the page

    held.set()
    await by(page, "tab-staff").wait_for()
    assert await by(page, "tab-menu").get_attribute("aria-current") is not None
    await page.wait_for_function("() => performance.getEntriesByType('resource')"
                                 ".some((r) => /\\/static\\/dist\\/later-/.test(r.name))")
    await by(page, "item-latte").locator("a.card-link").click()  # the item screen: from the later file
    await page.locator("#app h2", has_text="Латте").wait_for()
    await chromium.shot(page, "item")


async def test_a_refused_launch_ends_on_the_error_not_the_menu(chromium: Browser, server: Server):
    page = await chromium.page()
    stale = telegram_init_data(5001, server.now() - 2 * 86400, first_name="Анна")  # older than a day
    await page.goto(telegram_url(server.url, stale))
    await by(page, "error").wait_for()
    assert await by(page, "item-latte").count() == 0
    assert await page.locator("#app").inner_text() != ""


async def test_english_comes_from_its_own_file(chromium: Browser, demo_server: Server):
    page = await chromium.page(locale="en-GB")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    await page.goto(demo_server.url + "/")
    await by(page, "tab-cart").filter(has_text="Cart").wait_for()
    assert await page.locator("html").get_attribute("lang") == "en"
    assert any(DIST.search(u) and DIST.search(u).group(1) == "i18n-en" for u in asked), asked

    russian = await chromium.page(locale="ru-RU")
    heard: list[str] = []
    russian.on("request", lambda r: heard.append(r.url))
    await russian.goto(demo_server.url + "/")
    await by(russian, "tab-cart").filter(has_text="Корзина").wait_for()
    assert not any("i18n-en" in u for u in heard), heard
