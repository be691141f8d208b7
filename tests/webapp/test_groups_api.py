"""Group orders through the Mini App API, with members in Telegram, VK and the browser: the discount for
everyone exactly when the goal is reached, joins racing to it counted exactly, and what is refused."""
from __future__ import annotations

import asyncio
import re

import pytest
from api_support import ok, refused

from adapters.yookassa import YookassaProvider
from bot.payments import close, routes
from journey.engine import Engine
from webapp import create_app

ESPRESSO = [{"item": "espresso", "quantity": 2}]  # 300 ₽
CROISSANT = [{"item": "croissant", "quantity": 1}]  # 180 ₽
LATTE = [{"item": "latte", "quantity": 1, "options": {"size": ["m"]}}]  # 290 ₽


@pytest.fixture
async def shop(make_client):
    """The Mini App with Telegram and VK configured, and the browser's demo launch too."""
    return await make_client(demo=True)


async def open_group(shop, headers, lines=LATTE, **body) -> dict:
    return await ok(await shop.post("/api/groups", json={"point": "center", "lines": lines, **body},
                                    headers=headers), 201)


async def test_three_friends_in_three_channels_get_the_discount(shop, tma, vk):
    anna, boris, vera = tma(5001, first_name="Анна"), vk(7001), {"Authorization": "demo Вера"}
    group = await open_group(shop, anna, payer="each")
    code = group["code"]
    assert group["start"] == f"j{code}" and group["link"] == f"https://shop.example/go/j{code}"
    assert re.fullmatch(r"[A-Za-z0-9_-]{12}", code)
    assert (group["joined"], group["min_people"], group["percent"], group["reached"]) == (1, 3, 10, False)
    assert group["organiser"] and group["member"] and group["joinable"] and group["seconds_left"] == 30 * 60
    assert [m["name"] for m in group["members"]] == ["Анна"]

    seen = await ok(await shop.get(f"/api/groups/{code}", headers=boris))  # a friend looks before joining
    assert not seen["organiser"] and not seen["member"] and seen["my_order"] is None
    await ok(await shop.post(f"/api/groups/{code}/lines", json={"lines": ESPRESSO}, headers=boris))
    full = await ok(await shop.post(f"/api/groups/{code}/lines", json={"lines": CROISSANT}, headers=vera))
    assert (full["joined"], full["reached"]) == (3, True)
    assert [m["discount"]["amount"] for m in full["members"]] == [2900, 3000, 1800]
    assert [m["me"] for m in full["members"]] == [False, False, True]

    await refused(await shop.post(f"/api/groups/{code}/close", headers=boris), 403, "group_not_organiser")
    closed = await ok(await shop.post(f"/api/groups/{code}/close", headers=anna))
    assert (closed["status"], closed["reached"], closed["joinable"]) == ("ordered", True, False)
    totals = {}
    for who in (anna, boris, vera):
        mine = await ok(await shop.get(f"/api/groups/{code}", headers=who))
        order = await ok(await shop.get(f"/api/orders/{mine['my_order']}", headers=who))
        assert order["point"]["id"] == "center" and order["payment"]["provider"] == "counter"
        totals[order["total"]["amount"]] = order["pickup_at"]
    assert sorted(totals) == [16200, 26100, 27000]
    assert len(set(totals.values())) == 1  # one pickup
    await refused(await shop.post(f"/api/groups/{code}/lines", json={"lines": LATTE}, headers=tma(5009)),
                  409, "group_closed")


async def test_below_the_goal_the_organiser_pays_all_without_discount(shop, tma, vk):
    anna = tma(5001)
    code = (await open_group(shop, anna, lines=[]))["code"]  # organising only
    await ok(await shop.post(f"/api/groups/{code}/lines", json={"lines": ESPRESSO}, headers=vk(7001)))
    await ok(await shop.post(f"/api/groups/{code}/lines", json={"lines": CROISSANT}, headers=anna))
    closed = await ok(await shop.post(f"/api/groups/{code}/close", headers=anna))
    assert (closed["status"], closed["joined"], closed["reached"]) == ("ordered", 2, False)
    order = await ok(await shop.get(f"/api/orders/{closed['my_order']}", headers=anna))
    assert (order["subtotal"]["amount"], order["discount"]["amount"], order["total"]["amount"]) == (48000, 0, 48000)
    friend = await ok(await shop.get(f"/api/groups/{code}", headers=vk(7001)))
    assert friend["my_order"] is None  # the organiser's order carries the friend's lines


async def test_joins_racing_to_the_goal_give_an_exact_count(shop, tma, vk):
    code = (await open_group(shop, tma(5001), payer="each"))["code"]
    friends = [vk(7000 + n) if n % 2 else tma(6000 + n) for n in range(10)]
    answers = await asyncio.gather(*(shop.post(f"/api/groups/{code}/lines", json={"lines": ESPRESSO}, headers=f)
                                     for f in friends))
    assert [r.status for r in answers] == [200] * 10
    assert sorted([(await r.json())["joined"] for r in answers]) == list(range(2, 12))  # none counted twice
    assert (await ok(await shop.get(f"/api/groups/{code}", headers=tma(5001))))["joined"] == 11


