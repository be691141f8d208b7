"""Sharing: ``GET /api/share`` (what the caller shares), ``POST /api/shares`` (record a share) and
``GET /share/story.jpg`` (the story picture Telegram and VK fetch by address, public)."""
from __future__ import annotations

from aiohttp import web

from journey.sharing import ShareKind, ShareOffer, share_link

from . import answers as a
from .bodies import ShareBody
from .views import body, caller, config, engine, reply

routes = web.RouteTableDef()
STORY_PATH = "/share/story.jpg"
STORY_CACHE = "public, max-age=3600"  # its address carries a digest of what it shows (?v=)
INLINE_QUERY = "shop"  # what the Mini App puts in the chat's input; the bot's inline mode answers any query


def base(request: web.Request) -> str:
    """Links go to the public address; without one (the demo), to this server as the caller reached it."""
    return config(request).base_url or str(request.url.origin())


def links(offer: ShareOffer, base_url: str) -> list[a.ShareLink]:
    return [a.ShareLink(kind=kind.value, start=offer.start(kind), link=share_link(base_url, offer, kind))
            for kind in ShareKind]


@routes.get("/api/share")
async def get_share(request: web.Request) -> web.Response:
    offer = await engine(request).share_offer(caller(request))
    picture = await engine(request).story_picture()
    root = base(request)
    story = f"{root}{STORY_PATH}?v={picture[0]}" if picture else None
    return reply(a.ShareOffer(code=offer.code, shop=offer.shop, links=links(offer, root), story=story,
                              inline_query=INLINE_QUERY).model_dump(mode="json"))


@routes.post("/api/shares")
async def post_share(request: web.Request) -> web.Response:
    sent = await body(request, ShareBody)
    share = await engine(request).record_share(caller(request), sent.kind, sent.order_id)
    offer = await engine(request).share_offer(caller(request))
    return reply(a.Share(id=share.id, kind=share.kind.value, order_id=share.order_id,
                         link=share_link(base(request), offer, share.kind)).model_dump(mode="json"), 201)


@routes.get(STORY_PATH)
async def story(request: web.Request) -> web.Response:
    picture = await engine(request).story_picture()
    if picture is None:
        raise web.HTTPNotFound(text="No story picture here.")
    etag = f'"{picture[0]}"'
    headers = {"Cache-Control": STORY_CACHE, "ETag": etag}
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=picture[1], content_type="image/jpeg", headers=headers)
