"""Gifts through the Mini App API, paid on the fake YooKassa: bought in Telegram, taken in VK, ordered at a
point and handed over with the friend's own QR; what must be refused (an unknown or forged code, the
giver's own gift, a second taker, an unpaid or expired gift, a double hand-over); a duplicated
notification changes nothing, and an unredeemed gift expires with its money back to the giver."""
from __future__ import annotations

from api_support import ok, refused
from fake_yookassa import FakeYookassa

from journey.events import EventType

WEBHOOK = "/webhooks/yookassa"


def captures(fake: FakeYookassa, ref: str) -> list:
    return [c for c in fake.calls if c.method == "POST" and c.path.endswith(f"payments/{ref}/capture")]


async def buy_paid(api, yookassa: FakeYookassa, headers, **body) -> tuple[dict, str]:
    """A gift bought and paid on YooKassa's page, YooKassa's notification repeated."""
    bought = await ok(await api.post("/api/gifts", json={"item": "latte", "payment": "yookassa", **body},
                                     headers=headers), 201)
    ref = next(r for r, p in yookassa.payments.items() if p["metadata"]["order_id"].startswith("gift_")
               and p["status"] == "pending")
    yookassa.pay(ref)
    for _ in range(2):  # YooKassa repeats its notifications
        await yookassa.notify(str(api.server.make_url(WEBHOOK)), ref)
    return bought, ref


async def test_a_gift_bought_in_telegram_is_picked_up_by_a_friend_in_vk(api, paying, tma, vk, staff, yookassa):
    anna, boris = tma(5001, first_name="Анна"), vk(7001)
    offer = await ok(await api.get("/api/gifts/offer", headers=anna))
    assert offer["payments"] == ["yookassa"] and offer["days"] == 30
    assert [m["amount"] for m in offer["amounts"]] == [30000, 50000, 100000]

    bought = await ok(await api.post("/api/gifts", json={"item": "latte", "message": "С днём рождения!",
                                                         "payment": "yookassa"}, headers=anna), 201)
    code = bought["code"]
    assert bought["status"] == "awaiting_payment" and bought["giver"] and bought["title"] == "Латте"
    assert bought["start"] == f"g{code}" and bought["link"] == f"https://shop.example/go/g{code}"
    assert bought["payment_link"].startswith(yookassa.base_url.split("/v3/")[0])
    (created,) = [c for c in yookassa.calls if c.method == "POST" and c.path.endswith("payments")]
    assert created.json["amount"]["value"] == f"{bought['amount']['amount'] // 100}.00"
    # not paid yet: nobody can take it
    await refused(await api.post(f"/api/gifts/{code}/claim", headers=boris), 409, "gift_unavailable")

    ref = next(iter(yookassa.payments))
    yookassa.pay(ref)
    for _ in range(3):  # YooKassa repeats its notifications: the hold is captured once
        await yookassa.notify(str(api.server.make_url(WEBHOOK)), ref)
    assert len(captures(yookassa, ref)) == 1 and yookassa.payments[ref]["status"] == "succeeded"
    paid = await ok(await api.get(f"/api/gifts/{code}", headers=anna))
    assert paid["status"] == "active" and paid["expires_at"] and paid["payment_link"] is None
    assert not paid["claimable"]  # the giver's own

    seen = await ok(await api.get(f"/api/gifts/{code}", headers=boris))
    assert (seen["from_name"], seen["title"], seen["message"]) == ("Анна", "Латте", "С днём рождения!")
    assert seen["claimable"] and not seen["giver"] and not seen["taker"]
    await refused(await api.post(f"/api/gifts/{code}/claim", headers=anna), 403, "gift_own")
    taken = await ok(await api.post(f"/api/gifts/{code}/claim", headers=boris))
    assert taken["status"] == "claimed" and taken["taker"]
    again = await ok(await api.post(f"/api/gifts/{code}/claim", headers=boris))  # the same answer
    assert again["status"] == "claimed"
    await refused(await api.post(f"/api/gifts/{code}/claim", headers=tma(6001)), 409, "gift_taken")
    await refused(await api.post(f"/api/gifts/{code}/order", json={"point": "center"}, headers=tma(6001)),
                  409, "gift_taken")

    order = await ok(await api.post(f"/api/gifts/{code}/order", json={"point": "center"}, headers=boris), 201)
    assert order["total"]["amount"] == 0 and order["payment"]["provider"] == "counter"
    assert [line["item"] for line in order["lines"]] == ["latte"]
    await refused(await api.post(f"/api/gifts/{code}/order", json={"point": "center"}, headers=boris),
                  409, "gift_unavailable")  # one order at a time
    for step in ("accept", "ready"):
        await ok(await api.post(f"/api/staff/orders/{order['id']}/{step}", headers=staff))
    given = await ok(await api.post("/api/staff/handover", json={"token": order["pickup_token"]}, headers=staff))
    assert given["status"] == "picked_up"
    await refused(await api.post("/api/staff/handover", json={"token": order["pickup_token"]}, headers=staff),
                  409, "already_picked_up")
    done = await ok(await api.get(f"/api/gifts/{code}", headers=boris))
    assert done["status"] == "redeemed" and not done["claimable"]
    await yookassa.notify(str(api.server.make_url(WEBHOOK)), ref)  # late and repeated: nothing moves
    assert (await ok(await api.get(f"/api/gifts/{code}", headers=anna)))["status"] == "redeemed"
    assert len(captures(yookassa, ref)) == 1
    mine = await ok(await api.get("/api/gifts", headers=anna))
    assert [g["code"] for g in mine["gifts"]] == [code]


