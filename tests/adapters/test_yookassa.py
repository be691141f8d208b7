"""YooKassa payments through the adapter, talking HTTP to the fake YooKassa: held at checkout, captured,
released, refunded; retried requests done once; refusals, outages and wrong keys told apart; receipts
that add up to the kopeck; and the notification webhook served by a real aiohttp server."""
from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from fake_yookassa import FakeYookassa
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.yookassa import YookassaProvider, webhook_route
from adapters.yookassa.client import from_value, idempotence_key, to_value
from adapters.yookassa.receipts import allocate, items_total, payment_receipt
from journey.model import Order, OrderLine, PaymentIntent
from journey.money import Money
from journey.ports import Checkout, PaymentResult, PaymentUnavailable
from journey.states import OrderStatus, PaymentStatus

NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
RETURN = "https://shop.example/#/order/o_1"
CARD = (("Капучино", ("большой", "овсяное молоко"), 2, 17500),)


def make_order(lines=CARD, discount: int = 0, points: int = 0) -> Order:
    order_lines = tuple(OrderLine(f"i{n}", name, options, {}, quantity, Money(price))
                        for n, (name, options, quantity, price) in enumerate(lines))
    subtotal = sum(line.total.amount for line in order_lines)
    return Order("o_1", "c_1", "p_1", OrderStatus.PLACED, order_lines, Money(subtotal), Money(discount), points,
                 Money(subtotal - discount - points), NOW, "12", NOW, NOW, payment_provider="yookassa")


def make_intent(order: Order, status: PaymentStatus = PaymentStatus.PENDING, ref: str = "",
                refunded: int = 0) -> PaymentIntent:
    return PaymentIntent("pay_1", order.id, "yookassa", order.total, status, "k", provider_ref=ref,
                         refunded=refunded)


def checkout(order: Order, email: str = "") -> Checkout:
    return Checkout(order, "Заказ 12 — Кофейня", RETURN, "ru", email)


@pytest.fixture
async def fake():
    async with FakeYookassa() as server:
        yield server


@pytest.fixture
async def provider(fake):
    yk = YookassaProvider(fake.shop_id, fake.secret_key, fake.base_url)
    yield yk
    await yk.close()


async def held(fake: FakeYookassa, provider: YookassaProvider, order: Order | None = None) -> PaymentIntent:
    """A payment started and paid by the customer: held, as the engine records it."""
    order = order or make_order()
    started = await provider.start(make_intent(order), checkout(order))
    fake.pay(started.provider_ref)
    return make_intent(order, PaymentStatus.AUTHORIZED, started.provider_ref)


async def captured(fake: FakeYookassa, provider: YookassaProvider) -> PaymentIntent:
    intent = await held(fake, provider)
    assert (await provider.capture(intent)).status is PaymentStatus.CAPTURED
    return make_intent(make_order(), PaymentStatus.CAPTURED, intent.provider_ref)


# --- starting a payment ------------------------------------------------------------------------------

async def test_start_creates_a_held_payment_and_answers_where_to_pay(fake, provider):
    order = make_order()
    result = await provider.start(make_intent(order), checkout(order))
    assert result.status is PaymentStatus.PENDING and result.amount == 35000
    assert result.confirmation_url == f"{fake.root}/checkout/{result.provider_ref}"
    [call] = fake.calls
    assert (call.method, call.path, call.key) == ("POST", "payments", "pay_1:create")
    assert call.json == {"amount": {"value": "350.00", "currency": "RUB"}, "capture": False,
                         "confirmation": {"type": "redirect", "return_url": RETURN},
                         "description": "Заказ 12 — Кофейня", "metadata": {"order_id": "o_1", "payment_id": "pay_1"}}
    assert (provider.name, provider.online, provider.two_stage, provider.link) == (
        "yookassa", True, True, "confirmation_url")


async def test_a_start_retried_after_a_crash_makes_one_payment(fake, provider):
    order = make_order()
    fake.fail_next(1, status=500, after=True)  # YooKassa made the payment, the answer never came back
    with pytest.raises(PaymentUnavailable):
        await provider.start(make_intent(order), checkout(order))
    first = await provider.start(make_intent(order), checkout(order))
    again = await provider.start(make_intent(order), checkout(order))
    assert len(fake.payments) == 1 and first == again and first.provider_ref in fake.payments
    assert {call.key for call in fake.calls} == {"pay_1:create"}


