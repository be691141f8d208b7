"""Telegram payments through the adapter: the real aiogram bot and ``TelegramChannel`` polling the fake Bot
API, a customer who pays there, and a small invoice desk standing in for the shop's."""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from fake_telegram import FakeTelegram, PaymentOutcome

from adapters.telegram import TelegramChannel
from adapters.telegram.invoices import TelegramInvoiceProvider, TelegramStars, provider_is_yookassa
from journey.channels import Channel, CustomerRef, DeliveryError, Inbound, Invoice, InvoicePayment, Reply, Text
from journey.model import Order, PaymentIntent
from journey.money import Money
from journey.ports import Checkout, PaymentResult, PaymentUnavailable
from journey.states import OrderStatus, PaymentStatus

USER = 4242
YOOKASSA = "381764678:TEST:100037"
NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


class StubDesk:
    """Approves unless told ``refusal``; waits for ``gate`` when there is one; fulfils a charge once."""

    def __init__(self) -> None:
        self.refusal: str | None = None
        self.gate: asyncio.Event | None = None
        self.checks: list[tuple[CustomerRef, InvoicePayment]] = []
        self.paid_calls: list[tuple[CustomerRef, InvoicePayment]] = []
        self.fulfilled: set[str] = set()

    async def check(self, payer: CustomerRef, payment: InvoicePayment) -> str | None:
        self.checks.append((payer, payment))
        if self.gate is not None:
            await self.gate.wait()
        return self.refusal

    async def paid(self, payer: CustomerRef, payment: InvoicePayment) -> list[Reply]:
        self.paid_calls.append((payer, payment))
        if payment.charge_id in self.fulfilled:
            return []
        self.fulfilled.add(payment.charge_id)
        return [Text(f"Оплачено: {payment.payload}")]


@dataclass
class Shop:
    fake: FakeTelegram
    channel: TelegramChannel
    desk: StubDesk
    handled: list[Inbound] = field(default_factory=list)

    async def pay(self, user: int = USER, **kw) -> PaymentOutcome:
        kw = {"payload": "pay_1", "currency": "RUB", "total": 35000, **kw}
        return await self.fake.pay_invoice(user, **kw)


@pytest.fixture
async def shop():
    async with FakeTelegram() as fake:
        desk = StubDesk()
        handled: list[Inbound] = []
        seen: set[str] = set()

        async def handle(inbound: Inbound) -> list[Reply]:
            handled.append(inbound)
            return [Text("Здравствуйте")]

        async def claim(update_id: str) -> bool:
            fresh = update_id not in seen
            seen.add(update_id)
            return fresh

        channel = TelegramChannel(fake.token, handle=handle, claim=claim, api_base=fake.base_url, desk=desk,
                                  provider_token=YOOKASSA)
        await channel.start()
        polling = asyncio.create_task(channel.run())
        await fake.wait_for(lambda calls: any(c.method == "getUpdates" for c in calls))
        try:
            yield Shop(fake, channel, desk, handled)
        finally:
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)
            await channel.stop()


@pytest.fixture
async def fake():
    async with FakeTelegram() as server:
        yield server


def order(total: int = 35000) -> Order:
    return Order("o_1", "c_1", "p_1", OrderStatus.PLACED, (), Money(total), Money(0), 0, Money(total), NOW, "123",
                 NOW, NOW, payment_provider="telegram")


def intent(status: PaymentStatus = PaymentStatus.PENDING, **kw) -> PaymentIntent:
    return PaymentIntent("pay_1", "o_1", "telegram", Money(35000), status, "key_1", **kw)


CHECKOUT = Checkout(order(), "Заказ 123 — Кофейня")


# -- the invoice link -------------------------------------------------------------------------------

async def test_the_invoice_link_carries_the_payment_id_and_the_order_total(shop):
    provider = TelegramInvoiceProvider(shop.fake.token, shop.fake.base_url, YOOKASSA)
    try:
        result = await provider.start(intent(), CHECKOUT)
    finally:
        await provider.close()
    assert (result.status, result.amount) == (PaymentStatus.PENDING, 35000)
    invoice = shop.fake.invoice_by_link(result.confirmation_url)
    assert (invoice.payload, invoice.currency, invoice.amount, invoice.provider_token) == (
        "pay_1", "RUB", 35000, YOOKASSA)
    assert (invoice.title, invoice.description) == ("Заказ 123", "Заказ 123 — Кофейня")
    assert "need_email" not in invoice.params and "provider_data" not in invoice.params

    outcome = await shop.fake.pay_invoice_link(USER, result.confirmation_url)
    assert outcome.approved
    assert shop.desk.checks[0] == (CustomerRef(Channel.TELEGRAM, str(USER), f"User{USER}", "ru"),
                                   InvoicePayment("pay_1", "RUB", 35000))


