"""The menu answer of a pickup point: built once per version of the menu's data, kept plain, gzipped and in
brotli, so that a request for an unchanged menu costs a read of the version (shared, see below) and a write of
ready bytes.

The version (``Engine.menu_version``) moves only with what the menu shows: the catalog, the stock and the
reviews (not with orders that do not count stock, payments, notifications ...). It is read before the menu:
the bytes kept under a version are never older than it. A change made by another process (``vitrina menu
import``, a second instance) moves it too: nothing here trusts this process's memory alone.

A version read without waiting (SQLite's ``PRAGMA data_version``: storage/sqlite/database.py) is used again
until a callback scheduled just before the read runs, early in the next turn of the event loop. Every request
handled until then came in before the read: a handler runs in a callback scheduled after its request's data
came, callbacks run in the order they were scheduled, and those of a turn were all scheduled before it began.
So an answer is still never older than a change committed before its request came in. Under load one turn
handles several requests, and each read cost them a few µs. A read that waited (a unit of work, PostgreSQL)
is used by its own request only: others may have come in meanwhile.

``menu_answer`` is what the menu route and the HTML page (the first menu rides in it) share; ``respond``
makes the HTTP answer: the encoding the client accepts (``Vary: Accept-Encoding``), an ``ETag`` made from
the content, and ``304 Not Modified`` when ``If-None-Match`` names it.
"""
from __future__ import annotations

import asyncio
import functools
import gzip as _gzip
import hashlib
from collections.abc import Awaitable, Callable

import brotli  # type: ignore[import-untyped]
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from journey.engine import Engine

from . import serialize
from .config import ENGINE, MENU_CACHE
from .views import dumps

GZIP_LEVEL = 9  # compressed once per version: 0.4 ms for the demo menu's 19 KB
BROTLI_QUALITY = 5  # the demo menu: 8 % smaller than gzip -9 in 0.55 ms; 11 saves 10 % more but costs 29 ms
# the menu is the same for every customer but asked for with launch data: kept by the WebView (revalidated
# each time with If-None-Match), never by a shared cache
CACHE_CONTROL = "private, no-cache"


class MenuAnswer:
    """One point's menu (or an item's reviews) as JSON, at one version: ``plain``, ``gzip`` and ``br``
    (brotli) bytes, and the ``etag`` of the plain bytes (quoted, strong). Each compressed form is made when
    first asked for, once: a menu rebuilt while only gzip clients ask never spends time on brotli."""

    __slots__ = ("_br", "_gzip", "_headers", "digest", "plain", "version")

    def __init__(self, version: str, plain: bytes) -> None:
        self.version = version
        self.plain = plain
        self.digest = hashlib.blake2b(plain, digest_size=12).hexdigest()
        self._gzip: bytes | None = None
        self._br: bytes | None = None
        self._headers: dict[tuple[str | None, bool], CIMultiDictProxy[str]] = {}

    @property
    def gzip(self) -> bytes:
        if self._gzip is None:
            self._gzip = _gzip.compress(self.plain, GZIP_LEVEL, mtime=0)
        return self._gzip

    @property
    def br(self) -> bytes:
        if self._br is None:
            self._br = brotli.compress(self.plain, quality=BROTLI_QUALITY)
        return self._br

    @property
    def etag(self) -> str:
        return f'"{self.digest}"'

    def body(self, coding: str | None) -> bytes:
        """The bytes in ``coding`` (``br``, ``gzip``; None: plain)."""
        return self.br if coding == "br" else self.gzip if coding == "gzip" else self.plain

    def headers(self, coding: str | None, modified: bool = True) -> CIMultiDictProxy[str]:
        """The answer's headers in ``coding``: its ETag (one per coding), Cache-Control and Vary, with the
        Content-Encoding and Content-Type of the bytes unless ``modified`` is false (304). Made once per
        coding: ``web.Response`` copies them."""
        made = self._headers.get((coding, modified))
        if made is None:
            headers = CIMultiDict({"ETag": f'"{self.digest}{_TAG_SUFFIX[coding]}"', "Cache-Control": CACHE_CONTROL,
                                   "Vary": "Accept-Encoding"})
            if modified:
                if coding:
                    headers["Content-Encoding"] = coding
                headers["Content-Type"] = "application/json; charset=utf-8"
            made = self._headers[coding, modified] = CIMultiDictProxy(headers)
        return made

    def tags(self) -> tuple[str, ...]:
        return self.digest, f"{self.digest}-br", f"{self.digest}-gz"


_TAG_SUFFIX = {"br": "-br", "gzip": "-gz", None: ""}


@functools.lru_cache(maxsize=64)  # a few distinct headers: each WebView and browser sends its own, always
def _coding(header: str) -> str | None:
    """The coding to send to a client sending this ``Accept-Encoding``: br, else gzip, else None (plain)."""
    accepted = _accepted(header)
    return "br" if "br" in accepted else "gzip" if "gzip" in accepted else None


