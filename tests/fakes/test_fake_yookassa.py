"""The fake YooKassa keeps YooKassa's rules, so the adapter's tests prove something: asked over plain HTTP
with aiohttp, as any client would."""
from __future__ import annotations

import asyncio
import base64
from typing import Any

import aiohttp
import pytest
from fake_yookassa import FakeYookassa

RETURN = "https://shop.example/#/order/o_1"


def basic(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


class Api:
    def __init__(self, fake: FakeYookassa, session: aiohttp.ClientSession) -> None:
        self.fake, self.session = fake, session
        self.auth = basic(fake.shop_id, fake.secret_key)

    async def call(self, method: str, path: str, body: Any = None, key: str | None = None,
                   auth: str | None = None) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": auth or self.auth, **({"Idempotence-Key": key} if key is not None else {})}
        async with self.session.request(method, self.fake.base_url + path, json=body, headers=headers) as answer:
            return answer.status, await answer.json()

    async def create(self, value: str = "350.00", key: str = "pay_1:create", **extra: Any) -> dict[str, Any]:
        body = {"amount": {"value": value, "currency": "RUB"}, "capture": False,
                "confirmation": {"type": "redirect", "return_url": RETURN}, "description": "Заказ 12",
                "metadata": {"order_id": "o_1"}, **extra}
        status, payment = await self.call("POST", "payments", body, key)
        assert status == 200, payment
        return payment


@pytest.fixture
async def api():
    async with FakeYookassa() as fake, aiohttp.ClientSession() as session:
        yield Api(fake, session)


async def test_a_payment_is_created_pending_with_a_page_to_pay_on(api):
    payment = await api.create()
    assert payment["status"] == "pending" and payment["paid"] is False
    assert payment["amount"] == {"value": "350.00", "currency": "RUB"}
    assert payment["confirmation"]["confirmation_url"] == f"{api.fake.root}/checkout/{payment['id']}"
    async with api.session.get(payment["confirmation"]["confirmation_url"]) as page:
        assert page.status == 200 and "350.00" in await page.text()
    status, again = await api.call("GET", f"payments/{payment['id']}")
    assert status == 200 and again == payment
    assert api.fake.calls[0].key == "pay_1:create" and api.fake.calls[0].json["capture"] is False


async def test_wrong_keys_are_refused_with_youkassas_error(api):
    for auth in (basic(api.fake.shop_id, "test_wrong"), basic("1", api.fake.secret_key), "Bearer x", "Basic !!"):
        status, error = await api.call("GET", "payments/x", auth=auth)
        assert status == 401 and error["type"] == "error" and error["code"] == "invalid_credentials"
    async with api.session.post(api.fake.base_url + "payments", json={}, headers={"Idempotence-Key": "k"}) as r:
        assert r.status == 401
    assert api.fake.payments == {}


async def test_a_post_without_an_idempotence_key_is_refused_and_does_nothing(api):
    body = {"amount": {"value": "1.00", "currency": "RUB"},
            "confirmation": {"type": "redirect", "return_url": RETURN}}
    status, error = await api.call("POST", "payments", body)
    assert status == 400 and (error["code"], error["parameter"]) == ("invalid_request", "Idempotence-Key")
    status, error = await api.call("POST", "payments", body, key="k" * 65)
    assert status == 400 and error["parameter"] == "Idempotence-Key"
    assert api.fake.payments == {}


async def test_the_same_key_and_request_is_answered_again_without_a_second_payment(api):
    first = await api.create()
    api.fake.pay(first["id"])
    second = await api.create()
    assert second == first  # the first answer, as it was
    assert len(api.fake.payments) == 1
    status, error = await api.call("POST", "payments", {"amount": {"value": "1.00", "currency": "RUB"},
                                                        "confirmation": {"type": "redirect", "return_url": RETURN}},
                                   key="pay_1:create")
    assert status == 400 and error["description"] == "Idempotence key duplicated"
    assert len(api.fake.payments) == 1


async def test_amounts_must_be_strings_with_two_decimals(api):
    for n, bad in enumerate((350, 350.0, "350", "350.5", "-1.00", "0.00")):
        status, error = await api.call("POST", "payments", {
            "amount": {"value": bad, "currency": "RUB"},
            "confirmation": {"type": "redirect", "return_url": RETURN}}, key=f"k{n}")
        assert status == 400 and error["parameter"] == "amount.value", bad
    status, error = await api.call("POST", "payments", {
        "amount": {"value": "1.00", "currency": "RUB"}, "description": "x" * 129,
        "confirmation": {"type": "redirect", "return_url": RETURN}}, key="long")
    assert status == 400 and error["parameter"] == "description"
    assert api.fake.payments == {}


async def test_capture_only_a_held_payment_and_never_more_than_held(api):
    payment = await api.create()
    path = f"payments/{payment['id']}/capture"
    status, error = await api.call("POST", path, {"amount": {"value": "350.00", "currency": "RUB"}}, "c1")
    assert status == 400 and "pending" in error["description"]
    api.fake.pay(payment["id"])
    status, error = await api.call("POST", path, {"amount": {"value": "350.01", "currency": "RUB"}}, "c2")
    assert status == 400 and error["parameter"] == "amount"
    status, captured = await api.call("POST", path, {"amount": {"value": "300.00", "currency": "RUB"}}, "c3")
    assert status == 200 and captured["status"] == "succeeded" and captured["amount"]["value"] == "300.00"


async def test_cancel_only_a_held_payment(api):
    payment = await api.create()
    status, error = await api.call("POST", f"payments/{payment['id']}/cancel", {}, "x1")
    assert status == 400 and api.fake.payments[payment["id"]]["status"] == "pending"
    api.fake.pay(payment["id"])
    status, canceled = await api.call("POST", f"payments/{payment['id']}/cancel", {}, "x2")
    assert status == 200 and canceled["status"] == "canceled"
    assert canceled["cancellation_details"] == {"party": "merchant", "reason": "canceled_by_merchant"}
    status, error = await api.call("POST", f"payments/{payment['id']}/capture", {}, "x3")
    assert status == 400 and "canceled" in error["description"]


async def test_refunds_only_of_succeeded_payments_and_never_more_than_paid(api):
    payment = await api.create()
    refund = {"payment_id": payment["id"], "amount": {"value": "100.00", "currency": "RUB"}}
    status, error = await api.call("POST", "refunds", refund, "r0")
    assert status == 400
    api.fake.pay(payment["id"])
    await api.call("POST", f"payments/{payment['id']}/capture", {}, "c")
    status, first = await api.call("POST", "refunds", refund, "r1")
    assert status == 200 and first["status"] == "succeeded" and first["payment_id"] == payment["id"]
    assert api.fake.public(payment["id"])["refunded_amount"]["value"] == "100.00"
    too_much = {**refund, "amount": {"value": "250.01", "currency": "RUB"}}
    status, error = await api.call("POST", "refunds", too_much, "r2")
    assert status == 400 and error["parameter"] == "amount"
    status, _ = await api.call("POST", "refunds", {**refund, "amount": {"value": "250.00", "currency": "RUB"}}, "r3")
    assert status == 200
    paid = api.fake.public(payment["id"])
    assert paid["status"] == "succeeded" and paid["refunded_amount"]["value"] == "350.00" and not paid["refundable"]
    assert len(api.fake.refunds) == 2


async def test_the_customer_and_the_bank_move_payments(api):
    declined, expired, taken = await api.create(key="a"), await api.create(key="b"), await api.create(key="c",
                                                                                                    capture=True)
    api.fake.decline(declined["id"])
    assert api.fake.public(declined["id"])["cancellation_details"] == {"party": "payment_network",
                                                                        "reason": "card_expired"}
    api.fake.pay(expired["id"])
    assert api.fake.public(expired["id"])["status"] == "waiting_for_capture"
    api.fake.expire_hold(expired["id"])
    assert api.fake.public(expired["id"])["cancellation_details"]["reason"] == "expired_on_capture"
    api.fake.pay(taken["id"])
    assert api.fake.public(taken["id"])["status"] == "succeeded"
    with pytest.raises(ValueError):
        api.fake.pay(declined["id"])


async def test_a_receipt_must_add_up_to_the_payment(api):
    item = {"description": "Капучино", "quantity": "2.00", "amount": {"value": "175.00", "currency": "RUB"},
            "vat_code": 1, "payment_mode": "full_prepayment", "payment_subject": "commodity"}
    receipt = {"customer": {"email": "a@b.ru"}, "items": [item]}
    await api.create(receipt=receipt)
    assert api.fake.receipts[0].data == receipt
    status, error = await api.call("POST", "payments", {
        "amount": {"value": "349.99", "currency": "RUB"}, "receipt": receipt,
        "confirmation": {"type": "redirect", "return_url": RETURN}}, key="other")
    assert status == 400 and error["parameter"] == "receipt.items"
    assert len(api.fake.payments) == 1 and len(api.fake.receipts) == 1


async def test_a_shop_with_receipts_on_needs_one_with_every_payment():
    async with FakeYookassa(receipts_required=True) as fake, aiohttp.ClientSession() as session:
        status, error = await Api(fake, session).call("POST", "payments", {
            "amount": {"value": "1.00", "currency": "RUB"},
            "confirmation": {"type": "redirect", "return_url": RETURN}}, key="k")
        assert status == 400 and error["parameter"] == "receipt" and fake.payments == {}


async def test_faults_fail_requests_before_or_after_doing_them(api):
    api.fake.fail_next(1, status=500)
    status, error = await api.call("POST", "payments", {"amount": {"value": "1.00", "currency": "RUB"},
                                                        "confirmation": {"type": "redirect", "return_url": RETURN}},
                                   key="k")
    assert status == 500 and error["code"] == "internal_server_error" and api.fake.payments == {}
    api.fake.fail_next(1, status=429, after=True)
    status, error = await api.call("POST", "payments", {"amount": {"value": "1.00", "currency": "RUB"},
                                                        "confirmation": {"type": "redirect", "return_url": RETURN}},
                                   key="k")
    assert status == 429 and error["code"] == "too_many_requests" and len(api.fake.payments) == 1
    status, payment = await api.call("POST", "payments", {"amount": {"value": "1.00", "currency": "RUB"},
                                                          "confirmation": {"type": "redirect", "return_url": RETURN}},
                                     key="k")
    assert status == 200 and list(api.fake.payments) == [payment["id"]]


async def test_a_stalled_request_is_never_answered(api):
    api.fake.stall_next()
    with pytest.raises(asyncio.TimeoutError):
        async with asyncio.timeout(0.2):
            await api.call("GET", "payments/x")
    status, _ = await api.call("GET", "payments/x")
    assert status == 404


async def test_notify_posts_the_notification_as_youkassa_does(api, aiohttp_server):
    from aiohttp import web

    seen = []

    async def hook(request):
        seen.append(await request.json())
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/webhooks/yookassa", hook)
    server = await aiohttp_server(app)
    payment = await api.create()
    api.fake.pay(payment["id"])
    assert await api.fake.notify(str(server.make_url("/webhooks/yookassa")), payment["id"]) == 200
    assert seen[0]["type"] == "notification" and seen[0]["event"] == "payment.waiting_for_capture"
    assert seen[0]["object"]["id"] == payment["id"]
