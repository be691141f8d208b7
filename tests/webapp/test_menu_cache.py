"""Menu answers (webapp/menu_cache.py): kept per version of what the menu shows, not rebuilt by orders of items
made to order or the staff's work; sent in the encoding the client accepts; 304 when the client has them.

Every test runs on the backend the run is for (``VITRINA_TEST_BACKEND``); the version's triggers are checked on
both (tests/storage/test_menu_version.py).
"""
from __future__ import annotations

import asyncio
import gzip
import json

import brotli
from api_support import ok, refused
from pg_support import same_store
from shop_fixtures import BARISTA, customer

from journey.catalog import Category
from journey.errors import ErrorCode
from journey.model import CartLine
from webapp.config import MENU_CACHE
from webapp.menu_cache import MenuCache

MENU = "/api/menu?point=center"


def builds(client) -> int:
    return client.server.app[MENU_CACHE].builds


async def raw(client, path: str, headers: dict, **more: str):
    """(status, headers, body as sent: not decompressed)."""
    async with client.session.get(client.make_url(path), headers={**headers, **more}, auto_decompress=False) as r:
        return r.status, r.headers, await r.read()


async def stock(client, headers, item: str = "croissant") -> int | None:
    menu = await ok(await client.get(MENU, headers=headers))
    return next(i["stock"] for i in menu["items"] if i["id"] == item)


async def test_orders_of_items_made_to_order_and_the_staffs_work_do_not_rebuild_the_menu(client, tma, engine):
    anna = tma(5001)
    await ok(await client.get(MENU, headers=anna))
    built = builds(client)
    order = (await engine.place_order(customer(1), [CartLine("latte", 2, {"size": ("m",)})], "center")).order
    await engine.accept(BARISTA, order.id)
    await engine.mark_ready(BARISTA, order.id)
    await engine.hand_over(BARISTA, order_id=order.id)  # points earned, payment captured
    await ok(await client.get("/api/me", headers=anna))  # the customer's account is written
    assert await stock(client, anna) == 10
    assert builds(client) == built


async def test_what_the_menu_shows_is_never_stale(client, tma, engine, db):
    anna = tma(5001)
    assert await stock(client, anna) == 10
    await engine.place_order(customer(1), [CartLine("croissant", 3)], "center")  # a counted item
    assert await stock(client, anna) == 7
    await engine.set_available("eclair", False)
    assert "eclair" not in {i["id"] for i in (await ok(await client.get(MENU, headers=anna)))["items"]}
    await engine.set_stock("center", "espresso", 4)  # counted from now on
    assert await stock(client, anna, "espresso") == 4
    await engine.set_stock("center", "espresso", None)  # made to order again
    assert await stock(client, anna, "espresso") is None

    other = same_store(db)  # another process or instance: its commits move the version too
    await other.connect()
    try:
        async with other.uow() as uow:
            await uow.catalog.save_category(Category("coffee", "Кофе и чай", 0))
            await uow.catalog.set_stock("center", "croissant", 42)
    finally:
        await other.close()
    menu = await ok(await client.get(MENU, headers=anna))
    assert {c["id"]: c["name"] for c in menu["categories"]}["coffee"] == "Кофе и чай"
    assert await stock(client, anna) == 42


async def test_a_review_shows_on_the_menu_and_in_the_items_reviews(client, tma, engine):
    anna = tma(5001)
    first = await ok(await client.get(MENU, headers=anna))
    assert {i["id"]: i["rating"] for i in first["items"]}["latte"] == {"average": None, "count": 0}
    before = await ok(await client.get("/api/items/latte/reviews", headers=anna))
    assert before["count"] == 0 and before["reviews"] == []

    ref = customer(1)
    order = (await engine.place_order(ref, [CartLine("latte", 1, {"size": ("s",)})], "center")).order
    for step in (engine.accept, engine.mark_ready):
        await step(BARISTA, order.id)
    await engine.hand_over(BARISTA, order_id=order.id)
    await engine.add_review(ref, order.id, "latte", 4, "Хорошо")

    menu = await ok(await client.get(MENU, headers=anna))
    assert {i["id"]: i["rating"] for i in menu["items"]}["latte"] == {"average": 4, "count": 1}
    after = await ok(await client.get("/api/items/latte/reviews", headers=anna))
    assert after["count"] == 1 and [r["text"] for r in after["reviews"]] == ["Хорошо"]


async def test_each_client_gets_the_encoding_it_accepts(client, tma):
    anna = tma(5001)
    status, headers, plain = await raw(client, MENU, anna, **{"Accept-Encoding": "identity"})
    assert status == 200 and "Content-Encoding" not in headers
    assert json.loads(plain)["point"] == "center"
    assert "Accept-Encoding" in headers["Vary"] and headers["Cache-Control"] == "private, no-cache"

    _, headers, body = await raw(client, MENU, anna, **{"Accept-Encoding": "gzip, deflate"})
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == plain
    _, headers, body = await raw(client, MENU, anna, **{"Accept-Encoding": "gzip, deflate, br"})
    assert headers["Content-Encoding"] == "br" and brotli.decompress(body) == plain
    assert len(body) < len(plain) / 2
    # a coding the client refuses (q=0) is never sent
    _, headers, body = await raw(client, MENU, anna, **{"Accept-Encoding": "br;q=0, gzip;q=0.5"})
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == plain
    _, headers, body = await raw(client, MENU, anna, **{"Accept-Encoding": "br;q=0, gzip;q=0"})
    assert "Content-Encoding" not in headers and body == plain