async def test_a_shop_sending_receipts_asks_the_email_and_passes_the_receipt_to_yookassa(fake):
    provider = TelegramInvoiceProvider(fake.token, fake.base_url, YOOKASSA, receipt_vat_code=1)
    other = TelegramInvoiceProvider(fake.token, fake.base_url, "284685063:TEST:abc", receipt_vat_code=1)
    try:
        first = fake.invoice_by_link((await provider.start(intent(), CHECKOUT)).confirmation_url)
        second = fake.invoice_by_link((await other.start(intent(), CHECKOUT)).confirmation_url)
    finally:
        await provider.close()
        await other.close()
    assert (first.params["need_email"], first.params["send_email_to_provider"]) == (True, True)
    item = json.loads(first.params["provider_data"])["receipt"]["items"][0]
    assert (item["amount"], item["quantity"], item["vat_code"]) == ({"value": "350.00", "currency": "RUB"}, "1.00", 1)
    assert "need_email" not in second.params and "provider_data" not in second.params  # not YooKassa's token


def test_yookassa_tokens_are_told_by_the_provider_bot():
    assert provider_is_yookassa("381764678:TEST:100037") and provider_is_yookassa("390540012:LIVE:90657")
    for token in ("284685063:TEST:abc", "381764678:TEST:", "381764678", "", "390540012:PROD:1", "x381764678:TEST:1"):
        assert not provider_is_yookassa(token), token


async def test_a_refused_invoice_is_an_answer_and_an_unreachable_telegram_is_not(fake):
    provider = TelegramInvoiceProvider(fake.token, fake.base_url, YOOKASSA)
    try:
        fake.break_method("createInvoiceLink", status=400, description="Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID")
        refused = await provider.start(intent(), CHECKOUT)
        assert refused.status is PaymentStatus.FAILED and "CURRENCY_TOTAL_AMOUNT_INVALID" in refused.error
        for status in (500, 0):
            fake.break_method("createInvoiceLink", status=status)
            with pytest.raises(PaymentUnavailable):
                await provider.start(intent(), CHECKOUT)
    finally:
        await provider.close()
    assert fake.invoices == []


# -- the pre-checkout -------------------------------------------------------------------------------

async def test_an_approved_pre_checkout_lets_the_customer_pay(shop):
    outcome = await shop.pay()
    assert outcome.approved and outcome.error_message is None
    assert shop.fake.calls_of("answerPreCheckoutQuery")[0]["ok"] is True


async def test_a_refused_pre_checkout_shows_the_desk_s_reason_and_takes_nothing(shop):
    shop.desk.refusal = "Заказ уже отменён"
    outcome = await shop.pay()
    assert (outcome.approved, outcome.error_message, outcome.charge_id) == (False, "Заказ уже отменён", "")
    answer = shop.fake.calls_of("answerPreCheckoutQuery")[0]
    assert (answer["ok"], answer["error_message"]) == (False, "Заказ уже отменён")
    assert shop.desk.paid_calls == []


async def test_a_slow_check_is_refused_in_time_in_the_payer_s_language(shop):
    shop.channel.check_budget = 0.2  # Telegram waits 10 seconds; the adapter answers within its budget
    shop.desk.gate = asyncio.Event()  # never opened: the shop's check hangs
    outcome = await shop.pay()
    assert not outcome.approved and "Попробуйте оплатить ещё раз" in outcome.error_message

    shop.fake.send_message(USER + 1, "hello", language_code="en")
    await shop.fake.next_message(USER + 1)
    outcome = await shop.pay(USER + 1)
    assert not outcome.approved and "try paying again" in outcome.error_message
    assert shop.desk.paid_calls == []


async def test_without_a_desk_every_payment_is_refused(shop):
    shop.channel.desk = None
    outcome = await shop.pay()
    assert not outcome.approved and "не принимается" in outcome.error_message


# -- the payment --------------------------------------------------------------------------------------

