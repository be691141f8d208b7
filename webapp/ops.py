"""Operations: ``/healthz`` (the process is alive), ``/readyz`` (it should get traffic), ``/metrics``
(Prometheus' text format), what stopping waits for (``Traffic``) and the Mini App API's request counts
(``record``); webapp/app.py's middleware calls them for every request.

What readiness means and what the metrics are is given by the composition root (``WebappConfig.ready``,
``WebappConfig.metrics_page``, bot/observability.py): this module serves them and imports no database.
"""
from __future__ import annotations

import asyncio
import hmac
import time

from aiohttp import web

from .config import CONFIG, ENGINE
from .views import LAUNCH

METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # Prometheus' text exposition format
NO_STORE = {"Cache-Control": "no-store"}

routes = web.RouteTableDef()


class Traffic:
    """The requests this server is handling now, so that stopping can wait for them (``vitrina run`` on
    SIGTERM: the listening socket is closed first, then the requests in flight finish, bodies still being
    uploaded included, then the connections close)."""

    def __init__(self) -> None:
        self.active = 0
        self.stopping = False
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        self.active += 1
        self._idle.clear()

    def leave(self) -> None:
        self.active -= 1
        if not self.active:
            self._idle.set()

    async def drain(self) -> None:
        """From now on every answer closes its connection; returns once no request is in flight."""
        self.stopping = True
        await self._idle.wait()


TRAFFIC = web.AppKey("traffic", Traffic)


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """Alive: the process answers. Asks nothing of the database (a slow database is /readyz's business)."""
    return web.json_response({"status": "alive"}, headers=NO_STORE)


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """200 while this instance should get traffic; 503 with the reason when the database does not answer,
    its schema is not the one this code expects, or the instance is stopping."""
    check = request.app[CONFIG].ready
    reason = await check() if check is not None else None
    if reason is not None:
        return web.json_response({"status": "not ready", "reason": reason}, status=503, headers=NO_STORE)
    return web.json_response({"status": "ready"}, headers=NO_STORE)


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """The numbers in Prometheus' text format. With ``VITRINA_METRICS_TOKEN`` set only for
    ``Authorization: Bearer <token>`` (compared in constant time); without one, open (docs/DEPLOY.md: the
    proxy keeps it from the internet)."""
    config = request.app[CONFIG]
    if config.metrics_page is None:
        raise web.HTTPNotFound(text="No metrics here.")
    if config.metrics_token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if not (scheme.lower() == "bearer"
                and hmac.compare_digest(given.strip().encode(), config.metrics_token.encode())):
            return web.Response(status=401, text="The metrics need the bearer token (VITRINA_METRICS_TOKEN).\n",
                                headers={"WWW-Authenticate": 'Bearer realm="metrics"', **NO_STORE})
    return web.Response(body=await config.metrics_page(), headers={"Content-Type": METRICS_TYPE, **NO_STORE})


def route_of(request: web.Request) -> str:
    """The route's pattern (``/api/orders/{id}``), so the label takes a bounded number of values."""
    info = request.match_info
    if info.http_exception is not None or info.route.resource is None:
        return "unmatched"
    return info.route.resource.canonical


def record(request: web.Request, status: int, started: float) -> None:
    """Counts a Mini App API request by channel (of its verified launch; ``none`` before or without one),
    route and the status answered, and observes how long it took (``started``: ``time.perf_counter()``)."""
    launch = request.get(LAUNCH)
    channel = launch.ref.channel.value if launch is not None else "none"
    route = route_of(request)
    metrics = request.app[ENGINE].metrics
    metrics.count("api_requests", channel=channel, route=route, status=str(status))
    metrics.observe("api_seconds", time.perf_counter() - started, route=route)
