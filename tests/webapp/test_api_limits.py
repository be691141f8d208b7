"""Abuse limits on the Mini App API (webapp/limits.py, journey/limits.py): per client address and per account.

A flood is answered 429 with ``Retry-After`` (whole seconds) and ``{"error": "rate_limited", "message"}`` in
the caller's language; the bucket refills with the shop's clock. ``X-Forwarded-For`` names the client only
when the direct peer is a trusted proxy. A flood of orders from one address cannot take the shelf. A link code
never merges a staff account, whichever side enters it, so nobody gets staff rights through /api/link.
Runs on PostgreSQL too with VITRINA_TEST_BACKEND=postgres.
"""
from __future__ import annotations

from dataclasses import replace

from api_support import ok, refused

from journey.channels import Channel, CustomerRef
from journey.errors import ErrorCode
from journey.limits import Bucket, ShopLimits
from webapp.openapi import document


def tight(engine, **buckets: Bucket) -> None:
    engine.limits = replace(engine.limits, **buckets)


async def too_many(response, wait: int, message: str) -> None:
    assert response.status == 429, await response.text()
    assert response.headers["Retry-After"] == str(wait)
    assert await response.json() == {"error": "rate_limited", "message": message}


async def croissants_left(client, headers) -> int:
    menu = await ok(await client.get("/api/menu?point=center", headers=headers))
    return {i["id"]: i for i in menu["items"]}["croissant"]["stock"]


async def test_a_flood_from_one_address_is_answered_429_until_the_bucket_refills(client, engine, clock, tma):
    tight(engine, address_api=Bucket(5, 3600))  # five at once, then one a second
    for n in range(5):
        await ok(await client.get("/api/me", headers=tma(7000 + n)))
    await too_many(await client.get("/api/me", headers=tma(7010)), 1, "Слишком часто. Попробуйте через 1 с.")
    await too_many(await client.get("/api/config", headers={"Accept-Language": "en"}), 1,
                   "Too often. Please try again in 1 s.")  # public calls too, before anyone signs in
    clock.advance(seconds=1)
    await ok(await client.get("/api/me", headers=tma(7011)))
    assert (await client.get("/api/me", headers=tma(7012))).status == 429
    assert (await client.get("/go/p1")).status != 429  # only the API is limited


async def test_the_engines_limit_per_account_is_429_in_the_customers_language(client, engine, tma, order_body):
    tight(engine, orders=Bucket(1, 120))
    await ok(await client.post("/api/orders", json=order_body(request_id="a"), headers=tma(7100)), 201)
    await too_many(await client.post("/api/orders", json=order_body(request_id="b"), headers=tma(7100)), 30,
                   "Слишком часто. Попробуйте через 30 с.")
    await ok(await client.post("/api/orders", json=order_body(request_id="a"), headers=tma(7101)), 201)
    john = tma(7102, language_code="en")
    await ok(await client.post("/api/orders", json=order_body(request_id="a"), headers=john), 201)
    await too_many(await client.post("/api/orders", json=order_body(request_id="b"), headers=john), 30,
                   "Too often. Please try again in 30 s.")


async def test_a_flood_of_orders_from_one_address_cannot_take_the_shelf(client, engine, tma, order_body):
    """With the default limits: many accounts behind one address place orders until the address's order
    bucket is empty; what is left on the shelf stays for everyone else."""
    await engine.set_stock("center", "croissant", 100)
    burst = ShopLimits().address_orders.burst
    answers = [await client.post("/api/orders", json=order_body(request_id="f"), headers=tma(8000 + n))
               for n in range(burst + 20)]
    assert [r.status for r in answers] == [201] * burst + [429] * 20
    assert all(r.headers["Retry-After"] == "3" for r in answers[burst:])  # 1200 an hour: one per 3 s
    assert await croissants_left(client, tma(9000)) == 100 - burst


async def test_one_customer_flooding_orders_reserves_no_more_than_the_open_orders_cap(client, tma, order_body):
    flood = [await client.post("/api/orders", json=order_body(request_id=f"r{n}"), headers=tma(7200))
             for n in range(ShopLimits().orders.burst + 5)]
    statuses = [r.status for r in flood]
    assert statuses == [201] * 3 + [409] * (ShopLimits().orders.burst - 3) + [429] * 5
    assert await croissants_left(client, tma(7201)) == 10 - 3


async def test_x_forwarded_for_is_ignored_from_an_untrusted_peer(client, engine, tma):
    tight(engine, address_api=Bucket(2, 60))
    for n in range(2):
        await ok(await client.get("/api/me", headers={**tma(7300), "X-Forwarded-For": f"203.0.113.{n}"}))
    answer = await client.get("/api/me", headers={**tma(7300), "X-Forwarded-For": "203.0.113.9"})
    assert answer.status == 429  # every request came from the test client's own address