async def test_a_successful_payment_goes_to_the_desk_not_the_conversation(shop):
    outcome = await shop.pay(provider_payment_charge_id="2f3b588d-000f-5000-8000-1d6e87c7fbde")
    reply = await shop.fake.next_message(USER)
    assert reply.text == "Оплачено: pay_1"
    payer, payment = shop.desk.paid_calls[0]
    assert payer.external_id == str(USER)
    assert payment == InvoicePayment("pay_1", "RUB", 35000, outcome.charge_id, "2f3b588d-000f-5000-8000-1d6e87c7fbde")
    assert shop.handled == []


async def test_a_repeated_successful_payment_reaches_the_desk_again_and_is_fulfilled_once(shop):
    outcome = await shop.pay()
    await shop.fake.next_message(USER)
    shop.fake.resend_successful_payment(outcome)
    await shop.fake.wait_for(lambda _: len(shop.desk.paid_calls) == 2)
    assert [p.charge_id for _, p in shop.desk.paid_calls] == [outcome.charge_id] * 2
    assert [s.text for s in shop.fake.sent(USER)] == ["Оплачено: pay_1"]

    shop.fake.send_message(USER, "привет")  # the conversation goes on as before
    assert (await shop.fake.next_message(USER)).text == "Здравствуйте"
    assert [i.text for i in shop.handled] == ["привет"]


# -- invoices in the chat ---------------------------------------------------------------------------

async def test_an_invoice_reply_is_sent_as_an_invoice(shop):
    to = CustomerRef(Channel.TELEGRAM, str(USER))
    await shop.channel.messenger.send(to, Invoice("Заказ 123", "Кофейня", "pay_1", "RUB", 35000))
    await shop.channel.messenger.send(to, Invoice("100 баллов", "Кофейня", "pack_1", "XTR", 50, "100 баллов"))
    rub, stars = (s.invoice for s in shop.fake.sent(USER))
    assert (rub.payload, rub.currency, rub.amount, rub.provider_token) == ("pay_1", "RUB", 35000, YOOKASSA)
    assert (stars.payload, stars.currency, stars.amount, stars.provider_token) == ("pack_1", "XTR", 50, "")
    assert [p["prices"] for p in shop.fake.calls_of("sendInvoice")] == [
        [{"label": "Заказ 123", "amount": 35000}], [{"label": "100 баллов", "amount": 50}]]

    outcome = await shop.pay(payload=stars.payload, currency="XTR", total=stars.amount)
    assert outcome.approved and shop.desk.checks[-1][1] == InvoicePayment("pack_1", "XTR", 50)


async def test_an_invoice_in_roubles_needs_the_provider_token(shop):
    shop.channel.messenger.provider_token = ""
    with pytest.raises(DeliveryError) as refused:
        await shop.channel.messenger.send(CustomerRef(Channel.TELEGRAM, str(USER)),
                                          Invoice("Заказ 123", "Кофейня", "pay_1", "RUB", 35000))
    assert not refused.value.permanent and shop.fake.calls_of("sendInvoice") == []


async def test_an_invoice_to_a_blocked_chat_is_an_unreachable_account(shop):
    shop.fake.refuse(USER)
    with pytest.raises(DeliveryError) as refused:
        await shop.channel.messenger.send(CustomerRef(Channel.TELEGRAM, str(USER)),
                                          Invoice("Заказ 123", "Кофейня", "pay_1", "RUB", 35000))
    assert (refused.value.permanent, refused.value.reason) == (True, "blocked")


# -- after the payment: status, capture, void, refund ---------------------------------------------------

async def test_status_capture_and_void_answer_from_what_is_known(fake):
    provider = TelegramInvoiceProvider(fake.token, fake.base_url, YOOKASSA)
    try:
        paid = intent(PaymentStatus.CAPTURED, refunded=100)
        assert await provider.status(paid) == PaymentResult(PaymentStatus.CAPTURED, refunded=100)
        assert (await provider.capture(paid)).status is PaymentStatus.CAPTURED
        unpaid = await provider.capture(intent())
        assert (unpaid.status, bool(unpaid.error)) == (PaymentStatus.PENDING, True)
        assert (await provider.void(intent())).status is PaymentStatus.VOIDED
        kept = await provider.void(paid)
        assert (kept.status, bool(kept.error)) == (PaymentStatus.CAPTURED, True)
    finally:
        await provider.close()
    assert fake.calls == []  # nothing of this asks Telegram


