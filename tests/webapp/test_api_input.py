"""Bodies that do not parse or fit are 400 ``bad_input`` and write nothing; the client never sets a price."""
from __future__ import annotations

import json

import pytest

from journey.states import OrderStatus

LATTE = {"item": "latte", "quantity": 1}


async def orders_in_db(engine) -> int:
    async with engine.read() as uow:
        return sum([len(await uow.orders.ids_in_status(status)) for status in OrderStatus])


def malformed(cart: dict) -> dict[str, object]:
    return {
        "not json": "{\"point\": \"center\", ",
        "a list": json.dumps([cart]),
        "empty": "",
        "null": "null",
        "no lines": json.dumps({"point": "center"}),
        "quantity as text": json.dumps({**cart, "lines": [{**LATTE, "quantity": "2"}]}),
        "quantity as a fraction": json.dumps({**cart, "lines": [{**LATTE, "quantity": 1.5}]}),  # 2.0 is 2
        "quantity as bool": json.dumps({**cart, "lines": [{**LATTE, "quantity": True}]}),
        "quantity 0": json.dumps({**cart, "lines": [{**LATTE, "quantity": 0}]}),
        "quantity 100": json.dumps({**cart, "lines": [{**LATTE, "quantity": 100}]}),
        "negative points": json.dumps({**cart, "points": -100}),
        "51 lines": json.dumps({**cart, "lines": [LATTE] * 51}),
        "item as number": json.dumps({**cart, "lines": [{"item": 1, "quantity": 1}]}),
        "options as text": json.dumps({**cart, "lines": [{**LATTE, "options": "oat"}]}),
        "point as number": json.dumps({**cart, "point": 1}),
        "naive pickup time": json.dumps({**cart, "pickup_at": "2026-11-18T12:00:00"}),
        "pickup time not a time": json.dumps({**cart, "pickup_at": "soon"}),
        "a price on a line": json.dumps({**cart, "lines": [{**LATTE, "price": 1}]}),
        "a total": json.dumps({**cart, "total": {"amount": 100, "currency": "RUB"}}),
        "a unit price": json.dumps({**cart, "lines": [{**LATTE, "unit_price": 100}]}),
    }


@pytest.fixture
def cart_body(order_body) -> dict:
    return order_body(lines=[LATTE])


@pytest.mark.parametrize("case", list(malformed({})))
async def test_malformed_order_is_400_and_writes_nothing(client, engine, tma, cart_body, case):
    raw = malformed(cart_body)[case]
    response = await client.post("/api/orders", data=raw, headers={**tma(5001), "Content-Type": "application/json"})
    assert response.status == 400, await response.text()
    body = await response.json()
    assert body["error"] == "bad_input" and body["message"] == "Неверные данные запроса."
    assert await orders_in_db(engine) == 0


@pytest.mark.parametrize("case", ["a price on a line", "quantity 100", "51 lines", "not json"])
async def test_malformed_quote_is_400(client, tma, cart_body, case):
    response = await client.post("/api/cart/quote", data=malformed(cart_body)[case], headers=tma(5001))
    assert response.status == 400 and (await response.json())["error"] == "bad_input"


async def test_the_same_cart_without_the_extras_is_accepted(client, engine, tma, cart_body):
    response = await client.post("/api/orders", json=cart_body, headers=tma(5001))
    assert response.status == 201 and (await response.json())["total"]["amount"] == 25000
    later = {**cart_body, "pickup_at": "2026-11-18T10:30:00+03:00"}  # the test clock: 09:00 in Moscow
    response = await client.post("/api/orders", json=later, headers=tma(5001))
    assert response.status == 201 and (await response.json())["pickup_at"] == "2026-11-18T07:30:00+00:00"
    assert await orders_in_db(engine) == 2


@pytest.mark.parametrize("path, body", [
    ("/api/me", {"language": "de"}),
    ("/api/me", {"language": "en", "name": "Admin"}),
    ("/api/link", {"code": 123456}),
    ("/api/staff/lookup", {}),
    ("/api/staff/lookup", {"token": "x", "code": "1234"}),
    ("/api/staff/handover", {"code": 1234}),
])
async def test_other_malformed_bodies_are_400(client, tma, path, body):
    method = client.patch if path == "/api/me" else client.post
    response = await method(path, json=body, headers=tma(2))  # staff, so staff routes reach the body check
    assert response.status == 400 and (await response.json())["error"] == "bad_input"


async def test_review_rating_out_of_range_is_400(client, tma):
    response = await client.post("/api/orders/o_x/reviews", json={"item": "latte", "rating": 6}, headers=tma(5001))
    assert response.status == 400 and (await response.json())["error"] == "bad_input"


async def test_an_oversized_body_is_refused(client, engine, tma, cart_body):
    huge = json.dumps({**cart_body, "promo": "x" * 100_000})
    response = await client.post("/api/orders", data=huge, headers=tma(5001))
    assert response.status == 413 and (await response.json())["error"] == "bad_input"
    assert await orders_in_db(engine) == 0


async def test_unknown_api_route_is_a_json_404(client, tma):
    response = await client.get("/api/nothing-here", headers=tma(5001))
    assert response.status == 404 and (await response.json())["error"] == "not_found"
    response = await client.delete("/api/orders", headers=tma(5001))
    assert response.status == 405 and (await response.json())["error"] == "bad_input"
