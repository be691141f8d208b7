"""Sharing in a real browser, after a pickup, on the order's screen: inside Telegram the story and the
inline card go through ``Telegram.WebApp.shareToStory`` and ``switchInlineQuery`` (spied on, over the real
telegram-web-app.js), inside VK through VK Bridge's ``VKWebAppShowStoryBox`` and ``VKWebAppShowWallPostBox``
(the calls recorded and answered as the VK client does); each with the server's story picture and the
customer's referral link tagged with the way it was shared, and each share counted for the owner."""
from __future__ import annotations

import io
import re

import pytest
import test_browser
from PIL import Image
from test_browser import VK_APP_ID, Browser, Server, by, telegram_init_data, telegram_url, vk_answer, vk_query

from adapters.story import PillowStories
from journey.channels import Channel, CustomerRef
from journey.model import CartLine

pytestmark = pytest.mark.browser
chromium, server, demo_server = test_browser.chromium, test_browser.server, test_browser.demo_server
OWNER = CustomerRef(Channel.TELEGRAM, "1", "Владелец")  # an owner of tests/conftest.py: staff everywhere
SPY = """() => {
    window.__spy = [];
    for (const m of ['shareToStory', 'switchInlineQuery']) {
        const real = Telegram.WebApp[m];
        Telegram.WebApp[m] = (...args) => { window.__spy.push([m, args]); return real.apply(Telegram.WebApp, args); };
    }
}"""


async def picked_up(server: Server, ref: CustomerRef) -> str:
    engine = server.engine
    engine.stories = PillowStories()
    order = (await engine.place_order(ref, [CartLine("eclair")], "center")).order
    for step in (engine.accept, engine.mark_ready):
        await step(OWNER, order.id)
    await engine.hand_over(OWNER, order_id=order.id)
    return order.id


async def code_of(server: Server, ref: CustomerRef) -> str:
    return (await server.engine.profile(ref)).customer.referral_code


async def shared(page, button: str) -> dict:
    """Press a share button and wait until the share is recorded: the body it was recorded with."""
    async with page.expect_response(lambda r: r.url.endswith("/api/shares")) as answer:
        await by(page, button).click()
    response = await answer.value
    assert response.status == 201, await response.text()
    return response.request.post_data_json


async def shares(server: Server) -> dict[str, int]:
    return dict((await server.engine.stats(OWNER, 1)).shares)


async def test_telegram_story_and_inline_card_after_pickup(server: Server, chromium: Browser):
    anna = CustomerRef(Channel.TELEGRAM, "5001")
    order_id = await picked_up(server, anna)
    code = await code_of(server, anna)
    page = await chromium.page(telegram=True)
    init = telegram_init_data(5001, server.now(), first_name="Анна")
    await page.goto(telegram_url(server.url, init) + "&tgWebAppBotInline=1")
    await by(page, "item-latte").wait_for()
    await page.evaluate(SPY)
    await page.evaluate("id => { location.hash = '#/order/' + id; }", order_id)
    await page.locator("[data-testid=order-status][data-status=picked_up]").wait_for()
    await by(page, "share-telegram_story").wait_for()
    assert await by(page, "share").get_by_role("button").all_inner_texts() == [
        "В историю", "Карточкой в чат", "Ссылкой"]  # no VK ways inside Telegram
    await chromium.shot(page, "share")

    assert await shared(page, "share-telegram_story") == {"kind": "telegram_story", "order_id": order_id}
    (method, (media, params)), = await page.evaluate("window.__spy")
    assert method == "shareToStory"
    assert re.fullmatch(re.escape(server.url) + r"/share/story\.jpg\?v=[0-9a-f]{16}", media)
    assert params["widget_link"] == {"url": f"{server.url}/go/r{code}-ts", "name": "Кофейня «Витрина»"}
    assert "Кофейня «Витрина»" in params["text"]
    sent = await page.evaluate("window.__tg.filter(e => e[0] === 'web_app_share_to_story').map(e => e[1])")
    assert sent[0]["media_url"] == media and sent[0]["widget_link"]["url"] == params["widget_link"]["url"]
    picture = await page.evaluate("u => fetch(u).then(r => r.arrayBuffer()).then(b => Array.from(new Uint8Array(b)))",
                                  media)
    assert Image.open(io.BytesIO(bytes(picture))).size == (1080, 1920)

    assert await shared(page, "share-telegram_inline") == {"kind": "telegram_inline", "order_id": order_id}
    assert (await page.evaluate("window.__spy"))[-1] == ["switchInlineQuery", ["shop", ["users", "groups", "channels"]]]
    switched = await page.evaluate("window.__tg.filter(e => e[0] === 'web_app_switch_inline_query').map(e => e[1])")
    assert switched == [{"query": "shop", "chat_types": ["users", "groups", "channels"]}]
    assert await shares(server) == {"telegram_story": 1, "telegram_inline": 1}


