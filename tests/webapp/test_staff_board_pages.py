"""The staff board one page at a time: ``GET /api/staff/orders?limit=&after=`` gives the open orders soonest
first, each page's ``next`` leading to the following one until a page that is not full says null; an order
that closes while staff page through does not lose their place; a limit out of range is refused."""
from __future__ import annotations


async def page(client, staff, query: str) -> dict:
    answer = await client.get(f"/api/staff/orders?{query}", headers=staff)
    assert answer.status == 200, await answer.text()
    return await answer.json()


async def place(client, tma, order_body, clock, count: int) -> list[dict]:
    placed = []
    for n in range(count):
        answer = await client.post("/api/orders", json=order_body(), headers=tma(930 + n))
        assert answer.status == 201, await answer.text()
        placed.append(await answer.json())
        clock.advance(minutes=1)
    return placed


async def test_pages_of_the_board_add_up_to_the_whole_board_in_its_order(client, tma, staff, order_body, clock):
    placed = await place(client, tma, order_body, clock, 7)
    whole = await page(client, staff, "point=center")
    assert whole["next"] is None
    soonest_first = [o["id"] for o in whole["orders"]]
    assert sorted(soonest_first) == sorted(o["id"] for o in placed)
    assert soonest_first == [o["id"] for o in sorted(whole["orders"], key=lambda o: (o["pickup_at"], o["created_at"]))]

    seen, query = [], "point=center&limit=3"
    while True:
        got = await page(client, staff, query)
        assert len(got["orders"]) <= 3
        seen += [o["id"] for o in got["orders"]]
        if got["next"] is None:
            break
        assert got["next"] == got["orders"][-1]["id"]
        query = f"point=center&limit=3&after={got['next']}"
    assert seen == soonest_first
    # every point the member serves, the same way (the barista serves the center only: the same orders)
    assert [o["id"] for o in (await page(client, staff, "limit=7"))["orders"]] == soonest_first


async def test_an_order_closed_while_paging_keeps_the_place(client, tma, staff, order_body, clock):
    await place(client, tma, order_body, clock, 5)
    order = [o["id"] for o in (await page(client, staff, "point=center"))["orders"]]
    first = await page(client, staff, "point=center&limit=2")
    last = first["orders"][-1]
    cancelled = await client.post(f"/api/orders/{last['id']}/cancel", headers=staff)
    assert cancelled.status == 200
    rest = await page(client, staff, f"point=center&limit=10&after={first['next']}")
    assert [o["id"] for o in rest["orders"]] == order[2:]
    assert rest["next"] is None


async def test_a_limit_out_of_range_is_refused_and_customers_see_no_board(client, tma, staff, order_body, clock):
    await place(client, tma, order_body, clock, 1)
    for limit in ("0", "201", "-1", "two", "1.5"):
        answer = await client.get(f"/api/staff/orders?limit={limit}", headers=staff)
        assert answer.status == 400, limit
        assert (await answer.json())["error"] == "bad_input"
    assert len((await page(client, staff, "limit=200"))["orders"]) == 1
    refused = await client.get("/api/staff/orders?limit=1", headers=tma(990))
    assert refused.status == 403 and (await refused.json())["error"] == "not_staff"
