"""The menu answer of a pickup point: built once per version of the menu's data, kept plain, gzipped and in
brotli, so that a request for an unchanged menu costs one read of the version and a write of ready bytes.

The version (``Engine.menu_version``) moves only with what the menu shows: the catalog, the stock and the
reviews (not with orders that do not count stock, payments, notifications ...). It is read before the menu:
the bytes kept under a version are never older than it. A change made by another process (``vitrina menu
import``, a second instance) moves it too: nothing here trusts this process's memory alone.

``menu_answer`` is what the menu route and the HTML page (the first menu rides in it) share; ``respond``
makes the HTTP answer: the encoding the client accepts (``Vary: Accept-Encoding``), an ``ETag`` made from
the content, and ``304 Not Modified`` when ``If-None-Match`` names it.
"""
from __future__ import annotations

import asyncio
import gzip as _gzip
import hashlib

from aiohttp import web

from journey.engine import Engine

from . import serialize
from .config import ENGINE, MENU_CACHE
from .views import dumps

try:  # a dependency (pyproject); without it the answers are gzip or plain
    import brotli
except ImportError:  # pragma: no cover - the tests run with it installed
    brotli = None

GZIP_LEVEL = 9  # compressed once per version: the smallest stream is worth the few ms
BROTLI_QUALITY = 11  # the same; a brotli stream of the demo menu is ~15 % smaller than gzip -9's
# the menu is the same for every customer but asked for with launch data: kept by the WebView (revalidated
# each time with If-None-Match), never by a shared cache
CACHE_CONTROL = "private, no-cache"


class MenuAnswer:
    """One point's menu as JSON, at one version: ``plain``, ``gzip`` and ``br`` (brotli; ``b""`` when the
    brotli module is missing) bytes, and the ``etag`` of the plain bytes (quoted, strong)."""

    __slots__ = ("br", "digest", "gzip", "plain", "version")

    def __init__(self, version: str, plain: bytes) -> None:
        self.version = version
        self.plain = plain
        self.digest = hashlib.blake2b(plain, digest_size=12).hexdigest()
        self.gzip = _gzip.compress(plain, GZIP_LEVEL, mtime=0)
        self.br = brotli.compress(plain, quality=BROTLI_QUALITY) if brotli is not None else b""

    @property
    def etag(self) -> str:
        return f'"{self.digest}"'

    def choose(self, accept_encoding: str) -> tuple[bytes, str | None, str]:
        """(body, Content-Encoding or None, ETag) for a client sending this ``Accept-Encoding``."""
        accepted = _accepted(accept_encoding)
        if self.br and "br" in accepted:
            return self.br, "br", f'"{self.digest}-br"'
        if "gzip" in accepted:
            return self.gzip, "gzip", f'"{self.digest}-gz"'
        return self.plain, None, self.etag

    def tags(self) -> tuple[str, ...]:
        return self.digest, f"{self.digest}-br", f"{self.digest}-gz"


def _accepted(header: str) -> set[str]:
    """The codings an ``Accept-Encoding`` header allows (q > 0), lower-cased; ``*`` allows br and gzip."""
    found = set()
    for part in header.lower().split(","):
        coding, _, params = part.partition(";")
        coding = coding.strip()
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding and q > 0:
            found.add(coding)
    if "*" in found:
        found |= {"br", "gzip"}
    return found


def _matches(if_none_match: str, answer: MenuAnswer) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    tags = answer.tags()
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag.startswith("W/"):  # If-None-Match compares weakly (RFC 9110 13.1.2)
            tag = tag[2:]
        if tag.strip('"') in tags:
            return True
    return False


class MenuCache:
    """Answers per point with the version they were built at; one build per point and version at a time
    (the requests that arrive while it runs wait for it instead of building the same menu again)."""

    def __init__(self) -> None:
        self.answers: dict[str | None, MenuAnswer] = {}
        self._building: dict[tuple[str | None, str], asyncio.Future[MenuAnswer]] = {}
        self.builds = 0  # how many menus were built (tests, benchmarks)

    async def get(self, request: web.Request, point_id: str | None) -> MenuAnswer:
        engine = request.app[ENGINE]
        version = await engine.menu_version()  # read before the menu: the bytes are never older than it
        cached = self.answers.get(point_id)
        if cached is not None and cached.version == version:
            return cached
        key = (point_id, version)
        build = self._building.get(key)
        if build is None:
            build = self._building[key] = asyncio.ensure_future(self._build(engine, point_id, version))
            build.add_done_callback(lambda _: self._building.pop(key, None))
        # shielded: a client that goes away does not cancel the build the others wait for
        return await asyncio.shield(build)

    async def _build(self, engine: Engine, point_id: str | None, version: str) -> MenuAnswer:
        view = await engine.menu(point_id)
        ratings = await engine.ratings()
        plain = dumps(serialize.menu(point_id, view.categories, view.items, view.stock, ratings)).encode()
        answer = MenuAnswer(version, plain)
        self.builds += 1
        self.answers[point_id] = answer
        return answer


async def menu_answer(request: web.Request, point_id: str | None) -> MenuAnswer:
    """The menu of ``point_id`` (``None``: every item, no stock) as it is now, from the cache when its
    version still holds. Raises ``DomainError(POINT_NOT_FOUND)`` for a point that does not exist."""
    return await request.app[MENU_CACHE].get(request, point_id)


def respond(request: web.Request, answer: MenuAnswer) -> web.Response:
    """The HTTP answer: 304 when the client has these bytes, else the encoding it accepts."""
    body, coding, etag = answer.choose(request.headers.get("Accept-Encoding", ""))
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if _matches(request.headers.get("If-None-Match", ""), answer):
        return web.Response(status=304, headers=headers)
    if coding:
        headers["Content-Encoding"] = coding
    return web.Response(body=body, content_type="application/json", charset="utf-8", headers=headers)
