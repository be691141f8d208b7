"""What every webhook checks before its SDK sees a request (shared by the channel adapters; aiohttp only).

A webhook is open to the whole internet, so whatever arrives (a secret header in any bytes, an empty,
truncated, oversized, non-UTF-8 or absurdly nested body) is answered with a 4xx in the Mini App API's
``{"error", "message"}`` shape, never a 500: the secret is compared in constant time on bytes, the body is
read up to a cap, and the JSON is parsed with a nesting limit before anything walks it.
"""
from __future__ import annotations

import hmac
import json
from typing import Any

from aiohttp import web

# Telegram and VK send updates of a few kilobytes: a megabyte is ample and keeps a flood cheap to refuse
MAX_BODY = 1 << 20
# an update nests a handful of objects (update, message, reply, entities); nothing needs more than this
MAX_DEPTH = 32
CHUNK = 64 * 1024


class Refusal(Exception):
    """A request refused before its SDK saw it; ``response()`` is what the caller gets."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error

    def response(self) -> web.Response:
        return web.json_response({"error": self.error, "message": str(self)}, status=self.status)


def as_bytes(text: str) -> bytes:
    """A header value back as the bytes that came in: aiohttp decodes them as UTF-8 with surrogateescape,
    so any byte survives the round trip (and a string made elsewhere with lone surrogates does too)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def secret_matches(given: str | None, expected: str | None) -> bool:
    """Constant time on bytes, so a non-ASCII value is a mismatch rather than an error. With no secret
    configured nothing matches: an open webhook would take updates from anyone."""
    if not expected:
        return False
    return hmac.compare_digest(as_bytes(given or ""), as_bytes(expected))


async def read_body(request: web.Request, max_bytes: int = MAX_BODY) -> bytes:
    """The body, refused with 413 past ``max_bytes`` (announced or sent) and 400 when it breaks off."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise Refusal(413, "too_large", f"the body is over {max_bytes} bytes")
    body = bytearray()
    try:
        while chunk := await request.content.read(CHUNK):
            body += chunk
            if len(body) > max_bytes:
                raise Refusal(413, "too_large", f"the body is over {max_bytes} bytes")
    except Refusal:
        raise
    except Exception as e:  # the client went away or broke the transfer encoding mid-body
        raise Refusal(400, "bad_request", "the body was cut short") from e
    return bytes(body)


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(value: object) -> int:
    """How deeply ``value`` nests lists and objects, walked without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def parse_object(body: bytes, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """A JSON object from UTF-8 bytes, or a 400 saying what was wrong with it."""
    if not body.strip():
        raise Refusal(400, "bad_request", "the body is empty")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "bad_request", "the body is not UTF-8") from None
    try:
        value = json.loads(text, parse_constant=_constant)
    except RecursionError:  # the C parser stops at the interpreter's recursion limit, before anything walks it
        raise Refusal(400, "bad_request", f"the JSON nests deeper than {max_depth} levels") from None
    except ValueError:  # not JSON, NaN or Infinity, an integer of more digits than Python converts
        raise Refusal(400, "bad_request", "the body is not JSON") from None
    if not isinstance(value, dict):
        raise Refusal(400, "bad_request", "the body is not a JSON object")
    if _depth(value) > max_depth:
        raise Refusal(400, "bad_request", f"the JSON nests deeper than {max_depth} levels")
    return value


async def read_object(request: web.Request, *, max_bytes: int = MAX_BODY,
                      max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """The request's body as a JSON object; raises ``Refusal`` (400 or 413) for anything else."""
    return parse_object(await read_body(request, max_bytes), max_depth)
