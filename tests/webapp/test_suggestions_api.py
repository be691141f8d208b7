"""GET /api/suggestions through the Mini App API: the usual appears for a returning customer with its options,
"together" from the shop's orders, "now" by the shop's hour; only what can be ordered at the point, and nothing
at all for someone new in a shop without history."""
from __future__ import annotations

from api_support import ok

from journey.errors import ErrorCode

LATTE = {"item": "latte", "quantity": 1, "options": {"size": ["m"], "milk": ["oat"]}}
CROISSANT = {"item": "croissant", "quantity": 1}


async def picked_up(client, headers, staff, lines) -> dict:
    order = await ok(await client.post("/api/orders", json={"point": "center", "lines": lines, "pickup_at": None,
                                                            "payment": "counter"}, headers=headers), 201)
    for step in ("accept", "ready"):
        await ok(await client.post(f"/api/staff/orders/{order['id']}/{step}", headers=staff))
    return await ok(await client.post("/api/staff/handover", json={"token": order["pickup_token"]}, headers=staff))


async def test_nothing_is_suggested_without_history(client, tma):
    found = await ok(await client.get("/api/suggestions?point=center&items=latte", headers=tma(5001)))
    assert found["usual"] == [] and found["together"] == [] and found["now"] == []
    assert found["hour"] == 9  # 06:00 UTC on the test clock is 09:00 in Moscow


async def test_a_returning_customer_sees_their_usual_and_the_shop_what_goes_together(client, tma, staff):
    anna, olga = tma(5001), tma(5002)
    await picked_up(client, anna, staff, [LATTE, CROISSANT])
    assert (await ok(await client.get("/api/suggestions?point=center", headers=anna)))["usual"] == []  # once
    await picked_up(client, anna, staff, [LATTE])
    await picked_up(client, olga, staff, [{"item": "espresso"}, CROISSANT])
    await picked_up(client, olga, staff, [{"item": "espresso"}, CROISSANT])
    found = await ok(await client.get("/api/suggestions?point=center&items=croissant", headers=anna))
    assert [(u["item"], u["options"], u["times"], u["price"]["amount"]) for u in found["usual"]] == [
        ("latte", {"size": ["m"], "milk": ["oat"]}, 2, 25000 + 4000 + 6000)]
    assert found["usual"][0]["option_names"] == ["M", "Овсяное"]
    assert [i["item"] for i in found["together"]] == ["espresso"]  # twice with croissants; the latte once
    assert [i["item"] for i in found["now"]] == ["croissant", "espresso", "latte"]
    assert (await ok(await client.get("/api/suggestions?point=center", headers=olga)))["usual"][0]["item"] in (
        "croissant", "espresso")


async def test_only_what_can_be_ordered_at_the_point_is_suggested(client, tma, staff, engine):
    anna = tma(5001)
    for _ in range(2):
        await picked_up(client, anna, staff, [CROISSANT, {"item": "espresso"}])
    await engine.set_stock("park", "croissant", 0)
    await engine.set_available("espresso", False)
    found = await ok(await client.get("/api/suggestions?point=park&items=espresso", headers=anna))
    assert found["usual"] == [] and found["together"] == [] and found["now"] == []
    found = await ok(await client.get("/api/suggestions?point=center&items=espresso", headers=anna))
    assert [u["item"] for u in found["usual"]] == ["croissant"] and [i["item"] for i in found["now"]] == ["croissant"]


async def test_the_hour_is_the_shops(client, tma, staff, clock):
    anna = tma(5001)
    for _ in range(2):
        await picked_up(client, anna, staff, [CROISSANT])
    clock.advance(hours=1)
    found = await ok(await client.get("/api/suggestions?point=center", headers=tma(5001)))
    assert found["hour"] == 10 and found["now"] == []


async def test_bad_questions_are_refused(client, tma):
    anna = tma(5001)
    for url, status, code in (("/api/suggestions", 400, ErrorCode.BAD_INPUT),
                              ("/api/suggestions?point=nowhere", 404, ErrorCode.POINT_NOT_FOUND),
                              ("/api/suggestions?point=center&items=" + ",".join(f"i{n}" for n in range(21)), 400,
                               ErrorCode.BAD_INPUT),
                              ("/api/suggestions?point=center&items=" + "x" * 65, 400, ErrorCode.BAD_INPUT)):
        response = await client.get(url, headers=anna)
        assert response.status == status and (await response.json())["error"] == code.value
    assert (await client.get("/api/suggestions?point=center")).status == 401