async def test_a_refund_goes_through_the_provider_s_api_when_there_is_one(fake):
    asked: list[tuple[str, Money, str]] = []

    async def refunds(payment_id: str, amount: Money, key: str) -> PaymentResult:
        asked.append((payment_id, amount, key))
        return PaymentResult(PaymentStatus.CAPTURED, payment_id, refunded=amount.amount, amount=35000)

    paid = intent(PaymentStatus.CAPTURED, charge_id="tg1", provider_charge_id="yk-1")
    manual = TelegramInvoiceProvider(fake.token, fake.base_url, "284685063:TEST:abc")
    through = TelegramInvoiceProvider(fake.token, fake.base_url, YOOKASSA, refunds=refunds)
    try:
        assert await manual.refund(paid, Money(5000)) == PaymentResult(PaymentStatus.CAPTURED, error="manual")
        no_charge = await through.refund(intent(PaymentStatus.CAPTURED), Money(5000))
        assert no_charge.error == "manual" and asked == []

        first = await through.refund(paid, Money(5000))
        await through.refund(paid, Money(5000))
        assert (first.status, first.refunded, first.provider_ref, first.error) == (PaymentStatus.CAPTURED, 5000, "", "")
        assert asked[0][:2] == ("yk-1", Money(5000)) and asked[0] == asked[1]  # a retry is the same request
        await through.refund(intent(PaymentStatus.CAPTURED, provider_charge_id="yk-1", refunded=5000), Money(5000))
        assert asked[2][2] != asked[0][2]  # the next part is another refund
    finally:
        await manual.close()
        await through.close()


# -- Telegram Stars -----------------------------------------------------------------------------------

async def test_stars_payments_are_read_back_and_refunded_once(shop):
    stars = TelegramStars(shop.fake.token, shop.fake.base_url)
    try:
        link = await stars.invoice_link("100 баллов", "Кофейня", "pack_1", 50)
        assert (shop.fake.invoice_by_link(link).currency, shop.fake.invoice_by_link(link).provider_token) == ("XTR", "")
        outcome = await shop.fake.pay_invoice_link(USER, link)
        await shop.fake.next_message(USER)  # the desk's thanks

        found = await stars.incoming(None)
        assert [(p.charge_id, p.user_id, p.payload, p.amount) for p in found] == [
            (outcome.charge_id, USER, "pack_1", 50)]
        assert found[0].at is not None
        assert await stars.incoming(datetime.now(UTC) + timedelta(hours=1)) == []

        assert await stars.refund(USER, outcome.charge_id) is True
        assert await stars.refund(USER, outcome.charge_id) is True  # CHARGE_ALREADY_REFUNDED: refunded before
        assert await stars.refund(USER, "stx-unknown") is False
        assert [p.charge_id for p in await stars.incoming(None)] == [outcome.charge_id]  # the refund is outgoing

        shop.fake.send_message(USER, "привет")  # Telegram's note of the refund never reached the conversation
        assert (await shop.fake.next_message(USER)).text == "Здравствуйте"
        assert [i.text for i in shop.handled] == ["привет"]
    finally:
        await stars.close()


async def test_stars_transactions_are_read_page_by_page(fake):
    for n in range(230):
        fake.star_transactions.append({
            "id": f"stx{n}", "amount": 1 + n % 3, "date": int(NOW.timestamp()) + n,
            "source": {"type": "user", "transaction_type": "invoice_payment", "user": {
                "id": USER, "is_bot": False, "first_name": "Аня"}, "invoice_payload": f"pack_{n}"}})
    fake.star_transactions.append({"id": "fragment", "amount": 5, "date": int(NOW.timestamp()),
                                   "source": {"type": "fragment"}})
    stars = TelegramStars(fake.token, fake.base_url)
    try:
        found = await stars.incoming(NOW + timedelta(seconds=200))
    finally:
        await stars.close()
    assert [p.charge_id for p in found] == [f"stx{n}" for n in range(200, 230)]
    assert [p["offset"] for p in fake.calls_of("getStarTransactions")] == [0, 100, 200]


async def test_stars_out_of_reach_are_unavailable(fake):
    stars = TelegramStars(fake.token, fake.base_url)
    try:
        for method, call in (("getStarTransactions", lambda: stars.incoming(None)),
                             ("refundStarPayment", lambda: stars.refund(USER, "stx1")),
                             ("createInvoiceLink", lambda: stars.invoice_link("Баллы", "", "pack_1", 50))):
            for status in (500, 0):
                fake.break_method(method, status=status)
                with pytest.raises(PaymentUnavailable):
                    await call()
    finally:
        await stars.close()
