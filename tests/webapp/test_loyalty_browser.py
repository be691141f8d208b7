"""Suggestions and points in a real browser (the demo in Chromium): a returning customer's menu shows "Ваше
обычное" and adds that line with its options in one tap, someone new sees no such box, an item's screen shows
what is often taken with it; the profile shows the tier, what is left to the next, the history and the birthday
form, which refuses a day that does not exist."""
from __future__ import annotations

import json

import pytest
import test_browser
from test_browser import Browser, Server, by

from journey.channels import Channel, CustomerRef
from journey.model import CartLine

pytestmark = pytest.mark.browser
chromium, demo_server = test_browser.chromium, test_browser.demo_server
OWNER = CustomerRef(Channel.TELEGRAM, "1", "Владелец")  # an owner of tests/conftest.py: staff everywhere
ANNA = CustomerRef(Channel.WEB, "anna")
OAT_LATTE = CartLine("latte", 1, {"size": ("m",), "milk": ("oat",)})


async def pick_up(server: Server, who: CustomerRef, lines: list[CartLine]) -> None:
    engine = server.engine
    order = (await engine.place_order(who, lines, "center")).order
    for step in (engine.accept, engine.mark_ready):
        await step(OWNER, order.id)
    await engine.hand_over(OWNER, order_id=order.id)


async def demo_page(chromium: Browser, name: str):
    page = await chromium.page()
    await page.add_init_script(f"localStorage.setItem('vitrina.demo', '{name}')")
    return page


async def test_a_returning_customer_sees_the_usual_and_someone_new_no_box(demo_server: Server, chromium: Browser):
    for _ in range(2):
        await pick_up(demo_server, ANNA, [OAT_LATTE])
        await pick_up(demo_server, CustomerRef(Channel.WEB, "ivan"), [CartLine("croissant"), CartLine("espresso")])
    anna = await demo_page(chromium, "anna")
    await anna.goto(f"{demo_server.url}/")
    usual = by(anna, "sugg-usual")
    await usual.wait_for()
    assert "Ваше обычное" in await usual.inner_text() and "Латте" in await usual.inner_text()
    assert "Овсяное" in await usual.inner_text()
    assert "Сейчас берут" in await by(anna, "sugg-now").inner_text()
    await by(anna, "sugg-add-latte").click()
    cart = json.loads(await anna.evaluate("localStorage.getItem('vitrina.cart')"))
    assert cart["lines"] == [{"item": "latte", "quantity": 1, "options": {"size": ["m"], "milk": ["oat"]}}]
    await chromium.shot(anna, "menu")

    await anna.goto(f"{demo_server.url}/#/item/croissant")
    together = by(anna, "sugg-together")
    await together.wait_for()
    assert "Часто берут вместе" in await together.inner_text() and "Эспрессо" in await together.inner_text()
    await chromium.shot(anna, "item")

    olga = await demo_page(chromium, "olga")
    await olga.goto(f"{demo_server.url}/")
    await by(olga, "sugg-now").wait_for()  # the shop's hour has data; olga has no usual
    assert await by(olga, "sugg-usual").count() == 0
    await olga.goto(f"{demo_server.url}/#/item/latte")
    await by(olga, "add-to-cart").wait_for()
    await by(olga, "sugg-now").wait_for(state="detached")
    assert await by(olga, "sugg-together").count() == 0  # the latte was never taken with anything


async def test_the_profile_shows_the_tier_the_history_and_the_birthday(demo_server: Server, chromium: Browser):
    await demo_server.engine.set_rules(tiers="0:5,500:7")
    await pick_up(demo_server, ANNA, [OAT_LATTE])
    anna = await demo_page(chromium, "anna")
    await anna.goto(f"{demo_server.url}/#/profile")
    panel = by(anna, "points-panel")
    await panel.wait_for()
    assert await by(anna, "tier-name").inner_text() == "Базовый"
    assert "Серебряный" in await by(anna, "tier-next").inner_text()
    assert "150" in await by(anna, "tier-next").inner_text()  # 500 - 350 rubles
    moves = by(anna, "points-move")
    assert await moves.count() == 1 and "+17,50" in await moves.first.inner_text()
    assert "Начислено за заказ" in await moves.first.inner_text()

    await by(anna, "bd-day").fill("31")
    await by(anna, "bd-month").select_option("4")
    await by(anna, "bd-save").click()
    await anna.locator("#toast").filter(has_text="31 апреля").wait_for()
    assert (await demo_server.engine.points_summary(ANNA)).birthday is None
    await anna.locator("#toast").wait_for(state="hidden")
    await by(anna, "bd-day").fill("29")
    await by(anna, "bd-month").select_option("2")
    await by(anna, "bd-save").click()
    await by(anna, "bd-forget").wait_for()
    assert (await demo_server.engine.points_summary(ANNA)).birthday == (29, 2)
    await chromium.shot(anna, "profile")


async def test_the_cart_shows_the_birthday_discount_on_its_own_line(demo_server: Server, chromium: Browser):
    await demo_server.engine.set_birthday(ANNA, 19, 11)  # tomorrow on the test clock: within the window
    anna = await demo_page(chromium, "anna")
    await anna.add_init_script("localStorage.setItem('vitrina.cart', JSON.stringify("
                               "{lines: [{item: 'croissant', quantity: 1, options: {}}], promo: null}))")
    await anna.goto(f"{demo_server.url}/#/cart")
    line = by(anna, "birthday-discount")
    await line.wait_for()
    assert "18" in await line.inner_text() and await by(anna, "discount").count() == 0  # 10 % of 180 ₽
    assert "162" in await by(anna, "total").inner_text()
    await chromium.shot(anna, "cart")
