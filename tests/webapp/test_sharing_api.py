"""Sharing through the Mini App API: what a customer shares carries their referral code tagged with how it
was shared; a share is recorded for the customer's own order only; the owner's numbers count the shares
and the visits their links brought, and the friend is still the sharer's invitation."""
from __future__ import annotations

import io

import pytest
from api_support import ok
from PIL import Image
from shop_fixtures import OWNER

from adapters.story import PillowStories
from journey.sharing import ShareKind

VIAS = {"telegram_story": "ts", "telegram_inline": "ti", "vk_story": "vs", "vk_wall": "vw", "link": "l"}


@pytest.fixture
async def app(make_client, engine):
    engine.stories = PillowStories()
    return await make_client()


async def picked_up(app, tma, staff, order_body, user_id: int) -> dict:
    order = await ok(await app.post("/api/orders", json=order_body(), headers=tma(user_id)), 201)
    for step in ("accept", "ready"):
        await ok(await app.post(f"/api/staff/orders/{order['id']}/{step}", headers=staff))
    await ok(await app.post("/api/staff/handover", json={"token": order["pickup_token"]}, headers=staff))
    return order


async def test_every_link_offered_carries_the_referral_code_and_how_it_is_shared(app, tma):
    me = await ok(await app.get("/api/me", headers=tma(7001)))
    offer = await ok(await app.get("/api/share", headers=tma(7001)))
    assert offer["code"] == me["referral_code"]
    assert {x["kind"]: (x["start"], x["link"]) for x in offer["links"]} == {
        kind: (f"r{me['referral_code']}-{via}", f"https://shop.example/go/r{me['referral_code']}-{via}")
        for kind, via in VIAS.items()}
    assert offer["story"].startswith("https://shop.example/share/story.jpg?v=")
    assert offer["inline_query"]


async def test_the_story_picture_is_a_portrait_jpeg_cached_by_its_digest(app, tma):
    offer = await ok(await app.get("/api/share", headers=tma(7001)))
    path = offer["story"].removeprefix("https://shop.example")
    answer = await app.get(path)  # public: Telegram and VK fetch it without launch data
    assert answer.status == 200 and answer.content_type == "image/jpeg"
    assert Image.open(io.BytesIO(await answer.read())).size == (1080, 1920)
    etag = answer.headers["ETag"]
    assert path.endswith(etag.strip('"'))
    assert (await app.get(path, headers={"If-None-Match": etag})).status == 304


async def test_without_a_renderer_no_story_is_offered(make_client, engine, tma):
    app = await make_client()  # engine.stories is None
    assert (await ok(await app.get("/api/share", headers=tma(7001))))["story"] is None
    assert (await app.get("/share/story.jpg")).status == 404


async def test_a_share_after_pickup_is_recorded_with_its_link(app, tma, staff, order_body):
    order = await picked_up(app, tma, staff, order_body, 7001)
    code = (await ok(await app.get("/api/me", headers=tma(7001))))["referral_code"]
    share = await ok(await app.post("/api/shares", json={"kind": "telegram_story", "order_id": order["id"]},
                                    headers=tma(7001)), 201)
    assert (share["kind"], share["order_id"]) == ("telegram_story", order["id"])
    assert share["link"] == f"https://shop.example/go/r{code}-ts"
    plain = await ok(await app.post("/api/shares", json={"kind": "link"}, headers=tma(7001)), 201)
    assert plain["order_id"] is None and plain["link"].endswith(f"r{code}-l")


async def test_someone_elses_order_and_a_bad_kind_are_refused(app, tma, staff, order_body, engine):
    order = await picked_up(app, tma, staff, order_body, 7001)
    other = await app.post("/api/shares", json={"kind": "vk_story", "order_id": order["id"]}, headers=tma(7002))
    assert other.status == 404 and (await other.json())["error"] == "order_not_found"
    missing = await app.post("/api/shares", json={"kind": "vk_story", "order_id": "o_nope"}, headers=tma(7001))
    assert missing.status == 404
    for bad in ({"kind": "instagram"}, {"kind": ""}, {}, {"kind": "link", "extra": 1}, {"kind": 5}):
        refused = await app.post("/api/shares", json=bad, headers=tma(7001))
        assert refused.status == 400 and (await refused.json())["error"] == "bad_input", bad
    assert (await app.post("/api/shares", json={"kind": "link"})).status == 401
    stats = await engine.stats(OWNER, 1)
    assert stats.shares == ()  # nothing refused was counted


async def test_the_funnel_counts_shares_and_the_visits_their_links_bring(app, tma, vk, staff, order_body, engine):
    order = await picked_up(app, tma, staff, order_body, 7001)
    code = (await ok(await app.get("/api/me", headers=tma(7001))))["referral_code"]
    for kind in ("telegram_story", "telegram_story", "vk_wall"):
        await ok(await app.post("/api/shares", json={"kind": kind, "order_id": order["id"]}, headers=tma(7001)), 201)
    # a friend opens the story's link in VK, another the wall post's in Telegram, a third a plain invitation
    await ok(await app.post("/api/visits", json={"start": f"r{code}-ts"}, headers=vk(8101)), 201)
    await ok(await app.post("/api/visits", json={"start": f"r{code}-vw"}, headers=tma(8102)), 201)
    await ok(await app.post("/api/visits", json={"start": f"r{code}"}, headers=tma(8103)), 201)
    stats = await engine.stats(OWNER, 1)
    assert stats.shares == ((ShareKind.TELEGRAM_STORY.value, 2), (ShareKind.VK_WALL.value, 1))
    assert stats.share_visits == ((ShareKind.TELEGRAM_STORY.value, 1), (ShareKind.VK_WALL.value, 1))
    assert dict(stats.by_source)["ref"].visits == 3  # a shared link is still an invitation
    friends = await ok(await app.get("/api/me/referrals", headers=tma(7001)))
    assert friends["invited"] == 3  # each friend is the sharer's, whichever link they came by
