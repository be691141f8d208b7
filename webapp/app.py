"""The Mini App server: an app factory with one ``setup_*`` per concern (routes, the middleware, static)."""
from __future__ import annotations

import logging
import mimetypes
import time
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from journey.engine import Engine
from journey.errors import DomainError, ErrorCode
from journey.ports import QrRenderer

from . import (
    landing,
    limits,  # abuse limits: per address, and 429 for the engine's
    openapi,
    page,  # the Mini App's page and built files
    views_customer,
    views_gifts,  # gifts
    views_groups,
    views_loyalty,  # suggestions and points
    views_orders,
    views_privacy,  # personal data
    views_referrals,
    views_sharing,  # sharing
    views_staff,
)
from . import ops as operations  # /healthz, /readyz, /metrics
from .auth import authenticate, with_start
from .config import CONFIG, ENGINE, MENU_CACHE, QR, WebappConfig
from .menu_cache import MenuCache
from .views import LAUNCH, START_HEADER, error, internal_error

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PUBLIC_API = frozenset({"/api/config", "/api/openapi.json"})
COMPRESSIBLE = ("text/", "application/json", "application/javascript", "image/svg+xml")
MIN_COMPRESS = 512  # below this gzip costs more than it saves
# who may show the Mini App in a frame: Telegram's web client, and VK's sites, which load mini apps into an
# iframe on vk.com and m.vk.com (dev.vk.com, "Running in iframe and WebView"); VK serves the same on vk.ru
FRAME_ANCESTORS = ("https://web.telegram.org", "https://vk.com", "https://*.vk.com", "https://vk.ru",
                   "https://*.vk.ru")
CSP_HEADER = web.AppKey("csp", str)


def content_security_policy(photo_sources: Sequence[str] = ()) -> str:
    """The page's CSP: scripts only from here and Telegram's script address; photos from here and the
    sources the config lists (VITRINA_WEBAPP__PHOTO_HOSTS)."""
    images = " ".join(("'self'", "data:", "blob:", *photo_sources))
    return ("default-src 'self'; script-src 'self' https://telegram.org; style-src 'self' 'unsafe-inline'; "
            f"img-src {images}; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
            "base-uri 'self'; form-action 'self'; frame-ancestors 'self' " + " ".join(FRAME_ANCESTORS))


MEDIA_CACHE = "public, max-age=31536000, immutable"
_CONDITIONAL = ("Range", "If-Range", "If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since")
_HTTP_CODES = {401: ErrorCode.UNAUTHORIZED, 403: ErrorCode.FORBIDDEN, 404: ErrorCode.NOT_FOUND}


def create_app(engine: Engine, config: WebappConfig, qr: QrRenderer) -> web.Application:
    app = web.Application()
    app[ENGINE] = engine
    app[CONFIG] = config
    app[QR] = qr
    app[CSP_HEADER] = content_security_policy(config.photo_sources)
    app[MENU_CACHE] = MenuCache()
    app[operations.TRAFFIC] = operations.Traffic()  # what stopping waits for
    setup_middlewares(app)
    setup_routes(app)
    setup_static(app)
    return app


def setup_routes(app: web.Application) -> None:
    for module in (views_customer, views_orders, views_staff, openapi, landing, views_referrals,
                   views_groups,  # group orders
                   views_sharing,  # sharing
                   views_loyalty,  # suggestions and points
                   views_gifts,  # gifts
                   views_privacy,  # personal data
                   operations):
        app.router.add_routes(module.routes)


def setup_middlewares(app: web.Application) -> None:
    app.middlewares.append(middleware)
    app.on_response_prepare.append(security_headers(app[CSP_HEADER]))


def setup_static(app: web.Application) -> None:
    """``/`` is the Mini App and ``/static/dist/`` its built files (``webapp/page.py``); ``/static/`` the
    sources; ``/photos/`` the menu photos (``static/photos``); ``/media/`` the photos owners sent from the
    chat (stored in the database)."""
    static = app[CONFIG].static_dir
    page.setup(app)
    app.router.add_get("/media/{name}", media)
    if static.is_dir():
        app.router.add_static("/static/", static)
    if (static / "photos").is_dir():
        app.router.add_static("/photos/", static / "photos")


