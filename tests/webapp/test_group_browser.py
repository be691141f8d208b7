"""Group orders in a real browser: the organiser opens a group from the cart, a friend in a second browser
context opens the shared link (the QR landing page, then the browser), adds their cart, and both see the
discount appear; the organiser closes it and each finds their own order, discounted, at the same pickup."""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest
import test_browser
from test_browser import Browser, Server, by, telegram_init_data, telegram_url, vk_answer, vk_query

from journey.channels import Channel, CustomerRef

pytestmark = pytest.mark.browser
# the fixtures of test_browser.py: one Chromium, the app with Telegram and VK, the demo
chromium, server, demo_server = test_browser.chromium, test_browser.server, test_browser.demo_server


async def demo_page(chromium: Browser, name: str):
    page = await chromium.page()
    await page.add_init_script(f"localStorage.setItem('vitrina.demo', '{name}')")
    return page


def rubles(text: str) -> str:
    return re.sub(r"\s", "", text)


async def test_a_friend_joins_and_the_discount_appears_for_both(demo_server: Server, chromium: Browser):
    await demo_server.engine.set_rules(group_min_people=2, group_percent=10)
    anna = await demo_page(chromium, "anna")
    await anna.goto(f"{demo_server.url}/?start=pcenter")
    await by(anna, "quick-add-espresso").click()
    await by(anna, "tab-cart").click()
    await by(anna, "group-start").click()
    await anna.wait_for_url(re.compile(r"#/group$"))
    await by(anna, "group-open").wait_for()
    assert "2 человек" in await anna.locator("main").inner_text() and "10%" in await anna.locator("main").inner_text()
    await by(anna, "payer-each").check()
    await chromium.shot(anna, "open")
    await by(anna, "group-open").click()
    await anna.wait_for_url(re.compile(r"#/group/[A-Za-z0-9_-]+$"))
    await by(anna, "group-progress").filter(has_text="1 из 2").wait_for()
    assert await by(anna, "group-progress").get_attribute("data-reached") == "false"
    assert re.search(r"\b(29|30):\d\d\b", await by(anna, "group-left").inner_text())  # the window's time left
    assert await by(anna, "tab-cart").inner_text() == "Корзина"  # the cart went into the group
    link = await by(anna, "group-link").input_value()
    code = re.fullmatch(rf"{re.escape(demo_server.url)}/go/j([A-Za-z0-9_-]+)", link)
    assert code, link
    await chromium.shot(anna, "waiting")

    # the friend opens the shared link: the landing page, then the shop right in the browser
    boris = await demo_page(chromium, "boris")
    await boris.goto(link)
    await boris.get_by_role("link", name=re.compile("Открыть в браузере")).click()
    await boris.wait_for_url(re.compile(rf"#/group/{re.escape(code[1])}$"))
    await by(boris, "group-member").filter(has_text="anna").wait_for()
    await by(boris, "group-to-menu").click()
    await by(boris, "quick-add-croissant").click()
    await by(boris, "tab-cart").click()
    await by(boris, "to-group").click()
    await by(boris, "group-add").click()
    await by(boris, "group-progress").filter(has_text="2 из 2").wait_for()
    assert await by(boris, "group-progress").get_attribute("data-reached") == "true"
    mine = by(boris, "group-member").filter(has_text="boris")
    assert rubles(await mine.get_by_test_id("member-total").inner_text()) == "180₽162₽"  # 10% off, crossed out
    await chromium.shot(boris, "joined")

    # the organiser's screen follows by itself
    await anna.locator("[data-testid=group-progress][data-reached=true]").wait_for()
    assert rubles(await by(anna, "group-member").filter(has_text="anna").get_by_test_id("member-total").inner_text()) \
        == "150₽135₽"
    await by(anna, "group-close").click()
    await anna.locator("[data-testid=group-status][data-status=ordered]").wait_for()
    await by(anna, "group-my-order").click()
    await anna.wait_for_url(re.compile(r"#/order/[^/]+$"))
    assert rubles(await by(anna, "total").inner_text()) == "135₽"
    await chromium.shot(anna, "order")

    await boris.locator("[data-testid=group-status][data-status=ordered]").wait_for()
    await by(boris, "group-my-order").click()
    await boris.wait_for_url(re.compile(r"#/order/[^/]+$"))
    assert rubles(await by(boris, "total").inner_text()) == "162₽"
    assert rubles(await by(boris, "discount").inner_text()) == "−18₽"
    view = await demo_server.engine.group_view(CustomerRef(Channel.WEB, "anna"), code[1])
    assert view.joined == 2 and view.group.discounted


async def test_an_organiser_in_telegram_shares_and_a_friend_in_vk_joins(server: Server, chromium: Browser):
    await server.engine.set_rules(group_min_people=2, group_percent=10)
    anna = await chromium.page(telegram=True)
    await anna.goto(telegram_url(server.url, telegram_init_data(5001, server.now(), first_name="Анна")))
    await by(anna, "quick-add-espresso").click()
    await by(anna, "tab-cart").click()
    await by(anna, "group-start").click()
    await by(anna, "group-open").click()  # the organiser pays for everyone, at the counter
    await by(anna, "group-progress").filter(has_text="1 из 2").wait_for()
    link = await by(anna, "group-link").input_value()
    code = link.rsplit("/go/j", 1)[1]
    await by(anna, "group-share").click()  # Telegram's share sheet, with the link and a word on the discount
    shared = await anna.evaluate("window.__tg.filter(e => e[0] === 'web_app_open_tg_link').map(e => e[1].path_full)")
    assert shared and shared[-1].startswith("/share/url?") and quote(link, safe="") in shared[-1], shared

    # a VK Mini App link vk.com/app<id>#j<code>: the hash is the start parameter
    boris = await chromium.page(vk=True)
    await boris.goto(f"{server.url}/?{vk_query(7001, server.now())}#j{code}")
    await by(boris, "group-member").filter(has_text="Анна").wait_for()
    await by(boris, "group-to-menu").click()
    await by(boris, "quick-add-croissant").click()
    await by(boris, "tab-cart").click()
    await by(boris, "to-group").click()
    await by(boris, "group-add").click()
    await boris.locator("[data-testid=group-progress][data-reached=true]").wait_for()
    await by(boris, "group-share").click()
    await vk_answer(boris, "VKWebAppShare", {"result": True})
    assert (await boris.evaluate("window.__vk.filter(m => m.handler === 'VKWebAppShare').at(-1).params.link")) == link

    await anna.locator("[data-testid=group-progress][data-reached=true]").wait_for()
    await by(anna, "group-close").click()
    await by(anna, "group-my-order").click()
    await anna.wait_for_url(re.compile(r"#/order/[^/]+$"))
    assert rubles(await by(anna, "total").inner_text()) == "297₽"  # (150 + 180) less 10 %, one order
    await chromium.shot(anna, "order")
    await boris.locator("[data-testid=group-status][data-status=ordered]").wait_for()
    assert "платит организатор" in await boris.locator("main").inner_text()
    assert await by(boris, "group-my-order").count() == 0  # nothing for the friend to pay
    await chromium.shot(boris, "ordered")