async def test_a_long_description_is_cut_to_youkassas_128_characters(fake, provider):
    order = make_order()
    result = await provider.start(make_intent(order), Checkout(order, "Заказ " + "я" * 300, RETURN))
    assert result.status is PaymentStatus.PENDING and len(fake.calls[0].json["description"]) == 128


async def test_start_without_a_return_address_fails_without_asking(fake, provider):
    order = make_order()
    result = await provider.start(make_intent(order), Checkout(order, "Заказ 12"))
    assert result.status is PaymentStatus.FAILED and "comes back" in result.error and fake.calls == []


# --- what YooKassa says of a payment -----------------------------------------------------------------------

@pytest.mark.parametrize(("moves", "expected"), [
    ([], PaymentStatus.PENDING),
    (["pay"], PaymentStatus.AUTHORIZED),
    (["pay", "capture"], PaymentStatus.CAPTURED),
    (["pay", "capture", "refund_all"], PaymentStatus.REFUNDED),
    (["pay", "cancel"], PaymentStatus.VOIDED),
    (["pay", "expire_hold"], PaymentStatus.VOIDED),
    (["decline"], PaymentStatus.FAILED),
    (["abandon"], PaymentStatus.FAILED),
], ids=["pending", "waiting_for_capture", "succeeded", "refunded", "canceled_by_merchant", "expired_on_capture",
        "card_expired", "expired_on_confirmation"])
async def test_status_maps_every_state_of_a_payment(fake, provider, moves, expected):
    order = make_order()
    ref = (await provider.start(make_intent(order), checkout(order))).provider_ref
    intent = make_intent(order, ref=ref)
    for move in moves:
        if move == "pay":
            fake.pay(ref)
        elif move == "capture":
            await provider.capture(intent)
        elif move == "cancel":
            await provider.void(intent)
        elif move == "refund_all":
            await provider.refund(intent, Money(35000))
        elif move == "expire_hold":
            fake.expire_hold(ref)
        elif move == "decline":
            fake.decline(ref)
        elif move == "abandon":
            fake.decline(ref, "expired_on_confirmation")
    result = await provider.status(intent)
    assert (result.status, result.provider_ref, result.amount) == (expected, ref, 35000)
    assert result.refunded == (35000 if expected is PaymentStatus.REFUNDED else 0)
    assert fake.calls[-1].method == "GET" and fake.calls[-1].key is None


async def test_a_payment_never_registered_at_youkassa_answers_our_own_status(fake, provider):
    result = await provider.status(make_intent(make_order()))
    assert result.status is PaymentStatus.PENDING and result.provider_ref == "" and fake.calls == []


async def test_a_payment_youkassa_does_not_know_answers_our_status_with_the_reason(fake, provider):
    result = await provider.status(make_intent(make_order(), ref="2419a771-000f-5000-9000-1edaf29243f2"))
    assert result.status is PaymentStatus.PENDING and "Payment not found" in result.error


async def test_a_payment_id_cannot_reach_another_resource(fake, provider):
    result = await provider.status(make_intent(make_order(), ref="../refunds/x"))
    assert result.error and fake.calls[0].path == "payments/..%2Frefunds%2Fx"


# --- capture, void, refund ---------------------------------------------------------------------------------

async def test_capture_takes_the_held_amount_once(fake, provider):
    intent = await held(fake, provider)
    first = await provider.capture(intent)
    again = await provider.capture(intent)  # a second staff member, or a retry after a crash
    assert first.status is PaymentStatus.CAPTURED and first.amount == 35000 and again == first
    captures = [c for c in fake.calls if c.path.endswith("/capture")]
    assert {c.key for c in captures} == {"pay_1:capture"}
    assert captures[0].json == {"amount": {"value": "350.00", "currency": "RUB"}}


async def test_capture_of_an_unpaid_payment_is_refused_and_keeps_our_status(fake, provider):
    order = make_order()
    ref = (await provider.start(make_intent(order), checkout(order))).provider_ref
    result = await provider.capture(make_intent(order, ref=ref))
    assert result.status is PaymentStatus.PENDING and "can't be captured" in result.error
    assert fake.payments[ref]["status"] == "pending"


async def test_void_releases_the_hold(fake, provider):
    intent = await held(fake, provider)
    result = await provider.void(intent)
    assert result.status is PaymentStatus.VOIDED
    assert fake.calls[-1].path == f"payments/{intent.provider_ref}/cancel" and fake.calls[-1].key == "pay_1:cancel"
    assert fake.public(intent.provider_ref)["cancellation_details"]["reason"] == "canceled_by_merchant"


