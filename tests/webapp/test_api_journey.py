"""A customer's whole journey through the API, and what staff and customers may not do."""
from __future__ import annotations

import pytest
from api_support import ok

from journey.channels import Channel, CustomerRef
from journey.errors import ErrorCode

CART_TOTAL = 2 * (25000 + 4000 + 6000) + 18000  # the ``cart`` fixture: 880 ₽
EARNED = CART_TOTAL * 5 // 100  # ShopRules.earn_percent


async def refused(response, status: int, code: ErrorCode, language: str = "ru") -> dict:
    assert response.status == status, await response.text()
    body = await response.json()
    assert body["error"] == code.value and body["message"] == code.message(language)
    return body


async def place(client, headers, order_body, **changes) -> dict:
    return await ok(await client.post("/api/orders", json=order_body(**changes), headers=headers), 201)


async def fulfil(client, staff, order: dict) -> dict:
    for step in ("accept", "ready"):
        await ok(await client.post(f"/api/staff/orders/{order['id']}/{step}", headers=staff))
    return await ok(await client.post("/api/staff/handover", json={"token": order["pickup_token"]}, headers=staff))


async def test_whole_journey(client, tma, staff, cart, order_body):
    anna = tma(5001)
    menu = await ok(await client.get("/api/menu?point=center", headers=anna))
    items = {i["id"]: i for i in menu["items"]}
    assert [c["id"] for c in menu["categories"]] == ["coffee", "bakery"]
    assert items["croissant"]["stock"] == 10 and items["latte"]["stock"] is None
    assert items["latte"]["price"] == {"amount": 25000, "currency": "RUB", "text": "250 ₽"}
    assert [g["id"] for g in items["latte"]["options"]] == ["size", "milk", "syrup"]

    quote = await ok(await client.post("/api/cart/quote", json=cart, headers=anna))
    assert quote["total"]["amount"] == CART_TOTAL and quote["balance"] == 0
    assert quote["lines"][0]["options"] == ["M", "Овсяное"] and quote["lines"][0]["unit_price"]["amount"] == 35000

    order = await place(client, anna, order_body, request_id="first-try")
    assert order["status"] == "placed" and order["total"]["amount"] == CART_TOTAL
    assert order["point"] == {"id": "center", "name": "Центр", "address": "ул. Пушкина, 10"}
    assert order["number"] == order["short_code"] and len(order["short_code"]) == 4
    assert order["payment"] == {"provider": "counter", "status": "pending", "confirmation_url": None,
                                "invoice_link": None, "refunded": None}
    assert order["qr"] == f"/api/orders/{order['id']}/qr.svg" and "customer" not in order
    again = await place(client, anna, order_body, request_id="first-try")  # a retried request
    assert again["id"] == order["id"]

    shown = await ok(await client.get(f"/api/orders/{order['id']}", headers=anna))
    assert shown["status"] == "placed" and [h["status"] for h in shown["history"]] == ["placed"]
    menu = await ok(await client.get("/api/menu?point=center", headers=anna))
    assert {i["id"]: i for i in menu["items"]}["croissant"]["stock"] == 9

    queue = await ok(await client.get("/api/staff/orders?point=center", headers=staff))
    assert [o["id"] for o in queue["orders"]] == [order["id"]]
    assert queue["orders"][0]["customer"] == {"name": "Анна Тестова"}
    accepted = await ok(await client.post(f"/api/staff/orders/{order['id']}/accept", headers=staff))
    assert accepted["status"] == "accepted"
    assert (await ok(await client.post(f"/api/staff/orders/{order['id']}/ready", headers=staff)))["status"] == "ready"
    by_code = {"code": order["short_code"], "point": "center"}
    looked = await ok(await client.post("/api/staff/lookup", json=by_code, headers=staff))
    assert looked["id"] == order["id"] and looked["customer"] == {"name": "Анна Тестова"}
    handed = await ok(await client.post("/api/staff/handover", json=by_code, headers=staff))
    assert handed["status"] == "picked_up" and handed["payment"]["status"] == "captured"

    shown = await ok(await client.get(f"/api/orders/{order['id']}", headers=anna))
    assert shown["status"] == "picked_up"
    assert [h["status"] for h in shown["history"]] == ["placed", "accepted", "ready", "picked_up"]
    me = await ok(await client.get("/api/me", headers=anna))
    assert me["points"] == EARNED
    assert me["referral_link"] == f"https://shop.example/go/r{me['referral_code']}"
    mine = await ok(await client.get("/api/orders", headers=anna))
    assert [o["id"] for o in mine["orders"]] == [order["id"]]
    assert (await ok(await client.get("/api/staff/orders?point=center", headers=staff)))["orders"] == []

    review = await ok(await client.post(f"/api/orders/{order['id']}/reviews",
                                        json={"item": "latte", "rating": 5, "text": "Отлично"}, headers=anna), 201)
    assert review["rating"] == 5 and review["author"] == "Анна Тестова"
    reviews = await ok(await client.get("/api/items/latte/reviews", headers=anna))
    assert reviews["count"] == 1 and reviews["average"] == 5
    repeat = await ok(await client.post(f"/api/orders/{order['id']}/repeat", headers=anna))
    assert repeat == {"lines": [*cart["lines"][:1], {**cart["lines"][1], "options": {}}], "skipped": 0}


