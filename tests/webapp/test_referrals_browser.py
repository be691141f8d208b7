"""Referrals in a real browser: the Mini App sends the launch's start parameter on every API call
(``X-Vitrina-Start``), so a friend who opens an invitation in the browser or the VK Mini App is attributed
whatever call comes first; after the friend's first pickup the inviter's profile lists them, rewarded."""
from __future__ import annotations

import re

import pytest
import test_browser
from test_browser import Browser, Server, by, telegram_init_data, telegram_url, vk_query

from journey.channels import Channel, CustomerRef
from journey.model import CartLine

pytestmark = pytest.mark.browser
# the fixtures of the browser journeys: the app on a port, the demo, one Chromium
chromium, server, demo_server = test_browser.chromium, test_browser.server, test_browser.demo_server
OWNER = CustomerRef(Channel.TELEGRAM, "1", "Владелец")  # an owner of tests/conftest.py: staff everywhere


async def demo_page(chromium: Browser, name: str):
    page = await chromium.page()
    await page.add_init_script(f"localStorage.setItem('vitrina.demo', '{name}')")
    return page


def record_api_calls(page) -> list[tuple[str, str | None]]:
    seen: list[tuple[str, str | None]] = []
    page.on("request", lambda r: seen.append((r.url.split("/api/", 1)[1], r.headers.get("x-vitrina-start")))
            if "/api/" in r.url else None)
    return seen


async def pick_up(server: Server, friend: CustomerRef) -> None:
    engine = server.engine
    order = (await engine.place_order(friend, [CartLine("eclair")], "center")).order
    for step in (engine.accept, engine.mark_ready):
        await step(OWNER, order.id)
    await engine.hand_over(OWNER, order_id=order.id)


async def test_a_friend_in_the_browser_is_listed_on_the_inviters_profile(demo_server: Server, chromium: Browser):
    anna = await demo_page(chromium, "anna")
    await anna.goto(f"{demo_server.url}/")
    await by(anna, "item-latte").wait_for()
    code = (await demo_server.engine.profile(CustomerRef(Channel.WEB, "anna"))).customer.referral_code

    olga = await demo_page(chromium, "olga")
    calls = record_api_calls(olga)
    await olga.goto(f"{demo_server.url}/?start=r{code}")
    await by(olga, "item-latte").wait_for()
    after_config = [(path, header) for path, header in calls if not path.startswith("config")]
    assert any(path == "me" for path, _ in after_config)
    assert after_config and all(header == f"r{code}" for _, header in after_config), after_config
    await olga.goto(f"{demo_server.url}/?start=r{code}#/profile")  # she is told what her first pickup brings
    assert "10000" in await by(olga, "referral-invited").inner_text()
    await pick_up(demo_server, CustomerRef(Channel.WEB, "olga"))

    await anna.goto(f"{demo_server.url}/#/profile")
    friend = by(anna, "referral-friend")
    await friend.wait_for()
    assert await friend.get_attribute("data-status") == "rewarded"
    assert "olga" in await friend.inner_text()
    assert "10000" in await by(anna, "referral-terms").inner_text()
    assert re.search(r"\b1\b", await by(anna, "referral-totals").inner_text())
    await chromium.shot(anna, "profile")


async def test_a_friend_in_the_vk_mini_app_is_attributed_by_the_header(server: Server, chromium: Browser):
    inviter = CustomerRef(Channel.TELEGRAM, "9001", "Анна")
    code = (await server.engine.profile(inviter)).customer.referral_code
    page = await chromium.page(vk=True)
    calls = record_api_calls(page)
    await page.goto(f"{server.url}/?{vk_query(7101, server.now())}#r{code}")  # vk.com/app<id>#r<code>
    await by(page, "item-latte").wait_for()
    assert ("me", f"r{code}") in calls
    await pick_up(server, CustomerRef(Channel.VK, "7101"))
    summary = await server.engine.referral_summary(inviter)
    assert [(f.status.value, f.points) for f in summary.friends] == [("rewarded", summary.bonus)]


async def test_a_friend_in_the_telegram_mini_app_sees_her_invitation_on_the_profile(server: Server,
                                                                                    chromium: Browser):
    inviter = CustomerRef(Channel.VK, "9002", "Анна")
    code = (await server.engine.profile(inviter)).customer.referral_code
    page = await chromium.page(telegram=True)
    calls = record_api_calls(page)
    # t.me/<bot>/<app>?startapp=r<code>: Telegram signs it into initData, and the header repeats it
    init = telegram_init_data(5101, server.now(), first_name="Ольга", start_param=f"r{code}")
    await page.goto(telegram_url(server.url, init))
    await by(page, "item-latte").wait_for()
    assert ("me", f"r{code}") in calls
    await page.evaluate("location.hash = '#/profile'")
    assert "10000" in await by(page, "referral-invited").inner_text()
    await pick_up(server, CustomerRef(Channel.TELEGRAM, "5101"))
    summary = await server.engine.referral_summary(inviter)
    assert [(f.name, f.status.value) for f in summary.friends] == [("Ольга", "rewarded")]
