"""The Mini App's orders board and pickup times through the API: a table's order carries its table to the
staff, an order past its pickup time says by how much, and ``GET /api/points/<id>/slots`` offers only the
times the point can serve, each of which an order is then placed for."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

MOSCOW = ZoneInfo("Europe/Moscow")


def moscow(iso: str) -> str:
    return f"{datetime.fromisoformat(iso).astimezone(MOSCOW):%H:%M}"


async def staff_orders(client, staff, point: str = "center") -> dict[str, dict]:
    answer = await client.get(f"/api/staff/orders?point={point}", headers=staff)
    assert answer.status == 200, await answer.text()
    return {o["short_code"]: o for o in (await answer.json())["orders"]}


async def test_a_table_order_shows_its_table_and_lateness_to_the_staff(client, tma, vk, staff, clock, order_body):
    # Telegram signs the table's start parameter; VK's hash arrives in the body; a table of another point
    # (scanned at the park, ordered at the center) is no table of the order
    telegram = await client.post("/api/orders", json=order_body(), headers=tma(901, start_param="tcenter_7"))
    in_vk = await client.post("/api/orders", json=order_body(start="tcenter_12"), headers=vk(902))
    elsewhere = await client.post("/api/orders", json=order_body(start="tpark_3"), headers=tma(903))
    placed = [await answer.json() for answer in (telegram, in_vk, elsewhere)]
    assert [a.status for a in (telegram, in_vk, elsewhere)] == [201, 201, 201]
    assert [o["table"] for o in placed] == ["7", "12", None]  # the customer's own order says it too

    board = await staff_orders(client, staff)
    assert [board[o["short_code"]]["table"] for o in placed] == ["7", "12", None]
    assert {o["late_minutes"] for o in board.values()} == {0}
    assert moscow(board[placed[0]["short_code"]]["pickup_at"]) == "09:05"

    clock.advance(minutes=17)  # 09:17: each is 12 minutes past its pickup time
    board = await staff_orders(client, staff)
    assert {o["late_minutes"] for o in board.values()} == {12}
    ready = placed[0]["id"]
    for step in ("accept", "ready"):
        assert (await client.post(f"/api/staff/orders/{ready}/{step}", headers=staff)).status == 200
    given = await client.post("/api/staff/handover", json={"code": placed[0]["short_code"], "point": "center"},
                              headers=staff)
    assert (await given.json())["late_minutes"] == 0  # closed: no longer late


async def test_staff_cancel_an_order_from_the_board(client, tma, staff, order_body, engine):
    placed = await (await client.post("/api/orders", json=order_body(), headers=tma(904))).json()
    assert (await client.post(f"/api/staff/orders/{placed['id']}/accept", headers=staff)).status == 200
    cancelled = await client.post(f"/api/orders/{placed['id']}/cancel", headers=staff)
    assert cancelled.status == 200 and (await cancelled.json())["status"] == "cancelled"
    again = await client.post(f"/api/orders/{placed['id']}/cancel", headers=staff)
    assert again.status == 409 and (await again.json())["error"] == "invalid_transition"
    assert (await engine.menu("center")).stock["croissant"] == 10
    assert await staff_orders(client, staff) == {}


async def test_the_times_offered_are_the_ones_the_point_serves(client, tma, clock, order_body):
    guest = tma(905)
    morning = await (await client.get("/api/points/park/slots", headers=guest)).json()
    assert morning["point"] == "park" and moscow(morning["asap"]) == "09:10" and morning["opens_at"] is None
    shown = [moscow(at) for at in morning["slots"]]
    assert shown[0] == "09:15" and shown[-1] == "21:45" and len(shown) == 51  # the test points close at 22:00

    clock.current = datetime(2026, 11, 18, 21, 55, tzinfo=MOSCOW).astimezone(UTC)
    evening = await (await client.get("/api/points/park/slots", headers=tma(905))).json()
    assert evening["asap"] is None and evening["opens_at"] == evening["slots"][0]
    assert datetime.fromisoformat(evening["opens_at"]) == datetime(2026, 11, 19, 7, 0, tzinfo=MOSCOW)
    assert all("07:00" <= moscow(at) < "22:00" for at in evening["slots"])
    # what is offered is accepted; "as soon as possible" and a closed time are refused, as the answer said
    first = await client.post("/api/orders", json=order_body(point="park", pickup_at=evening["slots"][0]),
                              headers=tma(905))
    assert first.status == 201, await first.text()
    now = await client.post("/api/orders", json=order_body(point="park"), headers=tma(906))
    assert now.status == 409 and (await now.json())["error"] == "point_closed"
    closed = datetime.fromisoformat(evening["slots"][0]) - timedelta(minutes=15)
    at_six = await client.post("/api/orders", json=order_body(point="park", pickup_at=closed.isoformat()),
                               headers=tma(906))
    assert (await at_six.json())["error"] == "point_closed"


async def test_slots_of_an_unknown_point_and_without_launch_data(client, tma):
    unknown = await client.get("/api/points/mars/slots", headers=tma(907))
    assert unknown.status == 404 and (await unknown.json())["error"] == "point_not_found"
    assert (await client.get("/api/points/park/slots")).status == 401
