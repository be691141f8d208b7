"""Ownership and existence answered alike: an order id someone may not use tells them nothing.

Every route that takes an order id answers someone else's order exactly as it answers an id that does not
exist: 404 ``order_not_found``, byte for byte the same body. Staff of another point are "someone else" for
that point's orders; someone who is staff nowhere is refused the staff routes with 403 ``not_staff``
whatever the id (that is about the caller, not the order). Its own customer asking for what the order's
state does not allow hears 409, never a word about staff.
"""
from __future__ import annotations

from typing import Any

import pytest
from api_support import ok, refused

from journey.errors import ErrorCode

UNKNOWN = "o_0000000000zzzzzz"  # the shape of a real id (journey/ids.py), of no order

# every route taking an order id, and how it is called (the body, when it has one)
CUSTOMER: dict[tuple[str, str], dict[str, Any] | None] = {
    ("GET", "/api/orders/{order_id}"): None,
    ("GET", "/api/orders/{order_id}/qr.svg"): None,
    ("POST", "/api/orders/{order_id}/cancel"): None,
    ("POST", "/api/orders/{order_id}/repeat"): None,
    ("POST", "/api/orders/{order_id}/reviews"): {"item": "croissant", "rating": 5},
}
STAFF: dict[tuple[str, str], dict[str, Any] | None] = {
    ("POST", "/api/staff/orders/{order_id}/accept"): None,
    ("POST", "/api/staff/orders/{order_id}/ready"): None,
}
SHARE = ("POST", "/api/shares")  # the order id is in the body: {"kind", "order_id"}


async def call(client: Any, route: tuple[str, str], body: dict[str, Any] | None, order_id: str,
               headers: dict[str, str]) -> tuple[int, str, bytes]:
    method, path = route
    if route == SHARE:
        body = {"kind": "link", "order_id": order_id}
    else:
        path = path.replace("{order_id}", order_id)
    response = await client.request(method, path, json=body, headers=headers)
    return response.status, response.content_type, await response.read()


def order_routes(app: Any) -> set[tuple[str, str]]:
    return {(route.method, route.resource.canonical) for route in app.router.routes()
            if route.resource is not None and "{order_id}" in route.resource.canonical and route.method != "HEAD"}


def test_every_route_taking_an_order_id_is_checked_here(client: Any) -> None:
    """A new route with an order id fails this until it is added to the tables above (and answers alike)."""
    assert order_routes(client.app) == set(CUSTOMER) | set(STAFF)


@pytest.fixture
async def orders(client: Any, tma: Any, staff: Any, order_body: Any) -> dict[str, dict]:
    """Anna's orders: one placed, one picked up (at the barista's point), one placed at another point."""
    anna = tma(5001)
    placed = await ok(await client.post("/api/orders", json=order_body(), headers=anna), 201)
    done = await ok(await client.post("/api/orders", json=order_body(), headers=anna), 201)
    for step in ("accept", "ready"):
        await ok(await client.post(f"/api/staff/orders/{done['id']}/{step}", headers=staff))
    await ok(await client.post("/api/staff/handover", json={"token": done["pickup_token"]}, headers=staff))
    park = await ok(await client.post("/api/orders", json=order_body(point="park", lines=[{"item": "espresso"}]),
                                      headers=anna), 201)
    return {"placed": placed, "done": done, "park": park}


@pytest.mark.parametrize("which", ["placed", "done"])
async def test_someone_elses_order_is_answered_as_an_unknown_id(client: Any, tma: Any, orders: dict,
                                                                which: str) -> None:
    anna, boris = tma(5001), tma(5002)
    order_id = orders[which]["id"]
    before = await ok(await client.get(f"/api/orders/{order_id}", headers=anna))
    for route, body in [*CUSTOMER.items(), (SHARE, None)]:
        theirs = await call(client, route, body, order_id, boris)
        unknown = await call(client, route, body, UNKNOWN, boris)
        assert theirs[0] == 404, (route, theirs)
        assert theirs == unknown, route
        assert b'"order_not_found"' in theirs[2]
    assert await ok(await client.get(f"/api/orders/{order_id}", headers=anna)) == before  # nothing changed


async def test_another_points_order_is_unknown_to_staff_of_this_one(client: Any, tma: Any, staff: Any,
                                                                    orders: dict) -> None:
    """The barista serves "center": Anna's order at "park" is none of theirs, on every route."""
    order_id = orders["park"]["id"]
    before = await ok(await client.get(f"/api/orders/{order_id}", headers=tma(5001)))
    for route, body in [*CUSTOMER.items(), *STAFF.items()]:
        theirs = await call(client, route, body, order_id, staff)
        unknown = await call(client, route, body, UNKNOWN, staff)
        assert theirs[0] == 404, (route, theirs)
        assert theirs == unknown, route
    assert await ok(await client.get(f"/api/orders/{order_id}", headers=tma(5001))) == before  # nothing changed


async def test_staff_routes_refuse_who_is_staff_nowhere_whatever_the_id(client: Any, tma: Any,
                                                                      orders: dict) -> None:
    for who in (tma(5001), tma(5002)):  # the order's own customer, and someone else
        for route, body in STAFF.items():
            for order_id in (orders["placed"]["id"], UNKNOWN):
                status, _, answer = await call(client, route, body, order_id, who)
                assert status == 403 and b'"not_staff"' in answer, (route, answer)
            assert await call(client, route, body, orders["placed"]["id"], who) == await call(
                client, route, body, UNKNOWN, who)


async def test_cancelling_ones_own_closed_order_is_a_conflict_not_a_question_of_staff(
        client: Any, tma: Any, staff: Any, orders: dict) -> None:
    anna = tma(5001)
    await refused(await client.post(f"/api/orders/{orders['done']['id']}/cancel", headers=anna),
                  409, ErrorCode.ALREADY_PICKED_UP)
    placed = orders["placed"]["id"]
    await ok(await client.post(f"/api/staff/orders/{placed}/accept", headers=staff))
    await refused(await client.post(f"/api/orders/{placed}/cancel", headers=anna), 409, ErrorCode.INVALID_TRANSITION)
    cancelled = await ok(await client.post(f"/api/orders/{placed}/cancel", headers=staff))
    assert cancelled["status"] == "cancelled"
    await refused(await client.post(f"/api/orders/{placed}/cancel", headers=anna), 409, ErrorCode.INVALID_TRANSITION)
    await refused(await client.post(f"/api/orders/{placed}/cancel", headers=staff), 409, ErrorCode.INVALID_TRANSITION)
    # and its customer still sees it, cancelled
    assert (await ok(await client.get(f"/api/orders/{placed}", headers=anna)))["status"] == "cancelled"


async def test_its_own_customer_uses_every_route(client: Any, tma: Any, orders: dict) -> None:
    """The same routes answer the order's customer: the 404s above are about who asks."""
    anna = tma(5001)
    done = orders["done"]["id"]
    assert (await ok(await client.get(f"/api/orders/{done}", headers=anna)))["status"] == "picked_up"
    assert (await client.get(f"/api/orders/{done}/qr.svg", headers=anna)).status == 200
    assert (await ok(await client.post(f"/api/orders/{done}/repeat", headers=anna)))["lines"]
    await ok(await client.post(f"/api/orders/{done}/reviews", json={"item": "croissant", "rating": 5},
                               headers=anna), 201)
    await ok(await client.post("/api/shares", json={"kind": "link", "order_id": done}, headers=anna), 201)
    assert (await ok(await client.post(f"/api/orders/{orders['placed']['id']}/cancel",
                                       headers=anna)))["status"] == "cancelled"