async def test_unknown_and_forged_codes_are_refused(api, tma, vk, yookassa):
    bought, _ = await buy_paid(api, yookassa, tma(5001))
    code = bought["code"]
    for wrong in ("nosuchgift12345678", code[:-1] + ("A" if code[-1] != "A" else "B"), code.lower() if
                  code.lower() != code else code.upper(), "x"):
        await refused(await api.get(f"/api/gifts/{wrong}", headers=vk(7001)), 404, "gift_not_found")
        await refused(await api.post(f"/api/gifts/{wrong}/claim", headers=vk(7001)), 404, "gift_not_found")


async def test_an_amount_covers_up_to_itself_and_the_rest_is_paid(api, tma, vk, yookassa):
    bought = await ok(await api.post("/api/gifts", json={"amount": 30000, "payment": "yookassa"},
                                     headers=tma(5001)), 201)
    assert bought["item"] is None and bought["amount"]["amount"] == 30000
    ref = next(iter(yookassa.payments))
    yookassa.pay(ref)
    await yookassa.notify(str(api.server.make_url(WEBHOOK)), ref)
    code = bought["code"]
    await ok(await api.post(f"/api/gifts/{code}/claim", headers=vk(7001)))
    await refused(await api.post(f"/api/gifts/{code}/order", json={"point": "center"}, headers=vk(7001)),
                  400, "empty_cart")
    lines = [{"item": "espresso", "quantity": 3}]  # 450 ₽: 300 ₽ from the gift, 150 ₽ at the counter
    order = await ok(await api.post(f"/api/gifts/{code}/order", json={"point": "center", "lines": lines},
                                    headers=vk(7001)), 201)
    assert (order["subtotal"]["amount"], order["discount"]["amount"], order["total"]["amount"]) == (45000, 30000,
                                                                                                    15000)
    # an amount the shop does not offer, an item and an amount at once, or the counter: refused
    await refused(await api.post("/api/gifts", json={"amount": 12345, "payment": "yookassa"}, headers=tma(5001)),
                  400, "bad_input")
    await refused(await api.post("/api/gifts", json={"item": "latte", "amount": 30000, "payment": "yookassa"},
                                 headers=tma(5001)), 400, "bad_input")
    await refused(await api.post("/api/gifts", json={"item": "latte", "payment": "counter"}, headers=tma(5001)),
                  409, "payment_provider_unknown")


async def test_a_cancelled_order_frees_the_gift_for_another(api, tma, vk, staff, yookassa):
    bought, _ = await buy_paid(api, yookassa, tma(5001))
    code = bought["code"]
    await ok(await api.post(f"/api/gifts/{code}/claim", headers=vk(7001)))
    first = await ok(await api.post(f"/api/gifts/{code}/order", json={"point": "center"}, headers=vk(7001)), 201)
    await ok(await api.post(f"/api/orders/{first['id']}/cancel", headers=vk(7001)))
    second = await ok(await api.post(f"/api/gifts/{code}/order", json={"point": "park"}, headers=vk(7001)), 201)
    assert second["id"] != first["id"] and second["total"]["amount"] == 0


async def test_a_declined_payment_leaves_no_gift_to_take(api, tma, vk, yookassa):
    bought = await ok(await api.post("/api/gifts", json={"item": "latte", "payment": "yookassa"},
                                     headers=tma(5001)), 201)
    ref = next(iter(yookassa.payments))
    yookassa.decline(ref)
    await yookassa.notify(str(api.server.make_url(WEBHOOK)), ref)
    assert (await ok(await api.get(f"/api/gifts/{bought['code']}", headers=tma(5001))))["status"] == "failed"
    await refused(await api.post(f"/api/gifts/{bought['code']}/claim", headers=vk(7001)), 409, "gift_unavailable")
    assert captures(yookassa, ref) == []


async def test_an_unredeemed_gift_expires_and_the_giver_is_refunded(api, paying, clock, db, tma, vk, yookassa):
    bought, ref = await buy_paid(api, yookassa, tma(5001))
    code = bought["code"]
    await ok(await api.post(f"/api/gifts/{code}/claim", headers=vk(7001)))
    clock.advance(days=30, minutes=1)
    await paying.expire_due()
    await paying.expire_due()  # a second sweep refunds nothing twice
    assert yookassa.payments[ref]["refunded_amount"]["value"] == yookassa.payments[ref]["amount"]["value"]
    assert len([c for c in yookassa.calls if c.method == "POST" and c.path.endswith("refunds")]) == 1
    gone = await ok(await api.get(f"/api/gifts/{code}", headers=tma(5001)))
    assert gone["status"] == "refunded"
    await refused(await api.post(f"/api/gifts/{code}/order", json={"point": "center"}, headers=vk(7001)),
                  409, "gift_unavailable")
    async with db.reading() as uow:
        kinds = [e.type for e in await uow.outbox.pending("test", 100)]
    assert EventType.GIFT_EXPIRED in kinds and EventType.GIFT_REFUNDED in kinds