async def test_x_forwarded_for_names_the_client_behind_a_trusted_proxy(make_client, engine, tma):
    client = await make_client(trusted_proxies=("127.0.0.0/8", "10.0.0.0/8"))
    tight(engine, address_api=Bucket(2, 60))
    cafe, home = {"X-Forwarded-For": "198.51.100.7"}, {"X-Forwarded-For": "198.51.100.8, 10.1.2.3"}
    for _ in range(2):
        await ok(await client.get("/api/me", headers={**tma(7400), **cafe}))
    assert (await client.get("/api/me", headers={**tma(7401), **cafe})).status == 429
    # another client behind the proxy (through a second proxy of ours) has a bucket of its own
    await ok(await client.get("/api/me", headers={**tma(7402), **home}))
    # a client cannot escape its bucket by writing addresses of its own to the left
    spoofed = {"X-Forwarded-For": "192.0.2.1, 198.51.100.7"}
    assert (await client.get("/api/me", headers={**tma(7403), **spoofed})).status == 429
    # IPv6 clients are counted by their /64
    for n in range(2):
        await ok(await client.get("/api/me", headers={**tma(7404), "X-Forwarded-For": f"2001:db8:1:2::{n + 1}"}))
    assert (await client.get("/api/me", headers={**tma(7405), "X-Forwarded-For": "2001:db8:1:2::ff"})).status == 429
    await ok(await client.get("/api/me", headers={**tma(7406), "X-Forwarded-For": "2001:db8:1:3::1"}))


async def test_costly_operations_have_tighter_buckets_per_address(client, engine, tma, staff):
    tight(engine, address_link_codes=Bucket(2, 60), address_pickup_lookups=Bucket(2, 3600),
          address_reviews=Bucket(1, 60))
    for n in range(2):
        await ok(await client.post("/api/link/code", headers=tma(7500 + n)))
    await too_many(await client.post("/api/link", json={"code": "123456"}, headers=tma(7502)), 60,
                   "Слишком часто. Попробуйте через 60 с.")
    for _ in range(2):
        await refused(await client.post("/api/staff/lookup", json={"code": "0000"}, headers=staff), 404,
                      ErrorCode.PICKUP_CODE_INVALID)
    assert (await client.post("/api/staff/handover", json={"code": "0000"}, headers=staff)).status == 429
    await refused(await client.post("/api/orders/o-none/reviews", json={"item": "croissant", "rating": 5},
                                    headers=tma(7503)), 404, ErrorCode.ORDER_NOT_FOUND)
    assert (await client.post("/api/orders/o-none/reviews", json={"item": "croissant", "rating": 5},
                              headers=tma(7504))).status == 429
    await ok(await client.get("/api/me", headers=tma(7505)))  # the general bucket still has room


async def test_the_wrong_link_code_lockout_is_429_with_retry_after(client, tma):
    guesser = tma(7600)
    for _ in range(5):
        await refused(await client.post("/api/link", json={"code": "000000"}, headers=guesser), 400,
                      ErrorCode.LINK_CODE_INVALID)
    locked = await client.post("/api/link", json={"code": "000000"}, headers=guesser)
    assert locked.status == 429 and locked.headers["Retry-After"] == "600"
    assert await locked.json() == {"error": "link_too_many_attempts",
                                   "message": ErrorCode.LINK_TOO_MANY_ATTEMPTS.message("ru")}


async def test_limits_off_answer_no_429(client, engine, tma):
    engine.limits = ShopLimits.off()
    for _ in range(50):
        await ok(await client.post("/api/link/code", headers=tma(7700)))


def test_every_operation_documents_429_with_retry_after():
    operations = [(path, method, op) for path, item in document()["paths"].items() for method, op in item.items()]
    assert len(operations) > 40
    for path, method, op in operations:
        answer = op["responses"].get("429")
        assert answer is not None, (path, method)
        assert answer["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}, (path, method)


# --- /api/link never carries staff rights ----------------------------------------------------------------

async def test_a_barista_entering_a_customers_code_is_refused_and_rights_stay_put(client, tma, vk, staff):
    customer = vk(7800)
    code = (await ok(await client.post("/api/link/code", headers=customer)))["code"]
    await refused(await client.post("/api/link", json={"code": code}, headers=staff), 403,
                  ErrorCode.LINK_STAFF_ACCOUNT)
    await refused(await client.get("/api/staff/orders", headers=customer), 403, ErrorCode.NOT_STAFF)
    await ok(await client.get("/api/staff/orders", headers=staff))
    assert len((await ok(await client.get("/api/me", headers=customer)))["channels"]) == 1  # nothing merged
    # the customer's own Telegram account may still use the code
    await ok(await client.post("/api/link", json={"code": code}, headers=tma(7800)))
    await refused(await client.get("/api/staff/orders", headers=tma(7800)), 403, ErrorCode.NOT_STAFF)


async def test_a_customer_cannot_enter_a_staff_members_code(client, engine, tma, vk, staff):
    await refused(await client.post("/api/link/code", headers=staff), 403, ErrorCode.LINK_STAFF_ACCOUNT)
    # a code asked for before the account was made staff no longer merges either
    soon_staff = tma(7900)
    code = (await ok(await client.post("/api/link/code", headers=soon_staff)))["code"]
    await engine.add_staff(CustomerRef(Channel.TELEGRAM, "7900"), "center")
    await refused(await client.post("/api/link", json={"code": code}, headers=vk(7901)), 403,
                  ErrorCode.LINK_STAFF_ACCOUNT)
    await refused(await client.get("/api/staff/orders", headers=vk(7901)), 403, ErrorCode.NOT_STAFF)
    await ok(await client.get("/api/staff/orders", headers=soon_staff))
