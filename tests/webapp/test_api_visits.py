"""Where the Mini App was opened from: visits, first touch, referrals, and the order's last touch."""
from __future__ import annotations

from journey.channels import Channel, CustomerRef


async def test_a_vk_launch_from_a_counter_qr_is_recorded_as_first_and_last_touch(client, vk, engine, order_body):
    ira = vk(701)
    answer = await client.post("/api/visits", json={"start": "pcenter"}, headers=ira)
    assert answer.status == 201 and await answer.json() == {"kind": "point", "source": "qr:center"}
    assert (await engine.profile(CustomerRef(Channel.VK, "701"))).customer.source == "qr:center"
    placed = await client.post("/api/orders", json=order_body(start="tcenter_4"), headers=ira)
    assert placed.status == 201
    order = (await engine.orders_of(CustomerRef(Channel.VK, "701")))[0]
    assert order.source == "table:center:4"
    async with engine.read() as uow:
        assert await uow.visits.count("pcenter") == 1


async def test_a_referral_opened_in_the_mini_app_makes_a_referred_friend(client, tma, engine):
    friend = await engine.profile(CustomerRef(Channel.TELEGRAM, "800"))
    code = friend.customer.referral_code
    assert (await client.post("/api/visits", json={"start": f"r{code}"}, headers=tma(801))).status == 201
    assert (await engine.profile(CustomerRef(Channel.TELEGRAM, "801"))).customer.referred_by == friend.customer.id


async def test_an_unknown_start_is_recorded_and_a_malformed_one_refused(client, tma, engine):
    unknown = await client.post("/api/visits", json={"start": "zzz"}, headers=tma(802))
    assert (await unknown.json())["kind"] == "unknown"
    for bad in ("p center", "x" * 65, "<script>", ""):
        refused = await client.post("/api/visits", json={"start": bad}, headers=tma(803))
        assert refused.status == 400 and (await refused.json())["error"] == "bad_input"
    async with engine.read() as uow:
        assert await uow.visits.count() == 1