async def test_a_close_racing_joins_never_discounts_fewer_than_the_goal(shop, tma, vk):
    anna = tma(5001)
    code = (await open_group(shop, anna, payer="each"))["code"]
    joins = [shop.post(f"/api/groups/{code}/lines", json={"lines": CROISSANT}, headers=vk(7100 + n))
             for n in range(3)]
    *answers, close = await asyncio.gather(*joins, shop.post(f"/api/groups/{code}/close", headers=anna))
    assert {r.status for r in answers} <= {200, 409}
    got_in = 1 + sum(r.status == 200 for r in answers)
    closed = await ok(close)
    assert closed["joined"] == got_in and closed["reached"] is (got_in >= 3)
    for r in answers:
        if r.status == 409:
            assert (await r.json())["error"] == "group_closed"


async def test_what_is_refused(shop, tma, vk, clock):
    anna, boris = tma(5001), vk(7001)
    await refused(await shop.get("/api/groups/nosuchcode", headers=anna), 404, "group_not_found")
    await refused(await shop.post("/api/groups/nosuchcode/lines", json={"lines": ESPRESSO}, headers=anna),
                  404, "group_not_found")
    await refused(await shop.post("/api/groups", json={"point": "moon", "lines": []}, headers=anna),
                  404, "point_not_found")
    await refused(await shop.post("/api/groups", json={"point": "center", "lines": [], "payer": "nobody"},
                                  headers=anna), 400, "bad_input")
    code = (await open_group(shop, anna, lines=[]))["code"]
    await refused(await shop.post(f"/api/groups/{code}/close", headers=anna), 409, "group_empty")
    for lines, status, error in (([], 400, "empty_cart"), ([{"item": "caviar"}], 404, "item_not_found"),
                                 ([{"item": "espresso", "quantity": 0}], 400, "bad_input"),
                                 ([{"item": "espresso", "price": 1}], 400, "bad_input")):  # never a price
        await refused(await shop.post(f"/api/groups/{code}/lines", json={"lines": lines}, headers=boris),
                      status, error)
    await refused(await shop.post(f"/api/groups/{code}/lines", json={"lines": ESPRESSO}), 401, "unauthorized")
    await ok(await shop.post(f"/api/groups/{code}/lines", json={"lines": ESPRESSO}, headers=boris))
    await refused(await shop.post(f"/api/groups/{code}/cancel", headers=boris), 403, "group_not_organiser")
    clock.advance(minutes=30)  # the window has ended, though nobody closed it yet
    await refused(await shop.post(f"/api/groups/{code}/lines", json={"lines": CROISSANT}, headers=tma(5002)),
                  409, "group_closed")
    late = await ok(await shop.get(f"/api/groups/{code}", headers=boris))
    assert (late["status"], late["joinable"], late["seconds_left"]) == ("open", False, 0)
    off = await ok(await shop.post(f"/api/groups/{code}/cancel", headers=tma(5001)))
    assert (off["status"], off["reason"]) == ("cancelled", "organiser")
    await refused(await shop.post(f"/api/groups/{code}/close", headers=anna), 409, "group_closed")


@pytest.fixture
async def card_shop(aiohttp_client, db, clock, engine, config, qr, yookassa):
    """The Mini App with YooKassa configured (the fake on loopback)."""
    provider = YookassaProvider(yookassa.shop_id, yookassa.secret_key, yookassa.base_url)
    paying = Engine(db.uow, secret=engine.secret, owners=engine.owners, clock=clock, reader=db.reading,
                    providers={"yookassa": provider})
    app = create_app(paying, config, qr)
    for route in routes(paying):
        app.router.add_route(route.method, route.path, route.handler)
    yield await aiohttp_client(app), paying
    await close(provider)


async def test_the_organiser_pays_by_card_even_when_the_window_closes_the_group(card_shop, tma, vk, clock, yookassa):
    shop, engine = card_shop
    anna = tma(5001)
    group = await open_group(shop, anna, lines=LATTE, payment="yookassa")
    assert group["payment"] == "yookassa"
    for n, lines in enumerate((ESPRESSO, CROISSANT)):
        await ok(await shop.post(f"/api/groups/{group['code']}/lines", json={"lines": lines}, headers=vk(7001 + n)))
    clock.advance(minutes=30)
    await engine.expire_due()  # the sweep closes it as the organiser would, nobody present
    closed = await ok(await shop.get(f"/api/groups/{group['code']}", headers=tma(5001)))
    assert (closed["status"], closed["reached"]) == ("ordered", True)
    order = await ok(await shop.get(f"/api/orders/{closed['my_order']}", headers=tma(5001)))
    assert order["total"]["amount"] == 69300 and order["payment"]["status"] == "pending"  # 770 ₽ less 10 %
    (created,) = [c for c in yookassa.calls if c.method == "POST" and c.path.endswith("payments")]
    assert created.json["amount"] == {"value": "693.00", "currency": "RUB"}
    assert created.json["confirmation"]["return_url"] == f"https://shop.example/paid?order={order['id']}"
    assert order["payment"]["confirmation_url"]  # paid from the order's screen, like any order


async def test_a_payment_method_the_organiser_cannot_use_is_refused(shop, vk):
    await refused(await shop.post("/api/groups", json={"point": "center", "lines": LATTE, "payment": "telegram"},
                                  headers=vk(7001)), 409, "payment_provider_unknown")
