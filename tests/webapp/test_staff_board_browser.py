"""The orders board and the checkout's pickup times in real headless Chromium on a 360 x 740 phone screen.

A guest orders from table 7's link in the browser demo, offered only the times the point serves; the
staff's board shows the table, the pickup time and, once the test clock is past it, how late each order is.
Layout is checked as facts: no horizontal scrolling, each order's text above its buttons (never beside or
under them), every button inside its card. Then accept, ready, hand over on the customer's code (a wrong
code refused) and cancel (asked first) are done on the board. Screenshots are saved under the test's tmp_path.
"""
from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from shop_fixtures import customer

from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from journey.model import CartLine
from journey.states import OrderStatus
from webapp import WebappConfig, create_app

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTH, HEIGHT = 360, 740
MOSCOW = ZoneInfo("Europe/Moscow")
STAFF = CustomerRef(Channel.WEB, "staff")


class Svg:
    def svg(self, data: str, caption: str = "") -> bytes:
        return b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'

    def png(self, data: str, caption: str = "") -> bytes:
        return b""


@pytest.fixture
async def server(engine: Engine) -> AsyncIterator[str]:
    """The browser demo (``demo staff`` is staff everywhere, as ``vitrina run`` wires it) on a free port."""
    engine.owners = {*engine.owners, STAFF}
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


@pytest.fixture
async def browser():
    if not CHROMIUM.exists():
        pytest.skip("Chromium not installed: apt-get install chromium")
    from playwright.async_api import async_playwright
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        errors: list[str] = []

        async def page(who: str, now: datetime):
            """A phone-sized page of demo visitor ``who`` whose clock reads the server's ``now``."""
            context = await chromium.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="ru-RU",
                                                 device_scale_factor=1, has_touch=True)
            context.set_default_timeout(15_000)
            await context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())
            await context.add_init_script(f"localStorage.setItem('vitrina.demo', '{who}')")
            opened = await context.new_page()
            await opened.clock.set_fixed_time(now)
            opened.on("pageerror", lambda exc: errors.append(str(exc)))
            return opened

        try:
            yield page
        finally:
            await chromium.close()
        assert errors == [], f"JavaScript errors: {errors}"


def by(page, testid: str):
    return page.get_by_test_id(testid)


LAYOUT = """() => {
  const box = (el) => el.getBoundingClientRect();
  const rows = [...document.querySelectorAll('[data-testid=staff-row]')].map((row) => {
    const text = box(row.querySelector('[data-testid=staff-text]'));
    const card = box(row);
    const buttons = [...row.querySelectorAll('button, input')].filter((b) => b.offsetParent).map(box);
    return {
      textAbove: buttons.every((b) => b.top >= text.bottom),
      inside: buttons.every((b) => b.left >= card.left && b.right <= card.right + 0.5),
      apart: buttons.every((a, i) => buttons.every((b, j) => i === j || a.right <= b.left || b.right <= a.left
        || a.bottom <= b.top || b.bottom <= a.top)),
      tall: buttons.every((b) => b.height >= 36 && b.width >= 96),
      textWidth: text.width,
    };
  });
  return { scrollWidth: document.documentElement.scrollWidth, rows };
}"""


async def check_layout(page) -> None:
    text = await page.locator("main").inner_text()
    assert not re.search(r"\bnull\b|\bundefined\b|\[object |NaN", text), text
    layout = await page.evaluate(LAYOUT)
    assert layout["scrollWidth"] <= WIDTH, layout
    for row in layout["rows"]:
        assert row["textAbove"] and row["inside"] and row["apart"] and row["tall"], layout
        assert row["textWidth"] >= WIDTH - 2 * 16 - 2 * 12 - 2, layout  # the whole card's width for the text


async def status(engine: Engine, order_id: str) -> OrderStatus:
    return (await engine.order_view(STAFF, order_id)).order.status