def _accepted(header: str) -> frozenset[str]:
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
    return frozenset(found)


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
    """Answers with the version they were built at: the menu per point, an item's reviews per item (at most
    ``MAX_REVIEWS`` items kept, the oldest built dropped first: item ids come from the client). One build per
    answer and version at a time: the requests that arrive while it runs wait for it instead of building the
    same answer again."""

    MAX_REVIEWS = 256

    def __init__(self) -> None:
        self.menus: dict[str | None, MenuAnswer] = {}
        self.reviews: dict[str, MenuAnswer] = {}
        self._building: dict[tuple[str, str | None, str], asyncio.Future[MenuAnswer]] = {}
        self._latest: dict[tuple[str, str | None], str] = {}  # the version last read for each answer
        self.builds = 0  # how many answers were built (tests, benchmarks)
        self._this_turn: str | None = None  # the version read without waiting in this turn of the event loop
        self._turns = 0  # turns that followed a read (see the module's docstring)

    async def version(self, engine: Engine) -> str:
        """The menu's version now: read, or the one read without waiting in this turn of the event loop."""
        if self._this_turn is not None:
            return self._this_turn
        turn = self._turns
        # scheduled before the read: if the read waits, this runs before the read's request resumes
        asyncio.get_running_loop().call_soon(self._next_turn)
        version = await engine.menu_version()
        if self._turns == turn:  # read in this turn, without waiting
            self._this_turn = version
        return version

    def _next_turn(self) -> None:
        self._turns += 1
        self._this_turn = None

    async def menu(self, request: web.Request, point_id: str | None) -> MenuAnswer:
        engine = request.app[ENGINE]
        # read before the menu: the bytes are never older than it
        version = self._this_turn if self._this_turn is not None else await self.version(engine)
        cached = self.menus.get(point_id)
        if cached is not None and cached.version == version:
            return cached
        return await self._once(("menu", point_id), version, lambda: self._menu(engine, point_id, version))

    async def item_reviews(self, request: web.Request, item_id: str) -> MenuAnswer:
        engine = request.app[ENGINE]
        version = await self.version(engine)  # moves with every review added, hidden or forgotten too
        cached = self.reviews.get(item_id)
        if cached is not None and cached.version == version:
            return cached
        return await self._once(("reviews", item_id), version, lambda: self._reviews(engine, item_id, version))

    async def _once(self, what: tuple[str, str | None], version: str,
                    build: Callable[[], Awaitable[MenuAnswer]]) -> MenuAnswer:
        self._latest[what] = version
        key = (*what, version)
        running = self._building.get(key)
        if running is None:
            running = self._building[key] = asyncio.ensure_future(build())
            running.add_done_callback(lambda _: self._building.pop(key, None))
        # shielded: a client that goes away does not cancel the build the others wait for
        return await asyncio.shield(running)

    def _keep(self, what: tuple[str, str | None], answer: MenuAnswer) -> bool:
        """Whether a built answer is the one to keep: not when a request has read a newer version meanwhile
        (a slow build of an older version must not replace the newer answer)."""
        self.builds += 1
        return self._latest.get(what) == answer.version

    async def _menu(self, engine: Engine, point_id: str | None, version: str) -> MenuAnswer:
        view = await engine.menu(point_id)
        ratings = await engine.ratings()
        answer = MenuAnswer(version, dumps(serialize.menu(point_id, view.categories, view.items, view.stock,
                                                          ratings)).encode())
        if self._keep(("menu", point_id), answer):
            self.menus[point_id] = answer
        return answer

    async def _reviews(self, engine: Engine, item_id: str, version: str) -> MenuAnswer:
        found = await engine.item_reviews(item_id)
        average, count = (await engine.ratings()).get(item_id, (None, 0))
        answer = MenuAnswer(version, dumps(serialize.reviews(found, average, count)).encode())
        if self._keep(("reviews", item_id), answer):
            self.reviews.pop(item_id, None)
            self.reviews[item_id] = answer
            while len(self.reviews) > self.MAX_REVIEWS:
                dropped = next(iter(self.reviews))
                del self.reviews[dropped]
                self._latest.pop(("reviews", dropped), None)
        return answer


async def menu_answer(request: web.Request, point_id: str | None) -> MenuAnswer:
    """The menu of ``point_id`` (``None``: every item, no stock) as it is now, from the cache when its
    version still holds. Raises ``DomainError(POINT_NOT_FOUND)`` for a point that does not exist."""
    return await request.app[MENU_CACHE].menu(request, point_id)


async def reviews_answer(request: web.Request, item_id: str) -> MenuAnswer:
    """An item's latest reviews with its rating, as the menu's answers are kept."""
    return await request.app[MENU_CACHE].item_reviews(request, item_id)


def respond(request: web.Request, answer: MenuAnswer) -> web.Response:
    """The HTTP answer: 304 when the client has these bytes, else the encoding it accepts."""
    headers = request.headers
    coding = _coding(headers.get("Accept-Encoding", ""))
    if _matches(headers.get("If-None-Match", ""), answer):
        return web.Response(status=304, headers=answer.headers(coding, modified=False))
    return web.Response(body=answer.body(coding), headers=answer.headers(coding))
