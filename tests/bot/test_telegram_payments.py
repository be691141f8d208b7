"""Telegram payments end to end: aiogram against the fake Bot API, the invoice desk over the engine.

A Mini App order paid by a Telegram invoice is hidden from staff until paid, approved at the pre-checkout,
fulfilled once however often ``successful_payment`` repeats, and refused at a wrong amount; an order
closed meanwhile is refused at the pre-checkout; an unpaid order is paid from the chat (``sendInvoice``);
points packs are sold for Stars from /points and refunded with ``refundStarPayment``.
"""
from __future__ import annotations

from contextlib import asynccontextmanager

from fake_telegram import FakeTelegram
from shop_fixtures import BARISTA, OWNER
from telegram_harness import PROVIDER_TOKEN, button, telegram_shop

from adapters.telegram.invoices import TelegramInvoiceProvider, TelegramStars
from bot.payments import close
from journey.engine import Engine
from journey.model import CartLine
from journey.states import OrderStatus, PackStatus, PaymentStatus

GUEST = 501
STAFF_CHAT = -100777


@asynccontextmanager
async def paying_shop(db, clock, engine: Engine):
    """The seeded shop with Telegram invoices through the fake Bot API, and the bot polling it."""
    async with FakeTelegram() as fake:
        invoices = TelegramInvoiceProvider(fake.token, fake.base_url, PROVIDER_TOKEN)
        stars = TelegramStars(fake.token, fake.base_url)
        shop = Engine(db.uow, secret=engine.secret, owners=[OWNER], clock=clock, reader=db.reading,
                      providers={"telegram": invoices}, stars=stars)
        try:
            async with telegram_shop(shop, staff_chat=STAFF_CHAT, fake=fake) as tg:
                yield tg
        finally:
            await close(invoices, stars)


async def _order(tg) -> tuple[str, str]:
    """An order placed in the Mini App with Telegram's invoice: its id and invoice link."""
    chat = tg.chat(GUEST)
    view = await tg.engine.place_order(chat.ref, [CartLine("croissant", 2)], "center", provider="telegram")
    return view.order.id, view.payment.link


async def _state(engine: Engine, order_id: str):
    async with engine.read() as uow:
        order, payment = await uow.orders.get(order_id), await uow.payments.for_order(order_id)
    return order.status, payment


async def test_an_invoice_is_approved_fulfilled_once_and_reaches_the_staff(db, clock, engine):
    async with paying_shop(db, clock, engine) as tg:
        order_id, link = await _order(tg)
        invoice = tg.fake.invoice_by_link(link)
        assert (invoice.currency, invoice.amount, invoice.payload) == ("RUB", 36000, (await _state(
            tg.engine, order_id))[1].id)
        await tg.notify()
        assert tg.fake.sent(STAFF_CHAT) == []  # nothing for the staff before the money
        assert await tg.engine.staff_board(BARISTA) == []

        paid = await tg.fake.pay_invoice_link(GUEST, link)
        assert paid.approved, paid.error_message
        for _ in range(2):  # Telegram says it again, under new update ids
            tg.fake.resend_successful_payment(paid)
        await tg.desk.handled(3)
        status, payment = await _state(tg.engine, order_id)
        assert (status, payment.status, payment.charge_id) == (OrderStatus.PLACED, PaymentStatus.CAPTURED,
                                                               paid.charge_id)
        assert payment.provider_charge_id == paid.provider_charge_id
        await tg.notify()
        told = await tg.fake.next_message(GUEST)
        assert "Оплата заказа" in told.text and "получена" in told.text
        staff = tg.fake.sent(STAFF_CHAT)
        assert len(staff) == 1 and "Новый заказ" in staff[0].text and "оплачен онлайн" in staff[0].text
        assert [d.order.id for d in await tg.engine.staff_board(BARISTA)] == [order_id]
        events = await _events(tg.engine)
        assert events.count("payment.captured") == 1 and events.count("order.paid") == 1
        assert "payment.refund_manual" not in events  # a repeat is no second charge


async def _events(engine: Engine) -> list[str]:
    async with engine.read() as uow:
        return [e.type.value for e in await uow.outbox.pending("events-test", 1000)]


async def test_a_wrong_amount_and_a_closed_order_are_refused_at_the_pre_checkout(db, clock, engine):
    async with paying_shop(db, clock, engine) as tg:
        order_id, link = await _order(tg)
        invoice = tg.fake.invoice_by_link(link)
        wrong = await tg.fake.pay_invoice(GUEST, payload=invoice.payload, currency="RUB", total=100)
        assert not wrong.approved and "сумма не совпадает" in wrong.error_message
        await tg.engine.cancel(tg.chat(GUEST).ref, order_id)
        late = await tg.fake.pay_invoice_link(GUEST, link)
        assert not late.approved and late.error_message
        status, payment = await _state(tg.engine, order_id)
        assert (status, payment.status, payment.charge_id) == (OrderStatus.CANCELLED, PaymentStatus.VOIDED, "")
        forged = await tg.fake.pay_invoice(GUEST, payload="pay_forged", currency="RUB", total=36000)
        assert not forged.approved


async def test_an_unpaid_order_is_paid_from_the_chat(db, clock, engine):
    async with paying_shop(db, clock, engine) as tg:
        order_id, _ = await _order(tg)
        chat = tg.chat(GUEST)
        orders = await chat.send("/orders")
        pay = button(orders, "Оплатить")
        tg.fake.press_button(GUEST, orders.message_id, pay["callback_data"])
        sent = await tg.fake.next_message(GUEST)
        assert sent.invoice is not None and (sent.invoice.currency, sent.invoice.amount) == ("RUB", 36000)
        assert sent.invoice.provider_token == PROVIDER_TOKEN
        paid = await tg.fake.pay_invoice(GUEST, payload=sent.invoice.payload, currency="RUB", total=36000)
        assert paid.approved
        await tg.desk.handled(1)
        assert (await _state(tg.engine, order_id))[1].status is PaymentStatus.CAPTURED
        again = await chat.send("/orders")
        assert "Оплатить" not in str(again.reply_markup)


async def test_points_packs_are_sold_for_stars_and_refunded(db, clock, engine):
    async with paying_shop(db, clock, engine) as tg:
        await tg.engine.change_shop(OWNER, "packs", "500:50")
        chat = tg.chat(GUEST)
        points = await chat.send("/points")
        tg.fake.press_button(GUEST, points.message_id, button(points, "500 баллов за 50")["callback_data"])
        sent = await tg.fake.next_message(GUEST)
        assert (sent.invoice.currency, sent.invoice.amount, sent.invoice.provider_token) == ("XTR", 50, "")
        paid = await tg.fake.pay_invoice(GUEST, payload=sent.invoice.payload, currency="XTR", total=50)
        assert paid.approved
        tg.fake.resend_successful_payment(paid)
        await tg.desk.handled(2)
        assert await tg.engine.balance(chat.ref) == 500
        await tg.notify()
        assert "Начислено 500 баллов" in (await tg.fake.next_message(GUEST)).text

        refunded = await tg.engine.refund_pack(OWNER, sent.invoice.payload)
        assert refunded.status is PackStatus.REFUNDED and await tg.engine.balance(chat.ref) == 0
        assert tg.fake.calls_of("refundStarPayment")[0]["telegram_payment_charge_id"] == paid.charge_id