async def test_handing_over_twice_is_409_and_changes_nothing(client, tma, staff, order_body):
    anna = tma(5001)
    order = await place(client, anna, order_body)
    await fulfil(client, staff, order)
    before = await ok(await client.get(f"/api/orders/{order['id']}", headers=anna))
    await refused(await client.post("/api/staff/handover", json={"token": order["pickup_token"]}, headers=staff),
                  409, ErrorCode.ALREADY_PICKED_UP)
    # the short code is freed once the order is closed, but a second scan still says what happened
    await refused(await client.post("/api/staff/handover", json={"code": order["short_code"], "point": "center"},
                                    headers=staff), 409, ErrorCode.ALREADY_PICKED_UP)
    assert await ok(await client.get(f"/api/orders/{order['id']}", headers=anna)) == before
    assert (await ok(await client.get("/api/me", headers=anna)))["points"] == EARNED


async def test_customers_cannot_use_staff_endpoints(client, tma, order_body):
    anna, boris = tma(5001), tma(5002)
    order = await place(client, anna, order_body)
    for who in (anna, boris):
        await refused(await client.get("/api/staff/orders?point=center", headers=who), 403, ErrorCode.NOT_STAFF)
        for step in ("accept", "ready"):
            await refused(await client.post(f"/api/staff/orders/{order['id']}/{step}", headers=who),
                          403, ErrorCode.NOT_STAFF)
        for body in ({"token": order["pickup_token"]}, {"code": order["short_code"], "point": "center"}):
            await refused(await client.post("/api/staff/lookup", json=body, headers=who), 403, ErrorCode.NOT_STAFF)
            await refused(await client.post("/api/staff/handover", json=body, headers=who), 403, ErrorCode.NOT_STAFF)
    assert (await ok(await client.get(f"/api/orders/{order['id']}", headers=anna)))["status"] == "placed"


async def test_staff_of_one_point_cannot_serve_another(client, staff):
    await refused(await client.get("/api/staff/orders?point=park", headers=staff), 403, ErrorCode.NOT_STAFF)


async def test_orders_and_their_qr_are_only_for_their_customer_and_staff(client, tma, staff, order_body):
    anna, boris = tma(5001), tma(5002)
    order = await place(client, anna, order_body)
    qr = await client.get(order["qr"], headers=anna)
    assert qr.status == 200 and qr.content_type == "image/svg+xml"
    svg = await qr.text()
    assert order["pickup_token"] in svg and f"№ {order['short_code']}" in svg
    assert (await client.get(order["qr"], headers=staff)).status == 200
    await refused(await client.get(order["qr"], headers=boris), 404, ErrorCode.ORDER_NOT_FOUND)
    await refused(await client.get(f"/api/orders/{order['id']}", headers=boris), 404, ErrorCode.ORDER_NOT_FOUND)
    await refused(await client.post(f"/api/orders/{order['id']}/cancel", headers=boris), 404, ErrorCode.ORDER_NOT_FOUND)
    assert (await ok(await client.get("/api/orders", headers=boris)))["orders"] == []
    cancelled = await ok(await client.post(f"/api/orders/{order['id']}/cancel", headers=anna))
    assert cancelled["status"] == "cancelled"


