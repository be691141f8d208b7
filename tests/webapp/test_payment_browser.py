"""Online payments in the Mini App, in real headless Chromium on a 360 x 740 phone screen.

The server runs with the real YooKassa adapter talking HTTP to the fake YooKassa on loopback, and with
Telegram invoices made by the real invoice adapter against the fake Bot API. In the browser a guest pays by
card: the checkout offers the counter and a card (never Telegram's invoice outside Telegram), the order goes
to YooKassa's page, the fake takes the money and notifies the webhook, and back on the order the money is
held, the pickup code shows and the staff's board gains the order marked as held; the hand-over captures the
payment once. Inside Telegram (its WebApp object stubbed, recording what the page asks of the client) the
invoice opens with ``openInvoice`` and the order follows what the client reports. With receipts on, the
e-mail is asked and checked before anything is sent. Screenshots go to test-artifacts/<test name>-*.png.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import launch_data
import pytest
from aiohttp import web
from fake_telegram import FakeTelegram
from fake_yookassa import FakeYookassa

from adapters.telegram.invoices import TelegramInvoiceProvider, TelegramStars
from adapters.telegram.launch import TelegramMiniApp
from adapters.vk.launch import VkMiniApp
from adapters.yookassa import YookassaProvider
from bot.payments import close, routes
from journey.channels import Channel, CustomerRef, InvoicePayment
from journey.engine import Engine
from journey.ports import MiniApp, PaymentProvider
from webapp import WebappConfig, create_app

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTH, HEIGHT = 360, 740
TIMEOUT = 15_000  # ms: generous for a loaded 2-core CI machine
BOT_TOKEN = "123456789:AApayment-browser-token"
PROVIDER_TOKEN = "284685063:TEST:browser"
VK_SECRET = "vk-payment-browser-secret"
VK_APP_ID = 7654322
WEBHOOK = "/webhooks/yookassa"
STAFF = CustomerRef(Channel.WEB, "staff")  # "demo staff": staff everywhere in the browser demo


class Svg:
    def svg(self, data: str, caption: str = "") -> bytes:
        return b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'

    def png(self, data: str, caption: str = "") -> bytes:
        return b""


# --- the server ------------------------------------------------------------------------------------------

@dataclass
class Shop:
    url: str
    engine: Engine
    yookassa: FakeYookassa


@contextlib.asynccontextmanager
async def serve(db, clock, engine: Engine, yookassa: FakeYookassa, *, demo: bool = True, receipts: bool = False,
                receipt_email: bool | None = None, more: dict[str, PaymentProvider] | None = None,
                stars: TelegramStars | None = None) -> AsyncIterator[Shop]:
    """The shop's Mini App and YooKassa's webhook on a free port; YooKassa sends the customer back to it."""
    card = YookassaProvider(yookassa.shop_id, yookassa.secret_key, yookassa.base_url, receipts=receipts)
    shop = Engine(db.uow, secret=engine.secret, owners={*engine.owners, STAFF}, clock=clock, reader=db.reading,
                  providers={"yookassa": card, **(more or {})}, stars=stars)
    await shop.set_rules(name="Кофейня «Витрина»")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    apps: list[MiniApp] = [] if demo else [TelegramMiniApp(BOT_TOKEN, lambda: "vitrina_test_bot"),
                                           VkMiniApp(VK_APP_ID, VK_SECRET)]
    config = WebappConfig(demo=demo, mini_apps=apps, public_url=url,
                          receipt_email=receipts if receipt_email is None else receipt_email)
    app = create_app(shop, config, Svg())
    for route in routes(shop):
        app.router.add_route(route.method, route.path, route.handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield Shop(url, shop, yookassa)
    finally:
        await runner.cleanup()
        await close(card)


@pytest.fixture
async def shop(db, clock, engine, yookassa) -> AsyncIterator[Shop]:
    async with serve(db, clock, engine, yookassa) as s:
        yield s


def created(fake: FakeYookassa) -> list[dict]:
    """The payments the adapter asked YooKassa to create, as it sent them."""
    return [c.json for c in fake.calls if c.method == "POST" and c.path == "payments"]


def captures(fake: FakeYookassa, payment_id: str) -> list[Any]:
    return [c for c in fake.calls if c.method == "POST" and c.path.endswith(f"payments/{payment_id}/capture")]


# --- the browser -----------------------------------------------------------------------------------------

# Telegram's WebApp object as the client provides it, reduced to what the Mini App calls; every call is
# recorded in window.__tg, and the test answers an invoice the way the client does (the callback's status).
TELEGRAM = """(() => {
  const tg = window.__tg = { invoices: [], links: [], main: null, mainParams: {} };
  window.Telegram = { WebApp: {
    initData: %(init)s, initDataUnsafe: %(unsafe)s, version: '8.0', platform: 'android',
    themeParams: {}, colorScheme: 'light', isVersionAtLeast: () => true,
    ready() {}, expand() {}, onEvent() {},
    MainButton: { onClick(f) { tg.main = f; }, setParams(p) { tg.mainParams = p; }, hide() { tg.mainParams = {}; } },
    BackButton: { onClick() {}, show() {}, hide() {} },
    HapticFeedback: { impactOccurred() {} },
    enableClosingConfirmation() {}, disableClosingConfirmation() {},
    openLink(url) { tg.links.push(url); },
    openTelegramLink() {},
    openInvoice(url, callback) { tg.invoices.push(url); tg.answer = callback; },
  } };
})();"""


class Browser:
    """One Chromium; phone-sized pages in their own contexts, each recording its errors."""

    def __init__(self, browser, name: str) -> None:
        self.browser = browser
        self.name = name
        self.errors: list[str] = []
        self.shots = 0
        self.pages: list = []

    async def page(self, *, locale: str = "ru-RU", demo: str | None = None, telegram: str | None = None,
                   language: str = "ru"):
        context = await self.browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale=locale,
                                                 device_scale_factor=1, has_touch=True)
        context.set_default_timeout(TIMEOUT)
        # nothing leaves this machine (the shop and the fake YooKassa are both on loopback)
        await context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())
        if demo:
            await context.add_init_script(f"localStorage.setItem('vitrina.demo', {json.dumps(demo)})")
        if telegram:
            unsafe = {"user": {"language_code": language}}
            await context.add_init_script(TELEGRAM % {"init": json.dumps(telegram), "unsafe": json.dumps(unsafe)})
        page = await context.new_page()
        self.pages.append(page)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        return page

    async def shot(self, page, label: str, *, full_page: bool = True) -> Path:
        await page.locator("#toast").wait_for(state="hidden")  # a passing note would cover the page
        text = await page.locator("body").inner_text()
        assert not re.search(r"\bnull\b|\bundefined\b|\[object |NaN", text), text
        assert await page.evaluate("document.documentElement.scrollWidth") <= WIDTH  # no sideways scrolling
        self.shots += 1
        path = ARTIFACTS / f"{self.name}-{self.shots}-{label}.png"
        await page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
async def chromium(request) -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI")
        pytest.skip("Chromium not installed: apt-get install chromium")
    from playwright.async_api import async_playwright
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob(f"{request.node.name}-*.png"):
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


async def to_checkout(page, items: Sequence[str] = ("croissant",)) -> None:
    """From the menu: the quick "+" of each item, then the cart's and the checkout's main button."""
    await by(page, "item-croissant").wait_for()
    for item in items:
        await by(page, f"quick-add-{item}").click()
    await page.evaluate("location.hash = '#/checkout'")
    await by(page, "pay-methods").wait_for()


async def offered(page) -> list[str]:
    return await by(page, "pay-methods").locator("input[type=radio]").evaluate_all(
        "els => els.map(e => e.value)")


async def payment_status(page) -> str:
    return await by(page, "payment").get_attribute("data-status") or ""


async def my_orders(page) -> list[dict]:
    return (await page.evaluate("fetch('/api/orders', {headers: {Authorization:"
                                " 'demo ' + localStorage.getItem('vitrina.demo')}}).then(r => r.json())"))["orders"]


async def qr_shown(page) -> None:
    await page.locator("[data-testid=qr][src^='blob:']").wait_for()
    assert (await by(page, "short-code").inner_text()).strip().isdigit()


# --- the journeys ----------------------------------------------------------------------------------------

async def test_a_card_payment_from_the_browser(shop: Shop, chromium: Browser):
    page = await chromium.page(demo="guest-card")
    await page.goto(shop.url)
    await to_checkout(page)
    # the browser: the counter and a card, never Telegram's invoice; nothing chosen for a first order
    assert await offered(page) == ["counter", "yookassa"]
    assert await by(page, "pay-methods").inner_text() == "Оплата\nОплата на кассе\nКартой онлайн"
    assert await by(page, "main-button").inner_text() == "Выберите способ оплаты"
    assert await by(page, "main-button").is_disabled()
    assert await by(page, "email-field").is_hidden()  # this shop sends no receipts
    await by(page, "pay-yookassa").check()
    await by(page, "main-button").filter(has_text=re.compile(r"^Оплатить · 180\s₽$")).wait_for()
    await chromium.shot(page, "checkout")

    # placing the order goes to YooKassa's page, which sends the customer back to the order
    await by(page, "main-button").click()
    await page.wait_for_url(f"{shop.yookassa.root}/checkout/*")
    await page.get_by_text("ЮKassa").wait_for()
    (ref,) = shop.yookassa.payments
    (sent,) = created(shop.yookassa)
    order_id = sent["metadata"]["order_id"]
    back = sent["confirmation"]["return_url"]
    assert back == f"{shop.url}/#/order/{order_id}" and sent["capture"] is False

    # back in the app before paying: it waits for the money, offers to pay again, shows no pickup code
    await page.go_back()
    await page.wait_for_url(f"**/#/order/{order_id}")
    await by(page, "payment").get_by_text("Ожидаем оплату").wait_for()
    assert await payment_status(page) == "pending"
    await by(page, "code-after-pay").wait_for()
    assert await by(page, "qr").count() == 0 and await by(page, "short-code").count() == 0
    await chromium.shot(page, "awaiting")
    await by(page, "tab-orders").click()
    await by(page, "order-unpaid").filter(has_text="ждёт оплаты").wait_for()
    await chromium.shot(page, "orders")

    # the staff's board has nothing to make yet
    staff = await chromium.page(demo="staff")
    await staff.goto(f"{shop.url}/#/staff")
    await staff.get_by_text("Открытых заказов нет").wait_for()
    assert await by(staff, "staff-row").count() == 0

    # "Оплатить" opens the same page again; the customer pays there and YooKassa notifies the shop
    await by(page, "order-row").first.get_by_role("link").click()
    await by(page, "pay-again").click()
    await page.wait_for_url(f"{shop.yookassa.root}/checkout/{ref}")
    shop.yookassa.pay(ref)
    assert await shop.yookassa.notify(shop.url + WEBHOOK, ref) == 200
    await page.goto(back)  # YooKassa's return_url
    await page.locator("[data-testid=payment][data-status=authorized]").wait_for()
    assert await by(page, "payment").inner_text() == "Оплачено (деньги заблокированы до выдачи)"
    await qr_shown(page)
    code = (await by(page, "short-code").inner_text()).strip()
    await chromium.shot(page, "held")

    # the board shows it now, marked as held on the card; the hand-over takes the money, once
    row = by(staff, "staff-row").filter(has_text=code)
    await row.wait_for()  # the board polls every 5 s
    assert await row.get_by_test_id("staff-pay").inner_text() == "заблокировано до выдачи"
    await chromium.shot(staff, "board")
    await row.get_by_test_id("staff-accept").click()
    await row.get_by_test_id("staff-ready").click()
    await row.get_by_test_id("staff-give").click()
    await row.get_by_test_id("staff-give-code").fill(code)
    await row.get_by_test_id("staff-give-ok").click()
    await staff.get_by_text("Открытых заказов нет").wait_for()
    await page.locator("[data-testid=order-status][data-status=picked_up]").wait_for()
    await page.locator("[data-testid=payment][data-status=captured]").wait_for()
    assert await by(page, "payment").inner_text() == "Оплачено"
    assert shop.yookassa.payments[ref]["status"] == "succeeded" and len(captures(shop.yookassa, ref)) == 1

    # the next order starts with the card, the way this customer paid last time
    await page.evaluate("location.hash = '#/menu'")
    await to_checkout(page)
    assert await by(page, "pay-yookassa").is_checked()


async def test_a_counter_order_shows_its_code_at_once_and_staff_take_the_money(shop: Shop, chromium: Browser):
    page = await chromium.page(demo="guest-counter")
    await page.goto(shop.url)
    await to_checkout(page)
    await by(page, "pay-counter").check()
    await by(page, "main-button").filter(has_text=re.compile(r"^Заказать · 180\s₽$")).click()
    await page.wait_for_url(re.compile(r"#/order/[^/]+$"))
    await qr_shown(page)
    assert await by(page, "payment").inner_text() == "Оплата на кассе"
    assert shop.yookassa.calls == []  # nothing asked of YooKassa
    code = (await by(page, "short-code").inner_text()).strip()
    staff = await chromium.page(demo="staff")
    await staff.goto(f"{shop.url}/#/staff")
    row = by(staff, "staff-row").filter(has_text=code)
    assert await row.get_by_test_id("staff-pay").inner_text() == "на кассе"


async def test_telegram_invoice_is_opened_and_followed(db, clock, engine, yookassa, chromium: Browser):
    async with FakeTelegram(BOT_TOKEN) as telegram:
        invoices = TelegramInvoiceProvider(telegram.token, telegram.base_url, PROVIDER_TOKEN)
        stars = TelegramStars(telegram.token, telegram.base_url)
        try:
            async with serve(db, clock, engine, yookassa, demo=False, more={"telegram": invoices},
                             stars=stars) as shop:
                await telegram_journey(shop, telegram, chromium)
        finally:
            await close(invoices, stars)


async def telegram_journey(shop: Shop, telegram: FakeTelegram, chromium: Browser) -> None:
    init = launch_data.telegram_init_data(5101, int(shop.engine.now().timestamp()), token=BOT_TOKEN,
                                          first_name="Анна", language_code="ru")
    page = await chromium.page(telegram=init)
    await page.goto(f"{shop.url}/#tgWebAppData={quote(init, safe='')}&tgWebAppVersion=8.0&tgWebAppPlatform=android")
    await to_checkout(page)
    # inside Telegram: its invoice too; Telegram Stars are configured but never pay for a cart
    config = await (await page.request.get(f"{shop.url}/api/config")).json()
    assert "stars" in config["payments"]
    assert await offered(page) == ["counter", "yookassa", "telegram"]
    assert await by(page, "pay-telegram").locator("xpath=..").inner_text() == "Оплатить в Telegram"
    assert await page.evaluate("window.__tg.mainParams") == {"text": "Выберите способ оплаты", "is_visible": True,
                                                               "is_active": False}
    await by(page, "pay-telegram").check()
    main = await page.evaluate("window.__tg.mainParams")
    assert re.sub(r"\s", " ", main["text"]) == "Оплатить · 180 ₽" and main["is_active"] is True
    await chromium.shot(page, "checkout")

    # the Telegram client's main button: the order is placed and its invoice opened in Telegram
    await page.evaluate("window.__tg.main()")
    await page.wait_for_url(re.compile(r"#/order/[^/]+$"))
    await page.wait_for_function("() => window.__tg.invoices.length === 1")
    (link,) = await page.evaluate("window.__tg.invoices")
    invoice = telegram.invoice_by_link(link)  # the very link the bot made for this order
    assert invoice.currency == "RUB" and invoice.amount == 18000
    await by(page, "payment").get_by_text("Ожидаем оплату").wait_for()
    assert await by(page, "qr").count() == 0

    # closed without paying: said so, and "Оплатить" opens the invoice again
    await page.evaluate("window.__tg.answer('cancelled')")
    await by(page, "payment-note").filter(has_text="Оплата не завершена").wait_for()
    await by(page, "pay-again").click()
    await page.wait_for_function("() => window.__tg.invoices.length === 2")
    assert (await page.evaluate("window.__tg.invoices"))[1] == link

    # paid: the screen waits for Telegram's word to the bot, then shows the money taken and the code
    await page.evaluate("window.__tg.answer('paid')")
    await by(page, "payment-note").filter(has_text="Платёж получен, подтверждаем…").wait_for()
    assert await by(page, "pay-again").count() == 0  # paid: nothing to pay again
    await chromium.shot(page, "confirming")
    await shop.engine.invoice_paid(InvoicePayment(invoice.payload, "RUB", 18000, "ch-1", "pc-1"))
    await page.locator("[data-testid=payment][data-status=captured]").wait_for()
    assert await by(page, "payment").inner_text() == "Оплачено"
    await qr_shown(page)
    assert await page.evaluate("window.__tg.links") == []  # nothing went to a web page
    await chromium.shot(page, "paid")


async def test_the_receipt_email_is_asked_and_checked(db, clock, engine, yookassa, chromium: Browser):
    async with serve(db, clock, engine, yookassa, receipts=True) as shop:
        page = await chromium.page(demo="guest-receipt", locale="en-US")
        orders: list[str] = []
        page.on("request", lambda r: orders.append(r.url) if r.method == "POST" and r.url.endswith("/api/orders")
                else None)
        await page.goto(shop.url)
        await to_checkout(page)
        assert await by(page, "pay-methods").inner_text() == "Payment\nPay at the counter\nCard online"
        assert await by(page, "email-field").is_hidden()
        await by(page, "pay-yookassa").check()
        email = by(page, "email")
        await email.wait_for()
        assert await email.get_attribute("type") == "email" and await email.get_attribute("autocomplete") == "email"
        # checked before anything is sent
        await by(page, "main-button").click()
        await by(page, "email-error").filter(has_text="Enter an e-mail for the receipt.").wait_for()
        assert await email.evaluate("e => e === document.activeElement")
        await email.fill("anna@example")
        await by(page, "main-button").click()
        await by(page, "email-error").filter(has_text="Check the e-mail: the receipt goes there.").wait_for()
        assert await email.get_attribute("aria-invalid") == "true"
        await chromium.shot(page, "email", full_page=False)  # as the phone shows it, the main button over it
        assert orders == [] and shop.yookassa.calls == []
        # the counter needs no e-mail
        await by(page, "pay-counter").check()
        assert await by(page, "email-field").is_hidden()
        await by(page, "pay-yookassa").check()
        await email.fill("anna@example.com")
        await by(page, "main-button").click()
        await page.wait_for_url(f"{shop.yookassa.root}/checkout/*")
        (sent,) = created(shop.yookassa)
        assert sent["receipt"]["customer"] == {"email": "anna@example.com"}


async def test_the_servers_email_refusal_is_shown_at_the_field(db, clock, engine, yookassa, chromium: Browser):
    # a shop whose YooKassa sends receipts but whose Mini App was not told: the server's refusal is shown
    # where the e-mail goes, and the order placed once it is given
    async with serve(db, clock, engine, yookassa, receipts=True, receipt_email=False) as shop:
        page = await chromium.page(demo="guest-late-email")
        await page.goto(shop.url)
        await to_checkout(page)
        await by(page, "pay-yookassa").check()
        assert await by(page, "email-field").is_hidden()
        async with page.expect_response(lambda r: r.url.endswith("/api/orders")) as refused:
            await by(page, "main-button").click()
        assert (await (await refused.value).json())["error"] == "email_required"
        await by(page, "email-error").filter(has_text="Укажите e-mail: на него придёт чек.").wait_for()
        assert shop.yookassa.calls == [] and await my_orders(page) == []  # nothing written
        await by(page, "email").fill("anna@example.com")
        await by(page, "main-button").click()
        await page.wait_for_url(f"{shop.yookassa.root}/checkout/*")
        assert len(created(shop.yookassa)) == 1


async def test_vk_opens_the_card_page_beside_the_app(db, clock, engine, yookassa, chromium: Browser):
    # VK Bridge has no call for an outside page: VK opens a target=_blank link itself (a new tab on vk.com),
    # and the Mini App stays on the order, waiting for the money
    async with serve(db, clock, engine, yookassa, demo=False) as shop:
        page = await chromium.page()
        query = launch_data.vk_launch_params(7101, int(shop.engine.now().timestamp()), secret=VK_SECRET,
                                             app_id=VK_APP_ID, language="ru", platform="desktop_web")
        await page.goto(f"{shop.url}/?{query}")
        await to_checkout(page)
        assert await offered(page) == ["counter", "yookassa"]
        await by(page, "pay-yookassa").check()
        async with page.context.expect_page() as opened:
            await by(page, "main-button").click()
        card = await opened.value
        await card.wait_for_url(f"{shop.yookassa.root}/checkout/*")
        assert await card.get_by_text("ЮKassa").is_visible()
        await page.wait_for_url(re.compile(r"#/order/[^/]+$"))
        await by(page, "payment").get_by_text("Ожидаем оплату").wait_for()
        await card.close()
        (ref,) = shop.yookassa.payments
        shop.yookassa.pay(ref)
        assert await shop.yookassa.notify(shop.url + WEBHOOK, ref) == 200
        # the customer comes back to the app (headless tabs never hide, so the page is told as a phone tells it)
        # and the order is asked about at once
        await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        await page.locator("[data-testid=payment][data-status=authorized]").wait_for()
        await qr_shown(page)


async def test_points_packs_are_bought_for_stars_from_the_profile(db, clock, engine, yookassa, chromium: Browser):
    async with FakeTelegram(BOT_TOKEN) as telegram:
        stars = TelegramStars(telegram.token, telegram.base_url)
        try:
            async with serve(db, clock, engine, yookassa, demo=False, stars=stars) as shop:
                await shop.engine.change_shop(next(iter(engine.owners)), "packs", "500:50,2000:180")
                init = launch_data.telegram_init_data(5102, int(shop.engine.now().timestamp()), token=BOT_TOKEN,
                                                      first_name="Ира", language_code="ru")
                page = await chromium.page(telegram=init)
                await page.goto(f"{shop.url}/#tgWebAppData={quote(init, safe='')}&tgWebAppVersion=8.0"
                                "&tgWebAppPlatform=android")
                await by(page, "item-croissant").wait_for()  # launched: the menu
                await page.evaluate("location.hash = '#/profile'")
                await by(page, "pack-2000x180").wait_for()
                assert await by(page, "pack-500x50").inner_text() == "500 баллов за 50 ⭐"
                await chromium.shot(page, "packs")
                await by(page, "pack-500x50").click()
                await page.wait_for_function("() => window.__tg.invoices.length === 1")
                (link,) = await page.evaluate("window.__tg.invoices")
                invoice = telegram.invoice_by_link(link)
                assert (invoice.currency, invoice.amount, invoice.payload[:5]) == ("XTR", 50, "pack_")
                # Telegram tells the bot (tests/bot/test_telegram_payments.py): here the engine hears it directly
                await shop.engine.pack_paid(CustomerRef(Channel.TELEGRAM, "5102"),
                                            InvoicePayment(invoice.payload, "XTR", 50, "star-1"))
                await page.evaluate("window.__tg.answer('paid')")
                await page.locator("[data-testid=points]").filter(has_text="5").wait_for()
                assert await shop.engine.balance(CustomerRef(Channel.TELEGRAM, "5102")) == 500
        finally:
            await close(stars)


async def test_points_packs_are_not_offered_outside_telegram(shop: Shop, chromium: Browser):
    await shop.engine.change_shop(next(iter(shop.engine.owners)), "packs", "500:50")
    page = await chromium.page(demo="guest-packs")
    await page.goto(f"{shop.url}/#/profile")
    await by(page, "me-name").wait_for()
    assert await by(page, "packs").count() == 0
    listed = await page.evaluate("fetch('/api/packs', {headers: {Authorization: 'demo guest-packs'}})"
                                 ".then(r => r.json())")
    assert listed == {"packs": []}
