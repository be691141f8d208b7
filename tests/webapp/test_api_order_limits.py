"""In the Mini App: a customer holding the shop's limit of open orders is refused another with 409
``too_many_open_orders`` in their language, and nothing is reserved; an order nobody accepted closes and
its stock is back on the menu for everyone."""
from __future__ import annotations

from journey.errors import ErrorCode


async def croissants_left(client, headers) -> int:
    menu = await (await client.get("/api/menu?point=center", headers=headers)).json()
    return {i["id"]: i for i in menu["items"]}["croissant"]["stock"]


async def test_the_fourth_open_order_is_refused_and_changes_nothing(client, tma, order_body):
    anna = tma(5101)
    for n in range(3):
        placed = await client.post("/api/orders", json=order_body(request_id=f"r{n}"), headers=anna)
        assert placed.status == 201, await placed.text()
    mine = await (await client.get("/api/orders", headers=anna)).json()
    left = await croissants_left(client, anna)

    refused = await client.post("/api/orders", json=order_body(request_id="r3"), headers=anna)

    assert refused.status == 409
    assert await refused.json() == {"error": "too_many_open_orders",
                                    "message": ErrorCode.TOO_MANY_OPEN_ORDERS.message("ru")}
    assert await (await client.get("/api/orders", headers=anna)).json() == mine
    assert await croissants_left(client, anna) == left == 7

    other = await client.post("/api/orders", json=order_body(request_id="r0"), headers=tma(5102))
    assert other.status == 201  # somebody else is not held up


async def test_the_refusal_is_in_the_customers_language(client, tma, engine, order_body):
    await engine.set_rules(max_open_orders=1)
    john = tma(5105, language_code="en")
    assert (await client.post("/api/orders", json=order_body(request_id="a"), headers=john)).status == 201
    refused = await client.post("/api/orders", json=order_body(request_id="b"), headers=john)
    assert refused.status == 409
    assert (await refused.json())["message"] == ErrorCode.TOO_MANY_OPEN_ORDERS.message("en")


async def test_an_order_nobody_accepts_gives_its_stock_back(client, tma, engine, clock, order_body):
    anna = tma(5103)
    placed = await (await client.post("/api/orders", json=order_body(request_id="h"), headers=anna)).json()
    assert await croissants_left(client, anna) == 9
    clock.advance(minutes=30)
    await engine.expire_due()  # what `vitrina run` does every half minute
    shown = await (await client.get(f"/api/orders/{placed['id']}", headers=tma(5103))).json()
    assert shown["status"] == "expired" and shown["payment"]["status"] == "voided"
    assert await croissants_left(client, tma(5104)) == 10