async def test_void_of_a_payment_not_held_is_refused(fake, provider):
    intent = await captured(fake, provider)
    result = await provider.void(intent)
    assert result.status is PaymentStatus.CAPTURED and "can't be canceled" in result.error


async def test_a_full_refund_reports_the_payment_refunded(fake, provider):
    intent = await captured(fake, provider)
    result = await provider.refund(intent, Money(35000))
    assert (result.status, result.refunded, result.error) == (PaymentStatus.REFUNDED, 35000, "")
    refund = next(c for c in fake.calls if c.path == "refunds")
    assert refund.key == "pay_1:refund:0:35000"
    assert refund.json == {"payment_id": intent.provider_ref, "amount": {"value": "350.00", "currency": "RUB"}}


async def test_partial_refunds_count_up_and_a_retried_one_is_done_once(fake, provider):
    intent = await captured(fake, provider)
    first = await provider.refund(intent, Money(10050))
    assert (first.status, first.refunded) == (PaymentStatus.CAPTURED, 10050)
    assert await provider.refund(intent, Money(10050)) == first  # the same request again: no second refund
    assert len(fake.refunds) == 1
    later = make_intent(make_order(), PaymentStatus.CAPTURED, intent.provider_ref, refunded=10050)
    rest = await provider.refund(later, Money(24950))
    assert (rest.status, rest.refunded) == (PaymentStatus.REFUNDED, 35000) and len(fake.refunds) == 2
    assert [c.key for c in fake.calls if c.path == "refunds"] == [
        "pay_1:refund:0:10050", "pay_1:refund:0:10050", "pay_1:refund:10050:24950"]


async def test_refunding_more_than_is_left_is_refused(fake, provider):
    intent = await captured(fake, provider)
    result = await provider.refund(intent, Money(35001))
    assert result.status is PaymentStatus.CAPTURED and result.refunded == 0 and "exceeds" in result.error
    assert fake.refunds == {}


async def test_a_telegram_charge_is_refunded_by_its_youkassa_payment_id(fake, provider):
    payment = fake.public(fake.pay(await _telegram_payment(fake))["id"])
    result = await provider.refund_payment(payment["id"], Money(35000), "pay_7:refund:0:35000")
    again = await provider.refund_payment(payment["id"], Money(35000), "pay_7:refund:0:35000")
    assert (result.status, result.provider_ref, result.refunded) == (PaymentStatus.REFUNDED, payment["id"], 35000)
    assert again == result and len(fake.refunds) == 1
    refused = await provider.refund_payment(payment["id"], Money(100), "pay_7:refund:35000:100")
    assert refused.error and refused.provider_ref == payment["id"]


async def _telegram_payment(fake: FakeYookassa) -> str:
    """A payment Telegram made through the shop's YooKassa account (captured at once)."""
    other = YookassaProvider(fake.shop_id, fake.secret_key, fake.base_url)
    try:
        body = {"amount": {"value": "350.00", "currency": "RUB"}, "capture": True,
                "confirmation": {"type": "redirect", "return_url": RETURN}}
        payment = await other.client.post("payments", body=body, key="telegram-charge-1")
    finally:
        await other.close()
    return str(payment["id"])


# --- refusals and outages ----------------------------------------------------------------------------------------

async def test_a_refusal_is_an_answer_with_youkassas_reason():
    async with FakeYookassa(receipts_required=True) as fake:
        provider = YookassaProvider(fake.shop_id, fake.secret_key, fake.base_url)
        try:
            order = make_order()
            result = await provider.start(make_intent(order), checkout(order))
        finally:
            await provider.close()
    assert result.status is PaymentStatus.FAILED and "Receipt is missing or illegal" in result.error
    assert "(receipt)" in result.error and fake.payments == {}


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_server_errors_and_rate_limits_mean_nothing_is_known(fake, provider, status):
    intent = await held(fake, provider)
    for call in (lambda: provider.start(make_intent(make_order()), checkout(make_order())),
                 lambda: provider.status(intent), lambda: provider.capture(intent), lambda: provider.void(intent),
                 lambda: provider.refund(intent, Money(100))):
        fake.fail_next(1, status=status)
        with pytest.raises(PaymentUnavailable, match=str(status)):
            await call()
    assert fake.payments[intent.provider_ref]["status"] == "waiting_for_capture" and fake.refunds == {}


