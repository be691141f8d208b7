"""What every view shares: the caller, the engine, JSON in and out, and errors in the caller's language."""
from __future__ import annotations

import json
from functools import partial
from typing import Any, TypeVar

from aiohttp import web
from pydantic import ValidationError

from journey.channels import CustomerRef
from journey.customers import language_of
from journey.deeplinks import DeepLink, parse_start
from journey.engine import Engine
from journey.errors import DomainError, ErrorCode
from journey.ports import QrRenderer

from . import serialize
from .auth import Launch
from .bodies import Body
from .config import CONFIG, ENGINE, QR, WebappConfig

LAUNCH = web.RequestKey("launch", Launch)
START_HEADER = "X-Vitrina-Start"  # the launch's start parameter, sent by the front end on every call
B = TypeVar("B", bound=Body)
# UTF-8 and no spaces: the same JSON in a third fewer bytes than json.dumps' default, which writes a
# Cyrillic letter as \uXXXX (6 bytes, in UTF-8 2): the demo menu 30 -> 19 KB, so gzip, which every WebView
# asks for, has less to do (bench/webapp.py: 8-16% less server CPU per gzipped menu, ~2% more unzipped)
dumps = partial(json.dumps, ensure_ascii=False, separators=(",", ":"))
MAX_BODY = 64 * 1024  # a cart of 50 lines is a few KB; the server's own limit stays larger for webhooks

# not an engine error code: a bug of ours, said the same way as the others
INTERNAL = ("internal", "Что-то пошло не так. Попробуйте ещё раз.", "Something went wrong. Please try again.")


def engine(request: web.Request) -> Engine:
    return request.app[ENGINE]


def config(request: web.Request) -> WebappConfig:
    return request.app[CONFIG]


def qr(request: web.Request) -> QrRenderer:
    return request.app[QR]


def caller(request: web.Request) -> CustomerRef:
    """The verified account of this request (the auth middleware has put it there)."""
    return request[LAUNCH].ref


def launch(request: web.Request) -> Launch:
    return request[LAUNCH]


def start_link(request: web.Request) -> DeepLink | None:
    """What the Mini App was opened with: Telegram's signed start parameter, else ``X-Vitrina-Start``."""
    return parse_start(request[LAUNCH].start_param)


def reply(data: Any, status: int = 200) -> web.Response:
    return reply_bytes(dumps(data).encode(), status)


def reply_bytes(body: bytes, status: int = 200) -> web.Response:
    """JSON already encoded."""
    response = web.Response(body=body, status=status, content_type="application/json", charset="utf-8")
    response.headers["Cache-Control"] = "no-store"  # personal data: never kept by a proxy or the WebView
    return response


async def body(request: web.Request, model: type[B]) -> B:
    """The JSON body as ``model``; anything that does not parse or fit is 400 ``bad_input``."""
    if (request.content_length or 0) > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(MAX_BODY, request.content_length or 0)
    raw = await request.read()
    if len(raw) > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(MAX_BODY, len(raw))
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()[:5])
        raise DomainError(ErrorCode.BAD_INPUT, problems) from None


def query_id(request: web.Request, name: str) -> str | None:
    value = request.query.get(name)
    if value and len(value) > 64:
        raise DomainError(ErrorCode.BAD_INPUT, f"{name} is at most 64 characters")
    return value or None


async def language(request: web.Request) -> str:
    """The caller's language for a message: their choice, else their launch's, else the browser's."""
    launched = request.get(LAUNCH)
    if launched is None:
        return language_of(request.headers.get("Accept-Language"))
    try:
        return await engine(request).language(launched.ref)
    except Exception:  # an error about the error must not hide the first one
        return launched.ref.language


async def error(request: web.Request, code: ErrorCode, status: int | None = None, detail: str = "") -> web.Response:
    # what exactly did not fit goes to developers, and only for input errors
    shown = detail if code in (ErrorCode.BAD_INPUT, ErrorCode.BAD_OPTION, ErrorCode.BAD_QUANTITY) else ""
    return reply(serialize.error(code.value, code.message(await language(request)), shown),
                 status or code.http_status)


async def internal_error(request: web.Request) -> web.Response:
    code, ru, en = INTERNAL
    return reply(serialize.error(code, en if await language(request) == "en" else ru), 500)
