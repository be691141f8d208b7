"""Gifts in real headless Chromium: a giver inside Telegram (its WebApp object stubbed) gifts a latte from the
item's screen, pays on YooKassa's page (the fake YooKassa takes the money and notifies the shop), and the
gift's screen follows by itself to the link to send; a friend opens that link in the VK Mini App, sees who
it is from, takes it, chooses the point and orders it: nothing to pay, the pickup code at once, and the
staff's hand-over redeems the gift. Screenshots go to test-artifacts/<test name>-*.png."""
from __future__ import annotations

import re
from urllib.parse import quote

import launch_data
import pytest
import test_payment_browser
from fake_telegram import FakeTelegram
from shop_fixtures import OWNER
from test_payment_browser import BOT_TOKEN, PROVIDER_TOKEN, VK_APP_ID, VK_SECRET, WEBHOOK, Browser, by, serve

from adapters.telegram.invoices import TelegramInvoiceProvider
from bot.payments import close
from journey.channels import Channel, CustomerRef, InvoicePayment
from journey.gift_model import GiftStatus

pytestmark = pytest.mark.browser
chromium = test_payment_browser.chromium


async def test_a_gift_bought_in_telegram_is_taken_and_ordered_in_vk(db, clock, engine, yookassa, chromium: Browser):
    async with serve(db, clock, engine, yookassa, demo=False) as shop:
        now = int(shop.engine.now().timestamp())
        init = launch_data.telegram_init_data(5101, now, token=BOT_TOKEN, first_name="Анна", language_code="ru")
        anna = await chromium.page(telegram=init)
        await anna.goto(f"{shop.url}/#tgWebAppData={quote(init, safe='')}&tgWebAppVersion=8.0&tgWebAppPlatform=android")
        await by(anna, "item-latte").wait_for()
        await anna.evaluate("location.hash = '#/item/latte'")
        await by(anna, "gift-item").click()
        await anna.wait_for_url(re.compile(r"#/gift/new/latte$"))
        await by(anna, "gift-pay-yookassa").wait_for()
        assert await by(anna, "gift-pay").locator("input").count() == 1  # no Telegram invoice configured here
        await by(anna, "gift-message").fill("С днём рождения!")
        await chromium.shot(anna, "buy")
        await by(anna, "gift-buy").click()
        await anna.wait_for_url(re.compile(r"#/gift/[A-Za-z0-9]+$"))
        code = anna.url.rsplit("/", 1)[1]
        await anna.wait_for_function("() => window.__tg.links.length === 1")  # YooKassa's page, over the app
        (page_url,) = await anna.evaluate("window.__tg.links")
        assert page_url.startswith(shop.yookassa.root + "/checkout/")
        await by(anna, "gift-status").filter(has_text="ждёт оплаты").wait_for()

        (ref,) = shop.yookassa.payments
        shop.yookassa.pay(ref)
        assert await shop.yookassa.notify(shop.url + WEBHOOK, ref) == 200
        await by(anna, "gift-send").wait_for()  # the screen follows the payment by itself
        link = await by(anna, "gift-link").input_value()
        assert link == f"{shop.url}/go/g{code}"
        assert shop.yookassa.payments[ref]["status"] == "succeeded"  # taken at once, not held
        await chromium.shot(anna, "send")

        # the friend opens it in the VK Mini App (vk.com/app<id>#g<code>: the hash is the start parameter)
        boris = await chromium.page()
        query = launch_data.vk_launch_params(7101, now, secret=VK_SECRET, app_id=VK_APP_ID, language="ru",
                                             platform="desktop_web")
        await boris.goto(f"{shop.url}/?{query}#g{code}")
        await by(boris, "gift-from").filter(has_text="Подарок от Анна: Латте").wait_for()
        assert await by(boris, "gift-message-shown").inner_text() == "С днём рождения!"
        await chromium.shot(boris, "gift")
        await by(boris, "gift-take").click()
        await by(boris, "gift-order").wait_for()
        await by(boris, "gift-place").click()
        await boris.wait_for_url(re.compile(r"#/order/[^/]+$"))
        assert re.sub(r"\s", "", await by(boris, "total").inner_text()) == "0₽"
        await boris.locator("[data-testid=qr][src^='blob:']").wait_for()
        short = (await by(boris, "short-code").inner_text()).strip()
        await chromium.shot(boris, "order")

        order_id = boris.url.rsplit("/", 1)[1]
        for step in (shop.engine.accept, shop.engine.mark_ready):
            await step(OWNER, order_id)
        given = await shop.engine.hand_over(OWNER, short_code=short, point_id="center")
        assert given.id == order_id
        view = await shop.engine.gift_view(CustomerRef(Channel.VK, "7101"), code)
        assert view.gift.status is GiftStatus.REDEEMED and view.taker

        # each finds it in their profile, the giver's way and the friend's, as picked up
        for page, line in ((anna, "Ваш подарок: Латте · получен"), (boris, "Подарок от Анна: Латте · получен")):
            await page.evaluate("location.hash = '#/profile'")
            await by(page, "my-gift").filter(has_text=line).wait_for()
        await by(boris, "my-gift").locator("a").click()
        await boris.wait_for_url(re.compile(rf"#/gift/{code}$"))


