"""Referrals through the Mini App API: a friend invited from the browser, VK or Telegram is rewarded with
the inviter, whichever call the Mini App makes first (``GET /api/me`` or ``POST /api/visits``)."""
from __future__ import annotations

import pytest
from api_support import ok

from journey.channels import Channel, CustomerRef

START = "X-Vitrina-Start"


async def fulfil(client, staff, order: dict) -> None:
    for step in ("accept", "ready"):
        await ok(await client.post(f"/api/staff/orders/{order['id']}/{step}", headers=staff))
    await ok(await client.post("/api/staff/handover", json={"token": order["pickup_token"]}, headers=staff))


@pytest.fixture
async def app(make_client):
    """The demo with both channels configured: a browser visitor, a VK and a Telegram launch, one server."""
    return await make_client(demo=True)


@pytest.fixture
def friend(tma, vk):
    """Launch headers of a friend who opened ``start`` in the browser, the VK Mini App or Telegram."""
    def headers(kind: str, start: str) -> dict[str, str]:
        if kind == "browser":  # the browser's ?start= travels only in the header
            return {"Authorization": "demo olga", START: start}
        if kind == "vk":  # VK's hash is not among the signed launch params
            return {**vk(9101), START: start}
        return tma(9102, first_name="Ольга Петрова", start_param=start)  # Telegram signs it in initData
    return headers


async def _inviter(app, tma) -> tuple[dict, dict[str, str]]:
    anna = tma(9001, first_name="Анна")
    return await ok(await app.get("/api/me", headers=anna)), anna


@pytest.mark.parametrize("kind", ["browser", "vk", "telegram"])
@pytest.mark.parametrize("me_first", [True, False], ids=["me-then-visits", "visits-then-me"])
async def test_a_friend_from_any_channel_and_the_inviter_both_get_the_bonus(app, tma, staff, order_body, friend,
                                                                             kind, me_first):
    inviter, anna = await _inviter(app, tma)
    start = f"r{inviter['referral_code']}"
    olga = friend(kind, start)
    calls = [lambda: app.get("/api/me", headers=olga),
             lambda: app.post("/api/visits", json={"start": start}, headers=olga)]
    for call in calls if me_first else calls[::-1]:
        assert (await call()).status in (200, 201)
    before = (await ok(await app.get("/api/me", headers=olga)))["points"]
    assert before == 0
    joined = await ok(await app.get("/api/me/referrals", headers=anna))
    assert [(f["status"], f["points"]) for f in joined["friends"]] == [("pending", 0)]
    assert (await ok(await app.get("/api/me/referrals", headers=olga)))["invitation"] == "pending"
    assert joined["invitation"] is None
    order = await ok(await app.post("/api/orders", json=order_body(), headers=olga), 201)
    await fulfil(app, staff, order)
    bonus = joined["bonus"]
    earned = order["total"]["amount"] * 5 // 100  # the shop's 5 % on what she paid
    assert (await ok(await app.get("/api/me", headers=olga)))["points"] == earned + bonus
    assert (await ok(await app.get("/api/me", headers=anna)))["points"] == bonus
    shown = await ok(await app.get("/api/me/referrals", headers=anna))
    assert [(f["status"], f["points"]) for f in shown["friends"]] == [("rewarded", bonus)]
    assert (shown["invited"], shown["rewarded"], shown["points"]) == (1, 1, bonus)
    assert shown["left_this_month"] == shown["monthly_cap"] - 1


async def test_the_header_only_counts_for_a_new_customer(app, tma, staff, order_body):
    inviter, anna = await _inviter(app, tma)
    olga = {"Authorization": "demo olga"}
    order = await ok(await app.post("/api/orders", json=order_body(), headers=olga), 201)
    await fulfil(app, staff, order)
    late = {**olga, START: f"r{inviter['referral_code']}"}
    await ok(await app.get("/api/me", headers=late))
    await ok(await app.post("/api/visits", json={"start": late[START]}, headers=late), 201)
    assert (await ok(await app.get("/api/me/referrals", headers=anna)))["friends"] == []


