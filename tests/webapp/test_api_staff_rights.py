"""Who sees what, decided by the engine alone: the API asks it once per request and says what it said.

Someone who serves nowhere is refused every staff endpoint with 403 even for an order that does not exist
(staff are told 404); a customer's screens never carry another customer's name; staff see the name of
the customer at the counter and after cancelling.
"""
from __future__ import annotations

from api_support import ok, refused

from journey.errors import ErrorCode


async def test_non_staff_are_refused_before_the_order_is_looked_for(client, tma, staff, order_body):
    anna = tma(5001)
    order = await ok(await client.post("/api/orders", json=order_body(), headers=anna), 201)
    for step in ("accept", "ready"):
        await refused(await client.post(f"/api/staff/orders/o_missing/{step}", headers=anna), 403, ErrorCode.NOT_STAFF)
        await refused(await client.post(f"/api/staff/orders/o_missing/{step}", headers=staff),
                      404, ErrorCode.ORDER_NOT_FOUND)
    await refused(await client.post("/api/staff/lookup", json={"code": "0000", "point": "center"}, headers=anna),
                  403, ErrorCode.NOT_STAFF)
    await refused(await client.post("/api/staff/lookup", json={"code": "0000", "point": "center"}, headers=staff),
                  404, ErrorCode.PICKUP_CODE_INVALID)
    await refused(await client.get("/api/staff/orders?point=nowhere", headers=anna), 403, ErrorCode.NOT_STAFF)
    assert (await ok(await client.get(f"/api/orders/{order['id']}", headers=anna)))["status"] == "placed"


async def test_a_customer_never_sees_a_name_and_staff_always_do(client, tma, staff, order_body):
    anna, boris = tma(5001), tma(5002)
    order = await ok(await client.post("/api/orders", json=order_body(), headers=anna), 201)
    assert "customer" not in order
    assert "customer" not in (await ok(await client.get(f"/api/orders/{order['id']}", headers=anna)))
    assert all("customer" not in o for o in (await ok(await client.get("/api/orders", headers=anna)))["orders"])
    await refused(await client.get(f"/api/orders/{order['id']}", headers=boris), 404, ErrorCode.ORDER_NOT_FOUND)

    seen = await ok(await client.get(f"/api/orders/{order['id']}", headers=staff))
    assert seen["customer"] == {"name": "Анна Тестова"} and seen["pickup_token"] == order["pickup_token"]
    cancelled = await ok(await client.post(f"/api/orders/{order['id']}/cancel", headers=staff))
    assert cancelled["status"] == "cancelled" and cancelled["customer"] == {"name": "Анна Тестова"}
    board = await ok(await client.get("/api/staff/orders", headers=staff))
    assert board["orders"] == []  # a cancelled order leaves the counter's screen


async def test_a_body_that_does_not_fit_is_refused_to_non_staff_as_not_staff(client, tma, staff):
    """docs/API.md: someone who is staff nowhere hears 403 whatever they sent; staff hear what was wrong."""
    anna = tma(5001)
    for path in ("/api/staff/lookup", "/api/staff/handover"):
        for sent in ({}, {"token": "x", "code": "1234"}, {"code": 1234}, {"price": 1}):
            await refused(await client.post(path, json=sent, headers=anna), 403, ErrorCode.NOT_STAFF)
            await refused(await client.post(path, json=sent, headers=staff), 400, ErrorCode.BAD_INPUT)
        await refused(await client.post(path, data=b"{not json", headers=anna), 403, ErrorCode.NOT_STAFF)
        too_big = {"code": "1", "pad": "x" * 70_000}
        await refused(await client.post(path, json=too_big, headers=anna), 403, ErrorCode.NOT_STAFF)
        assert (await client.post(path, json=too_big, headers=staff)).status == 413
