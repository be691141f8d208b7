"""Group orders: open one from the cart, look at it, add one's lines, close or cancel it (journey/groups.py)."""
from __future__ import annotations

from aiohttp import web

from journey.groups import GroupView

from . import serialize
from .bodies import GroupLinesBody, GroupOpenBody
from .views import body, caller, config, engine, reply
from .views_orders import _return_url

routes = web.RouteTableDef()


def _answer(request: web.Request, view: GroupView, status: int = 200) -> web.Response:
    return reply(serialize.group(view, config(request).base_url), status)


@routes.post("/api/groups")
async def post_group(request: web.Request) -> web.Response:
    wanted = await body(request, GroupOpenBody)
    view = await engine(request).open_group(
        caller(request), wanted.cart(), wanted.point, payer=wanted.payer, payment=wanted.payment,
        pickup_at=wanted.pickup_at, email=wanted.email or "", return_url=_return_url(request))
    return _answer(request, view, 201)


@routes.get("/api/groups/{code}")
async def get_group(request: web.Request) -> web.Response:
    return _answer(request, await engine(request).group_view(caller(request), request.match_info["code"]))


@routes.post("/api/groups/{code}/lines")
async def post_lines(request: web.Request) -> web.Response:
    wanted = await body(request, GroupLinesBody)
    view = await engine(request).join_group(caller(request), request.match_info["code"], wanted.cart())
    return _answer(request, view)


@routes.post("/api/groups/{code}/close")
async def post_close(request: web.Request) -> web.Response:
    return _answer(request, await engine(request).close_group(caller(request), request.match_info["code"]))


@routes.post("/api/groups/{code}/cancel")
async def post_cancel(request: web.Request) -> web.Response:
    return _answer(request, await engine(request).cancel_group(caller(request), request.match_info["code"]))