async def test_out_of_stock_checkout_is_409(client, engine, tma, order_body):
    await engine.set_stock("center", "croissant", 1)
    lines = [{"item": "croissant", "quantity": 2}]
    await refused(await client.post("/api/orders", json=order_body(lines=lines), headers=tma(5001)),
                  409, ErrorCode.OUT_OF_STOCK)
    assert await engine.orders_of(CustomerRef(Channel.TELEGRAM, "5001")) == []


async def test_messages_follow_the_users_language(client, engine, tma, order_body):
    await engine.set_stock("center", "croissant", 0)
    body = order_body(lines=[{"item": "croissant", "quantity": 1}])
    await refused(await client.post("/api/orders", json=body, headers=tma(5001, language_code="en")),
                  409, ErrorCode.OUT_OF_STOCK, "en")
    await refused(await client.post("/api/orders", json=body, headers=tma(5002, language_code="ru")),
                  409, ErrorCode.OUT_OF_STOCK, "ru")
    await refused(await client.post("/api/orders", json={"lines": "no"}, headers=tma(5003, language_code="en-US")),
                  400, ErrorCode.BAD_INPUT, "en")
    # a choice made in the app wins over the launch's language
    me = await ok(await client.patch("/api/me", json={"language": "en"}, headers=tma(5002, language_code="ru")))
    assert me["language"] == "en"
    await refused(await client.post("/api/orders", json=body, headers=tma(5002, language_code="ru")),
                  409, ErrorCode.OUT_OF_STOCK, "en")


async def test_the_app_and_the_bot_meet_one_customer(client, engine, tma, order_body):
    order = await place(client, tma(7001, start_param="s2gis"), order_body)
    me = await ok(await client.get("/api/me", headers=tma(7001)))
    bot_side = CustomerRef(Channel.TELEGRAM, "7001", "Anna")  # what the Telegram bot adapter builds
    assert (await engine.profile(bot_side)).customer.id == me["id"]
    orders = await engine.orders_of(bot_side)
    assert [o.id for o in orders] == [order["id"]]
    assert orders[0].source == "2gis"  # the launch's start parameter is the order's last touch


async def test_link_code_merges_a_telegram_and_a_vk_user(client, tma, vk, staff, order_body):
    anna_tg, anna_vk = tma(8001), vk(9001)
    order = await place(client, anna_tg, order_body)
    await fulfil(client, staff, order)
    vk_me = await ok(await client.get("/api/me", headers=anna_vk))
    assert vk_me["points"] == 0
    code = await ok(await client.post("/api/link/code", headers=anna_tg))
    assert len(code["code"]) == 6 and code["expires_at"]
    linked = await ok(await client.post("/api/link", json={"code": code["code"]}, headers=anna_vk))
    tg_me = await ok(await client.get("/api/me", headers=anna_tg))
    assert linked == await ok(await client.get("/api/me", headers=anna_vk)) == tg_me
    assert linked["points"] == EARNED
    assert {(c["channel"], c["id"]) for c in linked["channels"]} == {("telegram", "8001"), ("vk", "9001")}
    assert [o["id"] for o in (await ok(await client.get("/api/orders", headers=anna_vk)))["orders"]] == [order["id"]]
    await refused(await client.post("/api/link", json={"code": code["code"]}, headers=anna_vk),
                  400, ErrorCode.LINK_CODE_INVALID)


@pytest.mark.parametrize("point", ["center", None])
async def test_points_and_menu_without_a_point(client, tma, point):
    points = await ok(await client.get("/api/points", headers=tma(5001)))
    assert [p["id"] for p in points["points"]] == ["center", "park"]
    assert points["points"][0]["open_now"] is True and points["points"][0]["hours"] == "mon-sun 07:00-22:00"
    menu = await ok(await client.get("/api/menu" + (f"?point={point}" if point else ""), headers=tma(5001)))
    assert menu["point"] == point and len(menu["items"]) == 4


async def test_unknown_point_is_404(client, tma):
    await refused(await client.get("/api/menu?point=nowhere", headers=tma(5001)), 404, ErrorCode.POINT_NOT_FOUND)