async def test_an_order_placed_first_carries_the_referral(app, tma, staff, order_body):
    inviter, anna = await _inviter(app, tma)
    olga = {"Authorization": "demo olga", START: f"r{inviter['referral_code']}"}
    order = await ok(await app.post("/api/orders", json=order_body(), headers=olga), 201)
    await fulfil(app, staff, order)
    shown = await ok(await app.get("/api/me/referrals", headers=anna))
    assert [(f["name"], f["status"]) for f in shown["friends"]] == [("olga", "rewarded")]


async def test_telegram_signed_start_wins_over_the_header(app, tma, engine):
    inviter, _ = await _inviter(app, tma)
    other, _ = await ok(await app.get("/api/me", headers=tma(9003, first_name="Вера"))), None
    signed = tma(9102, start_param=f"r{inviter['referral_code']}")
    await ok(await app.get("/api/me", headers={**signed, START: f"r{other['referral_code']}"}))
    found = (await engine.profile(CustomerRef(Channel.TELEGRAM, "9102"))).customer
    assert found.referred_by == inviter["id"]


@pytest.mark.parametrize("bad", ["r" + "x" * 64, "r abc", "r<script>", ""])
async def test_a_malformed_header_is_ignored(app, tma, bad):
    _, anna = await _inviter(app, tma)
    await ok(await app.get("/api/me", headers={"Authorization": "demo olga", START: bad}))
    assert (await ok(await app.get("/api/me/referrals", headers=anna)))["friends"] == []


async def test_one_cannot_invite_oneself_by_the_header(app, tma):
    inviter, anna = await _inviter(app, tma)
    await ok(await app.get("/api/me", headers={**anna, START: f"r{inviter['referral_code']}"}))
    shown = await ok(await app.get("/api/me/referrals", headers=anna))
    assert shown["friends"] == [] and shown["link"].endswith(f"/go/r{inviter['referral_code']}")


async def test_referrals_need_launch_data(app):
    assert (await app.get("/api/me/referrals")).status == 401


async def test_inviting_ones_own_second_account_is_undone_by_linking(app, tma, staff, order_body):
    """Anna opens her own invitation in the browser, picks up, then links the browser to her Telegram:
    one person, so the invitation is void and the bonus paid to both accounts taken back."""
    inviter, anna_tg = await _inviter(app, tma)
    anna_web = {"Authorization": "demo anna", START: f"r{inviter['referral_code']}"}
    await ok(await app.get("/api/me", headers=anna_web))
    order = await ok(await app.post("/api/orders", json=order_body(), headers=anna_web), 201)
    await fulfil(app, staff, order)
    earned = order["total"]["amount"] * 5 // 100
    code = (await ok(await app.post("/api/link/code", headers=anna_tg)))["code"]
    linked = await ok(await app.post("/api/link", json={"code": code}, headers=anna_web))
    assert linked["id"] == inviter["id"] and linked["points"] == earned
    shown = await ok(await app.get("/api/me/referrals", headers=anna_tg))
    assert [f["status"] for f in shown["friends"]] == ["void"] and shown["points"] == 0
    # and linked, her own links count for nothing from either account
    for headers in (anna_tg, anna_web):
        await ok(await app.get("/api/me", headers={**headers, START: f"r{inviter['referral_code']}"}))
    assert [f["status"] for f in (await ok(await app.get("/api/me/referrals", headers=anna_web)))["friends"]] == [
        "void"]


async def test_a_shared_link_with_its_share_tag_counts_the_same(app, tma, staff, order_body):
    inviter, anna = await _inviter(app, tma)
    olga = {"Authorization": "demo olga", START: f"r{inviter['referral_code']}-ts"}  # shared to a Telegram story
    await ok(await app.get("/api/me", headers=olga))
    await fulfil(app, staff, await ok(await app.post("/api/orders", json=order_body(), headers=olga), 201))
    shown = await ok(await app.get("/api/me/referrals", headers=anna))
    assert [f["status"] for f in shown["friends"]] == ["rewarded"]
