"""Staff at the counter: the queue of a point, accept, ready, and what a scanned or typed code is.

Who may do what is decided by the engine alone: each use case refuses anyone who is staff nowhere
(403 ``not_staff``) before it looks at the order, and staff of another point the same way.
"""
from __future__ import annotations

from aiohttp import web

from journey.errors import DomainError, ErrorCode
from journey.order_views import BOARD_PAGE, BOARD_PAGE_MAX, board_next

from . import serialize
from .bodies import PickupBody
from .views import body, caller, engine, query_id, reply
from .views_orders import present

routes = web.RouteTableDef()


async def pickup_body(request: web.Request) -> PickupBody:
    """The scanned token or typed code. Someone who is staff nowhere hears 403 ``not_staff`` whatever they
    sent: a body that does not fit is refused only after the engine has said who may use the counter."""
    try:
        return await body(request, PickupBody)
    except (DomainError, web.HTTPRequestEntityTooLarge):
        # the engine's rule: not_staff for who serves nowhere (one order read at most)
        await engine(request).staff_board(caller(request), limit=1)
        raise


@routes.get("/api/staff/orders")
async def get_staff_orders(request: web.Request) -> web.Response:
    """Open orders of ``?point=`` (without it: of every point this member serves), soonest first, one page of
    ``?limit=`` (50 by default, at most 200) after the order ``?after=`` (the last page's ``next``)."""
    limit = request.query.get("limit", str(BOARD_PAGE))
    if not limit.isdigit() or not 1 <= int(limit) <= BOARD_PAGE_MAX:
        raise DomainError(ErrorCode.BAD_INPUT, f"limit is 1 to {BOARD_PAGE_MAX}")
    board = await engine(request).staff_board(caller(request), query_id(request, "point"),
                                              after=query_id(request, "after"), limit=int(limit))
    return reply(serialize.staff_board(board, board_next(board, int(limit))))


@routes.post("/api/staff/orders/{order_id}/accept")
async def post_accept(request: web.Request) -> web.Response:
    order = await engine(request).accept(caller(request), request.match_info["order_id"])
    return reply(await present(request, order.id))


@routes.post("/api/staff/orders/{order_id}/ready")
async def post_ready(request: web.Request) -> web.Response:
    order = await engine(request).mark_ready(caller(request), request.match_info["order_id"])
    return reply(await present(request, order.id))


@routes.post("/api/staff/lookup")
async def post_lookup(request: web.Request) -> web.Response:
    wanted = await pickup_body(request)
    order = await engine(request).find_for_pickup(caller(request), token=wanted.token, short_code=wanted.code,
                                                  point_id=wanted.point)
    return reply(await present(request, order.id))


@routes.post("/api/staff/handover")
async def post_handover(request: web.Request) -> web.Response:
    wanted = await pickup_body(request)
    order = await engine(request).hand_over(caller(request), token=wanted.token, short_code=wanted.code,
                                            point_id=wanted.point)
    return reply(await present(request, order.id))