async def test_a_timeout_means_nothing_is_known(fake):
    provider = YookassaProvider(fake.shop_id, fake.secret_key, fake.base_url, timeout=0.2)
    try:
        fake.stall_next(1)
        with pytest.raises(PaymentUnavailable, match="cannot be reached"):
            await provider.status(make_intent(make_order(), ref="x"))
        order = make_order()  # and the next request goes through on the same session
        assert (await provider.start(make_intent(order), checkout(order))).status is PaymentStatus.PENDING
    finally:
        await provider.close()


async def test_a_refused_connection_means_nothing_is_known():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    provider = YookassaProvider("1", "k", f"http://127.0.0.1:{port}/v3")
    try:
        with pytest.raises(PaymentUnavailable, match="cannot be reached"):
            await provider.start(make_intent(make_order()), checkout(make_order()))
    finally:
        await provider.close()


async def test_an_answer_that_is_not_a_payment_means_nothing_is_known(aiohttp_server):
    async def garbage(request: web.Request) -> web.Response:
        return web.Response(text="<html>maintenance</html>")

    app = web.Application()
    app.router.add_route("*", "/v3/{tail:.*}", garbage)
    server = await aiohttp_server(app)
    provider = YookassaProvider("1", "k", str(server.make_url("/v3/")))
    try:
        with pytest.raises(PaymentUnavailable, match="not its JSON"):
            await provider.status(make_intent(make_order(), ref="x"))
    finally:
        await provider.close()


async def test_a_long_answer_is_read_whole_and_an_endless_one_refused(aiohttp_server):
    payment = {"id": "p-1", "status": "pending", "amount": {"value": "350.00", "currency": "RUB"},
               "metadata": {"note": "x" * 300_000}}

    async def streamed(request: web.Request) -> web.StreamResponse:
        answer = web.StreamResponse(headers={"Content-Type": "application/json"})
        await answer.prepare(request)
        data = json.dumps(payment if request.match_info["tail"] == "payments/p-1" else
                          {**payment, "metadata": {"note": "x" * 2_000_000}}).encode()
        for start in range(0, len(data), 10_000):  # arrives in many pieces
            await answer.write(data[start:start + 10_000])
        await answer.write_eof()
        return answer

    app = web.Application()
    app.router.add_route("*", "/v3/{tail:.*}", streamed)
    server = await aiohttp_server(app)
    provider = YookassaProvider("1", "k", str(server.make_url("/v3/")))
    try:
        result = await provider.status(make_intent(make_order(), ref="p-1"))
        assert (result.status, result.amount) == (PaymentStatus.PENDING, 35000)
        with pytest.raises(PaymentUnavailable, match="not its JSON"):
            await provider.status(make_intent(make_order(), ref="p-2"))
    finally:
        await provider.close()


async def test_wrong_keys_are_told_plainly_naming_the_settings(fake):
    intent = make_intent(make_order(), PaymentStatus.AUTHORIZED, ref="x")
    for shop_id, key in ((fake.shop_id, "test_wrong"), ("000000", fake.secret_key)):
        provider = YookassaProvider(shop_id, key, fake.base_url)
        try:
            started = await provider.start(make_intent(make_order()), checkout(make_order()))
            assert started.status is PaymentStatus.FAILED
            assert "VITRINA_YOOKASSA__SHOP_ID" in started.error and "VITRINA_YOOKASSA__SECRET_KEY" in started.error
            assert shop_id in started.error and key not in started.error
            captured_ = await provider.capture(intent)
            assert captured_.status is PaymentStatus.AUTHORIZED and "VITRINA_YOOKASSA__SECRET_KEY" in captured_.error
            with pytest.raises(PaymentUnavailable, match="VITRINA_YOOKASSA__SHOP_ID"):
                await provider.status(intent)  # nothing could be asked: reconcile says so, a notice is repeated
        finally:
            await provider.close()
    assert fake.payments == {}


# --- receipts ------------------------------------------------------------------------------------------------------

LINES = (("Капучино", ("большой", "овсяное молоко"), 3, 17500), ("Круассан", (), 1, 12000),
         ("Вода", (), 7, 4900))


