"""The Mini App's page and its built files, made for a slow phone line.

The front end is built ahead (``npm run build``: ``webapp/build.mjs`` writes ``static/dist`` and its
``manifest.json``). What a first visit costs:

- the page (``/``): the HTML with the stylesheet inlined and, as JSON data (never a script), what the first
  screen needs from the API: ``/api/config``'s answer, ``/api/points``' and the menu of the first point
  (``webapp/menu_cache.py``). Nothing in it is personal; it is revalidated on every visit (``no-cache`` and an
  ``ETag`` made from its content) since a new release or a new menu must reach a WebView that caches hard;
- the boot script and the one chunk it imports (``main-<hash>.js``, ``chunk-<hash>.js``, fetched together);
- ``/api/me``, the only call the menu waits for.

Every built file's name carries a hash of its content: served from memory, compressed once at start (gzip and
brotli), cached by the phone for a year (``immutable``); a new release names new files.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import brotli  # type: ignore[import-untyped]
from aiohttp import web

from . import views_customer
from .config import CONFIG

log = logging.getLogger(__name__)

TEMPLATE = Path(__file__).resolve().parent / "templates" / "index.html"
IMMUTABLE = "public, max-age=31536000, immutable"
TYPES = {".js": "text/javascript", ".css": "text/css", ".json": "application/json"}
PAGES_KEPT = 8  # pages kept by content (config, points, menu): they change with the menu, not per request


@dataclass(frozen=True, slots=True)
class Encoded:
    """Bytes ready in each encoding, with a strong ``ETag`` made from the plain bytes."""

    plain: bytes
    gzip: bytes
    br: bytes
    digest: str
    content_type: str

    @classmethod
    def of(cls, plain: bytes, content_type: str) -> Encoded:
        return cls(plain, gzip.compress(plain, 9, mtime=0), brotli.compress(plain, quality=11),
                   hashlib.blake2b(plain, digest_size=12).hexdigest(), content_type)

    def answer(self, request: web.Request, cache_control: str) -> web.Response:
        """304 when ``If-None-Match`` names these bytes, else the smallest encoding the client accepts."""
        accepted = _codings(request.headers.get("Accept-Encoding", ""))
        body, coding = self.plain, None
        if "br" in accepted:
            body, coding = self.br, "br"
        elif "gzip" in accepted:
            body, coding = self.gzip, "gzip"
        etag = f'"{self.digest}-{coding}"' if coding else f'"{self.digest}"'
        headers = {"ETag": etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding"}
        wanted = request.headers.get("If-None-Match", "")
        if wanted and any(tag.strip().removeprefix("W/").strip('"').startswith(self.digest)
                          for tag in wanted.split(",")):
            return web.Response(status=304, headers=headers)
        if coding:
            headers["Content-Encoding"] = coding
        return web.Response(body=body, headers=headers, content_type=self.content_type, charset="utf-8")


def _codings(header: str) -> set[str]:
    """The codings an ``Accept-Encoding`` allows (``q=0`` refuses one)."""
    found = set()
    for part in header.lower().split(","):
        coding, _, params = part.partition(";")
        refused = params.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000")
        if coding.strip() and not refused:
            found.add(coding.strip())
    return found | ({"br", "gzip"} if "*" in found else set())


class Front:
    """The built front end of one static folder: its files in memory and the page made from the template."""

    def __init__(self, static_dir: Path, template: Path = TEMPLATE) -> None:
        dist = static_dir / "dist"
        manifest = json.loads((dist / "manifest.json").read_text())
        self.files = {name: Encoded.of((dist / name).read_bytes(), TYPES.get(Path(name).suffix, "text/plain"))
                      for name in manifest["files"]}
        css = self.files[manifest["css"]].plain.decode()
        links = "".join(f'<link rel="modulepreload" href="static/dist/{name}">' for name in manifest["preload"])
        html = template.read_text()
        for mark, value in (("{{css}}", css.strip()), ("{{preload}}", links),
                            ("{{script}}", f"static/dist/{manifest['script']}")):
            html = html.replace(mark, value)
        self.head, _, self.tail = html.partition("{{boot}}")
        self.pages: dict[bytes, Encoded] = {}

    def page(self, boot: bytes) -> Encoded:
        """The page with this boot data (JSON with every ``<`` escaped: it cannot close its element)."""
        found = self.pages.get(boot)
        if found is None:
            if len(self.pages) >= PAGES_KEPT:
                self.pages.pop(next(iter(self.pages)))
            html = self.head.encode() + boot.replace(b"<", b"\\u003c") + self.tail.encode()
            found = self.pages[boot] = Encoded.of(html, "text/html")
        return found


FRONT = web.AppKey("front", Front)


def _bytes(answer: web.StreamResponse) -> bytes:
    assert isinstance(answer, web.Response) and isinstance(answer.body, bytes), answer
    return answer.body


async def boot_data(request: web.Request) -> bytes:
    """What the first screen would ask the API for, as one JSON object: ``config``, ``points`` and ``menus``
    (the first point's menu by its id), each the very bytes the API answers."""
    from .menu_cache import menu_answer

    config, points = _bytes(await views_customer.get_config(request)), _bytes(await views_customer.get_points(request))
    first = next(iter(json.loads(points)["points"]), None)
    menus = b"{}"
    if first is not None:
        menu = await menu_answer(request, first["id"])
        menus = b"{" + json.dumps(first["id"]).encode() + b":" + menu.plain + b"}"
    return b'{"config":' + config + b',"points":' + points + b',"menus":' + menus + b"}"


async def index(request: web.Request) -> web.Response:
    front = request.app.get(FRONT)
    if front is None:
        raise web.HTTPNotFound(text="The Mini App is not built: run `npm ci && npm run build`.")
    return front.page(await boot_data(request)).answer(request, "no-cache")


async def built_file(request: web.Request) -> web.Response:
    front = request.app.get(FRONT)
    found = front.files.get(request.match_info["name"]) if front is not None else None
    if found is None:
        raise web.HTTPNotFound(text="No such file.")
    return found.answer(request, IMMUTABLE)


def setup(app: web.Application) -> None:
    """``/`` and ``/static/dist/<name>``; a static folder without a build has no page (404)."""
    static = app[CONFIG].static_dir
    if (static / "dist" / "manifest.json").is_file():
        app[FRONT] = Front(static)
    else:
        log.warning("the Mini App is not built in %s: `/` answers 404", static)
    app.router.add_get("/", index)
    app.router.add_get("/static/dist/{name}", built_file)