async def test_the_client_that_has_the_menu_gets_304_until_it_changes(client, tma, engine):
    anna = tma(5001)
    status, headers, body = await raw(client, MENU, anna, **{"Accept-Encoding": "gzip"})
    etag = headers["ETag"]
    assert status == 200 and etag.startswith('"')
    status, headers, body = await raw(client, MENU, anna, **{"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert (status, body, headers["ETag"]) == (304, b"", etag)
    # the same bytes in another encoding, a weak comparison, a list: all name what the client has
    for tags in (etag, f"W/{etag}", f'"other", {etag}'):
        status, _, _ = await raw(client, MENU, anna, **{"Accept-Encoding": "br", "If-None-Match": tags})
        assert status == 304
    status, _, _ = await raw(client, MENU, anna, **{"If-None-Match": '"something-else"'})
    assert status == 200

    await engine.set_stock("center", "croissant", 2)
    status, headers, body = await raw(client, MENU, anna, **{"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert status == 200 and headers["ETag"] != etag
    assert next(i for i in json.loads(gzip.decompress(body))["items"] if i["id"] == "croissant")["stock"] == 2


async def test_an_unchanged_menu_keeps_its_etag_even_when_rebuilt(client, tma, engine):
    """The tag is made from the bytes: a change undone (stock set and set back) still answers 304."""
    anna = tma(5001)
    _, headers, _ = await raw(client, MENU, anna)
    await engine.set_stock("center", "croissant", 5)
    await engine.set_stock("center", "croissant", 10)
    status, _, _ = await raw(client, MENU, anna, **{"If-None-Match": headers["ETag"]})
    assert status == 304


async def test_requests_that_arrive_together_build_the_menu_once(client, tma, engine):
    anna = tma(5001)
    await ok(await client.get(MENU, headers=anna))
    await engine.set_stock("center", "croissant", 6)
    built = builds(client)
    answers = await asyncio.gather(*(client.get(MENU, headers=anna) for _ in range(12)))
    assert {next(i["stock"] for i in (await ok(a))["items"] if i["id"] == "croissant") for a in answers} == {6}
    assert builds(client) == built + 1


async def test_points_and_items_that_do_not_exist_are_refused_and_not_kept(client, tma):
    anna = tma(5001)
    await refused(await client.get("/api/menu?point=nowhere", headers=anna), 404, ErrorCode.POINT_NOT_FOUND)
    assert "nowhere" not in client.server.app[MENU_CACHE].menus
    await refused(await client.get(f"/api/items/{'x' * 65}/reviews", headers=anna), 400, ErrorCode.BAD_INPUT)
    await refused(await client.get(MENU), 401, ErrorCode.UNAUTHORIZED)  # launch data, as before


async def test_reviews_of_many_items_keep_a_bounded_cache(client, tma):
    anna = tma(5001)
    cache = client.server.app[MENU_CACHE]
    cache.MAX_REVIEWS = 3  # this app's cache only
    for n in range(8):
        assert (await ok(await client.get(f"/api/items/i{n}/reviews", headers=anna)))["count"] == 0
    assert list(cache.reviews) == ["i5", "i6", "i7"]


class Versions:
    """An engine's ``menu_version`` that counts its reads; ``waits``: each read waits a turn of the loop, as a
    unit of work's or PostgreSQL's does."""

    def __init__(self, waits: bool = False) -> None:
        self.value, self.reads, self.waits = "v1", 0, waits

    async def menu_version(self) -> str:
        self.reads += 1
        if self.waits:
            await asyncio.sleep(0)
        return self.value


async def test_a_version_read_without_waiting_holds_until_the_loop_turns():
    cache, engine = MenuCache(), Versions()
    assert await cache.version(engine) == "v1"
    engine.value = "v2"  # committed after the read: the requests still in this turn came in before it
    assert await cache.version(engine) == "v1" and engine.reads == 1
    await asyncio.sleep(0)  # the next turn: a request handled now may have come in after the commit
    assert await cache.version(engine) == "v2" and engine.reads == 2
    assert await cache.version(engine) == "v2" and engine.reads == 2


async def test_a_version_read_that_waited_is_read_again_by_the_next_request():
    cache, engine = MenuCache(), Versions(waits=True)
    assert await cache.version(engine) == "v1"
    engine.value = "v2"  # a request may have come in while the read waited: it is not given that read
    assert await cache.version(engine) == "v2" and engine.reads == 2
    together = await asyncio.gather(*(cache.version(engine) for _ in range(3)))
    assert together == ["v2"] * 3 and engine.reads == 5