async def test_a_receipt_adds_up_exactly_with_a_discount_and_points(fake):
    provider = YookassaProvider(fake.shop_id, fake.secret_key, fake.base_url, receipts=True, vat_code=6)
    try:
        order = make_order(LINES, discount=8647, points=3333)  # 98800 less both: 86820
        result = await provider.start(make_intent(order), checkout(order, "guest@example.ru"))
    finally:
        await provider.close()
    assert result.status is PaymentStatus.PENDING  # the fake refuses items that do not add up
    [receipt] = fake.receipts
    assert receipt.kind == "payment" and receipt.data["customer"] == {"email": "guest@example.ru"}
    items = receipt.data["items"]
    assert items_total(receipt.data) == order.total.amount == 86820
    assert {i["description"] for i in items} == {"Капучино (большой, овсяное молоко)", "Круассан", "Вода"}
    assert all((i["vat_code"], i["payment_mode"], i["payment_subject"]) == (6, "full_prepayment", "commodity")
               for i in items)
    assert sum(int(i["quantity"].split(".")[0]) for i in items) == 11  # every unit is on the receipt
    assert fake.payments[result.provider_ref]["metadata"]["receipt_email"] == "guest@example.ru"


async def test_a_receipt_needs_the_customers_email(fake):
    provider = YookassaProvider(fake.shop_id, fake.secret_key, fake.base_url, receipts=True)
    try:
        result = await provider.start(make_intent(make_order()), checkout(make_order()))
    finally:
        await provider.close()
    assert result.status is PaymentStatus.FAILED and "e-mail" in result.error and fake.calls == []


async def test_a_refund_sends_its_receipt_to_the_same_address(fake):
    provider = YookassaProvider(fake.shop_id, fake.secret_key, fake.base_url, receipts=True)
    try:
        order = make_order(LINES, discount=1000)
        started = await provider.start(make_intent(order), checkout(order, "guest@example.ru"))
        fake.pay(started.provider_ref)
        intent = make_intent(order, PaymentStatus.AUTHORIZED, started.provider_ref)
        await provider.capture(intent)
        result = await provider.refund(make_intent(order, PaymentStatus.CAPTURED, started.provider_ref),
                                       Money(12345))
    finally:
        await provider.close()
    assert (result.status, result.refunded) == (PaymentStatus.CAPTURED, 12345)
    refund = fake.receipts[-1]
    assert refund.kind == "refund" and refund.data["customer"] == {"email": "guest@example.ru"}
    assert items_total(refund.data) == 12345


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 20), st.integers(1, 500_000)), min_size=1, max_size=30),
       st.integers(0, 100), st.integers(0, 100))
