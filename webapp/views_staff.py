"""Staff at the counter: the queue of a point, accept, ready, and what a scanned or typed code is."""
from __future__ import annotations

from aiohttp import web

from journey.errors import DomainError, ErrorCode

from . import reads
from .bodies import PickupBody
from .views import body, caller, engine, query_id, reply
from .views_orders import present

routes = web.RouteTableDef()


async def staff_points(request: web.Request) -> set[str]:
    """Refuse anyone who is staff nowhere before looking at anything (403 ``not_staff``)."""
    points = await reads.staff_points(engine(request), caller(request))
    if not points:
        raise DomainError(ErrorCode.NOT_STAFF)
    return points


@routes.get("/api/staff/orders")
async def get_staff_orders(request: web.Request) -> web.Response:
    """Open orders of ``?point=`` (without it: of every point this member serves), soonest first."""
    orders = await engine(request).open_orders(caller(request), query_id(request, "point"))
    return reply({"orders": await present(request, [o.id for o in orders], staff=True)})


@routes.post("/api/staff/orders/{order_id}/accept")
async def post_accept(request: web.Request) -> web.Response:
    await staff_points(request)
    order = await engine(request).accept(caller(request), request.match_info["order_id"])
    return reply((await present(request, [order.id], staff=True))[0])


@routes.post("/api/staff/orders/{order_id}/ready")
async def post_ready(request: web.Request) -> web.Response:
    await staff_points(request)
    order = await engine(request).mark_ready(caller(request), request.match_info["order_id"])
    return reply((await present(request, [order.id], staff=True))[0])


@routes.post("/api/staff/lookup")
async def post_lookup(request: web.Request) -> web.Response:
    await staff_points(request)
    wanted = await body(request, PickupBody)
    order = await engine(request).find_for_pickup(caller(request), token=wanted.token, short_code=wanted.code,
                                                  point_id=wanted.point)
    return reply((await present(request, [order.id], staff=True))[0])


@routes.post("/api/staff/handover")
async def post_handover(request: web.Request) -> web.Response:
    await staff_points(request)
    wanted = await body(request, PickupBody)
    order = await engine(request).hand_over(caller(request), token=wanted.token, short_code=wanted.code,
                                            point_id=wanted.point)
    return reply((await present(request, [order.id], staff=True))[0])
