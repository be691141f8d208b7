"""YooKassa through the Mini App's API and its webhook, against the fake YooKassa server on loopback.

An order paid by card is held (``capture: false``), hidden from the staff until YooKassa says the money is
held, captured exactly once when the staff hand it over, and released when it is cancelled; a forged or
duplicated notification changes nothing it should not, and a lost one is recovered by reconcile
(``vitrina payments reconcile`` as a process: tests/bot/test_payments_cli.py).
"""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from fake_yookassa import FakeYookassa

from adapters.yookassa import YookassaProvider
from bot.payments import close
from journey.engine import Engine
from webapp import create_app

WEBHOOK = "/webhooks/yookassa"


def captures(fake: FakeYookassa, payment_id: str) -> list[dict]:
    return [c for c in fake.calls if c.method == "POST" and c.path.endswith(f"payments/{payment_id}/capture")]


async def place(api, tma, order_body, user: int = 5001) -> dict:
    answer = await api.post("/api/orders", json=order_body(payment="yookassa"), headers=tma(user))
    assert answer.status == 201, await answer.text()
    return await answer.json()


async def order(api, headers, order_id: str) -> dict:
    return await (await api.get(f"/api/orders/{order_id}", headers=headers)).json()


async def board(api, staff) -> list[str]:
    return [o["id"] for o in (await (await api.get("/api/staff/orders", headers=staff)).json())["orders"]]


async def test_a_card_payment_is_held_shown_to_staff_once_paid_and_captured_once(api, tma, staff, order_body,
                                                                                  yookassa):
    placed = await place(api, tma, order_body)
    pay = placed["payment"]
    assert pay["provider"] == "yookassa" and pay["status"] == "pending" and pay["invoice_link"] is None
    assert pay["confirmation_url"].startswith(yookassa.base_url.split("/v3/")[0])
    (created,) = [c for c in yookassa.calls if c.method == "POST" and c.path.endswith("payments")]
    assert created.json["capture"] is False and created.json["amount"] == {"value": "880.00", "currency": "RUB"}
    assert created.key
    ref = next(iter(yookassa.payments))
    # a Telegram customer comes back to a page that leads into Telegram: the Mini App follows the payment
    assert created.json["confirmation"]["return_url"] == f"https://shop.example/paid?order={placed['id']}"
    back = await (await api.get(f"/paid?order={placed['id']}")).text()
    assert "Оплата обрабатывается" in back and "https://t.me/vitrina_test_bot" in back and placed["id"] not in back
    assert await board(api, staff) == []  # not the staff's before the money

    yookassa.pay(ref)
    for _ in range(2):  # YooKassa repeats its notifications
        await yookassa.notify(str(api.server.make_url(WEBHOOK)), ref)
    held = await order(api, tma(5001), placed["id"])
    assert held["payment"]["status"] == "authorized" and held["payment"]["confirmation_url"] is None
    assert await board(api, staff) == [placed["id"]]

    for step in ("accept", "ready"):
        assert (await api.post(f"/api/staff/orders/{placed['id']}/{step}", headers=staff)).status == 200
    given = await api.post("/api/staff/handover", json={"token": held["pickup_token"]}, headers=staff)
    assert given.status == 200 and (await given.json())["payment"]["status"] == "captured"
    again = await api.post("/api/staff/handover", json={"token": held["pickup_token"]}, headers=staff)
    assert again.status == 409
    assert len(captures(yookassa, ref)) == 1 and yookassa.payments[ref]["status"] == "succeeded"


async def test_a_cancelled_order_releases_the_hold(api, tma, order_body, yookassa):
    placed = await place(api, tma, order_body)
    ref = next(iter(yookassa.payments))
    yookassa.pay(ref)
    await yookassa.notify(str(api.server.make_url(WEBHOOK)), ref)
    cancelled = await api.post(f"/api/orders/{placed['id']}/cancel", headers=tma(5001))
    body = await cancelled.json()
    assert body["status"] == "cancelled" and body["payment"]["status"] == "voided"
    assert yookassa.payments[ref]["status"] == "canceled" and captures(yookassa, ref) == []


async def test_a_notification_is_never_trusted(api, tma, order_body, yookassa):
    placed = await place(api, tma, order_body)
    ref = next(iter(yookassa.payments))
    held = {"id": ref, "status": "waiting_for_capture"}  # what a forger would say
    forged = {"type": "notification", "event": "payment.waiting_for_capture", "object": held}
    assert (await api.post(WEBHOOK, json=forged)).status == 200  # recorded: YooKassa said it is still pending
    assert (await order(api, tma(5001), placed["id"]))["payment"]["status"] == "pending"
    unknown = {**forged, "object": {"id": "2f0e0000-000f-5000-8000-000000000000"}}
    assert (await api.post(WEBHOOK, json=unknown)).status == 200
    for junk in (b"", b"{", b"\xff\xfe", b'{"object": []}'):
        answer = await api.post(WEBHOOK, data=junk, headers={"Content-Type": "application/json"})
        assert answer.status == 400, junk


async def test_a_lost_notification_is_recovered_by_reconcile(api, paying, tma, staff, order_body, yookassa):
    placed = await place(api, tma, order_body)
    ref = next(iter(yookassa.payments))
    yookassa.pay(ref)  # ... and the notification never arrives
    assert await board(api, staff) == []
    done = await paying.reconcile()
    assert (done.checked, done.changed) == (1, 1)
    assert (await order(api, tma(5001), placed["id"]))["payment"]["status"] == "authorized"
    assert await board(api, staff) == [placed["id"]]
    assert (await paying.reconcile()).changed == 0


async def test_with_receipts_the_checkout_needs_an_email(aiohttp_client, db, clock, engine, config, qr, tma,
                                                         order_body):
    async with FakeYookassa(receipts_required=True) as fake:
        provider = YookassaProvider(fake.shop_id, fake.secret_key, fake.base_url, receipts=True, vat_code=4)
        shop = Engine(db.uow, secret=engine.secret, clock=clock, reader=db.reading, providers={"yookassa": provider})
        api = await aiohttp_client(create_app(shop, replace(config, receipt_email=True), qr))
        try:
            assert (await (await api.get("/api/config")).json())["receipt_email"] is True
            refused = await api.post("/api/orders", json=order_body(payment="yookassa"), headers=tma(5001))
            assert refused.status == 400 and (await refused.json())["error"] == "email_required"
            assert (await (await api.get("/api/orders", headers=tma(5001))).json())["orders"] == []
            bad = await api.post("/api/orders", json=order_body(payment="yookassa", email="no-at-sign"),
                                 headers=tma(5001))
            assert bad.status == 400
            placed = await api.post("/api/orders", json=order_body(payment="yookassa", email="anya@example.ru"),
                                    headers=tma(5001))
            assert placed.status == 201, await placed.text()
            (receipt,) = fake.receipts
            items = receipt.data["items"]
            assert receipt.data["customer"]["email"] == "anya@example.ru"
            assert {i["vat_code"] for i in items} == {4}
            assert sum(Decimal(i["amount"]["value"]) * Decimal(i["quantity"]) for i in items) == Decimal("880.00")
        finally:
            await close(provider)
