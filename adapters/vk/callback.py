"""The VK Callback API's calls, checked before the channel handles them.

VK posts every community event as a JSON object carrying the community id and the secret set in the
community's settings; the first call is a ``confirmation`` to be answered with the confirmation code.
Whatever else arrives is a 4xx, never a 500: 413 for a body over the cap, 400 for an empty, cut, non-UTF-8,
non-JSON or too deeply nested body or one without a ``type``, 403 for another community or a wrong secret
(compared in constant time on bytes, so a non-ASCII one is just wrong).
"""
from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from ..webhook_guard import MAX_BODY, MAX_DEPTH, Refusal, read_object, secret_matches

log = logging.getLogger(__name__)


class VkCallback:
    """``check(request)`` gives the event to handle, or the response to send instead of "ok"."""

    def __init__(self, group_id: int | None, secret: str | None, confirmation_code: str, *,
                 max_bytes: int = MAX_BODY, max_depth: int = MAX_DEPTH) -> None:
        self.group_id = group_id
        self.secret = secret  # without one every event is refused: settings require it for the Callback API
        self.confirmation_code = confirmation_code
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def check(self, request: web.Request) -> dict[str, Any] | web.Response:
        try:
            event = await read_object(request, max_bytes=self.max_bytes, max_depth=self.max_depth)
            return self._checked(event)
        except Refusal as refusal:
            log.warning("VK callback refused (%d): %s", refusal.status, refusal)
            return refusal.response()

    def _checked(self, event: dict[str, Any]) -> dict[str, Any] | web.Response:
        kind = event.get("type")
        if not isinstance(kind, str) or not kind:
            raise Refusal(400, "bad_request", "an event has a type")
        group_id = event.get("group_id")
        ours = self.group_id is not None and isinstance(group_id, int) and not isinstance(group_id, bool) \
            and group_id == self.group_id
        if kind == "confirmation":
            if not ours or not self.confirmation_code:
                raise Refusal(403, "forbidden", "not this community's confirmation")
            return web.Response(text=self.confirmation_code)
        given = event.get("secret")
        if not isinstance(given, str) or not secret_matches(given, self.secret):
            raise Refusal(403, "forbidden", "missing or wrong secret")
        if not ours:
            raise Refusal(403, "forbidden", "an event of another community")
        if not isinstance(event.get("object", {}), dict):
            raise Refusal(400, "bad_request", "an event's object is a JSON object")
        return event