def test_receipt_items_always_add_up_to_the_payment(lines, discount_percent, points_percent):
    order = make_order(tuple((f"Товар {n}", (), q, p) for n, (q, p) in enumerate(lines)))
    subtotal = order.subtotal.amount
    paid = max(1, subtotal - subtotal * discount_percent // 100 - subtotal * points_percent // 200)
    receipt = payment_receipt(order, paid, "RUB", "a@b.ru", 1, "Заказ")
    assert items_total(receipt) == paid
    assert all(from_value(i["amount"]["value"]) > 0 for i in receipt["items"])
    assert len(receipt["items"]) <= 2 * len(lines)
    assert receipt == payment_receipt(order, paid, "RUB", "a@b.ru", 1, "Заказ")  # deterministic


def test_allocation_is_exact_and_gives_odd_kopecks_to_the_largest_remainders():
    assert allocate([1, 1, 1], 100) == [34, 33, 33]
    # 45071.3, 10302.0 and 29446.6 by proportion: the kopeck left over goes to the last
    assert allocate([17500 * 3, 12000, 4900 * 7], 84820) == [45071, 10302, 29447]
    assert sum(allocate([3, 5, 7], 1000)) == 1000


# --- amounts -------------------------------------------------------------------------------------------------------

def test_amounts_go_to_youkassa_as_exact_strings_and_come_back_as_integers():
    assert [to_value(v) for v in (0, 5, 100, 12345, 99999999999)] == [
        "0.00", "0.05", "1.00", "123.45", "999999999.99"]
    assert [from_value(v) for v in ("0.05", "123.45", "10", "10.5", "999999999.99")] == [
        5, 12345, 1000, 1050, 99999999999]
    for bad in (123.45, 0.1, "1e3", "-1.00", "1.234", "", None, True):
        with pytest.raises(ValueError):
            from_value(bad)
    half: Any = 1.5  # what a float would do, were one ever passed
    for bad in (half, -1, True):
        with pytest.raises(ValueError):
            to_value(bad)


def test_idempotence_keys_fit_youkassas_64_characters_and_stay_the_same():
    assert idempotence_key("pay_01hx", "refund", 0, 100) == "pay_01hx:refund:0:100"
    long = idempotence_key("x" * 80, "create")
    assert len(long) == 64 and long == idempotence_key("x" * 80, "create")


# --- notifications ---------------------------------------------------------------------------------------------------

class Notices:
    def __init__(self) -> None:
        self.seen: list[str] = []
        self.failure: Exception | None = None

    async def __call__(self, payment_id: str) -> None:
        if self.failure is not None:
            raise self.failure
        self.seen.append(payment_id)


@pytest.fixture
async def hook(aiohttp_client):
    notices = Notices()
    route = webhook_route(notices)
    app = web.Application()
    app.router.add_route(route.method, route.path, route.handler)
    client = await aiohttp_client(app)
    client.notices = notices
    return client


def notification(object_: object, event: str = "payment.waiting_for_capture") -> bytes:
    return json.dumps({"type": "notification", "event": event, "object": object_}).encode()


async def test_a_notification_names_the_payment_to_ask_about(hook):
    ref = "2419a771-000f-5000-9000-1edaf29243f2"
    answer = await hook.post("/webhooks/yookassa", data=notification({"id": ref, "status": "succeeded",
                                                                       "amount": {"value": "1.00"}}))
    assert answer.status == 200
    refund = notification({"id": "216749f7-0016-50be-b000-078d43a63ae4", "payment_id": ref}, "refund.succeeded")
    assert (await hook.post("/webhooks/yookassa", data=refund)).status == 200
    assert hook.notices.seen == [ref, ref]


@pytest.mark.parametrize("body", [
    b"", b"   ", b"not json", b"\xff\xfe{}", b"[]", b"null", b'"notification"',
    b'{"type": "notification"}', b'{"type": "other", "event": "payment.succeeded", "object": {"id": "a"}}',
    notification({"id": "a"}, "payout.succeeded"), notification(["a"]), notification({"id": 12345}),
    notification({"id": ""}), notification({"id": "../../admin"}), notification({"id": "a" * 65}),
    notification({"id": "a b"}), notification({"id": "a"}, "refund.succeeded"),
    b'{"type": "notification", "event": "payment.succeeded", "object": {"id": "a"}, "x": ' + b"[" * 5000
    + b"]" * 5000 + b"}",
    b'{"type": "notification", "event": "payment.succeeded", "object": {"id": NaN}}',
    notification({"id": "a", "padding": "x" * 70_000}),
], ids=["empty", "blank", "not-json", "not-utf8", "list", "null", "string", "no-event", "wrong-type",
        "payout", "object-list", "id-number", "id-empty", "id-path", "id-long", "id-space", "refund-no-payment",
        "nested", "nan", "too-large"])
async def test_a_malformed_notification_is_a_bad_request_never_a_crash(hook, body):
    answer = await hook.post("/webhooks/yookassa", data=body)
    assert answer.status == 400
    error = await answer.json()
    assert error["error"] == "bad_request" and error["message"]
    assert hook.notices.seen == []


async def test_a_notification_is_answered_503_when_youkassa_cannot_be_asked(hook):
    hook.notices.failure = PaymentUnavailable("YooKassa answered HTTP 500")
    answer = await hook.post("/webhooks/yookassa", data=notification({"id": "abc-1"}))
    assert answer.status == 503 and (await answer.json())["error"] == "unavailable"
    hook.notices.failure = RuntimeError("database is locked")
    assert (await hook.post("/webhooks/yookassa", data=notification({"id": "abc-1"}))).status == 503


async def test_youkassas_notification_leads_to_asking_youkassa_again(fake, provider, aiohttp_client):
    order = make_order()
    started = await provider.start(make_intent(order), checkout(order))
    said: list[PaymentResult] = []

    async def on_notice(payment_id: str) -> None:  # what the engine does: ask again by id, never trust the body
        said.append(await provider.status(make_intent(order, ref=payment_id)))

    route = webhook_route(on_notice)
    app = web.Application()
    app.router.add_route(route.method, route.path, route.handler)
    client = await aiohttp_client(app)
    fake.pay(started.provider_ref)
    assert await fake.notify(str(client.make_url("/webhooks/yookassa")), started.provider_ref) == 200
    assert [s.status for s in said] == [PaymentStatus.AUTHORIZED]
    fake.fail_next(1, status=500)
    assert await fake.notify(str(client.make_url("/webhooks/yookassa")), started.provider_ref) == 503
