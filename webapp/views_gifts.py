"""Gifts: what a gift may be, buy one (paid online), look at one by its code, take it, order with it
(journey/gifts.py)."""
from __future__ import annotations

from aiohttp import web

from journey.channels import Channel
from journey.deeplinks import DeepLink, LinkKind
from journey.gifts import GiftView

from . import answers as a
from . import serialize
from .bodies import GiftBody, GiftOrderBody
from .views import body, caller, config, engine, reply, start_link
from .views_orders import _return_url, present

routes = web.RouteTableDef()


def gift_answer(v: GiftView, base_url: str) -> a.Gift:
    g = v.gift
    start = DeepLink(f"g{g.code}", LinkKind.GIFT, code=g.code).raw
    return a.Gift(code=g.code, start=start, link=f"{base_url}/go/{start}", status=g.status.value, item=g.item_id,
                  title=g.title, amount=serialize._money(g.amount), message=g.message, from_name=g.giver_name,
                  giver=v.giver, taker=v.taker, claimable=v.claimable, taken=g.friend_id is not None,
                  expires_at=g.expires_at, payment_link=v.payment_link or None,
                  order=g.order_id if v.taker else None)


def _answer(request: web.Request, view: GiftView, status: int = 200) -> web.Response:
    return reply(gift_answer(view, config(request).base_url).model_dump(mode="json"), status)


def _back(request: web.Request) -> str:
    """Where the giver comes back from the payment page: the gift's screen in the browser; in Telegram and
    VK the Mini App is still open behind (the page that says so)."""
    base = config(request).base_url
    return f"{base}/#/gift/" if caller(request).channel == Channel.WEB else f"{base}/paid?order="


@routes.get("/api/gifts/offer")
async def get_offer(request: web.Request) -> web.Response:
    found = await engine(request).gift_offer(caller(request))
    offer = a.GiftOffer(amounts=[serialize._money(m) for m in found.amounts], payments=found.methods,
                        days=found.days)
    return reply(offer.model_dump(mode="json"))


@routes.get("/api/gifts")
async def get_gifts(request: web.Request) -> web.Response:
    base = config(request).base_url
    found = await engine(request).my_gifts(caller(request))
    return reply(a.Gifts(gifts=[gift_answer(v, base) for v in found]).model_dump(mode="json"))


@routes.post("/api/gifts")
async def post_gift(request: web.Request) -> web.Response:
    wanted = await body(request, GiftBody)
    view = await engine(request).buy_gift(caller(request), item_id=wanted.item, amount=wanted.amount,
                                          message=wanted.message, provider=wanted.payment,
                                          return_url=_back(request), email=wanted.email or "",
                                          link=start_link(request))
    return _answer(request, view, 201)


@routes.get("/api/gifts/{code}")
async def get_gift(request: web.Request) -> web.Response:
    return _answer(request, await engine(request).gift_view(caller(request), request.match_info["code"]))


@routes.post("/api/gifts/{code}/claim")
async def post_claim(request: web.Request) -> web.Response:
    view = await engine(request).claim_gift(caller(request), request.match_info["code"], start_link(request))
    return _answer(request, view)


@routes.post("/api/gifts/{code}/order")
async def post_order(request: web.Request) -> web.Response:
    wanted = await body(request, GiftOrderBody)
    view = await engine(request).order_gift(
        caller(request), request.match_info["code"], wanted.point, pickup_at=wanted.pickup_at, cart=wanted.cart(),
        provider=wanted.payment, return_url=_return_url(request), email=wanted.email or "",
        request_id=wanted.request_id)
    return reply(await present(request, view.order.id), 201)
