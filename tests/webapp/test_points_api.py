"""GET /api/me/points and the birthday through the Mini App API: balance, tier and what is left to the next,
points expiring soon, the history paged newest first; a birthday given, refused when no such day, withdrawn;
the birthday discount as its own line of the quote."""
from __future__ import annotations

from api_support import ok
from shop_fixtures import OWNER

from journey.errors import ErrorCode
from journey.setup import Refusal

CROISSANT = [{"item": "croissant", "quantity": 1}]


async def picked_up(client, headers, staff, lines=CROISSANT, points: int = 0) -> dict:
    order = await ok(await client.post("/api/orders", json={"point": "center", "lines": lines, "pickup_at": None,
                                                            "payment": "counter", "points": points},
                                       headers=headers), 201)
    for step in ("accept", "ready"):
        await ok(await client.post(f"/api/staff/orders/{order['id']}/{step}", headers=staff))
    return await ok(await client.post("/api/staff/handover", json={"token": order["pickup_token"]}, headers=staff))


async def test_someone_new_has_the_first_tier_and_no_history(client, tma, engine):
    await engine.change_shop(OWNER, "tiers", "0:5,10000:7,30000:10")
    mine = await ok(await client.get("/api/me/points", headers=tma(5001)))
    assert mine["balance"] == 0 and mine["history"] == [] and mine["more"] is None
    assert mine["tier"] == {"level": 1, "name": "Базовый", "percent": 5, "threshold": 0}
    assert mine["next_tier"]["threshold"] == 1_000_000 and mine["to_next"] == 1_000_000
    assert [t["percent"] for t in mine["tiers"]] == [5, 7, 10] and mine["expire_days"] == 365
    assert mine["birthday"] == {"day": None, "month": None, "percent": 10, "days": 3}
    english = await ok(await client.get("/api/me/points", headers=tma(5002, language_code="en")))
    assert english["tier"]["name"] == "Base" and english["next_tier"]["name"] == "Silver"


async def test_the_tier_rises_with_pickups_and_the_history_pages(client, tma, staff, engine):
    await engine.change_shop(OWNER, "tiers", "0:5,360:10")
    anna = tma(5001)
    first = await picked_up(client, anna, staff, CROISSANT * 1 + [{"item": "croissant", "quantity": 1}])
    second = await picked_up(client, anna, staff, points=1000)
    mine = await ok(await client.get("/api/me/points", headers=anna))
    assert mine["tier"]["level"] == 2 and mine["spent"] == 36000 + 17000 and mine["to_next"] == 0
    assert [(m["reason"], m["delta"], m["short_code"]) for m in mine["history"]] == [
        ("earn", 1700, second["short_code"]), ("spend", -1000, second["short_code"]),
        ("earn", 1800, first["short_code"])]
    assert mine["balance"] == 2500
    page = await ok(await client.get("/api/me/points?before=" + str(mine["history"][1]["id"]), headers=anna))
    assert [m["reason"] for m in page["history"]] == ["earn"]
    for bad in ("abc", "-1", "1" * 30):
        response = await client.get("/api/me/points?before=" + bad, headers=anna)
        assert response.status == 400 and (await response.json())["error"] == ErrorCode.BAD_INPUT.value


async def test_a_birthday_is_given_refused_when_no_such_day_and_withdrawn(client, tma):
    anna = tma(5001)
    mine = await ok(await client.put("/api/me/birthday", json={"day": 29, "month": 2}, headers=anna))
    assert mine["birthday"]["day"] == 29 and mine["birthday"]["month"] == 2
    response = await client.put("/api/me/birthday", json={"day": 31, "month": 4}, headers=anna)
    body = await response.json()
    assert response.status == 400 and body["error"] == ErrorCode.BIRTHDAY_INVALID.value
    assert "31 апреля" in body["message"]
    for bad in ({"day": 0, "month": 1}, {"day": 1, "month": 13}, {"day": "1", "month": 1}, {"day": 1},
                {"day": 1, "month": 1, "year": 1990}):
        assert (await client.put("/api/me/birthday", json=bad, headers=anna)).status == 400
    assert (await ok(await client.get("/api/me/points", headers=anna)))["birthday"]["day"] == 29
    mine = await ok(await client.delete("/api/me/birthday", headers=anna))
    assert mine["birthday"]["day"] is None


async def test_the_birthday_discount_is_its_own_line_of_the_quote(client, tma, clock):
    anna = tma(5001)
    await ok(await client.put("/api/me/birthday", json={"day": 19, "month": 11}, headers=anna))  # tomorrow
    quote = await ok(await client.post("/api/cart/quote", json={"point": "center", "lines": CROISSANT},
                                       headers=anna))
    assert quote["birthday"]["amount"] == 1800 and quote["discount"]["amount"] == 1800
    assert quote["total"]["amount"] == 16200
    other = await ok(await client.post("/api/cart/quote", json={"point": "center", "lines": CROISSANT},
                                       headers=tma(5002)))
    assert other["birthday"] is None and other["total"]["amount"] == 18000


async def test_bad_tier_settings_are_refused(engine):
    for text in ("10:5", "0:5,0:7", "0:5,100:4"):
        try:
            await engine.change_shop(OWNER, "tiers", text)
        except Refusal as e:
            assert e.code is ErrorCode.SETTING_INVALID
        else:
            raise AssertionError(f"{text} was taken")