async def test_an_old_telegram_without_inline_mode_offers_the_link_only(server: Server, chromium: Browser):
    anna = CustomerRef(Channel.TELEGRAM, "5002")
    order_id = await picked_up(server, anna)
    page = await chromium.page(telegram=True)
    url = telegram_url(server.url, telegram_init_data(5002, server.now(), first_name="Анна"))
    await page.goto(url.replace("tgWebAppVersion=8.0", "tgWebAppVersion=7.0"))  # no stories, no inline mode
    await by(page, "item-latte").wait_for()
    await page.evaluate("id => { location.hash = '#/order/' + id; }", order_id)
    await by(page, "share-link").wait_for()
    assert await by(page, "share").get_by_role("button").all_inner_texts() == ["Ссылкой"]
    assert await shared(page, "share-link") == {"kind": "link", "order_id": order_id}
    opened = await page.evaluate("window.__tg.filter(e => e[0] === 'web_app_open_tg_link').map(e => e[1].path_full)")
    assert opened and f"r{await code_of(server, anna)}-l" in opened[0]


async def test_vk_story_and_wall_post_after_pickup(server: Server, chromium: Browser):
    ira = CustomerRef(Channel.VK, "7001")
    order_id = await picked_up(server, ira)
    code = await code_of(server, ira)
    page = await chromium.page(vk=True)
    await page.goto(f"{server.url}/?{vk_query(7001, server.now())}#/order/{order_id}")
    await by(page, "share-vk_story").wait_for()
    assert await by(page, "share").get_by_role("button").all_inner_texts() == [
        "В историю ВКонтакте", "На стену", "Ссылкой"]

    # the person closes the story editor: VK says so, nothing is counted
    await by(page, "share-vk_story").click()
    await vk_answer(page, "VKWebAppShowStoryBox", {"error_type": "client_error",
                                                    "error_data": {"error_code": 4, "error_reason": "User denied"}})
    async with page.expect_response(lambda r: r.url.endswith("/api/shares")) as answer:
        await by(page, "share-vk_story").click()
        await page.wait_for_function("() => window.__vk.filter(m => m.handler === 'VKWebAppShowStoryBox').length === 2")
        await vk_answer(page, "VKWebAppShowStoryBox", {"result": True})
    assert (await answer.value).request.post_data_json == {"kind": "vk_story", "order_id": order_id}
    story = [m["params"] for m in await page.evaluate("window.__vk") if m["handler"] == "VKWebAppShowStoryBox"][-1]
    assert story["background_type"] == "image"
    assert re.fullmatch(re.escape(server.url) + r"/share/story\.jpg\?v=[0-9a-f]{16}", story["url"])
    # a friend in VK stays in VK: the VK Mini App's link with the tagged start parameter as its hash
    assert story["attachment"] == {"text": "go_to", "type": "url",
                                   "url": f"https://vk.com/app{VK_APP_ID}#r{code}-vs"}

    async with page.expect_response(lambda r: r.url.endswith("/api/shares")) as answer:
        await by(page, "share-vk_wall").click()
        await vk_answer(page, "VKWebAppShowWallPostBox", {"post_id": 1})
    assert (await answer.value).request.post_data_json == {"kind": "vk_wall", "order_id": order_id}
    wall = [m["params"] for m in await page.evaluate("window.__vk") if m["handler"] == "VKWebAppShowWallPostBox"][-1]
    assert wall["attachments"] == f"https://vk.com/app{VK_APP_ID}#r{code}-vw" and "Кофейня «Витрина»" in wall["message"]
    assert await shares(server) == {"vk_story": 1, "vk_wall": 1}


async def test_the_browser_copies_the_link(demo_server: Server, chromium: Browser):
    guest = CustomerRef(Channel.WEB, "olga")
    order_id = await picked_up(demo_server, guest)
    page = await chromium.page()
    await page.add_init_script("localStorage.setItem('vitrina.demo', 'olga')")
    await page.goto(f"{demo_server.url}/#/order/{order_id}")
    await by(page, "share-link").wait_for()
    assert await by(page, "share").get_by_role("button").all_inner_texts() == ["Ссылкой"]
    assert await shared(page, "share-link") == {"kind": "link", "order_id": order_id}
    await page.get_by_text("Скопировано").wait_for()
    assert await shares(demo_server) == {"link": 1}