async def media(request: web.Request) -> web.Response:
    """A stored photo. Its name is made from its content and never names other bytes: cached for good."""
    name = request.match_info["name"]
    etag = f'"{name}"'
    found = await request.app[ENGINE].media(name)
    if found is None:
        raise web.HTTPNotFound(text="No such file.")
    headers = {"Cache-Control": MEDIA_CACHE, "ETag": etag}
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=found.data, content_type=found.content_type, headers=headers)


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """What every request goes through, outermost first: the count of requests in flight (``ops.Traffic``:
    once stopping, an answer closes its connection, and a keep-alive client reconnects to another instance);
    for /api the metrics (``ops.record``); the engine's refusals (and HTTP errors under /api) as JSON errors;
    for /api the abuse limits (webapp/limits.py: 429 with Retry-After, the tokens taken before the launch
    check); gzip; for /api the launch check. One layer rather than one per concern: each layer costs a
    coroutine and a call on every request, the menu's too (bench/webapp.py)."""
    app = request.app
    traffic = app[operations.TRAFFIC]
    traffic.enter()
    try:
        if not request.path.startswith("/api/"):
            try:
                response = compressed(request, await handler(request))
            except DomainError as exc:
                response = await refusal(request, exc)
        else:
            started, status = time.perf_counter(), 500
            try:
                try:
                    over = await limits.limited(request) if app[ENGINE].limits.enabled else None
                    if over is not None:
                        response = over
                    else:
                        try:
                            authorize(request, app)
                            response = compressed(request, await handler(request))
                        except DomainError as exc:  # the engine's limits per account are 429s too
                            if (over := await limits.refused(request, exc)) is None:
                                raise
                            response = over
                except DomainError as exc:
                    response = await refusal(request, exc)
                except web.HTTPException as exc:
                    if exc.status < 400:
                        raise
                    response = await http_error(request, exc)
                except Exception:
                    log.exception("unexpected error in %s %s", request.method, request.path)
                    response = await internal_error(request)
                status = response.status
            except web.HTTPException as exc:
                status = exc.status
                raise
            finally:
                operations.record(request, status, started)
        if traffic.stopping:
            response.force_close()
        return response
    finally:
        traffic.leave()


async def refusal(request: web.Request, exc: DomainError) -> web.Response:
    """The engine's refusal as ``{"error", "message"}`` JSON."""
    if exc.code is ErrorCode.UNAUTHORIZED:
        log.info("launch refused for %s: %s", request.path, exc.detail)
    return await error(request, exc.code, detail=exc.detail)


async def http_error(request: web.Request, exc: web.HTTPException) -> web.Response:
    """An HTTP error under /api (no such route, a method it does not have ...) as the JSON error."""
    if exc.status >= 500:
        return await internal_error(request)
    answer = await error(request, _HTTP_CODES.get(exc.status, ErrorCode.BAD_INPUT), exc.status)
    if "Allow" in exc.headers:  # a 405 says which methods the resource has (RFC 9110)
        answer.headers["Allow"] = exc.headers["Allow"]
    return answer


def authorize(request: web.Request, app: web.Application) -> None:
    """Every matched /api route but the public ones needs verified launch data (else 401)."""
    if request.path not in PUBLIC_API and request.match_info.http_exception is None:
        headers = request.headers
        launch = authenticate(headers.get("Authorization"), app[CONFIG], app[ENGINE].now(),
                              headers.get("Accept-Language", ""))
        request[LAUNCH] = with_start(launch, headers.get(START_HEADER))  # referrals that hold


def compressed(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """gzip for text (JSON, HTML, JS, CSS, SVG) when the client accepts it: mobile internet is uneven."""
    if response.status != 200 or "gzip" not in request.headers.get("Accept-Encoding", "").lower():
        return response
    if "Accept-Encoding" in response.headers.get("Vary", ""):  # the handler chose (the menu: webapp/menu_cache.py)
        return response
    if isinstance(response, web.FileResponse):
        if request.method != "GET" or any(h in request.headers for h in _CONDITIONAL):
            # the file may answer 304 or a byte range, neither of which can carry a gzip stream
            return response
        # a file's type is known only once it is sent; the URL says the same ("/" is index.html)
        content_type = mimetypes.guess_type(request.path)[0] or ("text/html" if request.path.endswith("/") else "")
        if content_type.startswith(COMPRESSIBLE):
            response.enable_compression(web.ContentCoding.gzip)
    elif (isinstance(response, web.Response) and isinstance(response.body, bytes | bytearray)
          and response.content_type.startswith(COMPRESSIBLE) and len(response.body) >= MIN_COMPRESS):
        response.enable_compression(web.ContentCoding.gzip)
    return response


def security_headers(csp: str) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """What every answer carries, set as it is sent (``on_response_prepare``: the answers aiohttp makes itself,
    404 and 405 pages and files, included); ``csp``: this app's policy."""
    async def add(request: web.Request, response: web.StreamResponse) -> None:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if "Content-Encoding" in headers or response.compression:
            headers.setdefault("Vary", "Accept-Encoding")
    return add
