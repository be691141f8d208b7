"""The Mini App in a real browser: Debian's Chromium driven by Playwright against the real aiohttp app.

Each journey orders two items with options, reaches the order page, reads the short code, has staff hand
the order over and watches the customer's page turn to "Выдан". Telegram runs the real
telegram-web-app.js (from the npm package @twa-dev/sdk, see package.json) served in place of telegram.org;
its MainButton is pressed the way the Telegram client does it. Nothing is downloaded at test time.
Screenshots go to test-artifacts/<test name>*.png.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import launch_data
import pytest
from aiohttp import web

from adapters.telegram.launch import TelegramMiniApp
from adapters.vk.launch import VkMiniApp
from journey.catalog import Item
from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from journey.model import Promo, PromoKind
from journey.money import Money
from webapp import WebappConfig, create_app

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
TELEGRAM_JS = [ROOT / "node_modules/@twa-dev/sdk/dist" / name
               for name in ("telegram-web-app.js", "telegram-web-apps.js")]
PHOTOS = ROOT / "webapp/static/photos"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BOT_TOKEN = "123456789:AAbrowser-test-token"
VK_SECRET = "vk-browser-test-secret"
VK_APP_ID = 7654321
VK_GROUP_ID = 4242
TIMEOUT = 15_000  # ms: generous for a loaded 2-core CI machine
XSS = "<img src=x onerror=alert(1)>"
OWNER = CustomerRef(Channel.TELEGRAM, "1", "Владелец")  # an owner of tests/conftest.py: staff everywhere


def need(path: Path | None, why: str) -> Path:
    if path is None or not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{why} is missing in CI")
        pytest.skip(why)
    return path


def telegram_js() -> Path:
    found = next((p for p in TELEGRAM_JS if p.exists()), None)
    return need(found, "telegram-web-app.js missing: run `npm ci` at the repository root (@twa-dev/sdk)")


# --- launch data, signed the way Telegram and VK sign it -------------------------------------------------

def telegram_init_data(user_id: int, auth_date: int, *, first_name: str, language_code: str = "ru",
                       start_param: str | None = None) -> str:
    return launch_data.telegram_init_data(user_id, auth_date, token=BOT_TOKEN, first_name=first_name,
                                          language_code=language_code, start_param=start_param)


DARK = {"bg_color": "#17212b", "secondary_bg_color": "#232e3c", "text_color": "#f5f5f5", "hint_color": "#708499",
        "link_color": "#6ab3f3", "button_color": "#5288c1", "button_text_color": "#ffffff"}


def telegram_url(base: str, init_data: str, theme: dict | None = None) -> str:
    url = f"{base}/#tgWebAppData={quote(init_data, safe='')}&tgWebAppVersion=8.0&tgWebAppPlatform=tdesktop"
    return url + (f"&tgWebAppThemeParams={quote(json.dumps(theme), safe='')}" if theme else "")


def vk_query(user_id: int, ts: int, language: str = "ru") -> str:
    return launch_data.vk_launch_params(user_id, ts, secret=VK_SECRET, app_id=VK_APP_ID, language=language,
                                        platform="desktop_web")


# --- the server ------------------------------------------------------------------------------------------

def renderer():
    try:
        from adapters.qr import QrcodeRenderer
        return QrcodeRenderer()
    except ImportError:  # pragma: no cover - adapters.qr is part of the project
        class Plain:
            def svg(self, data: str, caption: str = "") -> bytes:
                return b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'

            def png(self, data: str, caption: str = "") -> bytes:
                return b""
        return Plain()


async def with_photos(engine: Engine) -> None:
    """The test menu with the shipped illustrations, so screenshots look like the shop."""
    async with engine.uow() as uow:
        for item in (await uow.catalog.items_by_id(["latte", "espresso", "croissant", "eclair"])).values():
            if (PHOTOS / f"{item.id}.svg").exists():
                await uow.catalog.save_item(dataclasses.replace(item, photo=f"/photos/{item.id}.svg"))


@dataclasses.dataclass
class Server:
    url: str
    engine: Engine

    def now(self) -> int:
        return int(self.engine.now().timestamp())


async def serve(engine: Engine, demo: bool) -> AsyncIterator[Server]:
    apps = [] if demo else [TelegramMiniApp(BOT_TOKEN, lambda: "vitrina_test_bot"),
                            VkMiniApp(VK_APP_ID, VK_SECRET, VK_GROUP_ID)]
    config = WebappConfig(demo=demo, mini_apps=apps)
    await engine.set_rules(name="Кофейня «Витрина»")
    await with_photos(engine)
    runner = web.AppRunner(create_app(engine, config, renderer()))
    await runner.setup()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield Server(f"http://127.0.0.1:{port}", engine)
    finally:
        await runner.cleanup()


@pytest.fixture
async def server(engine: Engine) -> AsyncIterator[Server]:
    async for s in serve(engine, demo=False):
        yield s


@pytest.fixture
async def demo_server(engine: Engine) -> AsyncIterator[Server]:
    engine.owners = {*engine.owners, CustomerRef(Channel.WEB, "staff")}  # as bot.main wires the demo
    async for s in serve(engine, demo=True):
        yield s


# --- the browser -----------------------------------------------------------------------------------------

class Browser:
    """One Chromium; pages in their own contexts (own storage), each recording errors and dialogs."""

    def __init__(self, browser, name: str) -> None:
        self.browser = browser
        self.name = name
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.shots = 0
        self.pages: list = []

    async def page(self, *, locale: str = "ru-RU", telegram: bool = False, vk: bool = False):
        context = await self.browser.new_context(viewport={"width": 360, "height": 740}, locale=locale,
                                                 device_scale_factor=1, has_touch=True)
        context.set_default_timeout(TIMEOUT)
        # nothing leaves this machine: any outside request fails at once (the
        # routes registered later, like telegram.org below, take precedence)
        await context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())
        if telegram:
            script = telegram_js().read_bytes()
            await context.route("https://telegram.org/js/telegram-web-app.js", lambda route: route.fulfill(
                status=200, body=script, content_type="application/javascript"))
            # what the Telegram client would receive from the page: the events the WebApp script posts
            await context.add_init_script(
                "window.__tg = []; window.TelegramWebviewProxy = {postEvent(type, data) {"
                " window.__tg.push([type, data ? JSON.parse(data) : null]); }};")
        if vk:
            # outside an iframe vk-bridge posts to this very window: record the calls, answer none by itself
            await context.add_init_script(
                "window.__vk = []; addEventListener('message', e => {"
                " if (e.data && e.data.type === 'vk-connect') window.__vk.push(e.data); });")
        page = await context.new_page()
        self.pages.append(page)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("dialog", self._dialog)
        return page

    async def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        await dialog.dismiss()

    async def shot(self, page, label: str = "") -> None:
        await page.locator("#toast").wait_for(state="hidden")  # a passing note would cover the page
        text = await page.locator("body").inner_text()
        assert not re.search(r"\bnull\b|\bundefined\b|\[object |NaN", text), text
        self.shots += 1
        suffix = f"-{self.shots}-{label}" if label else ""
        await page.screenshot(path=str(ARTIFACTS / f"{self.name}{suffix}.png"), full_page=True)


@pytest.fixture
async def chromium(request) -> AsyncIterator[Browser]:
    need(CHROMIUM, "Chromium not installed: apt-get install chromium")
    from playwright.async_api import async_playwright
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob(f"{request.node.name}*.png"):
        old.unlink()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        b = Browser(browser, request.node.name)
        try:
            yield b
        finally:
            for i, page in enumerate(b.pages):  # how each page was left, passed or failed
                with contextlib.suppress(Exception):
                    await page.screenshot(path=str(ARTIFACTS / f"{b.name}-end-{i}.png"), full_page=True, timeout=5000)
            await browser.close()
    assert b.errors == [], f"JavaScript errors: {b.errors}"


def by(page, testid: str):
    return page.get_by_test_id(testid)


async def press_main_button(page) -> None:
    """Telegram draws the MainButton itself; a press reaches the page as this event."""
    await page.evaluate("Telegram.WebView.receiveEvent('main_button_pressed')")


async def main_button_text(page) -> str | None:
    events = await page.evaluate("window.__tg.filter(e => e[0] === 'web_app_setup_main_button')")
    return events[-1][1].get("text") if events and events[-1][1].get("is_visible") else None


async def choose_latte_and_croissant(page, b: Browser) -> None:
    """Latte M with oat milk from the item screen, a croissant with the quick "+" on the menu."""
    await by(page, "item-latte").get_by_role("link").click()
    await page.wait_for_url(re.compile(r"#/item/latte$"))
    await by(page, "opt-size-m").check()
    await by(page, "opt-milk-oat").check()
    await page.get_by_test_id("item-price").filter(has_text="350").wait_for()
    await b.shot(page, "item")
    await by(page, "add-to-cart").click()
    await page.wait_for_url(re.compile(r"#/menu$"))
    await by(page, "quick-add-croissant").click()
    await by(page, "tab-cart").filter(has_text="2").wait_for()


async def expect_cart(page) -> None:
    await page.wait_for_url(re.compile(r"#/cart$"))
    await by(page, "cart-line").nth(1).wait_for()
    assert await by(page, "cart-line").count() == 2
    assert "350" in await by(page, "cart-line").first.inner_text()
    assert re.sub(r"\s", "", await by(page, "total").inner_text()) == "530₽"  # the server's quote


async def order_page(page) -> tuple[str, str]:
    await page.wait_for_url(re.compile(r"#/order/[^/]+$"))
    code = (await by(page, "short-code").inner_text()).strip()
    assert code.isdigit()
    order_id = page.url.rsplit("/", 1)[1]
    await page.locator("[data-testid=qr][src^='blob:']").wait_for()
    assert await page.evaluate("document.querySelector('[data-testid=qr]').naturalWidth") > 0
    # placed at 09:00 Moscow time (the test clock), ready in 5 or 10 minutes by the point: shown in the
    # shop's time zone, though the browser runs in UTC
    assert re.search(r"\b09:(05|10)\b", await page.locator("main").inner_text())
    return order_id, code


async def expect_picked_up(page) -> None:
    # the customer's page polls every 3 s
    await page.locator("[data-testid=order-status][data-status=picked_up]").wait_for(timeout=TIMEOUT)
    assert (await by(page, "order-status").inner_text()).strip() in ("Выдан", "Picked up")


# --- the journeys ----------------------------------------------------------------------------------------

async def test_telegram_journey(server: Server, chromium: Browser):
    page = await chromium.page(telegram=True)
    init = telegram_init_data(5001, server.now(), first_name="Анна")
    await page.goto(telegram_url(server.url, init))
    await by(page, "item-latte").wait_for()
    assert await page.evaluate("window.Telegram.WebApp.initData") == init
    events = [e[0] for e in await page.evaluate("window.__tg")]
    assert "web_app_ready" in events and "web_app_expand" in events
    await chromium.shot(page, "menu")

    await choose_latte_and_croissant(page, chromium)
    assert await main_button_text(page) == "Оформить заказ · 2 шт."
    assert await page.evaluate("window.__tg.some(e => e[0] === 'web_app_trigger_haptic_feedback')")
    assert await page.evaluate("window.__tg.some(e => e[0] === 'web_app_setup_closing_behavior'"
                               " && e[1].need_confirmation)")
    assert not await by(page, "main-button").is_visible()  # Telegram draws it, not the page
    await press_main_button(page)
    await expect_cart(page)
    back = "window.__tg.filter(e => e[0] === 'web_app_setup_back_button').at(-1)[1].is_visible"
    assert await page.evaluate(back) is True
    await page.evaluate("Telegram.WebView.receiveEvent('back_button_pressed')")
    await page.wait_for_url(re.compile(r"#/menu$"))
    assert await page.evaluate(back) is False
    await press_main_button(page)
    await expect_cart(page)
    await press_main_button(page)
    await page.wait_for_url(re.compile(r"#/checkout$"))
    await by(page, "promo-input").wait_for()  # the checkout drawn (the cart had a total too)
    assert (await main_button_text(page) or "").startswith("Заказать")
    # promo codes: a wrong one is said so, a right one is priced by the server
    await by(page, "promo-input").fill("nope")
    await by(page, "promo-apply").click()
    await by(page, "promo-message").get_by_text("Такого промокода нет.").wait_for()
    await server.engine.save_promo(Promo("WELCOME", PromoKind.PERCENT, 10))
    await by(page, "promo-input").fill("welcome")
    await by(page, "promo-apply").click()
    await by(page, "discount").wait_for()
    assert re.sub(r"\s", "", await by(page, "total").inner_text()) == "477₽"
    assert re.sub(r"\s", " ", await main_button_text(page) or "") == "Заказать · 477 ₽"
    await chromium.shot(page, "checkout")
    await press_main_button(page)
    order_id, code = await order_page(page)
    await chromium.shot(page, "order")

    # the barista (telegram:2, staff at "center") in the Mini App: accept, ready, scan the QR, hand over
    staff = await chromium.page(telegram=True)
    await staff.goto(telegram_url(server.url, telegram_init_data(2, server.now(), first_name="Бариста")))
    await by(staff, "tab-staff").click()
    row = by(staff, "staff-row").filter(has_text=code)
    await row.get_by_test_id("staff-accept").click()
    await row.get_by_test_id("staff-ready").click()
    await row.filter(has_text="Готов к выдаче").wait_for()
    await by(staff, "staff-scan").click()
    assert await staff.evaluate("window.__tg.some(e => e[0] === 'web_app_open_scan_qr_popup')")
    token = server.engine.pickup_token(order_id)
    await staff.evaluate("t => Telegram.WebView.receiveEvent('qr_text_received', {data: t})", token)
    assert await staff.evaluate("window.__tg.some(e => e[0] === 'web_app_close_scan_qr_popup')")
    await by(staff, "staff-order").filter(has_text=code).wait_for()
    await by(staff, "staff-handover").click()
    await by(staff, "staff-status").filter(has_text="Выдан").wait_for()
    await chromium.shot(staff, "staff")

    await expect_picked_up(page)
    await chromium.shot(page, "picked-up")
    assert not await page.evaluate("window.__tg.filter(e => e[0] === 'web_app_setup_closing_behavior')"
                                   ".at(-1)[1].need_confirmation")


async def vk_answer(page, handler: str, data: dict) -> None:
    """Answer the last call of ``handler`` the way the VK client does: a message with its request_id."""
    await page.wait_for_function("h => window.__vk.some(m => m.handler === h)", arg=handler)
    await page.evaluate("""([h, data]) => {
        const call = window.__vk.filter(m => m.handler === h).at(-1);
        window.postMessage({type: h + 'Result', data: {...data, request_id: call.params.request_id}}, '*');
    }""", [handler, data])


async def test_vk_journey(server: Server, chromium: Browser):
    page = await chromium.page(vk=True)
    # a VK Mini App link vk.com/app<id>#ppark: the start parameter preselects the "park" point
    await page.goto(f"{server.url}/?{vk_query(7001, server.now())}#ppark")
    await by(page, "item-latte").wait_for()
    assert await page.evaluate("typeof window.vkBridge") == "object"  # the vendored bridge, VK mode only
    assert await page.evaluate("window.__vk.some(m => m.handler === 'VKWebAppInit')")  # sent, never answered
    assert await by(page, "point-select").input_value() == "park"
    await chromium.shot(page, "menu")
    await choose_latte_and_croissant(page, chromium)
    await by(page, "main-button").click()
    await expect_cart(page)
    await by(page, "main-button").click()
    await page.wait_for_url(re.compile(r"#/checkout$"))
    await by(page, "promo-input").wait_for()  # the checkout drawn (the cart had a total too)
    anna = CustomerRef(Channel.VK, "7001")
    await server.engine.mark_unreachable(anna, "no_permission")  # VK refused a message before
    await by(page, "main-button").click()
    order_id, code = await order_page(page)
    assert "Парк" in await page.locator(".where").inner_text()
    await chromium.shot(page, "order")
    # the first order asks VK to let the community write, and the answer is recorded
    async with page.expect_response(lambda r: r.url.endswith("/api/me/messages")) as answered:
        await vk_answer(page, "VKWebAppAllowMessagesFromGroup", {"result": True})
    asked = await page.evaluate("window.__vk.filter(m => m.handler === 'VKWebAppAllowMessagesFromGroup')")
    assert len(asked) == 1 and asked[0]["params"]["group_id"] == VK_GROUP_ID
    response = await answered.value
    assert response.request.post_data_json == {"allowed": True} and await response.json() == {"allowed": True}
    assert await server.engine.unreachable_reason(anna) is None

    # the owner accepts it from the chat (through the engine) ...
    await server.engine.accept(OWNER, order_id)
    await page.locator("[data-testid=order-status][data-status=accepted]").wait_for()
    await server.engine.mark_ready(OWNER, order_id)
    # ... and a VK barista of "park" scans the QR with VK's code reader and hands it over
    await server.engine.add_staff(CustomerRef(Channel.VK, "7002"), "park")
    staff = await chromium.page(vk=True)
    await staff.goto(f"{server.url}/?{vk_query(7002, server.now())}")
    await by(staff, "tab-staff").click()
    await by(staff, "staff-row").filter(has_text=code).filter(has_text="Готов к выдаче").wait_for()
    await by(staff, "staff-scan").click()
    await vk_answer(staff, "VKWebAppOpenCodeReader", {"code_data": server.engine.pickup_token(order_id)})
    await by(staff, "staff-order").filter(has_text=code).wait_for()
    await by(staff, "staff-handover").click()
    await by(staff, "staff-status").filter(has_text="Выдан").wait_for()
    await chromium.shot(staff, "staff")
    await expect_picked_up(page)
    await chromium.shot(page, "picked-up")


async def demo_referral(server: Server, page) -> str:
    me = await page.evaluate("fetch('/api/me', {headers: {Authorization:"
                             " 'demo ' + localStorage.getItem('vitrina.demo')}}).then(r => r.json())")
    return "/go/r" + me["referral_code"]


async def test_demo_journey(demo_server: Server, chromium: Browser):
    page = await chromium.page()
    await page.goto(f"{demo_server.url}/?start=pcenter")
    await by(page, "item-latte").wait_for()
    await choose_latte_and_croissant(page, chromium)
    await by(page, "main-button").click()
    await expect_cart(page)
    await chromium.shot(page, "cart")
    await by(page, "main-button").click()
    await page.wait_for_url(re.compile(r"#/checkout$"))
    await by(page, "promo-input").wait_for()  # the checkout drawn (the cart had a total too)
    await by(page, "main-button").click()
    _order_id, code = await order_page(page)

    # another visitor switches to "demo staff" in the profile, then types the short code at the counter
    staff = await chromium.page()
    await staff.goto(f"{demo_server.url}/#/profile")
    await by(staff, "demo-staff").click()
    await staff.wait_for_url(re.compile(r"#/staff$"))
    row = by(staff, "staff-row").filter(has_text=code)
    await row.get_by_test_id("staff-accept").click()
    await page.locator("[data-testid=order-status][data-status=accepted]").wait_for()
    await row.get_by_test_id("staff-ready").click()
    await page.locator("[data-testid=order-status][data-status=ready]").wait_for()
    await by(staff, "staff-code").fill(code)
    await by(staff, "staff-find").click()
    await by(staff, "staff-order").filter(has_text=code).wait_for()
    await chromium.shot(staff, "staff")
    await by(staff, "staff-handover").click()
    await by(staff, "staff-status").filter(has_text="Выдан").wait_for()

    await expect_picked_up(page)
    # a verified purchase can be reviewed, and the review shows on the item
    await by(page, "rate-latte").click()
    await page.get_by_label("4 из 5").check()  # the fourth star
    await by(page, "review-text").fill("Вкусно, но <b>горячо</b>")
    await page.get_by_role("button", name="Отправить").click()
    await page.get_by_text("Спасибо за отзыв!").wait_for()
    await chromium.shot(page, "picked-up")
    await page.goto(f"{demo_server.url}/#/item/latte")
    await page.get_by_text("Вкусно, но <b>горячо</b>", exact=True).wait_for()
    await page.locator(".reviews .stars").first.wait_for()
    # the profile: points earned on pickup, the referral link, a link code
    await by(page, "tab-profile").click()
    await by(page, "link-get").click()
    await by(page, "link-code").get_by_text(re.compile(r"^\d+$")).wait_for()
    assert (await by(page, "referral-link").input_value()).endswith(await demo_referral(demo_server, page))
    assert await by(page, "points").inner_text() != "0 ₽"
    await chromium.shot(page, "profile")
    # my orders, then "Повторить": the same cart again, priced by the server
    await by(page, "tab-orders").click()
    await by(page, "order-row").first.wait_for()
    await by(page, "repeat").first.click()
    await expect_cart(page)


async def test_item_names_are_text_not_html(demo_server: Server, chromium: Browser):
    async with demo_server.engine.uow() as uow:
        await uow.catalog.save_item(Item("xss", "coffee", XSS, Money(10000),
                                         description='<script>alert("desc")</script>'))
    page = await chromium.page()
    await page.goto(demo_server.url)
    card = by(page, "item-xss")
    await card.get_by_text(XSS, exact=True).wait_for()
    assert await card.locator("img:not(.thumb)").count() == 0
    await card.get_by_role("link").click()
    await page.get_by_text('<script>alert("desc")</script>', exact=True).wait_for()
    await page.wait_for_timeout(300)
    await chromium.shot(page)
    assert chromium.dialogs == []


async def test_english_labels(server: Server, chromium: Browser):
    await server.engine.set_stock("center", "croissant", 0)
    page = await chromium.page(telegram=True)
    await page.goto(telegram_url(server.url, telegram_init_data(5002, server.now(), first_name="Ann",
                                                                language_code="en"), theme=DARK))
    await by(page, "item-croissant").get_by_text("Sold out").wait_for()
    assert await page.evaluate("document.documentElement.lang") == "en"
    assert [await by(page, f"tab-{t}").inner_text() for t in ("menu", "orders", "profile")] == \
        ["Menu", "Orders", "Profile"]
    assert await by(page, "point-select").locator("xpath=..").inner_text() != ""
    # Telegram's theme (dark here) becomes the page's colours
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(23, 33, 43)"
    await by(page, "quick-add-espresso").click()
    assert await main_button_text(page) == "Checkout · 1 pcs"
    await chromium.shot(page)
    # the profile's language switch: Russian from now on, and the server is told
    await by(page, "tab-profile").click()
    await by(page, "language").select_option("ru")
    await by(page, "tab-menu").filter(has_text="Меню").wait_for()
    assert (await server.engine.profile(CustomerRef(Channel.TELEGRAM, "5002"))).customer.language == "ru"
