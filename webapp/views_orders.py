"""The customer's cart and orders: quote, place, list, show, pickup QR, cancel, repeat, review."""
from __future__ import annotations

from aiohttp import web

from journey.channels import Channel
from journey.deeplinks import parse_start

from . import serialize
from .bodies import CartBody, OrderBody, ReviewBody
from .views import body, caller, config, engine, launch, qr, reply

routes = web.RouteTableDef()


async def present(request: web.Request, order_id: str) -> serialize.Json:
    """One order as the caller may see it: the engine decides whether they may, and whether as staff."""
    details = await engine(request).order_details(caller(request), order_id)
    return serialize.order(details, details.pickup_token, staff=details.staff)


@routes.post("/api/cart/quote")
async def post_quote(request: web.Request) -> web.Response:
    cart = await body(request, CartBody)
    eng, ref = engine(request), caller(request)
    quote = await eng.quote(ref, cart.cart(), promo_code=cart.promo, points=cart.points)
    return reply(serialize.quote(quote, await eng.balance(ref)))


@routes.post("/api/orders")
async def post_order(request: web.Request) -> web.Response:
    wanted = await body(request, OrderBody)
    # the last touch: what the Mini App was opened with (Telegram signs it; VK and the browser do not)
    start = parse_start(launch(request).start_param or wanted.start)
    view = await engine(request).place_order(
        caller(request), wanted.cart(), wanted.point, pickup_at=wanted.pickup_at, promo_code=wanted.promo,
        points=wanted.points, provider=wanted.payment, source=start.label if start else "",
        request_id=wanted.request_id, return_url=_return_url(request), email=wanted.email or "", link=start)
    return reply(await present(request, view.order.id), 201)


def _return_url(request: web.Request) -> str:
    """Where a provider's payment page sends the customer back (the order's id is appended): the order's
    screen in the browser; in Telegram and VK the Mini App is still open behind, and a page says so."""
    base = config(request).base_url
    return f"{base}/#/order/" if caller(request).channel == Channel.WEB else f"{base}/paid?order="


@routes.get("/api/orders")
async def get_orders(request: web.Request) -> web.Response:
    return reply(serialize.orders(await engine(request).my_orders(caller(request))))


@routes.get("/api/orders/{order_id}")
async def get_order(request: web.Request) -> web.Response:
    return reply(await present(request, request.match_info["order_id"]))


@routes.get("/api/orders/{order_id}/qr.svg")
async def get_order_qr(request: web.Request) -> web.Response:
    view = await engine(request).order_view(caller(request), request.match_info["order_id"])
    svg = qr(request).svg(view.pickup_token, caption=f"№ {view.order.short_code}")
    return web.Response(body=svg, content_type="image/svg+xml",
                        headers={"Cache-Control": "no-store", "Content-Disposition": "inline"})


@routes.post("/api/orders/{order_id}/cancel")
async def post_cancel(request: web.Request) -> web.Response:
    order = await engine(request).cancel(caller(request), request.match_info["order_id"])
    return reply(await present(request, order.id))


@routes.post("/api/orders/{order_id}/repeat")
async def post_repeat(request: web.Request) -> web.Response:
    eng, ref, order_id = engine(request), caller(request), request.match_info["order_id"]
    lines = await eng.repeat_lines(ref, order_id)
    view = await eng.order_view(ref, order_id)
    return reply(serialize.repeat(lines, len(view.order.lines) - len(lines)))


@routes.post("/api/orders/{order_id}/reviews")
async def post_review(request: web.Request) -> web.Response:
    wanted = await body(request, ReviewBody)
    review = await engine(request).add_review(caller(request), request.match_info["order_id"], wanted.item,
                                              wanted.rating, wanted.text)
    return reply(serialize.review(review), 201)