async def test_the_board_on_a_phone(server, browser, engine, clock, tmp_path):
    # a guest at table 7 orders in the browser; the checkout offers today's times the point serves
    guest = await browser("guest-7", clock.now())
    await guest.goto(f"{server}/?start=tcenter_7")
    await by(guest, "quick-add-espresso").click()
    await by(guest, "main-button").click()
    await guest.wait_for_url(re.compile(r"#/cart$"))
    await by(guest, "main-button").click()
    await by(guest, "time-select").locator("option").first.wait_for(state="attached")
    offered = await by(guest, "time-select").locator("option").all_inner_texts()
    assert offered[0] == "09:15" and offered[-1] == "21:45" and len(offered) == 51  # the points close at 22:00
    assert await by(guest, "when-asap").is_checked()
    await guest.screenshot(path=str(tmp_path / "checkout.png"), full_page=True)
    await by(guest, "main-button").click()
    await guest.wait_for_url(re.compile(r"#/order/[^/]+$"))
    table = (await engine.orders_of(CustomerRef(Channel.WEB, "guest-7")))[0]
    assert table.source == "table:center:7" and table.pickup_at == clock.now() + timedelta(minutes=5)

    # two more: one a long name for 09:30, one ready; then the clock reaches 09:17
    later = await engine.place_order(customer(2), [CartLine("latte", 2, {"size": ("l",), "milk": ("almond",),
                                                                       "syrup": ("vanilla", "caramel")}),
                                                   CartLine("croissant", 3), CartLine("eclair")],
                                     "center", pickup_at=clock.now() + timedelta(minutes=30))
    ready = await engine.place_order(customer(3), [CartLine("espresso")], "center")
    await engine.accept(STAFF, ready.order.id)
    await engine.mark_ready(STAFF, ready.order.id)
    clock.advance(minutes=17)

    staff = await browser("staff", clock.now())
    await staff.goto(f"{server}/#/staff")
    rows = by(staff, "staff-row")
    await rows.nth(2).wait_for()
    assert await rows.count() == 3
    first = rows.filter(has_text=table.short_code)
    await first.get_by_test_id("staff-table").filter(has_text="Стол 7").wait_for()
    assert await first.get_by_test_id("staff-late").inner_text() == "Опаздывает на 12 мин"
    assert "к 09:05" in await first.inner_text()
    second = rows.filter(has_text=later.order.short_code)
    assert await second.get_by_test_id("staff-late").count() == 0 and "к 09:30" in await second.inner_text()
    assert await second.get_by_test_id("staff-table").count() == 0
    await check_layout(staff)
    await staff.screenshot(path=str(tmp_path / "staff-board.png"), full_page=True)

    # accept and ready on the board
    await first.get_by_test_id("staff-accept").click()
    await first.filter(has_text="Готовится").get_by_test_id("staff-ready").click()
    await first.filter(has_text="Готов к выдаче").wait_for()
    assert await status(engine, table.id) is OrderStatus.READY
    # hand over: a wrong code is refused, the right one hands the order over
    await first.get_by_test_id("staff-give").click()
    await first.get_by_test_id("staff-give-code").fill(ready.order.short_code)
    await first.get_by_test_id("staff-give-ok").click()
    await first.get_by_role("alert").filter(has_text=f"Это код другого заказа (№{ready.order.short_code})").wait_for()
    await check_layout(staff)
    await staff.screenshot(path=str(tmp_path / "staff-give.png"), full_page=True)
    assert await status(engine, ready.order.id) is OrderStatus.READY
    await first.get_by_test_id("staff-give-code").fill(table.short_code)
    await first.get_by_test_id("staff-give-ok").click()
    await rows.filter(has_text=table.short_code).wait_for(state="detached")
    assert await status(engine, table.id) is OrderStatus.PICKED_UP

    # cancel asks first; "no" keeps the order
    await second.get_by_test_id("staff-cancel").click()
    await second.get_by_text(f"Отменить заказ №{later.order.short_code}?").wait_for()
    await check_layout(staff)
    await staff.screenshot(path=str(tmp_path / "staff-cancel.png"), full_page=True)
    await second.get_by_test_id("staff-cancel-no").click()
    await second.get_by_test_id("staff-accept").wait_for()
    assert await status(engine, later.order.id) is OrderStatus.PLACED
    await second.get_by_test_id("staff-cancel").click()
    await second.get_by_test_id("staff-cancel-yes").click()
    await rows.filter(has_text=later.order.short_code).wait_for(state="detached")
    assert await status(engine, later.order.id) is OrderStatus.CANCELLED
    assert await rows.count() == 1


async def test_a_closed_point_says_when_it_opens(server, browser, engine, clock, tmp_path):
    clock.current = datetime(2026, 11, 18, 21, 55, tzinfo=MOSCOW).astimezone(UTC)  # the points close at 22:00
    guest = await browser("guest-late", clock.now())
    await guest.goto(f"{server}/?start=ppark")
    await by(guest, "quick-add-espresso").click()
    await by(guest, "main-button").click()
    await guest.wait_for_url(re.compile(r"#/cart$"))
    await by(guest, "main-button").click()
    note = by(guest, "point-closed")
    assert await note.inner_text() == "Сейчас точка закрыта. Откроется завтра в 07:00 — выберите время."
    assert await by(guest, "when-asap").count() == 0
    offered = await by(guest, "time-select").locator("option").all_inner_texts()
    assert offered[0] == "завтра в 07:00" and offered[-1] == "завтра в 21:45"
    assert await guest.evaluate("document.documentElement.scrollWidth") <= WIDTH
    await guest.screenshot(path=str(tmp_path / "checkout-closed.png"), full_page=True)
    await by(guest, "main-button").click()
    await guest.wait_for_url(re.compile(r"#/order/[^/]+$"))
    [order] = await engine.orders_of(CustomerRef(Channel.WEB, "guest-late"))
    assert order.pickup_at == datetime(2026, 11, 19, 7, 0, tzinfo=MOSCOW)


async def test_a_long_queue_is_shown_a_page_at_a_time(server, browser, engine, clock):
    """The board comes in pages of 50: the rest of a long queue is one press of "Ещё" away, in the board's
    order, and stays shown as the board refreshes."""
    codes = []
    for n in range(52):
        placed = await engine.place_order(customer(100 + n), [CartLine("espresso")], "center",
                                          pickup_at=clock.now() + timedelta(minutes=10 + n))
        codes.append(placed.order.short_code)
    staff = await browser("staff", clock.now())
    await staff.goto(f"{server}/#/staff")
    rows = by(staff, "staff-row")
    await by(staff, "staff-more").wait_for()
    assert await rows.count() == 50
    assert codes[0] in await rows.first.inner_text() and codes[49] in await rows.nth(49).inner_text()
    await by(staff, "staff-more").click()
    await rows.nth(51).wait_for()
    assert await by(staff, "staff-more").count() == 0
    assert codes[51] in await rows.nth(51).inner_text()
    await check_layout(staff)
