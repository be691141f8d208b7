"""Who I am, where the shop is, what it sells: config, me, points, menu, reviews, account linking."""
from __future__ import annotations

from aiohttp import web

from journey.channels import Channel
from journey.errors import DomainError, ErrorCode

from . import menu_cache, serialize, views_privacy
from .bodies import LanguageBody, LinkBody, MessagesBody, VisitBody
from .config import MENU_CACHE
from .views import body, caller, config, engine, query_id, reply, start_link

routes = web.RouteTableDef()


@routes.get("/api/config")
async def get_config(request: web.Request) -> web.Response:
    """Public: what the front end needs before it knows who is calling."""
    cfg, eng = config(request), engine(request)
    rules = (await eng.shop_view()).rules  # the name as the owner last set it (/shop name)
    return reply(serialize.config(cfg.demo, rules.name, rules, cfg.mini_apps, cfg.base_url,
                                  eng.payment_methods(), cfg.receipt_email,
                                  await views_privacy.privacy_config(request)))  # personal data


async def _me(request: web.Request) -> web.Response:
    # the launch's start parameter: a friend's referral is recorded with the account, whichever call is first
    profile = await engine(request).profile(caller(request), start_link(request))
    consent = await engine(request).consent(caller(request))  # personal data: the latest consent given
    return reply(serialize.me(profile, config(request).base_url, consent))


@routes.get("/api/me")
async def get_me(request: web.Request) -> web.Response:
    return await _me(request)


@routes.patch("/api/me")
async def patch_me(request: web.Request) -> web.Response:
    wanted = await body(request, LanguageBody)
    await engine(request).set_language(caller(request), wanted.language)
    return await _me(request)


@routes.post("/api/me/messages")
async def post_messages(request: web.Request) -> web.Response:
    """The answer to the platform's "allow messages from the shop?" (VK asks at the first checkout):
    allowed, notifications go to this account; refused, nothing unsolicited does until the customer
    writes to the shop or opens the Mini App again."""
    answer = await body(request, MessagesBody)
    allowed = await engine(request).set_messages_allowed(caller(request), answer.allowed)
    return reply(serialize.messages(allowed))


@routes.get("/api/packs")
async def get_packs(request: web.Request) -> web.Response:
    """Points packs for Telegram Stars: offered only to a customer inside Telegram."""
    eng, ref = engine(request), caller(request)
    return reply(serialize.packs(await eng.points_packs() if ref.channel == Channel.TELEGRAM else ()))


@routes.post("/api/packs/{pack_id}")
async def post_pack(request: web.Request) -> web.Response:
    """Buy a points pack: a purchase and its Stars invoice, which the Mini App opens with openInvoice."""
    eng, ref, pack_id = engine(request), caller(request), request.match_info["pack_id"]
    english = (await eng.language(ref)) == "en"
    points = pack_id.partition("x")[0]
    shop = (await eng.shop_view()).rules.name
    title = f"{points} points" if english else f"{points} баллов"
    description = f"{shop}: 1 point = 1 kopeck off" if english else f"{shop}: 1 балл = 1 копейка скидки"
    purchase, link = await eng.pack_invoice_link(ref, pack_id, title, description)
    return reply(serialize.pack_invoice(purchase.id, link), 201)


@routes.post("/api/visits")
async def post_visit(request: web.Request) -> web.Response:
    """The Mini App was opened from a QR code, a referral or a campaign: record it (the first touch too)."""
    link = (await body(request, VisitBody)).link()
    await engine(request).record_visit(link, caller(request).channel, caller(request))
    return reply(serialize.visit(link), 201)


@routes.get("/api/points")
async def get_points(request: web.Request) -> web.Response:
    eng = engine(request)
    shop = await eng.shop_view()
    now = eng.now()
    return reply(serialize.points(shop.points, now, shop.rules.timezone))


@routes.get("/api/points/{point}/slots")
async def get_slots(request: web.Request) -> web.Response:
    """The pickup times the point can serve for an order placed now: the checkout offers only these."""
    return reply(serialize.pickup_times(await engine(request).pickup_slots(request.match_info["point"])))


@routes.get("/api/menu")
async def get_menu(request: web.Request) -> web.Response:
    """The same for every customer of a point: built once per change of what it shows (webapp/menu_cache.py),
    then sent as it is, compressed ahead, or 304 when the client already has it."""
    point_id = query_id(request, "point")
    return menu_cache.respond(request, await request.app[MENU_CACHE].menu(request, point_id))


@routes.get("/api/items/{item_id}/reviews")
async def get_item_reviews(request: web.Request) -> web.Response:
    """Kept as the menu is, per item and version (webapp/menu_cache.py): 304 when the client has it."""
    item_id = request.match_info["item_id"]
    if len(item_id) > 64:
        raise DomainError(ErrorCode.BAD_INPUT, "item is at most 64 characters")
    return menu_cache.respond(request, await menu_cache.reviews_answer(request, item_id))


@routes.post("/api/link/code")
async def post_link_code(request: web.Request) -> web.Response:
    code = await engine(request).issue_link_code(caller(request))
    return reply(serialize.link_code(code))


@routes.post("/api/link")
async def post_link(request: web.Request) -> web.Response:
    entered = await body(request, LinkBody)
    await engine(request).redeem_link_code(caller(request), entered.code)
    return await _me(request)