async def test_a_gift_is_paid_by_telegram_invoice_inside_telegram(db, clock, engine, yookassa, chromium: Browser):
    async with FakeTelegram(BOT_TOKEN) as telegram:
        invoices = TelegramInvoiceProvider(telegram.token, telegram.base_url, PROVIDER_TOKEN)
        try:
            async with serve(db, clock, engine, yookassa, demo=False, more={"telegram": invoices}) as shop:
                now = int(shop.engine.now().timestamp())
                init = launch_data.telegram_init_data(5102, now, token=BOT_TOKEN, first_name="Анна",
                                                      language_code="ru")
                anna = await chromium.page(telegram=init)
                await anna.goto(f"{shop.url}/#tgWebAppData={quote(init, safe='')}&tgWebAppVersion=8.0"
                                "&tgWebAppPlatform=android")
                await by(anna, "item-latte").wait_for()
                await anna.evaluate("location.hash = '#/gift/new'")  # a gift of money
                await by(anna, "gift-amount-50000").check()
                await by(anna, "gift-pay-telegram").check()
                await chromium.shot(anna, "amount")
                # Telegram's main button (not awaited: the page waits for the invoice's answer)
                await anna.evaluate("() => { window.__tg.main(); }")
                await anna.wait_for_function("() => window.__tg.invoices.length === 1")
                (link,) = await anna.evaluate("window.__tg.invoices")
                invoice = telegram.invoice_by_link(link)
                assert (invoice.currency, invoice.amount) == ("RUB", 50000)
                # Telegram's pre-checkout, its successful_payment, and the client's answer to the page
                paid = InvoicePayment(invoice.payload, "RUB", 50000, "ch-g1", "pc-g1")
                await shop.engine.check_invoice(paid)
                await shop.engine.invoice_paid(paid)
                await anna.evaluate("window.__tg.answer('paid')")
                await anna.wait_for_url(re.compile(r"#/gift/[A-Za-z0-9]+$"))
                await by(anna, "gift-send").wait_for()
                assert "подарок на 500" in await by(anna, "gift-from").inner_text()
                assert shop.yookassa.payments == {}  # nothing went to the card page
        finally:
            await close(invoices)


async def test_a_gift_of_money_pays_for_the_friends_cart_in_the_browser(db, clock, engine, yookassa,
                                                                       chromium: Browser):
    async with serve(db, clock, engine, yookassa) as shop:
        bought = await shop.engine.buy_gift(CustomerRef(Channel.TELEGRAM, "5103", "Анна"), amount=30000,
                                            provider="yookassa", return_url=f"{shop.url}/#/gift/")
        (ref,) = shop.yookassa.payments
        shop.yookassa.pay(ref)
        await shop.engine.payment_notice("yookassa", ref)
        code = bought.gift.code
        vera = await chromium.page(demo="vera")
        await vera.goto(f"{shop.url}/?start=g{code}")  # the landing page's "open in the browser"
        await by(vera, "gift-from").filter(has_text="Подарок от Анна: подарок на 300").wait_for()
        await by(vera, "gift-take").click()
        await by(vera, "gift-to-menu").click()  # a gift of money: the friend fills the cart first
        for _ in range(3):
            await by(vera, "quick-add-espresso").click()  # 3 x 150 ₽
        await by(vera, "tab-cart").click()
        await by(vera, "to-gift").click()
        await by(vera, "gift-cart").filter(has_text="3 шт.").wait_for()
        await chromium.shot(vera, "cart")
        await by(vera, "gift-place").click()
        await vera.wait_for_url(re.compile(r"#/order/[^/]+$"))
        assert re.sub(r"\s", "", await by(vera, "total").inner_text()) == "150₽"  # 450 ₽, 300 ₽ of it the gift's
        assert await by(vera, "tab-cart").inner_text() == "Корзина"  # the cart went into the order
        view = await shop.engine.gift_view(CustomerRef(Channel.WEB, "vera"), code)
        assert view.gift.status is GiftStatus.CLAIMED and view.gift.order_id

