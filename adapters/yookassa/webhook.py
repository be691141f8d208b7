"""YooKassa's notifications: ``POST /webhooks/yookassa``.

A notification is only a hint that a payment changed. Its body is never trusted: only the payment's id is
read from it (``object.id``, or ``object.payment_id`` for a refund), and the engine asks YooKassa about that
payment again. The answer is 200 once that is done (for an id the engine does not know too), 503 when
YooKassa could not be asked (YooKassa repeats a notification that was not answered 200), and 400 in the
Mini App API's ``{"error", "message"}`` shape for a body of any other shape: never a 500.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from adapters.webhook_guard import Refusal, read_object
from journey.channels import Route
from journey.ports import PaymentUnavailable

log = logging.getLogger(__name__)

PATH = "/webhooks/yookassa"
MAX_BODY = 64 * 1024  # a notification carries one payment object: a few kilobytes
MAX_DEPTH = 16  # the payment object nests a handful of levels (payment_method.card, authorization_details)
PAYMENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")  # YooKassa's ids: "2419a771-000f-5000-9000-..."


def payment_id(body: dict[str, Any]) -> str:
    """The payment a notification is about; ``Refusal`` (400) for a body of any other shape."""
    event = body.get("event")
    if body.get("type") != "notification" or not isinstance(event, str):
        raise Refusal(400, "bad_request", "not a YooKassa notification")
    kind, _, _ = event.partition(".")
    if kind not in ("payment", "refund"):
        raise Refusal(400, "bad_request", f"not a payment or refund notification: {event[:64]!r}")
    thing = body.get("object")
    if not isinstance(thing, dict):
        raise Refusal(400, "bad_request", "the notification has no object")
    found = thing.get("payment_id" if kind == "refund" else "id")
    if not isinstance(found, str) or not PAYMENT_ID.match(found):
        raise Refusal(400, "bad_request", "the notification names no payment id")
    return found


def webhook_route(on_notice: Callable[[str], Awaitable[None]]) -> Route:
    """The route ``vitrina run`` mounts; ``on_notice(payment_id)`` asks YooKassa and applies the answer."""

    async def handle(request: web.Request) -> web.Response:
        try:
            found = payment_id(await read_object(request, max_bytes=MAX_BODY, max_depth=MAX_DEPTH))
        except Refusal as e:  # too large included: whatever is not a notification is one bad request
            return web.json_response({"error": "bad_request", "message": str(e)}, status=400)
        try:
            await on_notice(found)
        except PaymentUnavailable as e:
            log.warning("YooKassa notification of %s: YooKassa cannot be asked now: %s", found, e)
            return _later("YooKassa cannot be asked about the payment now")
        except Exception:  # whatever failed on our side, YooKassa repeats the notification later
            log.exception("YooKassa notification of %s could not be applied", found)
            return _later("the payment could not be recorded now")
        return web.json_response({"ok": True})

    return Route("POST", PATH, handle)


def _later(message: str) -> web.Response:
    return web.json_response({"error": "unavailable", "message": f"{message}: try again later"}, status=503)
