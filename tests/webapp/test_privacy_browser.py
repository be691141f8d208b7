"""Personal data in the Mini App, in headless Chromium at a phone's width: the consent sheet before the first
order (then the order goes on), the policy opened with Telegram's link opener, the export saved as a JSON
file, and the deletion asked once more, then done."""
from __future__ import annotations

import json
import re
import socket
from collections.abc import AsyncIterator

import pytest
import test_browser
from aiohttp import web
from test_browser import (
    ARTIFACTS,
    Browser,
    Server,
    by,
    choose_latte_and_croissant,
    expect_cart,
    main_button_text,
    order_page,
    press_main_button,
    renderer,
    telegram_init_data,
    telegram_url,
    with_photos,
)

from adapters.telegram.launch import TelegramMiniApp
from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from webapp import WebappConfig, create_app
from webapp.policy import PolicyDetails, render

pytestmark = pytest.mark.browser
chromium = test_browser.chromium  # the fixture: one Chromium, its pages at 360 px

BOT_TOKEN = "123456789:AAbrowser-test-token"  # test_browser's: its launch data is signed with it
OPERATOR = "ИП Иванова Анна Сергеевна"


async def serve(engine: Engine, demo: bool) -> AsyncIterator[Server]:
    """The Mini App as `vitrina run` wires it with consent asked: the policy rendered, its version required."""
    await engine.set_rules(name="Кофейня «Витрина»")
    await with_photos(engine)
    policy = render(PolicyDetails(shop="Кофейня «Витрина»", operator=OPERATOR, contact_email="privacy@shop.example"))
    engine.consent_version = policy.version
    apps = [] if demo else [TelegramMiniApp(BOT_TOKEN, lambda: "vitrina_test_bot")]
    runner = web.AppRunner(create_app(engine, WebappConfig(demo=demo, mini_apps=apps, privacy=policy), renderer()))
    await runner.setup()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield Server(f"http://127.0.0.1:{port}", engine)
    finally:
        await runner.cleanup()


@pytest.fixture
async def demo_server(engine: Engine) -> AsyncIterator[Server]:
    async for s in serve(engine, demo=True):
        yield s


@pytest.fixture
async def server(engine: Engine) -> AsyncIterator[Server]:
    async for s in serve(engine, demo=False):
        yield s


async def to_checkout(page, chromium: Browser, press) -> None:
    await by(page, "item-latte").wait_for()
    await choose_latte_and_croissant(page, chromium)
    await press()
    await expect_cart(page)
    await press()
    await page.wait_for_url(re.compile(r"#/checkout$"))
    await by(page, "promo-input").wait_for()


async def test_consent_then_order_export_and_delete(demo_server: Server, chromium: Browser):
    page = await chromium.page()
    await page.goto(f"{demo_server.url}/?start=pcenter")
    await to_checkout(page, chromium, by(page, "main-button").click)

    # the first order: the sheet comes first, and "not now" leaves the checkout as it was, nothing placed
    await by(page, "main-button").click()
    sheet = by(page, "consent-sheet")
    await sheet.wait_for()
    assert "персональных данных" in await sheet.inner_text()
    link = by(page, "consent-policy")
    assert await link.get_attribute("href") == f"{demo_server.url}/privacy"
    assert await link.get_attribute("target") == "_blank"  # the browser opens it in a tab beside the shop
    await page.locator("#toast").wait_for(state="hidden")
    await page.screenshot(path=str(ARTIFACTS / "privacy-consent-sheet.png"))
    await by(page, "consent-later").click()
    await sheet.wait_for(state="detached")
    assert page.url.endswith("#/checkout")
    name = await page.evaluate("localStorage.getItem('vitrina.demo')")
    me = CustomerRef(Channel.WEB, name)
    assert await demo_server.engine.needs_consent(me)

    # "Согласен": recorded with the version, and the order goes on by itself
    await by(page, "main-button").click()
    await by(page, "consent-agree").click()
    order_id, _code = await order_page(page)
    given = await demo_server.engine.consent(me)
    assert given is not None and given.version == demo_server.engine.consent_version
    await chromium.shot(page, "order")

    # the next order asks nothing
    await by(page, "tab-menu").click()
    await by(page, "quick-add-croissant").click()
    await by(page, "main-button").click()
    await expect_cart_any(page)
    await by(page, "main-button").click()
    await by(page, "promo-input").wait_for()
    await by(page, "main-button").click()
    await page.wait_for_url(re.compile(r"#/order/(?!" + re.escape(order_id) + r")[^/]+$"))
    assert await by(page, "consent-sheet").count() == 0

    # "Мои данные": the export downloads as a JSON file with the order in it
    await by(page, "tab-profile").click()
    panel = by(page, "my-data")
    await panel.get_by_test_id("consent-given").wait_for()
    async with page.expect_download() as started:
        await by(page, "data-export").click()
    download = await started.value
    assert re.fullmatch(r"my-data-\d{4}-\d{2}-\d{2}\.json", download.suggested_filename)
    saved = ARTIFACTS / "privacy-export.json"
    await download.save_as(saved)
    data = json.loads(saved.read_text("utf-8"))
    assert order_id in [o["id"] for o in data["orders"]] and data["customer"]["name"] == name
    await chromium.shot(page, "my-data")

    # delete: asked once more ("no" changes nothing), then the profile is gone and the page says so
    await by(page, "data-forget").click()
    await by(page, "forget-ask").wait_for()
    await by(page, "forget-no").click()
    await by(page, "data-export").wait_for()
    assert await demo_server.engine.consent(me) is not None
    await by(page, "data-forget").click()
    await by(page, "forget-yes").click()
    await by(page, "data-deleted").get_by_text("Ваши данные удалены").wait_for()
    await chromium.shot(page, "deleted")
    assert await demo_server.engine.consent(me) is None
    export = await demo_server.engine.export_data(me)
    assert export["customer"] is None and export["orders"] == []
    kept = await page.evaluate("[localStorage.getItem('vitrina.cart'), localStorage.getItem('vitrina.pay')]")
    assert json.loads(kept[0])["lines"] == [] and kept[1] == ""  # what this browser kept for them goes too


async def expect_cart_any(page) -> None:
    await page.wait_for_url(re.compile(r"#/cart$"))
    await by(page, "cart-line").first.wait_for()


async def test_telegram_consent_opens_the_policy_with_telegram(server: Server, chromium: Browser):
    page = await chromium.page(telegram=True)
    await page.goto(telegram_url(server.url, telegram_init_data(5001, server.now(), first_name="Анна")))
    await to_checkout(page, chromium, lambda: press_main_button(page))
    assert (await main_button_text(page) or "").startswith("Заказать")
    await press_main_button(page)
    await by(page, "consent-sheet").wait_for()
    await by(page, "consent-policy").click()
    opened = await page.evaluate("window.__tg.filter(e => e[0] === 'web_app_open_link').map(e => e[1].url)")
    assert opened == [f"{server.url}/privacy"]
    assert page.url.endswith("#/checkout")  # the Mini App stays where it was
    await chromium.shot(page, "consent")
    await by(page, "consent-agree").click()
    await order_page(page)
    assert not await server.engine.needs_consent(CustomerRef(Channel.TELEGRAM, "5001"))


async def test_the_policy_page_in_the_browser(demo_server: Server, chromium: Browser):
    page = await chromium.page(locale="en-GB")
    await page.goto(f"{demo_server.url}/privacy")
    await page.get_by_role("heading", name="Personal data policy").wait_for()
    assert OPERATOR in await page.locator("main").inner_text()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360  # readable on a phone: nothing wider than the screen
    await chromium.shot(page, "policy")
